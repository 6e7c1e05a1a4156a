/**
 * Branch refinement (scalar-branch.ts) for operands known to lie in [0, 2^31), in JavaScript numbers.
 *
 * Such an operand's unsigned, signed, 64-bit and 32-bit values are one number, so its five views are
 * one range and a tnum of 31 bits, and the BigInt code would only narrow that range and intersect
 * tnums, then re-derive the same range in every view (syncSmall). Branches on such values are most
 * of the branches a switch's compare tree makes (once the first test has bounded the key), and the
 * BigInt work was most of their cost. This file computes exactly what `assume` computes for them,
 * step for step (test/verifier-small-branch.test.ts compares the two), only in numbers: every value
 * here stays below 2^31, where the bitwise operators are exact. `jset` is left to the BigInt code.
 */
import type { JmpCond } from '../isa/insn.js';
import { scalarConst, type Scalar } from './scalar.js';

/** A view of a small operand in numbers (scalar-alu.ts View); the tnum is (v; m). */
interface NumView {
  umin: number;
  umax: number;
  smin: number;
  smax: number;
  v: number;
  m: number;
}

const SMALL_MAX = 0x7fffffffn;

/** Whether every view of `s` is the same range within [0, 2^31) and its tnum fits in 31 bits. */
export function isSmall(s: Scalar): boolean {
  const { umin, umax, tnum } = s;
  return umax <= SMALL_MAX && umin >= 0n && s.smin === umin && s.u32min === umin && s.s32min === umin
    && s.smax === umax && s.u32max === umax && s.s32max === umax && tnum.value <= SMALL_MAX && tnum.mask <= SMALL_MAX;
}

function numView(s: Scalar): NumView {
  const lo = Number(s.umin);
  const hi = Number(s.umax);
  return { umin: lo, umax: hi, smin: lo, smax: hi, v: Number(s.tnum.value), m: Number(s.tnum.mask) };
}

const copy = (x: NumView): NumView => ({ umin: x.umin, umax: x.umax, smin: x.smin, smax: x.smax, v: x.v, m: x.m });
const same = (x: NumView, y: NumView): boolean => x.umin === y.umin && x.umax === y.umax && x.smin === y.smin
  && x.smax === y.smax && x.v === y.v && x.m === y.m;

/** tnumIntersect on 31-bit tnums: writes the result into `into`; false when they disagree on a known bit. */
function intersectInto(into: NumView, v: number, m: number): boolean {
  if (((into.v ^ v) & ~(into.m | m)) !== 0) return false;
  const mu = into.m & m;
  into.v = (into.v | v) & ~mu;
  into.m = mu;
  return true;
}

function equal(a: NumView, b: NumView): boolean {
  const t = { ...a };
  if (!intersectInto(t, b.v, b.m)) return false;
  a.umin = b.umin = Math.max(a.umin, b.umin);
  a.umax = b.umax = Math.min(a.umax, b.umax);
  a.smin = b.smin = Math.max(a.smin, b.smin);
  a.smax = b.smax = Math.min(a.smax, b.smax);
  a.v = b.v = t.v;
  a.m = b.m = t.m;
  return true;
}

function notEnd(x: NumView, k: NumView): void {
  if (k.umin !== k.umax) return;
  if (x.umin === k.umin) x.umin++;
  if (x.umax === k.umin) x.umax--;
  if (x.smin === k.smin) x.smin++;
  if (x.smax === k.smin) x.smax--;
}

function greaterU(a: NumView, b: NumView, d: number): void {
  a.umin = Math.max(a.umin, b.umin + d);
  b.umax = Math.min(b.umax, a.umax - d);
}

function greaterS(a: NumView, b: NumView, d: number): void {
  a.smin = Math.max(a.smin, b.smin + d);
  b.smax = Math.min(b.smax, a.smax - d);
}

/** refineViews for small operands (signed and unsigned views start equal, and may part here). */
function refine(cond: Exclude<JmpCond, 'jset'>, a: NumView, b: NumView): boolean {
  switch (cond) {
    case 'jeq': return equal(a, b);
    case 'jne': notEnd(a, b); notEnd(b, a); return true;
    case 'jgt': greaterU(a, b, 1); return true;
    case 'jge': greaterU(a, b, 0); return true;
    case 'jlt': greaterU(b, a, 1); return true;
    case 'jle': greaterU(b, a, 0); return true;
    case 'jsgt': greaterS(a, b, 1); return true;
    case 'jsge': greaterS(a, b, 0); return true;
    case 'jslt': greaterS(b, a, 1); return true;
    case 'jsle': greaterS(b, a, 0); return true;
  }
}

/** syncSmall's fixed point of a range and a tnum, in numbers; undefined when they hold no value. */
function settle(s: Scalar, lo: number, hi: number, t: NumView): Scalar | undefined {
  for (;;) {
    if (lo > hi) return undefined;
    // tnumRange(lo, hi): the bits from the highest one where lo and hi differ are unknown.
    const diff = lo ^ hi;
    const delta = diff === 0 ? 0 : 0xffffffff >>> Math.clz32(diff);
    if (!intersectInto(t, lo & ~delta, delta)) return undefined;
    const l = Math.max(lo, t.v);
    const h = Math.min(hi, t.v | t.m);
    if (l === lo && h === hi) break;
    lo = l;
    hi = h;
  }
  const [min, max] = [BigInt(lo), BigInt(hi)];
  return {
    t: 'scalar', umin: min, umax: max, smin: min, smax: max, u32min: min, u32max: max, s32min: min, s32max: max,
    tnum: { value: BigInt(t.v), mask: BigInt(t.m) }, id: s.id, delta: s.delta,
  };
}

/** applyView then scalarFrom for a small scalar `s` whose view `o` was refined to `v`. */
function apply(s: Scalar, o: NumView, v: NumView): Scalar | undefined {
  const t = copy(o);
  if (!intersectInto(t, v.v, v.m)) return undefined;
  const lo = Math.max(o.umin, v.umin, v.smin);
  const hi = Math.min(o.umax, v.umax, v.smax);
  if (t.m === 0) {
    // scalarFrom's constant path: the value just has to lie in the range.
    if (lo > t.v || t.v > hi) return undefined;
    const c = scalarConst(BigInt(t.v));
    return s.id === 0 ? c : { ...c, id: s.id, delta: s.delta };
  }
  return settle(s, lo, hi, t);
}

/** assume(cond, w, a, b) for small a and b (isSmall), whatever the width: their views are the same at both. */
export function assumeSmall(cond: Exclude<JmpCond, 'jset'>, a: Scalar, b: Scalar, oa = numView(a), ob = numView(b)): [Scalar, Scalar] | undefined {
  const va = copy(oa);
  const vb = copy(ob);
  if (!refine(cond, va, vb)) return undefined;
  const ra = same(oa, va) ? a : apply(a, oa, va);
  const rb = ra && (same(ob, vb) ? b : apply(b, ob, vb));
  return ra && rb ? [ra, rb] : undefined;
}

/** Both edges of `a cond b` for small a and b: the views are made once for both. */
export function branchSmall(cond: Exclude<JmpCond, 'jset'>, negated: Exclude<JmpCond, 'jset'>, a: Scalar, b: Scalar): {
  taken: [Scalar, Scalar] | undefined; fallthrough: [Scalar, Scalar] | undefined;
} {
  const oa = numView(a);
  const ob = numView(b);
  return { taken: assumeSmall(cond, a, b, oa, ob), fallthrough: assumeSmall(negated, a, b, oa, ob) };
}
