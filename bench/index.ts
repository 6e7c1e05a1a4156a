/**
 * `bpfjit bench`: every workload of the manifest through every engine and mode, checked against
 * the hand-written JavaScript function before it is timed, plus load latency and verification time.
 * The JIT runs each workload's program verified (no bounds checks, no budget) when the verifier
 * accepts it, else in checked mode, marked in the table.
 */
import { cpus, loadavg } from 'node:os';
import { writeOutputFile } from '../src/cli/output-path.js';
import { InputError, InternalError } from '../src/errors.js';
import { HelperRegistry } from '../src/runtime/helpers.js';
import type { Runtime } from '../src/runtime/executable.js';
import { EngineMemory } from '../src/runtime/memory.js';
import { LOAD, LOAD_1M, LOAD_OBJECTS, VERIFY, WORKERS } from './catalog.js';
import { ENGINE_NAMES, loadEngines, type EngineName, type Engines } from './engines.js';
import { load1mRows, load1mTitle, measureLoad1m } from './load-1m.js';
import { cliRunLine, loadTables } from './load-report.js';
import { FULL_LOAD_PLAN, measureLoadTimes, QUICK_LOAD_PLAN, type LoadTimes } from './load-time.js';
import { FULL_BUDGET, QUICK_BUDGET } from './measure.js';
import { NO_PROGRESS, progressOn, type Progress } from './progress.js';
import {
  fallbackNotes, type Fallback, markdownTable, resultRows, textTable, TIER_TITLE, tierNotes, tierRows,
  variantRows, variantTitle, verifierRows, wrap, type BenchRecord,
} from './report.js';
import { AUTO_TIMEOUT_MS, benchWorkload, VARIANTS, type WorkloadOutcome } from './run-workload.js';
import { measureVerifyTimes } from './verify-time.js';
import { MAP_TITLE, MAP_WORKLOAD_NAMES, mapRows, measureMaps, type MapRecord } from './maps/index.js';
import { measureObjects, OBJECT_TITLE, OBJECT_WORKLOAD_NAMES } from './objects/index.js';
import { FULL_OBJECTS_PLAN, measureObjectLoads, objectLoadRows, objectLoadTitle, QUICK_OBJECTS_PLAN } from './objects/load.js';
import { WORKLOADS } from './workloads/index.js';
import { defaultWorkers, FULL_WORKER_PLAN, measureWorkers, QUICK_WORKER_PLAN, workerRows, workerTitle, type WorkerRecord } from './workers/index.js';
import type { Workload } from './workload.js';

export type { BenchRecord, RunRecord, VerifierRecord } from './report.js';
export type { EngineName } from './engines.js';
export { WORKLOADS } from './workloads/index.js';

export interface RunBenchOptions {
  /**
   * Workload names (repeatable or comma-separated); `load` selects the load-latency table,
   * `verify` the verification-time table and `load-1m` the 1,000,000-slot loading table. Default: all.
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
  /** Where the report goes, a line at a time (default console.log). */
  log?: (line: string) => void;
  /** Progress while measuring (default: a line on stderr when it is a terminal and `log` is not given). */
  progress?: Progress;
  /** Workers of the worker-thread table (default os.availableParallelism()). */
  workers?: number;
}

/**
 * Thrown at the end of a run in which some workload's results disagreed with JavaScript: an engine
 * computed a wrong result, a bug in bpfjit (the CLI exits 70). The disagreements were printed above.
 */
export class BenchVerificationError extends InternalError {}

interface Selection {
  readonly workloads: Workload[];
  readonly load: boolean;
  readonly verify: boolean;
  readonly load1m: boolean;
  readonly loadObjects: boolean;
  readonly workers: boolean;
  /** The map workloads selected (bench/maps). */
  readonly maps: string[];
  /** The object workloads selected (bench/objects). */
  readonly objects: string[];
}

