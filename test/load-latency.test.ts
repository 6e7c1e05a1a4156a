/**
 * The load-latency measurement (bench/load-time.ts): the programs it loads, one load's phases in
 * each tier, the fresh-process child, `bpfjit run` spawned, and the tables. Small sizes and no
 * assertion on how long anything takes.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadEngines } from '../bench/engines.js';
import { LOAD_TIERS, PHASES, loadPrograms, timeLoad, type ChildResult, type LoadApi } from '../bench/load-phases.js';
import { cliRunLine, freshRows, steadyRows } from '../bench/load-report.js';
import { measureCliRun, measureLoadTimes, type LoadTimes } from '../bench/load-time.js';
import { variant } from '../bench/load-variant.js';
import { baselineBinary, compileJitTimed } from '../src/jit/index.js';
import { loadBytes } from '../src/program/program.js';
import type { Runtime } from '../src/runtime/executable.js';
import { HelperRegistry } from '../src/runtime/helpers.js';
import { EngineMemory } from '../src/runtime/memory.js';
import { memory, verify } from '../src/verifier/index.js';

const engines = await loadEngines(); // loads binaryen for the optimized tier
const api: LoadApi = { loadBytes, verify, memory, compileJitTimed };
const runtime = (): Runtime => ({ mem: new EngineMemory({ cpus: 1 }), helpers: new HelperRegistry() });

describe('load programs', () => {
  it('are port80, log2, switch and a generated program of the size asked', () => {
    const programs = loadPrograms(64);
    expect(programs.map((p) => [p.name, p.bytes.length / 8, p.ctxLen])).toEqual([
      ['port80', 19, 64], ['log2', 36, 8], ['switch', 259, 4], ['alu-64', 64, 32],
    ]);
  });

  it('each variant verifies and compiles to a module of its own (so V8 cannot reuse a compile)', () => {
    const rt = runtime();
    for (const p of loadPrograms(64)) {
      const modules = [0, 1, 2].map((k) => {
        const program = loadBytes(variant(p.bytes, k));
        const verified = verify(program, { context: memory(p.ctxLen), helpers: rt.helpers });
        if (!verified.ok) throw new Error(`${p.name} variant ${k}: ${verified.error.code}`);
        return Buffer.from(baselineBinary(program, rt, { facts: verified.facts })).toString('hex');
      });
      expect(new Set(modules).size, p.name).toBe(3);
    }
  });
});

describe('one load', () => {
  it('times every phase in each tier', () => {
    expect(engines.tiers).toContain('optimized');
    const rt = runtime();
    const [port80] = loadPrograms(64);
    const ctx = rt.mem.alloc(port80!.ctxLen, 64);
    for (const tier of LOAD_TIERS) {
      const sample = timeLoad(api, rt, port80!.bytes, port80!.ctxLen, ctx, tier);
      expect(Object.keys(sample)).toEqual(PHASES);
      for (const phase of PHASES) expect(sample[phase]).toBeGreaterThanOrEqual(0);
      expect(sample.load).toBeGreaterThanOrEqual(sample.decode + sample.verify);
      if (tier === 'optimized') expect(sample.optimize).toBeGreaterThan(0);
    }
  });

  it('refuses a program the verifier refuses, naming it', () => {
    const rt = runtime();
    // r0 = *(u64 *)(r1 + 8); exit: past the end of an 8-byte context.
    const outOfBounds = new Uint8Array([0x79, 0x10, 8, 0, 0, 0, 0, 0, 0x95, 0, 0, 0, 0, 0, 0, 0]);
    expect(() => timeLoad(api, rt, outOfBounds, 8, rt.mem.alloc(8, 64), 'baseline')).toThrow(/verifier refused/);
  });
});

describe('fresh process', () => {
  const child = fileURLToPath(new URL('../dist/bench/load-child.js', import.meta.url));

  for (const tier of LOAD_TIERS) {
    it(`loads one program in the ${tier} tier and reports times from process start`, () => {
      const out = spawnSync(process.execPath, [child, 'alu-64', tier, '64'], { encoding: 'utf8' });
      expect(out.status, out.stderr).toBe(0);
      const r = JSON.parse(out.stdout) as ChildResult;
      expect(Object.keys(r.sample)).toEqual(PHASES);
      expect(r.importMs).toBeGreaterThan(0);
      expect(r.nodeStartMs).toBeGreaterThan(0);
      expect(r.firstResultMs).toBeGreaterThan(r.nodeStartMs + r.importMs);
      if (tier === 'optimized') expect(r.sample.optimize).toBeGreaterThan(0);
    });
  }

  it('fails on a program it does not know', () => {
    expect(spawnSync(process.execPath, [child, 'nope', 'baseline', '64']).status).not.toBe(0);
  });
});

describe('measureLoadTimes', () => {
  it('gives a steady row per program and tier, and a line for bpfjit run', async () => {
    const plan = { warmUpRounds: 0, rounds: 1, processes: 0, cliRuns: 0, aluSlots: 64 };
    const lt = (await measureLoadTimes(runtime(), engines, plan))!;
    expect(lt.programs.map((p) => p.name)).toEqual(['port80', 'log2', 'switch', 'alu-64']);
    expect(lt.steady.map((r) => `${r.program}/${r.tier}`)).toEqual(
      ['port80', 'log2', 'switch', 'alu-64'].flatMap((p) => [`${p}/baseline`, `${p}/optimized`]),
    );
    expect(lt.fresh).toEqual([]);
    expect(freshRows(lt)).toBeUndefined();
    expect(steadyRows(lt)).toHaveLength(9);
    expect(cliRunLine(lt)).toMatch(/not measured/);
  });

  it('is not measured without the JIT', async () => {
    const plan = { warmUpRounds: 0, rounds: 1, processes: 0, cliRuns: 0, aluSlots: 64 };
    expect(await measureLoadTimes(runtime(), { tiers: [], missing: {} }, plan)).toBeUndefined();
  });

  it('times bpfjit run of port80 from spawn to exit', () => {
    const ms = measureCliRun(1);
    expect(ms).toHaveLength(1);
    expect(ms[0]).toBeGreaterThan(0);
  });
});

describe('load tables', () => {
  const sample = { decode: 0.05, verify: 0.4, build: 0.5, optimize: 0, compile: 0.2, instantiate: 0.1, load: 1.3, firstRun: 0.07 };
  const lt: LoadTimes = {
    programs: [{ name: 'port80', slots: 19 }],
    steady: [{ program: 'port80', tier: 'baseline', ms: sample }, { program: 'port80', tier: 'optimized', ms: { ...sample, optimize: 2, load: 3.3 } }],
    fresh: [{ program: 'port80', tier: 'baseline', nodeStartMs: 40, importMs: 55, loadMs: 12, firstRunMs: 0.2, firstResultMs: 108, processes: 3 }],
    cliRunMs: [230, 210, 250],
    notes: [],
  };

  it('has a row per program and tier, the optimize phase only in the optimized tier', () => {
    expect(steadyRows(lt)).toEqual([
      ['program (insns)', 'tier', 'decode', 'verify', 'build', 'optimize', 'compile', 'instantiate', 'load', 'first run'],
      ['port80 (19)', 'baseline', '0.050', '0.400', '0.500', '-', '0.200', '0.100', '1.30', '0.070'],
      ['port80 (19)', 'optimized', '0.050', '0.400', '0.500', '2.00', '0.200', '0.100', '3.30', '0.070'],
    ]);
    expect(freshRows(lt)).toEqual([
      ['program', 'tier', 'node start', 'imports', 'load', 'first run', 'start to result', 'processes'],
      ['port80', 'baseline', '40.0', '55.0', '12.0', '0.200', '108.0', '3'],
    ]);
    expect(cliRunLine(lt)).toBe('`bpfjit run` of port80 on one 64-byte frame, spawn to exit: 230.0 ms wall (median of 3: 210.0, 230.0, 250.0)');
  });
});
