/** The symbol table (.symtab): names, kinds and where each symbol lives, checked against the sections. */
import { elfError, SHT, stringAt, type ElfBytes, type Section } from './header.js';

export const STT = { NOTYPE: 0, OBJECT: 1, FUNC: 2, SECTION: 3, FILE: 4 } as const;
export const STB = { LOCAL: 0, GLOBAL: 1, WEAK: 2 } as const;
export const SHN_UNDEF = 0;
const SHN_LORESERVE = 0xff00;
const SHN_ABS = 0xfff1;
const SYM_SIZE = 24;

export interface ElfSymbol {
  readonly index: number;
  /** For a section symbol, the section's name. */
  readonly name: string;
  readonly type: number;
  readonly bind: number;
  /** The section it is defined in; 0 (SHN_UNDEF) for an extern; SHN_ABS for an absolute one. */
  readonly shndx: number;
  readonly value: number;
  readonly size: number;
}

export const isExtern = (s: ElfSymbol): boolean => s.shndx === SHN_UNDEF;

function readSymbol(f: ElfBytes, sections: readonly Section[], symtab: Section, strtab: Section, index: number): ElfSymbol {
  const at = symtab.offset + index * SYM_SIZE;
  const off = index * SYM_SIZE;
  const info = f.u8(at + 4);
  const shndx = f.u16(at + 6);
  if (shndx >= sections.length && (shndx < SHN_LORESERVE || shndx !== SHN_ABS)) {
    throw elfError(symtab.name, off + 6, `symbol ${index} names section ${shndx}, but the file has ${sections.length}`);
  }
  const type = info & 0xf;
  const name = type === STT.SECTION && shndx < sections.length ? sections[shndx]!.name : stringAt(f, strtab, f.u32(at), symtab.name, off);
  return {
    index, name, type, bind: info >> 4, shndx,
    value: f.u64(at + 8, symtab.name, off + 8, 'symbol value'),
    size: f.u64(at + 16, symtab.name, off + 16, 'symbol size'),
  };
}

/** Every symbol of the file's one symbol table (none when it has none). */
export function readSymbols(f: ElfBytes, sections: readonly Section[]): ElfSymbol[] {
  const tables = sections.filter((s) => s.type === SHT.SYMTAB);
  if (tables.length === 0) return [];
  const symtab = tables[0]!;
  if (tables.length > 1) throw elfError(tables[1]!.name, 0, 'a second symbol table: a relocatable object has one');
  if (symtab.entsize !== SYM_SIZE || symtab.size % SYM_SIZE !== 0) {
    throw elfError(symtab.name, 0, `symbol table of ${symtab.size} bytes with entries of ${symtab.entsize}: ELF64 symbols are ${SYM_SIZE} bytes`);
  }
  const strtab = sections[symtab.link];
  if (!strtab) throw elfError(symtab.name, 0, `its string table is section ${symtab.link}, which does not exist`);
  return Array.from({ length: symtab.size / SYM_SIZE }, (_, i) => readSymbol(f, sections, symtab, strtab, i));
}
