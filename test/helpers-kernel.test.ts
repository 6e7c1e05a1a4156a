// The kernel's helpers of src/helpers and map_lookup_percpu_elem, in every engine: what they return,
// what they write, the host's callbacks, checked mode's faults at their calls and the verifier's checks.
import { beforeAll, describe, expect, it } from 'vitest';
import { Vm, memory, type LoadOptions, type LoadedProgram, type VmOptions } from '../src/index.js';
import { VerifyError } from '../src/verifier/refusal.js';
import { loadOptimizer } from '../src/jit/index.js';
import { CHECKED, ENGINES, fault } from './engines.js';

beforeAll(() => loadOptimizer());


/** Stores `s` and its NUL at r10-off (byte by byte: the verifier then knows every byte). */
const stackString = (s: string, off: number): string =>
  [...new TextEncoder().encode(`${s}\0`)].map((b, k) => `stb [%r10-${off - k}], ${b}`).join('\n');
/** r`reg` = r10 - off. */
const fp = (reg: number, off: number): string => `mov %r${reg}, %r10\nadd %r${reg}, -${off}`;
const signed = (v: bigint): bigint => BigInt.asIntN(64, v);

/** Runs a program on a memory(size) context filled with `fill`; returns r0 and the context's bytes after. */
function runOnMemory(p: LoadedProgram, vm: Vm, size: number, fill = 0xff, cpu = 0): { r0: bigint; bytes: Uint8Array } {
  const { addr, len } = p.placeInput(new Uint8Array(size).fill(fill));
  const r0 = p.exe.run(addr, len, cpu);
  return { r0, bytes: vm.mem.read(addr, size) };
}

