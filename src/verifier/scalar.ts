/**
 * The scalar domain: what the verifier knows about a number in a register or stack slot. Like the
 * Linux verifier it keeps five views of one value and makes them agree after every operation:
 * unsigned and signed 64-bit ranges, unsigned and signed ranges of the low 32 bits, and known bits
 * (a tnum). Each view catches facts the others lose (`x & 0xf0` is a tnum fact, `x < 10` a range
 * fact, `(u32)x < 10` a subregister fact), and `sync` moves what one learns into the others.
 *
 * Scalars are immutable; all bounds are BigInts (64-bit unsigned bounds in [0, 2^64), signed in
 * [-2^63, 2^63), 32-bit ones likewise).
 */
import { TNUM_UNKNOWN, U32, U64, tnumEq, tnumIn, tnumIntersect, tnumRange, type Tnum } from './tnum.js';

export interface Scalar {
  readonly t: 'scalar';
  readonly umin: bigint;
  readonly umax: bigint;
  readonly smin: bigint;
  readonly smax: bigint;
  readonly u32min: bigint;
  readonly u32max: bigint;
  readonly s32min: bigint;
  readonly s32max: bigint;
  readonly tnum: Tnum;
  /**
   * Copies made by `mov` share a non-zero id, so a branch that bounds one bounds all of them
   * (compilers often test a copy and use the original). 0 means "not linked".
   */
  readonly id: number;
  /**
   * A linked copy that had constants added since (`r4 = r3; r4 += 4`) is the shared value plus
   * `delta`, so a bound learned on either moves to the other shifted by the difference.
   */
  readonly delta: number;
}

/** Mutable working copy of the bounds, used while computing a result. */
export type Bounds = { -readonly [K in Exclude<keyof Scalar, 't' | 'id' | 'delta'>]: Scalar[K] };

export const S64_MIN = -(1n << 63n);
export const S64_MAX = (1n << 63n) - 1n;
export const S32_MIN = -(1n << 31n);
export const S32_MAX = (1n << 31n) - 1n;
const SIGN64 = 1n << 63n;
const LOW63 = ~SIGN64 & U64;
const HIGH = U64 & ~U32;

export const toS64 = (x: bigint): bigint => BigInt.asIntN(64, x);
export const toU64 = (x: bigint): bigint => BigInt.asUintN(64, x);
export const toS32 = (x: bigint): bigint => BigInt.asIntN(32, x);
export const toU32 = (x: bigint): bigint => BigInt.asUintN(32, x);
export const bmax = (a: bigint, b: bigint): bigint => (a > b ? a : b);
export const bmin = (a: bigint, b: bigint): bigint => (a < b ? a : b);

export function fullBounds(): Bounds {
  return {
    umin: 0n, umax: U64, smin: S64_MIN, smax: S64_MAX,
    u32min: 0n, u32max: U32, s32min: S32_MIN, s32max: S32_MAX, tnum: TNUM_UNKNOWN,
  };
}

export const SCALAR_UNKNOWN: Scalar = { t: 'scalar', ...fullBounds(), id: 0, delta: 0 };

export function scalarConst(v: bigint): Scalar {
  const u = toU64(v);
  const low = u & U32;
  const s = toS64(u);
  const s32 = toS32(low);
  return {
    t: 'scalar', umin: u, umax: u, smin: s, smax: s, u32min: low, u32max: low, s32min: s32, s32max: s32,
    tnum: { value: u, mask: 0n }, id: 0, delta: 0,
  };
}

export const SCALAR_ZERO = scalarConst(0n);

/**
 * Scalars of the small immediates, made once each: compares and counters use the same few constants
 * again and again. Only a small range, so programs full of distinct large constants neither pay for
 * look-ups that miss nor crowd the others out.
 */
const IMM_LOW = -256;
const IMMEDIATES = new Array<Scalar | undefined>(1280).fill(undefined);

