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
 *   - LPM tries: maxEntries value slots of `stride` bytes, and nothing else: the trie lives in the
 *     header's allocation, so the data holds only what programs get pointers to (valueRegion).
 *
 * An LPM trie's header allocation continues after the header with its node pool (H.LPM_NODES,
 * H.LPM_NODE_COUNT = 2 * maxEntries - 1 nodes of H.ELEM_SIZE bytes, N below: a trie whose
 * intermediate nodes have two children each has fewer intermediate nodes than entries) and the
 * stack of free value slots (H.LPM_VFREE: maxEntries u32 addresses, of which the first
 * maxEntries - COUNT are free).
 */
import type { EngineMemory } from '../runtime/memory.js';
import { InputError } from '../errors.js';
import { BPF_MAP_TYPE, isArrayType, isLruType, isPerCpuType } from './types.js';
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
  /**
   * LPM tries (FREE, COUNT and ELEM_SIZE as for hash maps, of nodes): the root node (0: empty), the
   * node pool and its length, and the stack of free value slots.
   */
  LPM_ROOT: 76, LPM_NODES: 80, LPM_NODE_COUNT: 84, LPM_VFREE: 88,
} as const;
export const HEADER_SIZE = 96;

/** Offsets inside a hash element. */
export const E = { NEXT: 0, HASH: 4, LRU_PREV: 8, LRU_NEXT: 12, KEY: 16 } as const;

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

function storageTooLarge(spec: ValidSpec, bytes: number): InputError {
  return new InputError(`${mapLabel(spec.name, spec.typeName)}: maxEntries ${spec.maxEntries} with valueSize ${spec.valueSize}` +
    ` needs ${bytes} bytes, more than the ${MAX_STORAGE_BYTES} a map may have`);
}

/** An LPM trie: the header, the node pool and the free value slots in one allocation, the values in the other. */
function allocateLpm(mem: EngineMemory, spec: ValidSpec): MapLayout {
  const stride = roundUp(spec.valueSize, 8);
  const nodeSize = roundUp(N.KEY + spec.keySize, 8);
  const nodeCount = 2 * spec.maxEntries - 1;
  const nodesOffset = HEADER_SIZE;
  const vfreeOffset = nodesOffset + nodeCount * nodeSize;
  const metaSize = vfreeOffset + spec.maxEntries * 4;
  const dataSize = spec.maxEntries * stride;
  if (metaSize + dataSize > MAX_STORAGE_BYTES) throw storageTooLarge(spec, metaSize + dataSize);
  const header = mem.alloc(metaSize, 64);
  const data = mem.alloc(dataSize, 64);
  const fields: Array<[number, number]> = [
    [H.TYPE, spec.type], [H.KEY_SIZE, spec.keySize], [H.VALUE_SIZE, spec.valueSize], [H.MAX_ENTRIES, spec.maxEntries],
    [H.STRIDE, stride], [H.COPIES, 1], [H.DATA, data], [H.DATA_SIZE, dataSize], [H.ELEM_SIZE, nodeSize],
    [H.LPM_NODES, header + nodesOffset], [H.LPM_NODE_COUNT, nodeCount], [H.LPM_VFREE, header + vfreeOffset],
  ];
  for (const [offset, value] of fields) mem.view.setUint32(header + offset, value, true);
  return { header, data, dataSize, stride, copies: 1 };
}

/** Reserves and describes the storage; the caller then clears it through the operations (map_clear). */
export function allocateMap(mem: EngineMemory, spec: ValidSpec, zeroSeed: boolean): MapLayout {
  if (spec.type === BPF_MAP_TYPE.LPM_TRIE) return allocateLpm(mem, spec);
  const stride = roundUp(spec.valueSize, 8);
  const copies = isPerCpuType(spec.type) ? mem.cpus : 1;
  const array = isArrayType(spec.type);
  const cpuStride = roundUp(spec.maxEntries * stride, 64);
  const valueOffset = E.KEY + roundUp(spec.keySize, 8);
  const elemSize = valueOffset + copies * stride;
  const buckets = array ? 0 : pow2AtLeast(spec.maxEntries);
  const dataSize = array ? copies * cpuStride : spec.maxEntries * elemSize;
  if (dataSize + buckets * 4 > MAX_STORAGE_BYTES) throw storageTooLarge(spec, dataSize + buckets * 4);
  const header = mem.alloc(HEADER_SIZE + buckets * 4, 64);
  const data = mem.alloc(dataSize, 64);
  const fields: Array<[number, number]> = [
    [H.TYPE, spec.type], [H.KEY_SIZE, spec.keySize], [H.VALUE_SIZE, spec.valueSize], [H.MAX_ENTRIES, spec.maxEntries],
    [H.STRIDE, stride], [H.COPIES, copies], [H.DATA, data], [H.DATA_SIZE, dataSize], [H.CPU_STRIDE, cpuStride],
    [H.BUCKETS, array ? 0 : header + HEADER_SIZE], [H.BUCKET_MASK, Math.max(buckets - 1, 0)], [H.ELEM_SIZE, elemSize],
    [H.VALUE_OFFSET, valueOffset], [H.SEED, zeroSeed ? 0 : randomSeed()], [H.LRU, isLruType(spec.type) ? 1 : 0],
  ];
  const view = mem.view;
  for (const [offset, value] of fields) view.setUint32(header + offset, value, true);
  return { header, data, dataSize, stride, copies };
}
