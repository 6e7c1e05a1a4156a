/**
 * Prints one instruction in kernel/LLVM syntax, the way llvm-objdump does (immediates in decimal,
 * lddw values in hex). Loads, stores and byte swaps name r registers as llvm's default mode does;
 * 32-bit atomics name w registers as LLVM 17+ prints them.
 */
import type { Insn, InsnOf } from '../isa/insn.js';
import { findRow } from '../isa/table.js';
import { hex64, relative } from './format-ubpf.js';
import { ALU_OPERATOR, JMP_OPERATOR, LOCK_OPERATOR, swapName, typeName } from './llvm-syntax.js';
import { formatPseudo } from './pseudo.js';

const reg = (n: number, wide = true): string => `${wide ? 'r' : 'w'}${n}`;
const address = (base: number, off: number): string => `r${base} ${off < 0 ? '-' : '+'} ${Math.abs(off)}`;
const mem = (size: 1 | 2 | 4 | 8, signed: boolean, base: number, off: number): string =>
  `*(${typeName(size, signed)} *)(${address(base, off)})`;

/** llvm-objdump prints `skb[r3]` (clang's imm is 0); another offset is written `r3 + 2` / `r3 - 2`. */
const packetIndex = (src: number, imm: number): string =>
  (imm === 0 ? `r${src}` : `r${src} ${imm < 0 ? '-' : '+'} ${Math.abs(imm)}`);

function alu(insn: InsnOf<'alu'>): string {
  const wide = insn.width === 64;
  const dst = reg(insn.dst, wide);
  switch (insn.op) {
    case 'neg': return `${dst} = -${dst}`;
    case 'movsx8': return `${dst} = (s8)${reg(insn.src, wide)}`;
    case 'movsx16': return `${dst} = (s16)${reg(insn.src, wide)}`;
    case 'movsx32': return `${dst} = (s32)${reg(insn.src, wide)}`;
    default: {
      const operand = insn.operand === 'reg' ? reg(insn.src, wide) : String(insn.imm);
      return `${dst} ${ALU_OPERATOR[insn.op]!} ${operand}`;
    }
  }
}

function atomic(insn: InsnOf<'atomic'>): string {
  const wide = insn.size === 8;
  const src = reg(insn.src, wide);
  switch (insn.op) {
    case 'xchg': return `${src} = ${swapName('xchg', insn.size)}(${address(insn.dst, insn.off)}, ${src})`;
    case 'cmpxchg':
      return `${reg(0, wide)} = ${swapName('cmpxchg', insn.size)}(${address(insn.dst, insn.off)}, ${reg(0, wide)}, ${src})`;
    default: {
      const type = typeName(insn.size, false);
      if (insn.fetch) return `${src} = atomic_fetch_${insn.op}((${type} *)(${address(insn.dst, insn.off)}), ${src})`;
      return `lock ${mem(insn.size, false, insn.dst, insn.off)} ${LOCK_OPERATOR[insn.op]!} ${src}`;
    }
  }
}

/** `label` replaces the numeric target of a jump, local call or code address; `mapNames` name lddw map indexes. */
export function formatLlvm(insn: Insn, label?: string, mapNames?: readonly string[]): string {
  switch (insn.kind) {
    case 'alu':
      return alu(insn);
    case 'end': {
      const name = findRow(insn.opcode, insn)?.mnemonic ?? `${insn.order}${insn.bits}`;
      return `${reg(insn.dst)} = ${name} ${reg(insn.dst)}`;
    }
    case 'jmp': {
      const wide = insn.width === 64;
      const operand = insn.operand === 'reg' ? reg(insn.src, wide) : String(insn.imm);
      return `if ${reg(insn.dst, wide)} ${JMP_OPERATOR[insn.cond]} ${operand} goto ${label ?? relative(insn.off)}`;
    }
    case 'ja':
      return `${insn.long ? 'gotol' : 'goto'} ${label ?? relative(insn.long ? insn.imm : insn.off)}`;
    case 'call':
      if (insn.mode === 'local') return `call ${label ?? 'pc' + relative(insn.imm)}`;
      if (insn.mode === 'kfunc') return insn.off === 0 ? `call kfunc ${insn.imm}` : `call kfunc ${insn.imm}, ${insn.off}`;
      return `call ${insn.imm}`;
    case 'callx':
      return `callx ${reg(insn.dst)}`;
    case 'exit':
      return 'exit';
    case 'lddw':
      return `${reg(insn.dst)} = ${formatPseudo(insn.src, insn.imm, insn.nextImm, mapNames, label) ?? hex64(insn.value)} ll`;
    case 'ldx':
      return `${reg(insn.dst)} = ${mem(insn.size, insn.signed, insn.src, insn.off)}`;
    case 'st':
      return `${mem(insn.size, false, insn.dst, insn.off)} = ${insn.imm}`;
    case 'stx':
      return `${mem(insn.size, false, insn.dst, insn.off)} = ${reg(insn.src)}`;
    case 'atomic':
      return atomic(insn);
    case 'ldabs':
      return `r0 = *(${typeName(insn.size, false)} *)skb[${insn.indirect ? packetIndex(insn.src, insn.imm) : insn.imm}]`;
    default: {
      const never: never = insn;
      return never;
    }
  }
}
