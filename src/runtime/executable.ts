/**
 * What the interpreter and the JIT both produce, and the runtime rules both obey. Differential tests
 * hold the two engines to these rules bit for bit:
 *
 * - Entry: r1 = context address, r2 = context length, r10 = top of the CPU's first stack frame,
 *   every other register 0 (reading one before writing it is refused at load time anyway).
 * - Budget: on entering a basic block the run is charged the block's instruction count; when the total
 *   exceeds the budget the run stops with E_RUN_BUDGET at the block's first pc.
 * - Local call: saves r6-r9 and r10, r10 -= 512; a ninth frame stops the run with E_RUN_CALL_DEPTH at
 *   the call. `exit` in a callee restores them and returns r0.
 * - Memory: in checked mode an access [addr, addr+size) must lie inside one region (the CPU's stack,
 *   the context, or an engine region such as map storage), else E_RUN_MEMORY at its pc, before any
 *   effect. Atomics must also be naturally aligned (as in WebAssembly), else E_RUN_MEMORY. A verified
 *   program may run unchecked.
 * - Helpers: r0 = helper(r1..r5); r1-r5 keep their values. A helper flagged `unwindOnZero` that returns
 *   0 ends the whole run with r0 = 0. A HelperFault becomes E_RUN_MEMORY at the call's pc; callx of an
 *   unregistered id is E_RUN_UNKNOWN_HELPER.
 */
import type { Program } from '../program/program.js';
import type { HelperRegistry } from './helpers.js';
import type { EngineMemory, Region } from './memory.js';

export const DEFAULT_BUDGET = 100_000_000;

export interface ExecOptions {
  /** Most instructions one run may execute (checked mode). */
  budget?: number;
  /** Extra regions every run may touch (map storage, event buffers). */
  regions?: readonly Region[];
}

export interface Runtime {
  readonly mem: EngineMemory;
  readonly helpers: HelperRegistry;
}

export interface Executable {
  readonly engine: 'interp' | 'jit';
  readonly program: Program;
  /** Runs once with r1 = ctxAddr and r2 = ctxLen on the given CPU; returns r0. */
  run(ctxAddr: number, ctxLen: number, cpu?: number): bigint;
  /** Same as run, returning the low 32 bits of r0 as an unsigned number: no BigInt on the hot path. */
  runU32(ctxAddr: number, ctxLen: number, cpu?: number): number;
  /**
   * Batch entry point: runs once per event, event i at `base + i * stride` with length `len`, and
   * stores each r0 as a little-endian u64 at `resultsAddr + 8 * i`. One call per batch keeps the
   * JavaScript/WebAssembly crossing (and BigInt) off the per-event path.
   */
  runBatch(base: number, stride: number, len: number, count: number, resultsAddr: number, cpu?: number): void;
}

/** Engine factories: `createInterpreter` in src/interp, `compileJit` in src/jit. */
export type CreateInterpreter = (program: Program, rt: Runtime, options?: ExecOptions) => Executable;
export type CompileJit = (program: Program, rt: Runtime, options?: ExecOptions) => Executable;

/** Regions a run may touch in checked mode. */
export function runRegions(rt: Runtime, cpu: number, ctxAddr: number, ctxLen: number, extra: readonly Region[] = []): Region[] {
  return [rt.mem.stackRegion(cpu), { start: ctxAddr, end: ctxAddr + ctxLen }, ...extra];
}

