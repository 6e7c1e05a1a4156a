/**
 * `bpfjit bench`: every workload of the manifest through every engine and mode, checked against
 * the hand-written JavaScript function before it is timed, plus load latency.
 */
import { writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { InputError } from '../src/errors.js';
import { HelperRegistry } from '../src/runtime/helpers.js';
import type { Runtime } from '../src/runtime/executable.js';
import { EngineMemory } from '../src/runtime/memory.js';
import { ENGINE_NAMES, loadEngines, type EngineName, type Engines } from './engines.js';
import { measureLoadTimes, type LoadTimes } from './load-time.js';
import { FULL_BUDGET, QUICK_BUDGET, measure, type Budget } from './measure.js';
import { prepare } from './prepare.js';
import { binaryenLine, loadRows, markdownTable, resultRows, textTable, type BenchRecord } from './report.js';
import type { Mode } from './tasks.js';
import { verifyEngine } from './verify.js';
import { WORKLOADS } from './workloads/index.js';
import type { Workload } from './workload.js';

export type { BenchRecord } from './report.js';
export type { EngineName } from './engines.js';
export { WORKLOADS } from './workloads/index.js';

export interface RunBenchOptions {
  /** Workload names (repeatable or comma-separated); `load` selects the load-latency table. Default: all. */
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

function selection(filter: readonly string[] | undefined): { workloads: Workload[]; load: boolean } {
  const names = (filter ?? []).flatMap((f) => f.split(',')).map((f) => f.trim()).filter(Boolean);
  if (names.length === 0) return { workloads: [...WORKLOADS], load: true };
  const known = new Set([...WORKLOADS.map((w) => w.name), LOAD]);
  const unknown = names.filter((n) => !known.has(n));
  if (unknown.length > 0) throw new InputError(`unknown benchmark ${unknown.join(', ')}; choose from ${[...known].join(', ')}`);
  return { workloads: WORKLOADS.filter((w) => names.includes(w.name)), load: names.includes(LOAD) };
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

/** Verifies, then measures every mode of one workload; returns the records or the reason it was skipped. */
function benchWorkload(w: Workload, rt: Runtime, engines: Engines, js: boolean, budget: Budget): BenchRecord[] | string {
  const errors: string[] = [];
  const p = prepare(w, 'full', rt, engines, errors);
  for (const [name, exe] of Object.entries(p.executables)) {
    const problem = verifyEngine(p, exe);
    if (problem) errors.push(`${name} ${problem}`);
  }
  if (errors.length > 0) return errors.join('; ');
  const records: BenchRecord[] = [];
  for (const [engine, mode] of MODES) {
    if (engine === 'js' ? !js : !p.executables[engine]) continue;
    const m = measure(p, engine, mode, budget);
    records.push({ workload: w.name, engine, mode, nsPerOp: m.nsPerOp, opsPerSec: m.opsPerSec, samples: m.samples });
  }
  return records;
}

function environmentLine(engines: Engines): string {
  const missing = Object.entries(engines.missing).map(([e, why]) => `${e} missing (${why})`);
  const present = (['interp', 'jit'] as const).filter((e) => engines[e]);
  return [`node ${process.version}`, cpus()[0]?.model ?? 'unknown cpu', `engines: ${[...present, 'js'].join(', ')}`, ...missing].join('; ');
}

function writeOutputs(options: RunBenchOptions, records: BenchRecord[], load: LoadTimes | undefined, env: string): void {
  if (options.json) writeFileSync(options.json, `${JSON.stringify(records, null, 2)}\n`);
  if (!options.markdown) return;
  const parts = [`Measured with ${env}. ns/event is the median of the samples.`, '', markdownTable(resultRows(records))];
  if (load) parts.push('', markdownTable(loadRows(load)), '', binaryenLine(load), '', ...load.notes.map((n) => `- ${n}`));
  writeFileSync(options.markdown, `${parts.join('\n')}\n`);
}

export async function runBench(options: RunBenchOptions = {}): Promise<void> {
  const log = options.log ?? ((line: string) => console.log(line));
  const { workloads, load } = selection(options.filter);
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
    for (const note of loadTimes.notes) log(`  ${note}`);
  }
  const records: BenchRecord[] = [];
  const failures: string[] = [];
  for (const w of workloads) {
    const t0 = performance.now();
    const out = benchWorkload(w, rt, engines, js, budget);
    if (typeof out === 'string') {
      failures.push(`${w.name}: ${out}`);
      log(`${w.name}: NOT MEASURED, results disagree with the JavaScript version: ${out}`);
      continue;
    }
    records.push(...out);
    log(`${w.name}: ${w.summary} (verified, measured in ${((performance.now() - t0) / 1000).toFixed(1)} s)`);
  }
  if (records.length > 0) log(`\n${textTable(resultRows(records))}`);
  writeOutputs(options, records, loadTimes, env);
  if (failures.length > 0) throw new BenchVerificationError(`${failures.length} workload(s) failed verification:\n${failures.join('\n')}`);
}
