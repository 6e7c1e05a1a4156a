/**
 * Tristate numbers ("tnums"): what is known about each bit of a 64-bit value. A bit is known 0, known 1
 * or unknown; `mask` has a 1 for every unknown bit and `value` holds the known ones (value & mask = 0).
 * The arithmetic below over-approximates: every concrete result of the operation on members of the
 * input tnums is a member of the output tnum. Values are unsigned 64-bit BigInts.
 *
 * The formulas are the standard ones from "Sound, Precise, and Fast Abstract Interpretation with
 * Tristate Numbers" (Vishwanathan et al., CGO 2022), which the Linux verifier also uses.
 */

export interface Tnum {
  readonly value: bigint;
  readonly mask: bigint;
}

export const U64 = (1n << 64n) - 1n;
export const U32 = (1n << 32n) - 1n;

export const tnumConst = (value: bigint): Tnum => ({ value: value & U64, mask: 0n });
export const TNUM_UNKNOWN: Tnum = { value: 0n, mask: U64 };

export const isConst = (a: Tnum): boolean => a.mask === 0n;

/** Number of bits needed to write x, for 0 <= x < 2^64 (0 for 0). */
function bitLength(x: bigint): number {
  const hi = Number(x >> 32n);
  return hi !== 0 ? 64 - Math.clz32(hi) : 32 - Math.clz32(Number(x & 0xffffffffn));
}

/** The smallest tnum holding every value in [min, max] (unsigned). */
export function tnumRange(min: bigint, max: bigint): Tnum {
  const bits = bitLength(min ^ max);
  if (bits > 63) return TNUM_UNKNOWN;
  const delta = (1n << BigInt(bits)) - 1n;
  return { value: min & ~delta & U64, mask: delta };
}

export function tnumAdd(a: Tnum, b: Tnum): Tnum {
  const sm = a.mask + b.mask;
  const sv = a.value + b.value;
  const chi = ((sm + sv) ^ sv) & U64;
  const mu = chi | a.mask | b.mask;
  return { value: sv & ~mu & U64, mask: mu };
}

export function tnumSub(a: Tnum, b: Tnum): Tnum {
  const dv = (a.value - b.value) & U64;
  const alpha = (dv + a.mask) & U64;
  const beta = (dv - b.mask) & U64;
  const mu = (alpha ^ beta) | a.mask | b.mask;
  return { value: dv & ~mu & U64, mask: mu };
}

export function tnumAnd(a: Tnum, b: Tnum): Tnum {
  const alpha = a.value | a.mask;
  const beta = b.value | b.mask;
  const v = a.value & b.value;
  return { value: v, mask: alpha & beta & ~v & U64 };
}

export function tnumOr(a: Tnum, b: Tnum): Tnum {
  const v = a.value | b.value;
  return { value: v, mask: (a.mask | b.mask) & ~v & U64 };
}

export function tnumXor(a: Tnum, b: Tnum): Tnum {
  const mu = a.mask | b.mask;
  return { value: (a.value ^ b.value) & ~mu & U64, mask: mu };
}

export const tnumLsh = (a: Tnum, k: number): Tnum =>
  ({ value: (a.value << BigInt(k)) & U64, mask: (a.mask << BigInt(k)) & U64 });

export const tnumRsh = (a: Tnum, k: number): Tnum =>
  ({ value: a.value >> BigInt(k), mask: a.mask >> BigInt(k) });

/** Arithmetic shift right of a `width`-bit value (the result is truncated to `width` bits). */
export function tnumArsh(a: Tnum, k: number, width: 32 | 64): Tnum {
  const w = BigInt(width);
  const lim = (1n << w) - 1n;
  const sext = (x: bigint): bigint => BigInt.asIntN(width, x & lim) >> BigInt(k);
  return { value: sext(a.value) & lim, mask: sext(a.mask) & lim };
}

