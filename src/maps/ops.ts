/**
 * The map operations: ONE implementation, in WebAssembly over the engine memory, that the host API
 * (map.ts), the interpreter and JIT-compiled code all call (docs/architecture.md section 2, "Maps").
 * The module is built once per EngineMemory and imports it as `env.memory`, shared, as the JIT's
 * modules do (src/jit/module.ts), so JIT code can later import these functions and call them wasm to
 * wasm. The storage layout is layout.ts's.
 *
 * ABI: every export takes and returns i64, the type of a BPF register (src/jit/calls.ts passes r1..r5
 * as i64). `map` is the address of the map's header, other pointers are byte addresses in the engine
 * memory; results are an address (0 for none) or 0 / -errno as the kernel's helpers return.
 *
 *   array_lookup(map, key) -> value | 0             percpu_array_lookup(map, key, cpu) -> value | 0
 *   array_update(map, key, value, flags) -> 0|-errno
 *   percpu_array_update(map, key, value, flags, cpu) -> 0|-errno
 *   array_delete(map, key) -> -EINVAL               array_next_key(map, key | 0, next_out) -> 0|-ENOENT
 *   hash_lookup(map, key) -> value | 0              percpu_hash_lookup(map, key, cpu) -> value | 0
 *   hash_lookup_sys(map, key, cpu) -> value | 0     (the host's: not a use for an LRU map, as in the kernel)
 *   hash_update(map, key, value, flags) -> 0|-errno percpu_hash_update(map, key, value, flags, cpu) -> 0|-errno
 *   hash_delete(map, key) -> 0|-ENOENT              hash_next_key(map, key | 0, next_out) -> 0|-ENOENT
 *   map_clear(map) -> 0                             (empties a hash map, zeroes an array: host only)
 *
 * The hash functions serve hash, per-CPU hash and both LRU kinds (the header says which). A `cpu` of
 * -1 in a per-CPU update (the host's) means `value` holds every CPU's copy, stride bytes apart, as the
 * kernel's syscall takes them; a program passes its own CPU, and a new element's other copies are zeroed.
 *
 * Not yet safe against concurrent updates from several threads (workers are future work): there
 * is no bucket lock, and an update of an existing key copies the value in place where the kernel
 * swaps in a new element atomically.
 */
import { WasmModule, i32, i64, type Expr } from '../wasm/builder.js';
import { encodeModule } from '../wasm/encode.js';
import type { EngineMemory } from '../runtime/memory.js';
import { BPF_EXIST, BPF_NOEXIST } from './types.js';
import { E, H } from './layout.js';
import { Fn } from './wasm-fn.js';

export const ENOENT = 2;
export const E2BIG = 7;
export const EEXIST = 17;
export const EINVAL = 22;

/** wasm32's largest memory: declaring it accepts the engine memory whatever its maximum (as src/jit/module.ts). */
const MAX_WASM32_PAGES = 65536;

type B = bigint;
export interface MapOpsExports {
  array_lookup(map: B, key: B): B;
  percpu_array_lookup(map: B, key: B, cpu: B): B;
  array_update(map: B, key: B, value: B, flags: B): B;
  percpu_array_update(map: B, key: B, value: B, flags: B, cpu: B): B;
  array_delete(map: B, key: B): B;
  array_next_key(map: B, key: B, out: B): B;
  hash_lookup(map: B, key: B): B;
  percpu_hash_lookup(map: B, key: B, cpu: B): B;
  hash_lookup_sys(map: B, key: B, cpu: B): B;
  hash_update(map: B, key: B, value: B, flags: B): B;
  percpu_hash_update(map: B, key: B, value: B, flags: B, cpu: B): B;
  hash_delete(map: B, key: B): B;
  hash_next_key(map: B, key: B, out: B): B;
  map_clear(map: B): B;
}

