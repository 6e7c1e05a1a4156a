/**
 * Runs one program through the interpreter and the JIT and compares what they leave behind: r0, the
 * error (code and pc; both fail or neither), the context bytes (with a margin on each side, filled
 * with a pattern, to catch stray reads and writes) and the CPU's whole stack. Both engines share one
 * runtime; before each run the context is rewritten from the input and the stack refilled (zeros or
 * seeded bytes), so they start from identical memory. Cases may also ask for a batch run (runBatch
 * over several copies of the input), compared the same way plus the r0 each event stored.
 */
import { FUZZ_HELPERS } from './helpers.js';
import { lowerProgram } from './lower.js';
import { FUZZ_BUDGET, MAX_BATCH, MAX_INPUT } from './program-gen.js';
import type { ProgramSpec } from './spec.js';
import { assemble } from '../src/asm/index.js';
import { BpfError, BpfRuntimeError } from '../src/errors.js';
import { createInterpreter } from '../src/interp/index.js';
import type { Insn } from '../src/isa/insn.js';
import { compileJit } from '../src/jit/index.js';
import { buildProgram, type Program } from '../src/program/program.js';
import type { Executable, Runtime } from '../src/runtime/executable.js';
import { HelperRegistry } from '../src/runtime/helpers.js';
import { EngineMemory } from '../src/runtime/memory.js';

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

export interface CaseResult {
  readonly insns: readonly Insn[];
  readonly program: Program;
  /** One run (Executable.run). */
  readonly interp: Outcome;
  readonly jit: Outcome;
  /** The batch run, when the case asks for one and the single runs agreed. */
  readonly batch: { readonly interp: Outcome; readonly jit: Outcome } | undefined;
  /** The first difference, or undefined when the engines agree. */
  readonly difference: string | undefined;
}

function asRunError(error: unknown): RunError {
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

export class Differential {
  readonly rt: Runtime;
  /** 8-aligned start of the context window (the context itself starts MARGIN + shift bytes in). */
  private readonly window: number;
  private readonly results: number;

  constructor() {
    this.rt = { mem: new EngineMemory({ cpus: 2 }), helpers: new HelperRegistry(FUZZ_HELPERS) };
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
    const engines = {
      interp: this.load(() => createInterpreter(program, this.rt, { budget: c.budget })),
      jit: this.load(() => compileJit(program, this.rt, {
        budget: c.budget, structure: c.structure, ...(c.jumpTables === false ? { jumpTables: false } : {}),
      })),
    };
    const interp = this.outcome(c, engines.interp, 1);
    const jit = this.outcome(c, engines.jit, 1);
    const where = { ctxLen: c.input.length, shift: c.shift };
    let difference = compareOutcomes(interp, jit, where);
    let batch: CaseResult['batch'];
    if (difference === undefined && c.batch > 0) {
      batch = { interp: this.outcome(c, engines.interp, c.batch), jit: this.outcome(c, engines.jit, c.batch) };
      const d = compareOutcomes(batch.interp, batch.jit, where);
      if (d !== undefined) difference = `runBatch of ${c.batch} events: ${d}`;
    }
    return { insns: c.insns, program, interp, jit, batch, difference };
  }

  private load(make: () => Executable): Executable | RunError {
    try {
      return make();
    } catch (error) {
      return asRunError(error);
    }
  }

  private ctxAddr(c: CaseInput): number {
    return this.window + MARGIN + c.shift;
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
  private outcome(c: CaseInput, exe: Executable | RunError, count: number): Outcome {
    this.reset(c, count);
    if (!('run' in exe)) return this.snapshot(c, count, 'load', undefined, exe);
    const phase = count === 1 ? 'run' : 'batch';
    try {
      if (phase === 'batch') {
        exe.runBatch(this.ctxAddr(c), eventStride(c.input.length), c.input.length, count, this.results, c.cpu);
        return this.snapshot(c, count, phase, undefined, undefined);
      }
      return this.snapshot(c, count, phase, exe.run(this.ctxAddr(c), c.input.length, c.cpu), undefined);
    } catch (error) {
      return this.snapshot(c, count, phase, undefined, asRunError(error));
    }
  }
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

/** The first way the two outcomes differ, in words; undefined when they are the same. */
export function compareOutcomes(interp: Outcome, jit: Outcome, where: { readonly ctxLen: number; readonly shift: number }): string | undefined {
  if (interp.phase === 'load' || jit.phase === 'load') {
    return `a load failed: interpreter ${describeOutcome(interp)}; JIT ${describeOutcome(jit)}`;
  }
  const ie = interp.error, je = jit.error;
  if (ie || je) {
    if (!ie || !je || ie.code !== je.code || ie.pc !== je.pc) {
      return `outcomes differ: interpreter ${describeOutcome(interp)}; JIT ${describeOutcome(jit)}`;
    }
  } else if (interp.r0 !== jit.r0) {
    return `r0 differs: interpreter ${hex(interp.r0!)}, JIT ${hex(jit.r0!)}`;
  }
  const r = firstDifference(interp.results, jit.results);
  if (r >= 0) {
    const event = Math.floor(r / 8);
    return `r0 of event ${event} differs: interpreter ${hex(batchResults(interp)[event]!)}, JIT ${hex(batchResults(jit)[event]!)}`;
  }
  const m = firstDifference(interp.memory, jit.memory);
  if (m >= 0) {
    return `memory differs at ${place(m, where.shift, where.ctxLen)}: interpreter ${byte(interp.memory[m])}, JIT ${byte(jit.memory[m])}`;
  }
  const s = firstDifference(interp.stack, jit.stack);
  if (s >= 0) {
    return `stack differs at entry r10-${interp.stack.length - s}: interpreter ${byte(interp.stack[s])}, JIT ${byte(jit.stack[s])}`;
  }
  return undefined;
}
