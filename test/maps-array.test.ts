// Array and per-CPU array maps: the kernel's semantics through the host API, and the storage the
// WebAssembly operations address in the engine memory.
import { describe, expect, it } from 'vitest';
import { BPF_EXIST, BPF_NOEXIST, createMap, EngineMemory, MapError, mapOperations } from '../src/index.js';

const errno = (f: () => unknown): { errno: string; message: string } => {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(MapError);
    return { errno: (e as MapError).errno, message: (e as Error).message };
  }
  throw new Error('no error');
};

describe('array map', () => {
  const mem = new EngineMemory();
  const arr = createMap(mem, { type: 'array', keySize: 4, valueSize: 12, maxEntries: 5, name: 'counts' });

  it('starts with every value zero, and lookups past the end find nothing', () => {
    for (let i = 0; i < 5; i++) expect(arr.lookup(i)).toEqual(new Uint8Array(12));
    expect(arr.lookup(5)).toBeUndefined();
    expect(arr.lookup(0xffffffff)).toBeUndefined();
    expect(arr.lookup(new Uint8Array([5, 0, 0, 0]))).toBeUndefined();
  });

  it('updates with the kernel’s flags and return codes', () => {
    const v = new Uint8Array(12).map((_, i) => i + 1);
    arr.update(2, v);
    expect(arr.lookup(2)).toEqual(v);
    arr.update(2, new Uint8Array(12).fill(9), BPF_EXIST);
    expect(arr.lookup(2)).toEqual(new Uint8Array(12).fill(9));
    // Every element of an array exists: NOEXIST is EEXIST, as in the kernel.
    expect(errno(() => arr.update(1, v, BPF_NOEXIST))).toEqual({ errno: 'EEXIST', message: "map 'counts': update: an array element always exists (EEXIST)" });
    expect(errno(() => arr.update(5, v))).toEqual({ errno: 'E2BIG', message: "map 'counts': update: index 5 is out of range (maxEntries 5) (E2BIG)" });
    expect(errno(() => arr.update(1, v, 3)).errno).toBe('EINVAL');
    expect(errno(() => arr.update(1, v, 1.5)).errno).toBe('EINVAL');
    expect(arr.lookup(1)).toEqual(new Uint8Array(12));
  });

  it('cannot delete (EINVAL), and iterates every index in order', () => {
    expect(errno(() => arr.delete(0))).toEqual({ errno: 'EINVAL', message: "map 'counts': delete: array elements cannot be deleted (EINVAL)" });
    expect([...arr.keys()].map((k) => new DataView(k.buffer).getUint32(0, true))).toEqual([0, 1, 2, 3, 4]);
    expect([...arr.entries()].map(([, v]) => v[0])).toEqual([0, 0, 9, 0, 0]);
  });

  it('next_key follows the kernel: none or out of range starts at 0, the last answers ENOENT', () => {
    const ops = mapOperations(mem);
    const at = BigInt(mem.alloc(8));
    const out = at + 4n;
    const next = (key: number | undefined): [bigint, number] => {
      if (key !== undefined) mem.view.setUint32(Number(at), key, true);
      const rc = ops.array_next_key(BigInt(arr.address), key === undefined ? 0n : at, out);
      return [rc, mem.view.getUint32(Number(out), true)];
    };
    expect(next(undefined)).toEqual([0n, 0]);
    expect(next(2)).toEqual([0n, 3]);
    expect(next(77)).toEqual([0n, 0]);
    expect(next(4)[0]).toBe(-2n);
  });

  it('refuses keys and values of the wrong size, naming the map and the size', () => {
    expect(() => arr.lookup(new Uint8Array(8))).toThrow("map 'counts': key must be 4 bytes, not 8");
    expect(() => arr.update(0, new Uint8Array(11))).toThrow("map 'counts': value must be 12 bytes, not 11");
    expect(() => arr.update(0, 5)).toThrow(/value must be 12 bytes: a number or bigint only fits a 4- or 8-byte one/);
    expect(() => arr.lookup(-1)).not.toThrow(); // -1 is 0xffffffff as a u32: out of range, not an error
    expect(() => arr.lookup(2 ** 32)).toThrow(/key 4294967296 does not fit 4 bytes/);
    expect(() => arr.update(0, [new Uint8Array(12)])).toThrow(/update takes one value: the map is not per-CPU/);
  });

  it('clear zeroes every value', () => {
    arr.update(4, new Uint8Array(12).fill(1));
    arr.clear();
    expect([...arr.entries()].every(([, v]) => v.every((b) => b === 0))).toBe(true);
  });

  it('number and bigint conveniences read and write little-endian', () => {
    const u64 = createMap(mem, { type: 'array', keySize: 4, valueSize: 8, maxEntries: 2 });
    u64.update(1, 0x0102030405060708n);
    expect([...u64.lookup(1)!]).toEqual([8, 7, 6, 5, 4, 3, 2, 1]);
    expect(u64.lookupBigInt(1)).toBe(0x0102030405060708n);
    u64.update(0, -1);
    expect(u64.lookupBigInt(0)).toBe(2n ** 64n - 1n);
    expect(() => u64.lookupNumber(0)).toThrow(/too large for a number: use lookupBigInt/);
    u64.update(0, 2 ** 40);
    expect(u64.lookupNumber(0)).toBe(2 ** 40);
    expect(u64.lookupNumber(7)).toBeUndefined();
    expect(() => arr.lookupNumber(0)).toThrow(/lookupBigInt needs a map of 4- or 8-byte values/);
  });
});

