/**
 * Where a map lives in the engine memory (docs/architecture.md section 2, "Maps"). At most two heap
 * allocations, reserved at creation and never grown, split by who may touch them:
 *
 * - the metadata, which only the map operations (ops.ts) read and write; no BPF pointer points there:
 *   the header (u32 fields, H below), then for hash maps the bucket array (u32 element addresses, a
 *   power of two of them), then the `elems` area (H.ELEMS):
 *   - hash maps: a pool of maxEntries + 1 elements of `elemSize` bytes (the spare one is what an update
 *     of an existing key swaps in when the map is full, as the kernel's extra elements): +0 next (u32: the next element in
 *     the bucket, or in the free list), +4 hash, +8 LRU prev, +12 LRU next (LRU maps only), +16 the
 *     address of the element's values (set at creation, never changed), +24 key (rounded up to 8);
 *   - queue and stack: a ring of maxEntries + 1 value slots (one always empty, as in the kernel);
 *   - bloom filter: the bit set;
 *   - prog_array: maxEntries u32 slots, each 0 or a program id (prog-array.ts), where no program can point;
 *   - ring buffers: the control block (RB_CTL: positions, lock, wake word, drop count);
 *   - perf_event_array: the map's control block and one per entry (perf-spec.ts), then the entries' output buffers,
 *     bufferSize bytes each, which programs only copy records into (the data is empty);
 *   - LPM trie: a pool of H.LPM_NODE_COUNT = 2 * maxEntries - 1 nodes of `elemSize` bytes (N below:
 *     a trie whose intermediate nodes have two children each has fewer of them than entries), then
 *     the stack of free value slots (H.LPM_VFREE: maxEntries u32 addresses, the first
 *     maxEntries - COUNT of them free).
 * - the data (H.DATA, BpfMap.valueRegion): the values, and only the values, that programs get pointers
 *   to. A program (checked mode may grant it this region) can write anything there without breaking
 *   the map: no operation reads a link, an index or a size from it.
 *   - arrays: value slots of `stride` bytes (the value size rounded up to 8, as the kernel does), one
 *     block of maxEntries slots per CPU copy, each block starting on a 64-byte line so that CPUs do not
 *     share cache lines: value(i, cpu) = data + cpu * cpuStride + i * stride.
 *   - hash maps: element i's copies (one per CPU for per-CPU maps) at data + (i * copies + cpu) * stride.
 *   - LPM trie: maxEntries value slots of `stride` bytes, handed out from the stack of free slots.
 *   - queue, stack and bloom filter: none (programs only get copies, through pop and peek).
 *   - ring buffers (MAX_ENTRIES = the size, a power of 2): 2 * size bytes. Records start at
 *     data + (position & (size - 1)), 8-aligned: an 8-byte header (u32 length with RB_BUSY and
 *     RB_DISCARD in its top bits, u32 the map's header address, where the kernel keeps a page
 *     offset to find its ring buffer from a record) and the data, rounded up to 8. The second half
 *     stands in for the kernel's second mapping of the data pages: a record that reaches past the
 *     end continues into it, contiguously, so a record is never split and producer and consumer
 *     both read it at data + (position & mask). The bytes the kernel's second mapping would alias at
 *     the start are simply not used by that record; positions count exactly as in the kernel.
 *     Consumer and producer positions are u32 in a control block in the metadata (at ELEMS, RB_CTL
 *     below); they grow without bound and wrap at 2^32, harmless since only their differences (at
 *     most size) are used. The consumer's words and the producers' are 128 bytes apart, as the kernel
 *     keeps them on separate pages, so that the consumer's stores do not steal the producers' line.
 *     The one exception to "nothing the operations read": record headers sit between the records,
 *     as in the kernel's data pages. Only reserve writes them and only submit and discard (given a
 *     record, which the verifier or the checked helper vouches for) and the consumer read them; an
 *     unverified program writing over one garbles that buffer's records, and the consumer never
 *     reads past what was produced.
 */
import type { EngineMemory } from '../runtime/memory.js';
import { InputError } from '../errors.js';
import { BPF_MAP_TYPE, isArrayType, isLruType, isPerCpuType, isQueueType, isRingBufType } from './types.js';
import { MAX_STORAGE_BYTES, mapLabel, type ValidSpec } from './spec.js';
import { PERF_CTL, PERF_CTL_FIRST } from './perf-spec.js';

