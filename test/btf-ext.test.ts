// .BTF.ext: clang's records read against core.c, larger records than we know, and every malformed
// header, area and record refused with an ObjectError at its byte.
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseBtf } from '../src/btf/parse.js';
import { parseBtfExt } from '../src/btf/ext.js';
import { ObjectError } from '../src/errors.js';

const dir = new URL('./fixtures/core/', import.meta.url);
const read = (name: string): Uint8Array => new Uint8Array(readFileSync(new URL(name, dir)));
const btf = parseBtf(read('core.btf'));
const original = read('core.btf.ext');

/** The raw layout of a .BTF.ext: its areas (func info, line info, CO-RE), each section's name offset and record bytes. */
interface RawArea { recSize: number; sections: Array<{ nameOff: number; records: Uint8Array[] }> }

function split(bytes: Uint8Array): RawArea[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const hdrLen = view.getUint32(4, true);
  return [8, 16, 24].map((at) => {
    const start = hdrLen + view.getUint32(at, true);
    const end = start + view.getUint32(at + 4, true);
    const recSize = view.getUint32(start, true);
    const sections: RawArea['sections'] = [];
    for (let p = start + 4; p < end;) {
      const nameOff = view.getUint32(p, true);
      const count = view.getUint32(p + 4, true);
      p += 8;
      const records = Array.from({ length: count }, (_, i) => bytes.slice(p + i * recSize, p + (i + 1) * recSize));
      p += count * recSize;
      sections.push({ nameOff, records });
    }
    return { recSize, sections };
  });
}

/** Writes areas back, each record padded with `pad` extra bytes (0xee: content a reader must skip). */
function join(areas: RawArea[], pad = 0): Uint8Array {
  const bodies = areas.map((a) => {
    const size = a.recSize + pad;
    const words = [size, ...a.sections.flatMap((s) => [s.nameOff, s.records.length])];
    const out = new Uint8Array(4 + a.sections.reduce((n, s) => n + 8 + s.records.length * size, 0));
    const view = new DataView(out.buffer);
    let p = 0;
    view.setUint32(p, words[0]!, true);
    p += 4;
    for (const s of a.sections) {
      view.setUint32(p, s.nameOff, true);
      view.setUint32(p + 4, s.records.length, true);
      p += 8;
      for (const r of s.records) {
        out.set(r, p);
        out.fill(0xee, p + r.length, p + size);
        p += size;
      }
    }
    return out;
  });
  const header = new Uint8Array(32);
  const view = new DataView(header.buffer);
  view.setUint16(0, 0xeb9f, true);
  header[2] = 1;
  view.setUint32(4, 32, true);
  let off = 0;
  bodies.forEach((b, i) => {
    view.setUint32(8 + i * 8, off, true);
    view.setUint32(12 + i * 8, b.length, true);
    off += b.length;
  });
  const out = new Uint8Array(32 + off);
  out.set(header);
  bodies.reduce((p, b) => (out.set(b, p), p + b.length), 32);
  return out;
}

function refusal(bytes: Uint8Array): ObjectError {
  try {
    parseBtfExt(bytes, btf);
  } catch (e) {
    expect(e).toBeInstanceOf(ObjectError);
    return e as ObjectError;
  }
  throw new Error('expected an ObjectError');
}

/** A copy with a u32 (or u8/u16 by `width`) written at `at`. */
function patched(bytes: Uint8Array, at: number, value: number, width: 1 | 2 | 4 = 4): Uint8Array {
  const copy = bytes.slice();
  const view = new DataView(copy.buffer);
  if (width === 4) view.setUint32(at, value, true);
  else if (width === 2) view.setUint16(at, value, true);
  else copy[at] = value;
  return copy;
}

const ext = parseBtfExt(original, btf);

