/**
 * Conditional jumps on scalars: what each edge of `if a <cond> b` teaches about a and b. Both edges
 * are computed by the same code (the untaken edge is the negated condition), and an edge whose
 * refined bounds contradict each other is infeasible: that is how "branch always/never taken" is
 * decided, with no separate case analysis to keep in step.
 */
import type { JmpCond, Width } from '../isa/insn.js';
import { scalarFrom, boundsOf, bmax, bmin, type Scalar } from './scalar.js';
import { viewOf, type View } from './scalar-alu.js';
import { branchSmall, isSmall } from './small-branch.js';
import { U32, U64, tnumEq, tnumIntersect } from './tnum.js';

/** The jump conditions plus the negation of jset. */
export type Cond = JmpCond | 'jnset';

export const NEGATE: Readonly<Record<Cond, Cond>> = {
  jeq: 'jne', jne: 'jeq', jgt: 'jle', jle: 'jgt', jge: 'jlt', jlt: 'jge',
  jsgt: 'jsle', jsle: 'jsgt', jsge: 'jslt', jslt: 'jsge', jset: 'jnset', jnset: 'jset',
};

/** `a cond b` is `b swapped(cond) a`. */
export const SWAP: Readonly<Record<Cond, Cond>> = {
  jeq: 'jeq', jne: 'jne', jgt: 'jlt', jlt: 'jgt', jge: 'jle', jle: 'jge',
  jsgt: 'jslt', jslt: 'jsgt', jsge: 'jsle', jsle: 'jsge', jset: 'jset', jnset: 'jnset',
};

/** The high 32 bits: a 32-bit view knows nothing of them. */
const HIGH = U64 & ~U32;

const copy = (v: View): View => ({ umin: v.umin, umax: v.umax, smin: v.smin, smax: v.smax, tnum: v.tnum });
const isConstView = (v: View): boolean => v.umin === v.umax;
const sameView = (x: View, y: View): boolean => x.umin === y.umin && x.umax === y.umax && x.smin === y.smin
  && x.smax === y.smax && tnumEq(x.tnum, y.tnum);

/** a > b (strict) or a >= b, unsigned. */
function greaterU(a: View, b: View, strict: boolean): void {
  const d = strict ? 1n : 0n;
  a.umin = bmax(a.umin, b.umin + d);
  b.umax = bmin(b.umax, a.umax - d);
}

function greaterS(a: View, b: View, strict: boolean): void {
  const d = strict ? 1n : 0n;
  a.smin = bmax(a.smin, b.smin + d);
  b.smax = bmin(b.smax, a.smax - d);
}

function equal(a: View, b: View): boolean {
  const t = tnumIntersect(a.tnum, b.tnum);
  if (!t) return false;
  a.umin = b.umin = bmax(a.umin, b.umin);
  a.umax = b.umax = bmin(a.umax, b.umax);
  a.smin = b.smin = bmax(a.smin, b.smin);
  a.smax = b.smax = bmin(a.smax, b.smax);
  a.tnum = b.tnum = t;
  return true;
}

/** x != k, for a constant k at an end of x's range, takes that end off. */
function notEnd(x: View, k: View): void {
  if (!isConstView(k)) return;
  if (x.umin === k.umin) x.umin++;
  if (x.umax === k.umin) x.umax--;
  if (x.smin === k.smin) x.smin++;
  if (x.smax === k.smin) x.smax--;
}

/** a != b only teaches something when one side is a constant at an end of the other's range. */
function notEqual(a: View, b: View): void {
  notEnd(a, b);
  notEnd(b, a);
}

const singleBit = (x: bigint): boolean => x !== 0n && (x & (x - 1n)) === 0n;

/** x & k != 0 for a known single-bit k sets that bit in x; false when x has it clear. */
function bitSet(x: View, k: View, lim: bigint): boolean {
  if (k.tnum.mask !== 0n || !singleBit(k.tnum.value)) return true;
  const t = tnumIntersect(x.tnum, { value: k.tnum.value, mask: lim & ~k.tnum.value });
  if (!t) return false;
  x.tnum = t;
  return true;
}

/** a & b != 0: impossible when no bit can be set in both; a known single-bit b sets that bit. */
function bitsSet(a: View, b: View, lim: bigint): boolean {
  if (((a.tnum.value | a.tnum.mask) & (b.tnum.value | b.tnum.mask)) === 0n) return false;
  return bitSet(a, b, lim) && bitSet(b, a, lim);
}

