/**
 * Map keys and values shown through their BTF type (for `--dump-maps`): structs and unions with field
 * names, arrays, char arrays as strings, integers signed or unsigned, enums by name, bitfields,
 * pointers in hex. Each value comes as text (`{pid: 7, comm: "bash", state: RUNNING}`) and as plain
 * JSON data (integers beyond 2^53 as decimal strings, so nothing is rounded).
 */
import { InputError } from '../errors.js';
import type { Btf } from './btf.js';
import type { BtfType, BtfTypeOf } from './types.js';

export type ValueJson = number | string | boolean | null | ValueJson[] | { [name: string]: ValueJson };

export interface FormattedValue {
  readonly text: string;
  readonly json: ValueJson;
}

const MAX_DEPTH = 32;

/** Bits [bitOffset, bitOffset + bits) of `bytes`, little-endian, as an unsigned number. */
function readBits(bytes: Uint8Array, bitOffset: number, bits: number): bigint {
  let value = 0n;
  const first = bitOffset >> 3;
  const last = (bitOffset + bits - 1) >> 3;
  for (let i = last; i >= first; i--) value = (value << 8n) | BigInt(bytes[i] ?? 0);
  return (value >> BigInt(bitOffset & 7)) & ((1n << BigInt(bits)) - 1n);
}

const integer = (v: bigint): FormattedValue =>
  ({ text: v.toString(), json: Number.isSafeInteger(Number(v)) ? Number(v) : v.toString() });

const hex = (v: bigint): FormattedValue => ({ text: `0x${v.toString(16)}`, json: `0x${v.toString(16)}` });

function intValue(t: BtfTypeOf<'int'>, bytes: Uint8Array, bitOffset: number, bits: number): FormattedValue {
  const raw = readBits(bytes, bitOffset, bits);
  if (t.bool) return { text: String(raw !== 0n), json: raw !== 0n };
  return integer(t.signed ? BigInt.asIntN(bits, raw) : raw);
}

function enumValue(t: BtfTypeOf<'enum'> | BtfTypeOf<'enum64'>, bytes: Uint8Array, bitOffset: number, bits: number): FormattedValue {
  const raw = readBits(bytes, bitOffset, bits);
  const value = t.signed ? BigInt.asIntN(bits, raw) : raw;
  const named = t.values.find((v) => BigInt.asUintN(bits, v.value) === raw);
  return named ? { text: named.name, json: named.name } : integer(value);
}

function floatValue(size: number, bytes: Uint8Array, byteOffset: number): FormattedValue {
  const view = new DataView(bytes.buffer, bytes.byteOffset + byteOffset, size);
  const v = size === 4 ? view.getFloat32(0, true) : view.getFloat64(0, true);
  return { text: String(v), json: Number.isFinite(v) ? v + 0 : String(v) }; // + 0: JSON has no -0
}

const isCharLike = (t: BtfType): boolean => t.kind === 'int' && t.size === 1 && (t.char || t.name.includes('char'));

/** A char array: the text up to its first NUL. */
function charString(bytes: Uint8Array, byteOffset: number, length: number): FormattedValue {
  const chars = bytes.subarray(byteOffset, byteOffset + length);
  const end = chars.indexOf(0);
  const s = new TextDecoder('utf-8', { fatal: false }).decode(end < 0 ? chars : chars.subarray(0, end));
  return { text: JSON.stringify(s), json: s };
}

class ValueFormatter {
  constructor(private readonly btf: Btf, private readonly bytes: Uint8Array) {}

  /** The value of type `id` at `bitOffset`; `bits` > 0 for a bitfield. */
  value(id: number, bitOffset: number, bits: number, depth: number): FormattedValue {
    const t = this.btf.type(this.btf.skipModifiers(id));
    if (depth > MAX_DEPTH) return { text: '...', json: null };
    const byteOffset = bitOffset >> 3;
    switch (t.kind) {
      case 'int': return intValue(t, this.bytes, bitOffset + t.bitOffset, bits || t.bits);
      case 'enum': case 'enum64': return enumValue(t, this.bytes, bitOffset, bits || t.size * 8);
      case 'ptr': return hex(readBits(this.bytes, bitOffset, 64));
      case 'float': return t.size === 4 || t.size === 8 ? floatValue(t.size, this.bytes, byteOffset) : this.raw(byteOffset, t.size);
      case 'array': return this.array(t, bitOffset, depth);
      case 'struct': case 'union': return this.composite(t, bitOffset, depth);
      default: return this.raw(byteOffset, 0);
    }
  }

  private raw(byteOffset: number, size: number): FormattedValue {
    const text = [...this.bytes.subarray(byteOffset, byteOffset + size)].map((b) => b.toString(16).padStart(2, '0')).join(' ');
    return { text: `<${text}>`, json: text };
  }

  private array(t: BtfTypeOf<'array'>, bitOffset: number, depth: number): FormattedValue {
    const elem = this.btf.type(this.btf.skipModifiers(t.type));
    if (isCharLike(elem)) return charString(this.bytes, bitOffset >> 3, t.nelems);
    const stride = this.btf.sizeOf(elem.id) * 8;
    const items = Array.from({ length: t.nelems }, (_, i) => this.value(elem.id, bitOffset + i * stride, 0, depth + 1));
    return { text: `[${items.map((v) => v.text).join(', ')}]`, json: items.map((v) => v.json) };
  }

  /** Members by name; an anonymous struct or union member's fields appear as the parent's, as in C. */
  private fields(t: BtfTypeOf<'struct'> | BtfTypeOf<'union'>, bitOffset: number, depth: number): Array<[string, FormattedValue]> {
    return t.members.flatMap((m): Array<[string, FormattedValue]> => {
      const inner = this.btf.type(this.btf.skipModifiers(m.type));
      if (m.name === '' && (inner.kind === 'struct' || inner.kind === 'union')) return this.fields(inner, bitOffset + m.bitOffset, depth + 1);
      return [[m.name || '(anon)', this.value(m.type, bitOffset + m.bitOffset, m.bitfieldSize, depth + 1)]];
    });
  }

  private composite(t: BtfTypeOf<'struct'> | BtfTypeOf<'union'>, bitOffset: number, depth: number): FormattedValue {
    const fields = this.fields(t, bitOffset, depth);
    return {
      text: `{${fields.map(([name, v]) => `${name}: ${v.text}`).join(', ')}}`,
      json: Object.fromEntries(fields.map(([name, v]) => [name, v.json])),
    };
  }
}

/** `bytes` as a value of BTF type `typeId`; fewer bytes than the type's size is an InputError. */
export function formatValue(btf: Btf, typeId: number, bytes: Uint8Array): FormattedValue {
  const size = btf.sizeOf(typeId);
  if (bytes.length < size) {
    throw new InputError(`${bytes.length} bytes cannot hold a ${btf.typeName(typeId)}, which takes ${size}`);
  }
  return new ValueFormatter(btf, bytes).value(typeId, 0, 0, 0);
}
