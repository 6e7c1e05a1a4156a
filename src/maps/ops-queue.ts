/**
 * Queue and stack operations in WebAssembly (ops.ts gives the ABI, layout.ts the layout), as the
 * kernel's kernel/bpf/queue_stack_maps.c: a ring of maxEntries + 1 value slots in the metadata (no
 * program ever points into it; pop and peek copy out), HEAD the next slot to write, TAIL the oldest
 * element, empty when they are equal and full when the slot after HEAD is TAIL. A queue takes from
 * TAIL, a stack from HEAD; the header's type says which.
 */
import { i32, type Expr, type WasmModule } from '../wasm/builder.js';
import { BPF_EXIST, BPF_MAP_TYPE, BPF_NOEXIST } from './types.js';
import { E2BIG, EINVAL, ENOENT } from './errno.js';
import { H } from './layout.js';
import { Fn } from './wasm-fn.js';

export function addQueueOps(m: WasmModule): void {
  const I = m.i32;
  const c = (n: number): Expr => I.const(n);
  const slot = (f: Fn, i: Expr): Expr => I.add(f.hdr(H.ELEMS), I.mul(i, f.hdr(H.STRIDE)));
  const next = (f: Fn, i: Expr): Expr => m.call('ring_next', [f.get('map'), i], i32);
  /** Not a queue or a stack: refused rather than a ring written over another kind's storage. */
  const notQueue = (f: Fn): Expr =>
    I.and(I.ne(f.hdr(H.TYPE), c(BPF_MAP_TYPE.QUEUE)), I.ne(f.hdr(H.TYPE), c(BPF_MAP_TYPE.STACK)));

  const rn = new Fn(m, ['map', 'i'], []);
  rn.add('ring_next', i32, [
    rn.set('i', I.add(rn.get('i'), c(1))),
    m.select(I.ge_u(rn.get('i'), rn.hdr(H.RING)), c(0), rn.get('i')),
  ]);

  // As queue_stack_map_push_elem: flags BPF_ANY, or BPF_EXIST to drop the oldest element when full.
  const push = new Fn(m, ['map', 'value', 'flags'], []);
  push.add('queue_push_impl', i32, [
    m.if(I.or(notQueue(push), I.or(I.and(push.get('flags'), c(BPF_NOEXIST)), I.gt_u(push.get('flags'), c(BPF_EXIST)))), m.return(c(-EINVAL))),
    m.if(I.eq(next(push, push.hdr(H.HEAD)), push.hdr(H.TAIL)), m.block(null, [
      m.if(I.eqz(push.get('flags')), m.return(c(-E2BIG))),
      push.setHdr(H.TAIL, next(push, push.hdr(H.TAIL))),
    ])),
    m.memory.copy(slot(push, push.hdr(H.HEAD)), push.get('value'), push.hdr(H.VALUE_SIZE)),
    push.setHdr(H.HEAD, next(push, push.hdr(H.HEAD))),
    c(0),
  ]);

  // As __queue_map_get and __stack_map_get: an empty map zeroes `out` and answers ENOENT.
  const get = new Fn(m, ['map', 'out', 'remove'], ['i']);
  const prevHead = I.sub(m.select(I.eqz(get.hdr(H.HEAD)), get.hdr(H.RING), get.hdr(H.HEAD)), c(1));
  get.add('queue_get_impl', i32, [
    m.if(notQueue(get), m.return(c(-EINVAL))),
    m.if(I.eq(get.hdr(H.HEAD), get.hdr(H.TAIL)), m.block(null, [
      m.memory.fill(get.get('out'), c(0), get.hdr(H.VALUE_SIZE)), m.return(c(-ENOENT)),
    ])),
    m.if(I.eq(get.hdr(H.TYPE), c(BPF_MAP_TYPE.STACK)),
      m.block(null, [get.set('i', prevHead), m.if(get.get('remove'), get.setHdr(H.HEAD, get.get('i')))]),
      m.block(null, [get.set('i', get.hdr(H.TAIL)), m.if(get.get('remove'), get.setHdr(H.TAIL, next(get, get.get('i'))))])),
    m.memory.copy(get.get('out'), slot(get, get.get('i')), get.hdr(H.VALUE_SIZE)),
    c(0),
  ]);
}
