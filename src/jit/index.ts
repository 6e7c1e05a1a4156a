/**
 * The WebAssembly JIT (docs/architecture.md section 5), in two tiers from one code generator. The
 * baseline tier writes a program's module as bytes itself (module.ts, src/wasm) and instantiates them
 * at once; the optimizing tier hands the same bytes to binaryen (optimizer.ts) and swaps the result
 * in between runs. Loading never imports binaryen.
 */
import type { Structure } from './emitter.js';
import { JitExecutable } from './instance.js';
import { buildModule, type ModuleOptions } from './module.js';
import { compileModule } from './compile.js';
import { binaryToText, optimizeNow } from './optimizer.js';
import { InputError } from '../errors.js';
import { encodeModule } from '../wasm/encode.js';
import type { Program } from '../program/program.js';
import { EntryGuard } from '../runtime/entry.js';
import { DEFAULT_BUDGET, mapsByAddress, programRegions, shareBase, type ExecOptions, type Executable, type ExecutableShare, type Runtime } from '../runtime/executable.js';
import type { VerifierFacts } from '../verifier/facts.js';
import type { BpfMap } from '../maps/map.js';

export interface JitOptions extends ExecOptions {
  /**
   * What `verify()` proved about this program (`result.facts` of an accepted program). The program is
   * then compiled as verified: no bounds checks, no instruction budget (the verifier bounds every
   * loop; `budget` is ignored, unless the facts say `needsBudget`), no call-depth checks, no division
   * guards the facts make useless, 32-bit compares where both operands fit, and `unreachable` for
   * code no path reaches.
   *
   * The facts hold only for runs that match the context the program was verified against: every
   * entry point checks its context against `facts.entry` (src/runtime/entry.ts) and refuses others.
   * Facts that do not fit the program (another size, an access not proved in bounds) are refused;
   * facts of another program of the same shape cannot be told apart, so pass this program's own.
   */
  facts?: VerifierFacts;
  /**
   * Bounds-check every memory access and charge the instruction budget (default: true without
   * `facts`, false with them). Turning it off for an unverified program is an explicit low-level
   * opt-in: the wasm sandbox still contains it, but it can then touch any byte of the engine memory
   * (the budget is still charged). With `facts`, `checked: true` keeps bounds checks and budget.
   */
  checked?: boolean;
  /**
   * Control-flow structuring (default 'auto': structured loops and blocks where the graph allows it,
   * src/wasm/stackify.ts, else the flat layout). 'layout' forces the flat layout, for tests and
   * measurements.
   */
  structure?: Structure;
  /**
   * Turn compare trees over one register (a C `switch`) into a br_table (default true; see
   * jump-table.ts). Only where the budget is not charged per block.
   */
  jumpTables?: boolean;
  /**
   * Turn a jump table whose arms only set registers to constants into loads from a table of those
   * constants (default true; see value-table.ts). The table lives in engine memory.
   */
  valueTables?: boolean;
  /**
   * 'baseline': the module as the code generator writes it, compiled at once. 'optimized': through
   * binaryen's passes first, in this thread (loadOptimizer() must have been awaited). 'auto' (the
   * default): baseline now, and once the program has run `hotRuns` events in batches (runBatch), the
   * optimized module from a worker thread replaces it between two runs.
   */
  tier?: Tier;
  /** Batch events after which an 'auto' program is re-optimized (default 10,000). */
  hotRuns?: number;
}

export type Tier = 'baseline' | 'optimized' | 'auto';
export const DEFAULT_HOT_RUNS = 10_000;

/** Load-time phases in milliseconds (decoding and program building are not the JIT's). */
export interface JitTimings {
  /** Code generation: the module built and written as bytes. */
  readonly build: number;
  /** binaryen's optimizer (0 for the baseline tier). */
  readonly optimize: number;
  /** `new WebAssembly.Module` (V8 compiles lazily: its baseline compiler runs on a function's first call). */
  readonly compile: number;
  readonly instantiate: number;
}

