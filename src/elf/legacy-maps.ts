/**
 * The legacy `maps` section: one `struct bpf_map_def { u32 type, key_size, value_size, max_entries,
 * map_flags; }` per symbol, as libbpf once took and cilium/ebpf still takes. Longer definitions
 * (some loaders added fields) are accepted when the extra bytes are zero, as libbpf does.
 */
import { elfError, sectionBytes, type ElfBytes, type Section } from './header.js';
import { kernelName } from './names.js';
import type { ObjectMapSpec } from './spec.js';
import { STT, type ElfSymbol } from './symbols.js';

export const LEGACY_MAPS = 'maps';
const DEF_SIZE = 20;

export interface FoundMap {
  readonly section: number;
  readonly offset: number;
  readonly spec: ObjectMapSpec;
}

export function legacyMaps(f: ElfBytes, section: Section, symbols: readonly ElfSymbol[]): FoundMap[] {
  const syms = symbols.filter((s) => s.shndx === section.index && s.type !== STT.SECTION && s.name !== '').sort((a, b) => a.value - b.value);
  if (syms.length === 0) return [];
  const bytes = sectionBytes(f, section);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  // Older clang gives map symbols no size: each definition is then the section's share.
  const share = Math.floor(section.size / syms.length);
  return syms.map((sym) => {
    const size = sym.size || share;
    if (size < DEF_SIZE || sym.value + size > section.size) {
      throw elfError(section.name, sym.value, `map '${sym.name}': a definition of ${size} bytes at 0x${sym.value.toString(16)}, struct bpf_map_def needs ${DEF_SIZE} inside the section's ${section.size}`);
    }
    const extra = bytes.subarray(sym.value + DEF_SIZE, sym.value + size).findIndex((b) => b !== 0);
    if (extra >= 0) throw elfError(section.name, sym.value + DEF_SIZE + extra, `map '${sym.name}': unknown non-zero fields after struct bpf_map_def`);
    const u32 = (i: number): number => view.getUint32(sym.value + i * 4, true);
    const spec = { type: u32(0), keySize: u32(1), valueSize: u32(2), maxEntries: u32(3), flags: u32(4), name: kernelName(sym.name) };
    return { section: section.index, offset: sym.value, spec: { name: sym.name, section: section.name, kind: 'user', spec, readonly: false } };
  });
}
