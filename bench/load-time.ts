/**
 * Load latency: from a program's bytes to its first result, by phase (load-phases.ts), in both JIT
 * tiers, for port80, log2, switch and a 4,096-instruction program; in steady state in this process,
 * and as the first load of a fresh process with every import counted. Plus `bpfjit run` of a small
 * program, timed from spawning the command to its exit.
 *
 * Every load in this process is of a variant of the program differing in one immediate, because V8
 * keeps a cache of compiled WebAssembly modules keyed by their bytes and would otherwise hand back the
 * previous compile. Node 20's V8 compiles WebAssembly lazily with its baseline compiler (Liftoff):
 * "compile" validates the module, the Liftoff compile of a function happens on its first call (inside
 * "first run"), and V8's optimizing tier (TurboFan) runs later in the background; no figure here
 * includes it.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadBytes } from '../src/program/program.js';
import type { Runtime } from '../src/runtime/executable.js';
import { memory, verify } from '../src/verifier/index.js';
import type { Engines } from './engines.js';
import {
  LOAD_TIERS, PHASES, loadPrograms, timeLoad, type ChildResult, type LoadApi, type LoadProgram, type LoadSample, type LoadTier,
} from './load-phases.js';
import { variant } from './load-variant.js';
import { nextTurn } from './measure.js';
import { programsDir } from './programs.js';

/** Median ms of each phase of the steady-state loads of one program in one tier. */
export interface SteadyRow {
  readonly program: string;
  readonly tier: LoadTier;
  readonly ms: LoadSample;
}

/** The first load of one program in one tier in fresh processes: medians over the processes. */
export interface FreshRow {
  readonly program: string;
  readonly tier: LoadTier;
  readonly nodeStartMs: number;
  readonly importMs: number;
  readonly loadMs: number;
  readonly firstRunMs: number;
  readonly firstResultMs: number;
  readonly processes: number;
}

export interface LoadTimes {
  readonly programs: ReadonlyArray<{ readonly name: string; readonly slots: number }>;
  readonly steady: readonly SteadyRow[];
  /** Empty when every child process failed. */
  readonly fresh: readonly FreshRow[];
  /** Wall ms of each `bpfjit run` (an empty list when the command failed). */
  readonly cliRunMs: readonly number[];
  readonly notes: readonly string[];
}

/** How much to measure: loads per program and tier in this process, fresh processes per program and tier. */
export interface LoadPlan {
  readonly warmUpRounds: number;
  readonly rounds: number;
  readonly processes: number;
  readonly cliRuns: number;
  /** Instructions of the generated program (4,096; tests use fewer). */
  readonly aluSlots: number;
}

export const FULL_LOAD_PLAN: LoadPlan = { warmUpRounds: 10, rounds: 30, processes: 3, cliRuns: 5, aluSlots: 4096 };
export const QUICK_LOAD_PLAN: LoadPlan = { warmUpRounds: 2, rounds: 5, processes: 1, cliRuns: 3, aluSlots: 4096 };

export const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

const medianSample = (samples: readonly LoadSample[]): LoadSample =>
  Object.fromEntries(PHASES.map((phase) => [phase, median(samples.map((s) => s[phase]))])) as unknown as LoadSample;

/**
 * Loads every program in every tier, round after round (interleaved, so a slow spell of the machine
 * is shared), with a turn of the event loop between rounds; the first rounds only warm up.
 */
async function measureSteady(api: LoadApi, rt: Runtime, tiers: readonly LoadTier[], programs: readonly LoadProgram[], plan: LoadPlan): Promise<SteadyRow[]> {
  const ctx = rt.mem.alloc(Math.max(...programs.map((p) => p.ctxLen)), 64);
  const samples = new Map<string, LoadSample[]>();
  let k = 0;
  for (let round = 0; round < plan.warmUpRounds + plan.rounds; round++) {
    for (const p of programs) {
      for (const tier of tiers) {
        const sample = timeLoad(api, rt, variant(p.bytes, ++k), p.ctxLen, ctx, tier);
        if (round < plan.warmUpRounds) continue;
        const key = `${p.name}/${tier}`;
        samples.set(key, [...(samples.get(key) ?? []), sample]);
      }
    }
    await nextTurn();
  }
  return programs.flatMap((p) => tiers.map((tier) => ({ program: p.name, tier, ms: medianSample(samples.get(`${p.name}/${tier}`)!) })));
}

/**
 * A compiled file of the bench next to this module, or in dist/bench when this module runs from its
 * TypeScript source (under vitest).
 */
function compiledFile(name: string): string | undefined {
  for (const rel of [`./${name}`, `../bench/${name}`, `../dist/bench/${name}`]) {
    const path = fileURLToPath(new URL(rel, import.meta.url));
    if (existsSync(path)) return path;
  }
  return undefined;
}

