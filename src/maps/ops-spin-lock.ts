/**
 * bpf_spin_lock and bpf_spin_unlock in WebAssembly over the shared memory (spin-lock.ts describes
 * the lock), and the value copy that leaves a lock alone (the kernel's copy_map_value).
 *
 *   spin_lock(lock) -> 0 | -EDEADLK    spin_unlock(lock) -> 0 | -EINVAL (the lock was not held)
 *
 * spin_lock is ops-lock.ts's lock_word: a compare-and-swap of 0 to 1 on a word another CPU (worker
 * thread) may hold, a short spin, then sleeps in memory.atomic.wait32 that the unlock ends (the
 * word is 2 while someone may sleep), so a holder the OS paused does not starve the others. A
 * lock whose holder cannot let go (a run that stopped while holding it, or, in this one thread, a
 * checked program locking twice) would block forever: after SPIN_SLICES sleeps that timed out
 * (about 0.1 s without an unlock) it gives up with -EDEADLK, which the engines turn into a runtime
 * error at the call.
 */
import { i32, i64, type Expr, type WasmModule } from '../wasm/builder.js';
import { EINVAL } from './errno.js';
import { H } from './layout.js';
import { SPIN_LOCK_SIZE } from './spin-lock.js';
import { Fn } from './wasm-fn.js';

export const EDEADLK = 35;
/** Timed-out sleeps of a millisecond before a lock counts as never to be released. */
const SPIN_SLICES = 100;

export function addSpinLockOps(m: WasmModule): void {
  const I = m.i32;
  const c = (n: number): Expr => I.const(n);
  const ptr = (): Expr => I.wrap(m.local.get(0, i64));

  // copy_value_impl(map, dst, src, len): len bytes, except the value's lock when the map has one.
  const cp = new Fn(m, ['map', 'dst', 'src', 'len'], ['lock']);
  cp.add('copy_value_impl', 'none', [
    cp.set('lock', cp.hdr(H.SPIN_LOCK)),
    m.if(I.eqz(cp.get('lock')), m.block(null, [m.memory.copy(cp.get('dst'), cp.get('src'), cp.get('len')), m.return()])),
    cp.set('lock', I.sub(cp.get('lock'), c(1))),
    m.memory.copy(cp.get('dst'), cp.get('src'), cp.get('lock')),
    cp.set('lock', I.add(cp.get('lock'), c(SPIN_LOCK_SIZE))),
    m.memory.copy(I.add(cp.get('dst'), cp.get('lock')), I.add(cp.get('src'), cp.get('lock')), I.sub(cp.get('len'), cp.get('lock'))),
  ]);

  const held = m.call('lock_word', [ptr(), c(SPIN_SLICES)], i32);

  const add = (name: string, body: Expr): void => {
    m.addFunction(name, [i64], i64, [], body);
    m.addFunctionExport(name, name);
  };
  add('spin_lock', m.select(held, m.i64.const(BigInt(-EDEADLK)), m.i64.const(0n)));
  add('spin_unlock', m.select(m.call('unlock_word', [ptr()], i32), m.i64.const(0n), m.i64.const(BigInt(-EINVAL))));
}
