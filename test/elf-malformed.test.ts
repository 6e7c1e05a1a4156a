/**
 * Malformed objects: each defect is an ObjectError (E_ELF) naming the section ('' for the file
 * header) and the byte offset inside it, never a RangeError or TypeError from reading the bytes.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ObjectError, parseObject } from '../src/index.js';
import { corrupt, fixture, rawSections, section } from './elf-helpers.js';

/** The ObjectError parsing `bytes` throws. */
function refusal(bytes: Uint8Array): ObjectError {
  try {
    parseObject(bytes);
  } catch (e) {
    expect(e).toBeInstanceOf(ObjectError);
    return e as ObjectError;
  }
  throw new Error('parsed a malformed object');
}

const globals = fixture('globals');
const rel = section(globals, '.relxdp');
/** Entry i of .relxdp (6 entries: events, table, scale, offset, last, .rodata.str1.1). */
const entry = (i: number): number => rel.offset + 16 * i;

describe('malformed ELF headers', () => {
  it.each([
    ['truncated header', globals.slice(0, 40), 40, /truncated/],
    ['bad magic', corrupt(globals, (v) => v.setUint8(1, 0)), 0, /magic/],
    ['32-bit class', corrupt(globals, (v) => v.setUint8(4, 1)), 4, /class/],
    ['big-endian data', corrupt(globals, (v) => v.setUint8(5, 2)), 5, /little-endian/],
    ['ELF version', corrupt(globals, (v) => v.setUint8(6, 0)), 6, /version/],
    ['executable type', corrupt(globals, (v) => v.setUint16(16, 2, true)), 16, /ET_REL/],
    ['x86-64 machine', corrupt(globals, (v) => v.setUint16(18, 62, true)), 18, /EM_BPF/],
    ['section headers past the end', corrupt(globals, (v, b) => v.setBigUint64(40, BigInt(b.length - 32), true)), 40, /outside the file/],
    ['too many section headers', corrupt(globals, (v) => v.setUint16(60, 200, true)), 60, /outside the file/],
    ['section name table index', corrupt(globals, (v) => v.setUint16(62, 99, true)), 62, /name table/],
  ] as const)('%s', (_what, bytes, offset, reason) => {
    const err = refusal(bytes);
    expect(err).toMatchObject({ code: 'E_ELF', section: '', offset });
    expect(err.reason).toMatch(reason);
  });
});

describe('malformed sections and symbols', () => {
  it('a section whose contents lie outside the file', () => {
    const s = section(globals, '.data');
    const err = refusal(corrupt(globals, (v) => v.setBigUint64(s.header + 24, 1n << 40n, true)));
    expect(err).toMatchObject({ code: 'E_ELF', section: '.data', offset: 24 });
  });

  it('a section name outside the name table', () => {
    const s = section(globals, '.data');
    const err = refusal(corrupt(globals, (v) => v.setUint32(s.header, 0x7fffffff, true)));
    expect(err).toMatchObject({ code: 'E_ELF', section: `#${s.index}`, offset: 0 });
    expect(err.reason).toMatch(/string index/);
  });

  it('a symbol name outside the string table', () => {
    const symtab = section(globals, '.symtab');
    const err = refusal(corrupt(globals, (v) => v.setUint32(symtab.offset + 24 * 12, 0x7fffffff, true)));
    expect(err).toMatchObject({ code: 'E_ELF', section: '.symtab', offset: 24 * 12 });
  });

  it('a symbol in a section that does not exist', () => {
    const symtab = section(globals, '.symtab');
    const err = refusal(corrupt(globals, (v) => v.setUint16(symtab.offset + 24 * 13 + 6, 500, true)));
    expect(err).toMatchObject({ code: 'E_ELF', section: '.symtab', offset: 24 * 13 + 6 });
  });

  it('a .bss larger than a map value (the loader would allocate its zeros)', () => {
    const bss = section(globals, '.bss');
    const err = refusal(corrupt(globals, (v) => v.setBigUint64(bss.header + 32, 1n << 32n, true)));
    expect(err).toMatchObject({ code: 'E_ELF', section: '.bss', offset: 0 });
  });

  it('code that is not a whole number of instructions', () => {
    const xdp = section(globals, 'xdp');
    const err = refusal(corrupt(globals, (v) => v.setBigUint64(xdp.header + 32, BigInt(xdp.size - 4), true)));
    expect(err).toMatchObject({ code: 'E_ELF', section: 'xdp' });
  });
});

