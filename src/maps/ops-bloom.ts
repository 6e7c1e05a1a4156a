/**
 * Bloom filter operations in WebAssembly (ops.ts gives the ABI, layout.ts the layout), as the kernel's
 * kernel/bpf/bloom_filter.c: HASHES hash functions over the value (the hash of ops-hash.ts seeded with
 * seed + i, where the kernel uses jhash), each setting or testing one bit of the bit set in the
 * metadata. Programs never point into it: push reads the value, peek only answers.
 */
import { i32, type Expr, type WasmModule } from '../wasm/builder.js';
import { BPF_ANY, BPF_MAP_TYPE } from './types.js';
import { EINVAL, ENOENT } from './errno.js';
import { H } from './layout.js';
import { Fn } from './wasm-fn.js';

export function addBloomOps(m: WasmModule): void {
  const I = m.i32;
  const c = (n: number): Expr => I.const(n);

  // bloom_hash(map, value, i) -> hash function i of the value, as a bit index.
  const hf = new Fn(m, ['map', 'value', 'i'], []);
  hf.add('bloom_hash', i32, [
    I.and(m.call('hash_bytes', [hf.get('value'), hf.hdr(H.VALUE_SIZE), I.add(hf.hdr(H.SEED), hf.get('i'))], i32), hf.hdr(H.BIT_MASK)),
  ]);
  /** Sets f's local `h` to hash i; then byteOf and bitOf address its bit. */
  const hashI = (f: Fn): Expr => f.set('h', m.call('bloom_hash', [f.get('map'), f.get('value'), f.get('i')], i32));
  const byteOf = (f: Fn): Expr => I.add(f.hdr(H.ELEMS), I.shr_u(f.get('h'), c(3)));
  const bitOf = (f: Fn): Expr => I.shl(c(1), I.and(f.get('h'), c(7)));

  // As bloom_map_push_elem: flags must be BPF_ANY.
  const push = new Fn(m, ['map', 'value', 'flags'], ['i', 'h']);
  push.add('bloom_push_impl', i32, [
    m.if(I.or(I.ne(push.hdr(H.TYPE), c(BPF_MAP_TYPE.BLOOM_FILTER)), I.ne(push.get('flags'), c(BPF_ANY))), m.return(c(-EINVAL))),
    push.while(I.lt_u(push.get('i'), push.hdr(H.HASHES)), () => [
      hashI(push),
      I.store8(0, 1, byteOf(push), I.or(I.load8_u(0, 1, byteOf(push)), bitOf(push))),
      push.set('i', I.add(push.get('i'), c(1))),
    ]),
    c(0),
  ]);

  // As bloom_map_peek_elem: 0 when every bit is set (maybe present), else ENOENT (certainly absent).
  const peek = new Fn(m, ['map', 'value'], ['i', 'h']);
  peek.add('bloom_peek_impl', i32, [
    m.if(I.ne(peek.hdr(H.TYPE), c(BPF_MAP_TYPE.BLOOM_FILTER)), m.return(c(-EINVAL))),
    peek.while(I.lt_u(peek.get('i'), peek.hdr(H.HASHES)), () => [
      hashI(peek),
      m.if(I.eqz(I.and(I.load8_u(0, 1, byteOf(peek)), bitOf(peek))), m.return(c(-ENOENT))),
      peek.set('i', I.add(peek.get('i'), c(1))),
    ]),
    c(0),
  ]);
}
