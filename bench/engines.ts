/**
 * Loads the engines. The interpreter (src/interp) and the JIT (src/jit, which imports binaryen) are
 * imported dynamically, so that an engine that fails to load (binaryen missing or broken) is reported
 * with its reason while the other engine's figures still come out; bench-programs.test.ts makes that
 * a test failure.
 */
import type { Program } from '../src/program/program.js';
import type { ExecOptions, Executable, Runtime } from '../src/runtime/executable.js';
import type { VerifierFacts } from '../src/verifier/facts.js';

export type EngineName = 'interp' | 'jit' | 'js';
export type BpfEngine = Exclude<EngineName, 'js'>;
export const ENGINE_NAMES: readonly EngineName[] = ['interp', 'jit', 'js'];

export type Factory = (program: Program, rt: Runtime, options?: ExecOptions) => Executable;
/** The JIT's options the benchmark uses (a subset of JitOptions). */
export interface JitBuildOptions extends ExecOptions {
  /** The verifier's facts: compile as verified (no bounds checks, no budget). */
  facts?: VerifierFacts;
  jumpTables?: boolean;
  valueTables?: boolean;
}
export type JitFactory = (program: Program, rt: Runtime, options?: JitBuildOptions) => Executable;
/** Load-phase timings in milliseconds, as compileJitTimed reports them (field names are the JIT's). */
export type PhaseTimings = Readonly<Record<string, number>>;
export type TimedFactory = (program: Program, rt: Runtime, options?: ExecOptions) => { exe: Executable; timings: PhaseTimings };

export interface Engines {
  readonly interp?: Factory;
  readonly jit?: JitFactory;
  readonly jitTimed?: TimedFactory;
  /** Why an engine could not be loaded. */
  readonly missing: Partial<Record<BpfEngine, string>>;
}

// Specifiers in a table, imported one by one (see loadEngines).
const MODULES: Record<BpfEngine, { path: string; factory: string }> = {
  interp: { path: '../src/interp/index.js', factory: 'createInterpreter' },
  jit: { path: '../src/jit/index.js', factory: 'compileJit' },
};

async function importModule(path: string): Promise<Record<string, unknown> | string> {
  try {
    return (await import(path)) as Record<string, unknown>;
  } catch (err) {
    return err instanceof Error ? err.message.split('\n')[0]! : String(err);
  }
}

export async function loadEngines(): Promise<Engines> {
  const found: { interp?: Factory; jit?: JitFactory; jitTimed?: TimedFactory } = {};
  const missing: Partial<Record<BpfEngine, string>> = {};
  for (const engine of ['interp', 'jit'] as const) {
    const { path, factory } = MODULES[engine];
    const mod = await importModule(path);
    if (typeof mod === 'string') {
      missing[engine] = mod;
    } else if (typeof mod[factory] !== 'function') {
      missing[engine] = `${path} does not export ${factory}()`;
    } else {
      found[engine] = mod[factory] as Factory;
      if (engine === 'jit' && typeof mod['compileJitTimed'] === 'function') found.jitTimed = mod['compileJitTimed'] as TimedFactory;
    }
  }
  return { ...found, missing };
}

/** The numeric fields of a timings record, in its own order (nested objects are flattened). */
export function phaseEntries(timings: unknown, prefix = ''): Array<[string, number]> {
  if (typeof timings !== 'object' || timings === null) return [];
  const out: Array<[string, number]> = [];
  for (const [key, value] of Object.entries(timings)) {
    if (typeof value === 'number') out.push([prefix + key, value]);
    else out.push(...phaseEntries(value, `${prefix}${key}.`));
  }
  return out;
}
