// Checked mode and BPF_F_RDONLY_PROG maps: an unverified program shares the Vm's memory with the
// verified ones, which may have been proven against a frozen read-only value as constants, so it may
// read such a value but neither store into it nor have a helper write into it.
import { beforeAll, describe, expect, it } from 'vitest';
import { BPF_F, Vm, createMap, memory, type BpfMap, type LoadOptions } from '../src/index.js';
import { loadOptimizer } from '../src/jit/index.js';
import { CHECKED, fault } from './engines.js';

beforeAll(() => loadOptimizer());

/** Checked mode in both engines and both JIT tiers. */
const CHECKED_TIERS: ReadonlyArray<[string, LoadOptions]> = [
  ...CHECKED,
  ['jit checked optimized', { engine: 'jit', tier: 'optimized', unverified: true }],
];

const VALUE = Uint8Array.from([1, 0, 0, 0, 23, 0, 0, 0]);
const EPERM = 2n ** 64n - 1n;

function config(vm: Vm, flags = BPF_F.RDONLY_PROG, type = 'array'): BpfMap {
  const map = vm.createMap({ type, keySize: 4, valueSize: 8, maxEntries: 1, flags, name: 'cfg' });
  map.update(0, VALUE);
  if (flags & BPF_F.RDONLY_PROG) map.freeze();
  return map;
}

const valueOf = (map: BpfMap): Uint8Array => map.lookup(0) as Uint8Array;

/** r1 = the value through map_value_by_idx; a load first, so the load works before the store faults. */
const direct = (store: string): string => `.map cfg array key 4 value 8 entries 1 flags 0x80
lddw %r1, map_value_by_idx(cfg, 0)
ldxw %r0, [%r1+4]
mov %r2, 9
${store}
exit`;
const STORE_PC = 4;

/** r1 = the value through map_lookup_elem's pointer. */
const lookedUp = (store: string, decl = 'array key 4 value 8 entries 1 flags 0x80'): string => `.map cfg ${decl}
stw [%r10-4], 0
mov %r2, %r10
add %r2, -4
lddw %r1, map_by_idx(cfg)
call 1
jeq %r0, 0, out
mov %r1, %r0
ldxw %r0, [%r1+4]
mov %r2, 9
${store}
out:
exit`;
const LOOKED_UP_STORE_PC = 10;

const STORES = ['stw [%r1], 7', 'stxdw [%r1], %r2', 'stxb [%r1+7], %r2', 'lock add [%r1], %r2', 'lock xchg [%r1], %r2'];

describe.each(CHECKED_TIERS)('%s: a BPF_F_RDONLY_PROG map value', (_name, opts) => {
  it.each(STORES)('faults on "%s" through map_value_by_idx, leaving the value as it was', (store) => {
    const vm = new Vm();
    const map = config(vm);
    const e = fault(() => vm.load(direct(store), { ...opts, context: memory(0), maps: { cfg: map } }).run());
    expect(e.code).toBe('E_RUN_MEMORY');
    expect(e.pc).toBe(STORE_PC);
    expect(valueOf(map)).toEqual(VALUE);
  });

  it.each(STORES)('faults on "%s" through a lookup\'s pointer', (store) => {
    const vm = new Vm();
    const map = config(vm);
    const e = fault(() => vm.load(lookedUp(store), { ...opts, context: memory(0), maps: { cfg: map } }).run());
    expect(e.code).toBe('E_RUN_MEMORY');
    expect(e.pc).toBe(LOOKED_UP_STORE_PC);
    expect(valueOf(map)).toEqual(VALUE);
  });

  it('is read by loads as it is', () => {
    const vm = new Vm();
    const map = config(vm);
    expect(vm.load(direct(''), { ...opts, context: memory(0), maps: { cfg: map } }).run()).toBe(23n);
    expect(vm.load(lookedUp(''), { ...opts, context: memory(0), maps: { cfg: map } }).run()).toBe(23n);
  });

  it('is writable when the map has no BPF_F_RDONLY_PROG', () => {
    const vm = new Vm();
    const map = config(vm, 0);
    const text = direct('stxb [%r1+7], %r2').replace(' flags 0x80', '');
    expect(vm.load(text, { ...opts, context: memory(0), maps: { cfg: map } }).run()).toBe(23n);
    expect(valueOf(map)[7]).toBe(9);
    expect(vm.load(lookedUp('stw [%r1], 7', 'array key 4 value 8 entries 1'), { ...opts, context: memory(0), maps: { cfg: map } }).run()).toBe(0x0900_0017n);
    expect(valueOf(map)[0]).toBe(7);
  });

  it('stays the constant a verified program was proven against after an unverified one tried to change it', () => {
    const vm = new Vm();
    const map = config(vm);
    // Verified: cfg.debug (1) turns off the branch that reads past the value, so it was never explored.
    const configured = `.map cfg array key 4 value 8 entries 1 flags 0x80
lddw %r1, map_value_by_idx(cfg, 0)
ldxw %r2, [%r1]
jne %r2, 0, on
ldxdw %r0, [%r1+16]
exit
on:
ldxw %r0, [%r1+4]
exit`;
    const verified = vm.load(configured, { engine: opts.engine, context: memory(0), maps: { cfg: map } });
    for (const store of [...STORES, 'stdw [%r1], 0']) {
      expect(fault(() => vm.load(direct(store), { ...opts, context: memory(0), maps: { cfg: map } }).run()).code).toBe('E_RUN_MEMORY');
    }
    expect(verified.run()).toBe(23n);
  });
});

