/**
 * Global data: each `.data*`, `.rodata*` and `.bss*` section becomes an array map of one entry whose
 * value is the section (as libbpf's internal maps); its named objects become variables.
 */
import { SHF, SHT, sectionBytes, type ElfBytes, type Section } from './header.js';
import { kernelName } from './names.js';
import type { ObjectMapKind, ObjectMapSpec, VariableSpec } from './spec.js';
import { STT, type ElfSymbol } from './symbols.js';

/** The data kind of a section, or undefined when it holds no global data. */
export function dataKind(s: Section): Exclude<ObjectMapKind, 'user' | 'kconfig'> | undefined {
  if ((s.flags & SHF.ALLOC) === 0 || (s.flags & SHF.EXECINSTR) !== 0) return undefined;
  const is = (prefix: string): boolean => s.name === prefix || s.name.startsWith(`${prefix}.`);
  if (s.type === SHT.NOBITS && is('.bss')) return 'bss';
  if (s.type !== SHT.PROGBITS) return undefined;
  if (is('.data')) return 'data';
  if (is('.rodata')) return 'rodata';
  return undefined;
}

export function dataMap(f: ElfBytes, s: Section, kind: Exclude<ObjectMapKind, 'user' | 'kconfig'>): ObjectMapSpec {
  return {
    name: s.name, section: s.name, kind, readonly: kind === 'rodata', initial: sectionBytes(f, s),
    spec: { type: 'array', keySize: 4, valueSize: s.size, maxEntries: 1, name: kernelName(s.name) },
  };
}

/** The named objects of data section `s` (map `map`), as variables without BTF types yet. */
export function symbolVariables(s: Section, map: number, symbols: readonly ElfSymbol[]): VariableSpec[] {
  return symbols
    .filter((sym) => sym.shndx === s.index && sym.type === STT.OBJECT && sym.name !== '' && sym.size > 0 && sym.value + sym.size <= s.size)
    .map((sym) => ({ name: sym.name, map, offset: sym.value, size: sym.size, type: 0, signed: false }));
}
