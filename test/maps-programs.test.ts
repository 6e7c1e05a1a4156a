// Programs that use maps, in every engine: lddw of a map, the kernel's map helpers (1-3), the
// verifier's map rules, checked mode's faults, and the JIT's direct calls of the map operations.
import { beforeAll, describe, expect, it } from 'vitest';
import { Vm, memory, type LoadOptions, type LoadedProgram } from '../src/index.js';
import { InputError } from '../src/errors.js';
import { VerifyError } from '../src/verifier/refusal.js';
import { jitToWat, loadOptimizer } from '../src/jit/index.js';
import { buildProgram } from '../src/program/program.js';
import { assemble } from '../src/asm/index.js';
import type { BpfMap } from '../src/maps/map.js';
import { BPF_NOEXIST } from '../src/maps/types.js';
import { CHECKED, ENGINES, fault } from './engines.js';

beforeAll(() => loadOptimizer());

/** r2 = pointer to a u32 key written at r10-4. */
const keyAt = (key: number): string => `stw [%r10-4], ${key}\nmov %r2, %r10\nadd %r2, -4`;

/** counts[2] += hash[7] (or += 1 when 7 is absent); returns the new count. */
const COUNT = `
${keyAt(7)}
lddw %r1, map_by_idx(1)
call 1
mov %r6, 1
jeq %r0, 0, count
ldxdw %r6, [%r0]
count:
${keyAt(2)}
lddw %r1, map_by_idx(0)
call 1
jeq %r0, 0, out
ldxdw %r1, [%r0]
add %r1, %r6
stxdw [%r0], %r1
mov %r0, %r1
exit
out:
mov %r0, 99
exit`;

function setup(opts: LoadOptions, vm = new Vm()): { vm: Vm; counts: BpfMap; table: BpfMap; p: LoadedProgram } {
  const counts = vm.createMap({ type: 'array', keySize: 4, valueSize: 8, maxEntries: 4, name: 'counts' });
  const table = vm.createMap({ type: 'hash', keySize: 4, valueSize: 8, maxEntries: 8, name: 'table' });
  const p = vm.load(COUNT, { ...opts, context: memory(0), maps: [counts, table] });
  return { vm, counts, table, p };
}

describe.each(ENGINES)('maps in programs: %s', (_name, opts) => {
  it('reads and writes map values the host sees, and sees what the host writes', () => {
    const { counts, table, p } = setup(opts);
    expect(p.run()).toBe(1n);
    expect(p.run()).toBe(2n);
    table.update(7, 40);
    expect(p.run()).toBe(42n);
    expect(counts.lookupNumber(2)).toBe(42);
    expect(counts.lookupNumber(0)).toBe(0);
  });

  it('updates and deletes with the kernel\'s flags and return codes', () => {
    const vm = new Vm();
    const table = vm.createMap({ type: 'hash', keySize: 4, valueSize: 8, maxEntries: 1, name: 'table' });
    // r0 = update(table, key 5, value r10-16 = 9, flags r4); the result as a signed number.
    const update = (key: number, flags: number): string => `${keyAt(key)}\nstdw [%r10-16], 9\nmov %r3, %r10\nadd %r3, -16\nmov %r4, ${flags}\nlddw %r1, map_by_idx(0)\ncall 2\nexit`;
    const run = (src: string): bigint => BigInt.asIntN(64, vm.load(src, { ...opts, context: memory(0), maps: [table] }).run());
    expect(run(update(5, 0))).toBe(0n);
    expect(table.lookupNumber(5)).toBe(9);
    expect(run(update(5, BPF_NOEXIST))).toBe(-17n); // EEXIST
    expect(run(update(6, 0))).toBe(-7n); // E2BIG: the map is full
    expect(run(update(6, 3))).toBe(-22n); // EINVAL
    expect(run(`${keyAt(6)}\nlddw %r1, map_by_idx(0)\ncall 3\nexit`)).toBe(-2n); // ENOENT
    expect(run(`${keyAt(5)}\nlddw %r1, map_by_idx(0)\ncall 3\nexit`)).toBe(0n);
    expect(table.lookup(5)).toBeUndefined();
  });

  it('gives each CPU its own slot of a per-CPU array', () => {
    const vm = new Vm({ cpus: 2 });
    const perCpu = vm.createMap({ type: 'percpu_array', keySize: 4, valueSize: 8, maxEntries: 2, name: 'percpu' });
    const src = `${keyAt(1)}\nlddw %r1, map_by_idx(0)\ncall 1\njeq %r0, 0, out\nldxdw %r1, [%r0]\nadd %r1, 1\nstxdw [%r0], %r1\nout:\nmov %r0, 0\nexit`;
    const p = vm.load(src, { ...opts, context: memory(0), maps: [perCpu] });
    p.run(new Uint8Array(0), 1);
    p.run(new Uint8Array(0), 1);
    p.run(new Uint8Array(0), 0);
    expect((perCpu.lookup(1) as Uint8Array[]).map((v) => new DataView(v.buffer, v.byteOffset).getBigUint64(0, true))).toEqual([1n, 2n]);
  });

  it('counts a program\'s lookup as a use of an LRU map\'s key', () => {
    const vm = new Vm();
    const lru = vm.createMap({ type: 'lru_hash', keySize: 4, valueSize: 8, maxEntries: 2, name: 'lru' });
    lru.update(1, 10);
    lru.update(2, 20);
    vm.load(`${keyAt(1)}\nlddw %r1, map_by_idx(0)\ncall 1\nmov %r0, 0\nexit`, { ...opts, context: memory(0), maps: [lru] }).run();
    lru.update(3, 30); // evicts 2, the least recently used since the program looked 1 up
    expect([...lru.keys()].map((k) => new DataView(k.buffer, k.byteOffset).getUint32(0, true)).sort()).toEqual([1, 3]);
  });
});

