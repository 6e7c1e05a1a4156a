/**
 * Dense handler ids for the interpreter's dispatch switch, derived from the decoded instruction forms
 * (src/isa/table.ts), never from opcode bytes. K and X operands share a handler: an immediate is
 * placed in a constant slot of the register file, so `add r1, 5` and `add r1, r2` run the same code.
 *
 * The switch in loop.ts uses number literals, so the engine sees constant case labels it can compile
 * to a jump table or compare tree (a TypeScript const enum is not inlined under verbatimModuleSyntax);
 * each label is written `N satisfies Id<'NAME'>`, so the compiler checks it against this table.
 */
import { InternalError } from '../errors.js';
import type { AluOp, Insn, JmpCond } from '../isa/insn.js';

export const OP = {
  CHARGE: 0,
  ADD64: 1, SUB64: 2, MUL64: 3, DIV64: 4, SDIV64: 5, MOD64: 6, SMOD64: 7, OR64: 8, AND64: 9,
  XOR64: 10, LSH64: 11, RSH64: 12, ARSH64: 13, NEG64: 14, MOV64: 15, MOVSX8_64: 16, MOVSX16_64: 17,
  MOVSX32_64: 18,
  ADD32: 19, SUB32: 20, MUL32: 21, DIV32: 22, SDIV32: 23, MOD32: 24, SMOD32: 25, OR32: 26, AND32: 27,
  XOR32: 28, LSH32: 29, RSH32: 30, ARSH32: 31, NEG32: 32, MOV32: 33, MOVSX8_32: 34, MOVSX16_32: 35,
  ZEXT16: 36, ZEXT32: 37, NOP: 38, SWAP16: 39, SWAP32: 40, SWAP64: 41,
  JA: 42,
  JEQ: 43, JNE: 44, JGT: 45, JGE: 46, JLT: 47, JLE: 48, JSGT: 49, JSGE: 50, JSLT: 51, JSLE: 52, JSET: 53,
  JEQ32: 54, JNE32: 55, JGT32: 56, JGE32: 57, JLT32: 58, JLE32: 59, JSGT32: 60, JSGE32: 61, JSLT32: 62,
  JSLE32: 63, JSET32: 64,
  CALL: 65, CALL_LOCAL: 66, CALLX: 67, EXIT: 68,
  LDXB: 69, LDXH: 70, LDXW: 71, LDXDW: 72, LDXSB: 73, LDXSH: 74, LDXSW: 75,
  STB: 76, STH: 77, STW: 78, STDW: 79,
  ATOMIC: 80,
  LDABS: 81,
} as const;

export type OpName = keyof typeof OP;
export type Id<K extends OpName> = (typeof OP)[K];

const ALU_NAMES: Record<AluOp, string> = {
  add: 'ADD', sub: 'SUB', mul: 'MUL', div: 'DIV', sdiv: 'SDIV', mod: 'MOD', smod: 'SMOD', or: 'OR',
  and: 'AND', xor: 'XOR', lsh: 'LSH', rsh: 'RSH', arsh: 'ARSH', neg: 'NEG', mov: 'MOV',
  movsx8: 'MOVSX8_', movsx16: 'MOVSX16_', movsx32: 'MOVSX32_',
};

const byName = (name: string): number => {
  const id = (OP as Record<string, number>)[name];
  if (id === undefined) throw new InternalError(`interpreter has no handler ${name}`);
  return id;
};

const LOAD = [0, OP.LDXB, OP.LDXH, 0, OP.LDXW, 0, 0, 0, OP.LDXDW] as const;
const LOAD_SIGNED = [0, OP.LDXSB, OP.LDXSH, 0, OP.LDXSW] as const;
const STORE = [0, OP.STB, OP.STH, 0, OP.STW, 0, 0, 0, OP.STDW] as const;

function endOp(order: 'le' | 'be' | 'swap', bits: 16 | 32 | 64): number {
  // The machine is little-endian: `le` only truncates, `be` and `bswap` both swap.
  if (order === 'le') return bits === 16 ? OP.ZEXT16 : bits === 32 ? OP.ZEXT32 : OP.NOP;
  return bits === 16 ? OP.SWAP16 : bits === 32 ? OP.SWAP32 : OP.SWAP64;
}

const jmpName = (cond: JmpCond, width: 32 | 64): string => cond.toUpperCase() + (width === 32 ? '32' : '');

/** The handler that runs an instruction. */
export function opOf(insn: Insn): number {
  switch (insn.kind) {
    case 'alu': return byName(ALU_NAMES[insn.op] + insn.width);
    case 'end': return endOp(insn.order, insn.bits);
    case 'jmp': return byName(jmpName(insn.cond, insn.width));
    case 'ja': return OP.JA;
    case 'call': return insn.mode === 'local' ? OP.CALL_LOCAL : OP.CALL;
    case 'callx': return OP.CALLX;
    case 'exit': return OP.EXIT;
    case 'lddw': return OP.MOV64;
    case 'ldx': return insn.signed ? LOAD_SIGNED[insn.size as 1 | 2 | 4] : LOAD[insn.size];
    case 'st': case 'stx': return STORE[insn.size];
    case 'atomic': return OP.ATOMIC;
    case 'ldabs': return OP.LDABS;
  }
}
