/**
 * `bpfjit bench`: every workload of the manifest through every engine and mode, checked against
 * the hand-written JavaScript function before it is timed, plus load latency and verification time.
 * The JIT runs each workload's program verified (no bounds checks, no budget) when the verifier
 * accepts it, else in checked mode, marked in the table.
 */
import { writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { InputError } from '../src/errors.js';
import { HelperRegistry } from '../src/runtime/helpers.js';
import type { Executable, Runtime } from '../src/runtime/executable.js';
import { EngineMemory } from '../src/runtime/memory.js';
import { ENGINE_NAMES, loadEngines, type EngineName, type Engines } from './engines.js';
import { measureLoadTimes, type LoadTimes } from './load-time.js';
import { FULL_BUDGET, QUICK_BUDGET, measure, type Budget } from './measure.js';
import { prepare, type Prepared } from './prepare.js';
import {
  binaryenLine, configurationRows, fallbackNotes, type Fallback, loadRows, markdownTable, resultRows, textTable, variantRows, variantTitle, verifierRows,
  type BenchRecord, type RunRecord,
} from './report.js';
import type { Mode } from './tasks.js';
import { verifyEngine } from './verify.js';
import { measureVerifyTimes } from './verify-time.js';
import { WORKLOADS } from './workloads/index.js';
import type { JitVariant, Workload } from './workload.js';

export type { BenchRecord, RunRecord, VerifierRecord } from './report.js';
export type { EngineName } from './engines.js';
export { WORKLOADS } from './workloads/index.js';

export interface RunBenchOptions {
  /**
   * Workload names (repeatable or comma-separated); `load` selects the load-latency table and
   * `verify` the verification-time table. Default: all.
   */
  filter?: readonly string[];
  /** A short run: smaller time budgets, fewer load repetitions. */
  quick?: boolean;
  /** Write the records as a JSON array to this file. */
  json?: string;
  /** Write the tables as Markdown to this file. */
  markdown?: string;
  /** Engines to run (default all: interp, jit, js). */
  engines?: readonly EngineName[];
  /** Where the report goes (default console.log). */
  log?: (line: string) => void;
}

/** Thrown at the end of a run in which some workload's results disagreed with JavaScript. */
export class BenchVerificationError extends Error {}

/** Order of the modes within a workload. */
const MODES: ReadonlyArray<readonly [EngineName, Mode]> = [
  ['interp', 'event'], ['interp', 'batch'], ['jit', 'event'], ['jit', 'batch'], ['js', 'event'],
];
const LOAD = 'load';
const VERIFY = 'verify';
const VARIANTS: readonly JitVariant[] = ['checked', 'no-value-tables', 'no-jump-tables'];

interface Selection {
  readonly workloads: Workload[];
  readonly load: boolean;
  readonly verify: boolean;
}

function selection(filter: readonly string[] | undefined): Selection {
  const names = (filter ?? []).flatMap((f) => f.split(',')).map((f) => f.trim()).filter(Boolean);
  if (names.length === 0) return { workloads: [...WORKLOADS], load: true, verify: true };
  const known = new Set([...WORKLOADS.map((w) => w.name), LOAD, VERIFY]);
  const unknown = names.filter((n) => !known.has(n));
  if (unknown.length > 0) throw new InputError(`unknown benchmark ${unknown.join(', ')}; choose from ${[...known].join(', ')}`);
  return { workloads: WORKLOADS.filter((w) => names.includes(w.name)), load: names.includes(LOAD), verify: names.includes(VERIFY) };
}

function selectEngines(all: Engines, wanted: readonly EngineName[] | undefined): { engines: Engines; js: boolean } {
  const want = new Set(wanted ?? ENGINE_NAMES);
  const bad = [...want].filter((e) => !ENGINE_NAMES.includes(e));
  if (bad.length > 0) throw new InputError(`unknown engine ${bad.join(', ')}; choose from ${ENGINE_NAMES.join(', ')}`);
  const engines: Engines = {
    ...(want.has('interp') && all.interp ? { interp: all.interp } : {}),
    ...(want.has('jit') && all.jit ? { jit: all.jit, ...(all.jitTimed ? { jitTimed: all.jitTimed } : {}) } : {}),
    missing: all.missing,
  };
  return { engines, js: want.has('js') };
}

/** Every executable of the workload, variants included, named for error messages. */
function allBuilds(p: Prepared): Array<[string, Executable]> {
  const builds: Array<[string, Executable]> = Object.entries(p.executables);
  for (const [variant, exe] of Object.entries(p.variants)) builds.push([`jit (${variant})`, exe]);
  return builds;
}

/** One mode's record; `variant` measures that JIT build instead of the main one. */
function record(p: Prepared, engine: EngineName, mode: Mode, budget: Budget, variant?: JitVariant): RunRecord {
  const build = variant === undefined ? undefined : p.variants[variant];
  const m = measure(p, engine, mode, budget, build);
  const checked = engine === 'jit' && (variant === undefined ? p.jitBuild?.checked === true : variant === 'checked');
  const budgetOnly = engine === 'jit' && !checked && p.jitBuild?.checked === false && p.jitBuild.budget !== undefined;
  return {
    workload: p.workload.name, engine, mode, nsPerOp: m.nsPerOp, opsPerSec: m.opsPerSec, samples: m.samples,
    ...(checked ? { checked: true } : {}), ...(budgetOnly ? { budget: true } : {}), ...(variant === undefined ? {} : { variant }),
  };
}

interface WorkloadOutcome {
  readonly records: RunRecord[];
  /** Why the JIT did not run the program fully verified, when it did not. */
  readonly fallback?: Fallback;
}

/**
 * Verifies, then measures every mode of one workload; returns the records or the reason it was
 * skipped. A JIT variant is measured right after the main JIT build of the same mode, so the two
 * figures of a comparison come from neighbouring tasks of one run.
 */
function benchWorkload(w: Workload, rt: Runtime, engines: Engines, js: boolean, budget: Budget): WorkloadOutcome | string {
  const errors: string[] = [];
  const p = prepare(w, 'full', rt, engines, errors);
  for (const [name, exe] of allBuilds(p)) {
    const problem = verifyEngine(p, exe);
    if (problem) errors.push(`${name} ${problem}`);
  }
  if (errors.length > 0) return errors.join('; ');
  const records: RunRecord[] = [];
  for (const [engine, mode] of MODES) {
    if (engine === 'js' ? !js : !p.executables[engine]) continue;
    records.push(record(p, engine, mode, budget));
    if (engine !== 'jit') continue;
    for (const variant of VARIANTS) if (p.variants[variant]) records.push(record(p, engine, mode, budget, variant));
  }
  const build = p.jitBuild;
  const fallback: Fallback | undefined = build?.checked ? { mode: 'checked', reason: build.reason }
    : build?.budget ? { mode: 'budget', reason: build.budget.reason } : undefined;
  return { records, ...(fallback ? { fallback } : {}) };
}

function environmentLine(engines: Engines): string {
  const missing = Object.entries(engines.missing).map(([e, why]) => `${e} missing (${why})`);
  const present = (['interp', 'jit'] as const).filter((e) => engines[e]);
  return [`node ${process.version}`, cpus()[0]?.model ?? 'unknown cpu', `engines: ${[...present, 'js'].join(', ')}`, ...missing].join('; ');
}

/** The tables after the main one, each with its title, for the terminal and for Markdown. */
function extraTables(records: readonly BenchRecord[]): Array<{ title: string; rows: string[][] }> {
  const tables: Array<{ title: string; rows: string[][] }> = [];
  for (const variant of VARIANTS) {
    const rows = variantRows(records, variant);
    if (rows) tables.push({ title: variantTitle(variant), rows });
  }
  const verifier = verifierRows(records);
  if (verifier) tables.push({ title: 'verification time (median time of one verify() call)', rows: verifier });
  return tables;
}

interface Report {
  readonly records: readonly BenchRecord[];
  readonly load: LoadTimes | undefined;
  readonly fallbacks: ReadonlyMap<string, Fallback>;
  readonly env: string;
}

function writeOutputs(options: RunBenchOptions, report: Report): void {
  const { records, load, fallbacks, env } = report;
  if (options.json) writeFileSync(options.json, `${JSON.stringify(records, null, 2)}\n`);
  if (!options.markdown) return;
  const parts = [`Measured with ${env}. ns/event is the median of the samples.`];
  if (records.some(isMainRecord)) parts.push('', markdownTable(resultRows(records)), ...fallbackNotes(fallbacks).map((n) => `\n${n}`));
  for (const t of extraTables(records)) parts.push('', `${t.title}:`, '', markdownTable(t.rows));
  if (load) {
    const configs = configurationRows(load);
    parts.push('', markdownTable(loadRows(load)), '', binaryenLine(load), ...(configs ? ['', markdownTable(configs)] : []), '', ...load.notes.map((n) => `- ${n}`));
  }
  writeFileSync(options.markdown, `${parts.join('\n')}\n`);
}

const isMainRecord = (r: BenchRecord): boolean => r.engine !== 'verifier' && r.variant === undefined;

function logTables(log: (line: string) => void, records: readonly BenchRecord[], fallbacks: ReadonlyMap<string, Fallback>): void {
  if (records.some(isMainRecord)) log(`\n${textTable(resultRows(records))}`);
  for (const note of fallbackNotes(fallbacks)) log(note);
  for (const t of extraTables(records)) log(`\n${t.title}:\n${textTable(t.rows)}`);
}

export async function runBench(options: RunBenchOptions = {}): Promise<void> {
  const log = options.log ?? ((line: string) => console.log(line));
  const { workloads, load, verify } = selection(options.filter);
  const { engines, js } = selectEngines(await loadEngines(), options.engines);
  const budget = options.quick ? QUICK_BUDGET : FULL_BUDGET;
  const rt: Runtime = { mem: new EngineMemory({ cpus: 1 }), helpers: new HelperRegistry() };
  const env = environmentLine(engines);
  log(env);
  // Load latency first, so its "first load in this process" row really is the process's first JIT compile.
  let loadTimes: LoadTimes | undefined;
  if (load) {
    loadTimes = measureLoadTimes(rt, engines, options.quick ? 5 : 20, options.quick ? 1 : 3);
    log(`\n${textTable(loadRows(loadTimes))}\n${binaryenLine(loadTimes)}`);
    const configs = configurationRows(loadTimes);
    if (configs) log(`\n${textTable(configs)}`);
    for (const note of loadTimes.notes) log(`  ${note}`);
  }
  const records: BenchRecord[] = [];
  const failures: string[] = [];
  const fallbacks = new Map<string, Fallback>();
  for (const w of workloads) {
    const t0 = performance.now();
    const out = benchWorkload(w, rt, engines, js, budget);
    if (typeof out === 'string') {
      failures.push(`${w.name}: ${out}`);
      log(`${w.name}: NOT MEASURED, results disagree with the JavaScript version: ${out}`);
      continue;
    }
    records.push(...out.records);
    if (out.fallback !== undefined) fallbacks.set(w.name, out.fallback);
    const jit = !engines.jit ? '' : out.fallback === undefined ? '; jit: verified'
      : out.fallback.mode === 'checked' ? '; jit: checked (not verified)' : '; jit: verified safe, budget kept';
    log(`${w.name}: ${w.summary} (results match JavaScript${jit}; measured in ${((performance.now() - t0) / 1000).toFixed(1)} s)`);
  }
  if (verify) records.push(...measureVerifyTimes(budget));
  logTables(log, records, fallbacks);
  writeOutputs(options, { records, load: loadTimes, fallbacks, env });
  if (failures.length > 0) throw new BenchVerificationError(`${failures.length} workload(s) failed verification:\n${failures.join('\n')}`);
}
