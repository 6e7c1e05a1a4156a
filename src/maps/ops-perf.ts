/**
 * bpf_perf_event_output's copy into a perf_event_array's output buffer, in WebAssembly (ops.ts gives
 * the ABI, layout.ts and perf-spec.ts the layout), after the kernel's perf ring buffer
 * (kernel/events/ring_buffer.c): a record is written at the head when the reader's tail leaves room,
 * else the buffer's lost count grows and the call answers -ENOSPC; the next record that fits is
 * preceded by a PERF_RECORD_LOST carrying the count, as perf_output_begin does. Records are 8-aligned
 * and wrap around the buffer's end, so a header never splits but data may (the reader, perf.ts, joins
 * it). The head is published with an atomic operation after the record is written, and the lost count
 * is exchanged atomically, so that a reader on another thread sees whole records.
 *
 * Each CPU writes its own buffer under BPF_F_CURRENT_CPU, as in the kernel; an explicit index may
 * name another CPU's, which the kernel refuses (-EOPNOTSUPP) and bpfjit allows, so writers of one
 * buffer take its lock (PERF_CTL.LOCK, ops-lock.ts's lock_word), uncontended in the kernel's use. After a
 * record or a loss, a reader sleeping on the map (PERF_WAITING is 1) is woken (wake_impl,
 * ops-ringbuf.ts), as perf wakes a reader at every sample when wakeup_events is 1 (libbpf's setting).
 */
import { i32, i64, type Expr, type WasmModule } from '../wasm/builder.js';
import { E2BIG, EINVAL, ENOENT, ENOSPC } from './errno.js';
import { H } from './layout.js';
import { PRODUCER_LOCK_SLICES } from './ops-lock.js';
import { BPF_F_CURRENT_CPU, PERF_CTL, PERF_CTL_FIRST, PERF_LOST_SIZE, PERF_WAITING, PERF_MAX_SAMPLE, PERF_RECORD_LOST, PERF_RECORD_SAMPLE, PERF_SAMPLE_HDR } from './perf-spec.js';
import { Fn } from './wasm-fn.js';

