// Tail calls (bpf_tail_call through a prog_array) in every engine: chains at and over the kernel's
// limit of 33, out of range and empty slots, slots changed between runs, batches, programs of
// different engines in one chain, and the host API's refusals.
import { beforeAll, describe, expect, it } from 'vitest';
import { Vm, memory, type LoadOptions, type LoadedProgram, type ProgArray } from '../src/index.js';
import { InputError, MapError } from '../src/errors.js';
import { jitToWat, loadOptimizer } from '../src/jit/index.js';
import { CHECKED, ENGINES, fault } from './engines.js';

beforeAll(() => loadOptimizer());

const CTX = memory(8);
const u64 = (n: bigint | number): Uint8Array => {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, BigInt(n), true);
  return out;
};

/** ctx += 1, then tail_call(ctx, map 0, index); falls through to return the count in the context. */
const step = (index: number | string = 0): string => `ldxdw %r6, [%r1]
add %r6, 1
stxdw [%r1], %r6
lddw %r2, map_by_idx(0)
${typeof index === 'number' ? `mov %r3, ${index}` : index}
call 12
mov %r0, %r6
exit`;

/** bpf_loop(3, cb, ctx, 0) whose callback tail calls through slot 1 (the context is the loop's). */
const LOOP_TAIL = `mov %r6, %r1
mov %r1, 3
lddw %r2, code_addr(cb)
mov %r3, %r6
mov %r4, 0
call 181
mov %r0, 1
exit
cb:
mov %r1, %r2
lddw %r2, map_by_idx(0)
mov %r3, 1
call 12
mov %r0, 1
exit`;

/** Returns a constant (a chain's last program). */
const ret = (n: number): string => `mov %r0, ${n}\nexit`;

function setup(opts: LoadOptions, entries = 4): { vm: Vm; progs: ProgArray; load: (src: string, o?: LoadOptions) => LoadedProgram } {
  const vm = new Vm();
  const progs = vm.createMap({ type: 'prog_array', keySize: 4, valueSize: 4, maxEntries: entries, name: 'progs' });
  return { vm, progs, load: (src, o = opts) => vm.load(src, { ...o, context: CTX, maps: [progs] }) };
}

describe.each(ENGINES)('tail calls: %s', (_name, opts) => {
  it('makes at most 33 tail calls per run: the 34th falls through, and the count starts over each run', () => {
    const { progs, load } = setup(opts);
    const p = load(step());
    expect(p.run(u64(0))).toBe(1n); // slot 0 empty: the call falls through
    progs.set(0, p);
    expect(p.run(u64(0))).toBe(34n); // the first run and 33 tail calls
    expect(p.run(u64(100))).toBe(134n);
  });

  it('counts a try on an empty slot, as the kernel does', () => {
    const { progs, load } = setup(opts);
    // Each program tries the empty slot 1, then slot 0: two tries per program, so 17 programs run.
    const p = load(`mov %r7, %r1
ldxdw %r6, [%r1]
add %r6, 1
stxdw [%r1], %r6
lddw %r2, map_by_idx(0)
mov %r3, 1
call 12
mov %r1, %r7
lddw %r2, map_by_idx(0)
mov %r3, 0
call 12
mov %r0, %r6
exit`);
    progs.set(0, p);
    expect(p.run(u64(0))).toBe(17n);
  });

  it('falls through for an index past max_entries, and takes the index as a u32', () => {
    const { progs, load } = setup(opts);
    progs.set(0, load(ret(7)));
    expect(load(step(4)).run(u64(0))).toBe(1n);
    expect(load(step('lddw %r3, 0xffffffff')).run(u64(0))).toBe(1n);
    expect(load(step('lddw %r3, 0x100000000')).run(u64(0))).toBe(7n); // the low 32 bits: index 0
  });

  it('runs what the slot holds now: set, replaced, deleted, cleared', () => {
    const { progs, load } = setup(opts);
    const p = load(step(2));
    progs.set(2, load(ret(10)));
    expect(p.run(u64(0))).toBe(10n);
    progs.update(2, load(ret(20)));
    expect(p.run(u64(0))).toBe(20n);
    progs.delete(2);
    expect(p.run(u64(0))).toBe(1n);
    progs.set(2, load(ret(30)));
    expect(p.run(u64(0))).toBe(30n);
    progs.clear();
    expect(p.run(u64(0))).toBe(1n);
    expect(progs.get(2)).toBeUndefined();
  });

  it('gives the next program the same context and a fresh stack frame', () => {
    const { progs, load } = setup(opts);
    // The caller leaves 0x55 on its stack; the target reads its context, which the caller changed.
    const target = load('ldxdw %r0, [%r1]\nmul %r0, 10\nexit');
    progs.set(0, target);
    const p = load(`stdw [%r10-8], 0x55\n${step(0)}`);
    expect(p.run(u64(4))).toBe(50n);
    expect(p.runU32(u64(4))).toBe(50);
  });

  it('runs batches: each event\'s chain ends in its own result', () => {
    const { vm, progs, load } = setup(opts);
    progs.set(0, load('ldxdw %r0, [%r1]\nmul %r0, 10\nexit'));
    // Odd values tail call; even ones return themselves.
    const p = load(`ldxdw %r6, [%r1]\nmov %r0, %r6\nand %r0, 1\njeq %r0, 0, out\nlddw %r2, map_by_idx(0)\nmov %r3, 0\ncall 12\nout:\nmov %r0, %r6\nexit`);
    const values = [1, 2, 3, 4, 5, 7];
    const base = vm.mem.alloc(8 * values.length, 8);
    const results = vm.mem.alloc(8 * values.length, 8);
    values.forEach((v, i) => vm.mem.view.setBigUint64(base + 8 * i, BigInt(v), true));
    p.exe.runBatch(base, 8, 8, values.length, results);
    const got = values.map((_, i) => vm.mem.view.getBigUint64(results + 8 * i, true));
    expect(got).toEqual([10n, 2n, 30n, 4n, 50n, 70n]);
  });

  it('carries the count across engines: 33 tail calls in all, alternating with the interpreter', () => {
    const { progs, load } = setup(opts);
    const mine = load(step(1));
    progs.set(0, mine);
    progs.set(1, load(step(0), { engine: 'interp' }));
    expect(mine.run(u64(0))).toBe(34n);
  });

  it('chains programs of every engine', () => {
    for (const [, other] of ENGINES) {
      const { progs, load } = setup(opts);
      progs.set(0, load('ldxdw %r0, [%r1]\nadd %r0, 1000\nexit', other));
      expect(load(step(0)).run(u64(1))).toBe(1002n);
    }
  });
});

