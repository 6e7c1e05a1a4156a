/**
 * ALU operations on scalars. Each operation works on a "view" of its operands at the instruction's
 * width (the 64-bit bounds, or the 32-bit ones for ALU32), produces the result's bounds at that width,
 * and leaves it to `scalarFrom` to re-derive the other views (ALU32 results are zero-extended, as the
 * ISA says). Constant operands are folded exactly with the ISA's semantics, which also keeps
 * straight-line code cheap to verify.
 */
import type { AluOp, Width } from '../isa/insn.js';
import {
  S32_MAX, S32_MIN, S64_MAX, S64_MIN, SCALAR_UNKNOWN, bmax, bmin, constValue, fullBounds, isConstScalar,
  scalarConst, scalarFrom, unlinked, type Scalar,
} from './scalar.js';
import {
  TNUM_UNKNOWN, U32, tnumAdd, tnumIntersect, tnumRange, tnumAnd, tnumArsh, tnumBswap, tnumCast, tnumLsh, tnumMul, tnumOr, tnumRsh,
  tnumSext, tnumSub, tnumXor, type Tnum,
} from './tnum.js';

/** A scalar's bounds at one width. */
export interface View {
  umin: bigint;
  umax: bigint;
  smin: bigint;
  smax: bigint;
  tnum: Tnum;
}

const LIM = { 32: U32, 64: (1n << 64n) - 1n } as const;
const SMIN = { 32: S32_MIN, 64: S64_MIN } as const;
const SMAX = { 32: S32_MAX, 64: S64_MAX } as const;

const castW = (t: Tnum, w: Width): Tnum => (w === 64 ? t : tnumCast(t, 4));
const signed = (x: bigint, w: Width): bigint => BigInt.asIntN(w, x);
const unsigned = (x: bigint, w: Width): bigint => BigInt.asUintN(w, x);

export function viewOf(s: Scalar, w: Width): View {
  return w === 64
    ? { umin: s.umin, umax: s.umax, smin: s.smin, smax: s.smax, tnum: s.tnum }
    : { umin: s.u32min, umax: s.u32max, smin: s.s32min, smax: s.s32max, tnum: tnumCast(s.tnum, 4) };
}

export function fullView(w: Width): View {
  return { umin: 0n, umax: LIM[w], smin: SMIN[w], smax: SMAX[w], tnum: castW(TNUM_UNKNOWN, w) };
}

/** The scalar a `w`-bit result stands for (32-bit results are zero-extended). */
export function scalarOfView(v: View, w: Width): Scalar {
  const small = smallScalar(v, w);
  if (small) return small;
  const b = fullBounds();
  if (w === 64) {
    b.umin = v.umin; b.umax = v.umax; b.smin = v.smin; b.smax = v.smax; b.tnum = v.tnum;
  } else {
    b.u32min = v.umin; b.u32max = v.umax; b.s32min = v.smin; b.s32max = v.smax; b.tnum = tnumCast(v.tnum, 4);
  }
  // An empty result would be a bug in the transfer functions; degrade to "anything" rather than lie.
  return scalarFrom(b) ?? SCALAR_UNKNOWN;
}

const SMALL = 1n << 31n;

/**
 * Fast path for the common result that is known to be below 2^31: then its unsigned, signed, 64-bit
 * and 32-bit values are all the same number, so one range serves every view and no sync is needed.
 */
function smallScalar(v: View, w: Width): Scalar | undefined {
  if (v.umax >= SMALL || v.smax < 0n) return undefined;
  const t = tnumIntersect(castW(v.tnum, w), tnumRange(bmax(v.umin, v.smin), bmin(v.umax, v.smax)));
  if (!t) return undefined;
  const lo = bmax(bmax(v.umin, v.smin), t.value);
  const hi = bmin(bmin(v.umax, v.smax), t.value | t.mask);
  if (lo > hi) return undefined;
  if (lo === hi) return scalarConst(lo);
  return { t: 'scalar', umin: lo, umax: hi, smin: lo, smax: hi, u32min: lo, u32max: hi, s32min: lo, s32max: hi, tnum: t, id: 0, delta: 0 };
}

/**
 * Bounds of a result known to lie in [lo, hi] before wrapping to `w` bits: still an interval after
 * wrapping when it does not straddle a multiple of 2^w, otherwise anything.
 */
function wrapU(lo: bigint, hi: bigint, w: Width): [bigint, bigint] {
  if (hi - lo > LIM[w]) return [0n, LIM[w]];
  const l = unsigned(lo, w);
  const h = l + (hi - lo);
  return h <= LIM[w] ? [l, h] : [0n, LIM[w]];
}

function wrapS(lo: bigint, hi: bigint, w: Width): [bigint, bigint] {
  if (hi - lo > LIM[w]) return [SMIN[w], SMAX[w]];
  const l = signed(lo, w);
  const h = l + (hi - lo);
  return h <= SMAX[w] ? [l, h] : [SMIN[w], SMAX[w]];
}

