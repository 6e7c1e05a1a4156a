/**
 * 64-bit arithmetic on registers held as (lo, hi) int32 pairs in one Int32Array: `d` and `s` are the
 * slot indices of the low halves. Common cases stay in plain numbers; BigInt is only the fallback for
 * 64-bit division and modulo of values that do not fit 32 bits.
 */

const TWO32 = 4294967296;

export function toU64(R: Int32Array, at: number): bigint {
  return (BigInt(R[at + 1]! >>> 0) << 32n) | BigInt(R[at]! >>> 0);
}

export function fromU64(R: Int32Array, at: number, value: bigint): void {
  R[at] = Number(value & 0xffffffffn);
  R[at + 1] = Number((value >> 32n) & 0xffffffffn);
}

/** Low 64 bits of the product, from 16-bit pieces of the low words (every partial product is exact). */
export function mul64(R: Int32Array, d: number, s: number): void {
  const al = R[d]! >>> 0, ah = R[d + 1]!, bl = R[s]! >>> 0, bh = R[s + 1]!;
  const a0 = al & 0xffff, a1 = al >>> 16, b0 = bl & 0xffff, b1 = bl >>> 16;
  const mid = a1 * b0 + a0 * b1;
  const low = a0 * b0 + (mid % 65536) * 65536;
  const high = a1 * b1 + Math.floor(mid / 65536) + (low >= TWO32 ? 1 : 0);
  R[d] = low;
  R[d + 1] = (high + Math.imul(ah, bl) + Math.imul(al, bh)) | 0;
}

/** Unsigned division; x / 0 = 0. */
export function div64(R: Int32Array, d: number, s: number): void {
  const bl = R[s]! >>> 0, bh = R[s + 1]!;
  if (bh === 0 && R[d + 1] === 0) {
    R[d] = bl === 0 ? 0 : (R[d]! >>> 0) / bl;
    return;
  }
  if (bh === 0 && bl === 0) {
    R[d] = 0;
    R[d + 1] = 0;
    return;
  }
  fromU64(R, d, toU64(R, d) / toU64(R, s));
}

/** Unsigned modulo; x % 0 = x. */
export function mod64(R: Int32Array, d: number, s: number): void {
  const bl = R[s]! >>> 0, bh = R[s + 1]!;
  if (bh === 0 && bl === 0) return;
  if (bh === 0 && R[d + 1] === 0) {
    R[d] = (R[d]! >>> 0) % bl;
    return;
  }
  fromU64(R, d, toU64(R, d) % toU64(R, s));
}

const fitsInt32 = (R: Int32Array, at: number): boolean => R[at + 1] === R[at]! >> 31;

function setSigned(R: Int32Array, d: number, value: number): void {
  R[d] = value;
  R[d + 1] = value < 0 ? -1 : 0;
}

const toI64 = (R: Int32Array, at: number): bigint => BigInt.asIntN(64, toU64(R, at));

/** Signed division truncating toward zero; x / 0 = 0, INT64_MIN / -1 = INT64_MIN. */
export function sdiv64(R: Int32Array, d: number, s: number): void {
  if (R[s] === 0 && R[s + 1] === 0) {
    R[d] = 0;
    R[d + 1] = 0;
    return;
  }
  if (fitsInt32(R, d) && fitsInt32(R, s)) {
    setSigned(R, d, Math.trunc(R[d]! / R[s]!));
    return;
  }
  fromU64(R, d, BigInt.asUintN(64, toI64(R, d) / toI64(R, s)));
}

/** Signed modulo, sign of the dividend; x % 0 = x, INT64_MIN % -1 = 0. */
export function smod64(R: Int32Array, d: number, s: number): void {
  if (R[s] === 0 && R[s + 1] === 0) return;
  if (fitsInt32(R, d) && fitsInt32(R, s)) {
    setSigned(R, d, R[d]! % R[s]! | 0);
    return;
  }
  fromU64(R, d, BigInt.asUintN(64, toI64(R, d) % toI64(R, s)));
}

export function lsh64(R: Int32Array, d: number, n: number): void {
  if (n === 0) return;
  const lo = R[d]!, hi = R[d + 1]!;
  if (n < 32) {
    R[d + 1] = (hi << n) | (lo >>> (32 - n));
    R[d] = lo << n;
  } else {
    R[d + 1] = lo << (n - 32);
    R[d] = 0;
  }
}

export function rsh64(R: Int32Array, d: number, n: number): void {
  if (n === 0) return;
  const lo = R[d]!, hi = R[d + 1]!;
  if (n < 32) {
    R[d] = (lo >>> n) | (hi << (32 - n));
    R[d + 1] = hi >>> n;
  } else {
    R[d] = hi >>> (n - 32);
    R[d + 1] = 0;
  }
}

export function arsh64(R: Int32Array, d: number, n: number): void {
  if (n === 0) return;
  const lo = R[d]!, hi = R[d + 1]!;
  if (n < 32) {
    R[d] = (lo >>> n) | (hi << (32 - n));
    R[d + 1] = hi >> n;
  } else {
    R[d] = hi >> (n - 32);
    R[d + 1] = hi >> 31;
  }
}

export const bswap32 = (v: number): number =>
  ((v & 0xff) << 24) | ((v & 0xff00) << 8) | ((v >>> 8) & 0xff00) | (v >>> 24);

export const bswap16 = (v: number): number => ((v & 0xff) << 8) | ((v >>> 8) & 0xff);

/** True when the unsigned 64-bit value at a is greater than the one at b. */
export function ugt64(R: Int32Array, a: number, b: number): boolean {
  const ah = R[a + 1]!, bh = R[b + 1]!;
  return ah === bh ? (R[a]! >>> 0) > (R[b]! >>> 0) : (ah >>> 0) > (bh >>> 0);
}

/** True when the signed 64-bit value at a is greater than the one at b. */
export function sgt64(R: Int32Array, a: number, b: number): boolean {
  const ah = R[a + 1]!, bh = R[b + 1]!;
  return ah === bh ? (R[a]! >>> 0) > (R[b]! >>> 0) : ah > bh;
}
