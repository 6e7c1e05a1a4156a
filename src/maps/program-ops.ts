/**
 * Which map operation a program's helper call runs, by map type: one table that the JS helpers
 * (helpers.ts, for the interpreter and checked code) and the JIT's direct calls both read, so the
 * two engines cannot pick different operations. Every operation takes (map, key or value, ...) and,
 * for a per-CPU map, the CPU of the run last (ops.ts's ABI).
 */
import { BPF_MAP_TYPE } from './types.js';
import type { MapOpsExports } from './ops.js';

export type MapCall = 'lookup' | 'update' | 'delete' | 'push' | 'pop' | 'peek';

export interface ProgramOp {
  /** The export of the map operations module. */
  readonly name: keyof MapOpsExports;
  /** Whether the run's CPU is passed as the last argument. */
  readonly cpu: boolean;
}

const op = (name: keyof MapOpsExports, cpu = false): ProgramOp => ({ name, cpu });

const QUEUE_OPS = { push: op('queue_push'), pop: op('queue_pop'), peek: op('queue_peek') };

const TABLE: ReadonlyMap<number, Readonly<Partial<Record<MapCall, ProgramOp>>>> = new Map<number, Partial<Record<MapCall, ProgramOp>>>([
  [BPF_MAP_TYPE.ARRAY, { lookup: op('array_lookup'), update: op('array_update'), delete: op('array_delete') }],
  [BPF_MAP_TYPE.PERCPU_ARRAY, { lookup: op('percpu_array_lookup', true), update: op('percpu_array_update', true), delete: op('array_delete') }],
  [BPF_MAP_TYPE.HASH, { lookup: op('hash_lookup'), update: op('hash_update'), delete: op('hash_delete') }],
  [BPF_MAP_TYPE.LRU_HASH, { lookup: op('hash_lookup'), update: op('hash_update'), delete: op('hash_delete') }],
  [BPF_MAP_TYPE.PERCPU_HASH, { lookup: op('percpu_hash_lookup', true), update: op('percpu_hash_update', true), delete: op('hash_delete') }],
  [BPF_MAP_TYPE.LRU_PERCPU_HASH, { lookup: op('percpu_hash_lookup', true), update: op('percpu_hash_update', true), delete: op('hash_delete') }],
  [BPF_MAP_TYPE.LPM_TRIE, { lookup: op('lpm_lookup'), update: op('lpm_update'), delete: op('lpm_delete') }],
  [BPF_MAP_TYPE.QUEUE, QUEUE_OPS],
  [BPF_MAP_TYPE.STACK, QUEUE_OPS],
  [BPF_MAP_TYPE.BLOOM_FILTER, { push: op('bloom_push'), peek: op('bloom_peek') }],
]);

/** The map types a helper making `call` takes: the verifier's HelperProto.mapTypes. */
export const typesFor = (call: MapCall): number[] => [...TABLE].filter(([, ops]) => ops[call]).map(([type]) => type);

/** The operation `call` runs on a map of this type; undefined when programs cannot call it on one. */
export function programOp(typeId: number, call: MapCall): ProgramOp | undefined {
  return TABLE.get(typeId)?.[call];
}
