/**
 * bpf_loop (181) and bpf_for_each_map_elem (164): helpers that call a callback subprogram. The
 * engines run them (src/interp/callbacks.ts, src/jit/callbacks.ts), since only they can run the
 * program's code; the specs give the ids, the verifier's prototypes (proto.callback says how the
 * callback is called) and the kernel's return codes, which both engines take from here.
 */
import { EINVAL, E2BIG } from '../maps/errno.js';
import { BPF_MAP_TYPE } from '../maps/types.js';
import type { HelperSpec } from '../runtime/helpers.js';

export const FOR_EACH_MAP_ELEM = 164;
export const LOOP = 181;

/** The most iterations bpf_loop runs (the kernel's BPF_MAX_LOOPS); more is -E2BIG. */
export const MAX_LOOPS = 1 << 23;

/** The map types with a for_each callback in the kernel (map_ops->map_for_each_callback). */
export const FOR_EACH_TYPES: readonly number[] = [
  BPF_MAP_TYPE.ARRAY, BPF_MAP_TYPE.PERCPU_ARRAY, BPF_MAP_TYPE.HASH, BPF_MAP_TYPE.PERCPU_HASH,
  BPF_MAP_TYPE.LRU_HASH, BPF_MAP_TYPE.LRU_PERCPU_HASH,
];

export const LOOP_E2BIG = BigInt.asUintN(64, BigInt(-E2BIG));
export const CALLBACK_EINVAL = BigInt.asUintN(64, BigInt(-EINVAL));

/** What bpf_loop returns before running anything: an error, or undefined to run nr_loops (a u32) times. */
export function loopRefusal(nrLoops: bigint, flags: bigint): bigint | undefined {
  if (flags !== 0n) return CALLBACK_EINVAL;
  return BigInt.asUintN(32, nrLoops) > BigInt(MAX_LOOPS) ? LOOP_E2BIG : undefined;
}

const engineOnly = (name: string) => (): bigint => {
  throw new Error(`${name} calls a subprogram of the program: only an engine running the program can call it (with call, not callx)`);
};

export function callbackHelpers(): HelperSpec[] {
  return [
    {
      id: LOOP, name: 'loop', impl: engineOnly('loop'),
      proto: { args: ['scalar', 'callback', 'callback_ctx', 'scalar'], ret: 'scalar', callback: 'loop' },
    },
    {
      id: FOR_EACH_MAP_ELEM, name: 'for_each_map_elem', impl: engineOnly('for_each_map_elem'),
      proto: { args: ['map', 'callback', 'callback_ctx', 'scalar'], ret: 'scalar', callback: 'for_each', mapTypes: FOR_EACH_TYPES },
    },
  ];
}
