// Bloom filter maps (src/maps/ops-bloom.ts): the kernel's bloom_filter.c semantics. No value pushed is
// ever reported absent, and a filter sized for its values reports few absent ones as present.
import { describe, expect, it } from 'vitest';
import { BPF_F, createMap, EngineMemory, mapOperations, memory, Vm } from '../src/index.js';
import { assemble } from '../src/asm/index.js';
import { buildProgram } from '../src/program/program.js';
import { errnoOf } from './maps-helpers.js';

const bytes = (n: number, size: number): Uint8Array => {
  const out = new Uint8Array(size);
  for (let i = 0; i < size; i++) out[i] = (n >>> ((i % 4) * 8)) & 255 ^ (i >> 2);
  return out;
};

describe('bloom filter', () => {
  for (const [valueSize, hashes] of [[4, 0], [3, 1], [13, 5], [64, 15]] as const) {
    it(`values of ${valueSize} bytes, ${hashes || 'the default 5'} hash functions: no false negatives, a sane false positive rate`, () => {
      const mem = new EngineMemory();
      const n = 1000;
      const bloom = createMap(mem, { type: 'bloom_filter', keySize: 0, valueSize, maxEntries: n, mapExtra: hashes });
      for (let i = 0; i < n; i++) expect(bloom.has(bytes(i, valueSize))).toBe(false); // empty: every bit clear
      for (let i = 0; i < n; i++) bloom.push(bytes(i, valueSize));
      for (let i = 0; i < n; i++) expect(bloom.has(bytes(i, valueSize))).toBe(true);
      let falsePositives = 0;
      const tries = 20000;
      for (let i = n; i < n + tries; i++) if (bloom.has(bytes(i, valueSize))) falsePositives++;
      // The kernel's sizing (bits: entries * hashes * 7/5, a power of two) gives about 2% for 5
      // hashes, 0.4% for 15 and 39% for 1: twice the expected rate is a broken hash.
      const k = hashes || 5;
      const bits = 2 ** Math.ceil(Math.log2(Math.floor((n * k) / 5) * 7));
      const expected = (1 - Math.exp((-k * n) / bits)) ** k;
      expect(falsePositives / tries).toBeLessThan(2 * expected + 0.002);
    });
  }

  it('has no program-visible region; through the WebAssembly operations, the kernel’s return codes', () => {
    const mem = new EngineMemory();
    const ops = mapOperations(mem);
    const bloom = createMap(mem, { type: 'bloom_filter', keySize: 0, valueSize: 8, maxEntries: 10, flags: BPF_F.ZERO_SEED });
    expect(bloom.valueRegion.end - bloom.valueRegion.start).toBe(0);
    const m = BigInt(bloom.address);
    const at = mem.alloc(8);
    mem.write(at, bytes(7, 8));
    expect(ops.bloom_peek(m, BigInt(at))).toBe(-2n);
    expect(ops.bloom_push(m, BigInt(at), 2n)).toBe(-22n); // only BPF_ANY
    expect(ops.bloom_push(m, BigInt(at), 1n << 32n)).toBe(-22n);
    expect(ops.bloom_peek(m, BigInt(at))).toBe(-2n);
    expect(ops.bloom_push(m, BigInt(at), 0n)).toBe(0n);
    expect(ops.bloom_peek(m, BigInt(at))).toBe(0n);
    expect(ops.bloom_pop(m, BigInt(at))).toBe(-95n); // EOPNOTSUPP
    expect(bloom.has(bytes(7, 8))).toBe(true);
    bloom.clear();
    expect(bloom.has(bytes(7, 8))).toBe(false);
    // As a BpfMap: update is push; lookup, delete and iteration are refused as the kernel does.
    bloom.update(new Uint8Array(0), bytes(8, 8));
    expect(bloom.has(bytes(8, 8))).toBe(true);
    expect(errnoOf(() => bloom.update(new Uint8Array(0), bytes(8, 8), 2))).toBe('EINVAL');
    expect(errnoOf(() => bloom.lookup(new Uint8Array(0)))).toBe('EINVAL');
    expect(errnoOf(() => bloom.delete(new Uint8Array(0)))).toBe('EOPNOTSUPP');
    expect(errnoOf(() => [...bloom.keys()])).toBe('EOPNOTSUPP');
    const queue = createMap(mem, { type: 'queue', keySize: 0, valueSize: 8, maxEntries: 1 });
    expect(ops.bloom_push(BigInt(queue.address), BigInt(at), 0n)).toBe(-22n);
  });

  it('a program declaring one takes a host filter only with the same number of hash functions', () => {
    const vm = new Vm();
    const declared = { type: 'bloom_filter', keySize: 0, valueSize: 4, maxEntries: 8, name: 'seen', mapExtra: 3 } as const;
    const p = buildProgram(assemble('mov %r0, 0\nexit', 'ubpf'), { maps: [declared] });
    expect(() => vm.load(p, { context: memory(0), maps: { seen: vm.createMap({ ...declared, mapExtra: 4 }) } })).toThrow(/mapExtra 4, the program declares 3/);
    expect(vm.load(p, { context: memory(0), maps: { seen: vm.createMap(declared) } }).map('seen').mapExtra).toBe(3);
  });
});
