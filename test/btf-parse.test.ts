/**
 * The BTF parser on clang's output for test/fixtures/btf/types.c (expected values come from the C
 * source: member offsets, sizes, enumerators), and on broken sections, which must give an E_BTF
 * ObjectError naming the offset rather than any other exception.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseBtf } from '../src/btf/parse.js';
import type { BtfTypeOf } from '../src/btf/types.js';
import { ObjectError } from '../src/errors.js';

const bytes = new Uint8Array(readFileSync(join(import.meta.dirname, 'fixtures/btf/types.btf')));
const btf = parseBtf(bytes);

const struct = (name: string): BtfTypeOf<'struct'> => {
  const t = btf.byName(name, 'struct');
  if (t?.kind !== 'struct') throw new Error(`no struct ${name}`);
  return t;
};

function failure(b: Uint8Array): ObjectError {
  try {
    parseBtf(b);
  } catch (e) {
    if (e instanceof ObjectError) return e;
    throw e;
  }
  throw new Error('parsed');
}

describe('parseBtf on clang output', () => {
  it('reads struct members with their offsets and types', () => {
    const ev = struct('event');
    expect(ev.size).toBe(56);
    expect(ev.members.map((m) => [m.name, m.bitOffset / 8])).toEqual([
      ['ts', 0], ['pid', 8], ['comm', 12], ['f', 28], ['ptr', 32], ['color', 40], ['u', 44], ['ratio', 48],
    ]);
    const comm = ev.members[2]!;
    expect(btf.typeName(comm.type)).toBe('char[16]');
    expect(btf.sizeOf(comm.type)).toBe(16);
    expect(btf.typeName(ev.members[4]!.type)).toBe('const volatile int *');
    expect(btf.sizeOf(ev.members[0]!.type)).toBe(8);
    const anonUnion = btf.type(btf.skipModifiers(ev.members[6]!.type));
    expect(anonUnion.kind).toBe('union');
    expect(btf.sizeOf(anonUnion.id)).toBe(4);
  });

  it('reads bitfields', () => {
    const f = struct('flags');
    expect(f.members.map((m) => [m.name, m.bitOffset, m.bitfieldSize])).toEqual([['low', 0, 3], ['high', 3, 5]]);
  });

  // clang 14 leaves kind_flag (signedness) clear, so -2 reads as its unsigned 32-bit pattern.
  it('reads enumerators, unsigned unless kind_flag says signed', () => {
    const color = btf.byName('color', 'enum');
    expect(color?.kind).toBe('enum');
    if (color?.kind !== 'enum') return;
    expect(color.values).toEqual([{ name: 'RED', value: 1n }, { name: 'GREEN', value: color.signed ? -2n : 2n ** 32n - 2n }, { name: 'BLUE', value: 7n }]);
  });

  it('reads typedefs, functions and their prototypes', () => {
    const u64 = btf.byName('u64', 'typedef');
    expect(u64 && btf.sizeOf(u64.id)).toBe(8);
    const handle = btf.byName('handle', 'func');
    if (handle?.kind !== 'func') throw new Error('no func handle');
    const proto = btf.typeOf(handle.type, 'func_proto', 'handle');
    expect(proto.params.map((p) => [p.name, btf.typeName(p.type)])).toEqual([['e', 'struct event *'], ['b', 'enum big']]);
  });

  it('describes each data section and the variables in it', () => {
    const rodata = btf.byName('.rodata', 'datasec');
    if (rodata?.kind !== 'datasec') throw new Error('no .rodata datasec');
    const vars = rodata.vars.map((v) => [btf.type(v.type).name, v.offset, v.size]);
    expect(vars).toEqual([['min_pid', 0, 4]]);
    const counters = btf.byName('.data.counters', 'datasec');
    expect(counters?.kind === 'datasec' && counters.vars.length).toBe(1);
    expect(btf.sizeOf(struct('event').id)).toBe(btf.sizeOf(btf.byName('last', 'var')!.id));
  });
});

describe('parseBtf on broken sections', () => {
  const view = (b: Uint8Array): DataView => new DataView(b.buffer, b.byteOffset, b.byteLength);
  const patched = (f: (b: Uint8Array) => void): Uint8Array => {
    const b = bytes.slice();
    f(b);
    return b;
  };

  it('names the header field it cannot accept', () => {
    expect(failure(bytes.subarray(0, 10))).toMatchObject({ code: 'E_BTF', section: '.BTF', offset: 0 });
    expect(failure(patched((b) => { b[0] = 0; }))).toMatchObject({ offset: 0 });
    expect(failure(patched((b) => { b[2] = 2; }))).toMatchObject({ offset: 2 });
    expect(failure(patched((b) => view(b).setUint32(12, bytes.length, true)))).toMatchObject({ offset: 8 });
    expect(failure(patched((b) => view(b).setUint32(20, bytes.length, true)))).toMatchObject({ offset: 16 });
  });

  it('names the type record that is broken', () => {
    // The first type record starts right after the 24-byte header (type_off 0): an unknown kind in its info word.
    expect(failure(patched((b) => view(b).setUint32(24 + 4, 31 << 24, true)))).toMatchObject({ offset: 28 });
    // A name past the string table.
    expect(failure(patched((b) => view(b).setUint32(24, 0xffffff, true)))).toMatchObject({ offset: 24 });
  });

  it('refuses a reference to a type that does not exist', () => {
    // Find a pointer type and point it past the last type.
    const ptr = btf.types.find((t) => t.kind === 'ptr')!;
    let at = 24;
    for (let id = 1; id < ptr.id; id++) at = nextRecord(bytes, at);
    const e = failure(patched((b) => view(b).setUint32(at + 8, 5000, true)));
    expect(e.code).toBe('E_BTF');
    expect(e.reason).toContain('5000');
  });

  it('answers any corruption with a parsed Btf or an ObjectError', () => {
    fc.assert(fc.property(fc.nat(bytes.length - 1), fc.integer({ min: 0, max: 255 }), fc.nat(bytes.length), (at, value, cut) => {
      const b = bytes.slice(0, Math.max(cut, at + 1));
      b[at] = value;
      try {
        const parsed = parseBtf(b);
        for (const t of parsed.types) parsed.typeName(t.id);
      } catch (e) {
        if (!(e instanceof ObjectError)) throw e;
      }
    }), { numRuns: 2000 });
  });
});

/** The offset of the type record after the one at `at` (enough kinds for the fixture's first types). */
function nextRecord(b: Uint8Array, at: number): number {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const info = v.getUint32(at + 4, true);
  const vlen = info & 0xffff;
  const kind = (info >>> 24) & 0x1f;
  const extra: Record<number, number> = { 1: 4, 3: 12, 4: 12 * vlen, 5: 12 * vlen, 6: 8 * vlen, 13: 8 * vlen, 14: 4, 15: 12 * vlen, 17: 4, 19: 12 * vlen };
  return at + 12 + (extra[kind] ?? 0);
}