/** Murmur3's 32-bit mix over the key's 4-byte words, FNV-1a over the tail, murmur's finalizer. */
function addHashKey(m: WasmModule): void {
  const f = new Fn(m, ['map', 'key'], ['len', 'h', 'i', 'k']);
  const I = m.i32;
  const c = (n: number): Expr => I.const(n);
  const mulSet = (name: string, by: number): Expr => f.set(name, I.mul(f.get(name), c(by)));
  const xorShift = (by: number): Expr => f.set('h', I.xor(f.get('h'), I.shr_u(f.get('h'), c(by))));
  f.add('hash_key', i32, [
    f.set('len', I.load(H.KEY_SIZE, 4, f.get('map'))),
    f.set('h', I.xor(I.load(H.SEED, 4, f.get('map')), f.get('len'))),
    f.while(I.le_u(I.add(f.get('i'), c(4)), f.get('len')), () => [
      f.set('k', I.load(0, 1, I.add(f.get('key'), f.get('i')))),
      mulSet('k', 0xcc9e2d51), f.set('k', I.rotl(f.get('k'), c(15))), mulSet('k', 0x1b873593),
      f.set('h', I.rotl(I.xor(f.get('h'), f.get('k')), c(13))),
      f.set('h', I.add(I.mul(f.get('h'), c(5)), c(0xe6546b64))),
      f.set('i', I.add(f.get('i'), c(4))),
    ]),
    f.while(I.lt_u(f.get('i'), f.get('len')), () => [
      f.set('h', I.mul(I.xor(f.get('h'), I.load8_u(0, 1, I.add(f.get('key'), f.get('i')))), c(0x01000193))),
      f.set('i', I.add(f.get('i'), c(1))),
    ]),
    xorShift(16), mulSet('h', 0x85ebca6b), xorShift(13), mulSet('h', 0xc2b2ae35), xorShift(16),
    f.get('h'),
  ]);
}

/** keys_equal(a, b, len): 8 bytes at a time, then bytewise (loads need no alignment in wasm). */
function addKeysEqual(m: WasmModule): void {
  const f = new Fn(m, ['a', 'b', 'len'], ['i']);
  const I = m.i32;
  const at = (p: string): Expr => I.add(f.get(p), f.get('i'));
  const step = (n: number): Expr => f.set('i', I.add(f.get('i'), I.const(n)));
  f.add('keys_equal', i32, [
    f.while(I.le_u(I.add(f.get('i'), I.const(8)), f.get('len')), () => [
      m.if(m.i64.ne(m.i64.load(0, 1, at('a')), m.i64.load(0, 1, at('b'))), m.return(I.const(0))), step(8),
    ]),
    f.while(I.lt_u(f.get('i'), f.get('len')), () => [
      m.if(I.ne(I.load8_u(0, 1, at('a')), I.load8_u(0, 1, at('b'))), m.return(I.const(0))), step(1),
    ]),
    I.const(1),
  ]);
}

/**
 * `then` when element `e` holds the key: the hashes first, the bytes only when they agree. f's
 * locals `map`, `key`, `e` and `hash` name them.
 */
function ifMatch(f: Fn, hash: string, then: Expr): Expr {
  const m = f.m;
  const I = m.i32;
  const bytesEqual = m.call('keys_equal', [I.add(f.get('e'), I.const(E.KEY)), f.get('key'), I.load(H.KEY_SIZE, 4, f.get('map'))], i32);
  return m.if(I.eq(I.load(E.HASH, 4, f.get('e')), f.get(hash)), m.if(bytesEqual, then));
}

/** find(map, key, hash) -> the element holding key, or 0: a walk of the key's bucket. */
function addFind(m: WasmModule): void {
  const f = new Fn(m, ['map', 'key', 'hash'], ['e']);
  f.add('find', i32, [
    f.set('e', m.i32.load(0, 4, bucketOf(f, f.get('hash')))),
    f.while(f.get('e'), () => [ifMatch(f, 'hash', m.return(f.get('e'))), f.set('e', m.i32.load(E.NEXT, 4, f.get('e')))]),
    m.i32.const(0),
  ]);
}