function ranged(w: Width, u: [bigint, bigint] | undefined, s: [bigint, bigint] | undefined, tnum?: Tnum): View {
  const v = fullView(w);
  if (u) [v.umin, v.umax] = u;
  if (s) [v.smin, v.smax] = s;
  if (tnum) v.tnum = tnum;
  return v;
}

function add(a: View, b: View, w: Width): View {
  return ranged(w, wrapU(a.umin + b.umin, a.umax + b.umax, w), wrapS(a.smin + b.smin, a.smax + b.smax, w),
    castW(tnumAdd(a.tnum, b.tnum), w));
}

function sub(a: View, b: View, w: Width): View {
  return ranged(w, wrapU(a.umin - b.umax, a.umax - b.umin, w), wrapS(a.smin - b.smax, a.smax - b.smin, w),
    castW(tnumSub(a.tnum, b.tnum), w));
}

function mul(a: View, b: View, w: Width): View {
  const corners = [a.smin * b.smin, a.smin * b.smax, a.smax * b.smin, a.smax * b.smax];
  const lo = corners.reduce(bmin);
  const hi = corners.reduce(bmax);
  return ranged(w, wrapU(a.umin * b.umin, a.umax * b.umax, w), wrapS(lo, hi, w), castW(tnumMul(a.tnum, b.tnum), w));
}

/** x / 0 = 0, so a divisor that may be 0 only widens the result down to 0. */
function div(a: View, b: View, w: Width): View {
  if (b.umin === 0n) return ranged(w, [0n, a.umax], undefined);
  return ranged(w, [a.umin / b.umax, a.umax / b.umin], undefined);
}

/** x % 0 = x; otherwise the remainder is below the divisor and never above the dividend. */
function mod(a: View, b: View, w: Width): View {
  if (b.umin === 0n) return ranged(w, [0n, a.umax], undefined);
  if (a.umax < b.umin) return a;
  return ranged(w, [0n, bmin(a.umax, b.umax - 1n)], undefined);
}

const abs = (x: bigint): bigint => (x < 0n ? -x : x);

/** |x / y| <= |x| (INT_MIN / -1 wraps to INT_MIN, still within [-|x|, |x|] clipped). */
function sdiv(a: View, _b: View, w: Width): View {
  const m = bmax(abs(a.smin), abs(a.smax));
  return ranged(w, undefined, [bmax(-m, SMIN[w]), bmin(m, SMAX[w])]);
}

/** The remainder takes the dividend's sign and is no larger than it, nor than |divisor| - 1. */
function smod(a: View, b: View, w: Width): View {
  let lo = a.smin >= 0n ? 0n : a.smin;
  let hi = a.smax <= 0n ? 0n : a.smax;
  if (b.smin > 0n || b.smax < 0n) {
    const m = bmax(abs(b.smin), abs(b.smax)) - 1n;
    lo = bmax(lo, -m);
    hi = bmin(hi, m);
  }
  return ranged(w, undefined, [lo, hi]);
}

function and(a: View, b: View, w: Width): View {
  const t = tnumAnd(a.tnum, b.tnum);
  const nonNeg = [a, b].filter((x) => x.smin >= 0n).map((x) => x.smax);
  const s: [bigint, bigint] | undefined = nonNeg.length > 0 ? [0n, nonNeg.reduce(bmin)] : undefined;
  return ranged(w, [t.value, bmin(a.umax, b.umax)], s, t);
}

function or(a: View, b: View, w: Width): View {
  const t = tnumOr(a.tnum, b.tnum);
  return ranged(w, [bmax(a.umin, b.umin), t.value | t.mask], undefined, t);
}

const xor = (a: View, b: View, w: Width): View => ranged(w, undefined, undefined, tnumXor(a.tnum, b.tnum));

/** Shift counts are masked to the width (RFC 9669), so only a count known below the width is exact. */
function lsh(a: View, b: View, w: Width): View {
  if (b.umax >= BigInt(w)) return fullView(w);
  const fits = (a.umax << b.umax) <= LIM[w];
  const u: [bigint, bigint] | undefined = fits ? [a.umin << b.umin, a.umax << b.umax] : undefined;
  if (b.umin !== b.umax) return ranged(w, u, undefined);
  const k = Number(b.umin);
  const slo = a.smin << b.umin;
  const shi = a.smax << b.umin;
  const s: [bigint, bigint] | undefined = slo >= SMIN[w] && shi <= SMAX[w] ? [slo, shi] : undefined;
  return ranged(w, u, s, castW(tnumLsh(a.tnum, k), w));
}

function rsh(a: View, b: View, w: Width): View {
  if (b.umax >= BigInt(w)) return ranged(w, [0n, a.umax], undefined);
  const u: [bigint, bigint] = [a.umin >> b.umax, a.umax >> b.umin];
  return ranged(w, u, undefined, b.umin === b.umax ? tnumRsh(a.tnum, Number(b.umin)) : undefined);
}

