// Creating maps (src/maps/spec.ts, layout.ts): the kernel's BPF_MAP_CREATE checks for the implemented
// types, each refusal naming the map and the field, and storage reserved in the engine memory.
import { describe, expect, it } from 'vitest';
import { BPF_F, BPF_MAP_TYPE, createMap, EngineMemory, InputError, type MapSpec } from '../src/index.js';

const mem = new EngineMemory({ cpus: 2 });
const refusal = (spec: MapSpec): string => {
  try {
    createMap(mem, spec);
  } catch (e) {
    expect(e).toBeInstanceOf(InputError);
    return (e as Error).message;
  }
  throw new Error('the spec was accepted');
};

describe('map types', () => {
  it("use Linux's numbering and accept names or numbers", () => {
    expect(BPF_MAP_TYPE).toMatchObject({
      HASH: 1, ARRAY: 2, PROG_ARRAY: 3, PERF_EVENT_ARRAY: 4, PERCPU_HASH: 5, PERCPU_ARRAY: 6, LRU_HASH: 9,
      LPM_TRIE: 11, QUEUE: 22, STACK: 23, RINGBUF: 27, BLOOM_FILTER: 30,
    });
    expect(createMap(mem, { type: BPF_MAP_TYPE.ARRAY, keySize: 4, valueSize: 8, maxEntries: 1 }).type).toBe('array');
    expect(createMap(mem, { type: 'percpu_hash', keySize: 3, valueSize: 1, maxEntries: 1 }).typeId).toBe(5);
    expect(createMap(mem, { type: 'LRU_HASH', keySize: 3, valueSize: 1, maxEntries: 1 }).type).toBe('lru_hash');
  });

  it('refuse the types not implemented yet, and unknown ones', () => {
    for (const type of ['user_ringbuf', 'stack_trace', 'cgroup_array']) {
      expect(refusal({ type, keySize: 4, valueSize: 4, maxEntries: 1, name: 'm' })).toMatch(new RegExp(`^map 'm': map type '${type}' \\(\\d+\\) is not supported yet`));
    }
    expect(refusal({ type: 31, keySize: 0, valueSize: 0, maxEntries: 4096 })).toMatch(/'user_ringbuf' \(31\) is not supported yet/);
    expect(refusal({ type: 'tree', keySize: 4, valueSize: 4, maxEntries: 1 })).toBe('map: unknown map type "tree"');
    expect(refusal({ type: 0, keySize: 4, valueSize: 4, maxEntries: 1, name: 'x' })).toBe("map 'x': unknown map type 0");
  });
});