/** The scalar of a 32-bit immediate, sign-extended to 64 bits as the ISA does. */
export function immScalar(imm: number): Scalar {
  const i = imm - IMM_LOW;
  if (i < 0 || i >= IMMEDIATES.length) return scalarConst(BigInt(imm));
  return (IMMEDIATES[i] ??= scalarConst(BigInt(imm)));
}

export const isConstScalar = (s: Scalar): boolean => s.tnum.mask === 0n;
/** The value of a constant scalar (unsigned 64-bit). */
export const constValue = (s: Scalar): bigint => s.tnum.value;

/** Tightens each view with what the tnum knows. */
function fromTnum(b: Bounds): void {
  const { value: v, mask: m } = b.tnum;
  b.umin = bmax(b.umin, v);
  b.umax = bmin(b.umax, v | m);
  b.smin = bmax(b.smin, toS64(v | (m & SIGN64)));
  b.smax = bmin(b.smax, toS64(v | (m & LOW63)));
  const lv = v & U32;
  const lm = m & U32;
  b.u32min = bmax(b.u32min, lv);
  b.u32max = bmin(b.u32max, lv | lm);
  b.s32min = bmax(b.s32min, toS32(lv | (lm & 0x80000000n)));
  b.s32max = bmin(b.s32max, toS32(lv | (lm & 0x7fffffffn)));
}

/** Signed and unsigned ranges agree when the range stays on one side of the sign boundary. */
function crossSign(b: Bounds): void {
  if (b.u32max <= S32_MAX || b.u32min > S32_MAX) {
    b.s32min = bmax(b.s32min, toS32(b.u32min));
    b.s32max = bmin(b.s32max, toS32(b.u32max));
  }
  if (b.s32min >= 0n || b.s32max < 0n) {
    b.u32min = bmax(b.u32min, toU32(b.s32min));
    b.u32max = bmin(b.u32max, toU32(b.s32max));
  }
  if (b.umax <= S64_MAX || b.umin > S64_MAX) {
    b.smin = bmax(b.smin, toS64(b.umin));
    b.smax = bmin(b.smax, toS64(b.umax));
  }
  if (b.smin >= 0n || b.smax < 0n) {
    b.umin = bmax(b.umin, toU64(b.smin));
    b.umax = bmin(b.umax, toU64(b.smax));
  }
}

/**
 * When every value shares its high 32 bits, the low halves form a contiguous range in the same
 * order, so the 64-bit and 32-bit views can tighten each other.
 */
function mixWidths(b: Bounds): void {
  if ((b.umin & HIGH) === (b.umax & HIGH)) {
    const high = b.umin & HIGH;
    b.u32min = bmax(b.u32min, b.umin & U32);
    b.u32max = bmin(b.u32max, b.umax & U32);
    b.umin = bmax(b.umin, high | b.u32min);
    b.umax = bmin(b.umax, high | b.u32max);
  }
  const lo = toU64(b.smin);
  const hi = toU64(b.smax);
  if ((lo & HIGH) === (hi & HIGH)) {
    const high = lo & HIGH;
    b.u32min = bmax(b.u32min, lo & U32);
    b.u32max = bmin(b.u32max, hi & U32);
    b.smin = bmax(b.smin, toS64(high | b.u32min));
    b.smax = bmin(b.smax, toS64(high | b.u32max));
  }
}

function empty(b: Bounds): boolean {
  return b.umin > b.umax || b.smin > b.smax || b.u32min > b.u32max || b.s32min > b.s32max;
}

/** Moves the ranges into the tnum; false when they contradict it. */
function toTnum(b: Bounds): boolean {
  if (empty(b)) return false;
  const wide = tnumIntersect(b.tnum, tnumRange(b.umin, b.umax));
  if (!wide) return false;
  const low = tnumRange(b.u32min, b.u32max);
  const both = tnumIntersect(wide, { value: low.value, mask: HIGH | low.mask });
  if (!both) return false;
  b.tnum = both;
  return true;
}

/**
 * Makes the five views agree (each learns what the others know). Returns false when they contradict
 * each other: no value satisfies them all, e.g. the untaken edge of a branch decided by the ranges.
 */