describe.each(CHECKED)('tail calls in checked mode: %s', (_name, opts) => {
  it('leaves r0 = -ENOENT when the call fails', () => {
    const { load } = setup(opts);
    expect(load('lddw %r2, map_by_idx(0)\nmov %r3, 9\ncall 12\nexit').run(u64(0))).toBe(2n ** 64n - 2n);
  });

  it('ends the whole run from a subprogram', () => {
    const { progs, load } = setup(opts);
    progs.set(1, load(ret(5)));
    const p = load('call local sub\nmov %r0, 1\nexit\nsub:\nlddw %r2, map_by_idx(0)\nmov %r3, 1\ncall 12\nmov %r0, 2\nexit');
    expect(p.run(u64(0))).toBe(5n);
  });

  it('ends the whole run from a bpf_loop callback', () => {
    const { progs, load } = setup(opts);
    progs.set(1, load(ret(5)));
    expect(load(LOOP_TAIL).run(u64(0))).toBe(5n);
  });

  it('tail calls through callx', () => {
    const { progs, load } = setup(opts);
    const p = load(step(0).replace('call 12', 'mov %r5, 12\ncallx %r5'));
    progs.set(0, p);
    expect(p.run(u64(0))).toBe(34n);
  });

  it('gives each program of a chain its own budget', () => {
    const { progs, load } = setup({ ...opts, budget: 10 });
    const p = load(step(0)); // 8 instructions a program: 34 of them exceed 10, none alone does
    progs.set(0, p);
    expect(p.run(u64(0))).toBe(34n);
  });

  it('stops a next program over its budget as every engine does', () => {
    const faults = CHECKED.map(([, o]) => {
      const { progs, load } = setup({ ...o, budget: 1000 });
      progs.set(0, load('mov %r0, 0\nloop:\nadd %r0, 1\nja loop'));
      return fault(() => load(step(0)).run(u64(0)));
    });
    expect(faults.map((e) => [e.code, e.pc])).toEqual([['E_RUN_BUDGET', 1], ['E_RUN_BUDGET', 1]]);
  });

  it('reports a fault of the next program at its own pc', () => {
    const { progs, load } = setup(opts);
    progs.set(0, load('mov %r0, 0\nldxdw %r0, [%r1+8]\nexit'));
    const e = fault(() => load(step(0)).run(u64(0)));
    expect(e.code).toBe('E_RUN_MEMORY');
    expect(e.pc).toBe(1);
  });

  it('faults when r2 is not one of the program\'s prog_arrays', () => {
    const { load } = setup(opts);
    const e = fault(() => load('mov %r2, 64\nmov %r3, 0\ncall 12\nexit').run(u64(0)));
    expect(e.code).toBe('E_RUN_MEMORY');
    expect(e.pc).toBe(2);
  });
});

