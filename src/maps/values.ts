/**
 * Keys and values as the host API takes them: bytes of exactly the map's size, or, for 4- and 8-byte
 * ones, a number or bigint written little-endian (BPF's byte order on every target this runtime has).
 */
import { InputError } from '../errors.js';

export type MapBytes = Uint8Array | number | bigint;

/** The bytes of `x` as a `size`-byte key or value; `where` names the map and what x is, for errors. */
export function toBytes(x: MapBytes, size: number, where: string): Uint8Array {
  if (x instanceof Uint8Array) {
    if (x.length !== size) throw new InputError(`${where} must be ${size} bytes, not ${x.length}`);
    return x;
  }
  if (typeof x !== 'number' && typeof x !== 'bigint') throw new InputError(`${where} must be a Uint8Array, a number or a bigint`);
  if (size !== 4 && size !== 8) throw new InputError(`${where} must be ${size} bytes: a number or bigint only fits a 4- or 8-byte one`);
  if (typeof x === 'number' && !Number.isSafeInteger(x)) throw new InputError(`${where} ${x} is not a safe integer`);
  const v = BigInt(x);
  const bits = BigInt(size * 8);
  // Signed or unsigned: -2^(n-1) .. 2^n - 1, stored as the two's complement bits.
  if (v < -(1n << (bits - 1n)) || v >= 1n << bits) throw new InputError(`${where} ${x} does not fit ${size} bytes`);
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  if (size === 4) view.setUint32(0, Number(BigInt.asUintN(32, v)), true);
  else view.setBigUint64(0, BigInt.asUintN(64, v), true);
  return out;
}

/** A 4- or 8-byte value as an unsigned bigint. */
export function toBigInt(bytes: Uint8Array): bigint {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return bytes.length === 4 ? BigInt(view.getUint32(0, true)) : view.getBigUint64(0, true);
}
