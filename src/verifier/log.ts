/**
 * The verifier's log, like the kernel's: level 1 prints the path (instructions) that led to a refusal,
 * level 2 prints every processed instruction followed by the register and stack state before it runs,
 * plus where paths fork, resume and get pruned. The log is capped so a long verification cannot
 * exhaust memory; the cut is stated in the log.
 */
import { formatInsn } from '../asm/index.js';
import type { Insn } from '../isa/insn.js';
import { formatSourceLine, lineStartingAt, type SourceLine } from '../program/source-lines.js';
import { formatReg } from './reg-state.js';
import { STACK_BYTES, formatSlot } from './stack.js';
import type { VState } from './state.js';

export type LogLevel = 0 | 1 | 2;

/** Most lines kept; level-2 logs of long loops are cut here. */
const MAX_LINES = 200_000;
/** Path lines shown at level 1 before older ones are summarized. */
const MAX_PATH_LINES = 500;

export const insnText = (insn: Insn): string => formatInsn(insn, 'llvm');

/** A path as a persistent list of pcs (forks share their common prefix). */
export interface PathNode {
  readonly pc: number;
  readonly prev: PathNode | undefined;
}

/** `R0=1 R1=ctx(off=0) R10=fp0 fp-8=mmmmmmmm`, innermost frame last. */
export function stateText(state: VState): string {
  const parts: string[] = [];
  state.frames.forEach((frame, depth) => {
    if (state.frames.length > 1) parts.push(`frame${depth}:`);
    frame.regs.forEach((r, i) => {
      if (r.t !== 'uninit') parts.push(`R${i}=${formatReg(r)}`);
    });
    frame.stack.forEach((slot, i) => {
      if (slot) parts.push(`fp${8 * i - STACK_BYTES}=${formatSlot(slot, formatReg)}`);
    });
  });
  return parts.join(' ');
}

export class VerifierLog {
  private readonly lines: string[] = [];
  private dropped = 0;

  /** `lines`: the program's C lines (Program.lines), printed above the instruction each starts at, as the kernel does. */
  constructor(readonly level: LogLevel, private readonly sourceLines?: readonly SourceLine[]) {}

  private source(pc: number): void {
    const line = lineStartingAt(this.sourceLines, pc);
    if (line) this.add(formatSourceLine(line));
  }

  add(line: string): void {
    if (this.lines.length < MAX_LINES) this.lines.push(line);
    else this.dropped++;
  }

  /** Level 2: an instruction about to be processed, with the state it sees. */
  insn(insn: Insn, state: VState): void {
    this.source(insn.pc);
    this.add(`${insn.pc}: ${insnText(insn)} ; ${stateText(state)}`);
  }

  /** Level 1: the instructions along the path that failed. */
  path(node: PathNode | undefined, insnAt: ReadonlyArray<Insn | undefined>): void {
    const pcs: number[] = [];
    for (let n = node; n; n = n.prev) pcs.push(n.pc);
    pcs.reverse();
    this.add(`path to the refused instruction (${pcs.length} instructions):`);
    const start = Math.max(0, pcs.length - MAX_PATH_LINES);
    if (start > 0) this.add(`  ... ${start} earlier instructions omitted`);
    for (const pc of pcs.slice(start)) {
      const insn = insnAt[pc];
      if (!insn) continue;
      this.source(pc);
      this.add(`${pc}: ${insnText(insn)}`);
    }
  }

  text(): string {
    if (this.dropped > 0) return [...this.lines, `... log truncated: ${this.dropped} more lines`].join('\n');
    return this.lines.join('\n');
  }
}