describe('clang\'s .BTF.ext for core.c', () => {
  it('names each program\'s function, in its own section', () => {
    for (const name of ['read_event', 'fallback', 'missing', 'enum_value', 'type_size', 'bitfields']) {
      const funcs = ext.funcInfo.get(`prog/${name}`)!;
      expect(funcs).toHaveLength(1);
      expect(funcs[0]!.insn).toBe(0);
      expect(btf.type(funcs[0]!.typeId)).toMatchObject({ kind: 'func', name });
    }
  });

  it('reads CO-RE relocations as instruction indexes, access paths and kinds', () => {
    // read_event: r2 = e->ts at insn 0 (member 1), r0 = e->pid at insn 1 (member 0).
    expect(ext.coreRelos.get('prog/read_event')!.map((r) => [r.insn, r.access, r.path, r.kind])).toEqual([
      [0, '0:1', [0, 1], 'field_byte_offset'], [1, '0:0', [0, 0], 'field_byte_offset'],
    ]);
    expect(btf.typeName(ext.coreRelos.get('prog/read_event')![0]!.typeId)).toBe('struct event___local');
    expect(ext.coreRelos.get('prog/enum_value')!.map((r) => r.kind)).toEqual(['enumval_exists', 'enumval_exists', 'enumval_value']);
  });

  it('decodes line and column', () => {
    const first = ext.lineInfo.get('prog/read_event')![0]!;
    expect(first).toMatchObject({ insn: 0, file: './core.c', line: 29 });
    expect(first.text).toContain('return e->pid * 3');
    expect(first.column).toBeGreaterThan(0);
  });

  it('reads records larger than it knows by their record size', () => {
    const raw = split(original);
    expect(join(raw)).toEqual(original); // the test's writer is faithful
    expect(parseBtfExt(join(raw, 8), btf)).toEqual(ext);
  });

  it('reads an old header without the CO-RE area', () => {
    const parsed = parseBtfExt(shiftHeader(patched(original, 4, 24)), btf);
    expect(parsed.coreRelos.size).toBe(0);
    expect(parsed.lineInfo).toEqual(ext.lineInfo);
  });
});

/** The same areas behind a 24-byte header (no CO-RE fields): area offsets count from the header's end. */
function shiftHeader(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(bytes.length - 8);
  out.set(bytes.subarray(0, 24));
  out.set(bytes.subarray(32), 24);
  return out;
}

describe('malformed .BTF.ext', () => {
  const view = new DataView(original.buffer, original.byteOffset, original.byteLength);
  const lineStart = 32 + view.getUint32(16, true);
  const coreStart = 32 + view.getUint32(24, true);
  const funcStart = 32 + view.getUint32(8, true);
  // The first record of each area: after the record size and the first section's name and count.
  const lineRec = lineStart + 12;
  const coreRec = coreStart + 12;
  const funcRec = funcStart + 12;

  it.each([
    ['a short header', original.subarray(0, 20), 0],
    ['a bad magic', patched(original, 0, 0x9feb, 2), 0],
    ['version 2', patched(original, 2, 2, 1), 2],
    ['a header length past the end', patched(original, 4, 0x10000), 4],
    ['a line info area past the end', patched(original, 20, 0x10000), 16],
    ['a line info record size too small', patched(original, lineStart, 8), lineStart],
    ['a section name outside the strings', patched(original, lineStart + 4, 0x100000), lineStart + 4],
    ['too many records for the area', patched(original, lineStart + 8, 1000), lineStart + 8],
    ['an instruction offset not a multiple of 8', patched(original, lineRec, 3), lineRec],
    ['a file name outside the strings', patched(original, lineRec + 4, 0x100000), lineRec + 4],
    ['a func info type that does not exist', patched(original, funcRec + 4, 5000), funcRec + 4],
    ['an unknown relocation kind', patched(original, coreRec + 12, 99), coreRec + 12],
    ['an access string that is not numbers', patched(original, coreRec + 8, 1), coreRec + 8],
  ])('refuses %s at its offset', (_, bytes, offset) => {
    expect(refusal(bytes)).toMatchObject({ code: 'E_BTF', section: '.BTF.ext', offset });
  });

  it('never throws anything but an ObjectError on corrupted or cut bytes', () => {
    fc.assert(fc.property(
      fc.array(fc.tuple(fc.nat(original.length - 1), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 }),
      fc.nat(original.length),
      (changes, cut) => {
        const bytes = original.slice(0, Math.max(cut, original.length - 64));
        for (const [at, value] of changes) if (at < bytes.length) bytes[at] = value;
        try {
          parseBtfExt(bytes, btf);
        } catch (e) {
          expect(e).toBeInstanceOf(ObjectError);
          const err = e as ObjectError;
          expect(err.code).toBe('E_BTF');
          expect(err.offset).toBeGreaterThanOrEqual(0);
          expect(err.offset).toBeLessThanOrEqual(bytes.length);
        }
      },
    ), { numRuns: 2000 });
  });
});
