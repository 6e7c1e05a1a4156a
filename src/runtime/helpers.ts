/**
 * Helper functions called by `call N` (src 0) and `callx`. A registry maps ids to implementations;
 * an engine holds one registry, and host code adds its own helpers the same way as built-in ones.
 */
import { BpfError, BpfRuntimeError, ProgramError } from '../errors.js';
import { CORE_POISON_HELPER, isPoisonedCall, poisonedCallRule } from '../program/core-poison.js';
import type { Program } from '../program/program.js';
import type { InsnOf } from '../isa/insn.js';
import type { EngineMemory, Region } from './memory.js';
import type { HelperProto } from './helper-proto.js';
import type { BpfMap } from '../maps/map.js';
import { inRegions } from './memory.js';
import type { TailState } from './tail-call.js';
import type { MapOpsExports } from '../maps/ops.js';

/** What a helper sees of the running program. */
export interface HelperEnv {
  readonly mem: EngineMemory;
  readonly cpu: number;
  /** Regions the current run may touch; a helper checks pointer arguments against them. */
  readonly regions: readonly Region[];
  /** The program's maps, by address (what `lddw rX, map_by_idx(N)` loads): the only ones its helpers may use. */
  readonly maps: ReadonlyMap<number, BpfMap>;
  /** The run's tail calls (tail-call.ts), which the tail_call helper counts and sets; absent outside an engine's run. */
  readonly tail?: TailState;
}

export type HelperImpl = (r1: bigint, r2: bigint, r3: bigint, r4: bigint, r5: bigint, env: HelperEnv) => bigint;

export interface HelperSpec {
  readonly id: number;
  readonly name: string;
  readonly impl: HelperImpl;
  /** When the helper returns 0 the whole program stops at once with r0 = 0 (the conformance `unwind`). */
  readonly unwindOnZero?: boolean;
  /** What the verifier checks calls against; a helper without one cannot be called by a verified program. */
  readonly proto?: HelperProto;
  /**
   * The kernel's map helper this is (src/maps/helpers.ts): the JIT may then run the map operation
   * itself, inside WebAssembly, where the verifier pinned the map.
   */
  readonly mapCall?: 'lookup' | 'update' | 'delete';
  /** bpf_tail_call (src/maps/tail-call-helper.ts): the engines end the run when it sets `env.tail.target`, and the JIT inlines it. */
  readonly tailCall?: true;
  /** A helper whose work is one map operation, which verified JIT code calls directly (src/jit/map-calls.ts). */
  readonly wasmOp?: WasmOp;
}

/** How a helper's registers map onto the arguments of its map operation (src/maps/ops.ts). */
export interface WasmOp {
  /** The operation's export. */
  readonly name: keyof MapOpsExports;
  /** The type of map the verifier pinned for the call, whose address goes first; absent for ops on a pointer. */
  readonly pinned?: number;
  /** Registers passed next, in order. */
  readonly regs: readonly number[];
  /** The run's CPU goes last. */
  readonly cpu?: true;
  /** A non-zero result stops the run with E_RUN_HELPER, as the helper's failure does (a spin lock never released). */
  readonly trapsOnFailure?: true;
}

/** Raised by a helper for a bad pointer argument; the engine turns it into E_RUN_MEMORY at the call's pc. */
export class HelperFault extends Error {}

/**
 * Checks a pointer argument and returns it as a plain address. A buffer the helper writes (`write`)
 * must not be read-only (a BPF_F_RDONLY_PROG map's value), as a store there would not be.
 */
export function checkedAddress(env: HelperEnv, ptr: bigint, len: number, write = false): number {
  if (ptr < 0n || ptr > 0xffffffffn || !inRegions(env.regions, Number(ptr), len, write)) {
    const readOnly = write && ptr >= 0n && ptr <= 0xffffffffn && inRegions(env.regions, Number(ptr), len);
    throw new HelperFault(`helper argument 0x${ptr.toString(16)} (+${len}) is ${readOnly ? 'read-only to programs (a BPF_F_RDONLY_PROG map\'s value)' : 'outside the program\'s memory'}`);
  }
  return Number(ptr);
}

export class HelperRegistry {
  private readonly byId = new Map<number, HelperSpec>();

  constructor(specs: Iterable<HelperSpec> = []) {
    for (const spec of specs) this.register(spec);
  }

  register(spec: HelperSpec): this {
    if (!Number.isInteger(spec.id) || spec.id < 0 || spec.id > 0x7fffffff) {
      throw new BpfError('E_INPUT', `helper id ${spec.id} must be an integer in 0..2^31-1`);
    }
    if (this.byId.has(spec.id)) throw new BpfError('E_INPUT', `helper ${spec.id} (${spec.name}) is already registered`);
    this.byId.set(spec.id, spec);
    return this;
  }

  get(id: number): HelperSpec | undefined {
    return this.byId.get(id);
  }

  has(id: number): boolean {
    return this.byId.has(id);
  }

  all(): HelperSpec[] {
    return [...this.byId.values()].sort((a, b) => a.id - b.id);
  }
}

/** A poisoned instruction (program/core-poison.ts) loads, and faults when it runs. */
function poisonedHelper(program: Program, pc: number): HelperSpec {
  return {
    id: CORE_POISON_HELPER, name: 'core_poison',
    impl: () => { throw new BpfRuntimeError('E_RUN_UNKNOWN_HELPER', pc, poisonedCallRule(program, pc)); },
  };
}

/**
 * The helper a static `call` names. Both engines refuse, at load time, a call to an id the registry
 * does not have (callx is looked up at run time instead) and calls to kernel functions.
 */
export function staticHelper(registry: HelperRegistry, insn: InsnOf<'call'>, program?: Program): HelperSpec {
  if (program && isPoisonedCall(insn)) return poisonedHelper(program, insn.pc);
  if (insn.mode === 'kfunc') throw new ProgramError('E_UNKNOWN_HELPER', insn.pc, `kfunc call ${insn.imm} is not supported`);
  const spec = registry.get(insn.imm);
  if (!spec) throw new ProgramError('E_UNKNOWN_HELPER', insn.pc, `call ${insn.imm}: no helper with this id is registered`);
  return spec;
}
