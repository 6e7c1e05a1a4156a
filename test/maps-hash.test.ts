// Hash, per-CPU hash and LRU hash maps: the kernel's semantics through the host API and through the
// WebAssembly operations a program will call, over storage in the engine memory.
import { describe, expect, it } from 'vitest';
import { BPF_ANY, BPF_EXIST, BPF_F, BPF_NOEXIST, createMap, EngineMemory, MapError, mapOperations, type BpfMap } from '../src/index.js';
import { E, H } from '../src/maps/layout.js';

const errno = (f: () => unknown): string => {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(MapError);
    return (e as MapError).errno;
  }
  throw new Error('no error');
};
const u32 = (b: Uint8Array): number => new DataView(b.buffer, b.byteOffset).getUint32(0, true);
const keyList = (map: BpfMap): number[] => [...map.keys()].map(u32);

/** The WebAssembly operations called as a program would, with key and value copied into the memory. */
function programSide(mem: EngineMemory, map: BpfMap) {
  const ops = mapOperations(mem);
  const at = mem.alloc(2 * 512 + 4096);
  const put = (bytes: Uint8Array, offset: number): bigint => {
    mem.write(at + offset, bytes);
    return BigInt(at + offset);
  };
  const h = BigInt(map.address);
  return {
    lookup: (key: Uint8Array): number => Number(ops.hash_lookup(h, put(key, 0))),
    percpuLookup: (key: Uint8Array, cpu: number): number => Number(ops.percpu_hash_lookup(h, put(key, 0), BigInt(cpu))),
    update: (key: Uint8Array, value: Uint8Array, flags = 0): bigint => ops.hash_update(h, put(key, 0), put(value, 1024), BigInt(flags)),
    percpuUpdate: (key: Uint8Array, value: Uint8Array, cpu: number, flags = 0): bigint =>
      ops.percpu_hash_update(h, put(key, 0), put(value, 1024), BigInt(flags), BigInt(cpu)),
    nextKey: (key: Uint8Array | undefined): [bigint, Uint8Array] => {
      const rc = ops.hash_next_key(h, key ? put(key, 0) : 0n, BigInt(at + 512));
      return [rc, mem.read(at + 512, map.keySize)];
    },
  };
}

