// The probe_read helpers in every engine: kernel reads from the run's regions, reads the host answers
// through VmOptions.probeRead, -EFAULT with a zeroed destination, the _str forms' lengths and cuts.
import { beforeAll, describe, expect, it } from 'vitest';
import { Vm, memory, type LoadOptions, type ProbeReadFn } from '../src/index.js';
import { loadOptimizer } from '../src/jit/index.js';
import { CHECKED, ENGINES, fault } from './engines.js';

beforeAll(() => loadOptimizer());

const USER = 0x7ffc00001000n;
const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
/** The host's user memory: "user-string\0" then bytes without a NUL, ending at USER + 32. */
const userMemory: ProbeReadFn = (space, addr, len) => {
  const bytes = new Uint8Array(32).fill(0x61);
  bytes.set(enc('user-string\0'));
  if (space !== 'user' || addr < USER || addr >= USER + 32n) return undefined;
  return bytes.subarray(Number(addr - USER), Number(addr - USER) + len);
};

describe.each(ENGINES)('probe reads: %s', (_name, opts) => {
  /** Runs `call id` with r1 = a 16-byte context filled with 0xff (the destination), r2 = size, r3 = src. */
  function probe(vm: Vm, id: number, size: number, src: string, extra: LoadOptions = {}): { r0: bigint; out: number[] } {
    const p = vm.load(`mov %r2, ${size}\n${src}\ncall ${id}\nexit`, { ...opts, ...extra, context: memory(16) });
    const { addr, len } = p.placeInput(new Uint8Array(16).fill(0xff));
    const r0 = BigInt.asIntN(64, p.exe.run(addr, len, 0));
    return { r0, out: [...vm.mem.read(addr, 16)] };
  }
  const ff = (n: number): number[] => new Array(n).fill(0xff);

  it('reads kernel memory from the run\'s regions: the context and a region the host granted', () => {
    const vm = new Vm();
    expect(probe(vm, 113, 4, 'mov %r3, %r1\nadd %r3, 12')).toEqual({ r0: 0n, out: [...ff(16)] });
    const at = vm.mem.alloc(8);
    vm.mem.write(at, Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8));
    const granted = { regions: [{ start: at, end: at + 8 }] };
    expect(probe(vm, 113, 8, `lddw %r3, ${at}`, granted)).toEqual({ r0: 0n, out: [1, 2, 3, 4, 5, 6, 7, 8, ...ff(8)] });
    expect(probe(vm, 4, 8, `lddw %r3, ${at}`, granted).r0).toBe(0n);
    expect(probe(vm, 113, 0, `lddw %r3, ${at}`, granted)).toEqual({ r0: 0n, out: ff(16) });
  });

  it('answers -EFAULT and zeroes the destination for memory it may not read', () => {
    const vm = new Vm({ probeRead: userMemory });
    const at = vm.mem.alloc(8);
    expect(probe(vm, 113, 8, `lddw %r3, ${at}`)).toEqual({ r0: -14n, out: [...new Array(8).fill(0), ...ff(8)] }); // not granted
    expect(probe(vm, 113, 8, `lddw %r3, ${at}`, { regions: [{ start: at, end: at + 4 }] }).r0).toBe(-14n); // runs past the grant
    expect(probe(vm, 112, 8, 'mov %r3, %r1').r0).toBe(-14n); // the engine's memory is not user memory
    expect(probe(vm, 113, 4, `lddw %r3, ${USER}`).r0).toBe(-14n); // nor is the host's user memory kernel memory
    expect(probe(new Vm(), 112, 4, `lddw %r3, ${USER}`).r0).toBe(-14n); // no host answer
  });

  it('reads user memory through the host', () => {
    const vm = new Vm({ probeRead: userMemory });
    expect(probe(vm, 112, 4, `lddw %r3, ${USER}`)).toEqual({ r0: 0n, out: [...enc('user'), ...ff(12)] });
    expect(probe(vm, 112, 8, `lddw %r3, ${USER + 28n}`).r0).toBe(-14n); // past the end of the host's memory
  });

  it('copies strings with their NUL, cut to the size, and answers the bytes written', () => {
    const vm = new Vm({ probeRead: userMemory });
    expect(probe(vm, 114, 16, `lddw %r3, ${USER}`)).toEqual({ r0: 12n, out: [...enc('user-string\0'), ...ff(4)] });
    expect(probe(vm, 114, 5, `lddw %r3, ${USER}`)).toEqual({ r0: 5n, out: [...enc('user\0'), ...ff(11)] });
    expect(probe(vm, 114, 16, `lddw %r3, ${USER + 24n}`)).toEqual({ r0: -14n, out: [...new Array(16).fill(0)] }); // no NUL before the end
    expect(probe(vm, 114, 8, `lddw %r3, ${USER + 24n}`).r0).toBe(8n); // ... but enough bytes for the size
    const at = vm.mem.alloc(8);
    vm.mem.write(at, enc('kern\0'));
    for (const id of [115, 45]) expect(probe(vm, id, 16, `lddw %r3, ${at}`, { regions: [{ start: at, end: at + 8 }] }).out).toEqual([...enc('kern\0'), ...ff(11)]);
  });
});

describe('probe reads in checked programs and the verifier', () => {
  it.each(CHECKED)('%s: a destination outside the run\'s regions faults at the call', (_name, opts) => {
    const p = new Vm().load('mov %r1, 0x10000\nmov %r2, 4\nmov %r3, %r10\ncall 113\nexit', { ...opts, context: memory(0) });
    expect(fault(() => p.run())).toMatchObject({ code: 'E_RUN_MEMORY', pc: 3 });
  });

  it('refuses a destination that is not writable memory and a size it cannot bound', () => {
    const load = (src: string): void => void new Vm().load(src, { context: memory(8) });
    expect(() => load('mov %r1, 0\nmov %r2, 4\nmov %r3, 0\ncall 113\nexit')).toThrow(expect.objectContaining({ code: 'E_VERIFY_HELPER_ARG' }));
    expect(() => load('ldxdw %r2, [%r1]\nmov %r3, 0\ncall 113\nexit')).toThrow(expect.objectContaining({ code: 'E_VERIFY_HELPER_ARG' }));
    expect(() => load('mov %r2, 16\nmov %r3, 0\ncall 113\nexit')).toThrow(expect.objectContaining({ code: 'E_VERIFY_MEM_ACCESS' }));
  });
});
