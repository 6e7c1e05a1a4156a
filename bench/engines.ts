/**
 * Loads the engines. The interpreter (src/interp) and the JIT (src/jit) are imported dynamically, so
 * that an engine that fails to load is reported with its reason while the other engine's figures
 * still come out; bench-programs.test.ts makes that a test failure. The JIT's optimizing tier needs
 * binaryen in this thread (loadOptimizer); without it only the baseline tier is measured, and the
 * report says why.
 */
import type { JitTimings } from '../src/jit/index.js';
import type { Program } from '../src/program/program.js';
import type { ExecOptions, Executable, Runtime } from '../src/runtime/executable.js';
import type { VerifierFacts } from '../src/verifier/facts.js';

export type EngineName = 'interp' | 'jit' | 'js';
export type BpfEngine = Exclude<EngineName, 'js'>;
export const ENGINE_NAMES: readonly EngineName[] = ['interp', 'jit', 'js'];

/** The JIT's tiers (src/jit/index.ts): the bench times each of them. */
export type JitTier = 'baseline' | 'optimized' | 'auto';
export const JIT_TIERS: readonly JitTier[] = ['optimized', 'baseline', 'auto'];

export type Factory = (program: Program, rt: Runtime, options?: ExecOptions) => Executable;
/** The JIT's options the benchmark uses (a subset of JitOptions). */
export interface JitBuildOptions extends ExecOptions {
  /** The verifier's facts: compile as verified (no bounds checks, no budget). */
  facts?: VerifierFacts;
  jumpTables?: boolean;
  valueTables?: boolean;
  tier?: JitTier;
  /** Events after which an 'auto' build is re-optimized. */
  hotRuns?: number;
}
export type JitFactory = (program: Program, rt: Runtime, options?: JitBuildOptions) => Executable;
/** compileJitTimed: the executable and the time of each of the JIT's load phases. */
export type TimedFactory = (program: Program, rt: Runtime, options?: JitBuildOptions) => { exe: Executable; timings: JitTimings };

export interface Engines {
  readonly interp?: Factory;
  readonly jit?: JitFactory;
  readonly jitTimed?: TimedFactory;
  /** The JIT tiers that can run: all of them, or only 'baseline' when binaryen failed to load. */
  readonly tiers: readonly JitTier[];
  /** Why an engine (or the JIT's optimizing tier) could not be loaded. */
  readonly missing: Partial<Record<BpfEngine | 'optimizer', string>>;
}

// Specifiers in a table, imported one by one (see loadEngines).
const MODULES: Record<BpfEngine, { path: string; factory: string }> = {
  interp: { path: '../src/interp/index.js', factory: 'createInterpreter' },
  jit: { path: '../src/jit/index.js', factory: 'compileJit' },
};

const firstLine = (err: unknown): string => (err instanceof Error ? err.message.split('\n')[0]! : String(err));

async function importModule(path: string): Promise<Record<string, unknown> | string> {
  try {
    return (await import(path)) as Record<string, unknown>;
  } catch (err) {
    return firstLine(err);
  }
}

/** Loads binaryen in this thread for the 'optimized' tier; returns why not, when it fails. */
async function loadOptimizer(mod: Record<string, unknown>): Promise<string | undefined> {
  const load = mod['loadOptimizer'];
  if (typeof load !== 'function') return 'src/jit/index.js does not export loadOptimizer()';
  try {
    await (load as () => Promise<void>)();
    return undefined;
  } catch (err) {
    return firstLine(err);
  }
}

export async function loadEngines(): Promise<Engines> {
  const found: { interp?: Factory; jit?: JitFactory; jitTimed?: TimedFactory } = {};
  const missing: Engines['missing'] = {};
  let optimizer: string | undefined;
  for (const engine of ['interp', 'jit'] as const) {
    const { path, factory } = MODULES[engine];
    const mod = await importModule(path);
    if (typeof mod === 'string') {
      missing[engine] = mod;
    } else if (typeof mod[factory] !== 'function') {
      missing[engine] = `${path} does not export ${factory}()`;
    } else {
      found[engine] = mod[factory] as Factory;
      if (engine !== 'jit') continue;
      if (typeof mod['compileJitTimed'] === 'function') found.jitTimed = mod['compileJitTimed'] as TimedFactory;
      optimizer = await loadOptimizer(mod);
    }
  }
  if (optimizer !== undefined) missing.optimizer = optimizer;
  const tiers = !found.jit ? [] : optimizer === undefined ? JIT_TIERS : JIT_TIERS.filter((t) => t === 'baseline');
  return { ...found, tiers, missing };
}
