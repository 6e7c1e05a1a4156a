/**
 * A small forward dataflow that tracks registers holding "frame pointer + k" or "context start + k"
 * with k a known constant. It lets the JIT drop bounds checks on stack accesses that cannot leave the
 * stack and reduce context accesses to one compare. It serves checked mode, where there are no
 * verifier facts (verified code needs no bounds checks at all).
 */
import { InternalError } from '../errors.js';
import type { Insn } from '../isa/insn.js';
import { FP, REG_COUNT } from '../isa/opcode.js';
import { solveDataflow } from '../program/cfg.js';
import type { BpfFunction } from '../program/program.js';

export interface PointerFact {
  readonly base: 'fp' | 'ctx';
  /** Byte offset from the base; small (|k| < 2^31). */
  readonly k: number;
}

/** Register state: one fact (or undefined, "unknown") per register. */
type State = Array<PointerFact | undefined>;

const LIMIT = 2 ** 31;

function shifted(fact: PointerFact | undefined, delta: number): PointerFact | undefined {
  if (!fact) return undefined;
  const k = fact.k + delta;
  return Math.abs(k) < LIMIT ? { base: fact.base, k } : undefined;
}

const sameFact = (a: PointerFact | undefined, b: PointerFact | undefined): boolean =>
  a === b || (a !== undefined && b !== undefined && a.base === b.base && a.k === b.k);

function transfer(insn: Insn, state: State): void {
  switch (insn.kind) {
    case 'alu': {
      const wide = insn.width === 64;
      if (wide && insn.op === 'mov' && insn.operand === 'reg') state[insn.dst] = state[insn.src];
      else if (wide && insn.op === 'add' && insn.operand === 'imm') state[insn.dst] = shifted(state[insn.dst], insn.imm);
      else if (wide && insn.op === 'sub' && insn.operand === 'imm') state[insn.dst] = shifted(state[insn.dst], -insn.imm);
      else state[insn.dst] = undefined;
      return;
    }
    case 'end': case 'lddw': case 'ldx':
      state[insn.dst] = undefined;
      return;
    case 'atomic':
      if (insn.op === 'cmpxchg') state[0] = undefined;
      else if (insn.fetch) state[insn.src] = undefined;
      return;
    case 'call': case 'callx': case 'ldabs':
      for (let r = 0; r <= 5; r++) state[r] = undefined;
      return;
    case 'jmp': case 'ja': case 'exit': case 'st': case 'stx':
      return;
    default: {
      const never: never = insn;
      throw new InternalError(`unhandled instruction ${(never as Insn).kind}`);
    }
  }
}

/** Base register of a memory instruction and its offset, or undefined for other instructions. */
export function memoryOperand(insn: Insn): { reg: number; off: number } | undefined {
  switch (insn.kind) {
    case 'ldx': return { reg: insn.src, off: insn.off };
    case 'st': case 'stx': case 'atomic': return { reg: insn.dst, off: insn.off };
    default: return undefined;
  }
}

/**
 * Facts about the address of every memory access in the function, keyed by pc: the address is
 * base + k. `ctxAtEntry` says r1 holds the context start on entry (true for the entry function only).
 */
export function pointerFacts(fn: BpfFunction, ctxAtEntry: boolean): Map<number, PointerFact> {
  const entry: State = new Array(REG_COUNT).fill(undefined);
  entry[FP] = { base: 'fp', k: 0 };
  if (ctxAtEntry) entry[1] = { base: 'ctx', k: 0 };
  const starts = solveDataflow<State>(fn, {
    direction: 'forward', boundary: entry,
    meet: (a, b) => a.map((f, r) => (sameFact(f, b[r]) ? f : undefined)),
    equals: (a, b) => a.every((f, r) => sameFact(f, b[r])),
    transfer: (block, start) => {
      const state = [...start];
      for (const insn of block.insns) transfer(insn, state);
      return state;
    },
  });
  const facts = new Map<number, PointerFact>();
  fn.blocks.forEach((block, i) => {
    const start = starts[i];
    if (!start) return;
    const state = [...start];
    for (const insn of block.insns) {
      const operand = memoryOperand(insn);
      const fact = operand && shifted(state[operand.reg], operand.off);
      if (fact) facts.set(insn.pc, fact);
      transfer(insn, state);
    }
  });
  return facts;
}
