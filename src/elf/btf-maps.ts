/**
 * BTF-defined maps (`SEC(".maps")`): each variable of the `.maps` DATASEC is a struct whose members
 * say the map's attributes the way libbpf's macros spell them: `__uint(name, N)` is `int (*name)[N]`
 * (the number is the array's length), `__type(key, T)` is `T *key` (the size is T's), and
 * `__array(values, ...)` is an array of pointers whose initialisers are relocations in `.rel.maps`.
 */
import type { Btf } from '../btf/btf.js';
import type { BtfMember } from '../btf/types.js';
import { elfError, type Section } from './header.js';
import type { FoundMap } from './legacy-maps.js';
import { kernelName } from './names.js';
import type { Relocation } from './relocations.js';
import type { ObjectMapSpec } from './spec.js';
import { STT, type ElfSymbol } from './symbols.js';

export const BTF_MAPS = '.maps';

const NUMBERS = ['type', 'max_entries', 'map_flags', 'key_size', 'value_size', 'map_extra', 'numa_node', 'pinning'] as const;
type NumberField = (typeof NUMBERS)[number];

interface Fields {
  numbers: Partial<Record<NumberField, number>>;
  key?: number;
  value?: number;
  /** Byte offset of `values` inside the definition. */
  values?: number;
}

/** The N of `int (*name)[N]`. */
function arrayLength(btf: Btf, m: BtfMember, fail: (r: string) => never): number {
  const ptr = btf.type(btf.skipModifiers(m.type));
  const arr = ptr.kind === 'ptr' ? btf.type(btf.skipModifiers(ptr.type)) : undefined;
  if (arr?.kind !== 'array') return fail(`member '${m.name}' is ${btf.typeName(m.type)}, not __uint's int (*${m.name})[N]`);
  return arr.nelems;
}

function pointee(btf: Btf, m: BtfMember, fail: (r: string) => never): number {
  const ptr = btf.type(btf.skipModifiers(m.type));
  if (ptr.kind !== 'ptr') return fail(`member '${m.name}' is ${btf.typeName(m.type)}, not __type's pointer`);
  return ptr.type;
}

function readFields(btf: Btf, typeId: number, fail: (r: string) => never): Fields {
  const def = btf.type(btf.skipModifiers(typeId));
  if (def.kind !== 'struct') return fail(`its type is ${btf.typeName(typeId)}, not a struct of map attributes`);
  const out: Fields = { numbers: {} };
  for (const m of def.members) {
    if ((NUMBERS as readonly string[]).includes(m.name)) out.numbers[m.name as NumberField] = arrayLength(btf, m, fail);
    else if (m.name === 'key') out.key = pointee(btf, m, fail);
    else if (m.name === 'value') out.value = pointee(btf, m, fail);
    else if (m.name === 'values') out.values = m.bitOffset / 8;
    // Other members (libbpf's ignored ones) change nothing here.
  }
  return out;
}

function size(btf: Btf, declared: number | undefined, type: number | undefined, what: string, fail: (r: string) => never): number {
  const fromType = type === undefined ? undefined : btf.sizeOf(type);
  if (declared !== undefined && fromType !== undefined && declared !== fromType) {
    return fail(`${what}_size ${declared} but the ${what} type is ${fromType} bytes`);
  }
  return declared ?? fromType ?? 0;
}

/**
 * Where the value holds a `struct bpf_spin_lock`: among its top-level members, as the kernel looks
 * for one (btf_find_spin_lock); absent when it has none.
 */
function spinLockOffset(btf: Btf, value: number | undefined): number | undefined {
  if (value === undefined) return undefined;
  const t = btf.type(btf.skipModifiers(value));
  if (t.kind !== 'struct') return undefined;
  const lock = t.members.find((m) => {
    const mt = btf.type(btf.skipModifiers(m.type));
    return mt.kind === 'struct' && mt.name === 'bpf_spin_lock';
  });
  return lock && lock.bitOffset / 8;
}

/** `values` initialisers: slot i is the function a relocation at values + 8i names. */
function slotsOf(sym: ElfSymbol, valuesAt: number, relocs: readonly Relocation[], fail: (r: string) => never): Array<[number, string]> {
  const start = sym.value + valuesAt;
  const end = sym.value + sym.size;
  return relocs.filter((r) => r.offset >= start && r.offset < end).map((r) => {
    if ((r.offset - start) % 8 !== 0) return fail(`values initialiser at 0x${r.offset.toString(16)} is not on a slot`);
    if (r.symbol.type !== STT.FUNC) return fail(`values slot ${(r.offset - start) / 8} names '${r.symbol.name}', not a program (map-in-map is not supported)`);
    return [(r.offset - start) / 8, r.symbol.name];
  });
}

/** The maps of the `.maps` section, in the order of their symbols. */
export function btfMaps(btf: Btf | undefined, section: Section, symbols: readonly ElfSymbol[], relocs: readonly Relocation[]): FoundMap[] {
  const syms = symbols.filter((s) => s.shndx === section.index && s.type === STT.OBJECT).sort((a, b) => a.value - b.value);
  if (syms.length === 0) return [];
  if (!btf) throw elfError(section.name, 0, 'maps declared in .maps need the object\'s BTF (.BTF section), which is missing: compile with -g');
  const sec = btf.byName(section.name, 'datasec');
  if (sec?.kind !== 'datasec') throw elfError(section.name, 0, 'the BTF has no DATASEC .maps describing the maps');
  return syms.map((sym) => {
    const fail = (reason: string): never => { throw elfError(section.name, sym.value, `map '${sym.name}': ${reason}`); };
    const v = sec.vars.map((e) => btf.type(e.type)).find((t) => t.kind === 'var' && t.name === sym.name);
    if (v?.kind !== 'var') return fail('no BTF variable of that name in DATASEC .maps');
    const fields = readFields(btf, v.type, fail);
    const n = fields.numbers;
    if (n.type === undefined) return fail('no map type (__uint(type, ...))');
    const isProgArray = n.type === 3;
    const lock = spinLockOffset(btf, fields.value);
    const spec = {
      type: n.type, maxEntries: n.max_entries ?? 0, flags: n.map_flags ?? 0, mapExtra: n.map_extra ?? 0, name: kernelName(sym.name),
      keySize: size(btf, n.key_size, fields.key, 'key', fail),
      valueSize: isProgArray && n.value_size === undefined && fields.value === undefined ? 4 : size(btf, n.value_size, fields.value, 'value', fail),
      ...(lock === undefined ? {} : { spinLockOffset: lock }),
    };
    const slots = fields.values === undefined ? [] : slotsOf(sym, fields.values, relocs, fail);
    if (slots.length > 0 && !isProgArray) return fail('values initialisers are supported for a prog_array only');
    const map: ObjectMapSpec = {
      name: sym.name, section: section.name, kind: 'user', spec, readonly: false, pinning: n.pinning ?? 0,
      ...(fields.key === undefined ? {} : { btfKey: fields.key }), ...(fields.value === undefined ? {} : { btfValue: fields.value }),
      ...(slots.length > 0 ? { slots } : {}),
    };
    return { section: section.index, offset: sym.value, spec: map };
  });
}