/** Calls helper `id` with r1 = the read-only value and r2, r3 as given; r0 is the helper's answer. */
const helperInto = (id: number, r2: string, r3: string): string => `.map cfg array key 4 value 8 entries 1 flags 0x80
stdw [%r10-8], 0
stdw [%r10-16], 0
mov %r3, %r10
add %r3, -8
lddw %r1, map_value_by_idx(cfg, 0)
mov %r2, ${r2}
${r3}
call ${id}
exit`;

const FIVES = new Uint8Array(8).fill(5);

/** A hash map or a queue holding FIVES (at key 0 for the hash), and how to read it back. */
function holding(vm: Vm, type: 'hash' | 'queue', flags: number): { map: BpfMap; held: () => unknown } {
  if (type === 'hash') {
    const map = vm.createMap({ type, keySize: 8, valueSize: 8, maxEntries: 4, flags, name: 'm' });
    map.update(new Uint8Array(8), FIVES);
    return { map, held: () => map.lookup(new Uint8Array(8)) };
  }
  const queue = createMap(vm.mem, { type, keySize: 0, valueSize: 8, maxEntries: 4, flags, name: 'm' });
  queue.push(FIVES);
  return { map: queue, held: () => queue.peek() };
}

/** Calls map helper `id` on the read-only map with key and value at r10 - 8 (push: r3 = flags 0). */
const mapCall = (id: number, decl: string): string => `.map m ${decl} flags 0x80
stdw [%r10-8], 0
mov %r2, %r10
add %r2, -8
mov %r3, ${id === 87 ? '0' : '%r2'}
mov %r4, 0
lddw %r1, map_by_idx(m)
call ${id}
exit`;

describe.each(CHECKED_TIERS)('%s: helpers and BPF_F_RDONLY_PROG maps', (_name, opts) => {
  it.each([
    ['probe_read_kernel', helperInto(113, '8', ''), 7],
    ['probe_read_kernel_str', helperInto(115, '8', ''), 7],
    ['get_current_comm', helperInto(16, '8', ''), 7],
    ['snprintf', helperInto(165, '8', 'mov %r4, 0\nmov %r5, 0'), 9],
  ])('%s into the value faults, leaving it as it was', (_helper, text, pc) => {
    const vm = new Vm();
    const map = config(vm);
    const e = fault(() => vm.load(text, { ...opts, context: memory(0), maps: { cfg: map } }).run());
    expect(e.code).toBe('E_RUN_MEMORY');
    expect(e.pc).toBe(pc);
    expect(e.message).toMatch(/read-only/);
    expect(valueOf(map)).toEqual(VALUE);
  });

  it('probe_read_kernel into a writable value still works', () => {
    const vm = new Vm();
    const map = config(vm, 0);
    const text = helperInto(113, '8', '').replace(' flags 0x80', '');
    expect(vm.load(text, { ...opts, context: memory(0), maps: { cfg: map } }).run()).toBe(0n);
    expect(valueOf(map)).toEqual(new Uint8Array(8));
  });

  it.each([
    ['map_update_elem', 2, 'hash'],
    ['map_delete_elem', 3, 'hash'],
    ['map_push_elem', 87, 'queue'],
    ['map_pop_elem', 88, 'queue'],
  ] as const)('%s on the map answers -EPERM and changes nothing', (_helper, id, type) => {
    const vm = new Vm();
    const decl = type === 'hash' ? 'hash key 8 value 8 entries 4' : 'queue key 0 value 8 entries 4';
    const { map, held } = holding(vm, type, BPF_F.RDONLY_PROG);
    expect(vm.load(mapCall(id, decl), { ...opts, context: memory(0), maps: { m: map } }).run()).toBe(EPERM);
    expect(held()).toEqual(FIVES);
    // Without the flag the same call succeeds.
    const open = holding(vm, type, 0).map;
    expect(vm.load(mapCall(id, decl).replace(' flags 0x80', ''), { ...opts, context: memory(0), maps: { m: open } }).run()).toBe(0n);
  });
});