describe('hash map', () => {
  it('updates with the kernel’s flags and return codes', () => {
    const mem = new EngineMemory();
    const map = createMap(mem, { type: 'hash', keySize: 4, valueSize: 8, maxEntries: 4, name: 'counts' });
    expect(map.lookup(1)).toBeUndefined();
    expect(errno(() => map.update(1, 10n, BPF_EXIST))).toBe('ENOENT');
    expect(map.lookup(1)).toBeUndefined();
    map.update(1, 10n, BPF_NOEXIST);
    expect(map.lookupBigInt(1)).toBe(10n);
    expect(() => map.update(1, 11n, BPF_NOEXIST)).toThrow("map 'counts': update: key exists (EEXIST)");
    expect(map.lookupBigInt(1)).toBe(10n);
    map.update(1, 12n, BPF_EXIST);
    map.update(2, 20n, BPF_ANY);
    map.update(2, 21n, BPF_ANY);
    expect([map.lookupNumber(1), map.lookupNumber(2)]).toEqual([12, 21]);
    expect(errno(() => map.update(3, 1n, 3))).toBe('EINVAL');
    expect(errno(() => map.update(3, 1n, 4))).toBe('EINVAL'); // BPF_F_LOCK: no spin locks in values yet
    expect(map.lookup(3)).toBeUndefined();
    expect(() => map.delete(3)).toThrow("map 'counts': delete: no such key (ENOENT)");
    map.delete(1);
    expect(map.lookup(1)).toBeUndefined();
    expect(keyList(map)).toEqual([2]);
  });

  it('a full map refuses a new key with E2BIG but still updates its keys; a deleted slot is reused', () => {
    const mem = new EngineMemory();
    const map = createMap(mem, { type: 'hash', keySize: 4, valueSize: 4, maxEntries: 3, name: 'small' });
    for (const k of [1, 2, 3]) map.update(k, k * 10);
    expect(() => map.update(4, 40)).toThrow("map 'small': update: map is full (maxEntries 3) (E2BIG)");
    expect(errno(() => map.update(4, 40, BPF_NOEXIST))).toBe('E2BIG');
    map.update(2, 22);
    map.update(3, 33, BPF_EXIST);
    const program = programSide(mem, map);
    const key = (k: number): Uint8Array => new Uint8Array(new Uint32Array([k]).buffer);
    const freed = program.lookup(key(2));
    expect(freed).not.toBe(0);
    map.delete(2);
    map.update(4, 40);
    expect(program.lookup(key(4))).toBe(freed);
    expect(map.lookupNumber(4)).toBe(40);
    expect(errno(() => map.update(5, 50))).toBe('E2BIG');
    expect(keyList(map).sort()).toEqual([1, 3, 4]);
  });

  it('iteration visits each key once, however the keys share buckets', () => {
    const mem = new EngineMemory();
    const map = createMap(mem, { type: 'hash', keySize: 4, valueSize: 4, maxEntries: 200 });
    for (let k = 0; k < 200; k++) map.update(k * 7919, k);
    const seen = keyList(map);
    expect(seen).toHaveLength(200);
    expect(new Set(seen)).toEqual(new Set(Array.from({ length: 200 }, (_, k) => k * 7919)));
    expect([...map.entries()].every(([k, v]) => u32(k) === u32(v) * 7919)).toBe(true);
  });

  it('deleting during iteration is safe: the deleted key restarts the walk from the first key', () => {
    const mem = new EngineMemory();
    const map = createMap(mem, { type: 'hash', keySize: 4, valueSize: 4, maxEntries: 64 });
    for (let k = 0; k < 64; k++) map.update(k, k);
    const visited: number[] = [];
    for (const key of map.keys()) {
      const k = u32(key);
      visited.push(k);
      map.delete(key);
      if (k % 2 === 0 && map.lookup(k + 1) !== undefined) map.delete(k + 1); // a key the walk has not reached
    }
    expect(keyList(map)).toEqual([]);
    expect(new Set(visited).size).toBe(visited.length);
    expect(visited.length).toBeGreaterThanOrEqual(32);
    const program = programSide(mem, map);
    map.update(5, 5);
    map.update(6, 6);
    // A key not in the map starts from the first key, as the kernel's htab_map_get_next_key does.
    const [rc, first] = program.nextKey(new Uint8Array([99, 0, 0, 0]));
    expect(rc).toBe(0n);
    expect(program.nextKey(undefined)).toEqual([0n, first]);
    const [rc2, second] = program.nextKey(first);
    expect(rc2).toBe(0n);
    expect(new Set([u32(first), u32(second)])).toEqual(new Set([5, 6]));
    expect(program.nextKey(second)[0]).toBe(-2n);
  });

  it('keys of any size compare every byte', () => {
    const mem = new EngineMemory();
    for (const keySize of [1, 3, 8, 13, 64, 511, 512]) {
      const map = createMap(mem, { type: 'hash', keySize, valueSize: 3, maxEntries: 2 * keySize + 2 });
      const keys: Uint8Array[] = [];
      for (let at = 0; at < keySize; at++) {
        for (const bit of [1, 0x80]) {
          const k = new Uint8Array(keySize);
          k[at] = bit;
          keys.push(k);
        }
      }
      keys.push(new Uint8Array(keySize));
      keys.forEach((k, i) => map.update(k, new Uint8Array([i, i >> 8, keySize])));
      keys.forEach((k, i) => expect(map.lookup(k)).toEqual(new Uint8Array([i & 255, i >> 8, keySize])));
      expect([...map.keys()]).toHaveLength(keys.length);
      expect(map.lookup(new Uint8Array(keySize).fill(0xff))).toBeUndefined();
    }
  });

  it('keys whose hashes collide are told apart by their bytes (8 at a time, then one by one)', () => {
    const mem = new EngineMemory();
    // Pairs found by a birthday search with seed 0: equal first 8 bytes, equal 32-bit hashes.
    const pairs = [
      ['070707070707070797b4b604b2', '07070707070707075aa03dada1'],
      ['0707070707070707fcf700fd27ff16d1', '07070707070707074564c73756d639ec'],
    ].map((pair) => pair.map((hex) => Uint8Array.from(hex.match(/../g)!, (b) => parseInt(b, 16))));
    for (const [a, b] of pairs as Array<[Uint8Array, Uint8Array]>) {
      const map = createMap(mem, { type: 'hash', keySize: a.length, valueSize: 1, maxEntries: 2, flags: BPF_F.ZERO_SEED });
      map.update(a, new Uint8Array([1]));
      const program = programSide(mem, map);
      // The element whose values are at the address lookup returns: its hash is at E.HASH.
      const storedHash = (key: Uint8Array): number => {
        const value = program.lookup(key);
        const pool = mem.view.getUint32(map.address + H.ELEMS, true);
        const size = mem.view.getUint32(map.address + H.ELEM_SIZE, true);
        let e = pool;
        while (mem.view.getUint32(e + E.VALUE, true) !== value) e += size;
        return mem.view.getUint32(e + E.HASH, true);
      };
      expect(map.lookup(b)).toBeUndefined();
      map.update(b, new Uint8Array([2]), BPF_NOEXIST);
      expect(storedHash(a)).toBe(storedHash(b)); // the test's premise: one bucket, one hash
      expect([map.lookup(a), map.lookup(b)]).toEqual([new Uint8Array([1]), new Uint8Array([2])]);
      expect([...map.keys()]).toHaveLength(2);
      map.delete(a);
      expect([map.lookup(a), map.lookup(b)]).toEqual([undefined, new Uint8Array([2])]);
      expect(errno(() => map.delete(a))).toBe('ENOENT');
    }
  });

  it('hashes with a random seed per map, or seed 0 under BPF_F_ZERO_SEED (a reproducible order)', () => {
    const mem = new EngineMemory();
    const order = (flags: number): number[] => {
      const map = createMap(mem, { type: 'hash', keySize: 4, valueSize: 4, maxEntries: 64, flags });
      for (let k = 0; k < 64; k++) map.update(k, 0);
      return keyList(map);
    };
    expect(order(BPF_F.ZERO_SEED)).toEqual(order(BPF_F.ZERO_SEED));
    expect(order(0)).not.toEqual(order(0)); // 64 keys in the same order under two random seeds: ~never
  });

  it('clear empties the map and makes every element free again', () => {
    const mem = new EngineMemory();
    const map = createMap(mem, { type: 'hash', keySize: 2, valueSize: 2, maxEntries: 3 });
    for (const k of [1, 2, 3]) map.update(new Uint8Array([k, 0]), new Uint8Array([k, k]));
    map.clear();
    expect([...map.keys()]).toEqual([]);
    for (const k of [4, 5, 6]) map.update(new Uint8Array([k, 0]), new Uint8Array([k, k]));
    expect(map.lookup(new Uint8Array([5, 0]))).toEqual(new Uint8Array([5, 5]));
  });
});

