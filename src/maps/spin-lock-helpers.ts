/**
 * bpf_spin_lock (93) and bpf_spin_unlock (94) with Linux's numbers and prototypes: the argument is
 * the lock inside a map value (spin-lock.ts; the verifier's rules are src/verifier/spin-lock.ts).
 * The work is the map operations' (ops-spin-lock.ts), called here for the interpreter and checked
 * code; verified JIT code calls them directly (src/jit/map-calls.ts).
 */
import { HelperFault, checkedAddress, type HelperEnv, type HelperSpec } from '../runtime/helpers.js';
import { mapOperations } from './ops.js';
import { SPIN_LOCK_SIZE } from './spin-lock.js';
import { noteLocked, noteUnlocked } from './held-locks.js';

export const SPIN_LOCK = 93;
export const SPIN_UNLOCK = 94;

/** The lock r1 points at: 4 aligned bytes the run may touch (only unverified code can pass another). */
function lockAt(env: HelperEnv, r1: bigint, name: string): bigint {
  const at = checkedAddress(env, r1, SPIN_LOCK_SIZE, true);
  if (at % SPIN_LOCK_SIZE !== 0) throw new HelperFault(`${name}: r1 (0x${r1.toString(16)}) is not 4-byte aligned`);
  return r1;
}

export function spinLockHelpers(): HelperSpec[] {
  return [
    {
      id: SPIN_LOCK, name: 'spin_lock', wasmOp: { name: 'spin_lock', regs: [1], trapsOnFailure: true }, proto: { args: ['spin_lock'], ret: 'void' },
      impl: (r1, _r2, _r3, _r4, _r5, env) => {
        if (mapOperations(env.mem).spin_lock(lockAt(env, r1, 'spin_lock')) !== 0n) throw new Error('the lock stays held (a deadlock)');
        noteLocked(env.mem, env.cpu, r1);
        return 0n;
      },
    },
    {
      id: SPIN_UNLOCK, name: 'spin_unlock', wasmOp: { name: 'spin_unlock', regs: [1] }, proto: { args: ['spin_unlock'], ret: 'void' },
      impl: (r1, _r2, _r3, _r4, _r5, env) => {
        // Only unverified code can release a lock nobody holds.
        if (mapOperations(env.mem).spin_unlock(lockAt(env, r1, 'spin_unlock')) !== 0n) throw new HelperFault('spin_unlock: the lock is not held');
        noteUnlocked(env.mem, env.cpu, r1);
        return 0n;
      },
    },
  ];
}
