/**
 * The LPM trie operations in WebAssembly (ops.ts gives the ABI, layout.ts the layout), as the
 * kernel's kernel/bpf/lpm_trie.c: a binary trie of nodes, each with a prefix (length and data), in
 * which a node's children extend its prefix, the child taken by the bit that follows it. A node
 * holds an entry (it has a value slot) or is intermediate: no entry, exactly two children, added
 * where two prefixes part. Keys are `struct bpf_lpm_trie_key`: a u32 prefix length (host order),
 * then the data in network order, compared from the most significant bit of its first byte.
 *
 * - lookup(key) answers the entry with the longest prefix that matches the key's data on its
 *   length, among those no longer than the key's prefix length (a program passes the full length).
 * - update and delete work on the exact (prefix length, prefix) entry; the data's bits past the
 *   prefix length do not count, and the trie keeps them zero.
 * - next_key walks in the kernel's order, post-order: a node's children (the 0 side first) before
 *   it, so more specific prefixes come before the less specific ones that cover them; a key not
 *   in the trie, or none, gives the first.
 *
 * Nodes come from a pool and values from a stack of free slots, both filled at creation
 * (map_clear), so no operation allocates; the pool has room for the intermediate nodes.
 */
import { i32, type Expr, type WasmModule } from '../wasm/builder.js';
import { BPF_EXIST, BPF_NOEXIST } from './types.js';
import { EEXIST, EINVAL, ENOENT, ENOSPC } from './errno.js';
import { H, N } from './layout.js';
import { Fn } from './wasm-fn.js';

