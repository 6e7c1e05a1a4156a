/**
 * Two backward register analyses, computed once before exploring, that make pruning effective.
 *
 * Liveness: which registers may still be read at each pc before being overwritten. Pruning compares
 * only live registers, so paths that differ only in dead values (a temporary the compiler reused)
 * meet and one of them is pruned.
 *
 * Precision: which registers' exact values may still matter to safety or to a recorded fact: values
 * that can reach an address, a branch condition, a helper argument, a store, a divisor or shift count,
 * a callee, or the return value when the context restricts it. A live scalar that is not precise can
 * only flow into other such values, so any scalar may stand in for it: two paths that computed
 * different sums of bytes, say, still meet. The kernel gets the same effect by backtracking precision
 * marks during exploration; a static over-approximation is simpler and sound.
 */
import type { Insn } from '../isa/insn.js';
import { solveDataflow } from '../program/cfg.js';
import type { BpfFunction, Program } from '../program/program.js';
import { readMask } from '../program/registers.js';

const bit = (r: number): number => 1 << r;
const ARGS = bit(1) | bit(2) | bit(3) | bit(4) | bit(5);
const CLOBBERED = ARGS | bit(0);
const CALLEE_SAVED = bit(6) | bit(7) | bit(8) | bit(9);

/** How many argument registers a helper call reads (5 when unknown). */
export type ArgCount = (helperId: number) => number;

/**
 * Both analyses as bit formulas, precomputed per instruction:
 *   live_in    = use | (live_out & ~def)
 *   precise_in = sink | (precise_out & ~def) | (precise_out & def ? deps : 0)
 * `sink` are registers whose value matters right here, `deps` the sources a precise result needs.
 */
interface Masks {
  readonly use: number;
  readonly def: number;
  readonly sink: number;
  readonly deps: number;
}

function helperArgs(insn: Insn, argCount: ArgCount): number {
  if (insn.kind === 'call' && insn.mode === 'helper') return ARGS & ((1 << (argCount(insn.imm) + 1)) - 2);
  return insn.kind === 'callx' ? ARGS | bit(insn.dst) : ARGS;
}

function aluMasks(insn: Insn & { kind: 'alu' }): Masks {
  const dst = bit(insn.dst);
  const src = insn.operand === 'reg' ? bit(insn.src) : 0;
  const mov = insn.op === 'mov' || insn.op === 'movsx8' || insn.op === 'movsx16' || insn.op === 'movsx32';
  let sink = 0;
  // Divisors, dividends and shift counts feed the JIT's facts.
  if (insn.op === 'div' || insn.op === 'mod' || insn.op === 'sdiv' || insn.op === 'smod') sink = src | dst;
  if (insn.operand === 'reg' && (insn.op === 'lsh' || insn.op === 'rsh' || insn.op === 'arsh')) sink = src;
  return { use: readMask(insn), def: dst, sink, deps: src | (mov ? 0 : dst) };
}

function masksOf(insn: Insn, argCount: ArgCount, returnMatters: boolean): Masks {
  const use = readMask(insn);
  switch (insn.kind) {
    case 'alu': return aluMasks(insn);
    case 'end': return { use, def: bit(insn.dst), sink: 0, deps: bit(insn.dst) };
    case 'lddw': return { use, def: bit(insn.dst), sink: 0, deps: 0 };
    case 'ldx': return { use, def: bit(insn.dst), sink: bit(insn.src), deps: 0 };
    case 'st': case 'stx': case 'jmp': return { use, def: 0, sink: use, deps: 0 };
    case 'atomic': {
      const def = insn.op === 'cmpxchg' ? bit(0) : insn.fetch ? bit(insn.src) : 0;
      return { use, def, sink: use, deps: 0 };
    }
    case 'ja': return { use: 0, def: 0, sink: 0, deps: 0 };
    case 'call': case 'callx': {
      const args = helperArgs(insn, argCount);
      return { use: args, def: CLOBBERED, sink: args, deps: 0 };
    }
    case 'exit': return { use, def: 0, sink: returnMatters ? bit(0) : 0, deps: 0 };
    case 'ldabs': return { use, def: CLOBBERED, sink: use, deps: 0 };
  }
}

/**
 * Both masks before an instruction, from both after it (the formulas above). The two analyses run as
 * one: a state is the live mask in the low 16 bits and the precise mask above them, so one dataflow
 * solve (whose meet, a bitwise or, is that of both) serves both.
 */
function before(m: Masks, after: number): number {
  const live = after & 0xffff;
  const precise = after >>> 16;
  const p = m.sink | (precise & ~m.def) | ((precise & m.def) !== 0 ? m.deps : 0);
  return (m.use | (live & ~m.def)) | (p << 16);
}

/**
 * Solves both analyses over the function's blocks, writing the masks before every instruction into
 * `live` and `precise` as it goes: the solver carries every block across at least once, and again
 * after any change at a successor, so each block's last pass, whose masks stay, is at the fixed point.
 */
function solve(fn: BpfFunction, masks: ReadonlyArray<Masks | undefined>, live: Uint16Array, precise: Uint16Array): void {
  solveDataflow<number>(fn, {
    direction: 'backward', boundary: 0, meet: (a, b) => a | b, equals: (a, b) => a === b,
    transfer: (block, after) => {
      let mask = after;
      for (let j = block.insns.length - 1; j >= 0; j--) {
        const pc = block.insns[j]!.pc;
        mask = before(masks[pc]!, mask);
        live[pc] = mask & 0xffff;
        precise[pc] = mask >>> 16;
      }
      return mask;
    },
  });
}

export interface RegisterMasks {
  /** Registers live at each pc (r10 left out: it never changes within a frame). */
  readonly live: Uint16Array;
  /** Live registers whose exact scalar value may matter at each pc. */
  readonly precise: Uint16Array;
}

export function analyzeRegisters(program: Program, argCount: ArgCount, entryReturnMatters: boolean): RegisterMasks {
  const live = new Uint16Array(program.slotCount);
  const precise = new Uint16Array(program.slotCount);
  // A subprogram's r0 flows into its caller, so it always matters; the entry's only when the context restricts it.
  const masks = new Array<Masks | undefined>(program.slotCount);
  for (const insn of program.insns) {
    masks[insn.pc] = masksOf(insn, argCount, entryReturnMatters || program.functionOf[insn.pc] !== 0);
  }
  for (const fn of program.functions) {
    solve(fn, masks, live, precise);
  }
  for (let pc = 0; pc < live.length; pc++) {
    live[pc]! &= ~bit(10);
    precise[pc]! &= live[pc]!;
  }
  return { live, precise };
}

/** Registers of a caller's frame that matter while a callee runs: r6-r9 as of the return site. */
export function callerMask(masks: Uint16Array, callsite: number): number {
  return masks[callsite + 1]! & CALLEE_SAVED;
}
