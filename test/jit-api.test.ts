// The JIT's entry points besides run: the WebAssembly text dump, load-phase timings, the binaryen API
// check, and unchecked mode (for verified programs).
import { beforeAll, describe, expect, it } from 'vitest';
import { assemble } from '../src/asm/index.js';
import { BpfRuntimeError } from '../src/errors.js';
import { checkBinaryenApi } from '../src/jit/binaryen.js';
import { createInterpreter } from '../src/interp/index.js';
import { compileJit, compileJitTimed, jitToWat, loadOptimizer } from '../src/jit/index.js';
import { buildProgram } from '../src/program/program.js';
import type { Runtime } from '../src/runtime/executable.js';
import { HelperRegistry } from '../src/runtime/helpers.js';
import { EngineMemory } from '../src/runtime/memory.js';

// jitToWat prints through binaryen, the optimizing tier: load it in this thread once.
beforeAll(() => loadOptimizer());

const rt: Runtime = { mem: new EngineMemory(), helpers: new HelperRegistry() };
const port80 = buildProgram(assemble([
  'ldxh %r2, [%r1+12]', 'jne %r2, 0x0008, drop', 'ldxb %r2, [%r1+23]', 'jne %r2, 6, drop',
  'ldxb %r2, [%r1+14]', 'and %r2, 0xf', 'lsh %r2, 2', 'add %r2, %r1', 'ldxh %r2, [%r2+16]',
  'jne %r2, 0x5000, drop', 'mov %r0, 1', 'exit', 'drop:', 'mov %r0, 0', 'exit',
].join('\n'), 'ubpf'));

describe('jitToWat', () => {
  it('imports the engine memory as shared and exports the entry points', () => {
    const wat = jitToWat(port80, rt);
    expect(wat).toMatch(/\(import "env" "memory" \(memory \$\S+ \d+ 65536 shared\)\)/);
    for (const name of ['run64', 'run32', 'run_batch']) expect(wat).toContain(`(export "${name}"`);
    // V8 compiles a wrapper for each function import with each module: only a program that calls a helper imports one.
    expect(wat).not.toContain('(import "env" "helper"');
    const helpers = new HelperRegistry();
    helpers.register({ id: 7, name: 'seven', impl: () => 7n });
    const caller = buildProgram(assemble('call 7\nexit', 'ubpf'));
    for (const tier of ['baseline', 'optimized'] as const) {
      expect(jitToWat(caller, { mem: rt.mem, helpers }, { tier })).toContain('(import "env" "helper"');
    }
    expect(compileJit(caller, { mem: rt.mem, helpers }).run(0, 0)).toBe(7n);
  });
  it('shows the baseline module on request: the entry written into the event loop, each register a local', () => {
    const raw = jitToWat(port80, rt, { tier: 'baseline' });
    expect(raw).not.toContain('(func $bpf_fn0');
    expect(raw).toContain('(func $drive');
    // binaryen's passes fold the chains of local writes the code generator emits, one per instruction.
    const sets = (wat: string): number => wat.split('local.set').length;
    expect(sets(jitToWat(port80, rt))).toBeLessThan(sets(raw));
  });
});

describe('compileJitTimed', () => {
  it('reports each load phase and returns a working executable', () => {
    const { exe, timings } = compileJitTimed(port80, rt);
    expect(exe.engine).toBe('jit');
    expect(Object.keys(timings).sort()).toEqual(['build', 'compile', 'instantiate', 'optimize']);
    for (const ms of Object.values(timings)) expect(ms).toBeGreaterThanOrEqual(0);
    const frame = new Uint8Array(64);
    frame.set([8, 0], 12);
    frame[14] = 0x45;
    frame[23] = 6;
    frame.set([0, 80], 36);
    const at = rt.mem.alloc(64);
    rt.mem.write(at, frame);
    expect(exe.runU32(at, 64)).toBe(1);
    rt.mem.bytes[at + 37] = 81;
    expect(exe.runU32(at, 64)).toBe(0);
  });
});

describe('binaryen', () => {
  it('has every entry point the JIT uses', () => {
    expect(() => checkBinaryenApi()).not.toThrow();
  });
});

