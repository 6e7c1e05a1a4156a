import { describe, expect, it } from 'vitest';
import { BpfRuntimeError, InputError, Vm, VerifyError, event, memory, packet } from '../src/index.js';

// Reads the u16 at offset 4 of the input.
const READ4 = 'r0 = *(u16 *)(r1 + 4)\nexit';
// Returns the first packet byte when the packet has one, else 0xff.
const FIRST_BYTE = [
  'r2 = *(u64 *)(r1 + 0)', 'r3 = *(u64 *)(r1 + 8)', 'r0 = 255', 'r4 = r2', 'r4 += 1',
  'if r4 > r3 goto +1', 'r0 = *(u8 *)(r2 + 0)', 'exit',
].join('\n');

describe.each(['interp', 'jit'] as const)('Vm with the %s engine', (engine) => {
  it('verifies against the context and runs', () => {
    const prog = new Vm().load(READ4, { engine, context: memory(8) });
    expect(prog.verification?.stats.insnsProcessed).toBeGreaterThan(0);
    expect(prog.run(new Uint8Array([0, 0, 0, 0, 0x34, 0x12, 0, 0]))).toBe(0x1234n);
  });

  it('refuses an input of another size than the verified context', () => {
    const prog = new Vm().load(READ4, { engine, context: memory(8) });
    expect(() => prog.run(new Uint8Array(4))).toThrow(InputError);
  });

  it('throws a VerifyError with code and pc for an unsafe program', () => {
    const attempt = (): unknown => new Vm().load(READ4, { engine, context: event(5) });
    expect(attempt).toThrow(VerifyError);
    try {
      attempt();
    } catch (err) {
      expect((err as VerifyError).pc).toBe(0);
      expect((err as VerifyError).code).toMatch(/^E_VERIFY_/);
    }
  });

  it("accepts a loop bounded by the input with termination 'budget', and keeps the budget", () => {
    // Counts the bytes before the first 0, scanning at most to the end of the 16-byte input.
    const scan = ['r0 = 0', 'r3 = r1', 'r3 += r2', 'if r1 >= r3 goto +5', 'r4 = *(u8 *)(r1 + 0)', 'if r4 == 0 goto +3',
      'r0 += 1', 'r1 += 1', 'if r1 < r3 goto -5', 'exit'].join('\n');
    // memory(16) fixes the length, so the default verifier follows all 16 rounds and proves it ends.
    expect(new Vm().load(scan, { engine, context: memory(16) }).verification?.facts.needsBudget).toBeUndefined();
    const prog = new Vm().load(scan, { engine, context: memory(16), termination: 'budget' });
    expect(prog.verification?.facts.needsBudget).toBe(true);
    expect(prog.run(new TextEncoder().encode('hello\0world.....'))).toBe(5n);
    expect(prog.run(new Uint8Array(16).fill(1))).toBe(16n);
    // A loop that never ends is safe, so it loads, and its runs stop at the budget.
    const forever = new Vm().load('r0 = 0\nr0 += 1\nja -2', { engine, context: memory(8), termination: 'budget', budget: 1000 });
    expect(forever.verification?.facts.needsBudget).toBe(true);
    expect(() => forever.run(new Uint8Array(8))).toThrow(expect.objectContaining({ code: 'E_RUN_BUDGET' }));
    // Safety is still proven: reading past the input is refused.
    const past = scan.replace('r4 = *(u8 *)(r1 + 0)', 'r4 = *(u8 *)(r1 + 1)');
    expect(() => new Vm().load(past, { engine, context: memory(16), termination: 'budget' })).toThrow(/E_VERIFY_MEM_ACCESS|outside/);
  });

  it('runs unverified programs in checked mode only', () => {
    const prog = new Vm().load(READ4, { engine, unverified: true });
    expect(prog.verification).toBeUndefined();
    expect(() => prog.run(new Uint8Array(5))).toThrow(BpfRuntimeError);
  });

  it('builds the {data, data_end} struct for packet programs', () => {
    const prog = new Vm().load(FIRST_BYTE, { engine, context: packet() });
    expect(prog.run(new Uint8Array([0x2a, 1, 2]))).toBe(0x2an);
    expect(prog.run(new Uint8Array(0))).toBe(0xffn);
  });
});

describe('Vm.load', () => {
  it('needs a context unless the program is explicitly unverified', () => {
    expect(() => new Vm().load(READ4)).toThrow(/context/);
  });

  it('refuses a program larger than its maxSlots before building it', () => {
    const vm = new Vm({ maxSlots: 2 });
    expect(() => vm.load('r0 = 0\nr0 += 1\nexit', { unverified: true })).toThrow(expect.objectContaining({ code: 'E_DECODE_PROGRAM_TOO_LARGE' }));
    expect(vm.load('r0 = 3\nexit', { unverified: true }).run()).toBe(3n);
  });

  it('checks helper calls against the helper prototype', () => {
    const vm = new Vm({ helpers: [{ id: 7, name: 'twice', impl: (a) => 2n * a, proto: { args: ['scalar'], ret: 'scalar' } }] });
    expect(vm.load('r1 = 21\ncall 7\nexit', { context: memory(0) }).run()).toBe(42n);
    // r1 is the context pointer here: a pointer is not a scalar.
    expect(() => vm.load('call 7\nexit', { context: memory(8) })).toThrow(VerifyError);
  });
});
