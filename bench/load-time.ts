/**
 * Load latency: how long it takes from program bytes to a first result, split into phases, for a
 * 19-instruction program (port80) and a 1,000-instruction one (a generated ALU program).
 *
 * Every repetition loads a variant of the program that differs in one immediate, because V8 keeps
 * a cache of compiled WebAssembly modules keyed by their bytes and would otherwise hand back the
 * previous compile. Node 20's V8 compiles WebAssembly lazily with its baseline compiler (Liftoff):
 * "wasm compile" validates the module, the Liftoff compile of a function happens on its first call
 * (inside "first run"), and the optimizing tier (TurboFan) runs later in the background; no figure
 * here includes it.
 */
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { loadBytes, type Program } from '../src/program/program.js';
import { lowLatencyV8Flags, lowLatencyV8FlagsApplied } from '../src/v8-flags.js';
import type { Executable, Runtime } from '../src/runtime/executable.js';
import { aluProgram } from './alu-program.js';
import { phaseEntries, type Engines } from './engines.js';
import { variant } from './load-variant.js';
import { programBytes } from './programs.js';

/** Loads of port80 in fresh processes under one V8 configuration (medians over the processes). */
export interface LoadConfiguration {
  readonly name: string;
  readonly flags: readonly string[];
  readonly warmUpLoads: number;
  readonly warmUpMs: number;
  /** The first load after the warm-up (if any). */
  readonly firstMs: number;
  /** Median of loads 1-20 and of loads 101-150. */
  readonly earlyMs: number;
  readonly lateMs: number;
  readonly processes: number;
}

export interface LoadTimes {
  readonly programs: ReadonlyArray<{ readonly name: string; readonly slots: number }>;
  /** Median milliseconds of each phase, one value per program (undefined: not measured). */
  readonly phases: ReadonlyArray<{ readonly phase: string; readonly ms: ReadonlyArray<number | undefined> }>;
  /** First `import('binaryen')` in a fresh node process, in ms (one per attempt). */
  readonly binaryenImportMs: readonly number[];
  /** Fresh-process loads by V8 configuration; empty when the child processes failed. */
  readonly configurations: readonly LoadConfiguration[];
  readonly notes: readonly string[];
}

const COLD = 'jit: total + first run, first load in this process';
const FIRST_RUN = 'jit: first run (includes lazy Liftoff compile)';

function record(samples: Map<string, number[]>, phase: string, ms: number): void {
  samples.set(phase, [...(samples.get(phase) ?? []), ms]);
}

/** Runs fn, records its time under `phase`, returns its value and the time. */
function timed<T>(samples: Map<string, number[]>, phase: string, fn: () => T): [T, number] {
  const t0 = performance.now();
  const value = fn();
  const ms = performance.now() - t0;
  record(samples, phase, ms);
  return [value, ms];
}

function loadJit(program: Program, rt: Runtime, engines: Engines, samples: Map<string, number[]>): [Executable, number] {
  if (!engines.jitTimed) return timed(samples, 'jit: total', () => engines.jit!(program, rt));
  const [out, ms] = timed(samples, 'jit: total', () => engines.jitTimed!(program, rt));
  for (const [phase, phaseMs] of phaseEntries(out.timings)) record(samples, `jit: ${phase}`, phaseMs);
  return [out.exe, ms];
}

/** Loads one variant through every engine, adding each phase's time to `samples`. */
function loadOnce(bytes: Uint8Array, rt: Runtime, engines: Engines, ctx: number, samples: Map<string, number[]>, cold: boolean): void {
  const [program] = timed(samples, 'decode + program build (loadBytes)', () => loadBytes(bytes));
  if (engines.interp) {
    const [exe] = timed(samples, 'interp: create', () => engines.interp!(program, rt));
    timed(samples, 'interp: first run', () => exe.run(ctx, 64));
  }
  if (!engines.jit) return;
  const [exe, loadMs] = loadJit(program, rt, engines, samples);
  const [, runMs] = timed(samples, FIRST_RUN, () => exe.run(ctx, 64));
  if (cold) record(samples, COLD, loadMs + runMs);
}

export const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

/** Time of the first `import('binaryen')` in a fresh process (excludes node's own start-up). */
export function binaryenImportMs(): number | undefined {
  const url = pathToFileURL(createRequire(import.meta.url).resolve('binaryen')).href;
  const code = `const t0 = performance.now(); await import(${JSON.stringify(url)}); process.stdout.write(String(performance.now() - t0));`;
  const out = spawnSync(process.execPath, ['--input-type=module', '-e', code], { encoding: 'utf8' });
  const ms = Number(out.stdout);
  return out.status === 0 && Number.isFinite(ms) ? ms : undefined;
}