/** The address of the bucket slot (the u32 head of a chain) for a hash, in f's map. */
function bucketOf(f: Fn, hash: Expr): Expr {
  const I = f.m.i32;
  return I.add(I.load(H.BUCKETS, 4, f.get('map')), I.shl(I.and(hash, I.load(H.BUCKET_MASK, 4, f.get('map'))), I.const(2)));
}

/**
 * The LRU list of an LRU map: a doubly linked list through the elements, most recently used at the
 * head. Exact LRU, where the kernel approximates it with per-CPU lists and reference bits.
 */
function addLru(m: WasmModule): void {
  const I = m.i32;
  const link = (f: Fn, e: string, off: number): Expr => I.load(off, 4, f.get(e));
  const setLink = (f: Fn, e: string, off: number, v: Expr): Expr => I.store(off, 4, f.get(e), v);
  const setHdr = (f: Fn, field: number, v: Expr): Expr => I.store(field, 4, f.get('map'), v);

  const unlink = new Fn(m, ['map', 'e'], ['p', 'n']);
  unlink.add('lru_unlink', 'none', [
    unlink.set('p', link(unlink, 'e', E.LRU_PREV)), unlink.set('n', link(unlink, 'e', E.LRU_NEXT)),
    m.if(unlink.get('p'), setLink(unlink, 'p', E.LRU_NEXT, unlink.get('n')), setHdr(unlink, H.LRU_HEAD, unlink.get('n'))),
    m.if(unlink.get('n'), setLink(unlink, 'n', E.LRU_PREV, unlink.get('p')), setHdr(unlink, H.LRU_TAIL, unlink.get('p'))),
  ]);

  const front = new Fn(m, ['map', 'e'], ['head']);
  front.add('lru_push_front', 'none', [
    front.set('head', I.load(H.LRU_HEAD, 4, front.get('map'))),
    setLink(front, 'e', E.LRU_PREV, I.const(0)), setLink(front, 'e', E.LRU_NEXT, front.get('head')),
    m.if(front.get('head'), setLink(front, 'head', E.LRU_PREV, front.get('e')), setHdr(front, H.LRU_TAIL, front.get('e'))),
    setHdr(front, H.LRU_HEAD, front.get('e')),
  ]);

  const touch = new Fn(m, ['map', 'e'], []);
  const moves = I.and(I.load(H.LRU, 4, touch.get('map')), I.ne(touch.get('e'), I.load(H.LRU_HEAD, 4, touch.get('map'))));
  touch.add('lru_touch', 'none', [m.if(moves, m.block(null, [
    m.call('lru_unlink', [touch.get('map'), touch.get('e')], 'none'),
    m.call('lru_push_front', [touch.get('map'), touch.get('e')], 'none'),
  ]))]);

  // evict(map) -> the least recently used element, taken out of its bucket and of the list.
  const ev = new Fn(m, ['map'], ['e', 'link', 'cur']);
  ev.add('lru_evict', i32, [
    ev.set('e', I.load(H.LRU_TAIL, 4, ev.get('map'))),
    ev.set('link', bucketOf(ev, I.load(E.HASH, 4, ev.get('e')))),
    ev.while(I.const(1), (exit) => [
      ev.set('cur', I.load(0, 4, ev.get('link'))),
      m.if(I.eqz(ev.get('cur')), m.unreachable()), // a broken chain traps rather than spins
      m.if(I.eq(ev.get('cur'), ev.get('e')), m.block(null, [I.store(0, 4, ev.get('link'), I.load(E.NEXT, 4, ev.get('e'))), m.br(exit)])),
      ev.set('link', ev.get('cur')), // the next field is at offset 0: an element is a link too
    ]),
    m.call('lru_unlink', [ev.get('map'), ev.get('e')], 'none'),
    I.store(H.COUNT, 4, ev.get('map'), I.sub(I.load(H.COUNT, 4, ev.get('map')), I.const(1))),
    ev.get('e'),
  ]);
}

