/**
 * The hash map operations in WebAssembly (ops.ts gives the ABI, layout.ts the layout): one chain of
 * elements per bucket, a free list of elements, and for LRU maps a list by recency. They serve hash,
 * per-CPU hash and both LRU kinds; the header says which.
 *
 * Chains end in "nulls" markers, as the kernel's htab: not 0 but endOf(bucket) = (bucket << 1) | 1
 * (element addresses are 8-aligned, so bit 0 tells a marker from an element), and the free list
 * ends in FREE_END, which names no bucket. Every walker stops at bit 0. That lets a program's lookup
 * of a hash or per-CPU hash map walk its bucket without the map's lock (hash_lookup_impl): the
 * writers, under the lock, keep every chain well formed at every instant (an element is written
 * whole before the atomic store that links it; an unlink is one atomic store; a new element goes in
 * at the head of its bucket, never in the middle), so a walker that an element moved meanwhile led
 * into another chain or the free list ends at a marker that is not its bucket's, and starts over.
 */
import { i32, type Expr, type WasmModule } from '../wasm/builder.js';
import { BPF_EXIST, BPF_NOEXIST } from './types.js';
import { E2BIG, EEXIST, EINVAL, ENOENT } from './errno.js';
import { E, H } from './layout.js';
import { badCpu, Fn } from './wasm-fn.js';
import { MAP_LOCK_SLICES } from './ops-lock.js';

/**
 * hash_bytes(p, len, seed): murmur3's 32-bit mix over the 4-byte words, FNV-1a over the tail, murmur's
 * finalizer. hash_key(map, key) hashes a key with the map's seed; bloom filters use seed + i.
 */
function addHashKey(m: WasmModule): void {
  const f = new Fn(m, ['key', 'len', 'seed'], ['h', 'i', 'k']);
  const I = m.i32;
  const c = (n: number): Expr => I.const(n);
  f.add('hash_bytes', i32, [
    f.set('h', I.xor(f.get('seed'), f.get('len'))),
    f.while(I.le_u(I.add(f.get('i'), c(4)), f.get('len')), () => [
      ...mixWord(f, I.load(0, 1, I.add(f.get('key'), f.get('i')))),
      f.set('i', I.add(f.get('i'), c(4))),
    ]),
    f.while(I.lt_u(f.get('i'), f.get('len')), () => [
      f.set('h', I.mul(I.xor(f.get('h'), I.load8_u(0, 1, I.add(f.get('key'), f.get('i')))), c(0x01000193))),
      f.set('i', I.add(f.get('i'), c(1))),
    ]),
    ...finalizer(f),
    f.get('h'),
  ]);
  const k = new Fn(m, ['map', 'key'], ['h', 'k']);
  k.add('hash_key', i32, [...hashKey(k), k.get('h')]);
}

/** murmur3's step for one 4-byte word into f's local `h` (local `k` is scratch). */
function mixWord(f: Fn, word: Expr): Expr[] {
  const I = f.m.i32;
  const c = (n: number): Expr => I.const(n);
  return [
    f.set('k', I.mul(I.rotl(I.mul(word, c(0xcc9e2d51)), c(15)), c(0x1b873593))),
    f.set('h', I.add(I.mul(I.rotl(I.xor(f.get('h'), f.get('k')), c(13)), c(5)), c(0xe6546b64))),
  ];
}

/**
 * Sets f's local `h` to hash_key(map, key) (f has locals `map`, `key` and `k`): hash_bytes' result,
 * with a 4-byte key's (pids, addresses) written out, no loop and no call.
 */
function hashKey(f: Fn): Expr[] {
  const m = f.m;
  const I = m.i32;
  return [
    m.if(I.ne(f.hdr(H.KEY_SIZE), I.const(4)),
      f.set('h', m.call('hash_bytes', [f.get('key'), f.hdr(H.KEY_SIZE), f.hdr(H.SEED)], i32)),
      m.block(null, [f.set('h', I.xor(f.hdr(H.SEED), I.const(4))), ...mixWord(f, I.load(0, 1, f.get('key'))), ...finalizer(f)])),
  ];
}

