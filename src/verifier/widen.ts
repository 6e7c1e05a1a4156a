/**
 * Widening, for `termination: 'budget'`: when a loop comes back to its head with a state its
 * stored state does not subsume (a counter one higher, a sum grown), the verifier goes on with a
 * state that holds the new one and has grown towards "anything", so that after a few rounds the
 * state at the head stops growing and a stored state subsumes it (checkpoints.ts). Every widened
 * value holds the value it replaces, so whatever is proven from it holds for the path: widening
 * only costs precision.
 *
 * A bound that moved past the stored one jumps to the next threshold, or to its extreme past the
 * last (widening with thresholds, as in Blanchet et al., PLDI 2003): the constants the program
 * compares with and the edges of the integer types for scalars; for a pointer into an object, the
 * last offsets an access of 1, 2, 4 or 8 bytes may start at. A loop test placed before the head
 * (`do { load } while (p < end)`, clang's rotated loops) bounds the pointer below the end, so its
 * next threshold is the one the load needs. Known bits that differ become unknown.
 *
 * What cannot be widened stays as it is: values of different types, packet pointers (their range is
 * shared through ids with every copy), map values that may still be null. A loop that keeps changing
 * those runs into the verifier's budget as before.
 */
import type { Program } from '../program/program.js';
import { S32_MAX, S32_MIN, S64_MAX, S64_MIN, boundsOf, scalarFrom, scalarSubsumes, toS64, toU64, type Scalar } from './scalar.js';
import { U32, U64, type Tnum } from './tnum.js';
import { varAt, type Ptr, type RegState } from './reg-state.js';
import type { FrameStack } from './stack.js';
import type { VState } from './state.js';

/** Sorted candidate bounds, unsigned and signed 64-bit. */
export interface Thresholds {
  readonly unsigned: readonly bigint[];
  readonly signed: readonly bigint[];
}

const TYPE_EDGES = [7n, 8n, 15n, 16n, 31n, 32n, 63n].map((k) => (1n << k) - 1n);

function sortedUnique(values: Iterable<bigint>): bigint[] {
  return [...new Set(values)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/** The constants the program's conditional jumps compare with (and one less), plus the type edges. */
export function programThresholds(program: Program): Thresholds {
  const imms: bigint[] = [];
  for (const insn of program.insns) {
    if (insn.kind !== 'jmp' || insn.operand !== 'imm') continue;
    const k = BigInt(insn.imm);
    imms.push(k, k - 1n);
  }
  const signed = [...imms, ...TYPE_EDGES, ...TYPE_EDGES.map((e) => -e - 1n)].filter((v) => v >= S64_MIN && v <= S64_MAX);
  const unsigned = [...imms.map(toU64), ...TYPE_EDGES];
  return { unsigned: sortedUnique(unsigned), signed: sortedUnique(signed.map(toS64)) };
}

const up = (list: readonly bigint[], v: bigint, top: bigint): bigint => list.find((t) => t >= v) ?? top;
function down(list: readonly bigint[], v: bigint, bottom: bigint): bigint {
  for (let i = list.length - 1; i >= 0; i--) if (list[i]! <= v) return list[i]!;
  return bottom;
}

/** Known bits that both agree on stay known. */
function tnumJoin(a: Tnum, b: Tnum): Tnum {
  const mask = a.mask | b.mask | (a.value ^ b.value);
  return { value: a.value & ~mask & U64, mask };
}

/**
 * `cur` when `old` already holds it (links kept), else a scalar holding both with each bound that
 * moved taken to its next threshold, no longer linked to copies (they may have moved differently).
 */
export function widenScalar(old: Scalar, cur: Scalar, t: Thresholds): Scalar {
  if (scalarSubsumes(old, cur)) return cur;
  const b = boundsOf(old);
  if (cur.umin < b.umin) b.umin = down(t.unsigned, cur.umin, 0n);
  if (cur.umax > b.umax) b.umax = up(t.unsigned, cur.umax, U64);
  if (cur.smin < b.smin) b.smin = down(t.signed, cur.smin, S64_MIN);
  if (cur.smax > b.smax) b.smax = up(t.signed, cur.smax, S64_MAX);
  if (cur.u32min < b.u32min) b.u32min = 0n;
  if (cur.u32max > b.u32max) b.u32max = U32;
  if (cur.s32min < b.s32min) b.s32min = S32_MIN;
  if (cur.s32max > b.s32max) b.s32max = S32_MAX;
  b.tnum = tnumJoin(old.tnum, cur.tnum);
  // Every view holds both values, so they cannot contradict; undefined would be a bug.
  return scalarFrom(b) ?? { ...old, ...boundsOf(cur), id: 0, delta: 0 };
}

const sameObject = (a: Ptr, b: Ptr): boolean => a.kind === b.kind && a.frame === b.frame && a.region === b.region
  && a.size === b.size && a.readOnly === b.readOnly && a.ref === b.ref;

const WIDENABLE = new Set(['ctx', 'stack', 'mem', 'map_value', 'ringbuf_mem']);

/** For a variable offset added to `off`: where accesses of each size may last start in the object. */
function objectThresholds(p: Ptr, t: Thresholds): Thresholds {
  if (p.kind !== 'mem' && p.kind !== 'map_value' && p.kind !== 'ringbuf_mem') return t;
  const ends = [1, 2, 4, 8].map((w) => BigInt(p.size - w - p.off)).filter((v) => v >= 0n);
  return { unsigned: sortedUnique([...t.unsigned, ...ends]), signed: sortedUnique([...t.signed, ...ends]) };
}

function widenPtr(old: Ptr, cur: Ptr, t: Thresholds): Ptr {
  if (!sameObject(old, cur) || !WIDENABLE.has(cur.kind)) return cur;
  // The same addresses, split as old splits them between fixed and variable offset.
  return { ...cur, off: old.off, var: widenScalar(old.var, varAt(cur, old.off), objectThresholds(old, t)) };
}

function widenValue<T extends RegState>(old: RegState, cur: T, t: Thresholds): T | Scalar | Ptr {
  if (old.t === 'scalar' && cur.t === 'scalar') return widenScalar(old, cur, t);
  if (old.t === 'ptr' && cur.t === 'ptr') return widenPtr(old, cur, t);
  return cur;
}

function widenStack(old: FrameStack, cur: FrameStack, t: Thresholds): void {
  for (let i = 0; i < cur.length; i++) {
    const o = old[i];
    const n = cur[i];
    if (o?.kind === 'spill' && n?.kind === 'spill' && o !== n) cur[i] = { kind: 'spill', reg: widenValue(o.reg, n.reg, t) };
  }
}

/** Widens `cur` (in place) against `old`, stored at the same loop head; frames must match. */
export function widenState(old: VState, cur: VState, t: Thresholds): void {
  if (old.frames.length !== cur.frames.length) return;
  old.frames.forEach((of, f) => {
    const cf = cur.frames[f]!;
    if (of.fn !== cf.fn || of.callsite !== cf.callsite) return;
    for (let r = 0; r < 10; r++) cf.regs[r] = widenValue(of.regs[r]!, cf.regs[r]!, t);
    widenStack(of.stack, cf.stack, t);
  });
}