/** Small functions the operations share; none reads the header but through `map`. */
function addLpmHelpers(m: WasmModule): void {
  const I = m.i32;
  const c = (n: number): Expr => I.const(n);

  // lpm_match(a, b, limit): how many leading bits the data at a and at b share, at most limit.
  const match = new Fn(m, ['a', 'b', 'limit'], ['i', 'x', 'n']);
  match.add('lpm_match', i32, [
    match.while(I.lt_u(I.shl(match.get('i'), c(3)), match.get('limit')), () => [
      match.set('x', I.xor(I.load8_u(0, 1, I.add(match.get('a'), match.get('i'))), I.load8_u(0, 1, I.add(match.get('b'), match.get('i'))))),
      m.if(match.get('x'), m.block(null, [
        // The bits before the first that differs: the byte's offset, then the byte's leading zeros.
        match.set('n', I.add(I.shl(match.get('i'), c(3)), I.sub(I.clz(match.get('x')), c(24)))),
        m.return(m.select(I.lt_u(match.get('n'), match.get('limit')), match.get('n'), match.get('limit'))),
      ])),
      match.set('i', I.add(match.get('i'), c(1))),
    ]),
    match.get('limit'),
  ]);

  // lpm_bit(data, index): bit `index` of the data, counting from the most significant bit of data[0].
  const bit = new Fn(m, ['data', 'index'], []);
  bit.add('lpm_bit', i32, [
    I.and(I.shr_u(I.load8_u(0, 1, I.add(bit.get('data'), I.shr_u(bit.get('index'), c(3)))), I.sub(c(7), I.and(bit.get('index'), c(7)))), c(1)),
  ]);

  // lpm_alloc(map, key, prefixlen) -> a node from the pool, childless, without a value, holding the
  // first prefixlen bits of the key's data (the rest zero).
  const alloc = new Fn(m, ['map', 'key', 'plen'], ['node', 'i', 'start', 'p']);
  alloc.add('lpm_alloc', i32, [
    alloc.set('node', alloc.hdr(H.FREE)),
    m.if(I.eqz(alloc.get('node')), m.unreachable()), // the pool is sized never to run out: a broken trie traps
    alloc.setHdr(H.FREE, I.load(N.CHILD0, 4, alloc.get('node'))),
    I.store(N.CHILD0, 4, alloc.get('node'), c(0)),
    I.store(N.CHILD1, 4, alloc.get('node'), c(0)),
    I.store(N.VALUE, 4, alloc.get('node'), c(0)),
    I.store(N.PREFIXLEN, 4, alloc.get('node'), alloc.get('plen')),
    m.memory.copy(I.add(alloc.get('node'), c(N.DATA)), I.add(alloc.get('key'), c(4)), I.sub(alloc.hdr(H.KEY_SIZE), c(4))),
    alloc.while(I.lt_u(alloc.get('i'), I.sub(alloc.hdr(H.KEY_SIZE), c(4))), () => [
      alloc.set('p', I.add(I.add(alloc.get('node'), c(N.DATA)), alloc.get('i'))),
      alloc.set('start', I.shl(alloc.get('i'), c(3))),
      m.if(I.ge_u(alloc.get('start'), alloc.get('plen')),
        I.store8(0, 1, alloc.get('p'), c(0)),
        m.if(I.lt_u(I.sub(alloc.get('plen'), alloc.get('start')), c(8)),
          I.store8(0, 1, alloc.get('p'), I.and(I.load8_u(0, 1, alloc.get('p')), I.shl(c(0xff), I.sub(c(8), I.sub(alloc.get('plen'), alloc.get('start')))))))),
      alloc.set('i', I.add(alloc.get('i'), c(1))),
    ]),
    alloc.get('node'),
  ]);

  const free = new Fn(m, ['map', 'node'], []);
  free.add('lpm_free', 'none', [
    I.store(N.CHILD0, 4, free.get('node'), free.hdr(H.FREE)),
    free.setHdr(H.FREE, free.get('node')),
  ]);

  // The free value slots are the first maxEntries - COUNT of the stack at H.LPM_VFREE: the top is the last of them.
  const top = (f: Fn): Expr => I.add(f.hdr(H.LPM_VFREE), I.shl(I.sub(I.sub(f.hdr(H.MAX_ENTRIES), f.hdr(H.COUNT)), c(1)), c(2)));

  // lpm_take_value(map, node, value): gives the node a value slot holding a copy of value; it holds an entry now.
  const take = new Fn(m, ['map', 'node', 'value'], ['slot']);
  take.add('lpm_take_value', 'none', [
    take.set('slot', I.load(0, 4, top(take))),
    take.setHdr(H.COUNT, I.add(take.hdr(H.COUNT), c(1))),
    I.store(N.VALUE, 4, take.get('node'), take.get('slot')),
    m.memory.fill(take.get('slot'), c(0), take.hdr(H.STRIDE)),
    m.memory.copy(take.get('slot'), take.get('value'), take.hdr(H.VALUE_SIZE)),
  ]);

  // lpm_release_value(map, node): the node's value slot back on the stack; the node is intermediate now.
  const release = new Fn(m, ['map', 'node'], []);
  release.add('lpm_release_value', 'none', [
    release.setHdr(H.COUNT, I.sub(release.hdr(H.COUNT), c(1))),
    I.store(0, 4, top(release), I.load(N.VALUE, 4, release.get('node'))),
    I.store(N.VALUE, 4, release.get('node'), c(0)),
  ]);
}

