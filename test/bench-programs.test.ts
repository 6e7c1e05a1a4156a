/**
 * The benchmark programs: each committed .bin decodes and builds, every available engine agrees with
 * the workload's hand-written JavaScript on a small input, and build.sh still produces the same bytes.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadEngines, type BpfEngine, type Engines } from '../bench/engines.js';
import { prepare } from '../bench/prepare.js';
import { programBytes, programsDir } from '../bench/programs.js';
import { tierOf } from '../bench/run-workload.js';
import { verifyEngine } from '../bench/verify.js';
import { WORKLOADS } from '../bench/workloads/index.js';
import { loadBytes } from '../src/program/program.js';
import type { Runtime } from '../src/runtime/executable.js';
import { HelperRegistry } from '../src/runtime/helpers.js';
import { EngineMemory } from '../src/runtime/memory.js';

const engines = await loadEngines();

/**
 * The engine's factory. The benchmark itself runs with whichever engines load, but here both must:
 * a missing one fails each test that needs it, with the reason it did not load.
 */
function need<E extends BpfEngine>(engine: E): NonNullable<Engines[E]> {
  const factory = engines[engine];
  if (!factory) throw new Error(`the ${engine} engine did not load: ${engines.missing[engine] ?? 'no reason given'}`);
  return factory as NonNullable<Engines[E]>;
}

describe('benchmark programs', () => {
  it('both engines load, the JIT with every tier', () => {
    expect(engines.missing).toEqual({});
    expect(engines.tiers).toEqual(['optimized', 'baseline', 'auto']);
    expect(typeof engines.interp).toBe('function');
    expect(typeof engines.jit).toBe('function');
  });

  for (const w of WORKLOADS) {
    it(`${w.name}: ${w.program}.bin decodes and builds`, () => {
      const program = loadBytes(programBytes(w.program));
      expect(program.functions).toHaveLength(1);
    });

    for (const engine of ['interp', 'jit'] as const) {
      it(`${w.name}: ${engine} agrees with the JavaScript version`, () => {
        const rt: Runtime = { mem: new EngineMemory(), helpers: new HelperRegistry() };
        const errors: string[] = [];
        const p = prepare(w, 'small', rt, { [engine]: need(engine), tiers: engines.tiers, missing: {} }, errors);
        expect(errors).toEqual([]);
        expect(verifyEngine(p, p.executables[engine]!)).toBeUndefined();
        for (const [tier, exe] of Object.entries(p.tiers)) {
          expect(tierOf(exe)).toBe(tier);
          expect(verifyEngine(p, exe), `jit (${tier})`).toBeUndefined();
        }
        for (const [variant, exe] of Object.entries(p.variants)) expect(verifyEngine(p, exe), `jit (${variant})`).toBeUndefined();
      });
    }
  }

  // Under memory(len of one event); primes' loop runs to a bound read from its input, which the verifier
  // cannot follow: it is verified safe with termination 'budget'.
  it('the JIT runs every program verified, primes with the budget (small inputs)', () => {
    const rt: Runtime = { mem: new EngineMemory(), helpers: new HelperRegistry() };
    const jit = need('jit');
    const builds = WORKLOADS.map((w) => {
      const p = prepare(w, 'small', rt, { jit, tiers: ['baseline'], missing: {} }, []);
      if (w.compare?.includes('checked')) expect(p.variants.checked).toBeDefined();
      return [w.name, p.jitBuild!] as const;
    });
    expect(builds.filter(([, b]) => b.checked)).toEqual([]);
    expect(builds.filter(([, b]) => !b.checked && b.budget).map(([name]) => name)).toEqual(['primes']);
  });
});

/** Why build.sh cannot be checked here, or undefined when it can. */
function cannotRebuild(): string | undefined {
  for (const tool of ['clang', 'llvm-objcopy', 'llvm-objdump']) {
    if (spawnSync(tool, ['--version']).status !== 0) return `${tool} not found`;
  }
  const have = spawnSync('clang', ['--version'], { encoding: 'utf8' }).stdout.split('\n')[0]!.trim();
  const built = readFileSync(join(programsDir(), 'clang-version.txt'), 'utf8').trim();
  return have === built ? undefined : `installed ${have} is not ${built}, which built the committed .bin files`;
}

describe('bench/programs/build.sh', () => {
  const reason = cannotRebuild();
  it.skipIf(reason !== undefined)(`rebuilds the committed .bin files byte for byte${reason ? ` (skipped: ${reason})` : ''}`, () => {
    const out = mkdtempSync(join(tmpdir(), 'bpfjit-bench-'));
    const run = spawnSync('bash', [join(programsDir(), 'build.sh'), out], { encoding: 'utf8' });
    expect(run.status, run.stderr).toBe(0);
    const sources = readdirSync(programsDir()).filter((f) => f.endsWith('.c'));
    expect(sources.length).toBeGreaterThan(0);
    for (const c of sources) {
      const bin = c.replace(/\.c$/, '.bin');
      expect(readFileSync(join(out, bin)), `${bin} is stale: run bench/programs/build.sh`).toEqual(readFileSync(join(programsDir(), bin)));
    }
  });
});
