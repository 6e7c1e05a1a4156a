/**
 * `struct bpf_spin_lock` in map values. The kernel finds the lock through the value's BTF; without
 * BTF here, a map spec names the lock's offset (spinLockOffset), with the kernel's rules
 * (map_check_btf, btf_find_spin_lock): only hash and array maps (not per-CPU or LRU ones), a 4-byte
 * lock 4-aligned inside the value. The lock word is 0 when free and 1 when held (2 while another
 * thread may sleep on it); the operations (ops-spin-lock.ts) take it with atomics on the shared memory, and updates of
 * the value copy around it (the kernel's copy_map_value), so that neither the host nor a program's
 * map_update_elem can release or take a lock by writing the value.
 */
import { InputError } from '../errors.js';
import { BPF_MAP_TYPE } from './types.js';

export const SPIN_LOCK_SIZE = 4;

/** The lock's offset, checked; undefined when the spec has none. */
export function spinLockOffset(offset: unknown, type: number, valueSize: number, where: string): number | undefined {
  if (offset === undefined) return undefined;
  if (type !== BPF_MAP_TYPE.HASH && type !== BPF_MAP_TYPE.ARRAY) {
    throw new InputError(`${where}: spinLockOffset: only hash and array maps may hold a bpf_spin_lock, as in the kernel`);
  }
  if (typeof offset !== 'number' || !Number.isInteger(offset) || offset < 0 || offset % SPIN_LOCK_SIZE !== 0 || offset + SPIN_LOCK_SIZE > valueSize) {
    throw new InputError(`${where}: spinLockOffset ${String(offset)} must be a multiple of 4 with the 4-byte lock inside the ${valueSize}-byte value`);
  }
  return offset;
}