describe('maps in checked programs', () => {
  it.each(CHECKED)('%s: a key pointer outside the run\'s regions faults at the call', (_name, opts) => {
    const vm = new Vm();
    const table = vm.createMap({ type: 'hash', keySize: 4, valueSize: 8, maxEntries: 1 });
    const p = vm.load('lddw %r1, map_by_idx(0)\nmov %r2, 0x10000\ncall 1\nexit', { ...opts, maps: [table] });
    expect(fault(() => p.run())).toMatchObject({ code: 'E_RUN_MEMORY', pc: 3 });
  });

  it.each(CHECKED)('%s: a map helper takes only the program\'s own maps', (_name, opts) => {
    const vm = new Vm();
    const mine = vm.createMap({ type: 'hash', keySize: 4, valueSize: 8, maxEntries: 1 });
    const other = vm.createMap({ type: 'hash', keySize: 4, valueSize: 8, maxEntries: 1 });
    const p = vm.load(`${keyAt(0)}\nlddw %r1, ${other.address}\ncall 1\nexit`, { ...opts, maps: [mine] });
    expect(fault(() => p.run())).toMatchObject({ code: 'E_RUN_MEMORY', pc: 5 });
  });

  it.each(CHECKED)('%s: may touch a looked-up value, and faults past the map\'s values', (_name, opts) => {
    const vm = new Vm();
    const counts = vm.createMap({ type: 'array', keySize: 4, valueSize: 8, maxEntries: 4 });
    const read = (off: number): LoadedProgram =>
      vm.load(`${keyAt(3)}\nlddw %r1, map_by_idx(0)\ncall 1\nldxdw %r0, [%r0${off >= 0 ? '+' : ''}${off}]\nexit`, { ...opts, maps: [counts] });
    counts.update(3, 77);
    expect(read(0).run()).toBe(77n);
    expect(fault(() => read(64).run())).toMatchObject({ code: 'E_RUN_MEMORY', pc: 6 });
  });
});

describe('the verifier and maps', () => {
  const refusal = (vm: Vm, src: string, maps: BpfMap[]): VerifyError => {
    try {
      vm.load(src, { context: memory(0), maps });
    } catch (e) {
      expect(e).toBeInstanceOf(VerifyError);
      return e as VerifyError;
    }
    throw new Error('expected a refusal');
  };

  it('refuses a value used without a null check, a key it cannot read and a value read past its end', () => {
    const vm = new Vm();
    const table = vm.createMap({ type: 'hash', keySize: 8, valueSize: 8, maxEntries: 4 });
    const load = (src: string): void => {
      vm.load(src, { context: memory(0), maps: [table] });
    };
    expect(() => load(`stdw [%r10-8], 1\nmov %r2, %r10\nadd %r2, -8\nlddw %r1, map_by_idx(0)\ncall 1\nldxdw %r0, [%r0]\nexit`))
      .toThrow(expect.objectContaining({ code: 'E_VERIFY_NULL_DEREF' }));
    expect(() => load(`stw [%r10-8], 1\nmov %r2, %r10\nadd %r2, -8\nlddw %r1, map_by_idx(0)\ncall 1\nmov %r0, 0\nexit`)) // 4 of the key's 8 bytes
      .toThrow(expect.objectContaining({ code: 'E_VERIFY_UNINIT_STACK' }));
    expect(() => load(`${keyAt(1)}\nlddw %r1, map_by_idx(0)\ncall 1\nmov %r0, 0\nexit`)) // an 8-byte key from fp-4
      .toThrow(expect.objectContaining({ code: 'E_VERIFY_STACK_BOUNDS' }));
    expect(() => load(`stdw [%r10-8], 1\nmov %r2, %r10\nadd %r2, -8\nlddw %r1, map_by_idx(0)\ncall 1\njeq %r0, 0, out\nldxdw %r0, [%r0+4]\nout:\nexit`))
      .toThrow(VerifyError);
  });

  it('refuses a direct value address of any map but an array of one entry, and a map index it was not given', () => {
    const vm = new Vm();
    const one = vm.createMap({ type: 'array', keySize: 4, valueSize: 8, maxEntries: 1 });
    const two = vm.createMap({ type: 'array', keySize: 4, valueSize: 8, maxEntries: 2 });
    expect(vm.load('lddw %r1, map_value_by_idx(0, 4)\nldxw %r0, [%r1]\nexit', { context: memory(0), maps: [one] }).run()).toBe(0n);
    expect(refusal(vm, 'lddw %r1, map_value_by_idx(0, 4)\nldxw %r0, [%r1]\nexit', [two]).code).toBe('E_VERIFY_MAP');
    expect(refusal(vm, 'lddw %r1, map_by_idx(1)\nmov %r0, 0\nexit', [two]).code).toBe('E_VERIFY_MAP');
  });
});