/** murmur3's finalizer of f's local `h`, in place. */
function finalizer(f: Fn): Expr[] {
  const I = f.m.i32;
  const xorShift = (by: number): Expr => f.set('h', I.xor(f.get('h'), I.shr_u(f.get('h'), I.const(by))));
  const mul = (by: number): Expr => f.set('h', I.mul(f.get('h'), I.const(by)));
  return [xorShift(16), mul(0x85ebca6b), xorShift(13), mul(0xc2b2ae35), xorShift(16)];
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
  const stored = (): Expr => I.add(f.get('e'), I.const(E.KEY));
  // 4- and 8-byte keys (pids, addresses, most keys) compare in one load, without a call.
  const bytesEqual = m.if(I.eq(f.hdr(H.KEY_SIZE), I.const(4)), I.eq(I.load(0, 1, stored()), I.load(0, 1, f.get('key'))),
    m.if(I.eq(f.hdr(H.KEY_SIZE), I.const(8)), m.i64.eq(m.i64.load(0, 1, stored()), m.i64.load(0, 1, f.get('key'))),
      m.call('keys_equal', [stored(), f.get('key'), f.hdr(H.KEY_SIZE)], i32)));
  return m.if(I.eq(I.load(E.HASH, 4, f.get('e')), f.get(hash)), m.if(bytesEqual, then));
}

/** The end of the free list: a marker (bit 0 set) that is no bucket's. */
export const FREE_END = -1;

/** Whether a link is an end marker rather than an element. */
export const isEnd = (f: Fn, link: Expr): Expr => f.m.i32.and(link, f.m.i32.const(1));

/** The marker that ends the chain of the bucket a hash names: (bucket << 1) | 1. */
export function endOf(f: Fn, hash: Expr): Expr {
  const I = f.m.i32;
  return I.or(I.shl(I.and(hash, f.hdr(H.BUCKET_MASK)), I.const(1)), I.const(1));
}

/** Sets a link (a bucket slot, or an element's next field at offset 0) so that lock-free walkers see it whole. */
const storeLink = (f: Fn, link: Expr, to: Expr): Expr => f.m.i32.atomic.store(0, link, to);

/** find(map, key, hash) -> the element holding key, or 0: a walk of the key's bucket, under the lock. */
function addFind(m: WasmModule): void {
  const f = new Fn(m, ['map', 'key', 'hash'], ['e']);
  f.add('find', i32, [
    f.set('e', m.i32.load(0, 4, bucketOf(f, f.get('hash')))),
    f.while(m.i32.eqz(isEnd(f, f.get('e'))), () => [ifMatch(f, 'hash', m.return(f.get('e'))), f.set('e', m.i32.load(E.NEXT, 4, f.get('e')))]),
    m.i32.const(0),
  ]);
}

/**
 * find_link(map, key, hash) -> the address of the link that points at the element holding key (a
 * bucket slot, or the next field of the element before it: an element is a link too, its next
 * field at offset 0), or 0.
 */
function addFindLink(m: WasmModule): void {
  const f = new Fn(m, ['map', 'key', 'hash'], ['link', 'e']);
  const I = m.i32;
  f.add('find_link', i32, [
    f.set('link', bucketOf(f, f.get('hash'))),
    f.while(I.const(1), () => [
      f.set('e', I.load(0, 4, f.get('link'))),
      m.if(isEnd(f, f.get('e')), m.return(I.const(0))),
      ifMatch(f, 'hash', m.return(f.get('link'))),
      f.set('link', f.get('e')),
    ]),
    I.const(0),
  ]);
}

/** The address of the bucket slot (the u32 head of a chain) for a hash, in f's map. */
function bucketOf(f: Fn, hash: Expr): Expr {
  const I = f.m.i32;
  return I.add(f.hdr(H.BUCKETS), I.shl(I.and(hash, f.hdr(H.BUCKET_MASK)), I.const(2)));
}

/**
 * The LRU list of an LRU map: a doubly linked list through the elements, most recently used at the
 * head. Exact LRU, where the kernel approximates it with per-CPU lists and reference bits.
 */
