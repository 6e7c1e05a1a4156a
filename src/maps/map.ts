/**
 * The host API of maps, in the style of libbpf and cilium/ebpf: create a map in an engine memory
 * (createMap), then use it through BpfMap (map-keyed.ts) or, for a queue, a stack or a bloom filter,
 * the subclasses of map-keyless.ts, or for a ring buffer RingBuf (ringbuf.ts), for a perf_event_array PerfEventArray (perf.ts) (docs/architecture.md
 * section 2, "Maps").
 */
import type { EngineMemory } from '../runtime/memory.js';
import { BPF_MAP_TYPE, isQueueType, type PerCpuMapType } from './types.js';
import { BpfMap } from './map-keyed.js';
import { BpfBloomFilter, BpfQueue } from './map-keyless.js';
import { RingBuf } from './ringbuf.js';
import { ProgArray } from './prog-array.js';
import { PerfEventArray } from './perf.js';
import { validateSpec, type MapSpec, type ValidSpec } from './spec.js';
import type { MapShare } from './map-base.js';

export { BpfMap, type MapValues } from './map-keyed.js';
export type { MapShare } from './map-base.js';
export { RingBuf } from './ringbuf.js';
export { ProgArray, type TailProgram } from './prog-array.js';
export { PerfEventArray } from './perf.js';

type SingleMapType = 'hash' | 'array' | 'lru_hash' | 'lpm_trie' | 1 | 2 | 9 | 11;
type QueueMapType = 'queue' | 'stack' | 22 | 23;
type BloomMapType = 'bloom_filter' | 30;

/** Creates a map in the engine memory, with the kernel's checks (spec.ts); its storage is reserved now and never grows. */
export function createMap(mem: EngineMemory, spec: MapSpec & { type: PerCpuMapType }): BpfMap<Uint8Array[]>;
export function createMap(mem: EngineMemory, spec: MapSpec & { type: SingleMapType }): BpfMap<Uint8Array>;
export function createMap(mem: EngineMemory, spec: MapSpec & { type: QueueMapType }): BpfQueue;
export function createMap(mem: EngineMemory, spec: MapSpec & { type: BloomMapType }): BpfBloomFilter;
export function createMap(mem: EngineMemory, spec: MapSpec & { type: 'ringbuf' | 27 }): RingBuf;
export function createMap(mem: EngineMemory, spec: MapSpec & { type: 'prog_array' | 3 }): ProgArray;
export function createMap(mem: EngineMemory, spec: MapSpec & { type: 'perf_event_array' | 4 }): PerfEventArray;
export function createMap(mem: EngineMemory, spec: MapSpec): BpfMap;
export function createMap(mem: EngineMemory, spec: MapSpec): BpfMap {
  return construct(mem, validateSpec(spec));
}

/**
 * This thread's BpfMap over a map another thread created in the same memory (`map.share()`, posted
 * to a worker thread): the same storage, nothing reserved or cleared.
 */
export function attachMap(mem: EngineMemory, share: MapShare): BpfMap {
  return construct(mem, share.spec, share);
}

function construct(mem: EngineMemory, valid: ValidSpec, attached?: MapShare): BpfMap {
  if (isQueueType(valid.type)) return new BpfQueue(mem, valid, attached);
  if (valid.type === BPF_MAP_TYPE.BLOOM_FILTER) return new BpfBloomFilter(mem, valid, attached);
  if (valid.type === BPF_MAP_TYPE.RINGBUF) return new RingBuf(mem, valid, attached);
  if (valid.type === BPF_MAP_TYPE.PROG_ARRAY) return new ProgArray(mem, valid, attached);
  if (valid.type === BPF_MAP_TYPE.PERF_EVENT_ARRAY) return new PerfEventArray(mem, valid, attached);
  return new BpfMap(mem, valid, attached);
}
