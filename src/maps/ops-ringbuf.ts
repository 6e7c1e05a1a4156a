/**
 * The ring buffer operations in WebAssembly (ops.ts gives the ABI, layout.ts the layout), after the
 * kernel's kernel/bpf/ringbuf.c: a reserve claims `len` bytes at the producer position when the
 * consumer has freed them (prod + len - cons <= size), writes a BUSY header and returns the bytes
 * after it; submit clears BUSY, discard clears it and sets DISCARD; output is reserve, copy, submit.
 * The consumer (the host, ringbuf.ts) reads committed records in order and stops at a BUSY one.
 *
 * Producers on several threads (workers, each a CPU) take turns as the kernel's do: a spin lock
 * (RB_CTL.LOCK, ops-lock.ts's lock_word) is held for the reservation alone, a few loads and
 * stores, never while waiting for the consumer; a full buffer fails the reserve at once and counts
 * it in RB_CTL.DROPPED. The producer position is published with an atomic store after the record's
 * header is written, and submit and discard clear BUSY with an atomic store, so the consumer,
 * reading them with atomics, sees whole records.
 *
 * Wake-up, as the kernel's bpf_ringbuf_commit decides it: a commit wakes the consumer when it has
 * caught up with this record (its position is the record's), unless BPF_RB_NO_WAKEUP; always under
 * BPF_RB_FORCE_WAKEUP. Here waking means memory.atomic.notify on RB_CTL.WAITING, and only when the
 * consumer said it sleeps there (WAITING is 1): a commit that nobody waits for costs two loads.
 */
import { i32, i64, type Expr, type WasmModule } from '../wasm/builder.js';
import { EAGAIN, EINVAL } from './errno.js';
import { H, RB_BUSY, RB_CTL, RB_DISCARD, RB_HDR_SIZE, RB_MAX_RECORD } from './layout.js';
import { PRODUCER_LOCK_SLICES } from './ops-lock.js';
import { Fn } from './wasm-fn.js';

/** bpf_ringbuf_output / submit / discard flags. */
export const BPF_RB_NO_WAKEUP = 1;
export const BPF_RB_FORCE_WAKEUP = 2;
/** bpf_ringbuf_query flags. */
export const BPF_RB_AVAIL_DATA = 0;
export const BPF_RB_RING_SIZE = 1;
export const BPF_RB_CONS_POS = 2;
export const BPF_RB_PROD_POS = 3;

/**
 * wake_impl(word): when a reader sleeps on the u32 at `word` (it is 1), clears it and wakes every
 * thread waiting there. The reader sets the word before it looks for records a last time and the
 * producer reads it after publishing one, both sequentially consistent, so one of them sees the other.
 */
export function addWake(m: WasmModule): void {
  const I = m.i32;
  const f = new Fn(m, ['word'], []);
  f.add('wake_impl', 'none', [
    // A load first: the exchange would take the reader's cache line at every commit.
    m.if(I.atomic.load(0, f.get('word')), m.if(I.atomic.rmw.xchg(0, f.get('word'), I.const(0)),
      m.drop(m.memory.atomic.notify(f.get('word'), I.const(-1))))),
  ]);
}

