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
import { pathToFileURL } from 'node:url';
import { loadBytes, type Program } from '../src/program/program.js';
import type { Executable, Runtime } from '../src/runtime/executable.js';
import { aluProgram } from './alu-program.js';
import { phaseEntries, type Engines } from './engines.js';
import { programBytes } from './programs.js';

export interface LoadTimes {
  readonly programs: ReadonlyArray<{ readonly name: string; readonly slots: number }>;
  /** Median milliseconds of each phase, one value per program (undefined: not measured). */
  readonly phases: ReadonlyArray<{ readonly phase: string; readonly ms: ReadonlyArray<number | undefined> }>;
  /** First `import('binaryen')` in a fresh node process, in ms (one per attempt). */
  readonly binaryenImportMs: readonly number[];
  readonly notes: readonly string[];
}

/** Same structure, different bytes: the first `mov imm` gets another immediate. */
function variant(bytes: Uint8Array, k: number): Uint8Array {
  const copy = bytes.slice();
  const view = new DataView(copy.buffer);
  for (let at = 0; at < copy.length; at += 8) {
    if (copy[at] === 0xb7 || copy[at] === 0xb4) {
      view.setInt32(at + 4, view.getInt32(at + 4, true) ^ (k * 0x9e37 + 1), true);
      break;
    }
  }
  return copy;
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

const median = (xs: readonly number[]): number => {
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
  return {
    programs: programs.map((p) => ({ name: p.name, slots: p.bytes.length / 8 })),
    phases,
    binaryenImportMs: imports,
    notes: [
      `Medians of ${reps} loads, each of a variant differing in one immediate (V8 caches compiled modules by their bytes).`,
      'WebAssembly figures include V8\'s baseline tier only: Node 20 compiles lazily with Liftoff, on a function\'s first call (inside "first run"); TurboFan optimizes hot code later, in the background, and is not included.',
      'binaryen start-up: the first import(\'binaryen\') in a fresh node process (loading and instantiating binaryen\'s own WebAssembly), paid once per process before the first JIT compile; not included in the rows above.',
    ],
  };
}
