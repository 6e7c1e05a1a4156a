// Batch commands from the host (BPF_MAP_LOOKUP_BATCH, LOOKUP_AND_DELETE_BATCH, UPDATE_BATCH,
// DELETE_BATCH): batches of at most `count` entries in the map's key order with a cursor, the end
// of the iteration, per-CPU values, the kernel's errors, and partial batches that say how far they got.
import { describe, expect, it } from 'vitest';
import { EngineMemory, InputError, MapError, createMap } from '../src/index.js';
import { BPF_NOEXIST } from '../src/maps/types.js';
import { errnoOf } from './maps-helpers.js';

const u32 = (n: number): Uint8Array => Uint8Array.of(n & 0xff, (n >> 8) & 0xff, 0, 0);
const u64 = (n: number): Uint8Array => Uint8Array.of(n & 0xff, (n >> 8) & 0xff, 0, 0, 0, 0, 0, 0);

function hash(n: number, mem = new EngineMemory()) {
  const map = createMap(mem, { type: 'hash', keySize: 4, valueSize: 8, maxEntries: 64, name: 'flows' });
  for (let i = 0; i < n; i++) map.update(u32(i), u64(i * 10));
  return map;
}

describe('lookupBatch', () => {
  it('hands out every entry once, in key order, count at a time, then no cursor', () => {
    const map = hash(10);
    const sizes: number[] = [];
    const keys: Uint8Array[] = [];
    let batch = map.lookupBatch(4);
    for (;;) {
      sizes.push(batch.keys.length);
      keys.push(...batch.keys);
      batch.keys.forEach((k, i) => expect(batch.values[i]).toEqual(u64(k[0]! * 10)));
      if (!batch.cursor) break;
      batch = map.lookupBatch(4, batch.cursor);
    }
    expect(sizes).toEqual([4, 4, 2]);
    expect(keys).toEqual([...map.keys()]);
  });

  it('ends with an empty batch when the last one was full, and on an empty map', () => {
    const map = hash(8);
    const first = map.lookupBatch(4);
    const second = map.lookupBatch(4, first.cursor);
    expect(second.keys).toHaveLength(4);
    expect(second.cursor).toBeDefined();
    expect(map.lookupBatch(4, second.cursor)).toEqual({ keys: [], values: [], cursor: undefined });
    expect(hash(0).lookupBatch(4)).toEqual({ keys: [], values: [], cursor: undefined });
  });

  it('gives arrays every index and per-CPU maps a value per CPU', () => {
    const mem = new EngineMemory({ cpus: 2 });
    const array = createMap(mem, { type: 'array', keySize: 4, valueSize: 4, maxEntries: 3 });
    array.update(1, u32(7));
    expect(array.lookupBatch(10)).toEqual({ keys: [u32(0), u32(1), u32(2)], values: [u32(0), u32(7), u32(0)], cursor: undefined });
    const perCpu = createMap(mem, { type: 'percpu_hash', keySize: 4, valueSize: 8, maxEntries: 4 });
    perCpu.update(u32(5), [u64(1), u64(2)]);
    expect(perCpu.lookupBatch(2).values).toEqual([[u64(1), u64(2)]]);
  });

  it('refuses a count that is not a positive integer, and maps without keys', () => {
    const map = hash(1);
    for (const count of [0, -1, 1.5]) expect(() => map.lookupBatch(count)).toThrow(InputError);
    const mem = new EngineMemory();
    expect(errnoOf(() => createMap(mem, { type: 'queue', keySize: 0, valueSize: 4, maxEntries: 2 }).lookupBatch(1))).toBe('EINVAL');
    expect(errnoOf(() => createMap(mem, { type: 'ringbuf', keySize: 0, valueSize: 0, maxEntries: 4096 }).lookupBatch(1))).toBe('ENOTSUPP');
  });
});

describe('lookupAndDeleteBatch, updateBatch and deleteBatch', () => {
  it('empties a hash map batch by batch, going on from the cursor', () => {
    const map = hash(10);
    const seen: Uint8Array[] = [];
    let batch = map.lookupAndDeleteBatch(3);
    seen.push(...batch.keys);
    while (batch.cursor) {
      batch = map.lookupAndDeleteBatch(3, batch.cursor);
      seen.push(...batch.keys);
    }
    expect(seen.map((k) => k[0]).sort((a, b) => a! - b!)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect([...map.keys()]).toEqual([]);
  });

  it('refuses lookupAndDeleteBatch on an array (ENOTSUPP), as the kernel', () => {
    const array = createMap(new EngineMemory(), { type: 'array', keySize: 4, valueSize: 4, maxEntries: 3 });
    expect(errnoOf(() => array.lookupAndDeleteBatch(1))).toBe('ENOTSUPP');
  });

  it('updates and deletes in order, and an error says how many were done', () => {
    const map = hash(0);
    expect(map.updateBatch([u32(1), u32(2)], [u64(10), u64(20)])).toBe(2);
    expect(map.lookup(u32(2))).toEqual(u64(20));
    let error: unknown;
    try {
      map.updateBatch([u32(3), u32(1), u32(4)], [u64(30), u64(11), u64(40)], BPF_NOEXIST);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(MapError);
    expect((error as MapError).errno).toBe('EEXIST');
    expect((error as MapError).message).toContain('after 1 of 3');
    expect(map.lookup(u32(3))).toEqual(u64(30));
    expect(map.lookup(u32(4))).toBeUndefined();
    expect(() => map.updateBatch([u32(1)], [])).toThrow(InputError);
    expect(map.deleteBatch([u32(1), u32(2)])).toBe(2);
    expect(errnoOf(() => map.deleteBatch([u32(3), u32(9)]))).toBe('ENOENT');
    expect([...map.keys()]).toEqual([]);
  });
});
