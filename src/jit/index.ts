/**
 * The WebAssembly JIT (docs/architecture.md section 5): a Program becomes one wasm module built with binaryen,
 * optimized, compiled and instantiated synchronously against the engine's shared memory.
 */
import { emitBinary, emitText, optimizeModule, validateModule, type Module, type OptimizeSettings } from './binaryen.js';
import type { Structure } from './emitter.js';
import { JitExecutable } from './instance.js';
import { buildModule, type ModuleOptions } from './module.js';
import { JIT_NO_OPTIMIZE, optimizeSettingsFor } from './optimize.js';
import { BpfError, InputError, InternalError } from '../errors.js';
import type { Program } from '../program/program.js';
import { EntryGuard } from '../runtime/entry.js';
import { DEFAULT_BUDGET, checkRegions, type ExecOptions, type Executable, type Runtime } from '../runtime/executable.js';
import type { VerifierFacts } from '../verifier/facts.js';

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
   * Control-flow structuring (default 'auto': binaryen's Relooper, or the flat layout for functions
   * of more than 1,000 blocks). Forcing one is for tests and measurements.
   */
  structure?: Structure;
  /**
   * Turn compare trees over one register (a C `switch`) into a br_table (default true; see
   * jump-table.ts). Only with the Relooper, and only where the budget is not charged per block.
   */
  jumpTables?: boolean;
  /**
   * Turn a jump table whose arms only set registers to constants into loads from a table of those
   * constants (default true; see value-table.ts). The table lives in engine memory.
   */
  valueTables?: boolean;
}

/** Load-time phases in milliseconds (decoding and program building are not the JIT's). */
export interface JitTimings {
  /** Code generation into a binaryen module, validation included. */
  readonly build: number;
  /** binaryen's optimizer, and writing the binary. */
  readonly optimize: number;
  /** `new WebAssembly.Module` (V8's baseline tier; the optimizing tier compiles hot code later). */
  readonly compile: number;
  readonly instantiate: number;
}

function moduleOptions(options: JitOptions): ModuleOptions {
  const budget = options.budget ?? DEFAULT_BUDGET;
  if (!Number.isSafeInteger(budget) || budget < 0) throw new InputError(`budget must be a non-negative integer, got ${budget}`);
  return {
    budget, regions: options.regions ?? [], checked: options.checked ?? options.facts === undefined, structure: options.structure ?? 'auto',
    facts: options.facts, jumpTables: options.jumpTables ?? true, valueTables: options.valueTables ?? true,
  };
}

function withModule<T>(program: Program, rt: Runtime, options: ModuleOptions, use: (m: Module) => T): T {
  const m = buildModule(program, rt, options);
  try {
    return use(m);
  } finally {
    m.dispose();
  }
}

function optimizedBinary(program: Program, rt: Runtime, options: ModuleOptions, settings: OptimizeSettings): { binary: Uint8Array<ArrayBuffer>; built: number } {
  return withModule(program, rt, options, (m) => {
    validateModule(m);
    const built = performance.now();
    optimizeModule(m, settings);
    return { binary: emitBinary(m), built };
  });
}

/**
 * The module's bytes. Refusals (BpfErrors) pass through; anything else binaryen throws (its stack
 * overflowing on pathological code) gets one retry without optimization, then becomes a BpfError.
 */
function moduleBinary(program: Program, rt: Runtime, options: ModuleOptions): { binary: Uint8Array<ArrayBuffer>; built: number } {
  const settings = optimizeSettingsFor(program.insns.length);
  let failure: unknown;
  for (const attempt of settings === JIT_NO_OPTIMIZE ? [settings] : [settings, JIT_NO_OPTIMIZE]) {
    try {
      return optimizedBinary(program, rt, options, attempt);
    } catch (error) {
      if (error instanceof BpfError) throw error;
      failure = error;
    }
  }
  throw new InternalError(`the JIT cannot compile this program: ${failure instanceof Error ? failure.message : String(failure)}`);
}

/** Compiles and reports how long each load phase took. */
export function compileJitTimed(program: Program, rt: Runtime, options: JitOptions = {}): { exe: Executable; timings: JitTimings } {
  const t0 = performance.now();
  const opts = moduleOptions(options);
  const { binary, built } = moduleBinary(program, rt, opts);
  const t2 = performance.now();
  let module: WebAssembly.Module;
  try {
    module = new WebAssembly.Module(binary);
  } catch (error) {
    throw new InternalError(`V8 refused the module the JIT generated: ${error instanceof Error ? error.message : String(error)}`);
  }
  const t3 = performance.now();
  const guard = new EntryGuard(options.facts?.entry, rt.mem);
  const exe = new JitExecutable(program, rt, module, checkRegions(rt.mem, opts.regions), guard, !opts.checked && !options.facts);
  const t4 = performance.now();
  return { exe, timings: { build: built - t0, optimize: t2 - built, compile: t3 - t2, instantiate: t4 - t3 } };
}

/** Compiles a program to an Executable (engine 'jit'). */
export function compileJit(program: Program, rt: Runtime, options: JitOptions = {}): Executable {
  return compileJitTimed(program, rt, options).exe;
}

/** The module as WebAssembly text, optimized unless `optimize: false` (for the dump-wasm command). */
export function jitToWat(program: Program, rt: Runtime, options: JitOptions & { optimize?: boolean } = {}): string {
  try {
    return withModule(program, rt, moduleOptions(options), (m) => {
      validateModule(m);
      if (options.optimize ?? true) optimizeModule(m, optimizeSettingsFor(program.insns.length));
      return emitText(m);
    });
  } catch (error) {
    if (error instanceof BpfError) throw error;
    throw new InternalError(`the JIT cannot compile this program: ${error instanceof Error ? error.message : String(error)}`);
  }
}