function selection(filter: readonly string[] | undefined): Selection {
  const names = (filter ?? []).flatMap((f) => f.split(',')).map((f) => f.trim()).filter(Boolean);
  if (names.length === 0) {
    return { workloads: [...WORKLOADS], load: true, verify: true, load1m: true, loadObjects: true, workers: true, maps: [...MAP_WORKLOAD_NAMES], objects: [...OBJECT_WORKLOAD_NAMES] };
  }
  const known = new Set([...WORKLOADS.map((w) => w.name), ...MAP_WORKLOAD_NAMES, ...OBJECT_WORKLOAD_NAMES, LOAD, VERIFY, LOAD_1M, LOAD_OBJECTS, WORKERS]);
  const unknown = names.filter((n) => !known.has(n));
  if (unknown.length > 0) throw new InputError(`unknown benchmark ${unknown.join(', ')}; choose from ${[...known].join(', ')}`);
  return {
    workloads: WORKLOADS.filter((w) => names.includes(w.name)), load: names.includes(LOAD), verify: names.includes(VERIFY), load1m: names.includes(LOAD_1M), loadObjects: names.includes(LOAD_OBJECTS), workers: names.includes(WORKERS),
    maps: MAP_WORKLOAD_NAMES.filter((n) => names.includes(n)), objects: OBJECT_WORKLOAD_NAMES.filter((n) => names.includes(n)),
  };
}

function selectEngines(all: Engines, wanted: readonly EngineName[] | undefined): { engines: Engines; js: boolean } {
  const want = new Set(wanted ?? ENGINE_NAMES);
  const bad = [...want].filter((e) => !ENGINE_NAMES.includes(e));
  if (bad.length > 0) throw new InputError(`unknown engine ${bad.join(', ')}; choose from ${ENGINE_NAMES.join(', ')}`);
  const engines: Engines = {
    ...(want.has('interp') && all.interp ? { interp: all.interp } : {}),
    ...(want.has('jit') && all.jit ? { jit: all.jit, ...(all.jitTimed ? { jitTimed: all.jitTimed } : {}) } : {}),
    tiers: want.has('jit') ? all.tiers : [],
    missing: all.missing,
  };
  return { engines, js: want.has('js') };
}

function environmentLine(engines: Engines): string {
  const missing = Object.entries(engines.missing).map(([e, why]) => (e === 'optimizer'
    ? `the JIT's optimized tier missing (binaryen: ${why})` : `${e} missing (${why})`));
  const present = (['interp', 'jit'] as const).filter((e) => engines[e]);
  // The machine is shared: its load when the run starts says how far to trust the figures.
  const machine = `${cpus()[0]?.model ?? 'unknown cpu'} (${cpus().length} cores, load average ${loadavg()[0]!.toFixed(1)})`;
  return [`node ${process.version}`, machine, `engines: ${[...present, 'js'].join(', ')}`, ...missing].join('; ');
}

/** The tables after the main one, each with its title, for the terminal and for Markdown. */
function extraTables(records: readonly BenchRecord[]): Array<{ title: string; rows: string[][] }> {
  const tables: Array<{ title: string; rows: string[][] }> = [];
  const tiers = tierRows(records);
  if (tiers) tables.push({ title: TIER_TITLE, rows: tiers });
  for (const variant of VARIANTS) {
    const rows = variantRows(records, variant);
    if (rows) tables.push({ title: variantTitle(variant), rows });
  }
  const verifier = verifierRows(records);
  if (verifier) tables.push({ title: 'verification time (median time of one verify() call)', rows: verifier });
  return tables;
}

/** Footnotes of the main table: JIT builds not fully verified, 'auto' builds that never tiered up. */
const mainNotes = (records: readonly BenchRecord[], fallbacks: ReadonlyMap<string, Fallback>): string[] =>
  [...fallbackNotes(fallbacks), ...tierNotes(records, AUTO_TIMEOUT_MS)];

interface Report {
  readonly records: readonly BenchRecord[];
  readonly load: LoadTimes | undefined;
  readonly fallbacks: ReadonlyMap<string, Fallback>;
  readonly env: string;
  /** The load-1m table, when measured. */
  readonly load1m?: { readonly title: string; readonly rows: string[][] };
  /** The load-objects table, when measured. */
  readonly loadObjects?: { readonly title: string; readonly rows: string[][] };
  /** The map workloads' records and table, when measured. */
  readonly maps?: { readonly records: readonly MapRecord[]; readonly title: string; readonly rows: string[][] };
  /** The object workloads' records and table, when measured. */
  readonly objects?: { readonly records: readonly MapRecord[]; readonly title: string; readonly rows: string[][] };
  /** The worker-thread table, when measured. */
  readonly workers?: { readonly records: readonly WorkerRecord[]; readonly title: string; readonly rows: string[][] };
}