/** Byte offsets of the header's u32 fields. */
export const H = {
  TYPE: 0, KEY_SIZE: 4, VALUE_SIZE: 8, MAX_ENTRIES: 12,
  /** Bytes between value copies and between array slots: valueSize rounded up to 8. */
  STRIDE: 16,
  /** How many copies of each value: the CPU count for per-CPU maps, else 1. */
  COPIES: 20,
  /** The values programs may point into (valueRegion); 0 and 0 when there are none. */
  DATA: 24, DATA_SIZE: 28,
  /** Arrays: bytes between the CPU copies' blocks. */
  CPU_STRIDE: 32,
  /** Hash maps (BUCKETS is 0 for every other kind): */
  BUCKETS: 36, BUCKET_MASK: 40, FREE: 44, COUNT: 48, ELEM_SIZE: 52,
  /** The operations' own area in the metadata allocation: hash elements, a ring, or bits. */
  ELEMS: 56, ELEMS_SIZE: 60,
  SEED: 64,
  /** 1 when the map evicts its least recently used element when full. */
  LRU: 68, LRU_HEAD: 72, LRU_TAIL: 76,
  /** Queue and stack: the next slot to write, the oldest element, and the ring's length in slots. */
  HEAD: 80, TAIL: 84, RING: 88,
  /** Bloom filter: the number of hash functions, and the mask of a bit index. */
  HASHES: 92, BIT_MASK: 96,
  /** 100 and 104: free (the ring buffer's positions moved to its control block, RB_CTL). */
  /**
   * LPM trie (FREE, COUNT and ELEM_SIZE as for hash maps, of nodes; the node pool at ELEMS): the root
   * node (0: empty), the pool's length in nodes, and the stack of free value slots.
   */
  LPM_ROOT: 108, LPM_NODE_COUNT: 112, LPM_VFREE: 116,
  /**
   * perf_event_array: the mask of a position in a buffer (its size - 1), and the first buffer; the
   * buffers' control blocks (perf-spec.ts PERF_CTL) are at ELEMS, the buffers follow them.
   */
  PERF_MASK: 120, PERF_BUFS: 124,
  /** Hash and array maps: the offset of the values' bpf_spin_lock + 1, or 0 for none (spin-lock.ts). */
  SPIN_LOCK: 128,
  /**
   * The map's lock (ops-lock.ts: 0 free, 1 held, 2 held with sleepers): the operations that change
   * or walk a map's links (hash maps, LPM tries, queues, stacks, bloom filters) run under it.
   */
  LOCK: 132,
} as const;
export const HEADER_SIZE = 136;

/** Ring buffer records: header size and the length word's flags (the kernel's BPF_RINGBUF_*). */
export const RB_HDR_SIZE = 8;
export const RB_BUSY = 0x80000000;
export const RB_DISCARD = 0x40000000;
/** The largest record a reserve takes (the kernel's RINGBUF_MAX_RECORD_SZ, UINT_MAX / 4). */
export const RB_MAX_RECORD = 0x3fffffff;

/**
 * A ring buffer's control block (at H.ELEMS; zeroed at creation), u32 words. The consumer's line:
 * its position (CONS) and WAITING, 1 while the host sleeps on it (Atomics.waitAsync) until a submit
 * wakes it. The producers' line, 128 bytes on: LOCK (1 while a producer reserves), the producer
 * position (PROD), and DROPPED, the records a reserve or output refused for lack of room.
 */
export const RB_CTL = { CONS: 0, WAITING: 4, LOCK: 128, PROD: 132, DROPPED: 136, SIZE: 256 } as const;

/** Offsets inside a hash element. */
export const E = { NEXT: 0, HASH: 4, LRU_PREV: 8, LRU_NEXT: 12, VALUE: 16, KEY: 24 } as const;

/**
 * Offsets inside an LPM trie node: the two children (u32 node addresses, 0 for none; CHILD0 links
 * the free list), the address of the node's value slot (0 for an intermediate node, which holds no
 * entry), then the key as `struct bpf_lpm_trie_key`: the prefix length (u32) and the data, in
 * network order, with the bits past the prefix length zero.
 */
export const N = { CHILD0: 0, CHILD1: 4, VALUE: 8, KEY: 12, PREFIXLEN: 12, DATA: 16 } as const;

const roundUp = (n: number, to: number): number => Math.ceil(n / to) * to;
const pow2AtLeast = (n: number): number => 2 ** Math.ceil(Math.log2(n));

/** What the JS side keeps of a map: the addresses and the sizes it needs to copy keys and values. */
export interface MapLayout {
  readonly header: number;
  readonly data: number;
  readonly dataSize: number;
  readonly stride: number;
  readonly copies: number;
}

function randomSeed(): number {
  return crypto.getRandomValues(new Uint32Array(1))[0]!;
}

/**
 * The bloom filter's size in bits as the kernel's bloom_map_alloc computes it: entries * hashes / ln 2
 * (7/5 for 1/ln 2), a power of two of at least 64; 2^32 when that would pass 2^31.
 */
export function bloomBits(maxEntries: number, hashes: number): number {
  const bits = Math.floor((maxEntries * hashes) / 5) * 7;
  if (maxEntries * hashes > 0xffffffff || bits > 2 ** 31) return 2 ** 32;
  return bits <= 64 ? 64 : pow2AtLeast(bits);
}

const perfControlSize = (spec: ValidSpec): number => PERF_CTL_FIRST + spec.maxEntries * PERF_CTL.SIZE;

const lpmNodeCount = (spec: ValidSpec): number => 2 * spec.maxEntries - 1;

