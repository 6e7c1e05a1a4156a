/**
 * Values of global variables and kconfig externs as the host gives them: numbers, bigints and
 * booleans typed through the variable's size and signedness, or raw bytes of its exact size.
 */
import { InputError } from '../errors.js';
import type { KconfigExtern } from './spec.js';

export type VariableValue = number | bigint | boolean | Uint8Array;
export type KconfigValue = VariableValue | string;

interface Typed { readonly name: string; readonly size: number; readonly signed: boolean }

/** `value` as the variable's bytes; numbers must fit its size, signed or unsigned. */
export function encodeValue(v: Typed, value: VariableValue, what = 'variable'): Uint8Array {
  if (value instanceof Uint8Array) {
    if (value.length !== v.size) throw new InputError(`${what} '${v.name}' is ${v.size} bytes, the value given is ${value.length}`);
    return value.slice();
  }
  if (![1, 2, 4, 8].includes(v.size)) throw new InputError(`${what} '${v.name}' is ${v.size} bytes: give its value as a Uint8Array of that size`);
  let n: bigint;
  if (typeof value === 'boolean') n = value ? 1n : 0n;
  else if (typeof value === 'bigint' || (typeof value === 'number' && Number.isInteger(value))) n = BigInt(value);
  else throw new InputError(`${what} '${v.name}': ${String(value)} is not an integer`);
  const bits = BigInt(v.size * 8);
  if (n < -(1n << (bits - 1n)) || n >= 1n << bits) throw new InputError(`${what} '${v.name}': ${n} does not fit its ${v.size} bytes`);
  const out = new Uint8Array(v.size);
  let u = BigInt.asUintN(Number(bits), n);
  for (let i = 0; i < v.size; i++, u >>= 8n) out[i] = Number(u & 0xffn);
  return out;
}

/** The variable's bytes as a value: numbers up to 4 bytes, bigints for 8, the bytes otherwise. */
export function decodeValue(v: Typed, bytes: Uint8Array): number | bigint | Uint8Array {
  if (![1, 2, 4, 8].includes(v.size)) return bytes.slice();
  let u = 0n;
  for (let i = v.size - 1; i >= 0; i--) u = (u << 8n) | BigInt(bytes[i]!);
  const n = v.signed ? BigInt.asIntN(v.size * 8, u) : u;
  return v.size === 8 ? n : Number(n);
}

/** A kconfig answer: as libbpf reads a config, bool and tristate take 'y'/'n'/'m', and strings fill char arrays. */
export function encodeKconfig(e: KconfigExtern, value: KconfigValue): Uint8Array {
  if (typeof value === 'string') {
    const tristate = { y: 1, n: 0, m: 2 } as Record<string, number>;
    if ((e.form === 'bool' || e.form === 'char') && value in tristate) {
      if (e.form === 'bool' && value === 'm') throw new InputError(`.kconfig extern '${e.name}' is a bool: 'm' needs a tristate (char) extern`);
      return encodeValue(e, e.form === 'char' ? value.charCodeAt(0) : tristate[value]!, '.kconfig extern');
    }
    if (e.form === 'bytes') {
      const text = new TextEncoder().encode(value);
      if (text.length >= e.size) throw new InputError(`.kconfig extern '${e.name}': "${value}" does not fit its ${e.size} bytes with the NUL`);
      const out = new Uint8Array(e.size);
      out.set(text);
      return out;
    }
    if (e.form === 'int' && /^-?(0x[0-9a-f]+|\d+)$/i.test(value)) return encodeValue(e, BigInt(value.replace(/^-(.*)$/, '$1')) * (value.startsWith('-') ? -1n : 1n), '.kconfig extern');
    throw new InputError(`.kconfig extern '${e.name}': "${value}" is not a value for a ${e.form}`);
  }
  return encodeValue(e, value, '.kconfig extern');
}
