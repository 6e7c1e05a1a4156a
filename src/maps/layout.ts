/**
 * Where a map lives in the engine memory (docs/architecture.md section 2, "Maps"). Two heap
 * allocations, reserved at creation and never grown:
 *
 * - the header (u32 fields, H below) followed, for hash maps, by the bucket array (u32 element
 *   addresses, a power of two of them). Only the map operations read it; no BPF pointer points there.
 * - the data, what BPF pointers point into:
 *   - arrays: value slots of `stride` bytes (the value size rounded up to 8, as the kernel does), one
 *     block of maxEntries slots per CPU copy, each block starting on a 64-byte line so that CPUs do not
 *     share cache lines: value(i, cpu) = data + cpu * cpuStride + i * stride.
 *   - hash maps: a pool of maxEntries elements of `elemSize` bytes:
 *       +0 next (u32: the next element in the bucket, or in the free list), +4 hash (u32),
 *       +8 LRU prev, +12 LRU next (u32, LRU maps only), +16 key (rounded up to 8),
 *       +valueOffset value copies (one per CPU for per-CPU maps), `stride` bytes apart.
 *     Every element starts on the free list; the list and the buckets are all in memory, so the
 *     WebAssembly operations (ops.ts) are the only code that ever walks them.
 *   - ring buffers (MAX_ENTRIES = the size, a power of 2): 2 * size bytes. Records start at
 *     data + (position & (size - 1)), 8-aligned: an 8-byte header (u32 length with RB_BUSY and
 *     RB_DISCARD in its top bits, u32 the map's header address, where the kernel keeps a page
 *     offset to find its ring buffer from a record) and the data, rounded up to 8. The second half
 *     stands in for the kernel's second mapping of the data pages: a record that reaches past the
 *     end continues into it, contiguously, so a record is never split and producer and consumer
 *     both read it at data + (position & mask). The bytes the kernel's second mapping would alias at
 *     the start are simply not used by that record; positions count exactly as in the kernel.
 *     Consumer and producer positions are u32 in the header (RB_CONS, RB_PROD); they grow without
 *     bound and wrap at 2^32, harmless since only their differences (at most size) are used.
 */
import type { EngineMemory } from '../runtime/memory.js';
import { InputError } from '../errors.js';
import { isArrayType, isLruType, isPerCpuType, isRingBufType } from './types.js';
import { MAX_STORAGE_BYTES, mapLabel, type ValidSpec } from './spec.js';

/** Byte offsets of the header's u32 fields. */
export const H = {
  TYPE: 0, KEY_SIZE: 4, VALUE_SIZE: 8, MAX_ENTRIES: 12,
  /** Bytes between value copies and between array slots: valueSize rounded up to 8. */
  STRIDE: 16,
  /** How many copies of each value: the CPU count for per-CPU maps, else 1. */
  COPIES: 20,
  DATA: 24, DATA_SIZE: 28,
  /** Arrays: bytes between the CPU copies' blocks. */
  CPU_STRIDE: 32,
  /** Hash maps (BUCKETS is 0 for arrays): */
  BUCKETS: 36, BUCKET_MASK: 40, FREE: 44, COUNT: 48, ELEM_SIZE: 52, VALUE_OFFSET: 56, SEED: 60,
  /** 1 when the map evicts its least recently used element when full. */
  LRU: 64, LRU_HEAD: 68, LRU_TAIL: 72,
  /** Ring buffers: the consumer's and the producer's positions (u32, wrapping). */
  RB_CONS: 80, RB_PROD: 84,
} as const;
export const HEADER_SIZE = 96;

/** Ring buffer records: header size and the length word's flags (the kernel's BPF_RINGBUF_*). */
export const RB_HDR_SIZE = 8;
export const RB_BUSY = 0x80000000;
export const RB_DISCARD = 0x40000000;
/** The largest record a reserve takes (the kernel's RINGBUF_MAX_RECORD_SZ, UINT_MAX / 4). */
export const RB_MAX_RECORD = 0x3fffffff;

/** Offsets inside a hash element. */
export const E = { NEXT: 0, HASH: 4, LRU_PREV: 8, LRU_NEXT: 12, KEY: 16 } as const;

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

/** Reserves and describes the storage; the caller then clears it through the operations (map_clear). */
export function allocateMap(mem: EngineMemory, spec: ValidSpec, zeroSeed: boolean): MapLayout {
  const stride = roundUp(spec.valueSize, 8);
  const copies = isPerCpuType(spec.type) ? mem.cpus : 1;
  const array = isArrayType(spec.type);
  const cpuStride = roundUp(spec.maxEntries * stride, 64);
  const valueOffset = E.KEY + roundUp(spec.keySize, 8);
  const elemSize = valueOffset + copies * stride;
  const buckets = array || isRingBufType(spec.type) ? 0 : pow2AtLeast(spec.maxEntries);
  const ring = isRingBufType(spec.type);
  const dataSize = ring ? 2 * spec.maxEntries : array ? copies * cpuStride : spec.maxEntries * elemSize;
  if (dataSize + buckets * 4 > MAX_STORAGE_BYTES) {
    throw new InputError(`${mapLabel(spec.name, spec.typeName)}: maxEntries ${spec.maxEntries} with valueSize ${spec.valueSize}` +
      ` needs ${dataSize + buckets * 4} bytes, more than the ${MAX_STORAGE_BYTES} a map may have`);
  }
  const header = mem.alloc(HEADER_SIZE + buckets * 4, 64);
  const data = mem.alloc(dataSize, 64);
  const fields: Array<[number, number]> = [
    [H.TYPE, spec.type], [H.KEY_SIZE, spec.keySize], [H.VALUE_SIZE, spec.valueSize], [H.MAX_ENTRIES, spec.maxEntries],
    [H.STRIDE, stride], [H.COPIES, copies], [H.DATA, data], [H.DATA_SIZE, dataSize], [H.CPU_STRIDE, cpuStride],
    [H.BUCKETS, buckets === 0 ? 0 : header + HEADER_SIZE], [H.BUCKET_MASK, Math.max(buckets - 1, 0)], [H.ELEM_SIZE, elemSize],
    [H.VALUE_OFFSET, valueOffset], [H.SEED, zeroSeed ? 0 : randomSeed()], [H.LRU, isLruType(spec.type) ? 1 : 0],
    [H.RB_CONS, 0], [H.RB_PROD, 0],
  ];
  const view = mem.view;
  for (const [offset, value] of fields) view.setUint32(header + offset, value, true);
  return { header, data, dataSize, stride, copies };
}