describe('array storage lives in the engine memory', () => {
  it('a value written by update is at the address the wasm lookup returns, 8-byte aligned slots', () => {
    const mem = new EngineMemory();
    const arr = createMap(mem, { type: 'array', keySize: 4, valueSize: 3, maxEntries: 4 });
    arr.update(1, new Uint8Array([0xaa, 0xbb, 0xcc]));
    arr.update(2, new Uint8Array([1, 2, 3]));
    const ops = mapOperations(mem);
    const key = mem.alloc(4);
    const addr = (i: number): number => {
      mem.view.setUint32(key, i, true);
      return Number(ops.array_lookup(BigInt(arr.address), BigInt(key)));
    };
    expect(mem.read(addr(1), 3)).toEqual(new Uint8Array([0xaa, 0xbb, 0xcc]));
    expect(addr(2) - addr(1)).toBe(8); // the kernel rounds an array's value size up to 8
    expect(addr(0) % 8).toBe(0);
    // A program writes through the pointer: the host sees it.
    mem.bytes[addr(3)] = 0x5a;
    expect(arr.lookup(3)).toEqual(new Uint8Array([0x5a, 0, 0]));
    expect(addr(4)).toBe(0);
  });
});

describe('per-CPU array map', () => {
  const mem = new EngineMemory({ cpus: 3 });
  const pc = createMap(mem, { type: 'percpu_array', keySize: 4, valueSize: 4, maxEntries: 4, name: 'pc' });
  const ops = mapOperations(mem);
  const key = mem.alloc(4);
  const slot = (i: number, cpu: number): number => {
    mem.view.setUint32(key, i, true);
    return Number(ops.percpu_array_lookup(BigInt(pc.address), BigInt(key), BigInt(cpu)));
  };

  it('holds one zeroed value per CPU and returns them all', () => {
    expect(pc.lookup(0)).toEqual([new Uint8Array(4), new Uint8Array(4), new Uint8Array(4)]);
    expect(pc.lookup(4)).toBeUndefined();
  });

  it('takes one value for all CPUs, or one per CPU', () => {
    pc.update(1, 7);
    expect(pc.lookup(1)!.map((v) => v[0])).toEqual([7, 7, 7]);
    pc.update(2, [1, 2, 3]);
    expect(pc.lookup(2)!.map((v) => v[0])).toEqual([1, 2, 3]);
    expect(() => pc.update(2, [1, 2])).toThrow("map 'pc': update needs one value per CPU (3), not 2");
    expect(errno(() => pc.update(9, 1)).errno).toBe('E2BIG');
    expect(errno(() => pc.update(1, 1, BPF_NOEXIST)).errno).toBe('EEXIST');
  });

  it("a program's lookup is its own CPU's slot, and CPUs' slots lie on separate cache lines", () => {
    mem.view.setUint32(slot(3, 1), 42, true); // CPU 1's program increments its counter
    expect(pc.lookup(3)!.map((v) => new DataView(v.buffer).getUint32(0, true))).toEqual([0, 42, 0]);
    expect(Math.abs(slot(3, 1) - slot(3, 0))).toBeGreaterThanOrEqual(64);
    expect(slot(3, 3)).toBe(0); // no CPU 3
    // A program's update writes only its CPU's copy.
    mem.view.setUint32(key + 0, 3, true);
    const value = mem.alloc(4);
    mem.view.setUint32(value, 5, true);
    expect(ops.percpu_array_update(BigInt(pc.address), BigInt(key), BigInt(value), 0n, 2n)).toBe(0n);
    expect(pc.lookup(3)!.map((v) => v[0])).toEqual([0, 42, 5]);
  });
});