describe('r0 across the JS boundary', () => {
  // run returns all 64 bits of r0 as an unsigned BigInt, runU32 its low half as an unsigned number;
  // values straddling 2^31, 2^32 and 2^63 catch a lost or sign-extended half.
  const values = [0n, 1n, 0x7fffffffn, 0x80000000n, 0xffffffffn, 0x100000000n, 0x123456789n, 0x7fffffffffffffffn,
    0x8000000000000000n, 0x80000000ffffffffn, 0xffffffff00000000n, 0xfedcba9876543210n, 0xffffffffffffffffn];
  it.each(values.map((v) => [v]))('returns r0 = %s', (value) => {
    const exe = compileJit(buildProgram(assemble(`lddw %r0, ${value}\nexit`, 'ubpf')), rt);
    expect(exe.run(0, 0)).toBe(value);
    expect(exe.runU32(0, 0)).toBe(Number(value & 0xffffffffn));
  });
});

describe('large programs', () => {
  // Past 1,024 instructions binaryen's optimizer is skipped, past 1,000 blocks the flat layout
  // replaces the Relooper; both must still compute what the interpreter computes.
  it('compiles thousands of blocks with forward jumps and loops', () => {
    const lines = ['mov %r0, 0'];
    for (let i = 0; i < 1500; i++) {
      lines.push(`jeq %r2, ${i}, skip${i}`, 'add %r0, 3', `skip${i}:`, 'mov %r3, 2', `loop${i}:`, 'add %r0, 1', 'sub %r3, 1', `jne %r3, 0, loop${i}`);
    }
    lines.push('exit');
    const program = buildProgram(assemble(lines.join('\n'), 'ubpf'));
    expect(program.functions[0]!.blocks.length).toBeGreaterThan(3000);
    const exe = compileJit(program, rt);
    const ctx = rt.mem.alloc(7);
    expect(exe.run(ctx, 7)).toBe(createInterpreter(program, rt).run(ctx, 7));
    expect(exe.run(ctx, 7)).toBe(1499n * 3n + 1500n * 2n);
  });
  it('loops back to the entry of a function too big for the Relooper', () => {
    const lines = ['add %r2, 1'];
    for (let i = 0; i < 1100; i++) lines.push(`jeq %r2, ${i + 5000}, next${i}`, `next${i}:`);
    lines.push('jlt %r2, 3, entry', 'mov %r0, %r2', 'exit');
    const program = buildProgram(assemble(['entry:', ...lines].join('\n'), 'ubpf'));
    expect(compileJit(program, rt).run(0, 0)).toBe(3n);
  });
  it('compiles a long chain of dependent instructions', () => {
    const lines = ['mov %r0, %r2'];
    for (let i = 0; i < 6000; i++) lines.push(`mul %r0, ${(i % 7) + 3}`, `xor %r0, ${i}`);
    lines.push('exit');
    const program = buildProgram(assemble(lines.join('\n'), 'ubpf'));
    const ctx = rt.mem.alloc(5);
    expect(compileJit(program, rt).run(ctx, 5)).toBe(createInterpreter(program, rt).run(ctx, 5));
  });
});

describe('unchecked mode', () => {
  it('runs a well-behaved program the same', () => {
    const at = rt.mem.alloc(8);
    rt.mem.write(at, Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8));
    const program = buildProgram(assemble('ldxdw %r0, [%r1]\nstdw [%r10-8], 3\nldxdw %r2, [%r10-8]\nadd %r0, %r2\nexit', 'ubpf'));
    expect(compileJit(program, rt, { checked: false }).run(at, 8)).toBe(0x0807060504030204n);
  });
  it('still never lets a raw WebAssembly trap escape', () => {
    const program = buildProgram(assemble('lddw %r1, 0xfffffff0\nldxdw %r0, [%r1]\nexit', 'ubpf'));
    let error: unknown;
    try {
      compileJit(program, rt, { checked: false }).run(0, 0);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(BpfRuntimeError);
    expect(error).toMatchObject({ code: 'E_RUN_MEMORY' });
  });
});
