/**
 * Runs one program through the checked interpreter and other engines and compares what they leave
 * behind: r0, the error (code and pc; both fail or neither), the context bytes (with a margin on each
 * side, filled with a pattern, to catch stray reads and writes) and the CPU's whole stack. The engines:
 *
 * - 'jit': the JIT in checked mode (bounds checks, budget), on every program;
 * - 'jit-facts': the JIT compiled with the verifier's facts (no bounds checks, no budget, guards the
 *   facts make useless dropped), the code users run, on the programs the verifier accepts under
 *   memory(input length). An accepted program must not fault at all, so this also checks the facts;
 * - 'jit-opt' and 'jit-facts-opt': the same two in the optimized tier (the module through binaryen's
 *   passes), which a program reaches once it runs hot. They need binaryen in this thread: await
 *   loadOptimizer() before constructing a Differential with them. The other two are the baseline tier.
 *
 * All share one runtime; before each run the context is rewritten from the input and the stack
 * refilled (zeros or seeded bytes), so they start from identical memory. Cases may also ask for a batch
 * run (runBatch over several copies of the input), compared the same way plus the r0 each event stored.
 */
import { FUZZ_HELPERS } from './helpers.js';
import { lowerProgram } from './lower.js';
import { FUZZ_BUDGET, MAX_BATCH, MAX_INPUT } from './program-gen.js';
import type { ProgramSpec } from './spec.js';
import { assemble } from '../src/asm/index.js';
import { BpfError, BpfRuntimeError, type ErrorCode } from '../src/errors.js';
import { createInterpreter } from '../src/interp/index.js';
import type { Insn } from '../src/isa/insn.js';
import { compileJit, optimizerLoaded, type JitOptions } from '../src/jit/index.js';
import { JitExecutable } from '../src/jit/instance.js';
import { buildProgram, type Program } from '../src/program/program.js';
import type { Executable, Runtime } from '../src/runtime/executable.js';
import { EngineMemory } from '../src/runtime/memory.js';
import { standardRegistry } from '../src/runtime/standard-helpers.js';
import { memory, verify, type VerifierFacts } from '../src/verifier/index.js';

/**
 * Instructions the verifier may process per case (its default is 1,000,000). Generated programs need
 * under 1,000; a hand-written loop of 255 rounds needs some 94,000 (half a second), and is left to
 * the checked engines instead: its verdict is then the verifier's refusal for the budget.
 */
const VERIFY_BUDGET = 5_000;

/** Engines compared with the checked interpreter (see the top of this file). */
export type FuzzEngine = 'jit' | 'jit-opt' | 'jit-facts' | 'jit-facts-opt';
export const FUZZ_ENGINES: readonly FuzzEngine[] = ['jit', 'jit-opt', 'jit-facts', 'jit-facts-opt'];

/** What each engine is: compiled with the verifier's facts or not, in which tier, and its name in reports. */
export const ENGINE_KINDS: Readonly<Record<FuzzEngine, { readonly verified: boolean; readonly tier: 'baseline' | 'optimized'; readonly label: string }>> = {
  'jit': { verified: false, tier: 'baseline', label: 'JIT' },
  'jit-opt': { verified: false, tier: 'optimized', label: 'optimized JIT' },
  'jit-facts': { verified: true, tier: 'baseline', label: 'JIT with facts' },
  'jit-facts-opt': { verified: true, tier: 'optimized', label: 'optimized JIT with facts' },
};

/** True when some of `engines` run the optimized tier (and so need loadOptimizer() first). */
export const needsOptimizer = (engines: readonly FuzzEngine[]): boolean => engines.some((e) => ENGINE_KINDS[e].tier === 'optimized');

/** Bytes checked on each side of the context; filled with a pattern so stray reads show too. */
export const MARGIN = 64;
const MARGIN_FILL = 0xa5;
/** Distance between batch events: the input rounded up to 8 bytes, plus 8 (events keep the same alignment). */
export const eventStride = (len: number): number => Math.ceil(len / 8) * 8 + 8;
const WINDOW_BYTES = MARGIN + 8 + MAX_BATCH * eventStride(MAX_INPUT) + MARGIN;

export interface RunError {
  readonly code: string;
  readonly pc: number;
  readonly message: string;
}

/**
 * How one engine ended: r0 (single runs) or an error, and the memory it left. `phase: 'load'` means it
 * refused the program.
 */
