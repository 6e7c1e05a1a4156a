/**
 * Map types with Linux's numbering (include/uapi/linux/bpf.h, enum bpf_map_type), so map descriptions
 * written for the kernel (libbpf's `.maps`, bpftool) carry over unchanged. Only some are implemented
 * (IMPLEMENTED); the others are named so that a spec using them is refused as "not supported yet"
 * rather than as unknown.
 */
export const BPF_MAP_TYPE = {
  HASH: 1, ARRAY: 2, PROG_ARRAY: 3, PERF_EVENT_ARRAY: 4, PERCPU_HASH: 5, PERCPU_ARRAY: 6, STACK_TRACE: 7,
  CGROUP_ARRAY: 8, LRU_HASH: 9, LRU_PERCPU_HASH: 10, LPM_TRIE: 11, ARRAY_OF_MAPS: 12, HASH_OF_MAPS: 13,
  DEVMAP: 14, SOCKMAP: 15, CPUMAP: 16, XSKMAP: 17, SOCKHASH: 18, CGROUP_STORAGE: 19, REUSEPORT_SOCKARRAY: 20,
  PERCPU_CGROUP_STORAGE: 21, QUEUE: 22, STACK: 23, SK_STORAGE: 24, DEVMAP_HASH: 25, STRUCT_OPS: 26,
  RINGBUF: 27, INODE_STORAGE: 28, TASK_STORAGE: 29, BLOOM_FILTER: 30, USER_RINGBUF: 31, CGRP_STORAGE: 32, ARENA: 33,
} as const;

export type MapTypeId = (typeof BPF_MAP_TYPE)[keyof typeof BPF_MAP_TYPE];
/** The lower-case names libbpf and bpftool print: 'hash', 'percpu_array', 'lru_hash', ... */
export type MapTypeName = Lowercase<keyof typeof BPF_MAP_TYPE>;

/** The types this runtime implements (the storage and operations of src/maps). */
export const IMPLEMENTED = new Set<number>([
  BPF_MAP_TYPE.HASH, BPF_MAP_TYPE.ARRAY, BPF_MAP_TYPE.PERCPU_HASH, BPF_MAP_TYPE.PERCPU_ARRAY,
  BPF_MAP_TYPE.LRU_HASH, BPF_MAP_TYPE.LRU_PERCPU_HASH, BPF_MAP_TYPE.LPM_TRIE, BPF_MAP_TYPE.QUEUE, BPF_MAP_TYPE.STACK,
  BPF_MAP_TYPE.BLOOM_FILTER, BPF_MAP_TYPE.RINGBUF, BPF_MAP_TYPE.PERF_EVENT_ARRAY, BPF_MAP_TYPE.PROG_ARRAY,
]);

export type PerCpuMapType = 'percpu_hash' | 'percpu_array' | 'lru_percpu_hash'
  | typeof BPF_MAP_TYPE.PERCPU_HASH | typeof BPF_MAP_TYPE.PERCPU_ARRAY | typeof BPF_MAP_TYPE.LRU_PERCPU_HASH;

const BY_NAME = new Map<string, MapTypeId>(Object.entries(BPF_MAP_TYPE).map(([k, v]) => [k.toLowerCase(), v]));
const NAME_OF = new Map<number, MapTypeName>(Object.entries(BPF_MAP_TYPE).map(([k, v]) => [v, k.toLowerCase() as MapTypeName]));

/** The type's number, from a name or a number; undefined for neither. */
export function mapTypeId(type: string | number): MapTypeId | undefined {
  if (typeof type === 'string') return BY_NAME.get(type.toLowerCase());
  return NAME_OF.has(type) ? (type as MapTypeId) : undefined;
}

export function mapTypeName(id: MapTypeId): MapTypeName {
  return NAME_OF.get(id)!;
}

export const isArrayType = (id: number): boolean => id === BPF_MAP_TYPE.ARRAY || id === BPF_MAP_TYPE.PERCPU_ARRAY;
export const isPerCpuType = (id: number): boolean =>
  id === BPF_MAP_TYPE.PERCPU_ARRAY || id === BPF_MAP_TYPE.PERCPU_HASH || id === BPF_MAP_TYPE.LRU_PERCPU_HASH;
export const isRingBufType = (id: number): boolean => id === BPF_MAP_TYPE.RINGBUF;
export const isPerfEventArrayType = (id: number): boolean => id === BPF_MAP_TYPE.PERF_EVENT_ARRAY;
export const isLruType = (id: number): boolean => id === BPF_MAP_TYPE.LRU_HASH || id === BPF_MAP_TYPE.LRU_PERCPU_HASH;
/** Queue and stack: one ring, the header says which end pop takes from. */
export const isQueueType = (id: number): boolean => id === BPF_MAP_TYPE.QUEUE || id === BPF_MAP_TYPE.STACK;
/** The types without keys (keySize 0), used through push, pop and peek. */
export const isKeylessType = (id: number): boolean => isQueueType(id) || id === BPF_MAP_TYPE.BLOOM_FILTER || id === BPF_MAP_TYPE.RINGBUF;

/** Map creation flags (BPF_F_*) this runtime knows; see spec.ts for which types accept which. */
export const BPF_F = {
  /**
   * Kernel: allocate hash elements on demand. Here storage is always preallocated, which only changes
   * memory use. An LPM trie requires it, as in the kernel.
   */
  NO_PREALLOC: 1 << 0,
  /** Hash the keys with seed 0 instead of a random seed: a reproducible layout and iteration order. */
  ZERO_SEED: 1 << 6,
  /**
   * Programs may only read the values (libbpf's `.rodata`): the verifier refuses stores, atomics and
   * writing helpers; once the host freezes the map, loads at known offsets are constants to it.
   */
  RDONLY_PROG: 1 << 7,
  /** Programs may only write the values: the verifier refuses loads from them. */
  WRONLY_PROG: 1 << 8,
} as const;

/** The kernel's BPF_F_ACCESS_MASK, the part of it about programs: at most one of the two. */
export const PROG_ACCESS_FLAGS = BPF_F.RDONLY_PROG | BPF_F.WRONLY_PROG;

/** Update flags of bpf_map_update_elem. */
export const BPF_ANY = 0;
export const BPF_NOEXIST = 1;
export const BPF_EXIST = 2;