/** x & k == 0 for a known k clears k's bits in x; false when x has one of them set. */
function bitsOff(x: View, k: View, lim: bigint): boolean {
  if (k.tnum.mask !== 0n) return true;
  const t = tnumIntersect(x.tnum, { value: 0n, mask: lim & ~k.tnum.value });
  if (!t) return false;
  x.tnum = t;
  return true;
}

/** a & b == 0: every bit known set in one is known clear in the other. */
function bitsClear(a: View, b: View, lim: bigint): boolean {
  if ((a.tnum.value & b.tnum.value) !== 0n) return false;
  return bitsOff(a, b, lim) && bitsOff(b, a, lim);
}

/** Narrows a and b in place assuming `a cond b`; false when the condition cannot hold. */
function refineViews(cond: Cond, a: View, b: View, w: Width): boolean {
  const lim = w === 64 ? U64 : U32;
  switch (cond) {
    case 'jeq': return equal(a, b);
    case 'jne': notEqual(a, b); return true;
    case 'jgt': greaterU(a, b, true); return true;
    case 'jge': greaterU(a, b, false); return true;
    case 'jlt': greaterU(b, a, true); return true;
    case 'jle': greaterU(b, a, false); return true;
    case 'jsgt': greaterS(a, b, true); return true;
    case 'jsge': greaterS(a, b, false); return true;
    case 'jslt': greaterS(b, a, true); return true;
    case 'jsle': greaterS(b, a, false); return true;
    case 'jset': return bitsSet(a, b, lim);
    case 'jnset': return bitsClear(a, b, lim);
  }
}

/** Writes a refined view back into the scalar it came from; undefined when no value is left. */
export function applyView(s: Scalar, v: View, w: Width): Scalar | undefined {
  const b = boundsOf(s);
  if (w === 64) {
    b.umin = bmax(b.umin, v.umin); b.umax = bmin(b.umax, v.umax);
    b.smin = bmax(b.smin, v.smin); b.smax = bmin(b.smax, v.smax);
    const t = tnumIntersect(b.tnum, v.tnum);
    if (!t) return undefined;
    b.tnum = t;
  } else {
    b.u32min = bmax(b.u32min, v.umin); b.u32max = bmin(b.u32max, v.umax);
    b.s32min = bmax(b.s32min, v.smin); b.s32max = bmin(b.s32max, v.smax);
    const t = tnumIntersect(b.tnum, { value: v.tnum.value, mask: HIGH | v.tnum.mask });
    if (!t) return undefined;
    b.tnum = t;
  }
  return scalarFrom(b, s.id, s.delta);
}

/**
 * What `a cond b` implies for the two operands, or undefined when it cannot hold. `oa` and `ob` are
 * their views at width `w` (left unchanged: both edges of a branch start from them).
 */
export function assume(cond: Cond, w: Width, a: Scalar, b: Scalar, oa = viewOf(a, w), ob = viewOf(b, w)): [Scalar, Scalar] | undefined {
  const va = copy(oa);
  const vb = copy(ob);
  if (!refineViews(cond, va, vb, w)) return undefined;
  // An operand the condition taught nothing (a switch's `!=` edges, mostly) stays as it is.
  const ra = sameView(oa, va) ? a : applyView(a, va, w);
  const rb = ra && (sameView(ob, vb) ? b : applyView(b, vb, w));
  return ra && rb ? [ra, rb] : undefined;
}

export interface ScalarBranch {
  /** Operands on the jump edge, undefined when the jump is never taken. */
  readonly taken: [Scalar, Scalar] | undefined;
  /** Operands on the fall-through edge, undefined when the jump is always taken. */
  readonly fallthrough: [Scalar, Scalar] | undefined;
}

export function branchScalars(cond: JmpCond, w: Width, a: Scalar, b: Scalar): ScalarBranch {
  if (cond !== 'jset' && isSmall(a) && isSmall(b)) return branchSmall(cond, NEGATE[cond] as Exclude<JmpCond, 'jset'>, a, b);
  const oa = viewOf(a, w);
  const ob = viewOf(b, w);
  return { taken: assume(cond, w, a, b, oa, ob), fallthrough: assume(NEGATE[cond], w, a, b, oa, ob) };
}