export interface Outcome {
  readonly phase: 'load' | 'run' | 'batch';
  readonly r0: bigint | undefined;
  readonly error: RunError | undefined;
  /** From MARGIN bytes before the (first) context to MARGIN bytes after the last one. */
  readonly memory: Uint8Array;
  /** Batch runs: the r0 of each event as stored by runBatch (empty for single runs). */
  readonly results: Uint8Array;
  /** The CPU's whole stack. */
  readonly stack: Uint8Array;
}

export interface CaseInput {
  readonly insns: readonly Insn[];
  readonly input: Uint8Array;
  readonly budget: number;
  /** Misalignment of the context start (0-7). */
  readonly shift: number;
  /** Seed of the initial stack bytes (0: zeros). */
  readonly stackSeed: number;
  /** The JIT's control-flow structuring. */
  readonly structure: 'auto' | 'layout';
  /** CPU to run on (the memory has two, each with its own stack). */
  readonly cpu: 0 | 1;
  /** Also run a batch of this many events through runBatch (0: no batch). */
  readonly batch: number;
  /** False turns off the JIT's jump tables (to tell whether a difference comes from them). */
  readonly jumpTables?: boolean;
}

/** How one engine ended a case. */
export interface EngineRuns {
  readonly engine: FuzzEngine;
  /** The tier the compiled program said it ran in (undefined when it could not be compiled). */
  readonly tier: 'baseline' | 'optimized' | undefined;
  /** One run (Executable.run). */
  readonly single: Outcome;
  /** The batch run, when the case asks for one and the single runs agreed. */
  readonly batch: Outcome | undefined;
}

/** What the engines compiled with the verifier's facts are held to. */
export interface VerifiedRuns {
  readonly facts: VerifierFacts;
  /**
   * The checked interpreter's outcome; run again without a budget when the facts say the program
   * needs none (the verified code has none) and the case's budget stopped it.
   */
  readonly reference: Outcome;
  /** The same for the batch run, when one was compared. */
  readonly referenceBatch: Outcome | undefined;
}

export interface CaseResult {
  readonly insns: readonly Insn[];
  readonly program: Program;
  /** One run (Executable.run). */
  readonly interp: Outcome;
  /** The interpreter's batch run, when the case asks for one and some engine got that far. */
  readonly interpBatch: Outcome | undefined;
  /**
   * The engines that ran, in FUZZ_ENGINES order: every checked one asked for; the verified ones for
   * programs the verifier accepted, once the checked ones agreed (runVerified).
   */
  readonly runs: readonly EngineRuns[];
  /**
   * The verifier's verdict under memory(input length), with a verified engine: 'accepted' or the
   * refusal's code; undefined when not asked (no verified engine, or a misaligned context, see runVerified).
   */
  readonly verdict: 'accepted' | ErrorCode | undefined;
  /** What the verified engines are held to, for accepted programs, when the checked engines agreed. */
  readonly verified: VerifiedRuns | undefined;
  /** The first difference, or undefined when the engines agree. */
  readonly difference: string | undefined;
}

/** The runs of one engine in a case, if it ran. */
export const runsOf = (result: CaseResult, engine: FuzzEngine): EngineRuns | undefined => result.runs.find((r) => r.engine === engine);

export function asRunError(error: unknown): RunError {
  if (error instanceof BpfRuntimeError) return { code: error.code, pc: error.pc, message: error.message };
  if (error instanceof BpfError) return { code: error.code, pc: 'pc' in error ? Number(error.pc) : -1, message: error.message };
  const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return { code: 'UNEXPECTED', pc: -1, message };
}

/** Deterministic bytes from a seed (xorshift32); seed 0 gives zeros. */
export function fillStack(bytes: Uint8Array, seed: number): void {
  if (seed === 0) {
    bytes.fill(0);
    return;
  }
  let x = seed | 0 || 1;
  for (let i = 0; i < bytes.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    bytes[i] = x & 0xff;
  }
}

const hex = (v: bigint): string => '0x' + v.toString(16);

/** r0 of each event a batch run stored. */
export function batchResults(o: Outcome): bigint[] {
  const view = new DataView(o.results.buffer, o.results.byteOffset, o.results.byteLength);
  return Array.from({ length: o.results.length / 8 }, (_, i) => view.getBigUint64(8 * i, true));
}

export function describeOutcome(o: Outcome): string {
  if (o.error) return `${o.phase === 'load' ? 'refused' : 'error'} ${o.error.code} at pc ${o.error.pc} (${o.error.message})`;
  if (o.phase === 'batch') return `r0 of each event: ${batchResults(o).map(hex).join(', ')}`;
  return `r0 = ${hex(o.r0!)}`;
}

