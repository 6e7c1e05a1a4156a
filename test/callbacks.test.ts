// bpf_loop (181) and bpf_for_each_map_elem (164): callback subprograms passed with lddw code_addr,
// in every engine, with the kernel's return codes, and the verifier's callback rules.
import { beforeAll, describe, expect, it } from 'vitest';
import { Vm, memory, type LoadOptions } from '../src/index.js';
import { loadOptimizer } from '../src/jit/index.js';
import type { BpfMap } from '../src/maps/map.js';
import { conformanceHelpers } from '../src/conformance/test-helpers.js';
import { ENGINES } from './engines.js';

beforeAll(() => loadOptimizer());

const E2BIG = 7;
const EINVAL = 22;
const neg = (errno: number): bigint => BigInt.asUintN(64, BigInt(-errno));

/** bpf_loop(nr, cb, fp-8, flags) adding each index to the u64 at fp-8; stops after index `stopAt`. Returns count << 32 | sum. */
const loopProgram = (nr: string, flags = 0, stopAt = 5): string => `
stdw [%r10-8], 0
lddw %r1, ${nr}
lddw %r2, code_addr(cb)
mov %r3, %r10
add %r3, -8
mov %r4, ${flags}
call 181
ldxdw %r1, [%r10-8]
lsh %r0, 32
add %r0, %r1
exit
cb:
ldxdw %r3, [%r2]
add %r3, %r1
stxdw [%r2], %r3
mov %r0, 0
jlt %r1, ${stopAt}, out
mov %r0, 1
out:
exit`;

function load(text: string, opts: LoadOptions, maps: BpfMap[] = [], vm = new Vm()) {
  return vm.load(text, { ...opts, context: memory(0), maps });
}

describe.each(ENGINES)('bpf_loop: %s', (_name, opts) => {
  it('calls the callback with each index and its context until it returns 1', () => {
    expect(load(loopProgram('10'), opts).run()).toBe((6n << 32n) | 15n);
  });

  it('runs every iteration when the callback never stops, and none for nr_loops 0', () => {
    expect(load(loopProgram('10', 0, 100), opts).run()).toBe((10n << 32n) | 45n);
    expect(load(loopProgram('0'), opts).run()).toBe(0n);
    // nr_loops is a u32: the high half is ignored.
    expect(load(loopProgram('0x100000003', 0, 100), opts).run()).toBe((3n << 32n) | 3n);
  });

  it('answers -E2BIG for more than 1 << 23 loops and -EINVAL for flags, running nothing', () => {
    const high = (errno: number): bigint => BigInt.asUintN(64, neg(errno) << 32n);
    expect(load(loopProgram(String((1 << 23) + 1)), opts).run()).toBe(high(E2BIG));
    expect(load(loopProgram('10', 1), opts).run()).toBe(high(EINVAL));
  });

  it('ends the whole run with r0 = 0 when a helper in the callback unwinds', () => {
    // Helper 5 of the conformance suite returns its argument and unwinds when it is 0.
    const text = loopProgram('10', 0, 100).replace('cb:\n', 'cb:\nmov %r6, %r1\nmov %r7, %r2\nmov %r1, 3\nsub %r1, %r6\ncall 5\nmov %r1, %r6\nmov %r2, %r7\n');
    const vm = (): Vm => new Vm({ helpers: conformanceHelpers() });
    expect(vm().load(text, { ...opts, context: memory(0) }).run()).toBe(0n);
    expect(vm().load(text.replace('mov %r1, 3', 'mov %r1, 30'), { ...opts, context: memory(0) }).run()).toBe((10n << 32n) | 45n);
  });

  it('calls the callback the path chose, where two reach one call', () => {
    const text = `
ldxb %r6, [%r1]
lddw %r2, code_addr(go_on)
jeq %r6, 0, call
lddw %r2, code_addr(stop)
call:
mov %r1, 3
mov %r3, 0
mov %r4, 0
call 181
exit
go_on:
mov %r0, 0
exit
stop:
mov %r0, 1
exit`;
    const p = new Vm().load(text, { ...opts, context: memory(1) });
    expect(p.run(Uint8Array.of(0))).toBe(3n);
    expect(p.run(Uint8Array.of(1))).toBe(1n);
  });

  it('keeps r1-r5 and r6-r9 of the caller across the call', () => {
    const text = `
mov %r6, 7
mov %r1, 3
lddw %r2, code_addr(cb)
mov %r3, 0
mov %r4, 0
mov %r9, 11
call 181
add %r0, %r6
add %r0, %r9
exit
cb:
mov %r6, 100
mov %r9, 100
mov %r0, 0
exit`;
    expect(load(text, opts).run()).toBe(3n + 7n + 11n);
  });
});

