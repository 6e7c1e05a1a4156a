/**
 * bpf_perf_event_output (25) with Linux's number and prototype: (ctx, map, flags, data, size), a
 * perf_event_array map, the record's bytes read from the program's memory. The copy is the map
 * operations' (ops-perf.ts), called here for the interpreter and checked code; verified JIT code
 * calls it directly (src/jit/map-calls.ts).
 */
import { HelperFault, checkedAddress, type HelperEnv, type HelperSpec } from '../runtime/helpers.js';
import { mapOperations } from './ops.js';
import { BPF_MAP_TYPE } from './types.js';
import { E2BIG } from './errno.js';

export const PERF_EVENT_OUTPUT = 25;

export function perfHelpers(): HelperSpec[] {
  return [{
    id: PERF_EVENT_OUTPUT, name: 'perf_event_output', wasmOp: { name: 'perf_event_output', pinned: BPF_MAP_TYPE.PERF_EVENT_ARRAY, regs: [3, 4, 5], cpu: true },
    proto: { args: ['ctx', 'map', 'scalar', 'mem_read', 'size_or_zero'], ret: 'scalar', mapTypes: [BPF_MAP_TYPE.PERF_EVENT_ARRAY] },
    impl: (_r1, r2, r3, r4, r5, env: HelperEnv) => {
      const map = r2 >= 0n && r2 <= 0xffffffffn ? env.maps.get(Number(r2)) : undefined;
      if (!map || map.typeId !== BPF_MAP_TYPE.PERF_EVENT_ARRAY) {
        throw new HelperFault(`perf_event_output: r2 (0x${r2.toString(16)}) is not one of the program's perf_event_array maps`);
      }
      if (r5 > 0xffffffffn) return BigInt.asUintN(64, BigInt(-E2BIG)); // no record that large fits perf's u16 record size
      // Nothing to copy: any pointer will do, and 0 keeps WebAssembly's bounds check of the copy quiet.
      const data = r5 === 0n ? 0n : BigInt(checkedAddress(env, r4, Number(r5)));
      return BigInt.asUintN(64, mapOperations(env.mem).perf_event_output(BigInt(map.address), r3, data, r5, BigInt(env.cpu)));
    },
  }];
}
