import type { ProgramFile } from '../source.js';
import type { VariableValue } from '../elf/index.js';
import { InputError } from '../errors.js';
import { VerifyError, type LogLevel, type Termination } from '../verifier/index.js';
import type { Tier } from '../jit/index.js';
import { Vm, type EngineName, type LoadedProgram } from '../vm.js';
import { noteMissingInput, parseContextType } from './context-arg.js';
import { helpersFor } from './helpers.js';
import { isObjectFile } from './object-args.js';
import { objectBtf } from '../elf/index.js';
import { defaultInput, loadObjectForCli, recordSize } from './object-load.js';
import { objectMapTables, objectMapsJson, type MapTable } from './object-maps.js';
import { loadProgramNamed } from './program-file.js';
import { timeRuns, timingLine } from './timing.js';
import { alignedRows, mapTables, mapsJson } from './dump-maps.js';

export interface RunCommandOptions {
  engine: EngineName;
  /** The JIT's tier (default 'auto'). */
  tier?: Tier;
  mem: Uint8Array | undefined;
  repeat: number | undefined;
  /** --type; default memory (an object's program: its section's context). */
  type?: string;
  /** --context was given: an unverified run gets that context built around its input too. */
  context?: boolean;
  unverified: boolean;
  logLevel: LogLevel;
  /** Default 'prove'. */
  termination?: Termination;
  /** Largest program accepted, in slots (default 1,000,000). */
  maxSlots?: number;
  /** Print the program's maps after the run (dump-maps.ts). */
  dumpMaps?: boolean;
  /** Print r0 (and with dumpMaps the maps) as one JSON object. */
  json?: boolean;
  /** An object's program (--section) and its globals' values (--set). */
  section?: string;
  set?: Readonly<Record<string, VariableValue>>;
  /** --events FILE: records of `stride` bytes, the program run once on each. */
  events?: Uint8Array;
  stride?: number;
  /** --workers N: run the --events on N worker threads (CPUs 0..N-1) in place of this one. */
  workers?: number;
}

/** A program ready to run, its default input, and how its maps print. */
interface Runnable {
  readonly vm: Vm;
  readonly loaded: LoadedProgram;
  readonly input: Uint8Array;
  readonly tables: () => MapTable[];
  readonly json: () => unknown[];
}

/** Verifies and compiles; a refusal of a program given no input says so (noteMissingInput). */
function loadForRun(vm: Vm, file: ProgramFile, mem: Uint8Array, inputGiven: boolean, opts: RunCommandOptions): LoadedProgram {
  const tier = opts.tier ?? 'auto';
  const type = opts.type ?? 'memory';
  const context = parseContextType(type, mem.length);
  if (opts.unverified) return vm.load(file.program, { engine: opts.engine, tier, unverified: true, ...(opts.context ? { context } : {}) });
  let loaded: LoadedProgram;
  try {
    loaded = vm.load(file.program, { engine: opts.engine, tier, context, logLevel: opts.logLevel, termination: opts.termination ?? 'prove' });
  } catch (err) {
    if (err instanceof VerifyError && opts.logLevel > 0) process.stderr.write(err.log.endsWith('\n') ? err.log : `${err.log}\n`);
    throw noteMissingInput(err, inputGiven, type);
  }
  if (opts.logLevel > 0) process.stderr.write(loaded.verification!.log);
  return loaded;
}

/** The first record's size stands for the input's when the context is sized from it. */
const sizingInput = (opts: RunCommandOptions): Uint8Array | undefined => (opts.events ? new Uint8Array(opts.stride ?? 0) : opts.mem);

function programFileRunnable(path: string, opts: RunCommandOptions): Runnable {
  if (opts.set && Object.keys(opts.set).length > 0) throw new InputError(`--set: ${path} is not an ELF object (only objects have global variables)`);
  const file = loadProgramNamed(path, opts);
  const fileMem = file.mem !== undefined && file.mem.length > 0 ? file.mem : undefined;
  const given = sizingInput(opts) ?? fileMem;
  const mem = given ?? new Uint8Array(0);
  const vm = new Vm({ helpers: helpersFor(path), cpus: opts.workers ?? 1 });
  const loaded = loadForRun(vm, file, mem, given !== undefined, opts);
  return { vm, loaded, input: mem, tables: () => mapTables(loaded.maps), json: () => mapsJson(loaded.maps) };
}

