/**
 * Facts the verifier proves for the JIT (docs/architecture.md section 4): what holds at an instruction on every
 * path that reaches it, so the JIT can drop the corresponding runtime check. Collected while exploring
 * (each visit can only weaken a fact) and frozen into a plain object at the end.
 */
import type { Program } from '../program/program.js';
import type { EntryContract } from '../runtime/entry.js';
import { PTR_KINDS, type PtrKind } from './reg-state.js';

/** A constant address a pointer holds: a map or a byte of a map value, by map index. */
export interface ConstPointer {
  readonly kind: 'map_handle' | 'map_value';
  readonly map: number;
  readonly off: number;
}

/** Facts about one instruction; fields appear only on the instructions they concern. */
export interface InsnFacts {
  /** Memory access (ldx, st, stx, atomic): in bounds on every path. Always true in an accepted program. */
  readonly inBounds?: true;
  /** Memory access: the kinds of memory it touched on some path ('stack', 'ctx', 'packet', 'mem', 'map_value'). */
  readonly memory?: readonly PtrKind[];
  /** div/mod/sdiv/smod: the divisor is non-zero on every path (no x/0 guard needed). */
  readonly divisorNonZero?: boolean;
  /** sdiv/smod: INT_MIN / -1 cannot happen (no overflow guard needed). */
  readonly noSignedOverflow?: boolean;
  /** Shift by a register: the count is below the width on every path (no masking needed). */
  readonly shiftInRange?: boolean;
  /** Conditional jump on scalars: both operands fit in 32 bits unsigned on every path. */
  readonly fits32?: boolean;
  /** lddw of a map or map value: the constant it loads. */
  readonly constPointer?: ConstPointer;
  /** callx: the helper id the register holds on every path (undefined if it varies). */
  readonly callTarget?: number;
  /** Helper call with a map argument: the index of the map it names on every path (absent if it varies). */
  readonly callMap?: number;
}

export interface VerifierFacts {
  /** What the program assumed about r1 and r2 at entry: every run of it is checked against this. */
  readonly entry: EntryContract;
  /**
   * Indexed by pc (slot). undefined for instructions no path reaches (dead code) and for the second
   * slot of an lddw; `{}` for reached instructions with nothing special to say.
   */
  readonly insns: ReadonlyArray<InsnFacts | undefined>;
  /** Bytes of its own frame each function uses (deepest access below its r10), by function index. */
  readonly stackDepth: readonly number[];
  /** Largest sum of frame depths along any call chain (the kernel-style combined stack size). */
  readonly maxStackDepth: number;
  /**
   * Some loop was proven safe but not proven to end (verified with `termination: 'budget'`): runs
   * must keep their instruction budget. Absent when every path was followed to its end.
   */
  readonly needsBudget?: true;
}

const FLAG_DIV_ZERO = 1;
const FLAG_OVERFLOW = 2;
const FLAG_SHIFT_WIDE = 4;
const FLAG_WIDE_CMP = 8;
const FLAG_DIV = 16;
const FLAG_SHIFT = 32;
const FLAG_CMP = 64;

/** Shared by every reached instruction with nothing special to say. */
const NOTHING: InsnFacts = Object.freeze({});

/** Accumulates facts per pc while exploring. */
export class FactsCollector {
  readonly reached: Uint8Array;
  private readonly memory: Uint16Array;
  private readonly flags: Uint8Array;
  private readonly constPointers = new Map<number, ConstPointer>();
  private readonly callTargets = new Map<number, number | undefined>();
  private readonly callMaps = new Map<number, number | undefined>();
  private readonly atomics = new Set<number>();
  readonly stackDepth: Int32Array;

  constructor(program: Program) {
    this.reached = new Uint8Array(program.slotCount);
    this.memory = new Uint16Array(program.slotCount);
    this.flags = new Uint8Array(program.slotCount);
    this.stackDepth = new Int32Array(program.functions.length);
  }

