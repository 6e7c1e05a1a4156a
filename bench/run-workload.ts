/**
 * One workload's measurements: every engine and mode, and for the JIT every tier. The optimized and
 * baseline builds are compiled in that tier up front (prepare.ts). The 'auto' build is loaded as a
 * program would be by default, with a small `hotRuns`; its timed call runs, with a turn of the event
 * loop after each call, until the optimized module has replaced the baseline one (or AUTO_TIMEOUT_MS
 * passed, which the record says), and only then is it timed like the others.
 */
import type { Executable, Runtime } from '../src/runtime/executable.js';
import type { EngineName, Engines, JitTier } from './engines.js';
import { measure, nextTurn, type Budget } from './measure.js';
import { prepare, type Prepared } from './prepare.js';
import type { Fallback, RunRecord } from './report.js';
import { timedCall, type Mode } from './tasks.js';
import { verifyEngine } from './verify.js';
import type { JitVariant, Workload } from './workload.js';

/** Order of the modes within a workload. */
const MODES: ReadonlyArray<readonly [EngineName, Mode]> = [
  ['interp', 'event'], ['interp', 'batch'], ['jit', 'event'], ['jit', 'batch'], ['js', 'event'],
];
export const VARIANTS: readonly JitVariant[] = ['checked', 'no-value-tables', 'no-jump-tables'];

/** Events after which the 'auto' build asks for its optimized module: soon, so the bench waits little. */
export const AUTO_HOT_RUNS = 100;
/** Longest wait for the 'auto' build to reach the optimized tier (the worker starts in ~0.4 s). */
export const AUTO_TIMEOUT_MS = 10_000;

/** What the JIT's tier getter says (src/jit/instance.ts); undefined for another engine. */
export function tierOf(exe: Executable): 'baseline' | 'optimized' | undefined {
  const tier = (exe as { tier?: unknown }).tier;
  return tier === 'baseline' || tier === 'optimized' ? tier : undefined;
}

/** The 'auto' build once it has run: how long it took to reach the optimized tier, if it did. */
interface AutoBuild {
  readonly exe: Executable;
  /** From the first timed call to the first one the optimized module ran (undefined: it never got there). */
  readonly tierUpMs: number | undefined;
}

export interface WorkloadOutcome {
  readonly records: RunRecord[];
  /** Why the JIT did not run the program fully verified, when it did not. */
  readonly fallback?: Fallback;
}

/** Every executable of the workload, variants included, named for error messages. */
function allBuilds(p: Prepared): Array<[string, Executable]> {
  const builds: Array<[string, Executable]> = Object.entries(p.executables);
  for (const [tier, exe] of Object.entries(p.tiers)) if (exe !== p.executables.jit) builds.push([`jit (${tier})`, exe]);
  for (const [variant, exe] of Object.entries(p.variants)) builds.push([`jit (${variant})`, exe]);
  return builds;
}

/**
 * Runs the auto build's timed call (a batch) until its tier is 'optimized', a turn of the event loop
 * after each call: V8 needs turns to install its own code.
 */
async function reachOptimized(p: Prepared, exe: Executable, mode: Mode): Promise<number | undefined> {
  // Only batch events count towards tiering up (src/jit/instance.ts): per event, 'auto' stays baseline.
  if (mode === 'event') return undefined;
  const call = timedCall(p, 'jit', mode, 1, exe);
  const t0 = performance.now();
  while (tierOf(exe) !== 'optimized') {
    if (performance.now() - t0 > AUTO_TIMEOUT_MS) return undefined;
    call.fn();
    await nextTurn();
  }
  return performance.now() - t0;
}

/** Loads the auto build and runs it until it tiers up; its results are checked in the tier it reached. */
async function autoBuild(p: Prepared, engines: Engines, rt: Runtime, mode: Mode, errors: string[]): Promise<AutoBuild | undefined> {
  const exe = engines.jit!(p.program, rt, { ...p.jitOptions, tier: 'auto', hotRuns: AUTO_HOT_RUNS });
  const tierUpMs = await reachOptimized(p, exe, mode);
  const problem = verifyEngine(p, exe);
  if (problem) errors.push(`jit (auto, ${tierOf(exe) ?? '?'} tier) ${problem}`);
  return problem ? undefined : { exe, tierUpMs };
}

/** One timed build: which executable, and what the record says about it. */
interface Build {
  readonly exe?: Executable;
  readonly variant?: JitVariant;
  readonly auto?: AutoBuild;
}

