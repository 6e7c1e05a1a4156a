/**
 * bpf_get_prandom_u32 (7) and bpf_get_smp_processor_id (8). Their return ranges are in the
 * prototypes, so the verifier knows the bounds (a CPU id can index a per-CPU table without a check).
 */
import type { HelperSpec } from '../runtime/helpers.js';

export const GET_PRANDOM_U32 = 7;
export const GET_SMP_PROCESSOR_ID = 8;

/** A pseudo-random u32, like the kernel's prandom (not for cryptography either). */
const prandom = (): bigint => BigInt(Math.floor(Math.random() * 0x1_0000_0000));

export function systemHelpers(cpus: number): HelperSpec[] {
  return [
    { id: GET_PRANDOM_U32, name: 'get_prandom_u32', impl: prandom, proto: { args: [], ret: { kind: 'scalar', min: 0n, max: 0xffffffffn } } },
    {
      id: GET_SMP_PROCESSOR_ID, name: 'get_smp_processor_id',
      impl: (_r1, _r2, _r3, _r4, _r5, env) => BigInt(env.cpu),
      proto: { args: [], ret: { kind: 'scalar', min: 0n, max: BigInt(cpus - 1) } },
    },
  ];
}
