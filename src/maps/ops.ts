/**
 * The map operations: ONE implementation, in WebAssembly over the engine memory, that the host API
 * (map.ts), the interpreter and JIT-compiled code all call (docs/architecture.md section 2, "Maps").
 * The module is compiled once and instantiated once per EngineMemory, importing it as `env.memory`,
 * shared, as the JIT's modules do (src/jit/module.ts), so JIT code can later import these functions
 * and call them wasm to wasm. The storage layout is layout.ts's; the functions are in ops-hash.ts,
 * ops-array.ts, ops-queue.ts, ops-bloom.ts, ops-ringbuf.ts and ops-lpm.ts.
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
 *   lpm_lookup(map, key) -> value | 0               (the longest prefix of key's data stored, up to key's prefixlen)
 *   lpm_update(map, key, value, flags) -> 0|-errno  lpm_delete(map, key) -> 0|-ENOENT|-EINVAL
 *   lpm_next_key(map, key | 0, next_out) -> 0|-ENOENT
 *   map_clear(map) -> 0                             (empties a map, zeroes an array: host only)
 *   queue_push(map, value, flags) -> 0|-errno       (queue and stack: flags BPF_ANY, or BPF_EXIST to
 *                                                    drop the oldest element when full; else E2BIG)
 *   queue_pop(map, out) -> 0|-ENOENT                queue_peek(map, out) -> 0|-ENOENT
 *                                                   (a queue's oldest or a stack's newest value, copied
 *                                                    to out; zeroes out when empty, as the kernel does)
 *   bloom_push(map, value, flags) -> 0|-EINVAL      bloom_peek(map, value) -> 0 (maybe in) | -ENOENT
 *   bloom_pop(map, out) -> -EOPNOTSUPP
 *   ringbuf_reserve(map, size, flags) -> record data | 0   (0: flags, too large, or no room)
 *   ringbuf_submit(data, flags) -> 0                ringbuf_discard(data, flags) -> 0
 *   ringbuf_output(map, data, size, flags) -> 0|-EINVAL|-EAGAIN
 *   ringbuf_query(map, flags) -> available bytes (0) | size (1) | consumer pos (2) | producer pos (3) | 0
 *   perf_event_output(map, flags, data, size, cpu) -> 0|-EINVAL|-E2BIG|-ENOENT|-ENOSPC (ops-perf.ts)
 *   spin_lock(lock) -> 0|-EDEADLK                   spin_unlock(lock) -> 0|-EINVAL (ops-spin-lock.ts)
 *   foreach_find(map, pos), foreach_elem(map, pos, cpu, key_out): for_each_map_elem (ops-foreach.ts)
 *
 * A flags argument above 2^32 - 1 is EINVAL, as the kernel refuses unknown flags (the implementations
 * take i32).
 * The hash functions serve hash, per-CPU hash and both LRU kinds (the header says which). A `cpu` of
 * -1 in a per-CPU update (the host's) means `value` holds every CPU's copy, stride bytes apart, as the
 * kernel's syscall takes them; a program passes its own CPU, and a new element's other copies are zeroed.
 *
 * Threads (worker threads as CPUs, and the host) share maps through ops-lock.ts: every export that
 * changes or walks the links of a hash map, LPM trie, queue, stack or bloom filter (updates,
 * deletes, lookups, next_key, clear, push, pop, peek, for_each's steps, the host's
 * map_lookup_copy) runs under the map's lock (`lock` below), except programs' lookups of hash and
 * per-CPU hash maps, which walk their bucket lock-free (ops-hash.ts: chains end in "nulls"
 * markers); an LRU map's lookup moves the element in its list and locks. Arrays take none: their lookups are
 * address arithmetic and their updates copy in place, as the kernel's; bloom_peek only reads bits.
 * An update of an existing hash or LRU key swaps in a new element (ops-hash.ts), as the kernel does.
 */