/** The Markdown file: prose stays unwrapped there (Markdown joins a paragraph's lines anyway). */
function markdownReport(report: Report): string {
  const { records, load, fallbacks, env } = report;
  const parts = [`Measured with ${env}. ns/event is the median of the samples.`];
  if (records.some(isMainRecord)) parts.push('', markdownTable(resultRows(records)), ...mainNotes(records, fallbacks).map((n) => `\n${n}`));
  for (const t of [...extraTables(records), ...(report.load1m ? [report.load1m] : []), ...(report.loadObjects ? [report.loadObjects] : []), ...(report.maps ? [report.maps] : []), ...(report.objects ? [report.objects] : []), ...(report.workers ? [report.workers] : [])]) {
    parts.push('', `${t.title}:`, '', markdownTable(t.rows));
  }
  if (load) {
    for (const t of loadTables(load)) parts.push('', `${t.title}:`, '', markdownTable(t.rows));
    parts.push('', cliRunLine(load), '', ...load.notes.map((n) => `- ${n}`));
  }
  return `${parts.join('\n')}\n`;
}

function writeOutputs(options: RunBenchOptions, report: Report): void {
  if (options.json) writeOutputFile('--json', options.json, `${JSON.stringify([...report.records, ...(report.maps?.records ?? []), ...(report.objects?.records ?? []), ...(report.workers?.records ?? [])], null, 2)}\n`);
  if (options.markdown) writeOutputFile('--markdown', options.markdown, markdownReport(report));
}

const isMainRecord = (r: BenchRecord): boolean => r.engine !== 'verifier' && r.variant === undefined;

/** Report output: prose wrapped to LINE_WIDTH, tables as they are; the progress line cleared first. */
interface Output {
  readonly prose: (text: string, indent?: string) => void;
  readonly table: (rows: readonly string[][]) => void;
  readonly blank: () => void;
}

function output(log: (line: string) => void, progress: Progress): Output {
  const line = (l: string): void => {
    progress.clear();
    log(l);
  };
  return {
    prose: (text, indent) => wrap(text, indent).forEach(line),
    table: (rows) => textTable(rows).split('\n').forEach(line),
    blank: () => line(''),
  };
}

function logTables(out: Output, records: readonly BenchRecord[], fallbacks: ReadonlyMap<string, Fallback>, more: ReadonlyArray<{ title: string; rows: string[][] }>): void {
  if (records.some(isMainRecord)) {
    out.blank();
    out.table(resultRows(records));
  }
  for (const note of mainNotes(records, fallbacks)) out.prose(note);
  for (const t of [...extraTables(records), ...more]) {
    out.blank();
    out.prose(`${t.title}:`);
    out.table(t.rows);
  }
}

function logLoadTimes(out: Output, lt: LoadTimes): void {
  for (const t of loadTables(lt)) {
    out.blank();
    out.prose(`${t.title}:`);
    out.table(t.rows);
  }
  out.blank();
  out.prose(cliRunLine(lt));
  for (const note of lt.notes) out.prose(`  ${note}`, '    ');
}

/** "switch: 64-case switch ... (results match JavaScript; jit: verified; measured in 2.0 s)". */
function workloadLine(w: Workload, engines: Engines, outcome: WorkloadOutcome, seconds: number): string {
  const jit = !engines.jit ? '' : outcome.fallback === undefined ? '; jit: verified'
    : outcome.fallback.mode === 'checked' ? '; jit: checked (not verified)' : '; jit: verified safe, budget kept';
  return `${w.name}: ${w.summary} (results match JavaScript${jit}; measured in ${seconds.toFixed(1)} s)`;
}

export async function runBench(options: RunBenchOptions = {}): Promise<void> {
  const progress = options.progress ?? (options.log ? NO_PROGRESS : progressOn(process.stderr));
  const out = output(options.log ?? ((line: string) => console.log(line)), progress);
  try {
    await benchAll(options, out, progress);
  } finally {
    progress.clear();
  }
}

