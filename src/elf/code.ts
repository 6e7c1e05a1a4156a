/**
 * Executable sections and the functions in them: each FUNC symbol is a run of instructions; the
 * programs are the global functions outside `.text` (as libbpf), everything else is a subprogram
 * a program may call.
 */
import { elfError, SHF, SHT, type ElfBytes, type Section } from './header.js';
import type { Relocation } from './relocations.js';
import { STB, STT, type ElfSymbol } from './symbols.js';

export const SLOT = 8;

export interface CodeFunction {
  readonly name: string;
  readonly global: boolean;
  /** First slot and slot count inside its section. */
  readonly start: number;
  readonly count: number;
}

export interface CodeSection {
  readonly section: Section;
  readonly bytes: Uint8Array;
  /** Relocations by the slot they apply to. */
  readonly relocs: ReadonlyMap<number, Relocation>;
  /** Sorted by start. */
  readonly functions: readonly CodeFunction[];
}

export const isCode = (s: Section): boolean => s.type === SHT.PROGBITS && (s.flags & SHF.EXECINSTR) !== 0;

function functionsOf(section: Section, symbols: readonly ElfSymbol[]): CodeFunction[] {
  const syms = symbols.filter((s) => s.shndx === section.index && s.type === STT.FUNC).sort((a, b) => a.value - b.value);
  return syms.map((sym, i) => {
    const where = `symbol ${sym.index} ('${sym.name}')`;
    if (sym.value % SLOT !== 0 || sym.value >= section.size) {
      throw elfError(section.name, sym.value, `${where} starts at byte 0x${sym.value.toString(16)}, not an instruction of the section's ${section.size / SLOT}`);
    }
    // A function without a size runs to the next one (hand-written assembly may leave sizes out).
    const end = sym.size > 0 ? sym.value + sym.size : (syms[i + 1]?.value ?? section.size);
    if (end > section.size || end % SLOT !== 0) throw elfError(section.name, sym.value, `${where} of ${sym.size} bytes runs past the section's end or splits an instruction`);
    return { name: sym.name, global: sym.bind === STB.GLOBAL || sym.bind === STB.WEAK, start: sym.value / SLOT, count: (end - sym.value) / SLOT };
  });
}

function relocsBySlot(section: Section, relocs: readonly Relocation[]): Map<number, Relocation> {
  const bySlot = new Map<number, Relocation>();
  for (const r of relocs) {
    if (r.offset % SLOT !== 0) throw elfError(r.at.section, r.at.offset, `relocation offset 0x${r.offset.toString(16)} in ${section.name} is not on an instruction boundary`);
    if (bySlot.has(r.offset / SLOT)) throw elfError(r.at.section, r.at.offset, `a second relocation for the instruction at 0x${r.offset.toString(16)} of ${section.name}`);
    bySlot.set(r.offset / SLOT, r);
  }
  return bySlot;
}

/** Every executable section with its functions and relocations, by section index. */
export function readCode(f: ElfBytes, sections: readonly Section[], symbols: readonly ElfSymbol[], relocs: ReadonlyMap<number, Relocation[]>): Map<number, CodeSection> {
  const out = new Map<number, CodeSection>();
  for (const s of sections) {
    if (!isCode(s) || s.size === 0) continue;
    if (s.size % SLOT !== 0) throw elfError(s.name, s.size, `${s.size} bytes is not a whole number of 8-byte instructions`);
    out.set(s.index, {
      section: s, bytes: f.bytes.slice(s.offset, s.offset + s.size),
      relocs: relocsBySlot(s, relocs.get(s.index) ?? []), functions: functionsOf(s, symbols),
    });
  }
  return out;
}

/** The function of `code` that holds slot `slot`. */
export const functionAt = (code: CodeSection, slot: number): CodeFunction | undefined =>
  code.functions.find((fn) => slot >= fn.start && slot < fn.start + fn.count);
