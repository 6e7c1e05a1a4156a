/**
 * One load of a program, phase by phase: from its bytes to its first result, as an application does
 * it (decode and build, verify under the program's memory context, compile with the verifier's facts
 * in one JIT tier, run once). Shared by the in-process measurement (load-time.ts) and the fresh
 * processes (load-child.ts), which is why it takes the library's functions as arguments instead of
 * importing them: the child imports them itself, inside the time it measures.
 */
import type { Program } from '../src/program/program.js';
import type { Runtime } from '../src/runtime/executable.js';
import type { ContextDescriptor, VerifyOptions, VerifyResult } from '../src/verifier/index.js';
import { aluProgram, ALU_INPUT_BYTES } from './alu-program.js';
import type { TimedFactory } from './engines.js';
import { programBytes } from './programs.js';

/** The library functions a load goes through. */
export interface LoadApi {
  readonly loadBytes: (bytes: Uint8Array) => Program;
  readonly verify: (program: Program, options: VerifyOptions) => VerifyResult;
  readonly memory: (size: number) => ContextDescriptor;
  readonly compileJitTimed: TimedFactory;
}

/** The JIT tiers a load is measured in: 'auto' loads exactly as 'baseline' does. */
export type LoadTier = 'baseline' | 'optimized';
export const LOAD_TIERS: readonly LoadTier[] = ['baseline', 'optimized'];

/** A program of the load table and the length of the memory context it is verified for. */
export interface LoadProgram {
  readonly name: string;
  readonly bytes: Uint8Array;
  readonly ctxLen: number;
}

/** Memory context length of the workloads' programs: one event of their inputs. */
const CONTEXT_LENGTHS: Readonly<Record<string, number>> = { port80: 64, log2: 8, switch: 4 };

/** The name of the generated straight-line program of `slots` instructions. */
export const aluName = (slots: number): string => `alu-${slots}`;

/**
 * port80, log2 and switch (the workloads' programs, verified for one event) and a generated
 * straight-line ALU program (alu-program.ts) of `aluSlots` instructions: 4,096 in the bench.
 */
export function loadPrograms(aluSlots = 4096): LoadProgram[] {
  return [...Object.keys(CONTEXT_LENGTHS), aluName(aluSlots)].map((name) => loadProgram(name, aluSlots));
}

/** One program of loadPrograms(aluSlots), by name. */
export function loadProgram(name: string, aluSlots: number): LoadProgram {
  if (name === aluName(aluSlots)) return { name, bytes: aluProgram(aluSlots), ctxLen: ALU_INPUT_BYTES };
  const ctxLen = CONTEXT_LENGTHS[name];
  if (ctxLen === undefined) throw new Error(`no load program named ${name}`);
  return { name, bytes: programBytes(name), ctxLen };
}

/** Milliseconds of one load, by phase; `load` is the wall time of all of them but the first run. */
export interface LoadSample {
  readonly decode: number;
  readonly verify: number;
  readonly build: number;
  readonly optimize: number;
  readonly compile: number;
  readonly instantiate: number;
  readonly load: number;
  readonly firstRun: number;
}

export const PHASES: ReadonlyArray<keyof LoadSample> = ['decode', 'verify', 'build', 'optimize', 'compile', 'instantiate', 'load', 'firstRun'];

/**
 * Loads `bytes` and runs them once on `ctxLen` bytes at `ctx`; throws when the verifier refuses
 * them. The first run includes V8's lazy compile of the module's functions (Liftoff, on first call).
 */
export function timeLoad(api: LoadApi, rt: Runtime, bytes: Uint8Array, ctxLen: number, ctx: number, tier: LoadTier): LoadSample {
  const t0 = performance.now();
  const program = api.loadBytes(bytes);
  const t1 = performance.now();
  const verified = api.verify(program, { context: api.memory(ctxLen), helpers: rt.helpers });
  if (!verified.ok) throw new Error(`the verifier refused the program: ${verified.error.message}`);
  const t2 = performance.now();
  const { exe, timings } = api.compileJitTimed(program, rt, { facts: verified.facts, tier });
  const t3 = performance.now();
  exe.run(ctx, ctxLen);
  const t4 = performance.now();
  const { build, optimize, compile, instantiate } = timings;
  return { decode: t1 - t0, verify: t2 - t1, build, optimize, compile, instantiate, load: t3 - t0, firstRun: t4 - t3 };
}

/** What a fresh process (load-child.ts) reports: ms since the process started, or of one phase. */
export interface ChildResult {
  /** node's own start-up: process start to the child's first line. */
  readonly nodeStartMs: number;
  /** bpfjit's package entry, and binaryen for the optimized tier. */
  readonly importMs: number;
  readonly sample: LoadSample;
  /** Process start to the first result, less the time taken to read or generate the program's bytes. */
  readonly firstResultMs: number;
}