import { WasmModule, i32, i64, type Expr } from '../wasm/builder.js';
import { H } from './layout.js';
import { addForEachOps } from './ops-foreach.js';
import { encodeModule } from '../wasm/encode.js';
import type { EngineMemory } from '../runtime/memory.js';
import { EBUSY, EINVAL, EOPNOTSUPP } from './errno.js';
import { addHashFunctions } from './ops-hash.js';
import { addArrayOps, addClear } from './ops-array.js';
import { addQueueOps } from './ops-queue.js';
import { addBloomOps } from './ops-bloom.js';
import { addRingBufOps } from './ops-ringbuf.js';
import { addLpmFunctions } from './ops-lpm.js';
import { addPerfOps } from './ops-perf.js';
import { addSpinLockOps } from './ops-spin-lock.js';
import { addLockOps, underMapLock } from './ops-lock.js';

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
  lpm_lookup(map: B, key: B): B;
  lpm_update(map: B, key: B, value: B, flags: B): B;
  lpm_delete(map: B, key: B): B;
  lpm_next_key(map: B, key: B, out: B): B;
  map_clear(map: B): B;
  queue_push(map: B, value: B, flags: B): B;
  queue_pop(map: B, out: B): B;
  queue_peek(map: B, out: B): B;
  bloom_push(map: B, value: B, flags: B): B;
  bloom_peek(map: B, value: B): B;
  bloom_pop(map: B, out: B): B;
  ringbuf_reserve(map: B, size: B, flags: B): B;
  ringbuf_submit(data: B, flags: B): B;
  ringbuf_discard(data: B, flags: B): B;
  ringbuf_output(map: B, data: B, size: B, flags: B): B;
  ringbuf_query(map: B, flags: B): B;
  perf_event_output(map: B, flags: B, data: B, size: B, cpu: B): B;
  spin_lock(lock: B): B;
  spin_unlock(lock: B): B;
  foreach_find(map: B, pos: B): B;
  foreach_elem(map: B, pos: B, cpu: B, key: B): B;
  map_lookup_copy(map: B, key: B, cpu: B, out: B): B;
}

/**
 * The i64 exports (the ABI above) over the i32 implementations: each wraps its arguments and widens
 * the result, addresses unsigned, -errno signed. Extra arguments are constants (cpu 0, touch);
 * `flags` is the index of a u64 flags argument.
 */
const EXPORTS: ReadonlyArray<{ name: keyof MapOpsExports; impl: string; params: number; extra: number[]; address: boolean; flags?: number; lock?: true | 'lru' }> = [
  { name: 'array_lookup', impl: 'array_lookup_impl', params: 2, extra: [0], address: true },
  { name: 'percpu_array_lookup', impl: 'array_lookup_impl', params: 3, extra: [], address: true },
  { name: 'array_update', impl: 'array_update_impl', params: 4, extra: [0], address: false, flags: 3 },
  { name: 'percpu_array_update', impl: 'array_update_impl', params: 5, extra: [], address: false, flags: 3 },
  { name: 'array_next_key', impl: 'array_next_key_impl', params: 3, extra: [], address: false },
  { name: 'hash_lookup', impl: 'hash_lookup_impl', params: 2, extra: [0, 1], address: true, lock: 'lru' },
  { name: 'percpu_hash_lookup', impl: 'hash_lookup_impl', params: 3, extra: [1], address: true, lock: 'lru' },
  { name: 'hash_lookup_sys', impl: 'hash_lookup_impl', params: 3, extra: [0], address: true, lock: true },
  { name: 'hash_update', impl: 'hash_update_impl', params: 4, extra: [0], address: false, flags: 3, lock: true },
  { name: 'percpu_hash_update', impl: 'hash_update_impl', params: 5, extra: [], address: false, flags: 3, lock: true },
  { name: 'hash_delete', impl: 'hash_delete_impl', params: 2, extra: [], address: false, lock: true },
  { name: 'hash_next_key', impl: 'hash_next_key_impl', params: 3, extra: [], address: false, lock: true },
  { name: 'lpm_lookup', impl: 'lpm_lookup_impl', params: 2, extra: [], address: true, lock: true },
  { name: 'lpm_update', impl: 'lpm_update_impl', params: 4, extra: [], address: false, flags: 3, lock: true },
  { name: 'lpm_delete', impl: 'lpm_delete_impl', params: 2, extra: [], address: false, lock: true },
  { name: 'lpm_next_key', impl: 'lpm_next_key_impl', params: 3, extra: [], address: false, lock: true },
  { name: 'map_clear', impl: 'map_clear_impl', params: 1, extra: [], address: false, lock: true },
  { name: 'queue_push', impl: 'queue_push_impl', params: 3, extra: [], address: false, flags: 2, lock: true },
  { name: 'queue_pop', impl: 'queue_get_impl', params: 2, extra: [1], address: false, lock: true },
  { name: 'queue_peek', impl: 'queue_get_impl', params: 2, extra: [0], address: false, lock: true },
  { name: 'bloom_push', impl: 'bloom_push_impl', params: 3, extra: [], address: false, flags: 2, lock: true },
  { name: 'bloom_peek', impl: 'bloom_peek_impl', params: 2, extra: [], address: false },
  { name: 'foreach_find', impl: 'foreach_find_impl', params: 2, extra: [], address: false, lock: true },
  { name: 'map_lookup_copy', impl: 'map_lookup_copy_impl', params: 4, extra: [], address: false, lock: true },
  { name: 'foreach_elem', impl: 'foreach_elem_impl', params: 4, extra: [], address: true, lock: true },
];