describe.each(ENGINES)('kernel helpers: %s', (_name, opts) => {
  const load = (vm: Vm, src: string, size = 0): LoadedProgram => vm.load(src, { ...opts, context: memory(size) });

  it('reads a monotonic clock close to process.hrtime in all three ktime helpers', () => {
    const p = load(new Vm(), 'call 5\nmov %r6, %r0\ncall 125\njlt %r0, %r6, bad\nmov %r7, %r0\ncall 160\njlt %r0, %r7, bad\nmov %r0, %r6\nexit\nbad:\nmov %r0, 0\nexit');
    const before = process.hrtime.bigint();
    const t = p.run();
    const after = process.hrtime.bigint();
    expect(t).toBeGreaterThanOrEqual(before);
    expect(t).toBeLessThanOrEqual(after);
  });

  it('answers a different u32 from get_prandom_u32 across calls', () => {
    const p = load(new Vm(), 'call 7\nmov %r6, %r0\ncall 7\nmov %r7, %r0\nor %r7, %r6\nrsh %r7, 32\njne %r7, 0, bad\nxor %r0, %r6\nexit\nbad:\nmov %r0, 0\nexit');
    const differs = [1, 2, 3].map(() => p.run() !== 0n);
    expect(differs).toContain(true);
  });

  it('answers the run\'s CPU from get_smp_processor_id', () => {
    const vm = new Vm({ cpus: 2 });
    const p = load(vm, 'call 8\nexit');
    expect(p.run(new Uint8Array(0), 0)).toBe(0n);
    expect(p.run(new Uint8Array(0), 1)).toBe(1n);
  });

  it('asks the host for the current task, per CPU', () => {
    const vm = new Vm({ cpus: 2, current: (cpu) => ({ pid: 100 + cpu, tgid: 7, uid: 1000, gid: 2000 }) });
    const p = load(vm, 'call 14\nmov %r6, %r0\ncall 15\nstxdw [%r10-8], %r6\nadd %r0, %r6\nexit');
    expect(p.run(new Uint8Array(0), 1)).toBe(((7n << 32n) | 101n) + ((2000n << 32n) | 1000n));
  });

  it('answers -EINVAL with no current task, and zeroes the comm buffer', () => {
    for (const current of [undefined, () => undefined]) {
      const vm = new Vm(current ? { current } : {});
      expect(signed(load(vm, 'call 14\nexit').run())).toBe(-22n);
      expect(signed(load(vm, 'call 15\nexit').run())).toBe(-22n);
      const { r0, bytes } = runOnMemory(load(vm, 'mov %r2, 8\ncall 16\nexit', 12), vm, 12);
      expect(signed(r0)).toBe(-22n);
      expect([...bytes]).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff]);
    }
  });

  it('fills get_current_comm\'s buffer as strscpy_pad: cut to size - 1 and 15 bytes, NUL-terminated, zero-filled', () => {
    const vm = new Vm({ current: () => ({ pid: 1, tgid: 1, comm: 'a-very-long-process-name' }) });
    const comm = (size: number): Uint8Array => {
      const { r0, bytes } = runOnMemory(load(vm, `mov %r2, ${size}\ncall 16\nexit`, 24), vm, 24);
      expect(r0).toBe(0n);
      return bytes;
    };
    const text = (b: Uint8Array): string => new TextDecoder().decode(b);
    expect(text(comm(8).subarray(0, 8))).toBe('a-very-\0');
    expect([...comm(8).subarray(8)]).toEqual(new Array(16).fill(0xff));
    const wide = comm(20);
    expect(text(wide.subarray(0, 15))).toBe('a-very-long-pro');
    expect([...wide.subarray(15, 20)]).toEqual([0, 0, 0, 0, 0]);
    expect(wide[20]).toBe(0xff);
    const short = new Vm({ current: () => ({ pid: 1, tgid: 1, comm: 'init' }) });
    expect([...runOnMemory(load(short, 'mov %r2, 8\ncall 16\nexit', 8), short, 8).bytes]).toEqual([105, 110, 105, 116, 0, 0, 0, 0]);
  });

  it('prints to the host\'s sink and returns the length; a format the kernel refuses prints nothing', () => {
    const lines: Array<[string, number]> = [];
    const vm = new Vm({ cpus: 2, tracePrintk: (text, cpu) => lines.push([text, cpu]) });
    const printk = (fmt: string, size?: number): LoadedProgram => load(vm, [
      stackString('hi', 8), stackString(fmt, 64), fp(1, 64), `mov %r2, ${size ?? fmt.length + 1}`,
      'mov %r3, -5', 'mov %r4, 0xbeef', fp(5, 8), 'call 6', 'exit',
    ].join('\n'));
    expect(printk('a=%d b=%lx s=%s\n').run(new Uint8Array(0), 1)).toBe(17n);
    expect(printk('%u|%05i|%-6s|').run()).toBe(BigInt('4294967291|48879|hi    |'.length));
    expect(lines).toEqual([['a=-5 b=beef s=hi\n', 1], ['4294967291|48879|hi    |', 0]]);
    expect(signed(printk('%q').run())).toBe(-22n); // unknown conversion
    expect(signed(printk('%d %d %d %d').run())).toBe(-22n); // more than 3 arguments
    expect(signed(printk('%.2d').run())).toBe(-22n); // no precision
    expect(signed(printk('ab\tc%d', 3).run())).toBe(-22n); // no NUL inside fmt_size
    expect(lines).toHaveLength(2);
    const ip = load(vm, [stackString('%c%pI4 %pi4', 32), 'stw [%r10-8], 0x0100000a', fp(1, 32), 'mov %r2, 12', 'mov %r3, 65', fp(4, 8), fp(5, 8), 'call 6', 'exit'].join('\n'));
    expect(ip.run()).toBe(25n);
    expect(lines[2]).toEqual(['A10.0.0.1 010.000.000.001', 0]);
    expect(load(new Vm(), `${stackString('x', 8)}\n${fp(1, 8)}\nmov %r2, 2\ncall 6\nexit`).run()).toBe(1n); // no sink: dropped
  });

  it('compares as the kernel\'s strncmp', () => {
    const vm = new Vm();
    const cmp = (s1: string, n: number, s2: string): bigint =>
      signed(load(vm, [stackString(s1, 16), stackString(s2, 32), fp(1, 16), `mov %r2, ${n}`, fp(3, 32), 'call 182', 'exit'].join('\n')).run());
    expect(cmp('abc', 3, 'abd')).toBe(-1n);
    expect(cmp('abd', 3, 'abc')).toBe(1n);
    expect(cmp('abc', 2, 'abd')).toBe(0n);
    expect(cmp('abc', 4, 'abc')).toBe(0n);
    expect(cmp('ab', 3, 'abc')).toBe(-1n);
    expect(cmp('\u00e9', 2, 'e')).toBe(1n); // unsigned bytes: 0xc3 > 'e'
  });

  it('looks up another CPU\'s value of a per-CPU map, and NULL past the Vm\'s CPUs', () => {
    const vm = new Vm({ cpus: 2 });
    const array = vm.createMap({ type: 'percpu_array', keySize: 4, valueSize: 8, maxEntries: 2 });
    const hash = vm.createMap({ type: 'percpu_hash', keySize: 4, valueSize: 8, maxEntries: 2 });
    array.update(1, [10, 20]);
    hash.update(5, [30, 40]);
    const lookup = (key: number, cpu: number) => `stw [%r10-4], ${key}\n${fp(2, 4)}\nlddw %r1, map_by_idx(0)\nmov %r3, ${cpu}\ncall 195\njeq %r0, 0, out\nldxdw %r0, [%r0]\nexit\nout:\nmov %r0, 99\nexit`;
    const run = (map: typeof array, key: number, cpu: number): bigint => vm.load(lookup(key, cpu), { ...opts, context: memory(0), maps: [map] }).run();
    expect([run(array, 1, 0), run(array, 1, 1), run(array, 1, 2), run(array, 2, 0)]).toEqual([10n, 20n, 99n, 99n]);
    expect([run(hash, 5, 0), run(hash, 5, 1), run(hash, 5, -1), run(hash, 6, 0)]).toEqual([30n, 40n, 99n, 99n]);
  });

  it('keeps the user\'s helper where it takes a kernel helper\'s id', () => {
    const vm = new Vm({ helpers: [{ id: 5, name: 'mine', impl: () => 42n, proto: { args: [], ret: 'scalar' } }] });
    expect(load(vm, 'call 5\nexit').run()).toBe(42n);
  });
});

