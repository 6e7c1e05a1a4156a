/**
 * The kernel's bpf_spin_lock rules (Documentation/bpf: "bpf_spin_lock", and process_spin_lock in
 * kernel/bpf/verifier.c): the argument of bpf_spin_lock and bpf_spin_unlock is a map value pointer
 * at exactly the offset of its value's lock; a path holds at most one lock; while it does, it calls
 * no helper but bpf_spin_unlock and no function, and does not exit; unlock releases the lock this
 * path holds (the same map and the same element); no load, store or helper buffer touches the lock's
 * bytes. The element a lookup returned is told apart by the pointer's `ref`, set for maps with a
 * lock (the kernel keeps the register's id for them), and kept through the null check and pointer
 * arithmetic; a direct value address (an array of one entry) has ref 0.
 */
import { SPIN_LOCK_SIZE } from '../maps/spin-lock.js';
import { accessSpan, spanText } from './access-common.js';
import type { MapDescriptor } from './helper-call.js';
import { constOffset, formatReg, hasConstOffset, type Ptr, type RegState } from './reg-state.js';
import { refuse } from './refusal.js';
import type { VState } from './state.js';

/** The lock a path holds: the map and the element (a lookup's ref, 0 for a direct value), and where it was taken. */
export interface HeldLock {
  readonly map: number;
  readonly elem: number;
  readonly pc: number;
}

const lockOf = (maps: readonly MapDescriptor[], p: Ptr): number | undefined =>
  p.kind === 'map_value' && p.region >= 0 ? maps[p.region]?.spinLockOffset : undefined;

/** A load, store, atomic or helper buffer of `size` bytes at insnOff from p must not touch the value's lock. */
export function checkLockBytes(maps: readonly MapDescriptor[] | undefined, p: Ptr, reg: number, insnOff: number, size: number): void {
  const lock = maps ? lockOf(maps, p) : undefined;
  if (lock === undefined) return;
  const span = accessSpan(p, insnOff, 'E_VERIFY_SPIN_LOCK', `access of ${size} bytes`, reg);
  if (span.lo < lock + SPIN_LOCK_SIZE && span.hi + size > lock) {
    refuse('E_VERIFY_SPIN_LOCK', `access of ${size} bytes at ${spanText('map_value', span)} touches the bpf_spin_lock at offset ${lock}: only bpf_spin_lock and bpf_spin_unlock may`, [reg]);
  }
}

/** A path holding a lock may not make this call (a helper other than bpf_spin_unlock, or a function call). */
export function refuseWhileLocked(state: VState, what: string): void {
  if (state.lock) refuse('E_VERIFY_SPIN_LOCK', `${what} while holding the bpf_spin_lock taken at pc ${state.lock.pc}`);
}

/** The exit of a function or the program: the lock must have been released. */
export function refuseLockedExit(state: VState): void {
  if (state.lock) refuse('E_VERIFY_SPIN_LOCK', `exit while holding the bpf_spin_lock taken at pc ${state.lock.pc}: bpf_spin_unlock is missing on this path`);
}

/**
 * The argument of bpf_spin_lock (`unlock` false) or bpf_spin_unlock, in register `reg`; applies the
 * call's effect on the state.
 */
export function spinLockArg(maps: readonly MapDescriptor[], state: VState, value: RegState, reg: number, unlock: boolean, pc: number): void {
  const name = unlock ? 'bpf_spin_unlock' : 'bpf_spin_lock';
  if (value.t !== 'ptr' || value.kind !== 'map_value') {
    refuse('E_VERIFY_SPIN_LOCK', `${name}: r${reg} must be a pointer to a map value holding a bpf_spin_lock, not ${formatReg(value)}`, [reg]);
  }
  const lock = lockOf(maps, value);
  if (lock === undefined) refuse('E_VERIFY_SPIN_LOCK', `${name}: map ${value.region}'s values hold no bpf_spin_lock (give the map a spinLockOffset)`, [reg]);
  if (!hasConstOffset(value) || constOffset(value) !== lock) {
    refuse('E_VERIFY_SPIN_LOCK', `${name}: r${reg} (${formatReg(value)}) must point at the bpf_spin_lock, offset ${lock} of the value`, [reg]);
  }
  const held: HeldLock = { map: value.region, elem: value.ref, pc };
  if (!unlock) {
    if (state.lock) refuse('E_VERIFY_SPIN_LOCK', `bpf_spin_lock while already holding the lock taken at pc ${state.lock.pc}: one lock at a time`, [reg]);
    state.lock = held;
    return;
  }
  if (!state.lock) refuse('E_VERIFY_SPIN_LOCK', 'bpf_spin_unlock without a lock held', [reg]);
  if (state.lock.map !== held.map || state.lock.elem !== held.elem) {
    refuse('E_VERIFY_SPIN_LOCK', `bpf_spin_unlock of a lock other than the one taken at pc ${state.lock.pc}`, [reg]);
  }
  state.lock = undefined;
}
