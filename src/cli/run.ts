import { performance } from 'node:perf_hooks';
import { loadProgramFile, type ProgramFile } from '../source.js';
import type { LogLevel, Termination } from '../verifier/index.js';
import { Vm, type EngineName, type LoadedProgram } from '../vm.js';
import { parseContextType } from './context-arg.js';
import { helpersFor } from './helpers.js';

export interface RunCommandOptions {
  engine: EngineName;
  mem: Uint8Array | undefined;
  repeat: number | undefined;
  type: string;
  unverified: boolean;
  logLevel: LogLevel;
  /** Default 'prove'. */
  termination?: Termination;
}

const WARMUP_RUNS = 1000;

function vmFor(path: string): Vm {
  return new Vm({ helpers: helpersFor(path) });
}

function loadForRun(path: string, file: ProgramFile, mem: Uint8Array, opts: RunCommandOptions): LoadedProgram {
  const vm = vmFor(path);
  if (opts.unverified) return vm.load(file.program, { engine: opts.engine, unverified: true });
  const context = parseContextType(opts.type, mem.length);
  const loaded = vm.load(file.program, { engine: opts.engine, context, logLevel: opts.logLevel, termination: opts.termination ?? 'prove' });
  if (opts.logLevel > 0) process.stderr.write(loaded.verification!.log);
  return loaded;
}

/** `bpfjit run`: prints r0 as 0x..., and with --repeat the median time per run. */
export function runCommand(path: string, opts: RunCommandOptions): void {
  const file = loadProgramFile(path);
  const mem = opts.mem ?? file.mem ?? new Uint8Array(0);
  const loaded = loadForRun(path, file, mem, opts);
  const r0 = loaded.run(mem);
  process.stdout.write(`0x${r0.toString(16)}\n`);
  if (opts.repeat !== undefined) reportMedian(loaded, mem, opts.repeat);
}

function reportMedian(loaded: LoadedProgram, mem: Uint8Array, repeat: number): void {
  for (let i = 0; i < Math.min(WARMUP_RUNS, repeat); i++) loaded.run(mem);
  // Time chunks of runs, not single runs: one run can be shorter than the clock's resolution.
  const samples = Math.min(repeat, 101);
  const chunk = Math.floor(repeat / samples);
  const times = new Float64Array(samples);
  for (let s = 0; s < samples; s++) {
    const start = performance.now();
    for (let i = 0; i < chunk; i++) loaded.run(mem);
    times[s] = (performance.now() - start) / chunk;
  }
  times.sort();
  const median = times[Math.floor(samples / 2)]! * 1e6;
  process.stdout.write(`median ${Math.round(median)} ns per run\n`);
}