function addLpmOps(m: WasmModule): void {
  const I = m.i32;
  const c = (n: number): Expr => I.const(n);
  const field = (f: Fn, node: string, off: number): Expr => I.load(off, 4, f.get(node));
  const maxBits = (f: Fn): Expr => I.shl(I.sub(f.hdr(H.KEY_SIZE), c(4)), c(3));
  const plenOf = (f: Fn, node: string): Expr => field(f, node, N.PREFIXLEN);
  /** The bits node's prefix and the key's data share, up to the shorter of the two prefix lengths. */
  const matchOf = (f: Fn, node: string): Expr => {
    const shorter = m.select(I.lt_u(plenOf(f, node), f.get('plen')), plenOf(f, node), f.get('plen'));
    return m.call('lpm_match', [I.add(f.get(node), c(N.DATA)), I.add(f.get('key'), c(4)), shorter], i32);
  };
  /** The address of the child slot of `node` that the key's bit after node's prefix picks. */
  const childSlot = (f: Fn, node: string, data: Expr, index: Expr): Expr =>
    I.add(f.get(node), I.shl(m.call('lpm_bit', [data, index], i32), c(2)));
  const keyData = (f: Fn): Expr => I.add(f.get('key'), c(4));

  // As the kernel's trie_lookup_elem: down from the root while the node's whole prefix matches,
  // remembering the last node with an entry; a node as long as the key's prefix length ends the walk.
  const look = new Fn(m, ['map', 'key'], ['plen', 'node', 'found']);
  look.add('lpm_lookup_impl', i32, [
    look.set('plen', I.load(0, 4, look.get('key'))),
    m.if(I.gt_u(look.get('plen'), maxBits(look)), m.return(c(0))),
    look.set('node', look.hdr(H.LPM_ROOT)),
    look.while(look.get('node'), (exit) => [
      m.br(exit, I.lt_u(matchOf(look, 'node'), plenOf(look, 'node'))),
      m.if(field(look, 'node', N.VALUE), look.set('found', field(look, 'node', N.VALUE))),
      m.br(exit, I.ge_u(plenOf(look, 'node'), look.get('plen'))),
      look.set('node', I.load(0, 4, childSlot(look, 'node', keyData(look), plenOf(look, 'node')))),
    ]),
    look.get('found'),
  ]);

  /**
   * The walk of update and delete: from the root, down through the nodes whose whole prefix matches
   * and is shorter than the key's, leaving `node` at the first that does not qualify (or 0), `slot`
   * at the link that points to it, and for delete `parent` and `parentSlot` one step up.
   */
  const walk = (f: Fn, withParent: boolean): Expr[] => [
    f.set('slot', I.add(f.get('map'), c(H.LPM_ROOT))),
    f.while(c(1), (exit) => [
      f.set('node', I.load(0, 4, f.get('slot'))),
      m.br(exit, I.eqz(f.get('node'))),
      f.set('matchlen', matchOf(f, 'node')),
      m.br(exit, I.or(I.ne(plenOf(f, 'node'), f.get('matchlen')), I.eq(plenOf(f, 'node'), f.get('plen')))),
      ...(withParent ? [f.set('parent', f.get('node')), f.set('parentSlot', f.get('slot'))] : []),
      f.set('slot', childSlot(f, 'node', keyData(f), plenOf(f, 'node'))),
    ]),
  ];

  // As the kernel's trie_update_elem (with its BPF_NOEXIST and BPF_EXIST answers, and ENOSPC only
  // when a new entry would not fit). An existing entry's value is copied in place.
  const up = new Fn(m, ['map', 'key', 'value', 'flags'], ['plen', 'slot', 'node', 'matchlen', 'added', 'im']);
  const full = (): Expr => I.ge_u(up.hdr(H.COUNT), up.hdr(H.MAX_ENTRIES));
  up.add('lpm_update_impl', i32, [
    m.if(I.gt_u(up.get('flags'), c(BPF_EXIST)), m.return(c(-EINVAL))),
    up.set('plen', I.load(0, 4, up.get('key'))),
    m.if(I.gt_u(up.get('plen'), maxBits(up)), m.return(c(-EINVAL))),
    ...walk(up, false),
    // The node of this very prefix: an entry to replace, or an intermediate node to make one.
    m.if(up.get('node'), m.if(I.eq(plenOf(up, 'node'), up.get('matchlen')), m.block(null, [
      m.if(field(up, 'node', N.VALUE), m.block(null, [
        m.if(I.eq(up.get('flags'), c(BPF_NOEXIST)), m.return(c(-EEXIST))),
        m.memory.copy(field(up, 'node', N.VALUE), up.get('value'), up.hdr(H.VALUE_SIZE)),
        m.return(c(0)),
      ])),
      m.if(I.eq(up.get('flags'), c(BPF_EXIST)), m.return(c(-ENOENT))),
      m.if(full(), m.return(c(-ENOSPC))),
      m.call('lpm_take_value', [up.get('map'), up.get('node'), up.get('value')], 'none'),
      m.return(c(0)),
    ]))),
    m.if(I.eq(up.get('flags'), c(BPF_EXIST)), m.return(c(-ENOENT))),
    m.if(full(), m.return(c(-ENOSPC))),
    up.set('added', m.call('lpm_alloc', [up.get('map'), up.get('key'), up.get('plen')], i32)),
    m.call('lpm_take_value', [up.get('map'), up.get('added'), up.get('value')], 'none'),
    // An empty slot: the new node goes there.
    m.if(I.eqz(up.get('node')), m.block(null, [I.store(0, 4, up.get('slot'), up.get('added')), m.return(c(0))])),
    // The new prefix covers node's: it goes between the slot and node.
    m.if(I.eq(up.get('matchlen'), up.get('plen')), m.block(null, [
      I.store(0, 4, childSlot(up, 'added', I.add(up.get('node'), c(N.DATA)), up.get('plen')), up.get('node')),
      I.store(0, 4, up.get('slot'), up.get('added')),
      m.return(c(0)),
    ])),
    // They part after matchlen bits: an intermediate node of that prefix takes both.
    up.set('im', m.call('lpm_alloc', [up.get('map'), I.add(up.get('node'), c(N.KEY)), up.get('matchlen')], i32)),
    m.if(m.call('lpm_bit', [keyData(up), up.get('matchlen')], i32),
      m.block(null, [I.store(N.CHILD0, 4, up.get('im'), up.get('node')), I.store(N.CHILD1, 4, up.get('im'), up.get('added'))]),
      m.block(null, [I.store(N.CHILD0, 4, up.get('im'), up.get('added')), I.store(N.CHILD1, 4, up.get('im'), up.get('node'))])),
    I.store(0, 4, up.get('slot'), up.get('im')),
    c(0),
  ]);

  // As the kernel's trie_delete_elem: a node with two children becomes intermediate; a childless
  // node under an intermediate parent takes the parent with it (its other child moves up); else
  // the node's only child, if any, takes its place.
  const del = new Fn(m, ['map', 'key'], ['plen', 'slot', 'node', 'matchlen', 'parent', 'parentSlot', 'c0', 'c1']);
  del.add('lpm_delete_impl', i32, [
    del.set('plen', I.load(0, 4, del.get('key'))),
    m.if(I.gt_u(del.get('plen'), maxBits(del)), m.return(c(-EINVAL))),
    ...walk(del, true),
    m.if(I.eqz(del.get('node')), m.return(c(-ENOENT))),
    m.if(I.or(I.or(I.ne(plenOf(del, 'node'), del.get('plen')), I.ne(del.get('matchlen'), del.get('plen'))), I.eqz(field(del, 'node', N.VALUE))),
      m.return(c(-ENOENT))),
    m.call('lpm_release_value', [del.get('map'), del.get('node')], 'none'),
    del.set('c0', field(del, 'node', N.CHILD0)),
    del.set('c1', field(del, 'node', N.CHILD1)),
    m.if(I.and(I.ne(del.get('c0'), c(0)), I.ne(del.get('c1'), c(0))), m.return(c(0))),
    m.if(I.and(I.ne(del.get('parent'), c(0)), I.eqz(I.or(del.get('c0'), del.get('c1')))), m.if(I.eqz(field(del, 'parent', N.VALUE)), m.block(null, [
      I.store(0, 4, del.get('parentSlot'), m.select(I.eq(field(del, 'parent', N.CHILD0), del.get('node')),
        field(del, 'parent', N.CHILD1), field(del, 'parent', N.CHILD0))),
      m.call('lpm_free', [del.get('map'), del.get('parent')], 'none'),
      m.call('lpm_free', [del.get('map'), del.get('node')], 'none'),
      m.return(c(0)),
    ]))),
    I.store(0, 4, del.get('slot'), m.select(del.get('c0'), del.get('c0'), del.get('c1'))),
    m.call('lpm_free', [del.get('map'), del.get('node')], 'none'),
    c(0),
  ]);

  // As the kernel's trie_get_next_key, post-order. On the way down to the key's node, the deepest
  // ancestor decides what follows it: one left by its 0 side with a 1 side gives the first node of
  // that side (its leftmost leaf), else one with an entry gives itself. A key absent or longer than
  // the data, or none, gives the first node: the leftmost leaf of the trie.
  const next = new Fn(m, ['map', 'key', 'out'], ['plen', 'node', 'found', 'succ', 'subtree', 'b']);
  const copyKey = (): Expr => m.memory.copy(next.get('out'), I.add(next.get('node'), c(N.KEY)), next.hdr(H.KEY_SIZE));
  const emit = (): Expr => m.block(null, [copyKey(), m.return(c(0))]);
  next.add('lpm_next_key_impl', i32, [
    next.set('node', next.hdr(H.LPM_ROOT)),
    m.if(I.eqz(next.get('node')), m.return(c(-ENOENT))),
    m.if(next.get('key'), next.set('plen', I.load(0, 4, next.get('key'))), next.set('plen', c(-1))),
    m.if(I.le_u(next.get('plen'), maxBits(next)), m.block(null, [
      next.while(next.get('node'), (exit) => [
        m.br(exit, I.ne(plenOf(next, 'node'), matchOf(next, 'node'))),
        m.if(I.eq(plenOf(next, 'node'), next.get('plen')), m.block(null, [
          next.set('found', I.ne(field(next, 'node', N.VALUE), c(0))), m.br(exit),
        ])),
        next.set('b', m.call('lpm_bit', [keyData(next), plenOf(next, 'node')], i32)),
        m.if(I.and(I.eqz(next.get('b')), I.ne(field(next, 'node', N.CHILD1), c(0))),
          m.block(null, [next.set('succ', field(next, 'node', N.CHILD1)), next.set('subtree', c(1))]),
          m.if(field(next, 'node', N.VALUE), m.block(null, [next.set('succ', next.get('node')), next.set('subtree', c(0))]))),
        next.set('node', I.load(0, 4, I.add(next.get('node'), I.shl(next.get('b'), c(2))))),
      ]),
    ])),
    m.if(next.get('found'), m.block(null, [
      m.if(I.eqz(next.get('succ')), m.return(c(-ENOENT))),
      next.set('node', next.get('succ')),
      m.if(I.eqz(next.get('subtree')), emit()),
    ]), next.set('node', next.hdr(H.LPM_ROOT))),
    // The leftmost leaf under node: the 0 side while there is one, else the 1 side.
    next.while(I.or(field(next, 'node', N.CHILD0), field(next, 'node', N.CHILD1)), () => [
      next.set('node', m.select(field(next, 'node', N.CHILD0), field(next, 'node', N.CHILD0), field(next, 'node', N.CHILD1))),
    ]),
    copyKey(),
    c(0),
  ]);

  // lpm_clear_impl(map): no entries; every node on the free list, every value slot on the stack
  // (the first update takes the first slot), the values zero.
  const clear = new Fn(m, ['map'], ['e', 'i']);
  clear.add('lpm_clear_impl', i32, [
    m.memory.fill(clear.hdr(H.DATA), c(0), clear.hdr(H.DATA_SIZE)),
    clear.setHdr(H.LPM_ROOT, c(0)),
    clear.setHdr(H.COUNT, c(0)),
    clear.set('e', clear.hdr(H.ELEMS)),
    clear.while(I.lt_u(I.add(clear.get('i'), c(1)), clear.hdr(H.LPM_NODE_COUNT)), () => [
      I.store(N.CHILD0, 4, clear.get('e'), I.add(clear.get('e'), clear.hdr(H.ELEM_SIZE))),
      clear.set('e', I.add(clear.get('e'), clear.hdr(H.ELEM_SIZE))),
      clear.set('i', I.add(clear.get('i'), c(1))),
    ]),
    I.store(N.CHILD0, 4, clear.get('e'), c(0)),
    clear.setHdr(H.FREE, clear.hdr(H.ELEMS)),
    clear.set('i', c(0)),
    clear.while(I.lt_u(clear.get('i'), clear.hdr(H.MAX_ENTRIES)), () => [
      I.store(0, 4, I.add(clear.hdr(H.LPM_VFREE), I.shl(clear.get('i'), c(2))),
        I.add(clear.hdr(H.DATA), I.mul(I.sub(I.sub(clear.hdr(H.MAX_ENTRIES), c(1)), clear.get('i')), clear.hdr(H.STRIDE)))),
      clear.set('i', I.add(clear.get('i'), c(1))),
    ]),
    c(0),
  ]);
}

/** Every LPM trie function: the helpers, then the operations the exports wrap, and lpm_clear_impl. */
export function addLpmFunctions(m: WasmModule): void {
  addLpmHelpers(m);
  addLpmOps(m);
}