describe('hash storage lives in the engine memory', () => {
  it("a value written by update is at the address the wasm lookup returns, and a program's write is what the host reads", () => {
    const mem = new EngineMemory();
    const map = createMap(mem, { type: 'hash', keySize: 5, valueSize: 6, maxEntries: 8 });
    const key = new Uint8Array([1, 2, 3, 4, 5]);
    map.update(key, new Uint8Array([10, 20, 30, 40, 50, 60]));
    const program = programSide(mem, map);
    const addr = program.lookup(key);
    expect(addr % 8).toBe(0);
    expect(mem.read(addr, 6)).toEqual(new Uint8Array([10, 20, 30, 40, 50, 60]));
    mem.bytes[addr + 5] = 99;
    expect(map.lookup(key)).toEqual(new Uint8Array([10, 20, 30, 40, 50, 99]));
    // The program's own update, then the host's view.
    expect(program.update(new Uint8Array([9, 9, 9, 9, 9]), new Uint8Array([1, 1, 1, 1, 1, 1]), BPF_NOEXIST)).toBe(0n);
    expect(program.update(key, new Uint8Array(6), BPF_NOEXIST)).toBe(-17n);
    expect(program.update(key, new Uint8Array(6), 2 ** 32)).toBe(-22n); // flags are u64: not wrapped to BPF_ANY
    expect(map.lookup(new Uint8Array([9, 9, 9, 9, 9]))).toEqual(new Uint8Array(6).fill(1));
  });
});

