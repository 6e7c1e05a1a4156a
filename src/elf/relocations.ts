/**
 * REL sections (clang writes no RELA for BPF): which section each applies to, each entry's offset,
 * type and symbol, checked against the target section and the symbol table.
 */
import { elfError, SHF, SHT, type ElfBytes, type Section } from './header.js';
import type { ElfSymbol } from './symbols.js';

/** The relocation types the loader applies (LLVM's BPF ELF relocations). */
export const R_BPF = { NONE: 0, R64_64: 1, ABS64: 2, ABS32: 3, NODYLD32: 4, R64_32: 10 } as const;
const REL_SIZE = 16;

export interface Relocation {
  /** Byte offset in the target section. */
  readonly offset: number;
  readonly type: number;
  readonly symbol: ElfSymbol;
  /** Where the entry is, for errors: the REL section and the entry's byte offset in it. */
  readonly at: { readonly section: string; readonly offset: number };
}

/** Sections whose relocations the loader applies: code, and map definitions (prog_array initialisers). */
function appliedTo(target: Section): boolean {
  return (target.type === SHT.PROGBITS && (target.flags & SHF.EXECINSTR) !== 0) || target.name === '.maps';
}

/** The relocations of every section the loader reads that has some, by the target section's index. */
export function readRelocations(f: ElfBytes, sections: readonly Section[], symbols: readonly ElfSymbol[]): Map<number, Relocation[]> {
  const out = new Map<number, Relocation[]>();
  for (const rel of sections) {
    if (rel.type !== SHT.REL) continue;
    const target = sections[rel.info];
    if (rel.info === 0 || !target) throw elfError(rel.name, 0, `applies to section ${rel.info}, which does not exist`);
    // Relocations of debug info and of .BTF/.BTF.ext are for linkers; the loader, like libbpf, never reads them.
    if (!appliedTo(target)) continue;
    if (rel.entsize !== REL_SIZE || rel.size % REL_SIZE !== 0) {
      throw elfError(rel.name, 0, `${rel.size} bytes with entries of ${rel.entsize}: ELF64 REL entries are ${REL_SIZE} bytes`);
    }
    const list = out.get(target.index) ?? [];
    for (let off = 0; off < rel.size; off += REL_SIZE) list.push(readEntry(f, rel, target, symbols, off));
    out.set(target.index, list);
  }
  return out;
}

function readEntry(f: ElfBytes, rel: Section, target: Section, symbols: readonly ElfSymbol[], off: number): Relocation {
  const at = rel.offset + off;
  const offset = f.u64(at, rel.name, off, 'relocation offset');
  const type = f.u32(at + 8);
  const symIndex = f.u32(at + 12);
  const symbol = symbols[symIndex];
  if (symIndex === 0 || !symbol) {
    throw elfError(rel.name, off, `relocation names symbol ${symIndex}, but the symbol table has ${symbols.length} (0 is none)`);
  }
  if (offset >= target.size) throw elfError(rel.name, off, `relocation offset 0x${offset.toString(16)} is outside ${target.name} (${target.size} bytes)`);
  return { offset, type, symbol, at: { section: rel.name, offset: off } };
}