function addLru(m: WasmModule): void {
  const I = m.i32;
  const link = (f: Fn, e: string, off: number): Expr => I.load(off, 4, f.get(e));
  const setLink = (f: Fn, e: string, off: number, v: Expr): Expr => I.store(off, 4, f.get(e), v);

  const unlink = new Fn(m, ['map', 'e'], ['p', 'n']);
  unlink.add('lru_unlink', 'none', [
    unlink.set('p', link(unlink, 'e', E.LRU_PREV)), unlink.set('n', link(unlink, 'e', E.LRU_NEXT)),
    m.if(unlink.get('p'), setLink(unlink, 'p', E.LRU_NEXT, unlink.get('n')), unlink.setHdr(H.LRU_HEAD, unlink.get('n'))),
    m.if(unlink.get('n'), setLink(unlink, 'n', E.LRU_PREV, unlink.get('p')), unlink.setHdr(H.LRU_TAIL, unlink.get('p'))),
  ]);

  const front = new Fn(m, ['map', 'e'], ['head']);
  front.add('lru_push_front', 'none', [
    front.set('head', front.hdr(H.LRU_HEAD)),
    setLink(front, 'e', E.LRU_PREV, I.const(0)), setLink(front, 'e', E.LRU_NEXT, front.get('head')),
    m.if(front.get('head'), setLink(front, 'head', E.LRU_PREV, front.get('e')), front.setHdr(H.LRU_TAIL, front.get('e'))),
    front.setHdr(H.LRU_HEAD, front.get('e')),
  ]);

  const touch = new Fn(m, ['map', 'e'], []);
  const moves = I.and(touch.hdr(H.LRU), I.ne(touch.get('e'), touch.hdr(H.LRU_HEAD)));
  touch.add('lru_touch', 'none', [m.if(moves, m.block(null, [
    m.call('lru_unlink', [touch.get('map'), touch.get('e')], 'none'),
    m.call('lru_push_front', [touch.get('map'), touch.get('e')], 'none'),
  ]))]);

  // evict(map) -> the least recently used element, taken out of its bucket and of the list.
  const ev = new Fn(m, ['map'], ['e', 'link', 'cur']);
  ev.add('lru_evict', i32, [
    ev.set('e', ev.hdr(H.LRU_TAIL)),
    ev.set('link', bucketOf(ev, I.load(E.HASH, 4, ev.get('e')))),
    ev.while(I.const(1), (exit) => [
      ev.set('cur', I.load(0, 4, ev.get('link'))),
      m.if(isEnd(ev, ev.get('cur')), m.unreachable()), // a broken chain traps rather than spins
      m.if(I.eq(ev.get('cur'), ev.get('e')), m.block(null, [storeLink(ev, ev.get('link'), I.load(E.NEXT, 4, ev.get('e'))), m.br(exit)])),
      ev.set('link', ev.get('cur')), // the next field is at offset 0: an element is a link too
    ]),
    m.call('lru_unlink', [ev.get('map'), ev.get('e')], 'none'),
    ev.setHdr(H.COUNT, I.sub(ev.hdr(H.COUNT), I.const(1))),
    ev.get('e'),
  ]);
}

/** The address of an element's value copy for `cpu`: its values live in the data, apart from it (layout.ts). */
const valueAt = (f: Fn, e: Expr, cpu: Expr): Expr => {
  const I = f.m.i32;
  return I.add(I.load(E.VALUE, 4, e), I.mul(cpu, f.hdr(H.STRIDE)));
};

/** Restarts of a lock-free walk before it takes the map's lock instead: it can never spin for ever. */
const RESTARTS = 8;

/**
 * Sets f's local `e` to the element holding f's `key` (hash in `h`), or 0, without the map's lock:
 * links read with atomic loads; an end marker not of the bucket it started in (a concurrent update
 * or delete moved the element it stood on to another chain or the free list) starts it over, and so
 * does a walk longer than the map can hold (a chain it was led around while it changed). After
 * RESTARTS of those it walks under the lock (hash_find_locked). The key is compared after the link
 * to its element is read; an element freed and taken again meanwhile is compared as it is then, so
 * a lookup may return an element just deleted, whose value the next update may rewrite: the
 * kernel's preallocated htab has the same window. Locals `n` and `r` count steps and restarts.
 */
function lockFreeWalk(f: Fn): Expr {
  const m = f.m;
  const I = m.i32;
  const c = (n: number): Expr => I.const(n);
  const inc = (name: string): Expr => f.set(name, I.add(f.get(name), c(1)));
  const atEnd = m.block(null, [
    m.br('lf_miss', I.eq(f.get('e'), endOf(f, f.get('h')))),
    inc('r'),
    m.if(I.gt_u(f.get('r'), c(RESTARTS)), m.block(null, [
      f.set('e', m.call('hash_find_locked', [f.get('map'), f.get('key'), f.get('h')], i32)), m.br('lf_done'),
    ])),
    m.br('lf_restart'),
  ], 'none');
  const step = m.block(null, [
    m.if(isEnd(f, f.get('e')), atEnd),
    ifMatch(f, 'h', m.br('lf_done')),
    inc('n'),
    m.if(I.gt_u(f.get('n'), f.hdr(H.MAX_ENTRIES)), f.set('e', c(FREE_END)), f.set('e', I.atomic.load(E.NEXT, f.get('e')))),
    m.br('lf_step'),
  ], 'none');
  return m.block('lf_done', [
    m.block('lf_miss', [m.loop('lf_restart', m.block(null, [
      f.set('e', I.atomic.load(0, bucketOf(f, f.get('h')))),
      f.set('n', c(0)),
      m.loop('lf_step', step),
    ], 'none'))], 'none'),
    f.set('e', c(0)),
  ], 'none');
}