/** perf_write_impl(map, index, data, size, ctl) -> 0 | -errno: the record into buffer `index` (< maxEntries, its control block ctl), its lock held. */
function addWrite(m: WasmModule): void {
  const I = m.i32;
  const c = (n: number): Expr => I.const(n);
  const f = new Fn(m, ['map', 'index', 'data', 'size', 'ctl'], ['buf', 'mask', 'head', 'len', 'lost', 'at', 'first']);
  const at = (off: number): Expr => I.add(f.get('buf'), I.and(I.add(f.get('head'), c(off)), f.get('mask')));
  f.add('perf_write_impl', i32, [
    m.if(I.load(PERF_CTL.CLOSED, 4, f.get('ctl')), m.return(c(-ENOENT))),
    f.set('mask', f.hdr(H.PERF_MASK)),
    f.set('buf', I.add(f.hdr(H.PERF_BUFS), I.mul(f.get('index'), I.add(f.get('mask'), c(1))))),
    f.set('len', I.and(I.add(f.get('size'), c(PERF_SAMPLE_HDR + 7)), c(-8))),
    f.set('head', I.load(PERF_CTL.HEAD, 4, f.get('ctl'))),
    f.set('lost', I.load(PERF_CTL.LOST, 4, f.get('ctl'))),
    // Room for the record, and for the lost record before it when records were lost.
    m.if(I.gt_u(
      I.add(I.add(I.sub(f.get('head'), I.atomic.load(PERF_CTL.TAIL, f.get('ctl'))), f.get('len')), m.select(f.get('lost'), c(PERF_LOST_SIZE), c(0))),
      I.add(f.get('mask'), c(1)),
    ), m.block(null, [m.drop(I.atomic.rmw.add(PERF_CTL.LOST, f.get('ctl'), c(1))), m.return(c(-ENOSPC))])),
    // The reader may have taken the count meanwhile: write what the exchange gives, if anything.
    m.if(f.get('lost'), f.set('lost', I.atomic.rmw.xchg(PERF_CTL.LOST, f.get('ctl'), c(0)))),
    m.if(f.get('lost'), m.block(null, [
      I.store(0, 4, at(0), c(PERF_RECORD_LOST)),
      I.store(4, 4, at(0), c(PERF_LOST_SIZE << 16)),
      m.i64.store(0, 8, at(8), m.i64.const(0n)),
      m.i64.store(0, 8, at(16), m.i64.extend_u(f.get('lost'))),
      f.set('head', I.add(f.get('head'), c(PERF_LOST_SIZE))),
    ])),
    I.store(0, 4, at(0), c(PERF_RECORD_SAMPLE)),
    I.store(4, 4, at(0), I.shl(f.get('len'), c(16))),
    I.store(0, 4, at(8), f.get('size')),
    // The data, in two pieces when it reaches past the buffer's end.
    f.set('at', I.and(I.add(f.get('head'), c(PERF_SAMPLE_HDR)), f.get('mask'))),
    f.set('first', I.sub(I.add(f.get('mask'), c(1)), f.get('at'))),
    m.if(I.gt_u(f.get('first'), f.get('size')), f.set('first', f.get('size'))),
    m.memory.copy(I.add(f.get('buf'), f.get('at')), f.get('data'), f.get('first')),
    m.memory.copy(f.get('buf'), I.add(f.get('data'), f.get('first')), I.sub(f.get('size'), f.get('first'))),
    I.atomic.store(PERF_CTL.HEAD, f.get('ctl'), I.add(f.get('head'), f.get('len'))),
    c(0),
  ]);

  // perf_output_impl(map, index, data, size): the write under the buffer's lock, then the reader's wake-up.
  const o = new Fn(m, ['map', 'index', 'data', 'size'], ['ctl', 'ret']);
  o.add('perf_output_impl', i32, [
    o.set('ctl', I.add(I.add(o.hdr(H.ELEMS), c(PERF_CTL_FIRST)), I.mul(o.get('index'), c(PERF_CTL.SIZE)))),
    // A lock never released (its holder's thread ended while writing): counted lost, as a full buffer.
    m.if(m.call('lock_word', [I.add(o.get('ctl'), c(PERF_CTL.LOCK)), c(PRODUCER_LOCK_SLICES)], i32), m.block(null, [
      m.drop(I.atomic.rmw.add(PERF_CTL.LOST, o.get('ctl'), c(1))), m.return(c(-ENOSPC)),
    ])),
    o.set('ret', m.call('perf_write_impl', [o.get('map'), o.get('index'), o.get('data'), o.get('size'), o.get('ctl')], i32)),
    m.drop(m.call('unlock_word', [I.add(o.get('ctl'), c(PERF_CTL.LOCK))], i32)),
    m.if(I.ne(o.get('ret'), c(-ENOENT)), m.call('wake_impl', [I.add(o.hdr(H.ELEMS), c(PERF_WAITING))], 'none')),
    o.get('ret'),
  ]);
}

/**
 * perf_event_output(map, flags, data, size, cpu) -> 0 | -errno, as the kernel's
 * __bpf_perf_event_output: flags hold the buffer's index, or BPF_F_CURRENT_CPU for the run's CPU, and
 * nothing else (-EINVAL); an index past the array is -E2BIG; a closed buffer -ENOENT; a full one -ENOSPC
 * (counted lost). A sample whose record would not fit perf's u16 record size is -E2BIG.
 */
export function addPerfOps(m: WasmModule): void {
  addWrite(m);
  const I = m.i32;
  const L = m.i64;
  const arg = (i: number): Expr => m.local.get(i, i64);
  const index = 5; // the i32 local after the 5 parameters
  const fail = (errno: number): Expr => m.return(L.const(BigInt(-errno)));
  const body = m.block(null, [
    m.if(L.gt_u(arg(1), L.const(BigInt(BPF_F_CURRENT_CPU))), fail(EINVAL)),
    m.local.set(index, m.select(L.eq(arg(1), L.const(BigInt(BPF_F_CURRENT_CPU))), I.wrap(arg(4)), I.wrap(arg(1)))),
    m.if(I.ge_u(m.local.get(index, i32), I.load(H.MAX_ENTRIES, 4, I.wrap(arg(0)))), fail(E2BIG)),
    m.if(L.gt_u(arg(3), L.const(BigInt(PERF_MAX_SAMPLE))), fail(E2BIG)),
    L.extend_s(m.call('perf_output_impl', [I.wrap(arg(0)), m.local.get(index, i32), I.wrap(arg(2)), I.wrap(arg(3))], i32)),
  ], i64);
  m.addFunction('perf_event_output', new Array(5).fill(i64), i64, [i32], body);
  m.addFunctionExport('perf_event_output', 'perf_event_output');
}