function objectRunnable(path: string, opts: RunCommandOptions): Runnable {
  const { obj, loaded, spec, vm } = loadObjectForCli(path, {
    engine: opts.engine, logLevel: opts.logLevel, inputLength: sizingInput(opts)?.length ?? 0, unverified: opts.unverified,
    ...(opts.tier ? { tier: opts.tier } : {}), ...(opts.termination ? { termination: opts.termination } : {}),
    ...(opts.type !== undefined ? { type: opts.type } : {}), ...(opts.section !== undefined ? { section: opts.section } : {}),
    ...(opts.set ? { set: opts.set } : {}), ...(opts.maxSlots ? { maxSlots: opts.maxSlots } : {}), cpus: opts.workers ?? 1,
  });
  if (opts.logLevel > 0 && loaded.verification) process.stderr.write(loaded.verification.log);
  const btf = objectBtf(spec);
  return { vm, loaded, input: opts.mem ?? defaultInput(loaded), tables: () => objectMapTables(obj, btf), json: () => objectMapsJson(obj, btf) };
}

/** The records of --events. */
function records(events: Uint8Array, stride: number): Uint8Array[] {
  if (events.length % stride !== 0) throw new InputError(`--events: ${events.length} bytes are not a whole number of ${stride}-byte records (--stride)`);
  return Array.from({ length: events.length / stride }, (_, i) => events.subarray(i * stride, (i + 1) * stride));
}

/** The r0 values seen, with how often, in the order first seen. */
function tally(results: Iterable<bigint>): Map<string, number> {
  const seen = new Map<string, number>();
  for (const r of results) {
    const r0 = `0x${r.toString(16)}`;
    seen.set(r0, (seen.get(r0) ?? 0) + 1);
  }
  return seen;
}

/** Runs once per record of --events, here or split over --workers worker threads. */
async function runEvents(target: Runnable, events: Uint8Array, stride: number, workers: number | undefined): Promise<Map<string, number>> {
  const all = records(events, stride);
  if (workers === undefined) return tally(all.map((e) => target.loaded.run(e)));
  const pool = await target.vm.pool(workers);
  try {
    return tally(await pool.runBatch(target.loaded, all));
  } finally {
    await pool.close();
  }
}

/** The stride of --events: given, or the record the program's context reads. */
function eventStride(opts: RunCommandOptions, loaded: LoadedProgram): number {
  const stride = opts.stride ?? recordSize(loaded);
  if (stride !== undefined) return stride;
  throw new InputError('--events needs --stride N (the size of each record) for this program\'s context');
}

function printMaps(tables: readonly MapTable[]): void {
  if (tables.length === 0) process.stdout.write('the program has no maps\n');
  for (const t of tables) {
    const lines = [t.title, ...(t.rows.length > 0 ? alignedRows(t.rows) : []), ...(t.after ?? [])];
    process.stdout.write(lines.map((l) => `${l}\n`).join(''));
  }
}

/** `bpfjit run`: prints r0 as 0x..., and with --repeat the median time per run (timing.ts). */
export async function runCommand(path: string, opts: RunCommandOptions): Promise<void> {
  if (opts.events && opts.repeat !== undefined) throw new InputError('give --events or --repeat, not both');
  if (opts.workers !== undefined && !opts.events) throw new InputError('--workers runs the records of --events: give --events FILE');
  if (opts.workers !== undefined && path.endsWith('.data')) throw new InputError('--workers: a conformance .data program calls the suite\'s test helpers, which worker threads do not have');
  if (opts.events && opts.mem) throw new InputError('give --events or --mem/--mem-hex, not both');
  const target = isObjectFile(path) ? objectRunnable(path, opts) : programFileRunnable(path, opts);
  const { loaded, input } = target;
  let result: Record<string, unknown>;
  if (opts.events) {
    const seen = await runEvents(target, opts.events, eventStride(opts, loaded), opts.workers);
    const count = [...seen.values()].reduce((a, b) => a + b, 0);
    if (!opts.json) process.stdout.write([`${count} events`, ...[...seen].map(([r0, n]) => `r0 ${r0}: ${n}`)].map((l) => `${l}\n`).join(''));
    result = { events: count, r0: Object.fromEntries(seen) };
  } else {
    const r0 = loaded.run(input);
    if (!opts.json) process.stdout.write(`0x${r0.toString(16)}\n`);
    result = { r0: `0x${r0.toString(16)}` };
  }
  if (opts.repeat !== undefined) {
    // The input goes into engine memory once: a copy per run would be timed with the run (76 µs for 2 MiB).
    const { addr, len } = loaded.placeInput(input);
    const exe = loaded.exe;
    result['timing'] = timingLine(timeRuns(() => exe.run(addr, len), opts.repeat));
    if (!opts.json) process.stdout.write(`${String(result['timing'])}\n`);
  }
  if (opts.json) {
    process.stdout.write(`${JSON.stringify({ ...result, ...(opts.dumpMaps ? { maps: target.json() } : {}) }, null, 2)}\n`);
  } else if (opts.dumpMaps) {
    printMaps(target.tables());
  }
}