/**
 * Multiplication as a sum of shifted partial products: each bit of `a` that is known 1 adds `b`'s
 * unknown bits, each unknown bit of `a` may add all of `b`'s possibly-set bits.
 */
export function tnumMul(a: Tnum, b: Tnum): Tnum {
  const accV = (a.value * b.value) & U64;
  if (a.mask === 0n && b.mask === 0n) return { value: accV, mask: 0n };
  let accM: Tnum = { value: 0n, mask: 0n };
  // One partial product per possibly-set bit of x: walk the operand with fewer of them (the sum is the same set either way).
  const swap = bitLength(b.value | b.mask) < bitLength(a.value | a.mask);
  let x = swap ? b : a;
  let y = swap ? a : b;
  while (x.value !== 0n || x.mask !== 0n) {
    if ((x.value & 1n) !== 0n) accM = tnumAdd(accM, { value: 0n, mask: y.mask });
    else if ((x.mask & 1n) !== 0n) accM = tnumAdd(accM, { value: 0n, mask: y.value | y.mask });
    x = tnumRsh(x, 1);
    y = tnumLsh(y, 1);
  }
  return tnumAdd({ value: accV, mask: 0n }, accM);
}

/** Bits known in either; undefined when the two disagree on a known bit (no value is in both). */
export function tnumIntersect(a: Tnum, b: Tnum): Tnum | undefined {
  if (((a.value ^ b.value) & ~(a.mask | b.mask) & U64) !== 0n) return undefined;
  const v = a.value | b.value;
  const mu = a.mask & b.mask;
  return { value: v & ~mu & U64, mask: mu };
}

/** Keeps the low `bytes` bytes (the others become known 0). */
export function tnumCast(a: Tnum, bytes: 1 | 2 | 4 | 8): Tnum {
  if (bytes === 8) return a;
  const lim = (1n << BigInt(bytes * 8)) - 1n;
  return { value: a.value & lim, mask: a.mask & lim };
}

/** True when every member of b is a member of a. */
export const tnumIn = (a: Tnum, b: Tnum): boolean =>
  (b.mask & ~a.mask & U64) === 0n && a.value === (b.value & ~a.mask & U64);

export const tnumEq = (a: Tnum, b: Tnum): boolean => a.value === b.value && a.mask === b.mask;

/** Replaces the low 32 bits of a with those of low (the high bits of a are kept). */
export const tnumWithLow32 = (a: Tnum, low: Tnum): Tnum =>
  ({ value: (a.value & ~U32 & U64) | (low.value & U32), mask: (a.mask & ~U32 & U64) | (low.mask & U32) });

/** Reverses the byte order of the low `bits` bits; value and mask swap independently, exactly. */
export function tnumBswap(a: Tnum, bits: 16 | 32 | 64): Tnum {
  const swap = (x: bigint): bigint => {
    let out = 0n;
    for (let i = 0; i < bits / 8; i++) out = (out << 8n) | ((x >> BigInt(8 * i)) & 0xffn);
    return out;
  };
  return { value: swap(a.value), mask: swap(a.mask) };
}

/** Sign-extends the low `bits` bits to `width` bits. */
export function tnumSext(a: Tnum, bits: 8 | 16 | 32, width: 32 | 64): Tnum {
  const lim = (1n << BigInt(width)) - 1n;
  const ext = (x: bigint): bigint => BigInt.asIntN(bits, x) & lim;
  const low = (1n << BigInt(bits)) - 1n;
  const sign = 1n << BigInt(bits - 1);
  if ((a.mask & sign) === 0n) return { value: ext(a.value & low), mask: a.mask & low };
  // Unknown sign bit: every bit above it is unknown too.
  return { value: a.value & (sign - 1n), mask: ((a.mask & low) | (lim & ~low)) & lim };
}

export function formatTnum(a: Tnum): string {
  return `(0x${a.value.toString(16)}; 0x${a.mask.toString(16)})`;
}