/** The address of an element's value copy for `cpu`. */
const valueAt = (f: Fn, e: Expr, cpu: Expr): Expr => {
  const I = f.m.i32;
  return I.add(I.add(e, I.load(H.VALUE_OFFSET, 4, f.get('map'))), I.mul(cpu, I.load(H.STRIDE, 4, f.get('map'))));
};

/** A cpu argument that names no copy: -1 means all copies for updates; anything else past the copies is refused. */
const badCpu = (f: Fn, allowAll: boolean): Expr => {
  const I = f.m.i32;
  const out = I.ge_u(f.get('cpu'), I.load(H.COPIES, 4, f.get('map')));
  return allowAll ? I.and(out, I.ne(f.get('cpu'), I.const(-1))) : out;
};

function addHashOps(m: WasmModule): void {
  const I = m.i32;
  const c = (n: number): Expr => I.const(n);
  const hdr = (f: Fn, field: number): Expr => I.load(field, 4, f.get('map'));
  const setHdr = (f: Fn, field: number, v: Expr): Expr => I.store(field, 4, f.get('map'), v);
  const hashOf = (f: Fn): Expr => m.call('hash_key', [f.get('map'), f.get('key')], i32);

  const look = new Fn(m, ['map', 'key', 'cpu', 'touch'], ['e']);
  look.add('hash_lookup_impl', i32, [
    m.if(badCpu(look, false), m.return(c(0))),
    look.set('e', m.call('find', [look.get('map'), look.get('key'), hashOf(look)], i32)),
    m.if(I.eqz(look.get('e')), m.return(c(0))),
    m.if(look.get('touch'), m.call('lru_touch', [look.get('map'), look.get('e')], 'none')),
    valueAt(look, look.get('e'), look.get('cpu')),
  ]);

  // Copies the value in place: the kernel swaps in a new element (see the note at the top).
  const up = new Fn(m, ['map', 'key', 'value', 'flags', 'cpu'], ['h', 'e', 'slot']);
  const all = (): Expr => I.eq(up.get('cpu'), c(-1));
  const copyValue = (): Expr => m.if(all(),
    m.memory.copy(valueAt(up, up.get('e'), c(0)), up.get('value'), I.mul(hdr(up, H.COPIES), hdr(up, H.STRIDE))),
    m.memory.copy(valueAt(up, up.get('e'), up.get('cpu')), up.get('value'), hdr(up, H.VALUE_SIZE)));
  up.add('hash_update_impl', i32, [
    m.if(I.or(I.gt_u(up.get('flags'), c(BPF_EXIST)), badCpu(up, true)), m.return(c(-EINVAL))),
    up.set('h', hashOf(up)),
    up.set('e', m.call('find', [up.get('map'), up.get('key'), up.get('h')], i32)),
    m.if(up.get('e'), m.block(null, [
      m.if(I.eq(up.get('flags'), c(BPF_NOEXIST)), m.return(c(-EEXIST))),
      copyValue(),
      m.call('lru_touch', [up.get('map'), up.get('e')], 'none'),
      m.return(c(0)),
    ])),
    m.if(I.eq(up.get('flags'), c(BPF_EXIST)), m.return(c(-ENOENT))),
    up.set('e', hdr(up, H.FREE)),
    m.if(up.get('e'), setHdr(up, H.FREE, I.load(E.NEXT, 4, up.get('e'))), m.if(hdr(up, H.LRU),
      up.set('e', m.call('lru_evict', [up.get('map')], i32)),
      m.return(c(-E2BIG)))),
    I.store(E.HASH, 4, up.get('e'), up.get('h')),
    m.memory.copy(I.add(up.get('e'), c(E.KEY)), up.get('key'), hdr(up, H.KEY_SIZE)),
    // A new element's copies start at zero: the element may have held another key's value.
    m.memory.fill(valueAt(up, up.get('e'), c(0)), c(0), I.mul(hdr(up, H.COPIES), hdr(up, H.STRIDE))),
    copyValue(),
    up.set('slot', bucketOf(up, up.get('h'))),
    I.store(E.NEXT, 4, up.get('e'), I.load(0, 4, up.get('slot'))),
    I.store(0, 4, up.get('slot'), up.get('e')),
    setHdr(up, H.COUNT, I.add(hdr(up, H.COUNT), c(1))),
    m.if(hdr(up, H.LRU), m.call('lru_push_front', [up.get('map'), up.get('e')], 'none')),
    c(0),
  ]);

  // Unlinks through the address of the link that points at the element (a bucket slot or a next field).
  const del = new Fn(m, ['map', 'key'], ['h', 'link', 'e']);
  del.add('hash_delete_impl', i32, [
    del.set('h', hashOf(del)),
    del.set('link', bucketOf(del, del.get('h'))),
    del.while(I.const(1), () => [
      del.set('e', I.load(0, 4, del.get('link'))),
      m.if(I.eqz(del.get('e')), m.return(c(-ENOENT))),
      ifMatch(del, 'h', m.block(null, [
        I.store(0, 4, del.get('link'), I.load(E.NEXT, 4, del.get('e'))),
        m.if(hdr(del, H.LRU), m.call('lru_unlink', [del.get('map'), del.get('e')], 'none')),
        I.store(E.NEXT, 4, del.get('e'), hdr(del, H.FREE)),
        setHdr(del, H.FREE, del.get('e')),
        setHdr(del, H.COUNT, I.sub(hdr(del, H.COUNT), c(1))),
        m.return(c(0)),
      ])),
      del.set('link', del.get('e')),
    ]),
    c(-ENOENT),
  ]);

  // As the kernel's htab_map_get_next_key: the element after key in its bucket, else the first of
  // the next non-empty bucket; a key not (or no longer) in the map starts over from the first.
  const next = new Fn(m, ['map', 'key', 'out'], ['h', 'e', 'i']);
  const emit = (): Expr => m.block(null, [
    m.memory.copy(next.get('out'), I.add(next.get('e'), c(E.KEY)), hdr(next, H.KEY_SIZE)), m.return(c(0)),
  ]);
  next.add('hash_next_key_impl', i32, [
    m.if(next.get('key'), m.block(null, [
      next.set('h', hashOf(next)),
      next.set('e', m.call('find', [next.get('map'), next.get('key'), next.get('h')], i32)),
      m.if(next.get('e'), m.block(null, [
        next.set('e', I.load(E.NEXT, 4, next.get('e'))),
        m.if(next.get('e'), emit()),
        next.set('i', I.add(I.and(next.get('h'), hdr(next, H.BUCKET_MASK)), c(1))),
      ])),
    ])),
    next.while(I.le_u(next.get('i'), hdr(next, H.BUCKET_MASK)), () => [
      next.set('e', I.load(0, 4, I.add(hdr(next, H.BUCKETS), I.shl(next.get('i'), c(2))))),
      m.if(next.get('e'), emit()),
      next.set('i', I.add(next.get('i'), c(1))),
    ]),
    c(-ENOENT),
  ]);
}

