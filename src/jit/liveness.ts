/**
 * Register liveness per block: which registers a block may read before writing them, on some path
 * from its start. The jump-table recovery uses it to drop instructions of a tree path whose result is
 * overwritten before any read (clang's `r0 = const` in front of a test that then goes to `r0 = 0`).
 * Conservative where it does not matter: calls read r1-r5 and write only r0.
 */
import type { Insn } from '../isa/insn.js';
import { FP } from '../isa/opcode.js';
import { solveDataflow, type Dataflow } from '../program/cfg.js';
import type { BpfFunction } from '../program/program.js';
import { readMask } from '../program/registers.js';

const bit = (r: number): number => 1 << r;
const ARGS = bit(1) | bit(2) | bit(3) | bit(4) | bit(5);

/** Registers the instruction reads (calls read their arguments; r10 is always live). */
export function usesOf(insn: Insn): number {
  const calls = insn.kind === 'call' || insn.kind === 'callx' ? ARGS : 0;
  return readMask(insn) | calls | bit(FP);
}

/** Registers the instruction always writes. */
export function defsOf(insn: Insn): number {
  switch (insn.kind) {
    case 'alu': case 'end': case 'lddw': case 'ldx': return bit(insn.dst);
    case 'atomic': return insn.op === 'cmpxchg' ? bit(0) : insn.fetch ? bit(insn.src) : 0;
    case 'call': case 'callx': case 'ldabs': return bit(0);
    default: return 0;
  }
}

/** Live registers before `insns`, given those live after them. */
export function liveBefore(insns: readonly Insn[], liveOut: number): number {
  let live = liveOut;
  for (let i = insns.length - 1; i >= 0; i--) live = (live & ~defsOf(insns[i]!)) | usesOf(insns[i]!);
  return live;
}

const LIVENESS: Dataflow<number> = {
  direction: 'backward', boundary: 0,
  meet: (a, b) => a | b,
  equals: (a, b) => a === b,
  transfer: (block, liveOut) => liveBefore(block.insns, liveOut),
};

/** Live-in mask of every block of the function, by start pc. */
export function blockLiveness(fn: BpfFunction): Map<number, number> {
  const starts = solveDataflow(fn, LIVENESS);
  const live = new Map<number, number>();
  fn.blocks.forEach((block, i) => live.set(block.start, starts[i] ?? 0));
  return live;
}
