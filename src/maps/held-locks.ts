/**
 * The bpf_spin_locks each CPU's run holds, as the helpers (spin-lock-helpers.ts) took them, so that
 * a run that fails while holding one lets it go: a checked program may fault between lock and
 * unlock, and the lock, in memory shared with other runs and other threads, would stay held for
 * ever (the next locker gives up with E_RUN_HELPER). Per thread: each thread keeps its own runs'.
 * Verified code takes its locks inside WebAssembly and cannot fail while holding one (the verifier
 * allows no call, exit or unproven access meanwhile).
 */
import type { EngineMemory } from '../runtime/memory.js';
import { mapOperations } from './ops.js';

const held = new WeakMap<EngineMemory, Map<number, Set<bigint>>>();

function locksOf(mem: EngineMemory, cpu: number): Set<bigint> {
  let byCpu = held.get(mem);
  if (!byCpu) held.set(mem, (byCpu = new Map()));
  let locks = byCpu.get(cpu);
  if (!locks) byCpu.set(cpu, (locks = new Set()));
  return locks;
}

export function noteLocked(mem: EngineMemory, cpu: number, lock: bigint): void {
  locksOf(mem, cpu).add(lock);
}

export function noteUnlocked(mem: EngineMemory, cpu: number, lock: bigint): void {
  held.get(mem)?.get(cpu)?.delete(lock);
}

/** A run on `cpu` failed: unlocks what it still holds. */
export function releaseHeldLocks(mem: EngineMemory, cpu: number): void {
  const locks = held.get(mem)?.get(cpu);
  if (!locks || locks.size === 0) return;
  const ops = mapOperations(mem);
  for (const lock of locks) ops.spin_unlock(lock);
  locks.clear();
}