/** hash_find_locked(map, key, hash) -> find's answer under the map's lock (0 if it cannot be had). */
function addFindLocked(m: WasmModule): void {
  const f = new Fn(m, ['map', 'key', 'hash'], ['e']);
  const word = (): Expr => m.i32.add(f.get('map'), m.i32.const(H.LOCK));
  f.add('hash_find_locked', i32, [
    m.if(m.call('lock_word', [word(), m.i32.const(MAP_LOCK_SLICES)], i32), m.return(m.i32.const(0))),
    f.set('e', m.call('find', [f.get('map'), f.get('key'), f.get('hash')], i32)),
    m.drop(m.call('unlock_word', [word()], i32)),
    f.get('e'),
  ]);
}

function addHashOps(m: WasmModule): void {
  const I = m.i32;
  const c = (n: number): Expr => I.const(n);
  const hashOf = (f: Fn): Expr => m.call('hash_key', [f.get('map'), f.get('key')], i32);

  // The lookup hashes the key and walks the bucket itself: no call on the hottest path.
  const look = new Fn(m, ['map', 'key', 'cpu', 'touch'], ['e', 'h', 'k', 'n', 'r']);
  look.add('hash_lookup_impl', i32, [
    m.if(badCpu(look, false), m.return(c(0))),
    ...hashKey(look),
    lockFreeWalk(look),
    m.if(I.eqz(look.get('e')), m.return(c(0))),
    m.if(I.and(look.get('touch'), look.hdr(H.LRU)), m.call('lru_touch', [look.get('map'), look.get('e')], 'none')),
    valueAt(look, look.get('e'), look.get('cpu')),
  ]);

  // An update of an existing key swaps in a new element holding the new value, as the kernel's
  // htab_map_update_elem does, so that a program reading the value it looked up sees the old one
  // whole, never half of the new one; the old element goes back to the free list (and, as in the
  // kernel's preallocated maps, the next update may take it). The pool's spare element means there
  // is always one to take. A per-CPU map's copies are written in place, as the kernel's are.
  const up = new Fn(m, ['map', 'key', 'value', 'flags', 'cpu'], ['h', 'e', 'link', 'old', 'slot']);
  const all = (): Expr => I.eq(up.get('cpu'), c(-1));
  // Around the value's bpf_spin_lock, if it has one (ops-spin-lock.ts); a new element's is zeroed below.
  const copy = (dst: Expr, len: Expr): Expr => m.call('copy_value_impl', [up.get('map'), dst, up.get('value'), len], 'none');
  const copyValue = (): Expr => m.if(all(),
    copy(valueAt(up, up.get('e'), c(0)), I.mul(up.hdr(H.COPIES), up.hdr(H.STRIDE))),
    copy(valueAt(up, up.get('e'), up.get('cpu')), up.hdr(H.VALUE_SIZE)));
  const takeFree = (): Expr => m.block(null, [
    up.set('e', up.hdr(H.FREE)),
    m.if(isEnd(up, up.get('e')), m.unreachable()), // the pool is sized never to run out: a broken list traps
    up.setHdr(H.FREE, I.load(E.NEXT, 4, up.get('e'))),
  ]);
  const existing = (): Expr => m.block(null, [
    up.set('old', I.load(0, 4, up.get('link'))),
    m.if(I.eq(up.get('flags'), c(BPF_NOEXIST)), m.return(c(-EEXIST))),
    m.if(I.gt_u(up.hdr(H.COPIES), c(1)), m.block(null, [
      up.set('e', up.get('old')), copyValue(), m.call('lru_touch', [up.get('map'), up.get('e')], 'none'), m.return(c(0)),
    ])),
    takeFree(),
  ]);
  const fresh = (): Expr => m.block(null, [
    m.if(I.eq(up.get('flags'), c(BPF_EXIST)), m.return(c(-ENOENT))),
    m.if(I.lt_u(up.hdr(H.COUNT), up.hdr(H.MAX_ENTRIES)), takeFree(), m.if(up.hdr(H.LRU),
      up.set('e', m.call('lru_evict', [up.get('map')], i32)),
      m.return(c(-E2BIG)))),
  ]);
  up.add('hash_update_impl', i32, [
    m.if(I.or(I.gt_u(up.get('flags'), c(BPF_EXIST)), badCpu(up, true)), m.return(c(-EINVAL))),
    up.set('h', hashOf(up)),
    up.set('link', m.call('find_link', [up.get('map'), up.get('key'), up.get('h')], i32)),
    m.if(up.get('link'), existing(), fresh()),
    I.store(E.HASH, 4, up.get('e'), up.get('h')),
    m.memory.copy(I.add(up.get('e'), c(E.KEY)), up.get('key'), up.hdr(H.KEY_SIZE)),
    // A new element's copies start at zero: the element may have held another key's value.
    m.memory.fill(valueAt(up, up.get('e'), c(0)), c(0), I.mul(up.hdr(H.COPIES), up.hdr(H.STRIDE))),
    copyValue(),
    // Linked at the head of its bucket, never in the middle (see the top), then an old element
    // (further on in the same chain) unlinked and freed.
    up.set('slot', bucketOf(up, up.get('h'))),
    storeLink(up, up.get('e'), I.load(0, 4, up.get('slot'))),
    storeLink(up, up.get('slot'), up.get('e')),
    m.if(up.get('old'), m.block(null, [
      // The old element's predecessor was the bucket slot: it is now the new element.
      m.if(I.eq(up.get('link'), up.get('slot')), up.set('link', up.get('e'))),
      storeLink(up, up.get('link'), I.load(E.NEXT, 4, up.get('old'))),
      m.if(up.hdr(H.LRU), m.call('lru_unlink', [up.get('map'), up.get('old')], 'none')),
      storeLink(up, up.get('old'), up.hdr(H.FREE)),
      up.setHdr(H.FREE, up.get('old')),
    ]), up.setHdr(H.COUNT, I.add(up.hdr(H.COUNT), c(1)))),
    m.if(up.hdr(H.LRU), m.call('lru_push_front', [up.get('map'), up.get('e')], 'none')),
    c(0),
  ]);

  // Unlinks through the address of the link that points at the element (a bucket slot or a next field).
  const del = new Fn(m, ['map', 'key'], ['link', 'e']);
  del.add('hash_delete_impl', i32, [
    del.set('link', m.call('find_link', [del.get('map'), del.get('key'), hashOf(del)], i32)),
    m.if(I.eqz(del.get('link')), m.return(c(-ENOENT))),
    del.set('e', I.load(0, 4, del.get('link'))),
    storeLink(del, del.get('link'), I.load(E.NEXT, 4, del.get('e'))),
    m.if(del.hdr(H.LRU), m.call('lru_unlink', [del.get('map'), del.get('e')], 'none')),
    storeLink(del, del.get('e'), del.hdr(H.FREE)),
    del.setHdr(H.FREE, del.get('e')),
    del.setHdr(H.COUNT, I.sub(del.hdr(H.COUNT), c(1))),
    c(0),
  ]);

  // As the kernel's htab_map_get_next_key: the element after key in its bucket, else the first of
  // the next non-empty bucket; a key not (or no longer) in the map starts over from the first.
  const next = new Fn(m, ['map', 'key', 'out'], ['h', 'e', 'i']);
  const emit = (): Expr => m.block(null, [
    m.memory.copy(next.get('out'), I.add(next.get('e'), c(E.KEY)), next.hdr(H.KEY_SIZE)), m.return(c(0)),
  ]);
  next.add('hash_next_key_impl', i32, [
    m.if(next.get('key'), m.block(null, [
      next.set('h', hashOf(next)),
      next.set('e', m.call('find', [next.get('map'), next.get('key'), next.get('h')], i32)),
      m.if(next.get('e'), m.block(null, [
        next.set('e', I.load(E.NEXT, 4, next.get('e'))),
        m.if(I.eqz(isEnd(next, next.get('e'))), emit()),
        next.set('i', I.add(I.and(next.get('h'), next.hdr(H.BUCKET_MASK)), c(1))),
      ])),
    ])),
    next.while(I.le_u(next.get('i'), next.hdr(H.BUCKET_MASK)), () => [
      next.set('e', I.load(0, 4, I.add(next.hdr(H.BUCKETS), I.shl(next.get('i'), c(2))))),
      m.if(I.eqz(isEnd(next, next.get('e'))), emit()),
      next.set('i', I.add(next.get('i'), c(1))),
    ]),
    c(-ENOENT),
  ]);
}

/** Every hash map function: the helpers, then the operations the exports wrap. */
export function addHashFunctions(m: WasmModule): void {
  addHashKey(m);
  addKeysEqual(m);
  addFind(m);
  addFindLink(m);
  addFindLocked(m);
  addLru(m);
  addHashOps(m);
}
