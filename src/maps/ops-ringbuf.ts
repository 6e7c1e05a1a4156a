/**
 * The ring buffer operations in WebAssembly (ops.ts gives the ABI, layout.ts the layout), after the
 * kernel's kernel/bpf/ringbuf.c: a reserve claims `len` bytes at the producer position when the
 * consumer has freed them (prod + len - cons <= size), writes a BUSY header and returns the bytes
 * after it; submit clears BUSY, discard clears it and sets DISCARD; output is reserve, copy, submit.
 * The consumer (the host, ringbuf.ts) reads committed records in order and stops at a BUSY one.
 *
 * Wake-up flags (BPF_RB_NO_WAKEUP, BPF_RB_FORCE_WAKEUP) are accepted and mean nothing here: the host
 * polls. There is no producer lock: one thread runs programs on a memory at a time (as map updates).
 */
import { i32, i64, type Expr, type WasmModule } from '../wasm/builder.js';
import { EAGAIN, EINVAL } from './errno.js';
import { H, RB_BUSY, RB_DISCARD, RB_HDR_SIZE, RB_MAX_RECORD } from './layout.js';
import { Fn } from './wasm-fn.js';

/** bpf_ringbuf_output / submit / discard flags. */
export const BPF_RB_NO_WAKEUP = 1;
export const BPF_RB_FORCE_WAKEUP = 2;
/** bpf_ringbuf_query flags. */
export const BPF_RB_AVAIL_DATA = 0;
export const BPF_RB_RING_SIZE = 1;
export const BPF_RB_CONS_POS = 2;
export const BPF_RB_PROD_POS = 3;

export function addRingBufOps(m: WasmModule): void {
  const I = m.i32;
  const L = m.i64;
  const c = (n: number): Expr => I.const(n);

  // reserve_impl(map, size) -> record data | 0; size <= RB_MAX_RECORD.
  const res = new Fn(m, ['map', 'size'], ['len', 'prod', 'rec']);
  res.add('ringbuf_reserve_impl', i32, [
    res.set('len', I.and(I.add(res.get('size'), c(RB_HDR_SIZE + 7)), c(-8))),
    res.set('prod', res.hdr(H.RB_PROD)),
    // Positions are u32 and wrap; prod - cons is the bytes in use, at most the size.
    m.if(I.gt_u(I.add(I.sub(res.get('prod'), res.hdr(H.RB_CONS)), res.get('len')), res.hdr(H.MAX_ENTRIES)), m.return(c(0))),
    res.set('rec', I.add(res.hdr(H.DATA), I.and(res.get('prod'), I.sub(res.hdr(H.MAX_ENTRIES), c(1))))),
    I.store(0, 4, res.get('rec'), I.or(res.get('size'), c(RB_BUSY))),
    I.store(4, 4, res.get('rec'), res.get('map')),
    res.setHdr(H.RB_PROD, I.add(res.get('prod'), res.get('len'))),
    I.add(res.get('rec'), c(RB_HDR_SIZE)),
  ]);

  // commit_impl(record data, discard): as the kernel's bpf_ringbuf_commit, len ^ BUSY (| DISCARD).
  const commit = new Fn(m, ['data', 'discard'], ['hdr']);
  commit.add('ringbuf_commit_impl', 'none', [
    commit.set('hdr', I.sub(commit.get('data'), c(RB_HDR_SIZE))),
    I.store(0, 4, commit.get('hdr'), I.or(
      I.xor(I.load(0, 4, commit.get('hdr')), c(RB_BUSY)),
      m.select(commit.get('discard'), c(RB_DISCARD), c(0)),
    )),
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
  add('ringbuf_submit', 2, m.block(null, [m.call('ringbuf_commit_impl', [wrap(0), c(0)], 'none'), L.const(0n)], i64));
  add('ringbuf_discard', 2, m.block(null, [m.call('ringbuf_commit_impl', [wrap(0), c(1)], 'none'), L.const(0n)], i64));

  // bpf_ringbuf_output: -EINVAL for unknown flags, -EAGAIN when the record does not fit.
  const rec = 4; // local index after the 4 parameters
  add('ringbuf_output', 4, m.block(null, [
    m.if(L.ne(L.and(arg(3), L.const(BigInt(~(BPF_RB_NO_WAKEUP | BPF_RB_FORCE_WAKEUP)))), L.const(0n)), m.return(L.const(BigInt(-EINVAL)))),
    m.if(L.gt_u(arg(2), L.const(BigInt(RB_MAX_RECORD))), m.return(L.const(BigInt(-EAGAIN)))),
    m.local.set(rec, m.call('ringbuf_reserve_impl', [wrap(0), wrap(2)], i32)),
    m.if(I.eqz(m.local.get(rec, i32)), m.return(L.const(BigInt(-EAGAIN)))),
    m.memory.copy(m.local.get(rec, i32), wrap(1), wrap(2)),
    m.call('ringbuf_commit_impl', [m.local.get(rec, i32), c(0)], 'none'),
    L.const(0n),
  ], i64), [i32]);

  // bpf_ringbuf_query: as the kernel, 0 for a flag it does not know.
  const field = (off: number): Expr => L.extend_u(I.load(off, 4, wrap(0)));
  const flag = (n: number): Expr => L.eq(arg(1), L.const(BigInt(n)));
  add('ringbuf_query', 2, m.if(flag(BPF_RB_AVAIL_DATA), L.extend_u(I.sub(I.load(H.RB_PROD, 4, wrap(0)), I.load(H.RB_CONS, 4, wrap(0)))),
    m.if(flag(BPF_RB_RING_SIZE), field(H.MAX_ENTRIES),
      m.if(flag(BPF_RB_CONS_POS), field(H.RB_CONS),
        m.if(flag(BPF_RB_PROD_POS), field(H.RB_PROD), L.const(0n))))));
}