describe('LRU hash map', () => {
  const key = (k: number): Uint8Array => new Uint8Array([k, 0, 0, 0]);

  it("evicts the least recently used key when full; a program's lookup or update is a use, the host's lookup is not", () => {
    const mem = new EngineMemory();
    const lru = createMap(mem, { type: 'lru_hash', keySize: 4, valueSize: 4, maxEntries: 3 });
    const program = programSide(mem, lru);
    for (const k of [1, 2, 3]) lru.update(k, k);
    expect(program.lookup(key(1))).not.toBe(0); // 1 is now the most recent: 2 is the oldest
    expect(lru.lookup(2)).toBeDefined(); // the host's lookup does not count
    lru.update(4, 4);
    expect(keyList(lru).sort()).toEqual([1, 3, 4]);
    lru.update(3, 33); // an update is a use: 1 is now the oldest
    lru.update(5, 5);
    expect(keyList(lru).sort()).toEqual([3, 4, 5]);
    // A delete frees a slot: the next insert takes it and evicts nothing.
    lru.delete(4);
    lru.update(6, 6);
    expect(keyList(lru).sort()).toEqual([3, 5, 6]);
    expect(errno(() => lru.update(7, 7, BPF_EXIST))).toBe('ENOENT');
    expect(keyList(lru).sort()).toEqual([3, 5, 6]);
    expect(lru.lookupNumber(3)).toBe(33);
  });

  it('keeps evicting correctly over many inserts', () => {
    const mem = new EngineMemory();
    const lru = createMap(mem, { type: 'lru_hash', keySize: 4, valueSize: 4, maxEntries: 16 });
    for (let k = 0; k < 1000; k++) lru.update(k, k);
    expect(keyList(lru).sort((a, b) => a - b)).toEqual(Array.from({ length: 16 }, (_, i) => 984 + i));
  });
});

describe('per-CPU hash map', () => {
  const mem = new EngineMemory({ cpus: 2 });
  const key = (k: number): Uint8Array => new Uint8Array([k, 0, 0, 0]);

  it('holds one value per CPU; the host sets one for all or one each', () => {
    const pc = createMap(mem, { type: 'percpu_hash', keySize: 4, valueSize: 2, maxEntries: 4, name: 'pch' });
    pc.update(1, new Uint8Array([1, 2]));
    expect(pc.lookup(1)).toEqual([new Uint8Array([1, 2]), new Uint8Array([1, 2])]);
    pc.update(2, [new Uint8Array([3, 0]), new Uint8Array([4, 0])]);
    expect(pc.lookup(2)).toEqual([new Uint8Array([3, 0]), new Uint8Array([4, 0])]);
    expect(() => pc.update(2, [new Uint8Array(2)])).toThrow("map 'pch': update needs one value per CPU (2), not 1");
    expect([...pc.entries()].map(([k, v]) => [k[0], v.map((b) => b[0])]).sort()).toEqual([[1, [1, 1]], [2, [3, 4]]]);
  });

  it("a program's update writes its CPU's copy; a new key's other copies start at zero", () => {
    const pc = createMap(mem, { type: 'percpu_hash', keySize: 4, valueSize: 4, maxEntries: 4 });
    const program = programSide(mem, pc);
    expect(program.percpuUpdate(key(7), new Uint8Array([5, 0, 0, 0]), 1)).toBe(0n);
    expect(pc.lookup(7)!.map((v) => v[0])).toEqual([0, 5]);
    expect(program.percpuUpdate(key(7), new Uint8Array([6, 0, 0, 0]), 0)).toBe(0n);
    expect(pc.lookup(7)!.map((v) => v[0])).toEqual([6, 5]);
    expect(program.percpuLookup(key(7), 1) - program.percpuLookup(key(7), 0)).toBe(8);
    expect(program.percpuLookup(key(7), 2)).toBe(0); // no CPU 2
    expect(program.percpuUpdate(key(7), new Uint8Array(4), 2)).toBe(-22n);
    // A slot freed by a delete comes back zeroed for the other CPUs.
    pc.delete(7);
    expect(program.percpuUpdate(key(8), new Uint8Array([1, 0, 0, 0]), 0)).toBe(0n);
    expect(pc.lookup(8)!.map((v) => v[0])).toEqual([1, 0]);
  });

  it('an LRU per-CPU hash evicts the same way', () => {
    const lru = createMap(mem, { type: 'lru_percpu_hash', keySize: 4, valueSize: 4, maxEntries: 2 });
    lru.update(1, [1, 2]);
    lru.update(2, [3, 4]);
    lru.update(3, [5, 6]);
    expect(keyList(lru).sort()).toEqual([2, 3]);
    expect(lru.lookup(3)!.map(u32)).toEqual([5, 6]);
  });
});
