/**
 * Locks for the map operations when several threads (worker threads, each a CPU, and the host)
 * share a memory: the word at H.LOCK of every map's header, and the word of a bpf_spin_lock
 * (ops-spin-lock.ts). A word is 0 when free, 1 when held, 2 when held and a thread may be asleep
 * on it (the classic three-state futex mutex): a locker tries a compare-and-swap, spins a little
 * (the operations hold a map's lock for well under a microsecond), then swaps in 2 and sleeps in
 * memory.atomic.wait32 until the holder's unlock, seeing 2, notifies one sleeper. Sleeping rather
 * than spinning keeps a thread that the OS paused while holding a lock from starving the others.
 *
 *   lock_word(addr, limit) -> 0 | -1   (-1: `limit` sleeps of SLICE_NS ended by the timeout, not
 *                                      by an unlock: the holder is gone, e.g. a worker terminated
 *                                      inside an operation, or this thread holds it)
 *   unlock_word(addr) -> the word before (0: it was not held)
 *
 * map_lookup_copy(map, key, cpu, out) -> 0 | -ENOENT: the host's lookup, copying the value (the
 * copy of `cpu` for a per-CPU map) to out under the map's lock, so that an update on another
 * thread is never half seen (an array's lock guards nothing: its updates copy in place, unlocked,
 * as the kernel's do, so an array's value may be seen half written, as in the kernel).
 */
import { i32, type Expr, type WasmModule } from '../wasm/builder.js';
import { BPF_MAP_TYPE } from './types.js';
import { ENOENT } from './errno.js';
import { H } from './layout.js';
import { Fn } from './wasm-fn.js';

/** Compare-and-swap attempts before sleeping. */
const SPINS = 100;
/** One sleep's timeout; only sleeps that time out count towards a limit. */
const SLICE_NS = 1_000_000n;
/** A map's lock: about 2 s without an unlock is a holder that died; the operation answers EBUSY. */
export const MAP_LOCK_SLICES = 2000;
/** A ring buffer's or perf buffer's producer lock: about 0.1 s without an unlock, and the record is dropped (counted). */
export const PRODUCER_LOCK_SLICES = 100;

function addLockWord(m: WasmModule): void {
  const I = m.i32;
  const c = (n: number): Expr => I.const(n);
  const f = new Fn(m, ['addr', 'limit'], ['n']);
  const take = (): Expr => I.eqz(I.atomic.rmw.cmpxchg(0, f.get('addr'), c(0), c(1)));
  // The wait is a function of its own: Node 20's baseline compiler (Liftoff) mishandles a wait32
  // inside this loop (the timeout is lost: it sleeps for far longer or shorter, or for ever).
  const w = new Fn(m, ['addr'], []);
  w.add('sleep_on_word', i32, [m.memory.atomic.wait32(w.get('addr'), c(2), m.i64.const(SLICE_NS))]);
  const timedOut = (): Expr => I.eq(m.call('sleep_on_word', [f.get('addr')], i32), c(2));
  f.add('lock_word', i32, [
    f.while(I.lt_u(f.get('n'), c(SPINS)), () => [
      m.if(I.eqz(I.atomic.load(0, f.get('addr'))), m.if(take(), m.return(c(0)))),
      f.set('n', I.add(f.get('n'), c(1))),
    ]),
    f.set('n', c(0)),
    // Whoever takes it now marks it 2: another sleeper may still be waiting for its notify.
    f.while(I.atomic.rmw.xchg(0, f.get('addr'), c(2)), () => [
      m.if(timedOut(), m.block(null, [
        f.set('n', I.add(f.get('n'), c(1))),
        m.if(I.ge_u(f.get('n'), f.get('limit')), m.return(c(-1))),
      ])),
    ]),
    c(0),
  ]);
  const u = new Fn(m, ['addr'], ['old']);
  u.add('unlock_word', i32, [
    u.set('old', I.atomic.rmw.xchg(0, u.get('addr'), c(0))),
    m.if(I.eq(u.get('old'), c(2)), m.drop(m.memory.atomic.notify(u.get('addr'), c(1)))),
    u.get('old'),
  ]);
}

/** The host's lookup, copying out (see the top); the caller holds the map's lock. */
function addLookupCopy(m: WasmModule): void {
  const I = m.i32;
  const f = new Fn(m, ['map', 'key', 'cpu', 'out'], ['v']);
  const lookup = m.if(I.eq(f.hdr(H.TYPE), I.const(BPF_MAP_TYPE.LPM_TRIE)),
    m.call('lpm_lookup_impl', [f.get('map'), f.get('key')], i32),
    m.if(f.hdr(H.BUCKETS),
      m.call('hash_lookup_impl', [f.get('map'), f.get('key'), f.get('cpu'), I.const(0)], i32),
      m.call('array_lookup_impl', [f.get('map'), f.get('key'), f.get('cpu')], i32)));
  f.add('map_lookup_copy_impl', i32, [
    f.set('v', lookup),
    m.if(I.eqz(f.get('v')), m.return(I.const(-ENOENT))),
    m.memory.copy(f.get('out'), f.get('v'), f.hdr(H.VALUE_SIZE)),
    I.const(0),
  ]);
}

export function addLockOps(m: WasmModule): void {
  addLockWord(m);
  addLookupCopy(m);
}

/**
 * `body` (an i32 result) run under the lock of the map whose header address is `map`; `busy` is
 * the result when the lock cannot be had (lock_word's -1). `result` is a free i32 local.
 */
export function underMapLock(m: WasmModule, map: () => Expr, result: number, body: Expr, busy: Expr): Expr {
  const I = m.i32;
  const word = (): Expr => I.add(map(), I.const(H.LOCK));
  return m.block(null, [
    m.if(m.call('lock_word', [word(), I.const(MAP_LOCK_SLICES)], i32), m.return(busy)),
    m.local.set(result, body),
    m.drop(m.call('unlock_word', [word()], i32)),
    m.local.get(result, i32),
  ], i32);
}
