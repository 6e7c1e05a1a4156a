/**
 * The kernel's map helpers with Linux's numbers and prototypes (include/uapi/linux/bpf.h):
 * bpf_map_lookup_elem (1), bpf_map_update_elem (2), bpf_map_delete_elem (3),
 * bpf_map_lookup_percpu_elem (195), and for queues, stacks and bloom filters bpf_map_push_elem (87),
 * bpf_map_pop_elem (88) and bpf_map_peek_elem (89). Their work is the map operations' (ops.ts), called here for the
 * interpreter and for code the JIT does not call them from directly; a helper takes only the maps
 * the program was loaded with, and its pointer arguments only inside the run's regions (a checked
 * program's may be anything).
 */
import { HelperFault, checkedAddress, type HelperEnv, type HelperSpec } from '../runtime/helpers.js';
import type { BpfMap } from './map.js';
import { mapOperations } from './ops.js';
import { programOp, typesFor, type MapCall } from './program-ops.js';
import { EINVAL, EPERM } from './errno.js';
import { BPF_F, BPF_MAP_TYPE, isPerCpuType } from './types.js';

export const MAP_LOOKUP_ELEM = 1;
export const MAP_UPDATE_ELEM = 2;
export const MAP_DELETE_ELEM = 3;
export const MAP_LOOKUP_PERCPU_ELEM = 195;
export const MAP_PUSH_ELEM = 87;
export const MAP_POP_ELEM = 88;
export const MAP_PEEK_ELEM = 89;

/** The maps map_lookup_percpu_elem takes, as the kernel's check_map_func_compatibility. */
const PERCPU_TYPES = [BPF_MAP_TYPE.PERCPU_ARRAY, BPF_MAP_TYPE.PERCPU_HASH, BPF_MAP_TYPE.LRU_PERCPU_HASH];

/** The map r1 names: one of the program's, or a fault (only unverified code can get here with another). */
function mapOf(env: HelperEnv, r1: bigint, name: string): BpfMap {
  const map = r1 >= 0n && r1 <= 0xffffffffn ? env.maps.get(Number(r1)) : undefined;
  if (!map) throw new HelperFault(`${name}: r1 (0x${r1.toString(16)}) is not one of the program's maps`);
  return map;
}

/**
 * The map r1 names, for a helper that changes its entries (update, delete, push, pop), or undefined
 * when the map is BPF_F_RDONLY_PROG: the verifier refuses such a call (map-access.ts), and checked
 * code gets -EPERM from it, the kernel's answer to a write the map's permissions forbid.
 */
function writableMapOf(env: HelperEnv, r1: bigint, name: string): BpfMap | undefined {
  const map = mapOf(env, r1, name);
  return (map.flags & BPF_F.RDONLY_PROG) !== 0 ? undefined : map;
}

const NOT_WRITABLE = BigInt.asUintN(64, BigInt(-EPERM));

/** Runs the operation of `call` on `map` with these arguments, the CPU appended where it takes one. */
function run(env: HelperEnv, map: BpfMap, call: MapCall, args: bigint[]): bigint {
  const op = programOp(map.typeId, call);
  // A lookup the map type does not serve finds nothing (NULL, as the kernel's queue_stack_map_lookup_elem):
  // -EINVAL would read as a pointer.
  if (!op) return call === 'lookup' ? 0n : BigInt(-EINVAL);
  const fn = mapOperations(env.mem)[op.name] as (...a: bigint[]) => bigint;
  return fn(BigInt(map.address), ...args, ...(op.cpu ? [BigInt(env.cpu)] : []));
}

