/**
 * Per-function code generation state: the wasm locals that hold BPF registers, temporaries, run-wide
 * values (stack start, context start, context limits), and how to raise a runtime error.
 *
 * Local layout (params first, as wasm requires):
 *   0..4 r1..r5   5 r10 (the frame pointer)                       all i64 params
 *   entry function only: 6 stack start, 7 context start, 8..11 context limits for sizes 1, 2, 4, 8
 *   then r0, r6..r9, the flat layout's label (i32), fuel, and temporaries.
 * The entry is written into the event loop (module.ts), so its "parameters" are plain locals there,
 * set per event; local-call targets load the run-wide values from globals in their prologue.
 */
import { functionName, GLOBAL, ctxLimitGlobal, trapCode } from './abi.js';
import { i32, i64, i64Const, type Expr, type WasmModule, type ValueType } from '../wasm/builder.js';
import type { ProgramFacts } from './analysis.js';
import type { PointerFact } from './pointer-facts.js';
import { InternalError, type ErrorCode } from '../errors.js';
import type { InsnFacts, VerifierFacts } from '../verifier/facts.js';
import type { BpfFunction, Program } from '../program/program.js';
import type { HelperRegistry } from '../runtime/helpers.js';
import type { BpfMap } from '../maps/map.js';
import { STACK_FRAME_BYTES, STACK_PER_CPU, type EngineMemory, type Region } from '../runtime/memory.js';

export type Structure = 'auto' | 'structured' | 'layout';

/** Facts and choices shared by every function of one module. */
export interface ModuleContext {
  readonly m: WasmModule;
  readonly program: Program;
  readonly facts: ProgramFacts;
  /** Charge the budget per block (false when no run can exceed it). */
  readonly budgetChecks: boolean;
  /** Check the call depth at local calls (false when the call graph is shallow enough). */
  readonly depthChecks: boolean;
  /** Bounds-check memory accesses against the run's regions. */
  readonly checked: boolean;
  /**
   * What the verifier proved, when the program was verified: per-pc facts that drop division guards,
   * narrow compares and mark dead code. (Bounds checks and the budget follow `checked` and
   * `budgetChecks`, which buildModule already derived from it.)
   */
  readonly verified: VerifierFacts | undefined;
  /** Recover jump tables from compare trees (jump-table.ts). */
  readonly jumpTables: boolean;
  /** Turn jump tables whose arms only set constants into value tables (value-table.ts). */
  readonly valueTables: boolean;
  /** The engine memory, where value tables are placed. */
  readonly mem: EngineMemory;
  /** Engine regions every run may touch, beyond the stack and the context (the maps' values among them). */
  readonly regions: readonly Region[];
  /** The maps lddw names, by index. */
  readonly maps: readonly BpfMap[];
  /** The memory's size when compiling; it never shrinks, so a region inside it stays inside. */
  readonly memoryEnd: number;
  /** Control-flow structuring: structured where the graph allows it ('auto'), or always the flat layout. */
  readonly structure: Structure;
  /** The runtime's helpers, to refuse static calls to unregistered ids at load time. */
  readonly helpers: HelperRegistry;
  /** The program may tail call (src/runtime/tail-call.ts): the module keeps the chain's globals. */
  readonly tails: boolean;
  /** The functions the module's code calls through imports, by name: the helper import, map operations (map-calls.ts). */
  readonly imports: Set<string>;
}

/** Run-wide values a function may read. */
export const RUN_VALUES = ['stackStart', 'ctxStart', 'ctxLimit1', 'ctxLimit2', 'ctxLimit4', 'ctxLimit8'] as const;
export type RunValue = (typeof RUN_VALUES)[number];

const REG_PARAMS = 6;
/** Parameter count of a BPF function's wasm function. */
export const paramCount = (fnIndex: number): number => (fnIndex === 0 ? REG_PARAMS + RUN_VALUES.length : REG_PARAMS);

const runGlobal = (value: RunValue): string => {
  if (value === 'stackStart') return GLOBAL.stackStart;
  if (value === 'ctxStart') return GLOBAL.ctxStart;
  return ctxLimitGlobal(Number(value.slice('ctxLimit'.length)));
};

/**
 * The entry function's code is written into the event loop that runs it (module.ts), as binaryen's
 * inliner would do: its parameters and locals then sit after the loop function's own parameters
 * (`base` of them), and its `return` sets a result local and leaves the block `label`.
 */
export interface Inlined {
  readonly base: number;
  readonly label: string;
}

export class FnEmitter {
  readonly m: WasmModule;
  /** r0, r6..r9, label, fuel. */
  private readonly vars: ValueType[] = [i64, i64, i64, i64, i64, i32, i64];
  private readonly runLocals = new Map<RunValue, number>();
  /** Local holding the bytes of the stack's frames in use, from r10 - 512 to the top (callees only). */
  private frameSpanLocal: number | undefined;
  readonly params: number;
  readonly labelLocal: number;
  readonly fuelLocal: number;
  /** Where local 0 of this function is: 0, or after the loop function's parameters when inlined. */
  readonly base: number;
  /** Inlined: the local that receives r0 when the function returns. */
  readonly result: number | undefined;

  constructor(
    readonly mc: ModuleContext, readonly fn: BpfFunction, readonly pointers: ReadonlyMap<number, PointerFact>,
    readonly inlined?: Inlined,
  ) {
    this.m = mc.m;
    this.base = inlined?.base ?? 0;
    this.params = paramCount(fn.index);
    this.labelLocal = this.base + this.params + 5;
    this.fuelLocal = this.base + this.params + 6;
    this.result = inlined ? this.temp(i64) : undefined;
  }