function addArrayOps(m: WasmModule): void {
  const I = m.i32;
  const c = (n: number): Expr => I.const(n);
  const hdr = (f: Fn, field: number): Expr => I.load(field, 4, f.get('map'));
  const slot = (f: Fn, index: Expr, cpu: Expr): Expr =>
    I.add(I.add(hdr(f, H.DATA), I.mul(cpu, hdr(f, H.CPU_STRIDE))), I.mul(index, hdr(f, H.STRIDE)));

  const look = new Fn(m, ['map', 'key', 'cpu'], ['i']);
  look.add('array_lookup_impl', i32, [
    look.set('i', I.load(0, 1, look.get('key'))),
    m.if(I.or(I.ge_u(look.get('i'), hdr(look, H.MAX_ENTRIES)), badCpu(look, false)), m.return(c(0))),
    slot(look, look.get('i'), look.get('cpu')),
  ]);

  // As the kernel's array_map_update_elem: bad flags EINVAL, index out of range E2BIG, NOEXIST EEXIST.
  const up = new Fn(m, ['map', 'key', 'value', 'flags', 'cpu'], ['i', 'k']);
  up.add('array_update_impl', i32, [
    m.if(I.or(I.gt_u(up.get('flags'), c(BPF_EXIST)), badCpu(up, true)), m.return(c(-EINVAL))),
    up.set('i', I.load(0, 1, up.get('key'))),
    m.if(I.ge_u(up.get('i'), hdr(up, H.MAX_ENTRIES)), m.return(c(-E2BIG))),
    m.if(I.eq(up.get('flags'), c(BPF_NOEXIST)), m.return(c(-EEXIST))),
    m.if(I.ne(up.get('cpu'), c(-1)), m.block(null, [
      m.memory.copy(slot(up, up.get('i'), up.get('cpu')), up.get('value'), hdr(up, H.VALUE_SIZE)), m.return(c(0)),
    ])),
    up.while(I.lt_u(up.get('k'), hdr(up, H.COPIES)), () => [
      m.memory.copy(slot(up, up.get('i'), up.get('k')), I.add(up.get('value'), I.mul(up.get('k'), hdr(up, H.STRIDE))), hdr(up, H.STRIDE)),
      up.set('k', I.add(up.get('k'), c(1))),
    ]),
    c(0),
  ]);

  // As the kernel's array_map_get_next_key: no key, or one out of range, starts at index 0.
  const next = new Fn(m, ['map', 'key', 'out'], ['i']);
  next.add('array_next_key_impl', i32, [
    m.if(next.get('key'), next.set('i', I.load(0, 1, next.get('key'))), next.set('i', c(-1))),
    m.if(I.ge_u(next.get('i'), hdr(next, H.MAX_ENTRIES)), m.block(null, [I.store(0, 1, next.get('out'), c(0)), m.return(c(0))])),
    m.if(I.eq(next.get('i'), I.sub(hdr(next, H.MAX_ENTRIES), c(1))), m.return(c(-ENOENT))),
    I.store(0, 1, next.get('out'), I.add(next.get('i'), c(1))),
    c(0),
  ]);
}