  access(pc: number, kind: PtrKind, atomic = false): void {
    this.memory[pc]! |= 1 << PTR_KINDS.indexOf(kind);
    if (atomic) this.atomics.add(pc);
  }

  division(pc: number, nonZero: boolean, overflowFree: boolean): void {
    this.flags[pc]! |= FLAG_DIV | (nonZero ? 0 : FLAG_DIV_ZERO) | (overflowFree ? 0 : FLAG_OVERFLOW);
  }

  shift(pc: number, inRange: boolean): void {
    this.flags[pc]! |= FLAG_SHIFT | (inRange ? 0 : FLAG_SHIFT_WIDE);
  }

  compare(pc: number, fits32: boolean): void {
    this.flags[pc]! |= FLAG_CMP | (fits32 ? 0 : FLAG_WIDE_CMP);
  }

  constPointer(pc: number, value: ConstPointer): void {
    this.constPointers.set(pc, value);
  }

  callTarget(pc: number, id: number): void {
    const seen = this.callTargets.get(pc);
    this.callTargets.set(pc, !this.callTargets.has(pc) || seen === id ? id : undefined);
  }

  callMap(pc: number, map: number): void {
    const seen = this.callMaps.get(pc);
    this.callMaps.set(pc, !this.callMaps.has(pc) || seen === map ? map : undefined);
  }

  depth(fn: number, bytes: number): void {
    if (bytes > this.stackDepth[fn]!) this.stackDepth[fn] = bytes;
  }

  /** Whether some atomic instruction touched memory of this kind (program: the atomics' pcs). */
  atomicsOn(kind: PtrKind): boolean {
    const bit = 1 << PTR_KINDS.indexOf(kind);
    for (const pc of this.atomics) if (this.memory[pc]! & bit) return true;
    return false;
  }

  private factsAt(pc: number, signedDiv: boolean): InsnFacts {
    if (this.memory[pc] === 0 && this.flags[pc] === 0 && !this.constPointers.has(pc) && !this.callTargets.has(pc) && !this.callMaps.has(pc)) return NOTHING;
    const f: { -readonly [K in keyof InsnFacts]: InsnFacts[K] } = {};
    const mem = this.memory[pc]!;
    if (mem !== 0) {
      f.inBounds = true;
      f.memory = PTR_KINDS.filter((_, i) => (mem & (1 << i)) !== 0);
    }
    const flags = this.flags[pc]!;
    if (flags & FLAG_DIV) {
      f.divisorNonZero = (flags & FLAG_DIV_ZERO) === 0;
      if (signedDiv) f.noSignedOverflow = (flags & FLAG_OVERFLOW) === 0;
    }
    if (flags & FLAG_SHIFT) f.shiftInRange = (flags & FLAG_SHIFT_WIDE) === 0;
    if (flags & FLAG_CMP) f.fits32 = (flags & FLAG_WIDE_CMP) === 0;
    const cp = this.constPointers.get(pc);
    if (cp) f.constPointer = cp;
    if (this.callTargets.has(pc)) {
      const target = this.callTargets.get(pc);
      if (target !== undefined) f.callTarget = target;
    }
    const map = this.callMaps.get(pc);
    if (map !== undefined) f.callMap = map;
    return f;
  }

  finish(program: Program, entry: EntryContract, maxStackDepth: number, needsBudget: boolean): VerifierFacts {
    const insns: Array<InsnFacts | undefined> = new Array<InsnFacts | undefined>(program.slotCount).fill(undefined);
    for (const insn of program.insns) {
      if (!this.reached[insn.pc]) continue;
      const signedDiv = insn.kind === 'alu' && (insn.op === 'sdiv' || insn.op === 'smod');
      insns[insn.pc] = this.factsAt(insn.pc, signedDiv);
    }
    const facts = { entry, insns, stackDepth: Array.from(this.stackDepth), maxStackDepth };
    return needsBudget ? { ...facts, needsBudget: true } : facts;
  }
}
