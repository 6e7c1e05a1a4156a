// Property: any sequence of updates, deletes and lookups on a hash map (every kind) answers as a
// JavaScript Map model does under the kernel's rules, for keys of any size 1..64 and small maps, so
// that full maps, reused slots and shared buckets are all reached. Interleaved with them, arbitrary
// bytes written over the whole valueRegion (what an unverified program may be granted) change values
// and nothing else: keys, counts, eviction order and iteration still agree with the model.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createMap, EngineMemory, type BpfMap } from '../src/index.js';
import { errnoOf } from './maps-helpers.js';

type Op =
  | { op: 'update'; key: number; value: number; flags: number }
  | { op: 'delete'; key: number }
  | { op: 'lookup'; key: number }
  | { op: 'scribble'; seed: number };

const opArb = (keys: number): fc.Arbitrary<Op> => fc.oneof(
  { arbitrary: fc.record({ op: fc.constant('update' as const), key: fc.nat(keys - 1), value: fc.nat(255), flags: fc.constantFrom(0, 0, 1, 2, 3) }), weight: 3 },
  { arbitrary: fc.record({ op: fc.constant('delete' as const), key: fc.nat(keys - 1) }), weight: 3 },
  { arbitrary: fc.record({ op: fc.constant('lookup' as const), key: fc.nat(keys - 1) }), weight: 3 },
  { arbitrary: fc.record({ op: fc.constant('scribble' as const), seed: fc.nat() }), weight: 1 },
);

const scenario = fc.record({ keySize: fc.integer({ min: 1, max: 64 }), valueSize: fc.integer({ min: 1, max: 24 }), maxEntries: fc.integer({ min: 1, max: 8 }) })
  .chain((shape) => fc.record({
    shape: fc.constant(shape),
    // A pool of distinct keys, about twice the map's size: keys come back, and the map fills.
    pool: fc.uniqueArray(fc.uint8Array({ minLength: shape.keySize, maxLength: shape.keySize }), {
      minLength: 2 * shape.maxEntries + 1, maxLength: 2 * shape.maxEntries + 1, selector: (k) => Array.from(k).join(','),
    }),
    ops: fc.array(opArb(2 * shape.maxEntries + 1), { maxLength: 60 }),
  }));

/** Pseudo-random bytes over the whole region (xorshift from the seed: reproducible when shrunk). */
function scribble(mem: EngineMemory, map: BpfMap, seed: number): void {
  let x = seed | 1;
  const { start, end } = map.valueRegion;
  for (let a = start; a < end; a++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    mem.bytes[a] = x & 255;
  }
}

type HashType = 'hash' | 'lru_hash' | 'percpu_hash' | 'lru_percpu_hash';

function check(type: HashType): void {
  const mem = new EngineMemory({ cpus: 2 });
  const lru = type.startsWith('lru');
  const perCpu = type.includes('percpu');
  fc.assert(fc.property(scenario, ({ shape, pool, ops }) => {
    const map = createMap(mem, { type, ...shape }) as BpfMap;
    // By pool index, oldest use first; a value is undefined once scribbled over (anything goes).
    const model = new Map<number, Uint8Array | undefined>();
    const use = (k: number, v: Uint8Array | undefined): void => {
      model.delete(k);
      model.set(k, v);
    };
    for (const o of ops) {
      if (o.op === 'scribble') {
        scribble(mem, map, o.seed);
        for (const k of model.keys()) model.set(k, undefined);
        continue;
      }
      const key = pool[o.key]!;
      const k = o.key;
      if (o.op === 'lookup') {
        const got = map.lookup(key);
        expect(got !== undefined).toBe(model.has(k));
        const want = model.get(k);
        if (want) expect(got).toEqual(perCpu ? [want, want] : want);
      } else if (o.op === 'delete') {
        expect(errnoOf(() => map.delete(key))).toBe(model.delete(k) ? 'ok' : 'ENOENT');
      } else {
        const value = new Uint8Array(shape.valueSize).fill(o.value);
        const has = model.has(k);
        let expected = 'ok';
        if (o.flags > 2) expected = 'EINVAL';
        else if (has && o.flags === 1) expected = 'EEXIST';
        else if (!has && o.flags === 2) expected = 'ENOENT';
        else if (!has && model.size === shape.maxEntries) {
          if (lru) model.delete(model.keys().next().value!);
          else expected = 'E2BIG';
        }
        if (expected === 'ok') use(k, value);
        expect(errnoOf(() => map.update(key, value, o.flags))).toBe(expected);
      }
    }
    const keys = [...map.keys()].map((key) => pool.findIndex((p) => p.every((b, i) => b === key[i])));
    expect(keys.sort()).toEqual([...model.keys()].sort());
  }), { numRuns: 200 });
}

describe('hash maps against a model, with their values scribbled over', () => {
  it('hash: updates, deletes and lookups answer as the kernel would', () => check('hash'));
  it('LRU hash: the same, evicting the least recently used key instead of E2BIG', () => check('lru_hash'));
  it('per-CPU hash', () => check('percpu_hash'));
  it('LRU per-CPU hash', () => check('lru_percpu_hash'));
});
