/**
 * The maps a program runs with. A program that declares maps (Program.maps: from assembly now, ELF
 * later) gets a new map for each declaration, or the host's map given for it by name or position,
 * if it matches the declaration as libbpf's map reuse requires (type, sizes, entries, flags,
 * map_extra). A program that declares none takes the host's list as it is: `map_by_idx(N)` is its
 * N-th map.
 */
import { InputError } from '../errors.js';
import type { EngineMemory } from '../runtime/memory.js';
import type { MapDescriptor } from '../verifier/helper-call.js';
import { BpfMap, createMap } from './map.js';
import { validateSpec, type MapSpec } from './spec.js';
import { BPF_F } from './types.js';

/** Maps a host hands a loader: by position, or by declared name. */
export type GivenMaps = readonly BpfMap[] | Readonly<Record<string, BpfMap>>;

function checkMemory(map: BpfMap, mem: EngineMemory): BpfMap {
  if (!(map instanceof BpfMap)) throw new InputError('maps must be BpfMap objects (createMap or Vm.createMap)');
  if (map.mem !== mem) throw new InputError(`${map.label} lives in another engine memory: create it with this Vm's createMap`);
  return map;
}

function checkMatches(map: BpfMap, spec: MapSpec, index: number): BpfMap {
  const want = validateSpec(spec);
  const fields = [
    ['type', map.typeId, want.type], ['keySize', map.keySize, want.keySize], ['valueSize', map.valueSize, want.valueSize],
    ['maxEntries', map.maxEntries, want.maxEntries], ['flags', map.flags, want.flags], ['mapExtra', map.mapExtra, want.mapExtra],
  ] as const;
  for (const [field, have, need] of fields) {
    if (have !== need) {
      throw new InputError(`map ${index} ('${want.name}'): the ${map.label} given has ${field} ${have}, the program declares ${need}`);
    }
  }
  return map;
}

export function bindMaps(mem: EngineMemory, declared: readonly MapSpec[], given: GivenMaps | undefined): BpfMap[] {
  const list = Array.isArray(given) ? (given as readonly BpfMap[]) : undefined;
  const byName = given && !list ? (given as Readonly<Record<string, BpfMap>>) : undefined;
  if (declared.length === 0) {
    if (byName && Object.keys(byName).length > 0) {
      throw new InputError(`maps given by name (${Object.keys(byName).join(', ')}), but the program declares no maps: pass them as a list, in map_by_idx order`);
    }
    return (list ?? []).map((m) => checkMemory(m, mem));
  }
  if (list && list.length > declared.length) {
    throw new InputError(`${list.length} maps given, but the program declares ${declared.length}`);
  }
  if (byName) {
    const names = new Set(declared.map((s) => s.name));
    const unknown = Object.keys(byName).filter((n) => !names.has(n));
    if (unknown.length > 0) throw new InputError(`no map named ${unknown.map((n) => `'${n}'`).join(', ')} in the program (it declares ${[...names].map((n) => `'${n}'`).join(', ')})`);
  }
  return declared.map((spec, i) => {
    const host = list ? list[i] : byName?.[spec.name ?? ''];
    return host ? checkMatches(checkMemory(host, mem), spec, i) : createMap(mem, spec);
  });
}

/** What the verifier needs to know of the maps a program declares, without creating them. */
export function declaredDescriptors(specs: readonly MapSpec[]): MapDescriptor[] {
  return specs.map((spec) => {
    const s = validateSpec(spec);
    return {
      name: s.name, keySize: s.keySize, valueSize: s.valueSize, maxEntries: s.maxEntries, type: s.type, spinLockOffset: s.spinLockOffset, flags: s.flags,
    };
  });
}

/**
 * What the verifier needs to know of a map. A frozen BPF_F.RDONLY_PROG array of one entry can never
 * change again (no host write after freeze, no program write ever), so its value's bytes go along:
 * loads from it at known offsets are constants (the kernel's bpf_map_direct_read).
 */
export function mapDescriptor(map: BpfMap): MapDescriptor {
  const at = map.frozen && (map.flags & BPF_F.RDONLY_PROG) !== 0 ? map.directValue(0) : undefined;
  return {
    name: map.name, keySize: map.keySize, valueSize: map.valueSize, maxEntries: map.maxEntries, type: map.typeId, spinLockOffset: map.spinLockOffset,
    flags: map.flags, frozen: map.frozen, ...(at === undefined ? {} : { constantValue: map.mem.read(at, map.valueSize) }),
  };
}
