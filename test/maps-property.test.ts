// Property: any sequence of updates, deletes and lookups on a hash map (and an LRU hash map) answers
// as a JavaScript Map model does under the kernel's rules, for keys of any size 1..64 and small
// maps, so that full maps, reused slots and shared buckets are all reached.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createMap, EngineMemory, MapError } from '../src/index.js';

type Op =
  | { op: 'update'; key: number; value: number; flags: number }
  | { op: 'delete'; key: number }
  | { op: 'lookup'; key: number };

const opArb = (keys: number): fc.Arbitrary<Op> => fc.oneof(
  fc.record({ op: fc.constant('update' as const), key: fc.nat(keys - 1), value: fc.nat(255), flags: fc.constantFrom(0, 0, 1, 2, 3) }),
  fc.record({ op: fc.constant('delete' as const), key: fc.nat(keys - 1) }),
  fc.record({ op: fc.constant('lookup' as const), key: fc.nat(keys - 1) }),
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

const errnoOf = (f: () => void): string => {
  try {
    f();
    return 'ok';
  } catch (e) {
    if (!(e instanceof MapError)) throw e;
    return e.errno;
  }
};

function check(lru: boolean): void {
  const mem = new EngineMemory();
  fc.assert(fc.property(scenario, ({ shape, pool, ops }) => {
    const map = createMap(mem, { type: lru ? 'lru_hash' : 'hash', ...shape });
    const model = new Map<number, Uint8Array>(); // by pool index, oldest use first
    const use = (k: number, v: Uint8Array): void => {
      model.delete(k);
      model.set(k, v);
    };
    for (const o of ops) {
      const key = pool[o.key]!;
      const k = o.key;
      if (o.op === 'lookup') {
        expect(map.lookup(key)).toEqual(model.get(k));
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
  }), { numRuns: 300 });
}

describe('hash maps against a model', () => {
  it('hash: updates, deletes and lookups answer as the kernel would', () => check(false));
  it('LRU hash: the same, evicting the least recently used key instead of E2BIG', () => check(true));
});