/** The ring buffer's functions, and wake_impl (which perf_event_output calls too); they take ops-lock.ts's lock_word. */
export function addRingBufOps(m: WasmModule): void {
  addWake(m);
  const I = m.i32;
  const L = m.i64;
  const c = (n: number): Expr => I.const(n);

  // reserve_impl(map, size) -> record data | 0; size <= RB_MAX_RECORD.
  const res = new Fn(m, ['map', 'size'], ['len', 'ctl', 'prod', 'rec']);
  const fail = (): Expr => m.block(null, [m.drop(I.atomic.rmw.add(RB_CTL.DROPPED, res.get('ctl'), c(1))), m.return(c(0))]);
  res.add('ringbuf_reserve_impl', i32, [
    res.set('len', I.and(I.add(res.get('size'), c(RB_HDR_SIZE + 7)), c(-8))),
    res.set('ctl', res.hdr(H.ELEMS)),
    // A lock never released (its holder's thread ended inside these few instructions): a failed reserve.
    m.if(m.call('lock_word', [I.add(res.get('ctl'), c(RB_CTL.LOCK)), c(PRODUCER_LOCK_SLICES)], i32), fail()),
    res.set('prod', I.load(RB_CTL.PROD, 4, res.get('ctl'))),
    // Positions are u32 and wrap; prod - cons is the bytes in use, at most the size.
    m.if(I.gt_u(I.add(I.sub(res.get('prod'), I.atomic.load(RB_CTL.CONS, res.get('ctl'))), res.get('len')), res.hdr(H.MAX_ENTRIES)), m.block(null, [
      m.drop(m.call('unlock_word', [I.add(res.get('ctl'), c(RB_CTL.LOCK))], i32)),
      fail(),
    ])),
    res.set('rec', I.add(res.hdr(H.DATA), I.and(res.get('prod'), I.sub(res.hdr(H.MAX_ENTRIES), c(1))))),
    // Plain stores: the atomic store of the producer position publishes them (the consumer reads it first).
    I.store(4, 4, res.get('rec'), res.get('map')),
    I.store(0, 4, res.get('rec'), I.or(res.get('size'), c(RB_BUSY))),
    I.atomic.store(RB_CTL.PROD, res.get('ctl'), I.add(res.get('prod'), res.get('len'))),
    m.drop(m.call('unlock_word', [I.add(res.get('ctl'), c(RB_CTL.LOCK))], i32)),
    I.add(res.get('rec'), c(RB_HDR_SIZE)),
  ]);

  // commit_impl(record data, discard, flags): as the kernel's bpf_ringbuf_commit, len ^ BUSY (| DISCARD), then the wake-up.
  const commit = new Fn(m, ['data', 'discard', 'flags'], ['hdr', 'map', 'ctl']);
  const caughtUp = (): Expr => I.eq(
    I.and(I.atomic.load(RB_CTL.CONS, commit.get('ctl')), I.sub(I.load(H.MAX_ENTRIES, 4, commit.get('map')), c(1))),
    I.sub(commit.get('hdr'), I.load(H.DATA, 4, commit.get('map'))),
  );
  commit.add('ringbuf_commit_impl', 'none', [
    commit.set('hdr', I.sub(commit.get('data'), c(RB_HDR_SIZE))),
    commit.set('map', I.load(4, 4, commit.get('hdr'))),
    commit.set('ctl', I.load(H.ELEMS, 4, commit.get('map'))),
    I.atomic.store(0, commit.get('hdr'), I.or(
      I.xor(I.load(0, 4, commit.get('hdr')), c(RB_BUSY)),
      m.select(commit.get('discard'), c(RB_DISCARD), c(0)),
    )),
    m.if(I.and(commit.get('flags'), c(BPF_RB_FORCE_WAKEUP)),
      m.call('wake_impl', [I.add(commit.get('ctl'), c(RB_CTL.WAITING))], 'none'),
      m.if(I.and(I.eqz(I.and(commit.get('flags'), c(BPF_RB_NO_WAKEUP))), caughtUp()),
        m.call('wake_impl', [I.add(commit.get('ctl'), c(RB_CTL.WAITING))], 'none'))),
  ]);

  const arg = (i: number): Expr => m.local.get(i, i64);
  const wrap = (i: number): Expr => I.wrap(arg(i));
  const add = (name: string, params: number, body: Expr, locals: Array<typeof i32 | typeof i64> = []): void => {
    m.addFunction(name, new Array(params).fill(i64), i64, locals, body);
    m.addFunctionExport(name, name);
  };

  // bpf_ringbuf_reserve: NULL for flags (the kernel takes none), a size past the largest record, or no room.
  add('ringbuf_reserve', 3, m.if(
    I.or(L.ne(arg(2), L.const(0n)), L.gt_u(arg(1), L.const(BigInt(RB_MAX_RECORD)))),
    L.const(0n),
    L.extend_u(m.call('ringbuf_reserve_impl', [wrap(0), wrap(1)], i32)),
  ));

  // bpf_ringbuf_submit / discard return void in the kernel and ignore flags they do not know: 0 here.
  add('ringbuf_submit', 2, m.block(null, [m.call('ringbuf_commit_impl', [wrap(0), c(0), wrap(1)], 'none'), L.const(0n)], i64));
  add('ringbuf_discard', 2, m.block(null, [m.call('ringbuf_commit_impl', [wrap(0), c(1), wrap(1)], 'none'), L.const(0n)], i64));

  // bpf_ringbuf_output: -EINVAL for unknown flags, -EAGAIN when the record does not fit.
  const rec = 4; // local index after the 4 parameters
  add('ringbuf_output', 4, m.block(null, [
    m.if(L.ne(L.and(arg(3), L.const(BigInt(~(BPF_RB_NO_WAKEUP | BPF_RB_FORCE_WAKEUP)))), L.const(0n)), m.return(L.const(BigInt(-EINVAL)))),
    m.if(L.gt_u(arg(2), L.const(BigInt(RB_MAX_RECORD))), m.return(L.const(BigInt(-EAGAIN)))),
    m.local.set(rec, m.call('ringbuf_reserve_impl', [wrap(0), wrap(2)], i32)),
    m.if(I.eqz(m.local.get(rec, i32)), m.return(L.const(BigInt(-EAGAIN)))),
    m.memory.copy(m.local.get(rec, i32), wrap(1), wrap(2)),
    m.call('ringbuf_commit_impl', [m.local.get(rec, i32), c(0), wrap(3)], 'none'),
    L.const(0n),
  ], i64), [i32]);

  // bpf_ringbuf_query: as the kernel, 0 for a flag it does not know.
  const ctl = (off: number): Expr => I.atomic.load(off, I.load(H.ELEMS, 4, wrap(0)));
  const flag = (n: number): Expr => L.eq(arg(1), L.const(BigInt(n)));
  add('ringbuf_query', 2, m.if(flag(BPF_RB_AVAIL_DATA), L.extend_u(I.sub(ctl(RB_CTL.PROD), ctl(RB_CTL.CONS))),
    m.if(flag(BPF_RB_RING_SIZE), L.extend_u(I.load(H.MAX_ENTRIES, 4, wrap(0))),
      m.if(flag(BPF_RB_CONS_POS), L.extend_u(ctl(RB_CTL.CONS)),
        m.if(flag(BPF_RB_PROD_POS), L.extend_u(ctl(RB_CTL.PROD)), L.const(0n))))));
}