function firstDifference(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return i;
  return -1;
}

/** The case a generated spec describes. */
export function caseOf(spec: ProgramSpec): CaseInput {
  const { input, budget, shift, stackSeed, structure, cpu, batch } = spec;
  return { insns: lowerProgram(spec), input, budget, shift, stackSeed, structure, cpu, batch };
}

/** Event i of a batch sees the input with every byte xor-ed with 0x35 * i. */
const eventInput = (input: Uint8Array, i: number): Uint8Array => input.map((b) => b ^ ((0x35 * i) & 0xff));

type Loaded = Executable | RunError;

/** The JIT options a case asks for, for an engine. */
const jitOptions = (c: CaseInput, engine: FuzzEngine): JitOptions => ({
  budget: c.budget, structure: c.structure, tier: ENGINE_KINDS[engine].tier, ...(c.jumpTables === false ? { jumpTables: false } : {}),
});

/** The engine's single run against the reference's, then its batch run (when asked) if those agreed. */
interface Comparison {
  readonly runs: EngineRuns;
  readonly difference: string | undefined;
}

export class Differential {
  readonly rt: Runtime;
  readonly engines: ReadonlySet<FuzzEngine>;
  /** 8-aligned start of the context window (the context itself starts MARGIN + shift bytes in). */
  private readonly window: number;
  private readonly results: number;

  constructor(engines: readonly FuzzEngine[] = FUZZ_ENGINES) {
    if (engines.length === 0) throw new Error('no engine to compare with the interpreter');
    if (needsOptimizer(engines) && !optimizerLoaded()) {
      throw new Error(`engines ${engines.filter((e) => ENGINE_KINDS[e].tier === 'optimized').join(', ')} run binaryen: await loadOptimizer() first`);
    }
    this.engines = new Set(engines);
    this.rt = { mem: new EngineMemory({ cpus: 2 }), helpers: standardRegistry(FUZZ_HELPERS, { cpus: 2 }) };
    this.window = this.rt.mem.alloc(WINDOW_BYTES + 8 * MAX_BATCH, 8);
    this.results = this.window + WINDOW_BYTES;
  }

  /** Lowers a generated spec and compares the engines on it. */
  runSpec(spec: ProgramSpec): CaseResult {
    return this.runCase(caseOf(spec));
  }

  /** Assembles uBPF-syntax text and compares the engines on it (regression cases). */
  runAsm(asm: string, input: Uint8Array = new Uint8Array(0), options: Partial<Omit<CaseInput, 'insns' | 'input'>> = {}): CaseResult {
    const { budget = FUZZ_BUDGET, shift = 0, stackSeed = 0, structure = 'auto', cpu = 0, batch = 0 } = options;
    return this.runCase({ insns: assemble(asm, 'ubpf'), input, budget, shift, stackSeed, structure, cpu, batch });
  }

  runCase(c: CaseInput): CaseResult {
    if (c.input.length > MAX_INPUT || c.shift < 0 || c.shift > 7 || c.batch < 0 || c.batch > MAX_BATCH) {
      throw new Error('input too long, or bad shift or batch size');
    }
    const program = buildProgram(c.insns);
    const interpExe = this.load(() => createInterpreter(program, this.rt, { budget: c.budget }));
    const interp = this.outcome(c, interpExe, 1);
    let interpBatch: Outcome | undefined;
    const batchOf = (): Outcome => (interpBatch ??= this.outcome(c, interpExe, c.batch));
    // Every checked engine runs, so that a report shows each tier's outcome; the first difference counts.
    const checked = this.chosen(false).map((engine) => {
      const exe = this.load(() => compileJit(program, this.rt, jitOptions(c, engine)));
      return this.compare(c, engine, exe, interp, batchOf);
    });
    const base = { insns: c.insns, program, interp };
    const difference = checked.find((x) => x.difference !== undefined)?.difference;
    const runs = checked.map((x) => x.runs);
    if (difference !== undefined || this.chosen(true).length === 0 || c.shift !== 0) {
      return { ...base, interpBatch, runs, verdict: undefined, verified: undefined, difference };
    }
    const v = this.runVerified(c, program, interp, batchOf);
    return { ...base, interpBatch, runs: [...runs, ...v.runs], verdict: v.verdict, verified: v.verified, difference: v.difference };
  }

