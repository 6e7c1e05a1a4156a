// BpfMap.valueRegion (src/maps/layout.ts): it holds every address a lookup gives a program, for every
// CPU copy, and none of the metadata (header, buckets, elements) the operations walk.
import { describe, expect, it } from 'vitest';
import { createMap, EngineMemory, mapOperations, Vm, type BpfMap, type MapSpec } from '../src/index.js';
import { H } from '../src/maps/layout.js';

const mem = new EngineMemory({ cpus: 3 });
const ops = mapOperations(mem);
const keyAt = mem.alloc(64);

/** Every address the program-side lookups return for keys 0..n-1 (u32 keys), each CPU's copy. */
function lookupAddresses(map: BpfMap, n: number): number[] {
  const out: number[] = [];
  for (let k = 0; k < n; k++) {
    mem.view.setUint32(keyAt, k, true);
    const m = BigInt(map.address);
    const key = BigInt(keyAt);
    if (map.type === 'array') out.push(Number(ops.array_lookup(m, key)));
    else if (map.type === 'percpu_array') for (let cpu = 0; cpu < 3; cpu++) out.push(Number(ops.percpu_array_lookup(m, key, BigInt(cpu))));
    else if (map.perCpu) for (let cpu = 0; cpu < 3; cpu++) out.push(Number(ops.percpu_hash_lookup(m, key, BigInt(cpu))));
    else out.push(Number(ops.hash_lookup(m, key)));
  }
  return out;
}

/** [header, end of the operations' area): the metadata allocation. */
const metadata = (map: BpfMap): [number, number] =>
  [map.address, mem.view.getUint32(map.address + H.ELEMS, true) + mem.view.getUint32(map.address + H.ELEMS_SIZE, true)];

describe('valueRegion', () => {
  const types: Array<MapSpec['type']> = ['hash', 'lru_hash', 'percpu_hash', 'lru_percpu_hash', 'array', 'percpu_array'];
  for (const type of types) {
    it(`${String(type)}: holds every value a lookup points at, and no metadata`, () => {
      const n = 20;
      const map = createMap(mem, { type, keySize: 4, valueSize: 12, maxEntries: n }) as BpfMap;
      for (let k = 0; k < n; k++) map.update(k, new Uint8Array(12).fill(k + 1));
      const { start, end } = map.valueRegion;
      const addrs = lookupAddresses(map, n);
      expect(addrs).toHaveLength(map.perCpu ? 3 * n : n);
      for (const a of addrs) {
        expect(a).toBeGreaterThanOrEqual(start);
        expect(a + 12).toBeLessThanOrEqual(end);
      }
      expect(new Set(addrs).size).toBe(addrs.length);
      const [metaStart, metaEnd] = metadata(map);
      expect(end <= metaStart || start >= metaEnd).toBe(true);
      // No more than the values: maxEntries slots of 16 bytes per copy (a per-CPU array pads each CPU's
      // block to 64), and a hash map's spare element's (the one an update swaps in).
      const slots = String(type).includes('hash') ? (n + 1) * 16 : Math.ceil((n * 16) / 64) * 64;
      expect(end - start).toBeLessThanOrEqual((map.perCpu ? 3 : 1) * slots);
    });
  }

  it('after zeroing the whole region, a hash map keeps its keys and takes new values', () => {
    const map = createMap(mem, { type: 'lru_hash', keySize: 4, valueSize: 8, maxEntries: 4 });
    for (let k = 0; k < 4; k++) map.update(k, BigInt(k));
    mem.bytes.fill(0xff, map.valueRegion.start, map.valueRegion.end);
    expect([...map.keys()]).toHaveLength(4);
    expect(map.lookupBigInt(2)).toBe(0xffffffffffffffffn);
    map.update(9, 9n); // evicts key 0, the least recently used
    expect(map.lookup(0)).toBeUndefined();
    expect(map.lookupBigInt(9)).toBe(9n);
  });
});

describe('a checked program granted a hash map’s values', () => {
  // Keys 0..3 take elements 0..3 in order, so key 1's neighbours are keys 0 and 2's values; the
  // spare element 4's value ends the region.
  const src = (off: number): string => `stw [%r10-4], 1
mov %r2, %r10
add %r2, -4
lddw %r1, map_by_idx(0)
call 1
jeq %r0, 0, out
stdw [%r0-8], -1
stdw [%r0${off >= 0 ? '+' : ''}${off}], -1
out:
mov %r0, 0
exit`;

  for (const engine of ['interp', 'jit'] as const) {
    it(`${engine}: may overwrite other keys' values, never the map's links, and faults past the values`, () => {
      const vm = new Vm();
      const table = vm.createMap({ type: 'hash', keySize: 4, valueSize: 8, maxEntries: 4 });
      for (let k = 0; k < 4; k++) table.update(k, BigInt(k));
      vm.load(src(8), { engine, unverified: true, maps: [table] }).run();
      expect([0, 1, 2, 3].map((k) => table.lookupBigInt(k))).toEqual([2n ** 64n - 1n, 1n, 2n ** 64n - 1n, 3n]);
      table.delete(2);
      table.update(9, 9n);
      expect([...table.keys()]).toHaveLength(4);
      expect(() => vm.load(src(32), { engine, unverified: true, maps: [table] }).run()).toThrow(expect.objectContaining({ code: 'E_RUN_MEMORY' }));
    });
  }
});
