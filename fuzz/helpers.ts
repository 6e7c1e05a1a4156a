/**
 * Helpers the generated programs call (directly or through callx): a pure one, one that unwinds the
 * run when it returns 0, and two that read or write a byte through a checked pointer argument. The
 * first two carry prototypes, so verified programs may call them; the pointer ones take a byte count
 * no prototype can describe, and leave the programs that call them unverified. Their ids start at
 * FUZZ_HELPER_BASE, clear of the kernel's helper numbers (its helpers, the map helpers among them, are
 * registered too: differential.ts takes the Vm's standard registry).
 */
import { checkedAddress, type HelperSpec } from '../src/runtime/helpers.js';

export const FUZZ_HELPER_BASE = 1000;

export const FUZZ_HELPERS: readonly HelperSpec[] = [
  {
    id: FUZZ_HELPER_BASE + 1, name: 'mix', impl: (a, b, c, d, e) => a * 31n + (b ^ (c << 7n)) - d + (e >> 3n),
    proto: { args: ['scalar', 'scalar', 'scalar', 'scalar', 'scalar'], ret: 'scalar' },
  },
  { id: FUZZ_HELPER_BASE + 2, name: 'unwind_if_zero', impl: (a) => a, unwindOnZero: true, proto: { args: ['scalar'], ret: 'scalar' } },
  {
    id: FUZZ_HELPER_BASE + 3, name: 'peek',
    impl: (ptr, add, _c, _d, _e, env) => BigInt(env.mem.bytes[checkedAddress(env, ptr, 1)]!) + add,
  },
  {
    id: FUZZ_HELPER_BASE + 4, name: 'poke',
    impl: (ptr, value, _c, _d, _e, env) => {
      env.mem.bytes[checkedAddress(env, ptr, 1)] = Number(value & 0xffn);
      return value >> 8n;
    },
  },
];

export const FUZZ_HELPER_IDS: readonly number[] = FUZZ_HELPERS.map((h) => h.id);
