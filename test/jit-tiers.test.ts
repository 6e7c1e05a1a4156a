// The JIT's two tiers (src/jit/index.ts): the baseline module the code generator writes, binaryen's
// optimized one, and the move from one to the other while a stream of runs goes on.
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { compileJit, jitToWat, loadOptimizer } from '../src/jit/index.js';
import { JitExecutable } from '../src/jit/instance.js';
import { createInterpreter } from '../src/interp/index.js';
import { loadBytes } from '../src/program/program.js';
import { HelperRegistry } from '../src/runtime/helpers.js';
import { EngineMemory } from '../src/runtime/memory.js';
import type { Runtime } from '../src/runtime/executable.js';
import { memory, verify } from '../src/verifier/index.js';

beforeAll(() => loadOptimizer());

const program = (name: string) => loadBytes(new Uint8Array(readFileSync(new URL(`../bench/programs/${name}.bin`, import.meta.url))));

/** 64-byte frames, varied enough to take every path of port80. */
function frames(count: number): Uint8Array {
  const bytes = new Uint8Array(count * 64);
  for (let i = 0; i < count; i++) {
    const f = i * 64;
    bytes[f + 12] = i % 4 ? 0x08 : 0x86;
    bytes[f + 14] = 0x40 | (5 + (i % 3));
    bytes[f + 23] = i % 5 ? 6 : 17;
    bytes[f + 36 + 4 * (i % 3)] = 0;
    bytes[f + 37 + 4 * (i % 3)] = i % 2 ? 80 : 81;
  }
  return bytes;
}

describe('tiers', () => {
  it('hands a program from baseline to optimized in the middle of a stream of runs, every result right', async () => {
    const rt: Runtime = { mem: new EngineMemory(), helpers: new HelperRegistry() };
    const port80 = program('port80');
    const verified = verify(port80, { context: memory(64), helpers: rt.helpers });
    if (!verified.ok) throw verified.error;
    const count = 2048;
    const base = rt.mem.alloc(count * 64, 64);
    rt.mem.write(base, frames(count));
    const want = createInterpreter(port80, rt);
    const expected = Array.from({ length: count }, (_, i) => want.runU32(base + 64 * i, 64));
    const exe = compileJit(port80, rt, { facts: verified.facts, tier: 'auto', hotRuns: 1000 }) as JitExecutable;
    expect(exe.tier).toBe('baseline');
    const results = rt.mem.alloc(8 * count);
    const tiers = new Set<string>();
    // Runs keep coming while the worker optimizes: single runs, then batches, yielding in between.
    for (let round = 0; round < 400 && exe.tier === 'baseline'; round++) {
      for (let i = 0; i < count; i += 7) expect(exe.runU32(base + 64 * i, 64)).toBe(expected[i]);
      exe.runBatch(base, 64, 64, count, results);
      for (let i = 0; i < count; i++) expect(rt.mem.view.getUint32(results + 8 * i, true)).toBe(expected[i]);
      tiers.add(exe.tier);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    expect(exe.tier).toBe('optimized');
    for (let i = 0; i < count; i++) expect(exe.runU32(base + 64 * i, 64)).toBe(expected[i]);
    expect(tiers).toContain('baseline');
  });

  it('moves to the optimized tier on request, and the optimized module is binaryen\'s', async () => {
    const rt: Runtime = { mem: new EngineMemory(), helpers: new HelperRegistry() };
    const log2 = program('log2');
    const exe = compileJit(log2, rt, { tier: 'baseline' }) as JitExecutable;
    const at = rt.mem.alloc(8);
    rt.mem.view.setBigUint64(at, 1n << 40n, true);
    expect(exe.run(at, 8)).toBe(40n);
    await exe.optimize();
    expect(exe.tier).toBe('optimized');
    expect(exe.run(at, 8)).toBe(40n);
    expect(compileJit(log2, rt, { tier: 'optimized' }).run(at, 8)).toBe(40n);
  });

  it('baseline turns short arms that only compute registers into selects', () => {
    const rt: Runtime = { mem: new EngineMemory(), helpers: new HelperRegistry() };
    const log2 = program('log2');
    const facts = verify(log2, { context: memory(8), helpers: rt.helpers });
    if (!facts.ok) throw facts.error;
    const wat = jitToWat(log2, rt, { tier: 'baseline', facts: facts.facts });
    expect(wat.split('(select').length - 1).toBeGreaterThanOrEqual(6);
    const interp = createInterpreter(log2, rt);
    const jit = compileJit(log2, rt, { tier: 'baseline', facts: facts.facts });
    const at = rt.mem.alloc(8);
    for (let k = 0; k < 64; k++) {
      for (const v of [1n << BigInt(k), (1n << BigInt(k)) - 1n, (1n << BigInt(k)) + 1n]) {
        rt.mem.view.setBigUint64(at, BigInt.asUintN(64, v), true);
        expect(jit.run(at, 8)).toBe(interp.run(at, 8));
      }
    }
  });

  it('refuses a tier it does not know', () => {
    const rt: Runtime = { mem: new EngineMemory(), helpers: new HelperRegistry() };
    expect(() => compileJit(program('log2'), rt, { tier: 'fast' as never })).toThrow(expect.objectContaining({ code: 'E_INPUT' }));
  });
});