  /** The chosen engines, checked or verified, in FUZZ_ENGINES order. */
  private chosen(verified: boolean): FuzzEngine[] {
    return FUZZ_ENGINES.filter((e) => this.engines.has(e) && ENGINE_KINDS[e].verified === verified);
  }

  /** An engine against the reference: one run, then the batch when the case has one and the run agreed. */
  private compare(c: CaseInput, engine: FuzzEngine, exe: Loaded, reference: Outcome, referenceBatch: () => Outcome): Comparison {
    const names = ['interpreter', ENGINE_KINDS[engine].label] as const;
    const where = { ctxLen: c.input.length, shift: c.shift };
    const tier = exe instanceof JitExecutable ? exe.tier : undefined;
    const single = this.outcome(c, exe, 1);
    const difference = compareOutcomes(reference, single, where, names);
    if (difference !== undefined || c.batch === 0) return { runs: { engine, tier, single, batch: undefined }, difference };
    const batch = this.outcome(c, exe, c.batch);
    const d = compareOutcomes(referenceBatch(), batch, where, names);
    return { runs: { engine, tier, single, batch }, difference: d === undefined ? undefined : `runBatch of ${c.batch} events: ${d}` };
  }

  /**
   * Verifies under memory(input length) and, when accepted, holds the JIT compiled with the facts to
   * the checked interpreter, in each tier asked for. Only for 8-aligned contexts (shift 0), as the Vm
   * places them: facts about aligned context accesses assume it, and an atomic the verifier saw
   * aligned would fault misaligned.
   */
  private runVerified(c: CaseInput, program: Program, interp: Outcome, interpBatch: () => Outcome): Pick<CaseResult, 'runs' | 'verdict' | 'verified' | 'difference'> {
    const result = verify(program, { context: memory(c.input.length), helpers: this.rt.helpers, budget: VERIFY_BUDGET });
    if (!result.ok) return { runs: [], verdict: result.error.code, verified: undefined, difference: undefined };
    const facts = result.facts;
    // Without `needsBudget` the verified code runs unbudgeted: a run the budget stopped is run again without one.
    const unbudgeted = facts.needsBudget ? undefined : this.load(() => createInterpreter(program, this.rt, { budget: Number.MAX_SAFE_INTEGER }));
    const referenceOf = (o: Outcome, count: number): Outcome =>
      (unbudgeted && o.error?.code === 'E_RUN_BUDGET' ? this.outcome(c, unbudgeted, count) : o);
    const reference = referenceOf(interp, 1);
    let referenceBatch: Outcome | undefined;
    const batchOf = (): Outcome => (referenceBatch ??= referenceOf(interpBatch(), c.batch));
    const runs: EngineRuns[] = [];
    let difference = unsound(reference, facts) ?? (c.batch > 0 ? unsound(batchOf(), facts, c.batch) : undefined);
    for (const engine of difference === undefined ? this.chosen(true) : []) {
      const exe = this.load(() => compileJit(program, this.rt, { ...jitOptions(c, engine), facts }));
      const x = this.compare(c, engine, exe, reference, batchOf);
      runs.push(x.runs);
      difference ??= x.difference;
    }
    return { runs, verdict: 'accepted', verified: { facts, reference, referenceBatch }, difference };
  }

  private load(make: () => Executable): Loaded {
    try {
      return make();
    } catch (error) {
      return asRunError(error);
    }
  }

  /**
   * An empty input is the context (0, 0), as the Vm passes it: the only one a memory(0) program may
   * get (src/runtime/entry.ts); its batches repeat it (stride 0).
   */
  private ctxAddr(c: CaseInput): number {
    return c.input.length === 0 ? 0 : this.window + MARGIN + c.shift;
  }

  private stride(c: CaseInput): number {
    return c.input.length === 0 ? 0 : eventStride(c.input.length);
  }

  /** Bytes from MARGIN before the first context to MARGIN after the last of `count` events. */
  private span(c: CaseInput, count: number): number {
    return MARGIN + c.shift + (count - 1) * eventStride(c.input.length) + c.input.length + MARGIN;
  }

  private reset(c: CaseInput, count: number): void {
    const bytes = this.rt.mem.bytes;
    bytes.fill(MARGIN_FILL, this.window, this.window + this.span(c, count));
    for (let i = 0; i < count; i++) bytes.set(eventInput(c.input, i), this.ctxAddr(c) + i * eventStride(c.input.length));
    bytes.fill(0, this.results, this.results + 8 * MAX_BATCH);
    const stack = this.rt.mem.stackRegion(c.cpu);
    fillStack(bytes.subarray(stack.start, stack.end), c.stackSeed);
  }

