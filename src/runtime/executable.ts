/**
 * What the interpreter and the JIT both produce, and the runtime rules both obey. Differential tests
 * hold the two engines to these rules bit for bit:
 *
 * - Entry: r1 = context address, r2 = context length, r10 = top of the CPU's first stack frame,
 *   every other register 0. The context must pass the entry checks (entry.ts) on every entry point.
 * - r10 is read-only: both engines refuse a program that writes it when they are created.
 * - Uninitialized registers (the verifier refuses reading them; checked mode defines them): a
 *   register never written reads 0. A local call's callee starts with r0 and r6-r9 at 0, and after it
 *   returns the caller's r1-r5 read 0 (a helper call leaves r1-r5 as they were).
 * - Budget: on entering a basic block the run is charged the block's instruction count; when the total
 *   exceeds the budget the run stops with E_RUN_BUDGET at the block's first pc.
 * - Local call: saves r6-r9 and r10, r10 -= 512; a ninth frame stops the run with E_RUN_CALL_DEPTH at
 *   the call. `exit` in a callee restores them and returns r0.
 * - Memory: in checked mode an access [addr, addr+size) must lie inside one region (the frames in
 *   use of the CPU's stack: from the current r10 - 512 up to the stack's top; the context; or an engine
 *   region such as map storage; for a store or an atomic, not a read-only one: a BPF_F_RDONLY_PROG
 *   map's values), else E_RUN_MEMORY at its pc, before any effect. Atomics must also be
 *   naturally aligned (as in WebAssembly), else E_RUN_MEMORY. Regions are separated by guard gaps and
 *   both engines place everything at the same addresses (memory.ts), so a stray access faults alike
 *   in both. A verified program may run unchecked.
 * - Callbacks (bpf_loop, for_each_map_elem): `lddw rX, code_addr(f)` loads f's entry pc. The engines
 *   run the callback themselves, each call like a local call from the helper's call site (r10 - 512;
 *   for_each_map_elem first takes one more frame for the key it passes, so the callback's r10 is
 *   r10 - 1024), with r1-r5 the callback's arguments; a value in r2 that is no function's entry
 *   stops the run with E_RUN_CALLBACK at the call. A non-zero r0 ends the iteration.
 * - Helpers: r0 = helper(r1..r5); r1-r5 keep their values. A helper flagged `unwindOnZero` that returns
 *   0 ends the whole run with r0 = 0. A HelperFault becomes E_RUN_MEMORY at the call's pc; callx of an
 *   unregistered id is E_RUN_UNKNOWN_HELPER.
 * - Tail calls: a tail call that succeeds ends the run at once, from any frame; the next program
 *   runs as tail-call.ts says, and the last one's r0 is the run's result.
 */
import { InputError, ProgramError } from '../errors.js';
import { LddwSrc, lddwSourceName, writesRegister, type InsnOf } from '../isa/insn.js';
import { FP } from '../isa/opcode.js';
import type { Program } from '../program/program.js';
import type { BpfMap } from '../maps/map.js';
import type { HelperRegistry } from './helpers.js';
import type { TailState } from './tail-call.js';
import type { VerifierFacts } from '../verifier/facts.js';
import { STACK_FRAME_BYTES, type EngineMemory, type Region } from './memory.js';

export const DEFAULT_BUDGET = 100_000_000;

export interface ExecOptions {
  /** Most instructions one run may execute (checked mode). */
  budget?: number;
  /** Extra regions every run may touch (event buffers the host grants). */
  regions?: readonly Region[];
  /**
   * The maps `lddw rX, map_by_idx(N)` (and map_by_fd(N)) name, by N. Their values are regions every
   * run may touch, and the map helpers take only these maps.
   */
  maps?: readonly BpfMap[];
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
  /** Runs once as a tail call's target (src/runtime/tail-call.ts): the engines have it, a prog_array needs it. */
  runTail?(ctxAddr: number, ctxLen: number, cpu: number, state: TailState): bigint;
  /** What a worker thread needs to run this program over the same memory (src/workers/replica.ts). */
  share(): ExecutableShare;
}

/** What the runtime keeps to of a verified program's facts: its entry contract, and whether it needs the budget. */
export type EntryFacts = Pick<VerifierFacts, 'entry' | 'needsBudget'>;

/**
 * An executable as a worker thread rebuilds it over the same memory: postable (structured clone),
 * with nothing compiled again. The JIT's module is the tier in use when it was shared.
 */
export interface ExecutableShare {
  readonly engine: 'interp' | 'jit';
  readonly program: Program;
  /** The maps' header addresses, in map_by_idx order (the worker attaches them: MapShare). */
  readonly maps: readonly number[];
  /** The regions the host granted (ExecOptions.regions). */
  readonly regions: readonly Region[];
  readonly budget: number | undefined;
  /** undefined: an unverified program, in checked mode. */
  readonly facts: EntryFacts | undefined;
  readonly jit?: { readonly module: WebAssembly.Module; readonly tier: 'baseline' | 'optimized'; readonly unguarded: boolean };
}