describe('kernel helpers in checked programs', () => {
  const load = (vm: Vm, src: string, opts: LoadOptions): LoadedProgram => vm.load(src, { ...opts, context: memory(0) });

  it.each(CHECKED)('%s: a pointer argument outside the run\'s regions faults at the call', (_name, opts) => {
    const vm = new Vm({ current: () => ({ pid: 1, tgid: 1, comm: 'x' }) });
    const calls = [
      'mov %r1, 0x10000\nmov %r2, 8\ncall 16\nexit', // get_current_comm's buffer
      'mov %r1, 0x10000\nmov %r2, 4\ncall 6\nexit', // trace_printk's format
      'mov %r1, 0x10000\nmov %r2, 4\nmov %r3, %r10\ncall 182\nexit', // strncmp's s1
      `stdw [%r10-8], 0\n${fp(1, 8)}\nmov %r2, 4\nmov %r3, 0x10000\ncall 182\nexit`, // strncmp's s2
      'mov %r1, %r10\nmov %r2, 8\ncall 16\nexit', // a buffer above the stack's top
    ];
    const pcs = [2, 2, 3, 5, 2];
    calls.forEach((src, k) => expect(fault(() => load(vm, src, opts).run())).toMatchObject({ code: 'E_RUN_MEMORY', pc: pcs[k] }));
  });

  it.each(CHECKED)('%s: a string s2 that runs past its region faults, one that ends inside it does not', (_name, opts) => {
    const vm = new Vm();
    // s2 is the stack's last byte: 'a' runs off the top, as the comparison goes on past it; 0 ends there.
    const src = (last: number): string => `${stackString('abc', 16)}\n${fp(1, 16)}\nmov %r2, 4\nstb [%r10-1], ${last}\n${fp(3, 1)}\ncall 182\nexit`;
    expect(fault(() => load(vm, src(0x61), opts).run())).toMatchObject({ code: 'E_RUN_MEMORY', pc: 10 });
    expect(BigInt.asIntN(64, load(vm, src(0), opts).run())).toBe(1n);
  });

  it.each(CHECKED)('%s: a string argument it may not read prints as empty, as the kernel\'s nofault copy', (_name, opts) => {
    const lines: string[] = [];
    const vm = new Vm({ tracePrintk: (t) => lines.push(t) });
    load(vm, `${stackString('[%s]', 8)}\n${fp(1, 8)}\nmov %r2, 5\nmov %r3, 0x10000\ncall 6\nexit`, opts).run();
    expect(lines).toEqual(['[]']);
  });
});