  private snapshot(c: CaseInput, count: number, phase: Outcome['phase'], r0: bigint | undefined, error: RunError | undefined): Outcome {
    const stack = this.rt.mem.stackRegion(c.cpu);
    return {
      phase, r0, error,
      memory: this.rt.mem.read(this.window, this.span(c, count)),
      results: phase === 'batch' ? this.rt.mem.read(this.results, 8 * count) : new Uint8Array(0),
      stack: this.rt.mem.read(stack.start, stack.end - stack.start),
    };
  }

  /** One run (count 1) or a batch of `count` events, from freshly reset memory. */
  private outcome(c: CaseInput, exe: Loaded, count: number): Outcome {
    this.reset(c, count);
    if (!('run' in exe)) return this.snapshot(c, count, 'load', undefined, exe);
    const phase = count === 1 ? 'run' : 'batch';
    try {
      if (phase === 'batch') {
        exe.runBatch(this.ctxAddr(c), this.stride(c), c.input.length, count, this.results, c.cpu);
        return this.snapshot(c, count, phase, undefined, undefined);
      }
      return this.snapshot(c, count, phase, exe.run(this.ctxAddr(c), c.input.length, c.cpu), undefined);
    } catch (error) {
      return this.snapshot(c, count, phase, undefined, asRunError(error));
    }
  }
}

/**
 * An accepted program may only stop early on its budget, and only when the facts say it needs one.
 * `batch`: the events of a batch run.
 */
function unsound(reference: Outcome, facts: VerifierFacts, batch?: number): string | undefined {
  const e = reference.error;
  if (!e || (e.code === 'E_RUN_BUDGET' && facts.needsBudget)) return undefined;
  const run = batch === undefined ? '' : `runBatch of ${batch} events: `;
  return `${run}the verifier accepted a program that the checked interpreter stops: ${describeOutcome(reference)}`;
}

/** Where byte `i` of an outcome's memory lies, relative to the (first) context. */
function place(i: number, shift: number, ctxLen: number): string {
  const d = i - MARGIN - shift;
  if (d < 0) return `${-d} bytes before the context`;
  if (d < ctxLen) return `context byte ${d}`;
  const stride = eventStride(ctxLen);
  const event = Math.floor(d / stride);
  return d % stride < ctxLen ? `byte ${d % stride} of event ${event}` : `context + ${d} (outside every context)`;
}

const byte = (b: number | undefined): string => '0x' + (b ?? 0).toString(16).padStart(2, '0');

/**
 * The first way two outcomes differ, in words; undefined when they are the same. `names` are the
 * engines' (the reference first).
 */
export function compareOutcomes(
  interp: Outcome, jit: Outcome, where: { readonly ctxLen: number; readonly shift: number },
  names: readonly [string, string] = ['interpreter', 'JIT'],
): string | undefined {
  const [a, b] = names;
  if (interp.phase === 'load' || jit.phase === 'load') {
    return `a load failed: ${a} ${describeOutcome(interp)}; ${b} ${describeOutcome(jit)}`;
  }
  const ie = interp.error, je = jit.error;
  if (ie || je) {
    if (!ie || !je || ie.code !== je.code || ie.pc !== je.pc) {
      return `outcomes differ: ${a} ${describeOutcome(interp)}; ${b} ${describeOutcome(jit)}`;
    }
  } else if (interp.r0 !== jit.r0) {
    return `r0 differs: ${a} ${hex(interp.r0!)}, ${b} ${hex(jit.r0!)}`;
  }
  const r = firstDifference(interp.results, jit.results);
  if (r >= 0) {
    const event = Math.floor(r / 8);
    return `r0 of event ${event} differs: ${a} ${hex(batchResults(interp)[event]!)}, ${b} ${hex(batchResults(jit)[event]!)}`;
  }
  const m = firstDifference(interp.memory, jit.memory);
  if (m >= 0) {
    return `memory differs at ${place(m, where.shift, where.ctxLen)}: ${a} ${byte(interp.memory[m])}, ${b} ${byte(jit.memory[m])}`;
  }
  const s = firstDifference(interp.stack, jit.stack);
  if (s >= 0) {
    return `stack differs at entry r10-${interp.stack.length - s}: ${a} ${byte(interp.stack[s])}, ${b} ${byte(jit.stack[s])}`;
  }
  return undefined;
}
