/**
 * What the map program generators share (map-gen.ts: keyed maps; map-gen-keyless.ts: queues,
 * stacks, bloom filters, ring buffers and global data): the maps every program gets, the stack
 * layout, and memory accesses at generated offsets of a value, a record or global data.
 *
 * Registers: r9 keeps the context, r7 folds every result, r6 holds the looked-up value or record,
 * r8 a ring buffer record held to the end.
 */
import fc from 'fast-check';
import type { MapSpec } from '../src/maps/spec.js';
import { BPF_F } from '../src/maps/types.js';

/** Hash maps and the bloom filter use seed 0, so every engine's memory lays them out (and iterates them) alike. */
const ZERO = BPF_F.ZERO_SEED;
export const MAP_DEFS: readonly MapSpec[] = [
  { type: 'array', keySize: 4, valueSize: 16, maxEntries: 4, name: 'arr' },
  { type: 'percpu_array', keySize: 4, valueSize: 8, maxEntries: 3, name: 'pcpu_arr' },
  { type: 'hash', keySize: 4, valueSize: 16, maxEntries: 4, flags: ZERO, name: 'hash' },
  { type: 'lru_hash', keySize: 8, valueSize: 8, maxEntries: 3, flags: ZERO, name: 'lru' },
  // 6-byte keys take the hash's general key compare (4- and 8-byte ones have a fast path).
  { type: 'percpu_hash', keySize: 6, valueSize: 12, maxEntries: 3, flags: ZERO, name: 'pcpu_hash' },
  // Keys { u32 prefixlen; u8 data[4] }: IPv4-sized prefixes.
  { type: 'lpm_trie', keySize: 8, valueSize: 8, maxEntries: 4, flags: BPF_F.NO_PREALLOC, name: 'lpm' },
  { type: 'queue', keySize: 0, valueSize: 8, maxEntries: 3, name: 'queue' },
  { type: 'stack', keySize: 0, valueSize: 4, maxEntries: 2, name: 'stack' },
  { type: 'bloom_filter', keySize: 0, valueSize: 4, maxEntries: 8, flags: ZERO, mapExtra: 3, name: 'bloom' },
  { type: 'ringbuf', keySize: 0, valueSize: 0, maxEntries: 4096, name: 'ring' },
  // Global data: map_value_by_idx(GLOBAL_MAP, off) is the address of its one value.
  { type: 'array', keySize: 4, valueSize: 16, maxEntries: 1, name: 'global' },
  // Values holding a bpf_spin_lock (at 4 and at 0); the spin op updates the u64 at 8.
  { type: 'array', keySize: 4, valueSize: 16, maxEntries: 2, spinLockOffset: 4, name: 'spin_arr' },
  { type: 'hash', keySize: 4, valueSize: 16, maxEntries: 3, flags: ZERO, spinLockOffset: 0, name: 'spin_hash' },
  { type: 'perf_event_array', keySize: 4, valueSize: 4, maxEntries: 2, bufferSize: 4096, name: 'perf' },
  // Slot i holds the spec's tail program i (map-run.ts).
  { type: 'prog_array', keySize: 4, valueSize: 4, maxEntries: 2, name: 'progs' },
];

const indexOf = (name: string): number => MAP_DEFS.findIndex((d) => d.name === name);
/** The maps lookup, update and delete take. */
export const KEYED_MAPS = ['arr', 'pcpu_arr', 'hash', 'lru', 'pcpu_hash', 'lpm', 'global'].map(indexOf);
export const LPM_MAP = indexOf('lpm');
export const QUEUE_MAPS = ['queue', 'stack'].map(indexOf);
export const BLOOM_MAP = indexOf('bloom');
export const RING_MAP = indexOf('ring');
export const GLOBAL_MAP = indexOf('global');
export const SPIN_MAPS = ['spin_arr', 'spin_hash'].map(indexOf);
export const PERF_MAP = indexOf('perf');
export const PROG_MAP = indexOf('progs');
/** The maps for_each_map_elem walks in verifiable programs (not those with a lock: a callback's accesses could reach it). */
export const FOR_EACH_MAPS = ['arr', 'pcpu_arr', 'hash', 'lru', 'pcpu_hash', 'global'].map(indexOf);

export const INPUT_BYTES = 8;
export const KEY_AT = -16;
/** Values pushed, popped, peeked or output: 24 bytes below the key. */
export const VALUE_AT = -40;
export const VALUE_BYTES = 24;
/** A callback's context, { fold, calls }: 16 bytes below the value. */
export const CB_CTX_AT = -56;