/** Sums key * 1000 + value over the map with for_each; the callback deletes each element when `del` and stops after `stop` elements. */
const forEachProgram = (del: boolean, stop = 1000): string => `
stdw [%r10-8], 0
stdw [%r10-16], 0
lddw %r1, map_by_idx(0)
lddw %r2, code_addr(cb)
mov %r3, %r10
add %r3, -16
mov %r4, 0
call 164
ldxdw %r1, [%r10-16]
lsh %r0, 32
add %r0, %r1
exit
cb:
mov %r6, %r4
ldxw %r7, [%r2]
mul %r7, 1000
ldxdw %r8, [%r3]
add %r7, %r8
ldxdw %r8, [%r6]
add %r8, %r7
stxdw [%r6], %r8
ldxdw %r8, [%r6+8]
add %r8, 1
stxdw [%r6+8], %r8
${del ? 'call 3' : ''}
mov %r0, 0
jlt %r8, ${stop}, out
mov %r0, 1
out:
exit`;

describe.each(ENGINES)('for_each_map_elem: %s', (_name, opts) => {
  it('visits every element of an array with its index and value, and writes through the value', () => {
    const vm = new Vm();
    const arr = vm.createMap({ type: 'array', keySize: 4, valueSize: 8, maxEntries: 4 });
    [5, 6, 7, 8].forEach((v, i) => arr.update(i, v));
    const p = load(forEachProgram(false), opts, [arr], vm);
    expect(p.run()).toBe((4n << 32n) | BigInt(6000 + 26));
  });

  it('stops when the callback returns 1 and counts the elements visited', () => {
    const vm = new Vm();
    const arr = vm.createMap({ type: 'array', keySize: 4, valueSize: 8, maxEntries: 4 });
    [5, 6, 7, 8].forEach((v, i) => arr.update(i, v));
    expect(load(forEachProgram(false, 2), opts, [arr], vm).run()).toBe((2n << 32n) | BigInt(1000 + 11));
  });

  it('visits each element of a hash map once while the callback deletes them', () => {
    const vm = new Vm();
    const hash = vm.createMap({ type: 'hash', keySize: 4, valueSize: 8, maxEntries: 8 });
    for (const k of [3, 9, 4, 100, 7]) hash.update(k, k + 1);
    const p = load(forEachProgram(true), opts, [hash], vm);
    const sum = [3, 9, 4, 100, 7].reduce((s, k) => s + k * 1000 + k + 1, 0);
    expect(p.run()).toBe((5n << 32n) | BigInt(sum));
    expect([...hash.keys()]).toEqual([]);
    expect(p.run()).toBe(0n); // an empty map: no call, 0 visited
  });

  it('walks per-CPU and LRU hash maps too', () => {
    for (const type of ['percpu_hash', 'lru_hash', 'lru_percpu_hash'] as const) {
      const vm = new Vm({ cpus: 2 });
      const hash = vm.createMap({ type, keySize: 4, valueSize: 8, maxEntries: 4 });
      const perCpu = type !== 'lru_hash';
      hash.update(2, perCpu ? [10, 20] : 20);
      hash.update(5, perCpu ? [30, 40] : 40);
      expect(load(forEachProgram(false), opts, [hash], vm).run(undefined, 1)).toBe((2n << 32n) | BigInt(7000 + 60));
    }
  });

  it('gives a per-CPU array\'s callback the copy of the CPU it runs on', () => {
    const vm = new Vm({ cpus: 2 });
    const arr = vm.createMap({ type: 'percpu_array', keySize: 4, valueSize: 8, maxEntries: 2 });
    arr.update(0, [1, 2]);
    arr.update(1, [3, 4]);
    const p = load(forEachProgram(false), opts, [arr], vm);
    expect(p.run(undefined, 1)).toBe((2n << 32n) | BigInt(1000 + 6));
  });

  it('answers -EINVAL for flags', () => {
    const vm = new Vm();
    const arr = vm.createMap({ type: 'array', keySize: 4, valueSize: 8, maxEntries: 4 });
    const p = load(forEachProgram(false).replace('mov %r4, 0', 'mov %r4, 2'), opts, [arr], vm);
    expect(p.run()).toBe(BigInt.asUintN(64, neg(EINVAL) << 32n));
  });
});
