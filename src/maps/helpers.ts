/**
 * The kernel's map helpers with Linux's numbers and prototypes (include/uapi/linux/bpf.h):
 * bpf_map_lookup_elem (1), bpf_map_update_elem (2) and bpf_map_delete_elem (3). Their work is the
 * map operations' (ops.ts), called here for the interpreter and for code the JIT does not call them
 * from directly; a helper takes only the maps the program was loaded with, and its pointer
 * arguments only inside the run's regions (a checked program's may be anything).
 */
import { HelperFault, checkedAddress, type HelperEnv, type HelperSpec } from '../runtime/helpers.js';
import type { BpfMap } from './map.js';
import { mapOperations } from './ops.js';
import { programOp, type MapCall } from './program-ops.js';
import { EINVAL } from './errno.js';

export const MAP_LOOKUP_ELEM = 1;
export const MAP_UPDATE_ELEM = 2;
export const MAP_DELETE_ELEM = 3;

/** The map r1 names: one of the program's, or a fault (only unverified code can get here with another). */
function mapOf(env: HelperEnv, r1: bigint, name: string): BpfMap {
  const map = r1 >= 0n && r1 <= 0xffffffffn ? env.maps.get(Number(r1)) : undefined;
  if (!map) throw new HelperFault(`${name}: r1 (0x${r1.toString(16)}) is not one of the program's maps`);
  return map;
}

/** Runs the operation of `call` on `map` with these arguments, the CPU appended where it takes one. */
function run(env: HelperEnv, map: BpfMap, call: MapCall, args: bigint[]): bigint {
  const op = programOp(map.typeId, call);
  // A lookup the map type does not serve finds nothing (NULL, as the kernel's queue_stack_map_lookup_elem):
  // -EINVAL would read as a pointer.
  if (!op) return call === 'lookup' ? 0n : BigInt(-EINVAL);
  const fn = mapOperations(env.mem)[op.name] as (...a: bigint[]) => bigint;
  return fn(BigInt(map.address), ...args, ...(op.cpu ? [BigInt(env.cpu)] : []));
}

/** bpf_map_lookup_elem, update_elem and delete_elem. */
export function mapHelpers(): HelperSpec[] {
  return [
    {
      id: MAP_LOOKUP_ELEM, name: 'map_lookup_elem', mapCall: 'lookup', proto: { args: ['map', 'map_key'], ret: 'map_value_or_null' },
      impl: (r1, r2, _r3, _r4, _r5, env) => {
        const map = mapOf(env, r1, 'map_lookup_elem');
        return run(env, map, 'lookup', [BigInt(checkedAddress(env, r2, map.keySize))]);
      },
    },
    {
      id: MAP_UPDATE_ELEM, name: 'map_update_elem', mapCall: 'update', proto: { args: ['map', 'map_key', 'map_value', 'scalar'], ret: 'scalar' },
      impl: (r1, r2, r3, r4, _r5, env) => {
        const map = mapOf(env, r1, 'map_update_elem');
        const key = BigInt(checkedAddress(env, r2, map.keySize));
        const value = BigInt(checkedAddress(env, r3, map.valueSize));
        return BigInt.asUintN(64, run(env, map, 'update', [key, value, r4]));
      },
    },
    {
      id: MAP_DELETE_ELEM, name: 'map_delete_elem', mapCall: 'delete', proto: { args: ['map', 'map_key'], ret: 'scalar' },
      impl: (r1, r2, _r3, _r4, _r5, env) => {
        const map = mapOf(env, r1, 'map_delete_elem');
        return BigInt.asUintN(64, run(env, map, 'delete', [BigInt(checkedAddress(env, r2, map.keySize))]));
      },
    },
  ];
}
