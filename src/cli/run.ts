import { performance } from 'node:perf_hooks';
import { conformanceHelpers } from '../conformance/test-helpers.js';
import { loadProgramFile } from '../source.js';
import { Vm, type EngineName } from '../vm.js';

export interface RunCommandOptions {
  engine: EngineName;
  mem: Uint8Array | undefined;
  repeat: number | undefined;
}

const WARMUP_RUNS = 1000;

/** `bpfjit run`: prints r0 as 0x..., and with --repeat the median time per run. */
export function runCommand(path: string, opts: RunCommandOptions): void {
  const file = loadProgramFile(path);
  // .data files come from the conformance suite, whose programs call its test helpers.
  const vm = new Vm({ helpers: path.endsWith('.data') ? conformanceHelpers() : [] });
  const loaded = vm.load(file.program, { engine: opts.engine });
  const mem = opts.mem ?? file.mem ?? new Uint8Array(0);
  const r0 = loaded.run(mem);
  process.stdout.write(`0x${r0.toString(16)}\n`);
  if (opts.repeat === undefined) return;
  for (let i = 0; i < Math.min(WARMUP_RUNS, opts.repeat); i++) loaded.run(mem);
  // Time chunks of runs, not single runs: one run can be shorter than the clock's resolution.
  const samples = Math.min(opts.repeat, 101);
  const chunk = Math.floor(opts.repeat / samples);
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
