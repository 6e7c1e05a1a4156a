// Queue and stack maps (src/maps/ops-queue.ts): the kernel's queue_stack_maps.c semantics, against an
// array model, through the host API and through the WebAssembly operations a program will call.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BPF_ANY, BPF_EXIST, createMap, EngineMemory, mapOperations, memory, Vm } from '../src/index.js';
import { errnoOf } from './maps-helpers.js';

type Op = { op: 'push'; value: number; flags: number } | { op: 'pop' } | { op: 'peek' };
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { arbitrary: fc.record({ op: fc.constant('push' as const), value: fc.nat(255), flags: fc.constantFrom(0, 0, 2, 2, 1, 3) }), weight: 3 },
  { arbitrary: fc.record({ op: fc.constant('pop' as const) }), weight: 2 },
  { arbitrary: fc.record({ op: fc.constant('peek' as const) }), weight: 1 },
);

function check(type: 'queue' | 'stack'): void {
  const mem = new EngineMemory();
  fc.assert(fc.property(fc.integer({ min: 1, max: 6 }), fc.integer({ min: 1, max: 20 }), fc.array(opArb, { maxLength: 80 }), (maxEntries, valueSize, ops) => {
    const q = createMap(mem, { type, keySize: 0, valueSize, maxEntries });
    const model: Uint8Array[] = []; // oldest first
    const next = (): Uint8Array | undefined => (type === 'queue' ? model[0] : model[model.length - 1]);
    for (const o of ops) {
      if (o.op === 'push') {
        const value = new Uint8Array(valueSize).fill(o.value);
        let expected = 'ok';
        if (o.flags !== BPF_ANY && o.flags !== BPF_EXIST) expected = 'EINVAL';
        else if (model.length === maxEntries) {
          if (o.flags === BPF_EXIST) model.shift(); // the oldest makes room, for a stack too
          else expected = 'E2BIG';
        }
        if (expected === 'ok') model.push(value);
        expect(errnoOf(() => q.push(value, o.flags))).toBe(expected);
      } else if (o.op === 'peek') {
        expect(q.peek()).toEqual(next());
      } else {
        const want = next();
        if (want) model.splice(type === 'queue' ? 0 : model.length - 1, 1);
        expect(q.pop()).toEqual(want);
      }
    }
  }), { numRuns: 300 });
}

describe('queue and stack against a model', () => {
  it('queue: first in, first out; full answers E2BIG, or drops the oldest under BPF_EXIST', () => check('queue'));
  it('stack: last in, first out; the same when full', () => check('stack'));
});

describe('queue and stack', () => {
  it('keep their values out of any program-visible region: pop and peek copy out', () => {
    const mem = new EngineMemory();
    const q = createMap(mem, { type: 'queue', keySize: 0, valueSize: 4, maxEntries: 2 });
    expect(q.valueRegion.end - q.valueRegion.start).toBe(0);
  });

  it('through the WebAssembly operations: the kernel’s return codes, and an empty pop zeroes out', () => {
    const mem = new EngineMemory();
    const ops = mapOperations(mem);
    const s = createMap(mem, { type: 'stack', keySize: 0, valueSize: 3, maxEntries: 2 });
    const at = mem.alloc(16);
    const m = BigInt(s.address);
    mem.write(at, new Uint8Array([1, 2, 3]));
    expect(ops.queue_push(m, BigInt(at), 0n)).toBe(0n);
    expect(ops.queue_push(m, BigInt(at), 1n)).toBe(-22n); // BPF_NOEXIST: EINVAL
    expect(ops.queue_push(m, BigInt(at), 1n << 32n)).toBe(-22n); // not wrapped to BPF_ANY
    mem.write(at, new Uint8Array([4, 5, 6]));
    expect(ops.queue_push(m, BigInt(at), 0n)).toBe(0n);
    expect(ops.queue_push(m, BigInt(at), 0n)).toBe(-7n); // E2BIG
    expect(ops.queue_peek(m, BigInt(at + 8))).toBe(0n);
    expect(mem.read(at + 8, 3)).toEqual(new Uint8Array([4, 5, 6]));
    expect(ops.queue_pop(m, BigInt(at + 8))).toBe(0n);
    expect(ops.queue_pop(m, BigInt(at + 8))).toBe(0n);
    expect(mem.read(at + 8, 3)).toEqual(new Uint8Array([1, 2, 3]));
    expect(ops.queue_pop(m, BigInt(at + 8))).toBe(-2n);
    expect(mem.read(at + 8, 3)).toEqual(new Uint8Array(3));
    expect(ops.queue_peek(m, BigInt(at + 8))).toBe(-2n);
    // A map of another kind is refused, not written over.
    const hash = createMap(mem, { type: 'hash', keySize: 4, valueSize: 4, maxEntries: 1 });
    expect(ops.queue_push(BigInt(hash.address), BigInt(at), 0n)).toBe(-22n);
  });

  it('name the map and the reason when a push fails; clear empties them', () => {
    const mem = new EngineMemory();
    const q = createMap(mem, { type: 'queue', keySize: 0, valueSize: 8, maxEntries: 1, name: 'events' });
    q.push(1n);
    expect(() => q.push(2n)).toThrow("map 'events': push: map is full (maxEntries 1); BPF_EXIST would drop the oldest (E2BIG)");
    expect(() => q.push(2n, 1)).toThrow("map 'events': push: invalid flags 1 (EINVAL)");
    q.push(3n, BPF_EXIST);
    expect(q.peek()).toEqual(new Uint8Array([3, 0, 0, 0, 0, 0, 0, 0]));
    q.clear();
    expect(q.pop()).toBeUndefined();
  });
});

describe('queue and stack as BpfMaps: the keyed commands answered as the kernel does', () => {
  it('lookup is peek and update is push, with the empty key; delete and iteration are EINVAL', () => {
    const vm = new Vm();
    const q = vm.createMap({ type: 'stack', keySize: 0, valueSize: 4, maxEntries: 2 });
    const none = new Uint8Array(0);
    q.update(none, 5);
    q.update(none, 6);
    expect(q.lookup(none)).toEqual(new Uint8Array([6, 0, 0, 0]));
    expect(errnoOf(() => q.update(none, 7))).toBe('E2BIG');
    expect(errnoOf(() => q.delete(none))).toBe('EINVAL');
    expect(errnoOf(() => [...q.keys()])).toBe('EINVAL');
    expect(() => q.lookup(1)).toThrow(/key must be 0 bytes/);
  });

  it('a program’s map_lookup_elem on a queue is refused by the verifier, as the kernel refuses it, and finds nothing (NULL) in checked code', () => {
    const vm = new Vm();
    const q = vm.createMap({ type: 'queue', keySize: 0, valueSize: 8, maxEntries: 2 });
    q.update(new Uint8Array(0), 1n);
    const src = 'mov %r2, %r10\nadd %r2, -8\nlddw %r1, map_by_idx(0)\ncall 1\njeq %r0, 0, none\nldxdw %r0, [%r0]\nexit\nnone:\nmov %r0, 7\nexit';
    for (const engine of ['interp', 'jit'] as const) {
      expect(() => vm.load(src, { engine, context: memory(0), maps: [q] })).toThrow(expect.objectContaining({ code: 'E_VERIFY_HELPER_ARG' }));
      expect(vm.load(src, { engine, unverified: true, maps: [q] }).run()).toBe(7n);
    }
  });
});