/** bpf_map_lookup_elem, update_elem, delete_elem and lookup_percpu_elem. */
export function mapHelpers(): HelperSpec[] {
  return [
    {
      id: MAP_LOOKUP_ELEM, name: 'map_lookup_elem', mapCall: 'lookup', proto: { args: ['map', 'map_key'], ret: 'map_value_or_null', mapTypes: typesFor('lookup') },
      impl: (r1, r2, _r3, _r4, _r5, env) => {
        const map = mapOf(env, r1, 'map_lookup_elem');
        return run(env, map, 'lookup', [BigInt(checkedAddress(env, r2, map.keySize))]);
      },
    },
    {
      id: MAP_UPDATE_ELEM, name: 'map_update_elem', mapCall: 'update', proto: { args: ['map', 'map_key', 'map_value', 'scalar'], ret: 'scalar', mapTypes: typesFor('update') },
      impl: (r1, r2, r3, r4, _r5, env) => {
        const map = writableMapOf(env, r1, 'map_update_elem');
        if (!map) return NOT_WRITABLE;
        const key = BigInt(checkedAddress(env, r2, map.keySize));
        const value = BigInt(checkedAddress(env, r3, map.valueSize));
        return BigInt.asUintN(64, run(env, map, 'update', [key, value, r4]));
      },
    },
    {
      id: MAP_DELETE_ELEM, name: 'map_delete_elem', mapCall: 'delete', proto: { args: ['map', 'map_key'], ret: 'scalar', mapTypes: typesFor('delete') },
      impl: (r1, r2, _r3, _r4, _r5, env) => {
        const map = writableMapOf(env, r1, 'map_delete_elem');
        if (!map) return NOT_WRITABLE;
        return BigInt.asUintN(64, run(env, map, 'delete', [BigInt(checkedAddress(env, r2, map.keySize))]));
      },
    },
    {
      // The value of another CPU's copy: NULL for a CPU the Vm does not have, or a map that is not per-CPU.
      id: MAP_LOOKUP_PERCPU_ELEM, name: 'map_lookup_percpu_elem',
      proto: { args: ['map', 'map_key', 'scalar'], ret: 'map_value_or_null', mapTypes: PERCPU_TYPES },
      impl: (r1, r2, r3, _r4, _r5, env) => {
        const map = mapOf(env, r1, 'map_lookup_percpu_elem');
        const key = BigInt(checkedAddress(env, r2, map.keySize));
        const cpu = BigInt.asUintN(32, r3); // the kernel's u32 cpu
        const op = programOp(map.typeId, 'lookup');
        if (!op || !isPerCpuType(map.typeId) || cpu >= BigInt(env.mem.cpus)) return 0n;
        return (mapOperations(env.mem)[op.name] as (...a: bigint[]) => bigint)(BigInt(map.address), key, cpu);
      },
    },
    ...keylessHelpers(),
  ];
}

/** map_push_elem, map_pop_elem and map_peek_elem: queues and stacks, and push and peek bloom filters. */
function keylessHelpers(): HelperSpec[] {
  return [
    {
      id: MAP_PUSH_ELEM, name: 'map_push_elem', proto: { args: ['map', 'map_value', 'scalar'], ret: 'scalar', mapTypes: typesFor('push') },
      impl: (r1, r2, r3, _r4, _r5, env) => {
        const map = writableMapOf(env, r1, 'map_push_elem');
        if (!map) return NOT_WRITABLE;
        return BigInt.asUintN(64, run(env, map, 'push', [BigInt(checkedAddress(env, r2, map.valueSize)), r3]));
      },
    },
    {
      id: MAP_POP_ELEM, name: 'map_pop_elem', proto: { args: ['map', 'map_value_out'], ret: 'scalar', mapTypes: typesFor('pop') },
      impl: (r1, r2, _r3, _r4, _r5, env) => {
        const map = writableMapOf(env, r1, 'map_pop_elem');
        if (!map) return NOT_WRITABLE;
        return BigInt.asUintN(64, run(env, map, 'pop', [BigInt(checkedAddress(env, r2, map.valueSize, true))]));
      },
    },
    {
      id: MAP_PEEK_ELEM, name: 'map_peek_elem', proto: { args: ['map', 'map_value_out'], ret: 'scalar', mapTypes: typesFor('peek') },
      impl: (r1, r2, _r3, _r4, _r5, env) => {
        const map = mapOf(env, r1, 'map_peek_elem');
        // A queue or stack fills r2's buffer; a bloom filter reads the value it looks for there.
        const fills = map.typeId !== BPF_MAP_TYPE.BLOOM_FILTER;
        return BigInt.asUintN(64, run(env, map, 'peek', [BigInt(checkedAddress(env, r2, map.valueSize, fills))]));
      },
    },
  ];
}