/** map_clear(map): an array's values to zero; a hash map's buckets empty and every element free, in order. */
function addClear(m: WasmModule): void {
  const I = m.i32;
  const c = (n: number): Expr => I.const(n);
  const f = new Fn(m, ['map'], ['e', 'i']);
  const hdr = (field: number): Expr => I.load(field, 4, f.get('map'));
  const setHdr = (field: number, v: Expr): Expr => I.store(field, 4, f.get('map'), v);
  f.add('map_clear_impl', i32, [
    m.memory.fill(hdr(H.DATA), c(0), hdr(H.DATA_SIZE)),
    m.if(I.eqz(hdr(H.BUCKETS)), m.return(c(0))),
    m.memory.fill(hdr(H.BUCKETS), c(0), I.shl(I.add(hdr(H.BUCKET_MASK), c(1)), c(2))),
    f.set('e', hdr(H.DATA)),
    f.while(I.lt_u(I.add(f.get('i'), c(1)), hdr(H.MAX_ENTRIES)), () => [
      I.store(E.NEXT, 4, f.get('e'), I.add(f.get('e'), hdr(H.ELEM_SIZE))),
      f.set('e', I.add(f.get('e'), hdr(H.ELEM_SIZE))),
      f.set('i', I.add(f.get('i'), c(1))),
    ]),
    setHdr(H.FREE, hdr(H.DATA)), setHdr(H.COUNT, c(0)), setHdr(H.LRU_HEAD, c(0)), setHdr(H.LRU_TAIL, c(0)),
    c(0),
  ]);
}