describe('malformed relocations', () => {
  it.each([
    ['an unknown relocation type', (v: DataView) => v.setUint32(entry(2) + 8, 7, true), 2 * 16, /relocation type 7/],
    ['a relocation off an instruction boundary', (v: DataView) => v.setBigUint64(entry(1), 0x4cn, true), 16, /instruction boundary/],
    ['a relocation past the section', (v: DataView) => v.setBigUint64(entry(1), 0x1000n, true), 16, /outside xdp/],
    ['a relocation on an instruction that is no lddw', (v: DataView) => v.setBigUint64(entry(0), 0n, true), 0, /not a plain lddw/],
    ['a relocation naming no symbol', (v: DataView) => v.setUint32(entry(3) + 12, 999, true), 3 * 16, /symbol 999/],
    ['a second relocation of one instruction', (v: DataView) => v.setBigUint64(entry(1), 0x8n, true), 16, /second relocation/],
  ] as const)('%s', (_what, edit, offset, reason) => {
    const err = refusal(corrupt(globals, edit));
    expect(err).toMatchObject({ code: 'E_ELF', section: '.relxdp', offset });
    expect(err.reason).toMatch(reason);
  });

  it('a relocation to a section that holds no maps, data or code', () => {
    // Point symbol 13 ('events', in .data) into the license section.
    const symtab = section(globals, '.symtab');
    const license = section(globals, 'license');
    const err = refusal(corrupt(globals, (v) => v.setUint16(symtab.offset + 24 * 13 + 6, license.index, true)));
    expect(err).toMatchObject({ code: 'E_ELF', section: '.relxdp', offset: 0 });
    expect(err.reason).toMatch(/license.*no maps, data or code/);
  });

  it('a call relocation on an instruction that is no call', () => {
    const calls = fixture('calls');
    const r = section(calls, '.relkprobe/do_sys_open');
    const err = refusal(corrupt(calls, (v) => v.setBigUint64(r.offset, 0n, true)));
    expect(err).toMatchObject({ code: 'E_ELF', section: '.relkprobe/do_sys_open', offset: 0 });
    expect(err.reason).toMatch(/not a local call/);
  });

  it('a relocation section for a section that does not exist', () => {
    const err = refusal(corrupt(globals, (v) => v.setUint32(rel.header + 44, 300, true)));
    expect(err).toMatchObject({ code: 'E_ELF', section: '.relxdp', offset: 0 });
  });
});

describe('random corruption', () => {
  const objects = ['globals', 'calls', 'maps', 'tailcall', 'kconfig', 'legacy'].map(fixture);
  it('is refused with an ObjectError or parses, never anything else', () => {
    fc.assert(fc.property(
      fc.integer({ min: 0, max: objects.length - 1 }), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 }),
      (which, edits) => {
        const bytes = objects[which]!.slice();
        for (const [at, value] of edits) bytes[at % bytes.length] = value;
        try {
          parseObject(bytes);
        } catch (e) {
          if (!(e instanceof ObjectError)) throw e;
        }
      },
    ), { numRuns: 3000 });
  });

  it('corrupting the headers themselves', () => {
    const bytes = objects[0]!;
    const tables = rawSections(bytes).map((s) => s.header);
    fc.assert(fc.property(fc.integer({ min: 0, max: tables.length - 1 }), fc.integer({ min: 0, max: 63 }), fc.integer({ min: 0, max: 255 }), (s, at, value) => {
      const copy = bytes.slice();
      copy[tables[s]! + at] = value;
      try {
        parseObject(copy);
      } catch (e) {
        if (!(e instanceof ObjectError)) throw e;
      }
    }), { numRuns: 3000 });
  });
});
