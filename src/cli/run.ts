import type { ProgramFile } from '../source.js';
import { VerifyError, type LogLevel, type Termination } from '../verifier/index.js';
import type { Tier } from '../jit/index.js';
import { Vm, type EngineName, type LoadedProgram } from '../vm.js';
import { noteMissingInput, parseContextType } from './context-arg.js';
import { helpersFor } from './helpers.js';
import { loadProgramNamed } from './program-file.js';
import { timeRuns, timingLine } from './timing.js';
import { alignedRows, mapTables, mapsJson } from './dump-maps.js';

export interface RunCommandOptions {
  engine: EngineName;
  /** The JIT's tier (default 'auto'). */
  tier?: Tier;
  mem: Uint8Array | undefined;
  repeat: number | undefined;
  type: string;
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
}

/** Verifies and compiles; a refusal of a program given no input says so (noteMissingInput). */
function loadForRun(path: string, file: ProgramFile, mem: Uint8Array, inputGiven: boolean, opts: RunCommandOptions): LoadedProgram {
  const vm = new Vm({ helpers: helpersFor(path) });
  const tier = opts.tier ?? 'auto';
  const context = parseContextType(opts.type, mem.length);
  if (opts.unverified) return vm.load(file.program, { engine: opts.engine, tier, unverified: true, ...(opts.context ? { context } : {}) });
  let loaded: LoadedProgram;
  try {
    loaded = vm.load(file.program, { engine: opts.engine, tier, context, logLevel: opts.logLevel, termination: opts.termination ?? 'prove' });
  } catch (err) {
    if (err instanceof VerifyError && opts.logLevel > 0) process.stderr.write(err.log.endsWith('\n') ? err.log : `${err.log}\n`);
    throw noteMissingInput(err, inputGiven, opts.type);
  }
  if (opts.logLevel > 0) process.stderr.write(loaded.verification!.log);
  return loaded;
}

/** `bpfjit run`: prints r0 as 0x..., and with --repeat the median time per run (timing.ts). */
export function runCommand(path: string, opts: RunCommandOptions): void {
  const file = loadProgramNamed(path, opts);
  const fileMem = file.mem !== undefined && file.mem.length > 0 ? file.mem : undefined;
  const given = opts.mem ?? fileMem;
  const mem = given ?? new Uint8Array(0);
  const loaded = loadForRun(path, file, mem, given !== undefined, opts);
  const r0 = loaded.run(mem);
  if (!opts.json) process.stdout.write(`0x${r0.toString(16)}\n`);
  let timing: string | undefined;
  if (opts.repeat !== undefined) {
    // The input goes into engine memory once: a copy per run would be timed with the run (76 µs for 2 MiB).
    const { addr, len } = loaded.placeInput(mem);
    const exe = loaded.exe;
    timing = timingLine(timeRuns(() => exe.run(addr, len), opts.repeat));
    if (!opts.json) process.stdout.write(`${timing}\n`);
  }
  if (opts.json) {
    const out = { r0: `0x${r0.toString(16)}`, ...(timing ? { timing } : {}), ...(opts.dumpMaps ? { maps: mapsJson(loaded.maps) } : {}) };
    process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
  } else if (opts.dumpMaps) {
    if (loaded.maps.length === 0) process.stdout.write('the program has no maps\n');
    for (const t of mapTables(loaded.maps)) process.stdout.write([t.title, ...(t.rows.length > 0 ? alignedRows(t.rows) : [])].map((l) => `${l}\n`).join(''));
  }
}
