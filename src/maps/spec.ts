/**
 * What a map is created from, and the checks the kernel's BPF_MAP_CREATE makes for the implemented
 * types (kernel/bpf/arraymap.c array_map_alloc_check, hashtab.c htab_map_alloc_check,
 * queue_stack_maps.c queue_stack_map_alloc_check, bloom_filter.c bloom_map_alloc, lpm_trie.c
 * trie_alloc), with errors that name the map and the field instead of answering EINVAL.
 */
import { InputError } from '../errors.js';
import {
  BPF_F, BPF_MAP_TYPE, IMPLEMENTED, isArrayType, isKeylessType, isLruType, isPerCpuType, isPerfEventArrayType, isQueueType, isRingBufType, mapTypeId, mapTypeName, PROG_ACCESS_FLAGS,
  type MapTypeId, type MapTypeName,
} from './types.js';
import { perfEventArraySpec } from './perf-spec.js';
import { spinLockOffset } from './spin-lock.js';

export interface MapSpec {
  /** A name ('hash', 'percpu_array', ...) or Linux's number (BPF_MAP_TYPE). */
  readonly type: MapTypeName | MapTypeId | number | string;
  readonly keySize: number;
  readonly valueSize: number;
  readonly maxEntries: number;
  /** BPF_F_* creation flags; see BPF_F for the ones accepted. */
  readonly flags?: number;
  /** Up to 15 characters of [A-Za-z0-9_.], as the kernel's BPF_OBJ_NAME_LEN allows. */
  readonly name?: string;
  /** The kernel's map_extra: for a bloom filter, its number of hash functions (1..15; 0 or absent: 5). 0 for other types. */
  readonly mapExtra?: number;
  /** A perf_event_array's bytes per output buffer (perf-spec.ts); absent for other types. */
  readonly bufferSize?: number;
  /** Where a hash or array map's value holds a `struct bpf_spin_lock` (spin-lock.ts); absent: none. */
  readonly spinLockOffset?: number;
}

/** A spec that passed the checks, with its type resolved. */
export interface ValidSpec {
  readonly type: MapTypeId;
  readonly typeName: MapTypeName;
  readonly keySize: number;
  readonly valueSize: number;
  readonly maxEntries: number;
  readonly flags: number;
  readonly name: string;
  readonly mapExtra: number;
  /** A perf_event_array's bytes per output buffer; absent for other types. */
  readonly bufferSize?: number;
  /** The offset of the value's bpf_spin_lock; absent when it has none. */
  readonly spinLockOffset?: number;
}

/** The kernel refuses hash keys larger than a BPF stack (MAX_BPF_STACK): a program must be able to build one. */
export const MAX_KEY_SIZE = 512;
/** Per-CPU values are capped at PCPU_MIN_UNIT_SIZE as in the kernel; others at 1 MiB (the kernel's cap is kmalloc's). */
export const MAX_PERCPU_VALUE_SIZE = 32768;
export const MAX_VALUE_SIZE = 1 << 20;
/** A map's storage must fit the engine's address space with room to spare (docs/architecture.md section 2). */
export const MAX_STORAGE_BYTES = 1 << 29;
/** The kernel's PAGE_SIZE, which a ring buffer's size must be a multiple of. */
export const RINGBUF_PAGE = 4096;
/** A ring buffer's storage is twice its size (layout.ts), so at most half a map's storage. */
export const MAX_RINGBUF_SIZE = MAX_STORAGE_BYTES / 2;

/**
 * LPM trie keys are `struct bpf_lpm_trie_key`: a u32 prefix length, then 1 to 256 bytes of data
 * (the kernel's LPM_KEY_SIZE_MIN and LPM_KEY_SIZE_MAX).
 */
export const LPM_KEY_SIZE_MIN = 4 + 1;
export const LPM_KEY_SIZE_MAX = 4 + 256;

/** How the map is called in messages: `map 'counts'`, or `unnamed hash map`. */
export const mapLabel = (name: string, typeName: string): string => (name ? `map '${name}'` : `unnamed ${typeName} map`);

/**
 * As the kernel's *_CREATE_FLAG_MASKs: the program access flags go with every type that holds plain
 * values; a prog_array (fd_array_map_alloc_check), a ring buffer and a perf_event_array refuse them.
 */
function flagsAllowed(type: MapTypeId): number {
  if (type === BPF_MAP_TYPE.PROG_ARRAY) return 0;
  if (type === BPF_MAP_TYPE.BLOOM_FILTER) return BPF_F.ZERO_SEED | PROG_ACCESS_FLAGS;
  if (type === BPF_MAP_TYPE.LPM_TRIE) return BPF_F.NO_PREALLOC | PROG_ACCESS_FLAGS;
  if (isArrayType(type) || isQueueType(type)) return PROG_ACCESS_FLAGS;
  return BPF_F.ZERO_SEED | PROG_ACCESS_FLAGS | (isLruType(type) ? 0 : BPF_F.NO_PREALLOC);
}