describe('the verifier and the kernel helpers', () => {
  const refusal = (options: VmOptions, src: string, load: LoadOptions = {}): VerifyError => {
    try {
      new Vm(options).load(src, { context: memory(0), ...load });
    } catch (e) {
      expect(e).toBeInstanceOf(VerifyError);
      return e as VerifyError;
    }
    throw new Error('expected a refusal');
  };

  it('knows get_smp_processor_id\'s bound: the CPU id may index a stack table of cpus slots', () => {
    const src = `call 8\nlsh %r0, 3\n${fp(1, 16)}\nadd %r1, %r0\nstdw [%r1], 5\nmov %r0, 0\nexit`;
    expect(new Vm({ cpus: 2 }).load(src, { context: memory(0) }).run()).toBe(0n);
    expect(refusal({ cpus: 4 }, src).code).toBe('E_VERIFY_STACK_BOUNDS');
  });

  it('refuses arguments of the wrong kind', () => {
    expect(refusal({}, 'mov %r1, 0\nmov %r2, 8\ncall 16\nexit').code).toBe('E_VERIFY_HELPER_ARG'); // comm into a scalar
    expect(refusal({}, `${fp(1, 8)}\nmov %r2, 16\ncall 16\nexit`).code).toBe('E_VERIFY_STACK_BOUNDS'); // 16 bytes at fp-8
    expect(refusal({}, `${fp(1, 8)}\nmov %r2, 8\ncall 6\nexit`).code).toBe('E_VERIFY_UNINIT_STACK'); // an unwritten format
    expect(refusal({}, `stdw [%r10-8], 0\n${fp(1, 8)}\nldxdw %r2, [%r10-8]\ncall 6\nexit`).code).toBe('E_VERIFY_HELPER_ARG'); // unbounded size
    expect(refusal({}, `stdw [%r10-8], 0\n${fp(1, 8)}\nmov %r2, 8\nmov %r3, 0\ncall 182\nexit`).code).toBe('E_VERIFY_HELPER_ARG'); // s2 a scalar
  });

  it('refuses map_lookup_percpu_elem on a map that is not per-CPU', () => {
    const vm = new Vm();
    const hash = vm.createMap({ type: 'hash', keySize: 4, valueSize: 8, maxEntries: 2 });
    const src = `stw [%r10-4], 0\n${fp(2, 4)}\nlddw %r1, map_by_idx(0)\nmov %r3, 0\ncall 195\nmov %r0, 0\nexit`;
    expect(() => vm.load(src, { context: memory(0), maps: [hash] })).toThrow(expect.objectContaining({ code: 'E_VERIFY_HELPER_ARG' }));
  });
});