function arsh(a: View, b: View, w: Width): View {
  if (b.umax >= BigInt(w)) {
    return ranged(w, undefined, [a.smin >= 0n ? 0n : a.smin, a.smax >= 0n ? a.smax : -1n]);
  }
  const lo = a.smin >= 0n ? a.smin >> b.umax : a.smin >> b.umin;
  const hi = a.smax >= 0n ? a.smax >> b.umin : a.smax >> b.umax;
  return ranged(w, undefined, [lo, hi], b.umin === b.umax ? tnumArsh(a.tnum, Number(b.umin), w) : undefined);
}

/** Sign-extends the low `bits` bits of the source into `w` bits. */
function movsx(src: Scalar, bits: 8 | 16 | 32, w: Width): View {
  const full = viewOf(src, bits === 32 ? 32 : 64);
  const span = 1n << BigInt(bits);
  const half = span >> 1n;
  const sameHigh = bits === 32 || full.umin >> BigInt(bits) === full.umax >> BigInt(bits);
  const lo = sameHigh ? full.umin & (span - 1n) : 0n;
  const hi = sameHigh ? full.umax & (span - 1n) : span - 1n;
  let s: [bigint, bigint] = [-half, half - 1n];
  if (hi < half) s = [lo, hi];
  else if (lo >= half) s = [lo - span, hi - span];
  return ranged(w, undefined, s, tnumSext(src.tnum, bits, w));
}

type ViewOp = (a: View, b: View, w: Width) => View;
const VIEW_OPS: Partial<Record<AluOp, ViewOp>> = {
  add, sub, mul, div, mod, sdiv, smod, and, or, xor, lsh, rsh, arsh,
};

/** The ISA's result for constant operands (`x` and `y` are unsigned `w`-bit values). */
export function evalAlu(op: AluOp, w: Width, x: bigint, y: bigint): bigint {
  const sx = signed(x, w);
  const sy = signed(y, w);
  const count = y & BigInt(w - 1);
  switch (op) {
    case 'add': return unsigned(x + y, w);
    case 'sub': return unsigned(x - y, w);
    case 'mul': return unsigned(x * y, w);
    case 'div': return y === 0n ? 0n : x / y;
    case 'sdiv': return y === 0n ? 0n : unsigned(sx / sy, w);
    case 'mod': return y === 0n ? x : x % y;
    case 'smod': return y === 0n ? x : unsigned(sx % sy, w);
    case 'or': return x | y;
    case 'and': return x & y;
    case 'xor': return x ^ y;
    case 'lsh': return unsigned(x << count, w);
    case 'rsh': return x >> count;
    case 'arsh': return unsigned(sx >> count, w);
    case 'neg': return unsigned(-x, w);
    case 'mov': return y;
    case 'movsx8': return unsigned(BigInt.asIntN(8, y), w);
    case 'movsx16': return unsigned(BigInt.asIntN(16, y), w);
    case 'movsx32': return unsigned(BigInt.asIntN(32, y), w);
  }
}

/** dst = dst op src on scalars, at width `w` (for `neg` the source is ignored). */
export function scalarAlu(op: AluOp, w: Width, dst: Scalar, src: Scalar): Scalar {
  const unary = op === 'neg';
  const srcOnly = op === 'mov' || op === 'movsx8' || op === 'movsx16' || op === 'movsx32';
  if ((unary || srcOnly || isConstScalar(dst)) && (unary ? isConstScalar(dst) : isConstScalar(src))) {
    const lim = LIM[w];
    return scalarConst(evalAlu(op, w, constValue(dst) & lim, constValue(src) & lim));
  }
  switch (op) {
    case 'mov': return w === 64 ? src : scalarOfView(viewOf(src, 32), 32);
    case 'movsx8': return scalarOfView(movsx(src, 8, w), w);
    case 'movsx16': return scalarOfView(movsx(src, 16, w), w);
    case 'movsx32': return scalarOfView(movsx(src, 32, w), w);
    case 'neg': return scalarOfView(sub(viewOf(scalarConst(0n), w), viewOf(dst, w), w), w);
    default: {
      const fn = VIEW_OPS[op]!;
      return scalarOfView(fn(viewOf(dst, w), viewOf(src, w), w), w);
    }
  }
}

/** le/be/bswap: truncation to `bits` (a no-op for little-endian values that already fit) or a byte swap. */
export function scalarEnd(order: 'le' | 'be' | 'swap', bits: 16 | 32 | 64, a: Scalar): Scalar {
  if (order === 'le') {
    if (bits === 64 || a.umax < 1n << BigInt(bits)) return unlinked(a);
    return scalarOfView(ranged(64, undefined, undefined, tnumCast(a.tnum, bits === 16 ? 2 : 4)), 64);
  }
  return scalarOfView(ranged(64, undefined, undefined, tnumBswap(a.tnum, bits)), 64);
}