export const weighted = <T>(...pairs: Array<readonly [number, fc.Arbitrary<T>]>): fc.Arbitrary<T> =>
  fc.oneof({ withCrossShrink: true }, ...pairs.map(([weight, arbitrary]) => ({ weight, arbitrary })));

/** One of `verified` maps; in unverifiable programs now and then any map (a type its helper does not take). */
export const mapOf = (verified: readonly number[], verifiable: boolean): fc.Arbitrary<number> => (verifiable
  ? fc.constantFrom(...verified)
  : weighted([9, fc.constantFrom(...verified)], [1, fc.nat(MAP_DEFS.length - 1)]));

export interface Access {
  readonly k: 'load' | 'store' | 'add';
  readonly size: 1 | 2 | 4 | 8;
  /** Raw offset; folded into the value (verifiable) or around it. */
  readonly off: number;
  readonly v: number;
}

const SIZES = fc.constantFrom(1 as const, 2 as const, 4 as const, 8 as const);
const ACCESS_KINDS: Record<Access['k'], readonly [number, fc.Arbitrary<Access>]> = {
  load: [3, fc.record({ k: fc.constant('load' as const), size: SIZES, off: fc.nat(31), v: fc.constant(0) })],
  store: [2, fc.record({ k: fc.constant('store' as const), size: SIZES, off: fc.nat(31), v: fc.integer({ min: -100, max: 1000 }) })],
  add: [2, fc.record({ k: fc.constant('add' as const), size: fc.constantFrom(4 as const, 8 as const), off: fc.nat(31), v: fc.integer({ min: -5, max: 5 }) })],
};

/** Loads, stores and atomic adds (of the kinds given) at raw offsets. */
export const access = (kinds: ReadonlyArray<Access['k']> = ['load', 'store', 'add']): fc.Arbitrary<Access> =>
  weighted<Access>(...kinds.map((k) => ACCESS_KINDS[k]));

/**
 * The offset an access uses: inside a value of `valueSize` bytes (naturally aligned for atomics), or,
 * unverified, 8 bytes before to 24 past it: into a neighbouring value, or outside the map's values (a
 * fault; a hash map's links and keys lie apart from its values, so no write can break the map).
 * Undefined when a verifiable access does not fit in the value at all.
 */
export function accessOffset(a: Access, valueSize: number, verifiable: boolean): number | undefined {
  const align = a.k === 'add' ? a.size : 1;
  if (verifiable) return a.size > valueSize ? undefined : Math.floor((a.off % (valueSize - a.size + 1)) / align) * align;
  return Math.floor((a.off - 8) / align) * align + (a.off % 11 === 0 ? valueSize : 0);
}

/** Value bytes of an update or push, 4 at a time from the seed (every value size is a multiple of 4). */
export function valueWords(seed: number, valueSize: number): number[] {
  return Array.from({ length: valueSize / 4 }, (_, i) => ((seed * 0x01010101) ^ (i * 0x9e3779b1)) | 0);
}

const width = { 1: 'b', 2: 'h', 4: 'w', 8: 'dw' } as const;
export const at = (reg: string, off: number): string => `[%${reg}${off < 0 ? '' : '+'}${off}]`;

export const fold = (reg: string): string[] => ['mul %r7, 31', `add %r7, %${reg}`];

/** The value words of `seed` written at r10 + VALUE_AT. */
export const valueLines = (seed: number, valueSize: number): string[] =>
  valueWords(seed, valueSize).map((w, j) => `stw ${at('r10', VALUE_AT + 4 * j)}, ${w}`);

/** The access at r6 + `off` - `base` (r6 points `base` bytes into the value). */
export function accessLines(a: Access, off: number, base = 0): string[] {
  const o = off - base;
  switch (a.k) {
    case 'load': return [`ldx${width[a.size]} %r3, ${at('r6', o)}`, ...fold('r3')];
    case 'store': return [`st${width[a.size]} ${at('r6', o)}, ${a.v}`];
    case 'add': return [`mov %r3, ${a.v}`, `lock add${a.size === 4 ? '32' : ''} ${at('r6', o)}, %r3`];
  }
}

/** The accesses' lines on a value of `valueSize` bytes at r6 (- base); verifiable accesses that cannot fit are left out. */
export function accessesLines(accesses: readonly Access[], valueSize: number, verifiable: boolean, base = 0): string[] {
  return accesses.flatMap((a) => {
    const off = accessOffset(a, valueSize, verifiable);
    return off === undefined ? [] : accessLines(a, off, base);
  });
}