describe('tail calls in JIT code', () => {
  it('tests the index, count and slot inside WebAssembly: no JavaScript import, checked or verified', () => {
    const { vm, progs, load } = setup({ engine: 'jit', tier: 'baseline' });
    const p = load(step(0));
    for (const facts of [p.verification!.facts, undefined]) {
      const wat = jitToWat(p.program, vm.runtime, { facts, maps: [progs], tier: 'baseline' });
      expect(wat).not.toContain('(import "env" "helper"');
      expect(wat).toContain('run_tail');
    }
  });

  it('keeps the chain\'s exports out of programs that cannot tail call', () => {
    const { vm, progs, load } = setup({ engine: 'jit', tier: 'baseline' });
    const p = load(ret(3));
    expect(jitToWat(p.program, vm.runtime, { facts: p.verification!.facts, maps: [progs], tier: 'baseline' })).not.toContain('run_tail');
  });
});

describe('prog_array on the host', () => {
  it('refuses sizes, flags and entries the kernel refuses', () => {
    const vm = new Vm();
    const spec = { type: 'prog_array', keySize: 4, valueSize: 4, maxEntries: 4 } as const;
    for (const bad of [{ keySize: 8 }, { valueSize: 8 }, { valueSize: 0 }, { flags: 1 }, { maxEntries: 0 }, { maxEntries: 2 ** 31 }, { mapExtra: 1 }]) {
      expect(() => vm.createMap({ ...spec, ...bad }), JSON.stringify(bad)).toThrow(InputError);
    }
    expect(vm.createMap({ ...spec, type: 3 }).type).toBe('prog_array');
  });

  it('refuses programs of another Vm or of another context, and bad slots', () => {
    const { vm, progs, load } = setup({});
    progs.set(1, load(ret(1))); // the first program binds the map to its context
    const other = new Vm().load(ret(1), { context: CTX });
    expect(() => progs.set(0, other)).toThrow(/another Vm/);
    expect(() => progs.set(0, vm.load(ret(1), { context: memory(16) }))).toThrow(/memory\(16\)/);
    expect(() => vm.load(step(0), { context: memory(16), maps: [progs] })).toThrow(InputError);
    const p = load(ret(1));
    for (const index of [4, -1, 1.5]) expect(() => progs.set(index, p)).toThrow(MapError);
    expect(() => progs.update(0, p, 1)).toThrow(/BPF_ANY/);
    progs.delete(1);
    expect(() => progs.delete(1)).toThrow(expect.objectContaining({ errno: 'ENOENT' }));
    expect(() => progs.delete(9)).toThrow(expect.objectContaining({ errno: 'E2BIG' }));
    expect(() => progs.set(0, {} as LoadedProgram)).toThrow(InputError);
    progs.set(3, p);
    expect(progs.get(3)).toBe(p);
    expect(progs.lookup(3)).toHaveLength(4);
    expect(progs.lookup(2)).toBeUndefined();
    expect([...progs.keys()]).toHaveLength(4);
  });

  it('is declared in assembly, with the kernel\'s sizes', () => {
    const vm = new Vm();
    const p = vm.load(`.map progs prog_array key 4 value 4 entries 2\n${step(0)}`, { context: CTX });
    const progs = p.map('progs') as ProgArray;
    progs.set(0, p);
    expect(p.run(u64(0))).toBe(34n);
    expect(() => vm.load(`.map progs prog_array key 4 value 8 entries 2\n${ret(0)}`, { context: CTX })).toThrow(/must both be 4/);
  });
});

describe('the program registry behind prog_array slots', () => {
  it('lets a Vm go once nothing holds it, even inside one synchronous loop', () => {
    // Slots once held their programs through WeakRefs, which V8 keeps alive until the job ends: each
    // Vm's memory (a 1 GiB reservation) stayed, and about 12,700 Vms failed to allocate one here.
    for (let i = 0; i < 16_000; i++) {
      const vm = new Vm({ cpus: 2 });
      const progs = vm.createMap({ type: 'prog_array', keySize: 4, valueSize: 4, maxEntries: 1 }) as ProgArray;
      const p = vm.load('mov %r0, 1\nexit', { context: memory(0), engine: 'interp' });
      progs.set(0, p);
      expect(p.run(new Uint8Array(0))).toBe(1n);
    }
  }, 60_000);

  it('forgets a program once no slot holds it, and keeps one while another does', () => {
    const vm = new Vm();
    const progs = vm.createMap({ type: 'prog_array', keySize: 4, valueSize: 4, maxEntries: 2 }) as ProgArray;
    const a = vm.load('mov %r0, 1\nexit', { context: memory(0), engine: 'interp' });
    const b = vm.load('mov %r0, 2\nexit', { context: memory(0), engine: 'interp' });
    progs.set(0, a);
    progs.set(1, a);
    const idA = progs.lookup(0);
    expect(idA).toBeDefined();
    progs.set(0, b); // slot 1 still holds a, under the same id
    expect(progs.lookup(1)).toEqual(idA);
    progs.delete(1);
    progs.set(1, a); // a was forgotten: it comes back under a new id
    expect(progs.lookup(1)).not.toEqual(idA);
  });
});
