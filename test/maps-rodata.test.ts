// Read-only maps (libbpf's `.rodata`, `const volatile` configuration): BPF_F.RDONLY_PROG and
// BPF_F.WRONLY_PROG, freeze(), and the verifier reading a frozen read-only map's value as constants.
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { BPF_F, MapError, Vm, createMap, memory, type BpfMap, type LoadOptions } from '../src/index.js';
import { InputError } from '../src/errors.js';
import { loadOptimizer } from '../src/jit/index.js';
import { VerifyError } from '../src/verifier/refusal.js';
import { ENGINES } from './engines.js';

beforeAll(() => loadOptimizer());

const RDONLY = BPF_F.RDONLY_PROG;
const WRONLY = BPF_F.WRONLY_PROG;

/**
 * `if (cfg->debug == 0) return *(u64 *)(value + 16)`, outside the 8-byte value: a branch that fails
 * verification unless the configuration rules it out; else returns 100 + cfg->scale.
 */
const CONFIGURED = `.map rodata array key 4 value 8 entries 1 flags 0x80
lddw %r1, map_value_by_idx(rodata, 0)
ldxw %r2, [%r1]
jne %r2, 0, on
ldxdw %r0, [%r1+16]
exit
on:
ldxw %r0, [%r1+4]
add %r0, 100
exit`;
const BAD_PC = 4; // the lddw takes two slots

function rodata(vm: Vm, debug: number, scale: number, flags = RDONLY): BpfMap {
  const map = vm.createMap({ type: 'array', keySize: 4, valueSize: 8, maxEntries: 1, flags, name: 'rodata' });
  const value = new Uint8Array(8);
  new DataView(value.buffer).setUint32(0, debug, true);
  new DataView(value.buffer).setUint32(4, scale, true);
  map.update(0, value);
  return map;
}

function refusal(load: () => unknown): VerifyError {
  try {
    load();
  } catch (e) {
    expect(e).toBeInstanceOf(VerifyError);
    return e as VerifyError;
  }
  throw new Error('expected the verifier to refuse the program');
}

describe('a frozen BPF_F_RDONLY_PROG map is constant to the verifier', () => {
  it('prunes the branch its value turns off, and refuses it when the value turns it on', () => {
    const vm = new Vm();
    const on = rodata(vm, 1, 5);
    on.freeze();
    expect(() => vm.load(CONFIGURED, { context: memory(0), maps: { rodata: on } })).not.toThrow();
    const off = rodata(vm, 0, 5);
    off.freeze();
    const e = refusal(() => vm.load(CONFIGURED, { context: memory(0), maps: { rodata: off } }));
    expect(e.code).toBe('E_VERIFY_MEM_ACCESS');
    expect(e.pc).toBe(BAD_PC);
  });

  it('is not constant before it is frozen, nor frozen without BPF_F_RDONLY_PROG', () => {
    const vm = new Vm();
    const open = rodata(vm, 1, 5);
    expect(refusal(() => vm.load(CONFIGURED, { context: memory(0), maps: { rodata: open } })).pc).toBe(BAD_PC);
    const writable = rodata(vm, 1, 5, 0);
    writable.freeze();
    const text = CONFIGURED.replace(' flags 0x80', '');
    expect(refusal(() => vm.load(text, { context: memory(0), maps: { rodata: writable } })).pc).toBe(BAD_PC);
    // A map the loader creates for the declaration is new, so never frozen.
    expect(refusal(() => vm.load(CONFIGURED, { context: memory(0) })).pc).toBe(BAD_PC);
  });

  it('is constant through a pointer map_lookup_elem returns too', () => {
    const vm = new Vm();
    const map = rodata(vm, 1, 5);
    map.freeze();
    const text = `.map rodata array key 4 value 8 entries 1 flags 0x80
stw [%r10-4], 0
mov %r2, %r10
add %r2, -4
lddw %r1, map_by_idx(rodata)
call 1
jeq %r0, 0, out
ldxw %r2, [%r0]
jne %r2, 0, out
ldxdw %r0, [%r0+16]
exit
out:
mov %r0, 0
exit`;
    expect(vm.load(text, { context: memory(0), maps: { rodata: map } }).run()).toBe(0n);
  });

  it.each(ENGINES)('%s: runs the accepted program with the map\'s values', (_name, opts: LoadOptions) => {
    const vm = new Vm();
    const map = rodata(vm, 1, 23);
    map.freeze();
    expect(vm.load(CONFIGURED, { ...opts, context: memory(0), maps: { rodata: map } }).run()).toBe(123n);
  });

  it('reads 1, 2, 4 and 8 bytes at any offset, zero- or sign-extended, as the bytes say', () => {
    const sizes = [[1, 'getUint8', 'getInt8'], [2, 'getUint16', 'getInt16'], [4, 'getUint32', 'getInt32'], [8, 'getBigUint64', 'getBigInt64']] as const;
    const vm = new Vm();
    fc.assert(fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), fc.constantFrom(...sizes), fc.nat(15), fc.boolean(), (bytes, [size, getU, getS], at, signed) => {
      const off = at - (at % size);
      const view = new DataView(bytes.buffer);
      const want = BigInt.asUintN(64, BigInt(signed ? view[getS](off, true) : view[getU](off, true)));
      const map = vm.createMap({ type: 'array', keySize: 4, valueSize: 16, maxEntries: 1, flags: RDONLY, name: 'rodata' });
      map.update(0, bytes);
      map.freeze();
      // Only the exact constant skips the out-of-bounds load; llvm syntax for the sign-extending loads.
      const load = `r2 = *(${signed && size < 8 ? 's' : 'u'}${size * 8} *)(r1 + ${off})`;
      const text = `.map rodata array key 4 value 16 entries 1 flags 0x80
r1 = map_value_by_idx(rodata, 0) ll
${load}
r3 = ${want} ll
r0 = 0
if r2 == r3 goto +1
r0 = *(u64 *)(r1 + 16)
exit`;
      expect(vm.load(text, { context: memory(0), maps: { rodata: map } }).run()).toBe(0n);
    }), { numRuns: 60 });
  });
});

