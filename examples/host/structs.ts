/**
 * The examples' events as the host lays them out: a struct named in the object's BTF (examples/events.h),
 * filled field by field through the offsets and sizes BTF gives, so the host and the C program agree
 * on one description of the layout.
 */
import type { Btf } from '../../src/btf/btf.js';
import { formatValue, type ValueJson } from '../../src/btf/format-value.js';
import { InputError } from '../../src/errors.js';

export type FieldValue = number | bigint | string;

/** One struct type of the BTF: its size and a writer of its fields. */
export class StructLayout {
  readonly size: number;
  readonly typeId: number;
  private readonly fields: Map<string, { offset: number; size: number; array: boolean }>;

  constructor(private readonly btf: Btf, readonly name: string) {
    const t = btf.byName(name, 'struct');
    if (t?.kind !== 'struct') throw new InputError(`the object's BTF has no struct ${name}`);
    this.typeId = t.id;
    this.size = t.size;
    this.fields = new Map(t.members.map((m) => {
      const type = btf.type(btf.skipModifiers(m.type));
      return [m.name, { offset: m.bitOffset / 8, size: btf.sizeOf(m.type), array: type.kind === 'array' }];
    }));
  }

  /** The struct's bytes with `values` written in (integers little-endian, strings NUL-padded); the rest zero. */
  encode(values: Readonly<Record<string, FieldValue>>, out = new Uint8Array(this.size)): Uint8Array {
    const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
    for (const [name, value] of Object.entries(values)) {
      const f = this.fields.get(name);
      if (!f) throw new InputError(`struct ${this.name} has no field ${name}`);
      if (typeof value === 'string') {
        const bytes = new TextEncoder().encode(value).subarray(0, f.size - 1);
        out.fill(0, f.offset, f.offset + f.size);
        out.set(bytes, f.offset);
      } else if (f.size === 8) {
        view.setBigUint64(f.offset, BigInt.asUintN(64, BigInt(value)), true);
      } else {
        const n = Number(value);
        if (f.size === 4) view.setUint32(f.offset, n >>> 0, true);
        else if (f.size === 2) view.setUint16(f.offset, n & 0xffff, true);
        else view.setUint8(f.offset, n & 0xff);
      }
    }
    return out;
  }

  /** The struct's fields by name, as formatValue reads them (char arrays as strings). */
  decode(bytes: Uint8Array): Record<string, ValueJson> {
    return formatValue(this.btf, this.typeId, bytes).json as Record<string, ValueJson>;
  }
}