function addExports(m: WasmModule): void {
  for (const x of EXPORTS) {
    const args = Array.from({ length: x.params }, (_, i) => m.i32.wrap(m.local.get(i, i64)));
    const impl = m.call(x.impl, [...args, ...x.extra.map((n) => m.i32.const(n))], i32);
    // A lock that cannot be had (its holder died): no element for a lookup, EBUSY otherwise.
    const busy = m.i64.const(x.address ? 0n : BigInt(-EBUSY));
    const map = (): Expr => m.i32.wrap(m.local.get(0, i64));
    const locked = (): Expr => underMapLock(m, map, x.params, impl, busy);
    // 'lru': only an LRU map's lookup (which moves the element in its list) locks; the others walk lock-free.
    const call = x.lock === 'lru' ? m.if(m.i32.load(H.LRU, 4, map()), locked(), impl) : x.lock ? locked() : impl;
    const result = x.address ? m.i64.extend_u(call) : m.i64.extend_s(call);
    // Flags are a u64 in the kernel's helpers: any beyond the u32 the implementation reads are invalid.
    const body = x.flags === undefined
      ? result
      : m.if(m.i64.gt_u(m.local.get(x.flags, i64), m.i64.const(0xffffffffn)), m.i64.const(BigInt(-EINVAL)), result);
    m.addFunction(x.name, new Array(x.params).fill(i64), i64, x.lock ? [i32] : [], body);
    m.addFunctionExport(x.name, x.name);
  }
  // Arrays cannot delete an element (kernel: array_map_delete_elem returns -EINVAL).
  m.addFunction('array_delete', [i64, i64], i64, [], m.i64.const(BigInt(-EINVAL)));
  m.addFunctionExport('array_delete', 'array_delete');
  // A bloom filter cannot give a value back (kernel: bloom_map_pop_elem returns -EOPNOTSUPP).
  m.addFunction('bloom_pop', [i64, i64], i64, [], m.i64.const(BigInt(-EOPNOTSUPP)));
  m.addFunctionExport('bloom_pop', 'bloom_pop');
}

/** The module's bytes; the same for every memory (the memory is an import). */
export function buildMapOpsModule(): WasmModule {
  const m = new WasmModule();
  m.importMemory('env', 'memory', 1, MAX_WASM32_PAGES, true);
  addLockOps(m);
  addSpinLockOps(m);
  addHashFunctions(m);
  addArrayOps(m);
  addLpmFunctions(m);
  addClear(m);
  addQueueOps(m);
  addBloomOps(m);
  addForEachOps(m);
  addExports(m);
  addRingBufOps(m);
  addPerfOps(m);
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