describe('what programs may do with BPF_F_RDONLY_PROG and BPF_F_WRONLY_PROG maps', () => {
  const ro = (body: string, flags = '0x80'): string => `.map cfg array key 4 value 8 entries 1 flags ${flags}
lddw %r1, map_value_by_idx(cfg, 0)
${body}
mov %r0, 0
exit`;

  it.each([
    ['a store', ro('stw [%r1], 1'), 2],
    ['a register store', ro('mov %r2, 1\nstxdw [%r1], %r2'), 3],
    ['an atomic add', ro('mov %r2, 1\nlock add [%r1], %r2'), 3],
    ['a load from a write-only map', ro('ldxw %r2, [%r1]', '0x100'), 2],
  ])('refuses %s', (_what, text, pc) => {
    const e = refusal(() => new Vm().load(text, { context: memory(0) }));
    expect(e.code).toBe('E_VERIFY_MEM_ACCESS');
    expect(e.pc).toBe(pc);
    expect(e.message).toMatch(/only to programs/);
  });

  it('allows loads from a read-only map and stores to a write-only one', () => {
    expect(new Vm().load(ro('ldxw %r2, [%r1]'), { context: memory(0) }).run()).toBe(0n);
    expect(new Vm().load(ro('stw [%r1], 1', '0x100'), { context: memory(0) }).run()).toBe(0n);
  });

  it.each([['map_update_elem', 2], ['map_delete_elem', 3]])('refuses %s on a read-only map', (_name, id) => {
    const text = `.map cfg hash key 4 value 8 entries 4 flags 0x80
stdw [%r10-8], 0
mov %r2, %r10
add %r2, -8
mov %r3, %r2
mov %r4, 0
lddw %r1, map_by_idx(cfg)
call ${id}
exit`;
    const e = refusal(() => new Vm().load(text, { context: memory(0) }));
    expect(e.code).toBe('E_VERIFY_HELPER_ARG');
    expect(e.pc).toBe(7);
    // The same program on a map without the flag is fine.
    expect(() => new Vm().load(text.replace(' flags 0x80', ''), { context: memory(0) })).not.toThrow();
  });

  it('refuses a push onto a read-only queue', () => {
    const text = `.map q queue key 0 value 8 entries 4 flags 0x80
stdw [%r10-8], 0
mov %r2, %r10
add %r2, -8
mov %r3, 0
lddw %r1, map_by_idx(q)
call 87
exit`;
    expect(refusal(() => new Vm().load(text, { context: memory(0) })).pc).toBe(6);
  });
});