describe('binding maps at load', () => {
  const declared = [{ type: 'hash', keySize: 4, valueSize: 8, maxEntries: 8, name: 'table' }, { type: 'array', keySize: 4, valueSize: 8, maxEntries: 4, name: 'counts' }] as const;
  const program = () => buildProgram(assemble(COUNT, 'ubpf'), { maps: [declared[1], declared[0]] });

  it('creates the maps a program declares, or takes the host\'s by name or position', () => {
    const vm = new Vm();
    const p = vm.load(program(), { context: memory(0) });
    expect(p.maps.map((m) => m.name)).toEqual(['counts', 'table']);
    p.run();
    expect(p.map('counts').lookupNumber(2)).toBe(1);
    const table = vm.createMap(declared[0]);
    table.update(7, 5);
    const q = vm.load(program(), { context: memory(0), maps: { table } });
    expect(q.map('table')).toBe(table);
    expect(q.run()).toBe(5n);
    expect(() => p.map('nope')).toThrow(InputError);
  });

  it('refuses a host map that does not match the declaration, lives in another Vm or has no declaration', () => {
    const vm = new Vm();
    const small = vm.createMap({ ...declared[0], maxEntries: 4 });
    expect(() => vm.load(program(), { context: memory(0), maps: { table: small } })).toThrow(/maxEntries 4, the program declares 8/);
    const elsewhere = new Vm().createMap(declared[0]);
    expect(() => vm.load(program(), { context: memory(0), maps: { table: elsewhere } })).toThrow(/another engine memory/);
    expect(() => vm.load(program(), { context: memory(0), maps: { tabel: small } })).toThrow(/no map named 'tabel'/);
  });
});

describe('the JIT and the map helpers', () => {
  it('runs a verified program\'s map calls inside WebAssembly: no JavaScript import', () => {
    const { vm, counts, table, p } = setup({ engine: 'jit', tier: 'baseline' });
    const wat = jitToWat(p.program, vm.runtime, { facts: p.verification!.facts, maps: [counts, table], tier: 'baseline' });
    expect(wat).toContain('(import "maps" "hash_lookup"');
    expect(wat).not.toContain('(import "env" "helper"');
    expect(wat).not.toContain('array_lookup'); // inlined
  });

  it('calls a host helper registered in place of a map helper, not the map operation', () => {
    const vm = new Vm({ helpers: [{ id: 1, name: 'mine', impl: () => 0n, proto: { args: ['map', 'map_key'], ret: 'map_value_or_null' } }] });
    const { p } = setup({ engine: 'jit', tier: 'baseline' }, vm);
    expect(p.run()).toBe(99n);
  });

  // Stores nobody reads cost a register across the event loop: with one fewer, V8 kept latency-hist's
  // event pointer on its stack, and the loop ran at 4.9 or 10 ns per event by turns (bench/README.md).
  it('sets no run-wide globals per event when no JavaScript helper can read them', () => {
    const drive = (vm: Vm, p: LoadedProgram, maps: BpfMap[]): string => {
      const wat = jitToWat(p.program, vm.runtime, { ...(p.verification ? { facts: p.verification.facts } : {}), maps, tier: 'baseline' });
      return wat.slice(wat.indexOf('(func $drive'), wat.indexOf('(func ', wat.indexOf('(func $drive') + 1));
    };
    const direct = setup({ engine: 'jit', tier: 'baseline' });
    const loop = drive(direct.vm, direct.p, [direct.counts, direct.table]);
    expect(loop).toContain('(loop');
    for (const g of ['ctx_start', 'unwinding', 'stack_start', 'ctx_len']) expect(loop).not.toContain(`global.set $${g}`);
    // A helper called through JavaScript reads them (its environment's regions, nested runs).
    const vm = new Vm({ helpers: [{ id: 1, name: 'mine', impl: () => 0n, proto: { args: ['map', 'map_key'], ret: 'map_value_or_null' } }] });
    const host = setup({ engine: 'jit', tier: 'baseline' }, vm);
    const hostLoop = drive(vm, host.p, [host.counts, host.table]);
    for (const g of ['ctx_start', 'unwinding', 'stack_start', 'ctx_len']) expect(hostLoop).toContain(`global.set $${g}`);
  });
});
