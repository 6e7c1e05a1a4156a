/**
 * bpf_spin_lock and bpf_spin_unlock in WebAssembly over the shared memory (spin-lock.ts describes
 * the lock), and the value copy that leaves a lock alone (the kernel's copy_map_value).
 *
 *   spin_lock(lock) -> 0 | -EDEADLK    spin_unlock(lock) -> 0 | -EINVAL (the lock was not held)
 *
 * spin_lock spins on an atomic compare-and-swap of 0 to 1, as the kernel's arch_spin_lock does on a
 * word another CPU may hold. A lock whose holder cannot let go (a run that stopped while holding it,
 * or, in this one thread, a checked program locking twice) would spin forever: after SPIN_LIMIT
 * attempts it gives up with -EDEADLK, which the engines turn into a runtime error at the call.
 */
import { i32, i64, type Expr, type WasmModule } from '../wasm/builder.js';
import { EINVAL } from './errno.js';
import { H } from './layout.js';
import { SPIN_LOCK_SIZE } from './spin-lock.js';
import { Fn } from './wasm-fn.js';

export const EDEADLK = 35;
/** Attempts before a lock counts as never to be released: some milliseconds of spinning. */
const SPIN_LIMIT = 1 << 22;

export function addSpinLockOps(m: WasmModule): void {
  const I = m.i32;
  const c = (n: number): Expr => I.const(n);

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

  const lock = new Fn(m, ['lock'], ['n']);
  lock.add('spin_lock_impl', i32, [
    lock.while(I.atomic.rmw.cmpxchg(0, lock.get('lock'), c(0), c(1)), () => [
      lock.set('n', I.add(lock.get('n'), c(1))),
      m.if(I.ge_u(lock.get('n'), c(SPIN_LIMIT)), m.return(c(-EDEADLK))),
    ]),
    c(0),
  ]);

  const add = (name: string, body: Expr): void => {
    m.addFunction(name, [i64], i64, [], body);
    m.addFunctionExport(name, name);
  };
  const ptr = (): Expr => I.wrap(m.local.get(0, i64));
  add('spin_lock', m.i64.extend_s(m.call('spin_lock_impl', [ptr()], i32)));
  add('spin_unlock', m.select(I.atomic.rmw.xchg(0, ptr(), c(0)), m.i64.const(0n), m.i64.const(BigInt(-EINVAL))));
}