  /** Leaves the function with `value` as r0: a `return`, or when inlined the result local and a branch. */
  ret(value: Expr): Expr {
    const m = this.m;
    if (!this.inlined) return m.return(value);
    return m.block(null, [m.local.set(this.result!, value), m.br(this.inlined.label)]);
  }

  /** The local holding parameter `i` (r1..r5, r10, then the entry's run-wide values). */
  paramLocal(i: number): number {
    return this.base + i;
  }

  /** The verifier's facts about the instruction at `pc` (undefined for unverified programs). */
  facts(pc: number): InsnFacts | undefined {
    return this.mc.verified?.insns[pc];
  }

  /** True when the verifier proved that no run reaches `pc`. */
  isDead(pc: number): boolean {
    return this.mc.verified !== undefined && this.mc.verified.insns[pc] === undefined;
  }

  get isEntry(): boolean {
    return this.fn.index === 0;
  }

  /** Wasm local holding BPF register r. */
  regLocal(r: number): number {
    if (r >= 1 && r <= 5) return this.base + r - 1;
    if (r === 10) return this.base + 5;
    if (r === 0) return this.base + this.params;
    if (r >= 6 && r <= 9) return this.base + this.params + r - 5;
    throw new InternalError(`no register r${r}`);
  }

  get(r: number): Expr {
    return this.m.local.get(this.shadow?.get(r) ?? this.regLocal(r), i64);
  }

  set(r: number, value: Expr): Expr {
    if (!this.shadow) return this.m.local.set(this.regLocal(r), value);
    const t = this.temp(i64);
    this.shadow.set(r, t);
    return this.m.local.set(t, value);
  }

  /** While speculating: the local each register written so far lives in. */
  private shadow: Map<number, number> | undefined;

  /**
   * Emits code whose register writes go to fresh locals instead (reads see them), so it can run
   * whether or not its results are kept; returns the code and where each written register ended up.
   */
  speculate(emit: () => Expr[]): { code: Expr[]; writes: ReadonlyMap<number, number> } {
    const writes = new Map<number, number>();
    this.shadow = writes;
    try {
      return { code: emit(), writes };
    } finally {
      this.shadow = undefined;
    }
  }

  /** A fresh local (V8's register allocator, and binaryen's coalescing in the optimizing tier, merge the ones whose lives do not overlap). */
  temp(type: ValueType): number {
    this.vars.push(type);
    return this.base + this.params + this.vars.length - 1;
  }

  /** A run-wide i64 value (stack start, context start, context limit per access size). */
  run(value: RunValue): Expr {
    if (this.isEntry) return this.m.local.get(this.paramLocal(REG_PARAMS + RUN_VALUES.indexOf(value)), i64);
    let index = this.runLocals.get(value);
    if (index === undefined) {
      index = this.temp(i64);
      this.runLocals.set(value, index);
    }
    return this.m.local.get(index, i64);
  }

  /** Start of the stack's frames in use: this function's r10 - 512 (checked accesses, executable.ts). */
  frameLo(): Expr {
    return this.m.i64.sub(this.get(10), i64Const(this.m, BigInt(STACK_FRAME_BYTES)));
  }

  /** max(span - size + 1, 0) for the frames in use: an access of `size` bytes at frameLo + d is in them iff d <u it. */
  frameLimit(size: number): Expr {
    const m = this.m;
    // The entry's r10 is the stack's top, so its frames in use are its own 512 bytes.
    if (this.isEntry) return i64Const(m, BigInt(STACK_FRAME_BYTES - size + 1));
    if (this.frameSpanLocal === undefined) {
      this.run('stackStart');
      this.frameSpanLocal = this.temp(i64);
    }
    return m.i64.sub(m.local.get(this.frameSpanLocal, i64), i64Const(m, BigInt(size - 1)));
  }

  /** Statements loading the run-wide values this function used, its frame span, and its fuel. */
  prologue(): Expr[] {
    const m = this.m;
    const loads = [...this.runLocals].map(([value, index]) => m.local.set(index, m.global.get(runGlobal(value), i64)));
    if (this.frameSpanLocal !== undefined) {
      const top = m.i64.add(this.run('stackStart'), i64Const(m, BigInt(STACK_PER_CPU)));
      loads.push(m.local.set(this.frameSpanLocal, m.i64.sub(top, this.frameLo())));
    }
    if (this.mc.budgetChecks) loads.push(m.local.set(this.fuelLocal, m.global.get(GLOBAL.fuel, i64)));
    return loads;
  }

  /** Non-parameter locals, in order (inlined: the parameters too, since they are locals of the loop function). */
  localTypes(): ValueType[] {
    return this.inlined ? [...new Array<ValueType>(this.params).fill(i64), ...this.vars] : this.vars;
  }

  /** Stops the run with `code` at `pc` (the wrapper turns the trap into a BpfRuntimeError). */
  trap(code: ErrorCode, pc: number): Expr {
    const m = this.m;
    // Inline rather than a call: a call on even a cold path makes V8 spill the loop's live values.
    return m.block(null, [
      m.global.set(GLOBAL.errCode, m.i32.const(trapCode(code))),
      m.global.set(GLOBAL.errPc, m.i32.const(pc)),
      m.unreachable(),
    ]);
  }

  /** Stores the fuel left back to its global, before a call or a return hands control elsewhere. */
  saveFuel(): Expr[] {
    return this.mc.budgetChecks ? [this.m.global.set(GLOBAL.fuel, this.m.local.get(this.fuelLocal, i64))] : [];
  }

  reloadFuel(): Expr[] {
    return this.mc.budgetChecks ? [this.m.local.set(this.fuelLocal, this.m.global.get(GLOBAL.fuel, i64))] : [];
  }

  calleeName(fnIndex: number): string {
    return functionName(fnIndex);
  }
}