async function benchAll(options: RunBenchOptions, out: Output, progress: Progress): Promise<void> {
  const { workloads, load, verify, load1m, loadObjects, workers, maps, objects } = selection(options.filter);
  const { engines, js } = selectEngines(await loadEngines(), options.engines);
  const budget = options.quick ? QUICK_BUDGET : FULL_BUDGET;
  const rt: Runtime = { mem: new EngineMemory({ cpus: 1 }), helpers: new HelperRegistry() };
  const env = environmentLine(engines);
  out.prose(env);
  const steps = workloads.length + (load ? 1 : 0) + (verify ? 1 : 0) + (load1m ? 1 : 0) + (loadObjects ? 1 : 0) + (maps.length > 0 ? 1 : 0) + (objects.length > 0 ? 1 : 0) + (workers ? 1 : 0);
  let done = 0;
  const at = (what: string): void => progress.show(`bench [${done + 1}/${steps}] ${what}`);
  // Load latency first: its fresh processes then share the machine with nothing of this one's.
  let loadTimes: LoadTimes | undefined;
  if (load) {
    at('load latency (in this process and in fresh ones)');
    loadTimes = await measureLoadTimes(rt, engines, options.quick ? QUICK_LOAD_PLAN : FULL_LOAD_PLAN);
    if (loadTimes) logLoadTimes(out, loadTimes);
    done++;
  }
  let objectLoadTable: Report['loadObjects'];
  if (loadObjects) {
    at('load time of objects');
    const plan = options.quick ? QUICK_OBJECTS_PLAN : FULL_OBJECTS_PLAN;
    objectLoadTable = { title: objectLoadTitle(plan), rows: objectLoadRows(await measureObjectLoads(plan)) };
    done++;
  }
  const records: BenchRecord[] = [];
  const failures: string[] = [];
  const fallbacks = new Map<string, Fallback>();
  for (const w of workloads) {
    const t0 = performance.now();
    const outcome = await benchWorkload(w, rt, engines, js, budget, (what) => at(`${w.name}: ${what}`));
    done++;
    if (typeof outcome === 'string') {
      failures.push(`${w.name}: ${outcome}`);
      out.prose(`${w.name}: NOT MEASURED, results disagree with the JavaScript version: ${outcome}`);
      continue;
    }
    records.push(...outcome.records);
    if (outcome.fallback !== undefined) fallbacks.set(w.name, outcome.fallback);
    out.prose(workloadLine(w, engines, outcome, (performance.now() - t0) / 1000));
  }
  if (verify) {
    at('verification time');
    records.push(...await measureVerifyTimes(budget));
    done++;
  }
  let mapTable: Report['maps'];
  if (maps.length > 0) {
    const mapRecords = await measureMaps(maps, budget, (what) => at(`maps: ${what}`));
    mapTable = { records: mapRecords, title: MAP_TITLE, rows: mapRows(mapRecords) };
    done++;
  }
  let objectTable: Report['objects'];
  if (objects.length > 0) {
    const objectRecords = await measureObjects(objects, budget, (what) => at(`objects: ${what}`));
    objectTable = { records: objectRecords, title: OBJECT_TITLE, rows: mapRows(objectRecords) };
    done++;
  }
  let workerTable: Report['workers'];
  if (workers) {
    const n = options.workers ?? defaultWorkers();
    const workerRecords = await measureWorkers({ ...(options.quick ? QUICK_WORKER_PLAN : FULL_WORKER_PLAN), workers: n }, (what) => at(`workers: ${what}`));
    workerTable = { records: workerRecords, title: workerTitle(n), rows: workerRows(workerRecords) };
    done++;
  }
  if (load1m) at('loading 1,000,000 instructions');
  const big = load1m ? measureLoad1m(options.quick ? 1 : 5) : undefined;
  const bigTable = big ? { title: load1mTitle(big), rows: load1mRows(big) } : undefined;
  logTables(out, records, fallbacks, [...(mapTable ? [mapTable] : []), ...(objectTable ? [objectTable] : []), ...(workerTable ? [workerTable] : []), ...(objectLoadTable ? [objectLoadTable] : []), ...(bigTable ? [bigTable] : [])]);
  writeOutputs(options, {
    records, load: loadTimes, fallbacks, env, ...(bigTable ? { load1m: bigTable } : {}), ...(mapTable ? { maps: mapTable } : {}), ...(objectTable ? { objects: objectTable } : {}),
    ...(workerTable ? { workers: workerTable } : {}), ...(objectLoadTable ? { loadObjects: objectLoadTable } : {}),
  });
  if (failures.length > 0) {
    throw new BenchVerificationError(`${failures.length} workload(s) gave results that disagree with JavaScript (see above)`);
  }
}
