/**
 * Iteration for bpf_for_each_map_elem (ops.ts gives the ABI, layout.ts the layout), over the map
 * types with a for_each callback in the kernel: arrays and hash maps, per-CPU and LRU kinds included.
 * A position is an array index, or the index of a slot of a hash map's element pool. Walking the pool
 * in order, rather than the bucket chains, makes deleting during the iteration safe: a deleted
 * element goes to the free list (its next field then links free elements), but the walk never
 * follows a link, it only asks whether the element at the next position is in its bucket's chain.
 * Every element present throughout is visited once; the walk ends after the pool's last position.
 * An update of a key meanwhile swaps in another element (ops-hash.ts), so that key may be visited
 * twice or not at all, as an update during the kernel's bucket walk may. Each call takes the
 * map's lock (ops.ts); none is held while the callback runs, which may update the map.
 *
 *   foreach_find(map, pos) -> the first position >= pos holding an element, or -1
 *   foreach_elem(map, pos, cpu, key_out) -> the address of the element's value (the CPU's copy for a
 *       per-CPU map); its key (an array's u32 index) is copied to key_out
 */
import { i32, type Expr, type WasmModule } from '../wasm/builder.js';
import { E, H } from './layout.js';
import { Fn, poolSize } from './wasm-fn.js';
import { isEnd } from './ops-hash.js';

/** in_chain(map, e) -> 1 when element e is in the chain of the bucket its hash names, i.e. in the map. */
function addInChain(m: WasmModule): void {
  const I = m.i32;
  const f = new Fn(m, ['map', 'e'], ['link']);
  const bucket = I.add(f.hdr(H.BUCKETS), I.shl(I.and(I.load(E.HASH, 4, f.get('e')), f.hdr(H.BUCKET_MASK)), I.const(2)));
  f.add('in_chain', i32, [
    f.set('link', I.load(0, 4, bucket)),
    f.while(I.eqz(isEnd(f, f.get('link'))), () => [
      m.if(I.eq(f.get('link'), f.get('e')), m.return(I.const(1))),
      f.set('link', I.load(E.NEXT, 4, f.get('link'))),
    ]),
    I.const(0),
  ]);
}

export function addForEachOps(m: WasmModule): void {
  const I = m.i32;
  const c = (n: number): Expr => I.const(n);
  addInChain(m);
  const elemAt = (f: Fn, pos: Expr): Expr => I.add(f.hdr(H.ELEMS), I.mul(pos, f.hdr(H.ELEM_SIZE)));

  const find = new Fn(m, ['map', 'pos'], []);
  // An array's positions are its indexes; a hash map's its pool's elements (maxEntries + 1).
  const end = (): Expr => m.if(find.hdr(H.BUCKETS), poolSize(find), find.hdr(H.MAX_ENTRIES));
  find.add('foreach_find_impl', i32, [
    find.while(I.lt_u(find.get('pos'), end()), () => [
      // An array has every position; a hash map (BUCKETS != 0) those whose element is in the map.
      // (An if, not an or: in_chain must not walk an array's bucket address 0, where no chain ends.)
      m.if(m.if(find.hdr(H.BUCKETS), m.call('in_chain', [find.get('map'), elemAt(find, find.get('pos'))], i32), c(1)),
        m.return(find.get('pos'))),
      find.set('pos', I.add(find.get('pos'), c(1))),
    ]),
    c(-1),
  ]);

  const elem = new Fn(m, ['map', 'pos', 'cpu', 'key'], ['e']);
  // Only per-CPU maps have a copy per CPU: the others' one copy is copy 0.
  const cpu = (): Expr => m.select(I.gt_u(elem.hdr(H.COPIES), c(1)), elem.get('cpu'), c(0));
  elem.add('foreach_elem_impl', i32, [
    m.if(I.eqz(elem.hdr(H.BUCKETS)), m.block(null, [
      I.store(0, 1, elem.get('key'), elem.get('pos')),
      m.return(I.add(I.add(elem.hdr(H.DATA), I.mul(cpu(), elem.hdr(H.CPU_STRIDE))), I.mul(elem.get('pos'), elem.hdr(H.STRIDE)))),
    ])),
    elem.set('e', elemAt(elem, elem.get('pos'))),
    m.memory.copy(elem.get('key'), I.add(elem.get('e'), c(E.KEY)), elem.hdr(H.KEY_SIZE)),
    I.add(I.load(E.VALUE, 4, elem.get('e')), I.mul(cpu(), elem.hdr(H.STRIDE))),
  ]);
}
