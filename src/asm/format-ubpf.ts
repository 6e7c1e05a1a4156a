/** Prints one instruction in uBPF/conformance syntax; mnemonics come from the opcode table. */
import { InternalError } from '../errors.js';
import type { Insn } from '../isa/insn.js';
import { findRow } from '../isa/table.js';
import { formatPseudo } from './pseudo.js';

/** `+3` / `-1`: relative targets always carry a sign, so they never read as labels or immediates. */
export const relative = (n: number): string => (n < 0 ? `${n}` : `+${n}`);

export const hex64 = (value: bigint): string => '0x' + value.toString(16);

const reg = (n: number): string => `%r${n}`;
const mem = (base: number, off: number): string => `[${reg(base)}${relative(off)}]`;

function mnemonic(insn: Insn): string {
  const row = findRow(insn.opcode, insn);
  if (!row) throw new InternalError(`instruction at pc ${insn.pc} has no opcode row`);
  return row.mnemonic;
}

/** `label` replaces the numeric target of a jump, local call or code address; `mapNames` name lddw map indexes. */
export function formatUbpf(insn: Insn, label?: string, mapNames?: readonly string[]): string {
  const m = mnemonic(insn);
  switch (insn.kind) {
    case 'alu':
      if (insn.op === 'neg') return `${m} ${reg(insn.dst)}`;
      return `${m} ${reg(insn.dst)}, ${insn.operand === 'reg' ? reg(insn.src) : insn.imm}`;
    case 'end':
      return `${m} ${reg(insn.dst)}`;
    case 'jmp': {
      const operand = insn.operand === 'reg' ? reg(insn.src) : String(insn.imm);
      return `${m} ${reg(insn.dst)}, ${operand}, ${label ?? relative(insn.off)}`;
    }
    case 'ja':
      return `${m} ${label ?? relative(insn.long ? insn.imm : insn.off)}`;
    case 'call':
      if (insn.mode === 'local') return `${m} ${label ?? relative(insn.imm)}`;
      if (insn.mode === 'kfunc' && insn.off !== 0) return `${m} ${insn.imm}, ${insn.off}`;
      return `${m} ${insn.imm}`;
    case 'callx':
      return `${m} ${reg(insn.dst)}`;
    case 'exit':
      return m;
    case 'lddw':
      return `${m} ${reg(insn.dst)}, ${formatPseudo(insn.src, insn.imm, insn.nextImm, mapNames, label) ?? hex64(insn.value)}`;
    case 'ldx':
      return `${m} ${reg(insn.dst)}, ${mem(insn.src, insn.off)}`;
    case 'st':
      return `${m} ${mem(insn.dst, insn.off)}, ${insn.imm}`;
    case 'stx':
    case 'atomic':
      return `${m} ${mem(insn.dst, insn.off)}, ${reg(insn.src)}`;
    case 'ldabs':
      return insn.indirect ? `${m} ${reg(insn.src)}, ${insn.imm}` : `${m} ${insn.imm}`;
    default: {
      const never: never = insn;
      return never;
    }
  }
}
