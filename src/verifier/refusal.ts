/**
 * How the verifier says no. Checks deep inside the transfer functions throw a Refusal (the code, the
 * rule broken, and which registers matter); the exploration loop adds the pc, the instruction text
 * and those registers' states, and hands the caller a VerifyError.
 */
import { ProgramError, type ErrorCode } from '../errors.js';
import { formatSourceLine, lineAt, type SourceLine } from '../program/source-lines.js';

export class Refusal extends Error {
  constructor(readonly code: ErrorCode, readonly rule: string, readonly regs: readonly number[] = []) {
    super(rule);
  }
}

export function refuse(code: ErrorCode, rule: string, regs: readonly number[] = []): never {
  throw new Refusal(code, rule, regs);
}

/**
 * A program the verifier refuses. The message reads `pc N: <instruction>: <rule> (<register states>)`,
 * e.g. `pc 7: r2 = *(u32 *)(r1 + 62): read of 4 bytes at ctx+62 is outside the 64-byte context (r1=ctx(off=0))`.
 */
export class VerifyError extends ProgramError {
  /** The rule broken, without the pc, instruction and register states. */
  readonly rule: string;
  /** The verifier's log (at the log level asked for) when the refusal came through Vm.load. */
  log = '';
  /** The C line of the refused instruction, for a program that carries line info. */
  source: SourceLine | undefined;
  constructor(code: ErrorCode, pc: number, rule: string, message: string) {
    super(code, pc, message);
    this.rule = rule;
  }
}

/**
 * The same refusal with the refused instruction's C line at the end of its message, as the kernel
 * prints it (`; return x > 5; @ filter.c:12`); code, pc and rule stay as they are.
 */
export function withSourceLine(error: VerifyError, lines: readonly SourceLine[] | undefined): VerifyError {
  const line = lineAt(lines, error.pc);
  if (!line) return error;
  const message = error.message.slice(`pc ${error.pc}: `.length);
  const sourced = new VerifyError(error.code, error.pc, error.rule, `${message}  ${formatSourceLine(line)}`);
  sourced.source = line;
  return sourced;
}