function moduleOptions(options: JitOptions): ModuleOptions {
  const budget = options.budget ?? DEFAULT_BUDGET;
  if (!Number.isSafeInteger(budget) || budget < 0) throw new InputError(`budget must be a non-negative integer, got ${budget}`);
  return {
    budget, regions: options.regions ?? [], maps: options.maps ?? [], checked: options.checked ?? options.facts === undefined, structure: options.structure ?? 'auto',
    facts: options.facts, jumpTables: options.jumpTables ?? true, valueTables: options.valueTables ?? true,
  };
}

function tierOf(options: JitOptions): Tier {
  const tier = options.tier ?? 'auto';
  if (tier !== 'baseline' && tier !== 'optimized' && tier !== 'auto') throw new InputError(`tier must be baseline, optimized or auto, not '${String(tier)}'`);
  return tier;
}

function hotRunsOf(options: JitOptions): number {
  const runs = options.hotRuns ?? DEFAULT_HOT_RUNS;
  if (!Number.isSafeInteger(runs) || runs < 0) throw new InputError(`hotRuns must be a non-negative integer, got ${runs}`);
  return runs;
}

/** The baseline module's bytes: the code generator's only output. */
export function baselineBinary(program: Program, rt: Runtime, options: JitOptions = {}): Uint8Array<ArrayBuffer> {
  return encodeModule(buildModule(program, rt, moduleOptions(options)).definition());
}

/** Compiles and reports how long each load phase took. */
export function compileJitTimed(program: Program, rt: Runtime, options: JitOptions = {}): { exe: Executable; timings: JitTimings } {
  const tier = tierOf(options);
  const t0 = performance.now();
  const baseline = baselineBinary(program, rt, options);
  const t1 = performance.now();
  const binary = tier === 'optimized' ? optimizeNow(baseline, program.insns.length) : baseline;
  const t2 = performance.now();
  const module = compileModule(binary);
  const t3 = performance.now();
  const guard = new EntryGuard(options.facts?.entry, rt.mem);
  const unguarded = options.checked === false && !options.facts;
  const hotRuns = tier === 'auto' ? hotRunsOf(options) : undefined;
  const exe = new JitExecutable(program, rt, module, programRegions(rt.mem, options), mapsByAddress(options.maps), guard, unguarded,
    tier === 'optimized' ? 'optimized' : 'baseline', baseline, hotRuns, shareBase('jit', program, options, options.facts));
  const t4 = performance.now();
  return { exe, timings: { build: t1 - t0, optimize: t2 - t1, compile: t3 - t2, instantiate: t4 - t3 } };
}

/**
 * A worker thread's executable of a program another thread compiled (`exe.share()`), over the same
 * memory and the maps this thread attached: the module is instantiated here, not compiled again; it
 * does not tier up by itself (the sharing thread's program does, and shares the new module).
 */
export function jitFromShare(share: ExecutableShare, rt: Runtime, maps: readonly BpfMap[]): Executable {
  const { module, tier, unguarded } = share.jit!;
  const options = { regions: share.regions, maps };
  return new JitExecutable(share.program, rt, module, programRegions(rt.mem, options), mapsByAddress(maps), new EntryGuard(share.facts?.entry, rt.mem),
    unguarded, tier, new Uint8Array(0), undefined, share);
}

/** Compiles a program to an Executable (engine 'jit'). */
export function compileJit(program: Program, rt: Runtime, options: JitOptions = {}): Executable {
  return compileJitTimed(program, rt, options).exe;
}

/**
 * The module as WebAssembly text: after binaryen's passes, or with `tier: 'baseline'` as the code
 * generator wrote it (for the dump-wasm command). Printing needs binaryen: await loadOptimizer() first.
 */
export function jitToWat(program: Program, rt: Runtime, options: JitOptions = {}): string {
  const baseline = baselineBinary(program, rt, options);
  return binaryToText(baseline, options.tier === 'baseline' ? undefined : program.insns.length);
}

export { loadOptimizer, optimizerLoaded } from './optimizer.js';
