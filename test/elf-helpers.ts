// Fixtures of the ELF loader (test/fixtures/elf) and a way to corrupt them at named places.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export const FIXTURES = join(import.meta.dirname, 'fixtures', 'elf');

export const fixture = (name: string): Uint8Array => new Uint8Array(readFileSync(join(FIXTURES, `${name}.o`)));

export interface RawSection { index: number; name: string; header: number; offset: number; size: number }

/** The section headers of an ELF64 file, read independently of the loader, to aim corruptions. */
export function rawSections(bytes: Uint8Array): RawSection[] {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const shoff = Number(v.getBigUint64(40, true));
  const count = v.getUint16(60, true);
  const strtab = Number(v.getBigUint64(shoff + v.getUint16(62, true) * 64 + 24, true));
  const str = (at: number): string => new TextDecoder().decode(bytes.subarray(at, bytes.indexOf(0, at)));
  return Array.from({ length: count }, (_, index) => {
    const header = shoff + index * 64;
    return {
      index, header, name: str(strtab + v.getUint32(header, true)),
      offset: Number(v.getBigUint64(header + 24, true)), size: Number(v.getBigUint64(header + 32, true)),
    };
  });
}

export function section(bytes: Uint8Array, name: string): RawSection {
  const s = rawSections(bytes).find((x) => x.name === name);
  if (!s) throw new Error(`fixture has no section ${name}`);
  return s;
}

/** A copy of `bytes` changed by `edit` (given a DataView of the copy). */
export function corrupt(bytes: Uint8Array, edit: (v: DataView, b: Uint8Array) => void): Uint8Array {
  const copy = bytes.slice();
  edit(new DataView(copy.buffer), copy);
  return copy;
}
