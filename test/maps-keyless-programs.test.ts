// Queues, stacks and bloom filters from programs: map_push_elem (87), map_pop_elem (88) and
// map_peek_elem (89) in every engine, and the verifier's rules for them.
import { beforeAll, describe, expect, it } from 'vitest';
import { Vm, memory } from '../src/index.js';
import { loadOptimizer } from '../src/jit/index.js';
import type { BpfBloomFilter, BpfQueue } from '../src/maps/map-keyless.js';
import { ENGINES } from './engines.js';

beforeAll(() => loadOptimizer());

/** Pushes r6 = `value` with `flags`; returns push's r0 (signed). */
const push = (value: number, flags = 0): string =>
  `stdw [%r10-8], ${value}\nlddw %r1, map_by_idx(0)\nmov %r2, %r10\nadd %r2, -8\nmov %r3, ${flags}\ncall 87\nexit`;
/** Pops (88) or peeks (89) into r10-8 (left uninitialized: the helper fills it); returns the value, or 1000 + -r0. */
const take = (helper: 88 | 89): string =>
  `lddw %r1, map_by_idx(0)\nmov %r2, %r10\nadd %r2, -8\ncall ${helper}\njeq %r0, 0, got\nneg %r0\nadd %r0, 1000\nexit\ngot:\nldxdw %r0, [%r10-8]\nexit`;

describe.each(ENGINES)('keyless maps in programs: %s', (_name, opts) => {
  const run = (vm: Vm, map: BpfQueue | BpfBloomFilter, src: string): bigint =>
    BigInt.asIntN(64, vm.load(src, { ...opts, context: memory(0), maps: [map] }).run());

  it('a queue gives its values back first in, first out; a stack last in, first out', () => {
    for (const [type, order] of [['queue', [1n, 2n]], ['stack', [2n, 1n]]] as const) {
      const vm = new Vm();
      const q = vm.createMap({ type, keySize: 0, valueSize: 8, maxEntries: 2 }) as BpfQueue;
      expect(run(vm, q, push(1))).toBe(0n);
      expect(run(vm, q, push(2))).toBe(0n);
      expect(run(vm, q, push(3))).toBe(-7n); // E2BIG: full
      expect(run(vm, q, take(89))).toBe(order[0]);
      expect(run(vm, q, take(88))).toBe(order[0]);
      expect(run(vm, q, take(88))).toBe(order[1]);
      expect(run(vm, q, take(88))).toBe(1002n); // ENOENT: empty
      expect(run(vm, q, push(5, 4))).toBe(-22n); // EINVAL: flags
    }
  });

  it('BPF_EXIST makes room in a full queue by dropping its oldest value; the host sees what programs push', () => {
    const vm = new Vm();
    const q = vm.createMap({ type: 'queue', keySize: 0, valueSize: 8, maxEntries: 2 }) as BpfQueue;
    for (const v of [1, 2, 3]) expect(run(vm, q, push(v, 2))).toBe(0n);
    expect(q.pop()).toEqual(new Uint8Array([2, 0, 0, 0, 0, 0, 0, 0]));
    q.push(9);
    expect(run(vm, q, take(88))).toBe(3n);
    expect(run(vm, q, take(88))).toBe(9n);
  });

  it('a bloom filter answers peek with 0 for a value pushed, -ENOENT for one never pushed', () => {
    const vm = new Vm();
    const bloom = vm.createMap({ type: 'bloom_filter', keySize: 0, valueSize: 8, maxEntries: 64 }) as BpfBloomFilter;
    expect(run(vm, bloom, push(42))).toBe(0n);
    const peek = (value: number): string => `stdw [%r10-8], ${value}\nlddw %r1, map_by_idx(0)\nmov %r2, %r10\nadd %r2, -8\ncall 89\nexit`;
    expect(run(vm, bloom, peek(42))).toBe(0n);
    expect(bloom.has(42)).toBe(true);
    bloom.push(7);
    expect(run(vm, bloom, peek(7))).toBe(0n);
    expect([peek(1), peek(2), peek(3)].map((p) => run(vm, bloom, p))).toContain(-2n);
  });
});

describe('the verifier and keyless maps', () => {
  const vm = new Vm();
  const queue = vm.createMap({ type: 'queue', keySize: 0, valueSize: 8, maxEntries: 2 });
  const bloom = vm.createMap({ type: 'bloom_filter', keySize: 0, valueSize: 8, maxEntries: 8 });
  const hash = vm.createMap({ type: 'hash', keySize: 4, valueSize: 8, maxEntries: 8 });
  const refused = (src: string, map: typeof queue): unknown => {
    try {
      vm.load(src, { context: memory(0), maps: [map] });
      return undefined;
    } catch (e) {
      return e;
    }
  };

  it('takes each helper only on the map types the kernel allows', () => {
    expect(refused(take(88), bloom)).toMatchObject({ code: 'E_VERIFY_HELPER_ARG', message: expect.stringMatching(/cannot be used with/) });
    expect(refused(take(88), hash)).toMatchObject({ code: 'E_VERIFY_HELPER_ARG' });
    expect(refused(push(1), hash)).toMatchObject({ code: 'E_VERIFY_HELPER_ARG' });
    const lookup = 'stw [%r10-4], 0\nlddw %r1, map_by_idx(0)\nmov %r2, %r10\nadd %r2, -4\ncall 1\nmov %r0, 0\nexit';
    expect(refused(lookup, queue)).toMatchObject({ code: 'E_VERIFY_HELPER_ARG' });
    expect(refused(lookup, hash)).toBeUndefined();
  });

  it('lets pop fill room that is not initialized, but a bloom filter\'s peek must read a value', () => {
    expect(refused(take(88), queue)).toBeUndefined();
    expect(refused(take(89), bloom)).toMatchObject({ code: 'E_VERIFY_UNINIT_STACK' });
  });
});