interface Sizes { dataSize: number; elemsSize: number; buckets: number; elemSize: number; cpuStride: number; bits: number }

function sizes(spec: ValidSpec, stride: number, copies: number): Sizes {
  const none = { dataSize: 0, elemsSize: 0, buckets: 0, elemSize: 0, cpuStride: 0, bits: 0 };
  if (isArrayType(spec.type)) {
    const cpuStride = roundUp(spec.maxEntries * stride, 64);
    return { ...none, dataSize: copies * cpuStride, cpuStride };
  }
  if (isQueueType(spec.type)) return { ...none, elemsSize: (spec.maxEntries + 1) * stride };
  if (isRingBufType(spec.type)) return { ...none, dataSize: 2 * spec.maxEntries, elemsSize: RB_CTL.SIZE };
  if (spec.type === BPF_MAP_TYPE.PROG_ARRAY) return { ...none, elemsSize: 4 * spec.maxEntries };
  if (spec.type === BPF_MAP_TYPE.PERF_EVENT_ARRAY) return { ...none, elemsSize: perfControlSize(spec) + spec.maxEntries * spec.bufferSize! };
  if (spec.type === BPF_MAP_TYPE.BLOOM_FILTER) {
    const bits = bloomBits(spec.maxEntries, spec.mapExtra || 5);
    return { ...none, elemsSize: bits / 8, bits };
  }
  if (spec.type === BPF_MAP_TYPE.LPM_TRIE) {
    const elemSize = roundUp(N.KEY + spec.keySize, 8);
    return { ...none, dataSize: spec.maxEntries * stride, elemsSize: lpmNodeCount(spec) * elemSize + spec.maxEntries * 4, elemSize };
  }
  const elemSize = E.KEY + roundUp(spec.keySize, 8);
  const pool = spec.maxEntries + 1;
  return { ...none, dataSize: pool * copies * stride, elemsSize: pool * elemSize, buckets: pow2AtLeast(spec.maxEntries), elemSize };
}

/** Reserves and describes the storage; the caller then clears it through the operations (map_clear). */
export function allocateMap(mem: EngineMemory, spec: ValidSpec, zeroSeed: boolean): MapLayout {
  const stride = roundUp(spec.valueSize, 8);
  const copies = isPerCpuType(spec.type) ? mem.cpus : 1;
  const s = sizes(spec, stride, copies);
  const elemsOffset = roundUp(HEADER_SIZE + s.buckets * 4, 64);
  const total = s.dataSize + elemsOffset + s.elemsSize;
  if (total > MAX_STORAGE_BYTES) {
    throw new InputError(`${mapLabel(spec.name, spec.typeName)}: maxEntries ${spec.maxEntries} with valueSize ${spec.valueSize}` +
      ` needs ${total} bytes, more than the ${MAX_STORAGE_BYTES} a map may have`);
  }
  const header = mem.alloc(elemsOffset + s.elemsSize, 64);
  const data = s.dataSize > 0 ? mem.alloc(s.dataSize, 64) : 0;
  const fields: Array<[number, number]> = [
    [H.TYPE, spec.type], [H.KEY_SIZE, spec.keySize], [H.VALUE_SIZE, spec.valueSize], [H.MAX_ENTRIES, spec.maxEntries],
    [H.STRIDE, stride], [H.COPIES, copies], [H.DATA, data], [H.DATA_SIZE, s.dataSize], [H.CPU_STRIDE, s.cpuStride],
    [H.BUCKETS, s.buckets ? header + HEADER_SIZE : 0], [H.BUCKET_MASK, Math.max(s.buckets - 1, 0)], [H.ELEM_SIZE, s.elemSize],
    [H.ELEMS, header + elemsOffset], [H.ELEMS_SIZE, s.elemsSize], [H.SEED, zeroSeed ? 0 : randomSeed()],
    [H.LRU, isLruType(spec.type) ? 1 : 0], [H.RING, spec.maxEntries + 1],
    [H.SPIN_LOCK, spec.spinLockOffset === undefined ? 0 : spec.spinLockOffset + 1], [H.LOCK, 0], [H.HASHES, spec.mapExtra || 5], [H.BIT_MASK, Math.max(s.bits - 1, 0)],
    ...(spec.type === BPF_MAP_TYPE.PERF_EVENT_ARRAY ? [
      [H.PERF_MASK, spec.bufferSize! - 1], [H.PERF_BUFS, header + elemsOffset + perfControlSize(spec)],
    ] as Array<[number, number]> : []),
    ...(spec.type === BPF_MAP_TYPE.LPM_TRIE ? [
      [H.LPM_NODE_COUNT, lpmNodeCount(spec)], [H.LPM_VFREE, header + elemsOffset + lpmNodeCount(spec) * s.elemSize],
    ] as Array<[number, number]> : []),
  ];
  const view = mem.view;
  for (const [offset, value] of fields) view.setUint32(header + offset, value >>> 0, true);
  return { header, data, dataSize: s.dataSize, stride, copies };
}
