/**
 * parseObject: a BPF object from clang (`clang -O2 -g -target bpf -c`) to an ObjectSpec, libbpf's
 * conventions throughout: programs by section and function, maps from `.maps` (BTF) and `maps`
 * (legacy), global data as one-entry arrays, `.kconfig` externs, license and version.
 */
import { InputError } from '../errors.js';
import { validateSpec } from '../maps/spec.js';
import type { Btf } from '../btf/btf.js';
import { btfMaps, BTF_MAPS } from './btf-maps.js';
import { typeVariables } from './btf-vars.js';
import { readCode, type CodeSection } from './code.js';
import { dataKind, dataMap, symbolVariables } from './globals.js';
import type { BtfExt } from '../btf/ext.js';
import { programExt, readExt } from './ext-info.js';
import { liveSpec } from './live-spec.js';
import { btfOf } from './object-btf.js';
import { elfError, ElfBytes, readSections, sectionBytes, type Section } from './header.js';
import { kconfigExterns } from './kconfig.js';
import { legacyMaps, LEGACY_MAPS, type FoundMap } from './legacy-maps.js';
import { linkProgram, type DataTarget } from './link.js';
import { readRelocations, type Relocation } from './relocations.js';
import { sectionType } from './sections.js';
import type { KconfigExtern, ObjectMapSpec, ObjectSpec, ProgramSpec, VariableSpec } from './spec.js';
import { readSymbols, SHN_UNDEF, STT, type ElfSymbol } from './symbols.js';

export interface ParseObjectOptions {
  /** The file's name, kept in the spec for messages. */
  readonly file?: string;
}

interface Parts {
  readonly maps: ObjectMapSpec[];
  readonly userMaps: FoundMap[];
  /** Data section index to its map's index. */
  readonly dataMaps: Map<number, number>;
  readonly variables: VariableSpec[];
  readonly kconfig: KconfigExtern[];
}

function readBtf(f: ElfBytes, sections: readonly Section[], name: string): Uint8Array | undefined {
  const s = sections.find((x) => x.name === name);
  return s && sectionBytes(f, s);
}

function collectMaps(f: ElfBytes, sections: readonly Section[], symbols: readonly ElfSymbol[], relocs: ReadonlyMap<number, Relocation[]>, btf: Btf | undefined): Parts {
  const userMaps: FoundMap[] = [];
  for (const s of sections) {
    if (s.name === BTF_MAPS) userMaps.push(...btfMaps(btf, s, symbols, relocs.get(s.index) ?? []));
    else if (s.name === LEGACY_MAPS) userMaps.push(...legacyMaps(f, s, symbols));
  }
  for (const m of userMaps) checkMapSpec(m, sections[m.section]!.name);
  const maps = userMaps.map((m) => m.spec);
  const dataMaps = new Map<number, number>();
  const variables: VariableSpec[] = [];
  for (const s of sections) {
    const kind = dataKind(s);
    if (!kind || s.size === 0) continue;
    dataMaps.set(s.index, maps.push(dataMap(f, s, kind)) - 1);
    variables.push(...typeVariables(btf, s.name, symbolVariables(s, maps.length - 1, symbols)));
  }
  const { externs, map } = kconfigExterns(btf, symbols);
  if (map) {
    const index = maps.push(map) - 1;
    for (const e of externs) variables.push({ name: e.name, map: index, offset: e.offset, size: e.size, type: 0, signed: e.signed });
  }
  return { maps, userMaps, dataMaps, variables, kconfig: externs };
}

/** A declared map the kernel would refuse (unknown type, bad sizes) is refused here, naming where it is declared. */
function checkMapSpec(m: FoundMap, section: string): void {
  try {
    validateSpec(liveSpec(m.spec, 1));
  } catch (e) {
    if (e instanceof InputError) throw elfError(section, m.offset, e.message);
    throw e;
  }
}