describe('freeze() and the access flags on the host side', () => {
  it('refuses every host write after freeze with EPERM, and a second freeze with EBUSY', () => {
    const vm = new Vm();
    const map = rodata(vm, 1, 2);
    const hash = vm.createMap({ type: 'hash', keySize: 4, valueSize: 4, maxEntries: 4 });
    const queue = createMap(vm.runtime.mem, { type: 'queue', keySize: 0, valueSize: 4, maxEntries: 4 });
    hash.update(1, 1);
    queue.push(new Uint8Array(4));
    expect(map.frozen).toBe(false);
    for (const m of [map, hash, queue]) m.freeze();
    expect(map.frozen).toBe(true);
    const writes: Array<() => unknown> = [
      () => map.update(0, new Uint8Array(8)), () => map.clear(), () => map.updateBatch([0], [new Uint8Array(8)]),
      () => hash.update(2, 2), () => hash.delete(1), () => hash.deleteBatch([1]), () => hash.lookupAndDeleteBatch(4),
      () => queue.push(new Uint8Array(4)), () => queue.pop(),
    ];
    for (const write of writes) {
      expect(write).toThrow(MapError);
      try { write(); } catch (e) { expect((e as MapError).errno).toBe('EPERM'); }
    }
    expect(map.lookup(0)!.slice(0, 4)).toEqual(new Uint8Array([1, 0, 0, 0]));
    expect(hash.lookupNumber(1)).toBe(1);
    expect(queue.peek()).toEqual(new Uint8Array(4));
    try { map.freeze(); expect.fail('froze twice'); } catch (e) { expect((e as MapError).errno).toBe('EBUSY'); }
  });

  it('a program still writes a frozen map it may write', () => {
    const vm = new Vm();
    const map = vm.createMap({ type: 'array', keySize: 4, valueSize: 8, maxEntries: 1, name: 'cfg' });
    map.freeze();
    vm.load('.map cfg array key 4 value 8 entries 1\nlddw %r1, map_value_by_idx(cfg, 0)\nstw [%r1], 9\nmov %r0, 0\nexit', { context: memory(0), maps: { cfg: map } }).run();
    expect(map.lookupNumber(0)).toBe(9);
  });

  it('takes the flags on the types the kernel takes them on', () => {
    const vm = new Vm();
    for (const type of ['array', 'percpu_array', 'hash', 'lru_hash', 'percpu_hash', 'queue', 'stack', 'bloom_filter'] as const) {
      const keySize = type === 'queue' || type === 'stack' || type === 'bloom_filter' ? 0 : 4;
      for (const flags of [RDONLY, WRONLY]) expect(vm.createMap({ type, keySize, valueSize: 4, maxEntries: 2, flags }).flags).toBe(flags);
    }
    expect(vm.createMap({ type: 'lpm_trie', keySize: 8, valueSize: 4, maxEntries: 2, flags: RDONLY | BPF_F.NO_PREALLOC }).flags).toBe(RDONLY | 1);
    expect(() => vm.createMap({ type: 'array', keySize: 4, valueSize: 4, maxEntries: 1, flags: RDONLY | WRONLY })).toThrow(InputError);
    expect(() => vm.createMap({ type: 'ringbuf', keySize: 0, valueSize: 0, maxEntries: 4096, flags: RDONLY })).toThrow(InputError);
    expect(() => vm.createMap({ type: 'prog_array', keySize: 4, valueSize: 4, maxEntries: 2, flags: RDONLY })).toThrow(/flags 0x80/);
    expect(() => vm.createMap({ type: 'perf_event_array', keySize: 4, valueSize: 4, maxEntries: 1, flags: WRONLY })).toThrow(InputError);
  });
});
