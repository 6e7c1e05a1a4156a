/**
 * Helper functions called by `call N` (src 0) and `callx`. A registry maps ids to implementations;
 * an engine holds one registry, and host code adds its own helpers the same way as built-in ones.
 */
import { BpfError, ProgramError } from '../errors.js';
import type { InsnOf } from '../isa/insn.js';
import type { EngineMemory, Region } from './memory.js';
import type { HelperProto } from './helper-proto.js';
import type { BpfMap } from '../maps/map.js';
import { inRegions } from './memory.js';

/** What a helper sees of the running program. */
export interface HelperEnv {
  readonly mem: EngineMemory;
  readonly cpu: number;
  /** Regions the current run may touch; a helper checks pointer arguments against them. */
  readonly regions: readonly Region[];
  /** The program's maps, by address (what `lddw rX, map_by_idx(N)` loads): the only ones its helpers may use. */
  readonly maps: ReadonlyMap<number, BpfMap>;
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
  /** The kernel's ring buffer helper this is (src/maps/ringbuf-helpers.ts): the JIT may call the operation directly. */
  readonly ringbufCall?: 'output' | 'reserve' | 'submit' | 'discard' | 'query';
  /**
   * A helper whose work is one map operation the JIT may call directly (src/jit/map-calls.ts):
   * perf_event_output of the pinned perf_event_array, spin_lock and spin_unlock of a map value.
   */
  readonly wasmOp?: 'perf_event_output' | 'spin_lock' | 'spin_unlock';
}

/** Raised by a helper for a bad pointer argument; the engine turns it into E_RUN_MEMORY at the call's pc. */
export class HelperFault extends Error {}

/** Checks a pointer argument and returns it as a plain address. */
export function checkedAddress(env: HelperEnv, ptr: bigint, len: number): number {
  if (ptr < 0n || ptr > 0xffffffffn || !inRegions(env.regions, Number(ptr), len)) {
    throw new HelperFault(`helper argument 0x${ptr.toString(16)} (+${len}) is outside the program's memory`);
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

/**
 * The helper a static `call` names. Both engines refuse, at load time, a call to an id the registry
 * does not have (callx is looked up at run time instead) and calls to kernel functions.
 */
export function staticHelper(registry: HelperRegistry, insn: InsnOf<'call'>): HelperSpec {
  if (insn.mode === 'kfunc') throw new ProgramError('E_UNKNOWN_HELPER', insn.pc, `kfunc call ${insn.imm} is not supported`);
  const spec = registry.get(insn.imm);
  if (!spec) throw new ProgramError('E_UNKNOWN_HELPER', insn.pc, `call ${insn.imm}: no helper with this id is registered`);
  return spec;
}
