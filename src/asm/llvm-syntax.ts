/**
 * The spellings of the kernel/LLVM syntax, shared by its parser and its printer. These map the
 * instruction model's names (AluOp, JmpCond, AtomicOp) to operators; the opcodes themselves stay in
 * the opcode table.
 */
import type { AccessSize, AluOp, AtomicOp, JmpCond } from '../isa/insn.js';

/** Compound assignment operator of each two-operand ALU op; mov is `=`, neg and movsx have their own forms. */
export const ALU_OPERATOR: Readonly<Record<AluOp, string | undefined>> = {
  add: '+=', sub: '-=', mul: '*=', div: '/=', sdiv: 's/=', or: '|=', and: '&=', lsh: '<<=', rsh: '>>=',
  mod: '%=', smod: 's%=', xor: '^=', arsh: 's>>=', mov: '=', neg: undefined,
  movsx8: undefined, movsx16: undefined, movsx32: undefined,
};

export const JMP_OPERATOR: Readonly<Record<JmpCond, string>> = {
  jeq: '==', jne: '!=', jgt: '>', jge: '>=', jlt: '<', jle: '<=',
  jsgt: 's>', jsge: 's>=', jslt: 's<', jsle: 's<=', jset: '&',
};

/** `lock *(u64 *)(r1 + 0) += r2` operators (the non-fetch atomics). */
export const LOCK_OPERATOR: Readonly<Record<AtomicOp, string | undefined>> = {
  add: '+=', or: '|=', and: '&=', xor: '^=', xchg: undefined, cmpxchg: undefined,
};

export const invert = <K extends string>(record: Readonly<Record<K, string | undefined>>): ReadonlyMap<string, K> =>
  new Map(Object.entries(record).filter(([, v]) => v !== undefined).map(([k, v]) => [v as string, k as K]));

export const typeName = (size: AccessSize, signed: boolean): string => `${signed ? 's' : 'u'}${size * 8}`;

/** `u8`..`u64`, `s8`..`s32` to size and signedness. */
export function parseTypeName(name: string): { size: AccessSize; signed: boolean } | undefined {
  const m = /^([us])(8|16|32|64)$/.exec(name);
  if (!m) return undefined;
  return { size: (Number(m[2]) / 8) as AccessSize, signed: m[1] === 's' };
}

/** Width suffix of the xchg/cmpxchg calls: `xchg_64`, `xchg32_32`, `cmpxchg_64`, `cmpxchg32_32`. */
export const swapName = (op: 'xchg' | 'cmpxchg', size: 4 | 8): string => (size === 8 ? `${op}_64` : `${op}32_32`);
