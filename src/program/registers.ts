/**
 * Register use checks that need no types: nothing writes r10, and no instruction reads a register
 * that is not initialized on every path to it (a must-initialized dataflow over the CFG, with the
 * calling convention: calls define r0 and leave r1-r5 undefined).
 */
import { ProgramError } from '../errors.js';
import type { Insn } from '../isa/insn.js';
import { FP } from '../isa/opcode.js';
import type { BpfFunction, Program } from './program.js';

const bit = (reg: number): number => 1 << reg;
const ARGS = bit(1) | bit(2) | bit(3) | bit(4) | bit(5);
const CALLER_SAVED = ARGS | bit(0);
/** The entry gets r1 (context) and r2 (its length, for memory-region programs) and the frame pointer. */
export const ENTRY_REGS = bit(1) | bit(2) | bit(FP);
const SUBPROG_REGS = ARGS | bit(FP);

/** Registers an instruction reads, as a bit mask. */
export function readMask(insn: Insn): number {
  switch (insn.kind) {
    case 'alu': {
      const dst = insn.op === 'mov' || insn.op.startsWith('movsx') ? 0 : bit(insn.dst);
      return dst | (insn.operand === 'reg' ? bit(insn.src) : 0);
    }
    case 'end': return bit(insn.dst);
    case 'jmp': return bit(insn.dst) | (insn.operand === 'reg' ? bit(insn.src) : 0);
    case 'ldx': return bit(insn.src);
    case 'st': return bit(insn.dst);
    case 'stx': return bit(insn.dst) | bit(insn.src);
    case 'atomic': return bit(insn.dst) | bit(insn.src) | (insn.op === 'cmpxchg' ? bit(0) : 0);
    case 'callx': return bit(insn.dst);
    case 'exit': return bit(0);
    case 'ja': case 'call': case 'lddw': return 0;
  }
}

/** Register mask after the instruction, given the mask before it. */
export function afterMask(insn: Insn, before: number): number {
  switch (insn.kind) {
    case 'alu': case 'end': case 'lddw': case 'ldx': return before | bit(insn.dst);
    case 'atomic':
      if (insn.op === 'cmpxchg') return before | bit(0);
      return insn.fetch ? before | bit(insn.src) : before;
    case 'call': case 'callx': return (before & ~CALLER_SAVED) | bit(0);
    default: return before;
  }
}

const regList = (mask: number): string =>
  Array.from({ length: 11 }, (_, r) => r).filter((r) => mask & bit(r)).map((r) => `r${r}`).join(', ');

function checkWritesFp(insn: Insn): void {
  const writes = insn.kind === 'alu' || insn.kind === 'end' || insn.kind === 'lddw' || insn.kind === 'ldx';
  const fetchInto = insn.kind === 'atomic' && insn.fetch && insn.op !== 'cmpxchg' ? insn.src : -1;
  if ((writes && insn.dst === FP) || fetchInto === FP) {
    throw new ProgramError('E_WRITE_R10', insn.pc, 'r10 is the read-only frame pointer');
  }
}

function checkFunction(fn: BpfFunction, entryMask: number): void {
  const inMask = new Map<number, number>([[fn.entry, entryMask]]);
  const work = [fn.entry];
  const byStart = new Map(fn.blocks.map((b) => [b.start, b]));
  while (work.length > 0) {
    const block = byStart.get(work.pop()!)!;
    let mask = inMask.get(block.start)!;
    for (const insn of block.insns) {
      const missing = readMask(insn) & ~mask;
      if (missing) {
        throw new ProgramError('E_UNINIT_REGISTER', insn.pc, `reads uninitialized register ${regList(missing)}`);
      }
      mask = afterMask(insn, mask);
    }
    for (const succ of block.succs) {
      const old = inMask.get(succ);
      const merged = old === undefined ? mask : old & mask;
      if (merged !== old) {
        inMask.set(succ, merged);
        work.push(succ);
      }
    }
  }
}

export function checkRegisterUse(program: Program): void {
  for (const insn of program.insns) checkWritesFp(insn);
  for (const fn of program.functions) checkFunction(fn, fn.index === 0 ? ENTRY_REGS : SUBPROG_REGS);
}