const CHILD = new URL('./load-child.js', import.meta.url);
const CHILD_LOADS = 150;

/** One fresh process: its warm-up time and each load's time, or undefined when it failed. */
function childLoads(flags: readonly string[], warmUpLoads: number): { warmUpMs: number; loadMs: number[] } | undefined {
  const out = spawnSync(process.execPath, [...flags, fileURLToPath(CHILD), String(warmUpLoads), String(CHILD_LOADS)], { encoding: 'utf8' });
  if (out.status !== 0) return undefined;
  try {
    return JSON.parse(out.stdout) as { warmUpMs: number; loadMs: number[] };
  } catch {
    return undefined;
  }
}

/**
 * port80 loads in fresh processes: V8's defaults, the bpfjit command's flags (src/v8-flags.ts), and
 * those flags plus warmUpJit (src/warm-up.ts). Each configuration runs in `processes` processes, one
 * after the other; every figure is the median over them.
 */
export function measureLoadConfigurations(processes: number): LoadConfiguration[] {
  const configs = [
    { name: 'V8 defaults', flags: [] as string[], warmUpLoads: 0 },
    { name: 'low-latency V8 flags', flags: lowLatencyV8Flags(), warmUpLoads: 0 },
    { name: 'flags + warmUpJit(rt, 10)', flags: lowLatencyV8Flags(), warmUpLoads: 10 },
  ];
  const runs = configs.map(() => [] as Array<{ warmUpMs: number; loadMs: number[] }>);
  // Interleaved, so a slow spell of the machine does not land on one configuration only.
  for (let p = 0; p < processes; p++) {
    configs.forEach((c, i) => {
      const run = childLoads(c.flags, c.warmUpLoads);
      if (run) runs[i]!.push(run);
    });
  }
  return configs.flatMap((c, i) => {
    const rs = runs[i]!;
    if (rs.length === 0) return [];
    return [{
      ...c,
      warmUpMs: median(rs.map((r) => r.warmUpMs)),
      firstMs: median(rs.map((r) => r.loadMs[0]!)),
      earlyMs: median(rs.map((r) => median(r.loadMs.slice(0, 20)))),
      lateMs: median(rs.map((r) => median(r.loadMs.slice(100, 150)))),
      processes: rs.length,
    }];
  });
}

export function measureLoadTimes(rt: Runtime, engines: Engines, reps: number, importAttempts: number): LoadTimes {
  const programs = [{ name: 'port80', bytes: programBytes('port80') }, { name: 'alu-1000', bytes: aluProgram(1000) }];
  const ctx = rt.mem.alloc(64, 64);
  const perProgram = programs.map((p, i) => {
    const samples = new Map<string, number[]>();
    for (let k = 0; k < reps; k++) loadOnce(variant(p.bytes, k), rt, engines, ctx, samples, i === 0 && k === 0);
    return samples;
  });
  const names = [...new Set(perProgram.flatMap((s) => [...s.keys()]))];
  const phases = names.map((phase) => ({ phase, ms: perProgram.map((s) => (s.has(phase) ? median(s.get(phase)!) : undefined)) }));
  const imports = Array.from({ length: importAttempts }, binaryenImportMs).filter((x): x is number => x !== undefined);
  const flags = lowLatencyV8FlagsApplied() ? `with the bpfjit command's V8 flags (${lowLatencyV8Flags().join(' ')})` : 'with V8\'s default flags';
  return {
    programs: programs.map((p) => ({ name: p.name, slots: p.bytes.length / 8 })),
    phases,
    binaryenImportMs: imports,
    configurations: engines.jit ? measureLoadConfigurations(importAttempts) : [],
    notes: [
      `Medians of the first ${reps} loads in this process (${flags}), each of a variant differing in one immediate (V8 caches compiled modules by their bytes).`,
      'WebAssembly figures include V8\'s baseline tier only: Node 20 compiles lazily with Liftoff, on a function\'s first call (inside "first run"); TurboFan optimizes hot code later, in the background, and is not included.',
      'binaryen start-up: the first import(\'binaryen\') in a fresh node process (loading and instantiating binaryen\'s own WebAssembly), paid once per process before the first JIT compile; not included in the rows above.',
      `By configuration: ${CHILD_LOADS} port80 loads (decode, JIT build, optimize, compile, instantiate) in each of ${importAttempts} fresh processes per configuration, after binaryen's start-up and the warm-up; medians over the processes.`,
    ],
  };
}
