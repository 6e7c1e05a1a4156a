/** The array map operations in WebAssembly (ops.ts gives the ABI, layout.ts the layout), and map_clear. */
import { i32, type Expr, type WasmModule } from '../wasm/builder.js';
import { BPF_EXIST, BPF_MAP_TYPE, BPF_NOEXIST } from './types.js';
import { E2BIG, EEXIST, EINVAL, ENOENT } from './errno.js';
import { E, H } from './layout.js';
import { badCpu, Fn, poolSize } from './wasm-fn.js';
import { FREE_END } from './ops-hash.js';

export function addArrayOps(m: WasmModule): void {
  const I = m.i32;
  const c = (n: number): Expr => I.const(n);
  // Around the value's bpf_spin_lock, if it has one (ops-spin-lock.ts).
  const copyValue = (f: Fn, dst: Expr, src: Expr, len: Expr): Expr => m.call('copy_value_impl', [f.get('map'), dst, src, len], 'none');
  const slot = (f: Fn, index: Expr, cpu: Expr): Expr =>
    I.add(I.add(f.hdr(H.DATA), I.mul(cpu, f.hdr(H.CPU_STRIDE))), I.mul(index, f.hdr(H.STRIDE)));

  const look = new Fn(m, ['map', 'key', 'cpu'], ['i']);
  look.add('array_lookup_impl', i32, [
    look.set('i', I.load(0, 1, look.get('key'))),
    m.if(I.or(I.ge_u(look.get('i'), look.hdr(H.MAX_ENTRIES)), badCpu(look, false)), m.return(c(0))),
    slot(look, look.get('i'), look.get('cpu')),
  ]);

  // As the kernel's array_map_update_elem: bad flags EINVAL, index out of range E2BIG, NOEXIST EEXIST.
  const up = new Fn(m, ['map', 'key', 'value', 'flags', 'cpu'], ['i', 'k']);
  up.add('array_update_impl', i32, [
    m.if(I.or(I.gt_u(up.get('flags'), c(BPF_EXIST)), badCpu(up, true)), m.return(c(-EINVAL))),
    up.set('i', I.load(0, 1, up.get('key'))),
    m.if(I.ge_u(up.get('i'), up.hdr(H.MAX_ENTRIES)), m.return(c(-E2BIG))),
    m.if(I.eq(up.get('flags'), c(BPF_NOEXIST)), m.return(c(-EEXIST))),
    m.if(I.ne(up.get('cpu'), c(-1)), m.block(null, [
      copyValue(up, slot(up, up.get('i'), up.get('cpu')), up.get('value'), up.hdr(H.VALUE_SIZE)), m.return(c(0)),
    ])),
    up.while(I.lt_u(up.get('k'), up.hdr(H.COPIES)), () => [
      copyValue(up, slot(up, up.get('i'), up.get('k')), I.add(up.get('value'), I.mul(up.get('k'), up.hdr(H.STRIDE))), up.hdr(H.STRIDE)),
      up.set('k', I.add(up.get('k'), c(1))),
    ]),
    c(0),
  ]);

  // As the kernel's array_map_get_next_key: no key, or one out of range, starts at index 0.
  const next = new Fn(m, ['map', 'key', 'out'], ['i']);
  next.add('array_next_key_impl', i32, [
    m.if(next.get('key'), next.set('i', I.load(0, 1, next.get('key'))), next.set('i', c(-1))),
    m.if(I.ge_u(next.get('i'), next.hdr(H.MAX_ENTRIES)), m.block(null, [I.store(0, 1, next.get('out'), c(0)), m.return(c(0))])),
    m.if(I.eq(next.get('i'), I.sub(next.hdr(H.MAX_ENTRIES), c(1))), m.return(c(-ENOENT))),
    I.store(0, 1, next.get('out'), I.add(next.get('i'), c(1))),
    c(0),
  ]);
}

/**
 * map_clear(map): values and the operations' area to zero, a queue or stack empty; for a hash map the
 * buckets empty (each its end marker) and every element free, in order, each given its values' address; an LPM trie's is
 * lpm_clear_impl (ops-lpm.ts).
 */
export function addClear(m: WasmModule): void {
  const I = m.i32;
  const c = (n: number): Expr => I.const(n);
  const f = new Fn(m, ['map'], ['e', 'v', 'i']);
  f.add('map_clear_impl', i32, [
    m.if(I.eq(f.hdr(H.TYPE), c(BPF_MAP_TYPE.LPM_TRIE)), m.return(m.call('lpm_clear_impl', [f.get('map')], i32))),
    m.memory.fill(f.hdr(H.DATA), c(0), f.hdr(H.DATA_SIZE)),
    f.setHdr(H.HEAD, c(0)), f.setHdr(H.TAIL, c(0)),
    m.if(I.eqz(f.hdr(H.BUCKETS)), m.block(null, [m.memory.fill(f.hdr(H.ELEMS), c(0), f.hdr(H.ELEMS_SIZE)), m.return(c(0))])),
    // A hash map's links are rewritten, never zeroed: a lock-free lookup (ops-hash.ts) on another
    // thread may be walking them; each bucket ends in its marker and the free list in FREE_END.
    f.while(I.le_u(f.get('i'), f.hdr(H.BUCKET_MASK)), () => [
      I.atomic.store(0, I.add(f.hdr(H.BUCKETS), I.shl(f.get('i'), c(2))), I.or(I.shl(f.get('i'), c(1)), c(1))),
      f.set('i', I.add(f.get('i'), c(1))),
    ]),
    f.set('i', c(0)),
    f.set('e', f.hdr(H.ELEMS)),
    f.set('v', f.hdr(H.DATA)),
    f.while(I.lt_u(f.get('i'), poolSize(f)), () => [
      I.store(E.VALUE, 4, f.get('e'), f.get('v')),
      f.set('i', I.add(f.get('i'), c(1))),
      I.atomic.store(E.NEXT, f.get('e'), m.select(I.lt_u(f.get('i'), poolSize(f)), I.add(f.get('e'), f.hdr(H.ELEM_SIZE)), c(FREE_END))),
      f.set('e', I.add(f.get('e'), f.hdr(H.ELEM_SIZE))),
      f.set('v', I.add(f.get('v'), I.mul(f.hdr(H.COPIES), f.hdr(H.STRIDE)))),
    ]),
    f.setHdr(H.FREE, f.hdr(H.ELEMS)), f.setHdr(H.COUNT, c(0)), f.setHdr(H.LRU_HEAD, c(0)), f.setHdr(H.LRU_TAIL, c(0)),
    c(0),
  ]);
}
