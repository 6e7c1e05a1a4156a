// What the verifier assumed, the runtime guarantees (src/runtime/entry.ts), and one layout for both
// engines (src/runtime/memory.ts): the reproducers of the hardening issue, each run through both engines.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { BpfRuntimeError, InputError } from '../src/errors.js';
import { placeConstants } from '../src/jit/constants.js';
import { INTERNAL_START, NULL_GUARD } from '../src/runtime/memory.js';
import { event, memory, packet } from '../src/verifier/index.js';
import { Vm, type EngineName, type LoadedProgram } from '../src/vm.js';

const ENGINES: EngineName[] = ['interp', 'jit'];
const hexProgram = (hex: string): Uint8Array => Uint8Array.from(hex.match(/../g)!.map((b) => parseInt(b, 16)));

/** r0, or the error's code and pc. */
function outcome(run: () => bigint): string {
  try {
    return `r0=0x${run().toString(16)}`;
  } catch (e) {
    if (e instanceof BpfRuntimeError) return `${e.code}@${e.pc}`;
    throw e;
  }
}

describe.each(ENGINES)('%s', (engine) => {
  it('places an empty event at a real address, as the verifier assumed (no wrap below it)', () => {
    const vm = new Vm();
    const prog = vm.load('r2 = r1\nr2 += -1\nr0 = 2\nif r2 < r1 goto +1\nr0 = 1\nexit', { engine, context: event(0) });
    expect(prog.run(new Uint8Array(0))).toBe(2n);
    const where = vm.load('r0 = r1\nexit', { engine, context: event(0), unverified: true }).run();
    expect(where).toBeGreaterThanOrEqual(BigInt(vm.mem.heapStart));
  });

  it('checks every entry point of a verified program against its context', () => {
    const vm = new Vm();
    const prog = vm.load('r0 = *(u8 *)(r1 + 63)\nexit', { engine, context: memory(64) });
    const { addr } = prog.placeInput(new Uint8Array(64).fill(7));
    expect(prog.exe.run(addr, 64)).toBe(7n);
    const results = vm.mem.alloc(16);
    for (const call of [() => prog.exe.run(addr, 32), () => prog.exe.runU32(addr, 32), () => prog.exe.runBatch(addr, 0, 32, 2, results)]) {
      expect(call).toThrow(InputError);
    }
    expect(() => prog.exe.run(vm.mem.frameTop(0) - 512, 64)).toThrow(InputError);
    expect(() => prog.exe.run(INTERNAL_START, 64)).toThrow(InputError);
    expect(() => prog.exe.run(vm.mem.buffer.byteLength - 32, 64)).toThrow(InputError);
    // memory(0) promised r1 = 0: a real address is refused too.
    const empty = vm.load('r0 = r2\nexit', { engine, context: memory(0) });
    expect(empty.exe.run(0, 0)).toBe(0n);
    expect(() => empty.exe.run(vm.mem.heapStart, 0)).toThrow(InputError);
  });

  it('refuses a packet context whose pointers leave the heap, for single runs and batches', () => {
    const vm = new Vm();
    const prog = vm.load('r0 = 0\nr2 = *(u64 *)(r1 + 0)\nr3 = *(u64 *)(r1 + 8)\nr4 = r2\nr4 += 1\nif r4 > r3 goto +1\n' +
      'r0 = *(u8 *)(r2 + 0)\nexit', { engine, context: packet() });
    expect(prog.run(Uint8Array.of(42))).toBe(42n);
    const ctx = vm.mem.alloc(32);
    const results = vm.mem.alloc(16);
    const data = vm.mem.alloc(8);
    const set = (at: number, start: number, end: number): void => {
      vm.mem.view.setBigUint64(at, BigInt(start), true);
      vm.mem.view.setBigUint64(at + 8, BigInt(end), true);
    };
    set(ctx, data, data + 8);
    set(ctx + 16, data, data + 8);
    prog.exe.runBatch(ctx, 16, 16, 2, results);
    const stackByte = vm.mem.frameTop(0) - 8;
    for (const [start, end] of [[stackByte, stackByte + 1], [INTERNAL_START, INTERNAL_START + 8], [data + 8, data], [data, 2 ** 33]]) {
      set(ctx + 16, start!, end!);
      expect(() => prog.exe.run(ctx + 16, 16)).toThrow(InputError);
      expect(() => prog.exe.runBatch(ctx, 16, 16, 2, results)).toThrow(InputError);
    }
  });

  // With --unverified --mem-hex '22 11' these used to differ between the engines, or to succeed.
  it.each([
    ['store at fp+0 (past the frame), then read the input', 'b702000055000000732a00000000000071100000000000009500000000000000', 'E_RUN_MEMORY@1'],
    ['read fp+8', '71a00800000000009500000000000000', 'E_RUN_MEMORY@0'],
    ['read r1-9', '6910f7ff000000009500000000000000', 'E_RUN_MEMORY@0'],
    ['read fp-4000, far below the frame', '71a060f0000000009500000000000000', 'E_RUN_MEMORY@0'],
    ['store a byte at fp+0 (uBPF err-stack-oob)', '720a000000000000b7000000000000009500000000000000', 'E_RUN_MEMORY@0'],
  ])('checked mode faults alike: %s', (_what, hex, want) => {
    const vm = new Vm();
    const prog = vm.load(hexProgram(hex), { engine, unverified: true });
    expect(outcome(() => prog.run(Uint8Array.of(0x22, 0x11)))).toBe(want);
  });

  it('keeps the JIT\'s own data out of reach of checked programs', () => {
    const vm = new Vm();
    const table = placeConstants(vm.mem, Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8))!;
    expect(table).toBeGreaterThanOrEqual(INTERNAL_START);
    expect(table).toBeLessThan(NULL_GUARD);
    const prog = vm.load(`r1 = ${table} ll\nr0 = *(u64 *)(r1 + 0)\nexit`, { engine, unverified: true });
    expect(outcome(() => prog.run(new Uint8Array(8)))).toBe('E_RUN_MEMORY@2');
  });
});

describe('both engines lay a run out identically', () => {
  const addresses = (engine: EngineName): string[] => {
    const vm = new Vm();
    const progs: LoadedProgram[] = ['r0 = r1\nexit', 'r0 = r10\nexit'].map((text) => vm.load(text, { engine, unverified: true }));
    // A C switch becomes a value table in the JIT: placing it must not move the input.
    vm.load(new Uint8Array(readFileSync(new URL('../bench/programs/switch.bin', import.meta.url))), { engine, unverified: true });
    return progs.map((p) => outcome(() => p.run(Uint8Array.of(1, 2, 3))));
  };
  it('r0 = r1 and r0 = r10 give the same addresses', () => {
    expect(addresses('jit')).toEqual(addresses('interp'));
  });
});