/**
 * The i64 exports (the ABI above) over the i32 implementations: each wraps its arguments and widens
 * the result, addresses unsigned, -errno signed. Extra arguments are constants (cpu 0, touch).
 */
const EXPORTS: ReadonlyArray<{ name: keyof MapOpsExports; impl: string; params: number; extra: number[]; address: boolean }> = [
  { name: 'array_lookup', impl: 'array_lookup_impl', params: 2, extra: [0], address: true },
  { name: 'percpu_array_lookup', impl: 'array_lookup_impl', params: 3, extra: [], address: true },
  { name: 'array_update', impl: 'array_update_impl', params: 4, extra: [0], address: false },
  { name: 'percpu_array_update', impl: 'array_update_impl', params: 5, extra: [], address: false },
  { name: 'array_next_key', impl: 'array_next_key_impl', params: 3, extra: [], address: false },
  { name: 'hash_lookup', impl: 'hash_lookup_impl', params: 2, extra: [0, 1], address: true },
  { name: 'percpu_hash_lookup', impl: 'hash_lookup_impl', params: 3, extra: [1], address: true },
  { name: 'hash_lookup_sys', impl: 'hash_lookup_impl', params: 3, extra: [0], address: true },
  { name: 'hash_update', impl: 'hash_update_impl', params: 4, extra: [0], address: false },
  { name: 'percpu_hash_update', impl: 'hash_update_impl', params: 5, extra: [], address: false },
  { name: 'hash_delete', impl: 'hash_delete_impl', params: 2, extra: [], address: false },
  { name: 'hash_next_key', impl: 'hash_next_key_impl', params: 3, extra: [], address: false },
  { name: 'map_clear', impl: 'map_clear_impl', params: 1, extra: [], address: false },
];

function addExports(m: WasmModule): void {
  for (const x of EXPORTS) {
    const args = Array.from({ length: x.params }, (_, i) => m.i32.wrap(m.local.get(i, i64)));
    const call = m.call(x.impl, [...args, ...x.extra.map((n) => m.i32.const(n))], i32);
    m.addFunction(x.name, new Array(x.params).fill(i64), i64, [], x.address ? m.i64.extend_u(call) : m.i64.extend_s(call));
    m.addFunctionExport(x.name, x.name);
  }
  // Arrays cannot delete an element (kernel: array_map_delete_elem returns -EINVAL).
  m.addFunction('array_delete', [i64, i64], i64, [], m.i64.const(BigInt(-EINVAL)));
  m.addFunctionExport('array_delete', 'array_delete');
}

/** The module's bytes; the same for every memory (the memory is an import). */
export function buildMapOpsModule(): WasmModule {
  const m = new WasmModule();
  m.importMemory('env', 'memory', 1, MAX_WASM32_PAGES, true);
  addHashKey(m);
  addKeysEqual(m);
  addFind(m);
  addLru(m);
  addHashOps(m);
  addArrayOps(m);
  addClear(m);
  addExports(m);
  return m;
}

let compiled: WebAssembly.Module | undefined;
const instances = new WeakMap<EngineMemory, MapOpsExports>();

/** The map operations over this memory: compiled once per process, instantiated once per memory. */
export function mapOperations(mem: EngineMemory): MapOpsExports {
  let ops = instances.get(mem);
  if (!ops) {
    compiled ??= new WebAssembly.Module(encodeModule(buildMapOpsModule().definition()));
    ops = new WebAssembly.Instance(compiled, { env: { memory: mem.memory } }).exports as unknown as MapOpsExports;
    instances.set(mem, ops);
  }
  return ops;
}