describe('creation checks', () => {
  it('an array is indexed by a 4-byte key', () => {
    expect(refusal({ type: 'array', keySize: 8, valueSize: 4, maxEntries: 1, name: 'counts' }))
      .toBe("map 'counts': keySize 8 must be 4 (an array is indexed by a u32)");
    expect(refusal({ type: 'percpu_array', keySize: 2, valueSize: 4, maxEntries: 1 })).toMatch(/^unnamed percpu_array map: keySize/);
  });

  it('sizes and entries must be positive integers within the caps', () => {
    const base = { type: 'hash', keySize: 4, valueSize: 4, maxEntries: 1, name: 'h' } as const;
    expect(refusal({ ...base, keySize: 0 })).toBe("map 'h': keySize 0 must be an integer in 1..512");
    expect(refusal({ ...base, keySize: 513 })).toMatch(/keySize 513 must be an integer in 1\.\.512/);
    expect(refusal({ ...base, valueSize: 0 })).toMatch(/^map 'h': valueSize 0 must be/);
    expect(refusal({ ...base, valueSize: 1.5 })).toMatch(/valueSize 1.5 must be an integer/);
    expect(refusal({ ...base, maxEntries: 0 })).toMatch(/^map 'h': maxEntries 0 must be/);
    expect(refusal({ ...base, type: 'percpu_hash', valueSize: 32769 })).toMatch(/valueSize 32769 must be an integer in 1\.\.32768/);
    expect(refusal({ ...base, type: 'array', valueSize: 4096, maxEntries: 1 << 20 })).toMatch(/^map 'h': maxEntries 1048576 with valueSize 4096 needs \d+ bytes/);
  });

  it('refuses flags it does not know or does not honour', () => {
    // BPF_F_RDONLY (1 << 3): the kernel's syscall-side access flag, not implemented.
    expect(refusal({ type: 'hash', keySize: 4, valueSize: 4, maxEntries: 1, flags: 1 << 3, name: 'h' }))
      .toBe("map 'h': flags 0x8 not supported for map type 'hash'");
    expect(refusal({ type: 'array', keySize: 4, valueSize: 4, maxEntries: 1, flags: BPF_F.NO_PREALLOC })).toMatch(/flags 0x1 not supported for map type 'array'/);
    expect(refusal({ type: 'lru_hash', keySize: 4, valueSize: 4, maxEntries: 1, flags: BPF_F.NO_PREALLOC })).toMatch(/flags 0x1/);
    expect(createMap(mem, { type: 'hash', keySize: 4, valueSize: 4, maxEntries: 1, flags: BPF_F.NO_PREALLOC | BPF_F.ZERO_SEED }).flags).toBe(0x41);
  });

  it('queue, stack and bloom filter have no keys; only a bloom filter takes mapExtra (1..15 hash functions, 0: 5)', () => {
    for (const type of ['queue', 'stack', 'bloom_filter'] as const) {
      expect(refusal({ type, keySize: 4, valueSize: 4, maxEntries: 1, name: 'q' })).toBe(`map 'q': keySize 4 must be 0 (a ${type} has no keys)`);
      expect(refusal({ type, keySize: 0, valueSize: 0, maxEntries: 1 })).toMatch(/valueSize 0 must be an integer in 1\.\./);
      expect(refusal({ type, keySize: 0, valueSize: 4, maxEntries: 0 })).toMatch(/maxEntries 0 must be/);
      expect(createMap(mem, { type, keySize: 0, valueSize: 4, maxEntries: 1 }).type).toBe(type);
    }
    expect(refusal({ type: 'queue', keySize: 0, valueSize: 4, maxEntries: 1, flags: BPF_F.ZERO_SEED })).toMatch(/flags 0x40 not supported for map type 'queue'/);
    expect(createMap(mem, { type: 'bloom_filter', keySize: 0, valueSize: 4, maxEntries: 1, flags: BPF_F.ZERO_SEED, mapExtra: 15 }).mapExtra).toBe(15);
    expect(refusal({ type: 'bloom_filter', keySize: 0, valueSize: 4, maxEntries: 1, mapExtra: 16 })).toMatch(/mapExtra 16 must be an integer in 0\.\.15/);
    expect(refusal({ type: 'hash', keySize: 4, valueSize: 4, maxEntries: 1, mapExtra: 1 })).toMatch(/mapExtra 1 must be an integer in 0\.\.0/);
  });

  it('names follow the kernel: at most 15 of [A-Za-z0-9_.]', () => {
    expect(refusal({ type: 'hash', keySize: 4, valueSize: 4, maxEntries: 1, name: 'a'.repeat(16) })).toMatch(/must be at most 15 characters/);
    expect(refusal({ type: 'hash', keySize: 4, valueSize: 4, maxEntries: 1, name: 'a b' })).toMatch(/^map name "a b"/);
    expect(createMap(mem, { type: 'hash', keySize: 4, valueSize: 4, maxEntries: 1, name: 'ok_name.1' }).name).toBe('ok_name.1');
  });
});

describe('storage', () => {
  it('is reserved in the heap at creation, separated from other allocations', () => {
    const before = mem.heapEnd;
    const map = createMap(mem, { type: 'hash', keySize: 16, valueSize: 100, maxEntries: 1000 });
    expect(map.address).toBeGreaterThanOrEqual(before);
    // 1000 elements of 24 (links, their values' address) + 16 (key) bytes, 1000 values of 104, and 1024 buckets.
    expect(mem.heapEnd - before).toBeGreaterThanOrEqual(1000 * (40 + 104) + 1024 * 4);
    const end = mem.heapEnd;
    for (let i = 0; i < 1000; i++) map.update(new Uint8Array(16).fill(i % 256).fill(i >> 8, 0, 1), new Uint8Array(100));
    expect(mem.heapEnd).toBe(end);
  });
});