export function syncBounds(b: Bounds): boolean {
  if (b.umax <= S32_MAX || (b.smin >= 0n && b.smax <= S32_MAX)) return syncSmall(b);
  // Each round can only narrow; stop at a fixed point (usually after one or two rounds).
  for (let round = 0; round < 3; round++) {
    const { umin, umax, smin, smax, u32min, u32max, s32min, s32max, tnum } = b;
    fromTnum(b);
    crossSign(b);
    mixWidths(b);
    crossSign(b);
    if (!toTnum(b)) return false;
    if (umin === b.umin && umax === b.umax && smin === b.smin && smax === b.smax && u32min === b.u32min
      && u32max === b.u32max && s32min === b.s32min && s32max === b.s32max && tnumEq(tnum, b.tnum)) break;
  }
  fromTnum(b);
  return !empty(b);
}


/**
 * syncBounds for a value known to lie in [0, 2^31): its unsigned, signed, 64-bit and 32-bit values
 * are then one number, so the four ranges are one range, and only it and the tnum teach each other,
 * to a fixed point.
 */
function syncSmall(b: Bounds): boolean {
  let lo = bmax(bmax(b.umin, b.smin), bmax(b.u32min, b.s32min));
  let hi = bmin(bmin(b.umax, b.smax), bmin(b.u32max, b.s32max));
  let tnum: Tnum | undefined = b.tnum;
  for (;;) {
    if (lo > hi) return false;
    tnum = tnumIntersect(tnum, tnumRange(lo, hi));
    if (!tnum) return false;
    const l = bmax(lo, tnum.value);
    const h = bmin(hi, tnum.value | tnum.mask);
    if (l === lo && h === hi) break;
    lo = l;
    hi = h;
  }
  b.umin = b.smin = b.u32min = b.s32min = lo;
  b.umax = b.smax = b.u32max = b.s32max = hi;
  b.tnum = tnum;
  return true;
}

/** A scalar from bounds, or undefined when they describe no value. */
export function scalarFrom(b: Bounds, id = 0, delta = 0): Scalar | undefined {
  if (b.tnum.mask === 0n) {
    // Fast path for constants: the value just has to lie in every range.
    const c = scalarConst(b.tnum.value);
    const inside = b.umin <= c.umin && c.umax <= b.umax && b.smin <= c.smin && c.smax <= b.smax
      && b.u32min <= c.u32min && c.u32max <= b.u32max && b.s32min <= c.s32min && c.s32max <= b.s32max;
    if (!inside) return undefined;
    return id === 0 ? c : { ...c, id, delta };
  }
  if (!syncBounds(b)) return undefined;
  return {
    t: 'scalar', umin: b.umin, umax: b.umax, smin: b.smin, smax: b.smax,
    u32min: b.u32min, u32max: b.u32max, s32min: b.s32min, s32max: b.s32max, tnum: b.tnum, id, delta,
  };
}

export function boundsOf(s: Scalar): Bounds {
  return {
    umin: s.umin, umax: s.umax, smin: s.smin, smax: s.smax,
    u32min: s.u32min, u32max: s.u32max, s32min: s.s32min, s32max: s.s32max, tnum: s.tnum,
  };
}

/** Any value in [lo, hi] (unsigned 64-bit). */
export function scalarURange(lo: bigint, hi: bigint): Scalar {
  const b = fullBounds();
  b.umin = lo;
  b.umax = hi;
  return scalarFrom(b) ?? SCALAR_UNKNOWN;
}

/** Any value in [lo, hi] (signed 64-bit). */
export function scalarSRange(lo: bigint, hi: bigint): Scalar {
  const b = fullBounds();
  b.smin = lo;
  b.smax = hi;
  return scalarFrom(b) ?? SCALAR_UNKNOWN;
}

function unknownOfSize(size: 1 | 2 | 4 | 8, signed: boolean): Scalar {
  if (size === 8) return SCALAR_UNKNOWN;
  const bits = BigInt(8 * size);
  return signed ? scalarSRange(-(1n << (bits - 1n)), (1n << (bits - 1n)) - 1n) : scalarURange(0n, (1n << bits) - 1n);
}