/** What an lddw relocated against a non-code symbol loads. */
function dataResolver(sections: readonly Section[], parts: Parts): (rel: Relocation, imm: number) => DataTarget {
  const kconfigMap = parts.maps.findIndex((m) => m.kind === 'kconfig');
  return (rel, imm) => {
    const sym = rel.symbol;
    const fail = (reason: string): never => { throw elfError(rel.at.section, rel.at.offset, `'${sym.name}': ${reason}`); };
    if (sym.shndx === SHN_UNDEF) {
      const ext = parts.kconfig.find((e) => e.name === sym.name);
      return ext ? { map: kconfigMap, offset: ext.offset } : fail('an extern that is not a .kconfig one (ksyms and other externs are not supported)');
    }
    const section = sections[sym.shndx];
    const offset = sym.value + (sym.type === STT.SECTION ? imm : 0);
    const user = parts.userMaps.findIndex((m) => m.section === sym.shndx && m.offset === offset);
    if (user >= 0) return { map: user };
    if (section?.name === BTF_MAPS || section?.name === LEGACY_MAPS) return fail(`no map starts at offset ${offset} of ${section.name}`);
    const data = parts.dataMaps.get(sym.shndx);
    if (data === undefined) return fail(`relocation to section ${section?.name ?? sym.shndx}, which holds no maps, data or code`);
    const at = sym.value + imm;
    if (at < 0 || at >= section!.size) return fail(`offset ${at} is outside ${section!.name} (${section!.size} bytes)`);
    return { map: data, offset: at };
  };
}

function programsOf(
  code: ReadonlyMap<number, CodeSection>, resolve: (rel: Relocation, imm: number) => DataTarget, license: string, ext: BtfExt | undefined,
): ProgramSpec[] {
  const programs: ProgramSpec[] = [];
  for (const entry of code.values()) {
    if (entry.section.name === '.text') continue;
    const type = sectionType(entry.section.name);
    for (const fn of entry.functions.filter((x) => x.global)) {
      const linked = linkProgram(code, entry, fn, resolve);
      const program = {
        name: fn.name, section: entry.section.name, type: type?.type, kind: type?.kind, target: type?.target ?? '',
        bytes: linked.bytes, maps: linked.maps, origin: linked.origin, license,
      };
      programs.push({ ...program, ...programExt(program, ext) });
    }
  }
  return programs;
}

function licenseAndVersion(f: ElfBytes, sections: readonly Section[]): { license: string; version?: number } {
  const lic = sections.find((s) => s.name === 'license');
  const bytes = lic ? sectionBytes(f, lic) : new Uint8Array(0);
  const nul = bytes.indexOf(0);
  if (lic && nul < 0) throw elfError('license', bytes.length, 'the license string is not NUL-terminated');
  const license = new TextDecoder().decode(bytes.subarray(0, nul < 0 ? 0 : nul));
  const ver = sections.find((s) => s.name === 'version');
  if (!ver) return { license };
  if (ver.size !== 4) throw elfError('version', 0, `${ver.size} bytes: the version section is one u32`);
  return { license, version: new DataView(sectionBytes(f, ver).buffer).getUint32(0, true) };
}

function checkSlots(maps: readonly ObjectMapSpec[], programs: readonly ProgramSpec[]): void {
  for (const m of maps) {
    for (const [slot, name] of m.slots ?? []) {
      if (!programs.some((p) => p.name === name)) throw elfError(m.section, 0, `map '${m.name}': slot ${slot} names '${name}', which is not a program of the object`);
    }
  }
}

export function parseObject(bytes: Uint8Array, options: ParseObjectOptions = {}): ObjectSpec {
  const f = new ElfBytes(bytes);
  const sections = readSections(f);
  const symbols = readSymbols(f, sections);
  const relocs = readRelocations(f, sections, symbols);
  const btfBytes = readBtf(f, sections, '.BTF');
  const btfExt = readBtf(f, sections, '.BTF.ext');
  const btf = btfBytes && btfOf(btfBytes);
  const parts = collectMaps(f, sections, symbols, relocs, btf);
  const { license, version } = licenseAndVersion(f, sections);
  const code = readCode(f, sections, symbols, relocs);
  const ext = readExt(btfExt, btf, new Map([...code.values()].map((c) => [c.section.name, c])));
  const programs = programsOf(code, dataResolver(sections, parts), license, ext);
  checkSlots(parts.maps, programs);
  return {
    ...(options.file === undefined ? {} : { file: options.file }), license, ...(version === undefined ? {} : { version }),
    programs, maps: parts.maps, variables: parts.variables, kconfig: parts.kconfig,
    ...(btfBytes ? { btf: btfBytes } : {}), ...(btfExt ? { btfExt } : {}),
  };
}