/** The part of an executable's share that is known when it is compiled. */
export function shareBase(engine: 'interp' | 'jit', program: Program, options: ExecOptions, facts: EntryFacts | undefined): ExecutableShare {
  return {
    engine, program, maps: (options.maps ?? []).map((m) => m.address), regions: options.regions ?? [], budget: options.budget,
    facts: facts && { entry: facts.entry, needsBudget: facts.needsBudget },
  };
}

/** Regions a run may touch in checked mode, with `fp` the current frame's r10. */
export function runRegions(mem: EngineMemory, cpu: number, fp: number, ctxAddr: number, ctxLen: number, extra: readonly Region[] = []): Region[] {
  return [{ start: fp - STACK_FRAME_BYTES, end: mem.frameTop(cpu) }, { start: ctxAddr, end: ctxAddr + ctxLen }, ...extra];
}

/**
 * Extra regions a host grants (ExecOptions.regions), checked once for both engines: address ranges
 * in the heap, so no grant can expose the stacks or the JIT's data. Empty ones are dropped.
 */
export function checkRegions(mem: EngineMemory, regions: readonly Region[]): Region[] {
  for (const r of regions) {
    if (!Number.isSafeInteger(r.start) || !Number.isSafeInteger(r.end) || r.end < r.start || r.end > 2 ** 32) {
      throw new InputError(`region [${r.start}, ${r.end}) is not a valid address range`);
    }
    if (r.start < mem.heapStart && r.end > r.start) {
      throw new InputError(`region [0x${r.start.toString(16)}, 0x${r.end.toString(16)}) is not inside the engine heap (from 0x${mem.heapStart.toString(16)})`);
    }
  }
  return regions.filter((r) => r.end > r.start);
}


/**
 * The 64-bit value an lddw loads. Its other source modes name maps and globals, which a loader must
 * resolve to addresses before the program runs: both engines refuse them alike at load time.
 */
export function lddwValue(insn: InsnOf<'lddw'>, maps: readonly BpfMap[] = []): bigint {
  switch (insn.src) {
    case LddwSrc.IMM64: return insn.value;
    // A subprogram's code address is its entry pc: what bpf_loop and for_each_map_elem take as the callback.
    case LddwSrc.CODE_ADDR: return BigInt(insn.pc + insn.imm + 1);
    case LddwSrc.MAP_BY_FD: case LddwSrc.MAP_BY_IDX: return BigInt(mapAt(insn, maps).address);
    case LddwSrc.MAP_VALUE_BY_FD: case LddwSrc.MAP_VALUE_BY_IDX: {
      const map = mapAt(insn, maps);
      const at = map.directValue(insn.nextImm);
      if (at === undefined) {
        throw new ProgramError('E_PROGRAM_MAP', insn.pc, `${map.label}: map_value_by_idx(${insn.imm}, ${insn.nextImm}) needs an array map of one entry and an offset inside its ${map.valueSize}-byte value`);
      }
      return BigInt(at);
    }
    default:
      throw new ProgramError('E_DECODE_RESERVED', insn.pc,
        `lddw source mode ${insn.src} (${lddwSourceName(insn.src) ?? 'unknown'}) must be resolved by the loader before the program runs`);
  }
}

function mapAt(insn: InsnOf<'lddw'>, maps: readonly BpfMap[]): BpfMap {
  const map = maps[insn.imm];
  if (!map) throw new ProgramError('E_PROGRAM_MAP', insn.pc, `map ${insn.imm} does not exist (the program was given ${maps.length} map${maps.length === 1 ? '' : 's'})`);
  return map;
}

/** A program's maps by address, for helpers (HelperEnv.maps). */
export const mapsByAddress = (maps: readonly BpfMap[] = []): ReadonlyMap<number, BpfMap> => new Map(maps.map((m) => [m.address, m]));

/** The regions every run of a program may touch: the host's, then its maps' values. */
export function programRegions(mem: EngineMemory, options: ExecOptions): Region[] {
  return checkRegions(mem, [...(options.regions ?? []), ...(options.maps ?? []).map((m) => m.valueRegion)]);
}

/**
 * r10 is the read-only frame pointer (RFC 9669): the verifier refuses a program that writes it, and
 * so does every engine, checked mode included, since the frames in use are found from r10.
 */
export function refuseFrameWrites(program: Program): void {
  for (const insn of program.insns) {
    if (writesRegister(insn) === FP) throw new ProgramError('E_VERIFY_WRITE_R10', insn.pc, 'r10 is the read-only frame pointer');
  }
}