function childResult(program: string, tier: LoadTier, aluSlots: number): ChildResult | undefined {
  const child = compiledFile('load-child.js');
  if (!child) return undefined;
  const out = spawnSync(process.execPath, [child, program, tier, String(aluSlots)], { encoding: 'utf8' });
  if (out.status !== 0) return undefined;
  try {
    return JSON.parse(out.stdout) as ChildResult;
  } catch {
    return undefined;
  }
}

/** First loads in fresh processes, `plan.processes` per program and tier, interleaved. */
function measureFresh(tiers: readonly LoadTier[], programs: readonly LoadProgram[], plan: LoadPlan): FreshRow[] {
  const runs = new Map<string, ChildResult[]>();
  for (let i = 0; i < plan.processes; i++) {
    for (const p of programs) {
      for (const tier of tiers) {
        const r = childResult(p.name, tier, plan.aluSlots);
        if (r) runs.set(`${p.name}/${tier}`, [...(runs.get(`${p.name}/${tier}`) ?? []), r]);
      }
    }
  }
  return programs.flatMap((p) => tiers.flatMap((tier) => {
    const rs = runs.get(`${p.name}/${tier}`) ?? [];
    if (rs.length === 0) return [];
    const m = (f: (r: ChildResult) => number): number => median(rs.map(f));
    return [{
      program: p.name, tier, nodeStartMs: m((r) => r.nodeStartMs), importMs: m((r) => r.importMs), loadMs: m((r) => r.sample.load),
      firstRunMs: m((r) => r.sample.firstRun), firstResultMs: m((r) => r.firstResultMs), processes: rs.length,
    }];
  }));
}

/** A 64-byte frame port80 accepts: IPv4 (IHL 5), TCP, destination port 80. */
export function port80Frame(): Uint8Array {
  const frame = new Uint8Array(64);
  frame.set([0x08, 0x00, 0x45], 12);
  frame[23] = 6;
  frame.set([0x00, 0x50], 36);
  return frame;
}

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');

/** Wall ms of `bpfjit run port80.bin` on one frame, spawn to exit, `runs` times; a failed run is left out. */
export function measureCliRun(runs: number): number[] {
  const bin = [fileURLToPath(new URL('../bin/bpfjit.js', import.meta.url)), fileURLToPath(new URL('../../bin/bpfjit.js', import.meta.url))]
    .find((path) => existsSync(path));
  if (!bin) return [];
  const args = [bin, 'run', `${programsDir()}port80.bin`, '--mem-hex', hex(port80Frame())];
  const ms: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    const out = spawnSync(process.execPath, args, { encoding: 'utf8' });
    const t1 = performance.now();
    if (out.status === 0 && out.stdout === '0x1\n') ms.push(t1 - t0);
  }
  return ms;
}

/** The load tables; undefined without the JIT. Only the tiers the engines have are measured. */
export async function measureLoadTimes(rt: Runtime, engines: Engines, plan: LoadPlan): Promise<LoadTimes | undefined> {
  if (!engines.jitTimed) return undefined;
  const api: LoadApi = { loadBytes, verify, memory, compileJitTimed: engines.jitTimed };
  const tiers = LOAD_TIERS.filter((t) => engines.tiers.includes(t));
  const programs = loadPrograms(plan.aluSlots);
  const steady = await measureSteady(api, rt, tiers, programs, plan);
  const fresh = measureFresh(tiers, programs, plan);
  const cliRunMs = measureCliRun(plan.cliRuns);
  return {
    programs: programs.map((p) => ({ name: p.name, slots: p.bytes.length / 8 })),
    steady, fresh, cliRunMs,
    notes: [
      `Steady state: medians of ${plan.rounds} loads per program and tier in this process, after ${plan.warmUpRounds} rounds of warm-up, each load of a variant differing in one immediate (V8 caches compiled modules by their bytes). A load decodes and builds the program, verifies it under memory(one event), and compiles it with the verifier's facts; "load" is all of that, "first run" the first run after it.`,
      'WebAssembly figures include V8\'s baseline compiler only: Node 20 compiles lazily with Liftoff, on a function\'s first call (inside "first run"); TurboFan optimizes hot code later, in the background.',
      `Fresh process: the first load in a new node process (V8's default flags), medians of ${plan.processes} per program and tier. "node start" is node's own start-up, before the first line of the script; "imports" is bpfjit's package entry (and binaryen, loaded by loadOptimizer(), in the optimized tier); "start to result" runs from process start to the first result, not counting reading the program's bytes.`,
    ],
  };
}