export function validateSpec(spec: MapSpec): ValidSpec {
  const name = spec.name ?? '';
  if (typeof name !== 'string' || name.length > 15 || !/^[A-Za-z0-9_.]*$/.test(name)) {
    throw new InputError(`map name ${JSON.stringify(name)}: must be at most 15 characters of letters, digits, '_' and '.'`);
  }
  const type = mapTypeId(spec.type);
  if (type === undefined) throw new InputError(`${name ? `map '${name}'` : 'map'}: unknown map type ${JSON.stringify(spec.type)}`);
  const typeName = mapTypeName(type);
  const where = mapLabel(name, typeName);
  if (!IMPLEMENTED.has(type)) throw new InputError(`${where}: map type '${typeName}' (${type}) is not supported yet`);
  const int = (field: string, value: unknown, min: number, max: number): number => {
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
      throw new InputError(`${where}: ${field} ${String(value)} must be an integer in ${min}..${max}`);
    }
    return value;
  };
  // Refused there: neither holds values with a lock.
  if (spec.spinLockOffset !== undefined && (isRingBufType(type) || isPerfEventArrayType(type))) spinLockOffset(spec.spinLockOffset, type, 0, where);
  if (isRingBufType(type)) return ringBufSpec(spec, where, typeName, name);
  // As the kernel's fd_array_map_alloc_check: a prog_array's key and value are both u32 (an index, a program).
  if (type === BPF_MAP_TYPE.PROG_ARRAY && (spec.keySize !== 4 || spec.valueSize !== 4)) {
    throw new InputError(`${where}: keySize ${String(spec.keySize)} and valueSize ${String(spec.valueSize)} must both be 4 (a prog_array maps a u32 index to a program)`);
  }
  if (isPerfEventArrayType(type)) return perfEventArraySpec(spec, where, name);
  if (spec.bufferSize !== undefined) throw new InputError(`${where}: bufferSize is for a perf_event_array only`);
  if (isArrayType(type) && spec.keySize !== 4) throw new InputError(`${where}: keySize ${String(spec.keySize)} must be 4 (an array is indexed by a u32)`);
  if (isKeylessType(type) && spec.keySize !== 0) throw new InputError(`${where}: keySize ${String(spec.keySize)} must be 0 (a ${typeName} has no keys)`);
  const lpm = type === BPF_MAP_TYPE.LPM_TRIE;
  const keySize = isKeylessType(type) ? 0
    : lpm ? int('keySize', spec.keySize, LPM_KEY_SIZE_MIN, LPM_KEY_SIZE_MAX) : int('keySize', spec.keySize, 1, MAX_KEY_SIZE);
  const valueSize = int('valueSize', spec.valueSize, 1, isPerCpuType(type) ? MAX_PERCPU_VALUE_SIZE : MAX_VALUE_SIZE);
  const maxEntries = int('maxEntries', spec.maxEntries, 1, 0xffffffff);
  const flags = int('flags', spec.flags ?? 0, 0, 0xffffffff);
  const unknown = flags & ~flagsAllowed(type);
  if (unknown !== 0) throw new InputError(`${where}: flags 0x${(unknown >>> 0).toString(16)} not supported for map type '${typeName}'`);
  // As the kernel's bpf_map_flags_access_ok: programs cannot be kept from both reading and writing.
  if ((flags & PROG_ACCESS_FLAGS) === PROG_ACCESS_FLAGS) throw new InputError(`${where}: flags BPF_F.RDONLY_PROG and BPF_F.WRONLY_PROG cannot both be set`);
  // As the kernel's trie_alloc: an LPM trie is never preallocated, and must say so (its storage here is).
  if (lpm && (flags & BPF_F.NO_PREALLOC) === 0) {
    throw new InputError(`${where}: an lpm_trie needs flags BPF_F.NO_PREALLOC (1), as the kernel requires`);
  }
  // As the kernel's map_create and bloom_map_alloc: only a bloom filter takes map_extra, in its low 4 bits.
  const mapExtra = int('mapExtra', spec.mapExtra ?? 0, 0, type === BPF_MAP_TYPE.BLOOM_FILTER ? 15 : 0);
  const lock = spinLockOffset(spec.spinLockOffset, type, valueSize, where);
  return { type, typeName, keySize, valueSize, maxEntries, flags, name, mapExtra, ...(lock === undefined ? {} : { spinLockOffset: lock }) };
}

/**
 * As the kernel's ringbuf_map_alloc: no key and no value, maxEntries the data size in bytes, a power
 * of 2 and a multiple of the page size (4096), and no flags (BPF_F_NUMA_NODE means nothing here).
 */
function ringBufSpec(spec: MapSpec, where: string, typeName: MapTypeName, name: string): ValidSpec {
  const type = BPF_MAP_TYPE.RINGBUF;
  if (spec.keySize !== 0) throw new InputError(`${where}: keySize ${String(spec.keySize)} must be 0 (a ring buffer has no keys)`);
  if (spec.valueSize !== 0) throw new InputError(`${where}: valueSize ${String(spec.valueSize)} must be 0 (a ring buffer's records have their own sizes)`);
  const size = spec.maxEntries;
  if (typeof size !== 'number' || !Number.isInteger(size) || size < RINGBUF_PAGE || size > MAX_RINGBUF_SIZE || (size & (size - 1)) !== 0) {
    throw new InputError(`${where}: maxEntries ${String(size)} is the ring buffer's size in bytes and must be a power of 2 ` +
      `and a multiple of ${RINGBUF_PAGE} (the page size), at most ${MAX_RINGBUF_SIZE}`);
  }
  const flags = spec.flags ?? 0;
  if (flags !== 0) throw new InputError(`${where}: flags ${String(flags)} not supported for map type '${typeName}'`);
  if ((spec.mapExtra ?? 0) !== 0) throw new InputError(`${where}: mapExtra ${String(spec.mapExtra)} must be 0 (only a bloom filter takes one)`);
  return { type, typeName, keySize: 0, valueSize: 0, maxEntries: size, flags: 0, name, mapExtra: 0 };
}