/** Computed once: loads are frequent and these values are immutable. */
const LOADED = new Map<number, Scalar>(
  ([1, 2, 4, 8] as const).flatMap((size) => [[size, unknownOfSize(size, false)], [-size, unknownOfSize(size, true)]]),
);

/** Unknown value of a `size`-byte load, zero- or sign-extended. */
export function loadedScalar(size: 1 | 2 | 4 | 8, signed: boolean): Scalar {
  return LOADED.get(signed ? -size : size)!;
}

/** The scalar linked as copy `id` (0: unlinked) that is the shared value plus `delta`. */
export const withLink = (s: Scalar, id: number, delta = 0): Scalar =>
  (s.id === id && s.delta === (id === 0 ? 0 : delta) ? s : { ...s, id, delta: id === 0 ? 0 : delta });

export const unlinked = (s: Scalar): Scalar => withLink(s, 0);

/** True when every value of `cur` is a value of `old`. */
export function scalarSubsumes(old: Scalar, cur: Scalar): boolean {
  return old.umin <= cur.umin && cur.umax <= old.umax && old.smin <= cur.smin && cur.smax <= old.smax
    && old.u32min <= cur.u32min && cur.u32max <= old.u32max && old.s32min <= cur.s32min
    && cur.s32max <= old.s32max && tnumIn(old.tnum, cur.tnum);
}

export function scalarEquals(a: Scalar, b: Scalar): boolean {
  return a.umin === b.umin && a.umax === b.umax && a.smin === b.smin && a.smax === b.smax
    && a.u32min === b.u32min && a.u32max === b.u32max && a.s32min === b.s32min && a.s32max === b.s32max
    && tnumEq(a.tnum, b.tnum);
}

export const isUnknownScalar = (s: Scalar): boolean => s.tnum.mask === U64 && s.umin === 0n && s.umax === U64
  && s.smin === S64_MIN && s.smax === S64_MAX;

const hex = (x: bigint): string => (x < 0n ? '-0x' + (-x).toString(16) : '0x' + x.toString(16));
const num = (x: bigint): string => (x > -1024n && x < 1024n ? String(x) : hex(x));

/**
 * Kernel-log style: a constant prints as its signed value, anything else as the bounds that say
 * something (unsigned ones for values known non-negative, signed ones otherwise) and the known bits
 * when they say more than the range.
 */
export function formatScalar(s: Scalar): string {
  if (isConstScalar(s)) return num(toS64(constValue(s)));
  const parts: string[] = [];
  if (s.smin >= 0n) {
    if (s.umin !== 0n) parts.push(`umin=${num(s.umin)}`);
    if (s.umax !== S64_MAX) parts.push(`umax=${num(s.umax)}`);
    else if (s.umin === 0n) parts.push('smin=0');
  } else {
    if (s.smin !== S64_MIN) parts.push(`smin=${num(s.smin)}`);
    if (s.smax !== S64_MAX) parts.push(`smax=${num(s.smax)}`);
    if (s.umin !== 0n) parts.push(`umin=${num(s.umin)}`);
    if (s.umax !== U64) parts.push(`umax=${num(s.umax)}`);
  }
  if (s.umax > U32) {
    if (s.u32min !== 0n) parts.push(`umin32=${num(s.u32min)}`);
    if (s.u32max !== U32) parts.push(`umax32=${num(s.u32max)}`);
  }
  if (s.tnum.mask !== U64 && tnumRange(s.umin, s.umax).mask !== s.tnum.mask) {
    parts.push(`var_off=(${hex(s.tnum.value)}; ${hex(s.tnum.mask)})`);
  }
  if (s.id !== 0) parts.push(s.delta === 0 ? `id=${s.id}` : `id=${s.id}${s.delta < 0 ? '' : '+'}${s.delta}`);
  return `scalar(${parts.join(',')})`;
}
