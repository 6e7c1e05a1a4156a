/**
 * Malformed objects: the corpus test/fixtures/elf-bad/make.mjs writes from a real clang object (one
 * broken field per case) gives the error its manifest names, as one line naming the section; and
 * random mutations of the examples' objects either load or give a BpfError, never anything else.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { loadObject, parseObject } from '../src/elf/index.js';
import { BpfError, ObjectError } from '../src/errors.js';
import { Vm } from '../src/vm.js';

const dir = join(import.meta.dirname, 'fixtures/elf-bad');
const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as Record<string, { code: string; section: string }>;
const examples = join(import.meta.dirname, '../examples');

function load(bytes: Uint8Array): void {
  loadObject(new Vm({ cpus: 2 }), parseObject(bytes));
}

describe('malformed objects', () => {
  it('has at least 25 cases', () => expect(Object.keys(manifest).length).toBeGreaterThanOrEqual(25));

  it.each(Object.entries(manifest))('%s: %o', (name, want) => {
    let error: unknown;
    try {
      load(new Uint8Array(readFileSync(join(dir, 'objects', `${name}.o`))));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ObjectError);
    const e = error as ObjectError;
    expect({ code: e.code, section: e.section }).toEqual(want);
    expect(e.message).not.toContain('\n');
    expect(e.message.startsWith(want.section === '' ? 'ELF header' : `section ${want.section}`)).toBe(true);
  });
});

describe('randomly mutated objects', () => {
  const bases = ['opensnoop', 'dispatch', 'runqlat'].map((n) => new Uint8Array(readFileSync(join(examples, `${n}.bpf.o`))));
  const mutation = fc.record({
    base: fc.nat(bases.length - 1),
    edits: fc.array(fc.tuple(fc.double({ min: 0, max: 1, noNaN: true }), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }),
    cut: fc.option(fc.double({ min: 0, max: 1, noNaN: true }), { freq: 4 }),
  });

  it('load or give a BpfError', () => {
    fc.assert(fc.property(mutation, ({ base, edits, cut }) => {
      const b = bases[base]!.slice();
      for (const [where, value] of edits) b[Math.floor(where * (b.length - 1))] = value;
      const bytes = cut === null ? b : b.subarray(0, Math.floor(cut * b.length));
      try {
        load(bytes);
      } catch (e) {
        if (!(e instanceof BpfError)) throw e;
        expect(e.message).not.toContain('\n');
      }
    }), { numRuns: 400 });
  });
});
