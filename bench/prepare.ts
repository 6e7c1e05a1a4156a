/**
 * Puts one workload in place: decodes its program, builds its input, copies the events into the
 * engine memory (for the BPF engines) and into a plain buffer (for the JavaScript function), and
 * computes the expected result of every event with the JavaScript function. The JIT builds the
 * program verified when the verifier accepts it (verification.ts), else checked, once per tier, plus
 * the variants the workload compares with (in the optimized tier). The 'auto' build is made where it
 * is measured (run-workload.ts): it tiers up by itself once it runs.
 */
import { loadBytes, type Program } from '../src/program/program.js';
import type { Executable, Runtime } from '../src/runtime/executable.js';
import type { EngineMemory } from '../src/runtime/memory.js';
import type { BpfEngine, Engines, JitBuildOptions, JitTier } from './engines.js';
import { programBytes } from './programs.js';
import { jitBuildFor, type JitBuild } from './verification.js';
import { expected64, type EventSet, type InputSize, type JitVariant, type Workload } from './workload.js';

/** Result slots reserved per workload: enough for the events or for repeated single runs. */
export const MAX_REPEAT = 4096;

export interface Prepared {
  readonly workload: Workload;
  readonly program: Program;
  readonly mem: EngineMemory;
  readonly events: EventSet;
  /** Address of event 0 in engine memory. */
  readonly base: number;
  /** Where runBatch writes its u64 results. */
  readonly resultsAddr: number;
  /** A private, non-shared copy of the events for the JavaScript function. */
  readonly jsBytes: Uint8Array;
  readonly jsView: DataView;
  /** Expected r0 of each event. */
  readonly expected: readonly bigint[];
  /** The interpreter, and the JIT's main build: its optimized tier, or its baseline without binaryen. */
  readonly executables: Partial<Record<BpfEngine, Executable>>;
  /** How the main JIT executable was built (undefined without a JIT). */
  readonly jitBuild: JitBuild | undefined;
  /** The JIT's options for this workload (the facts, when verified), for a build in another tier. */
  readonly jitOptions: JitBuildOptions;
  /** The JIT's builds in the 'baseline' and 'optimized' tiers. */
  readonly tiers: Partial<Record<Exclude<JitTier, 'auto'>, Executable>>;
  /** The workload's extra JIT builds (Workload.compare), in the main build's tier. */
  readonly variants: Partial<Record<JitVariant, Executable>>;
}

function expectations(w: Workload, bytes: Uint8Array, view: DataView, events: EventSet): bigint[] {
  const out: bigint[] = [];
  for (let i = 0; i < events.count; i++) out.push(expected64(w, bytes, view, i * events.stride, events.len));
  return out;
}

function attempt<T>(what: string, errors: string[], build: () => T): T | undefined {
  try {
    return build();
  } catch (err) {
    errors.push(`${what} refused the program: ${err instanceof Error ? err.message : String(err)}`);
    return undefined;
  }
}

type Built = Pick<Prepared, 'executables' | 'jitBuild' | 'jitOptions' | 'tiers' | 'variants'>;

/**
 * Builds each available engine's executable; an engine that refuses the program is reported. The
 * JIT gets the verifier's facts when the program verifies under memory(event length).
 */
function buildExecutables(w: Workload, program: Program, len: number, rt: Runtime, engines: Engines, errors: string[]): Built {
  const executables: Partial<Record<BpfEngine, Executable>> = {};
  const variants: Partial<Record<JitVariant, Executable>> = {};
  const tiers: Built['tiers'] = {};
  if (engines.interp) {
    const exe = attempt('interp', errors, () => engines.interp!(program, rt));
    if (exe) executables.interp = exe;
  }
  const jit = engines.jit;
  if (!jit) return { executables, jitBuild: undefined, jitOptions: {}, tiers, variants };
  const jitBuild = jitBuildFor(w.program, program, len, rt);
  const jitOptions: JitBuildOptions = jitBuild.checked ? {} : { facts: jitBuild.facts };
  for (const tier of ['optimized', 'baseline'] as const) {
    if (!engines.tiers.includes(tier)) continue;
    const exe = attempt(`jit (${tier})`, errors, () => jit(program, rt, { ...jitOptions, tier }));
    if (exe) tiers[tier] = exe;
  }
  const mainTier = tiers.optimized ? 'optimized' : 'baseline';
  if (tiers[mainTier]) executables.jit = tiers[mainTier];
  const main: JitBuildOptions = { ...jitOptions, tier: mainTier };
  for (const variant of w.compare ?? []) {
    // A checked variant of a program that is already checked would measure the same build twice.
    if (variant === 'checked' && jitBuild.checked) continue;
    const options: JitBuildOptions = variant === 'checked' ? { tier: mainTier }
      : variant === 'no-value-tables' ? { ...main, valueTables: false } : { ...main, jumpTables: false };
    const built = attempt(`jit (${variant})`, errors, () => jit(program, rt, options));
    if (built) variants[variant] = built;
  }
  return { executables, jitBuild, jitOptions, tiers, variants };
}

export function prepare(w: Workload, size: InputSize, rt: Runtime, engines: Engines, errors: string[]): Prepared {
  const program = loadBytes(programBytes(w.program));
  const events = w.input(size);
  const base = rt.mem.alloc(events.bytes.length, 64);
  rt.mem.write(base, events.bytes);
  const resultsAddr = rt.mem.alloc(8 * Math.max(events.count, MAX_REPEAT), 8);
  const jsBytes = events.bytes.slice();
  const jsView = new DataView(jsBytes.buffer);
  const expected = expectations(w, jsBytes, jsView, events);
  const built = buildExecutables(w, program, events.len, rt, engines, errors);
  return { workload: w, program, mem: rt.mem, events, base, resultsAddr, jsBytes, jsView, expected, ...built };
}