/** One mode's record; a JIT record says which tier its samples ran (read after they ran). */
async function record(p: Prepared, engine: EngineName, mode: Mode, budget: Budget, build: Build = {}): Promise<RunRecord> {
  const { variant, auto } = build;
  const exe = auto?.exe ?? build.exe;
  const m = await measure(p, engine, mode, budget, exe);
  const checked = engine === 'jit' && (variant === undefined ? p.jitBuild?.checked === true : variant === 'checked');
  const budgetOnly = engine === 'jit' && !checked && p.jitBuild?.checked === false && p.jitBuild.budget !== undefined;
  const tier = engine === 'jit' ? tierOf(exe ?? p.executables.jit!) : undefined;
  return {
    workload: p.workload.name, engine, mode, ...(tier ? { tier } : {}),
    nsPerOp: m.nsPerOp, opsPerSec: m.opsPerSec, samples: m.samples,
    ...(checked ? { checked: true } : {}), ...(budgetOnly ? { budget: true } : {}), ...(variant === undefined ? {} : { variant }),
    ...(auto ? { auto: true, ...(auto.tierUpMs === undefined ? {} : { tierUpMs: auto.tierUpMs }) } : {}),
  };
}

interface Context {
  readonly rt: Runtime;
  readonly engines: Engines;
  readonly budget: Budget;
  readonly step: (what: string) => void;
  readonly errors: string[];
}

/**
 * The build of one tier to time. An auto build of its own per mode: per event it stays baseline (only
 * batch events count towards tiering up), by batches it is run until it tiers up before it is timed.
 */
async function tierBuild(p: Prepared, tier: JitTier, mode: Mode, ctx: Context): Promise<Build | undefined> {
  if (tier !== 'auto') return p.tiers[tier] ? { exe: p.tiers[tier] } : undefined;
  ctx.step(`jit ${mode} (auto: running until it tiers up)`);
  const build = await autoBuild(p, ctx.engines, ctx.rt, mode, ctx.errors);
  return build ? { auto: build } : undefined;
}

/**
 * The JIT's records of one mode: the main build (optimized tier), each variant right after it (so
 * the two figures of a comparison come from neighbouring tasks), the baseline tier, then 'auto'.
 */
async function jitRecords(p: Prepared, mode: Mode, ctx: Context): Promise<RunRecord[]> {
  const out: RunRecord[] = [];
  for (const tier of ctx.engines.tiers) {
    const build = await tierBuild(p, tier, mode, ctx);
    if (!build) continue;
    ctx.step(`jit ${mode} (${tier})`);
    out.push(await record(p, 'jit', mode, ctx.budget, build));
    if (build.exe !== p.executables.jit) continue;
    for (const variant of VARIANTS) {
      if (!p.variants[variant]) continue;
      ctx.step(`jit ${mode} (${variant})`);
      out.push(await record(p, 'jit', mode, ctx.budget, { exe: p.variants[variant], variant }));
    }
  }
  return out;
}

/**
 * Verifies, then measures every mode of one workload; returns the records or the reason it was
 * skipped.
 */
export async function benchWorkload(w: Workload, rt: Runtime, engines: Engines, js: boolean, budget: Budget,
  step: (what: string) => void): Promise<WorkloadOutcome | string> {
  const errors: string[] = [];
  step('verifying and compiling');
  const p = prepare(w, 'full', rt, engines, errors);
  for (const [name, exe] of allBuilds(p)) {
    const problem = verifyEngine(p, exe);
    if (problem) errors.push(`${name} ${problem}`);
  }
  if (errors.length > 0) return errors.join('; ');
  const ctx: Context = { rt, engines, budget, step, errors };
  const records: RunRecord[] = [];
  for (const [engine, mode] of MODES) {
    if (engine === 'js' ? !js : !p.executables[engine]) continue;
    if (engine === 'jit') {
      records.push(...await jitRecords(p, mode, ctx));
      continue;
    }
    step(`${engine} ${mode}`);
    records.push(await record(p, engine, mode, budget));
  }
  if (errors.length > 0) return errors.join('; ');
  const build = p.jitBuild;
  const fallback: Fallback | undefined = build?.checked ? { mode: 'checked', reason: build.reason }
    : build?.budget ? { mode: 'budget', reason: build.budget.reason } : undefined;
  return { records, ...(fallback ? { fallback } : {}) };
}
