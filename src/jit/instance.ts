/**
 * The JavaScript side of a compiled program: instantiates the module against the engine's memory and
 * helper registry, calls its entry points, and turns every way a run can stop into a BpfError.
 *
 * A helper may start another run of the same program (the interpreter allows it, giving the inner run
 * a fresh machine). Run state lives in the instance's globals, so a nested run gets an instance of its
 * own: the compiled module is shared, instantiating it again costs ~0.1 ms and only happens on nesting.
 */
import { HELPER_IMPORT, IMPORT_MODULE, trapErrorCode } from './abi.js';
import { compileModule } from './compile.js';
import { TierUp } from './tier-up.js';
import { MAPS_IMPORT_MODULE } from './map-calls.js';
import { mapOperations } from '../maps/ops.js';
import { releaseHeldLocks } from '../maps/held-locks.js';
import { BpfError, BpfRuntimeError, InputError, InternalError, type ErrorCode } from '../errors.js';
import type { Program } from '../program/program.js';
import { isPoisonedCall, poisonedCallRule } from '../program/core-poison.js';
import { packetError, readPacket, type EntryGuard } from '../runtime/entry.js';
import { runRegions, type Executable, type ExecutableShare, type Runtime } from '../runtime/executable.js';
import { HelperFault, type HelperEnv } from '../runtime/helpers.js';
import type { BpfMap } from '../maps/map.js';
import type { Region } from '../runtime/memory.js';
import { checkTailCount, finishChain, mayTailCall, type TailState } from '../runtime/tail-call.js';

interface JitExports {
  run64(ctx: number, len: number, stackStart: number): bigint;
  run32(ctx: number, len: number, stackStart: number): number;
  run_batch(base: number, stride: number, len: number, count: number, results: number, stackStart: number): void;
  /** The code of the last trap (abi.ts), clearing it; error_at says where (a pc, or an event's address). */
  take_error(): number;
  error_at(): number;
  set_unwind(): void;
  ctx_start(): number;
  ctx_len(): number;
  // Only in modules of programs that may tail call (tail-call.ts):
  run_tail(ctx: number, len: number, stackStart: number, count: number): bigint;
  take_tail(): number;
  tail_count(): number;
  batch_left(): number;
  set_tail(target: number, count: number): void;
}

const isU32 = (n: number): boolean => (n >>> 0) === n;

/** Events between two looks at the optimizer's mailbox while it works. */
const POLL_EVENTS = 256;
/**
 * "Nothing to look at": a count that never runs out in practice (and is looked at harmlessly if it
 * does). A small integer, not Infinity: V8 keeps the field as an untagged int, where a double would
 * change the field's representation under code already optimized for it.
 */
const NEVER = 2 ** 30;

let hotPathCopies = 0;

/**
 * run and runU32 as functions of their own for each executable. The call into WebAssembly is fast
 * only where V8 sees one target: a method shared by every executable sees the exports of all of
 * them and falls back to the generic JS-to-wasm call (bench/README.md, "Design measurements"). The source differs per copy (a numbered comment) because V8 caches `new Function` by its text,
 * and closures of one function literal would share their optimized code.
 */
function hotPaths(self: JitExecutable, tails: boolean): Pick<Executable, 'run' | 'runU32'> {
  // A program that may tail call asks after each run whether the run goes on in another program
  // (take_tail); the others return from inside the try. `value` wraps the entry's result ($).
  const body = (entry: string, value: string, chained: string): string => {
    const call = `x.${entry}(ctxAddr, ctxLen, stackStart)`;
    return tails ? `
    let value;
    try {
      value = ${call};
    } catch (error) {
      throw self.translate(x, error);
    }
    const target = x.take_tail();
    return target === 0 ? ${value.replace('$', 'value')} : ${chained};` : `
    try {
      return ${value.replace('$', call)};
    } catch (error) {
      throw self.translate(x, error);
    }`;
  };
  const source = `// JIT executable ${++hotPathCopies}
return {
  run(ctxAddr, ctxLen, cpu = 0) {
    const stackStart = self.enter(ctxAddr, ctxLen, cpu);
    const x = self.x;${body('run64', 'BigInt.asUintN(64, $)', 'self.chain(x, target, ctxAddr, ctxLen, cpu)')}
  },
  runU32(ctxAddr, ctxLen, cpu = 0) {
    const stackStart = self.enter(ctxAddr, ctxLen, cpu);
    const x = self.x;${body('run32', '$ >>> 0', 'Number(BigInt.asUintN(32, self.chain(x, target, ctxAddr, ctxLen, cpu)))')}
  },
};`;
  return (new Function('self', source) as (s: JitExecutable) => Pick<Executable, 'run' | 'runU32'>)(self);
}

function trapMessage(program: Program, code: ErrorCode, pc: number): string {
  if (isPoisonedCall(program.insnAt[pc])) return poisonedCallRule(program, pc);
  switch (code) {
    case 'E_RUN_MEMORY': return 'memory access outside the program\'s memory (or a write to read-only memory, or a misaligned atomic)';
    case 'E_RUN_BUDGET': return 'instruction budget exceeded';
    case 'E_RUN_CALL_DEPTH': return 'more than 8 nested call frames';
    case 'E_RUN_UNKNOWN_HELPER': return 'callx: the register holds no registrable helper id';
    case 'E_RUN_HELPER': return 'helper spin_lock failed: the lock stays held (a deadlock)';
    default: return `${code} in a program of ${program.slotCount} slots`;
  }
}

export class JitExecutable implements Executable {
  readonly engine = 'jit' as const;
  /** instances[d] serves runs nested d deep inside helpers; [0] is the normal one. */
  private readonly instances: JitExports[] = [];
  private readonly stackStarts: number[] = [];
  /** Helpers currently running (a run started meanwhile is nested). */
  private helperDepth = 0;
  /** CPU of the innermost run, for the helper environment. */
  private cpu = 0;

  /**
   * Runs once with r1 = ctxAddr and r2 = ctxLen on the given CPU; returns r0. The first look at run
   * or runU32 compiles both for this executable (hotPaths) and leaves them as its own properties, in
   * place of these getters: a load does not pay for them, nor a program only ever run in batches,
   * and the caller's call site only ever sees the executable's own function.
   */
  get run(): (ctxAddr: number, ctxLen: number, cpu?: number) => bigint {
    return this.ownPaths().run;
  }

  /** Same as run, returning the low 32 bits of r0 as an unsigned number. */
  get runU32(): (ctxAddr: number, ctxLen: number, cpu?: number) => number {
    return this.ownPaths().runU32;
  }

  private ownPaths(): Pick<Executable, 'run' | 'runU32'> {
    const paths = hotPaths(this, this.tails);
    Object.defineProperties(this, { run: { value: paths.run }, runU32: { value: paths.runU32 } });
    return paths;
  }

  /** Set while the program may still move to the optimizing tier ('auto', or optimize() asked for). */
  private tierUp: TierUp | undefined;
  /**
   * Batch events until the tier is looked at again: counting down `hotRuns`, then every POLL_EVENTS
   * while the optimizer works; NEVER when there is nothing to wait for. Only batches count: a single
   * run's cost is mostly the call into WebAssembly, which the optimizer does not change, and a module
   * swapped under a JS call site leaves V8 a slower call to it (bench/README.md, "Design
   * measurements"); a batch runs the program inside WebAssembly, where the optimizer pays.
   */
  private untilCheck = NEVER;

  constructor(
    readonly program: Program, private readonly rt: Runtime, private module: WebAssembly.Module,
    private readonly regions: readonly Region[], private readonly maps: ReadonlyMap<number, BpfMap>, private readonly guard: EntryGuard,
    /** Compiled with `checked: false` and no facts: a program's stray access traps in wasm, unplanned. */
    private readonly unguarded: boolean,
    private currentTier: 'baseline' | 'optimized',
    /** The baseline bytes (what the optimizer reads); with `hotRuns`, the program tiers up by itself. */
    private readonly baseline: Uint8Array<ArrayBuffer>,
    hotRuns: number | undefined,
    /** The share's parts known at compile time (share()). */
    private readonly shared: ExecutableShare,
  ) {
    if (hotRuns !== undefined && currentTier === 'baseline') {
      this.tierUp = new TierUp(baseline, program.insns.length);
      this.untilCheck = Math.min(hotRuns, NEVER);
    }
    this.instances.push(this.instantiate());
    this.tails = mayTailCall(program, rt.helpers);
  }

  /** The program may tail call: its module has the chain's exports, and a run may go on in other programs. */
  private readonly tails: boolean;

  /** After a run that made a tail call: the rest of the chain (src/runtime/tail-call.ts). Called by hotPaths' code. */
  chain(x: JitExports, target: number, ctxAddr: number, ctxLen: number, cpu: number): bigint {
    return finishChain(this.rt.mem, ctxAddr, ctxLen, cpu, { count: x.tail_count(), target });
  }

  runTail(ctxAddr: number, ctxLen: number, cpu: number, state: TailState): bigint {
    const count = checkTailCount(state.count);
    const stackStart = this.enter(ctxAddr, ctxLen, cpu);
    const x = this.x;
    try {
      if (!this.tails) return BigInt.asUintN(64, x.run64(ctxAddr, ctxLen, stackStart));
      const r0 = BigInt.asUintN(64, x.run_tail(ctxAddr, ctxLen, stackStart, count));
      state.target = x.take_tail();
      state.count = x.tail_count();
      return r0;
    } catch (error) {
      throw this.translate(x, error);
    }
  }

  /**
   * A batch whose program may tail call: the event loop stops after an event that made one; the
   * chain runs here, its r0 goes to that event's result, and the loop goes on with the next event.
   */
  private runBatchChained(base: number, stride: number, len: number, count: number, resultsAddr: number, cpu: number): void {
    for (let left = count; left > 0;) {
      const stackStart = this.enter(base, len, cpu);
      const x = this.x;
      try {
        x.run_batch(base, stride, len, left, resultsAddr, stackStart);
      } catch (error) {
        throw this.translate(x, error);
      }
      const target = x.take_tail();
      if (target === 0) return;
      const after = x.batch_left();
      const at = base + (left - after - 1) * stride;
      const r0 = finishChain(this.rt.mem, at, len, cpu, { count: x.tail_count(), target });
      resultsAddr += 8 * (left - after);
      this.rt.mem.view.setBigUint64(resultsAddr - 8, r0, true);
      base = at + stride;
      left = after;
    }
  }

  private instantiate(): JitExports {
    const level = this.instances.length;
    // i64 arguments arrive as signed BigInts; helpers see registers as unsigned 64-bit values.
    const u = (r: bigint): bigint => BigInt.asUintN(64, r);
    const helper = (pc: number, id: number, r1: bigint, r2: bigint, r3: bigint, r4: bigint, r5: bigint, fp: bigint): bigint =>
      this.callHelper(level, pc, id, [u(r1), u(r2), u(r3), u(r4), u(r5)], Number(fp));
    const imports = { [IMPORT_MODULE]: { memory: this.rt.mem.memory, [HELPER_IMPORT]: helper }, [MAPS_IMPORT_MODULE]: this.mapImports() };
    return new WebAssembly.Instance(this.module, imports).exports as unknown as JitExports;
  }

  /** The map operations, for modules that call them directly (map-calls.ts); nothing to compile for the others. */
  private mapImports(): WebAssembly.ModuleImports {
    const wanted = WebAssembly.Module.imports(this.module).some((i) => i.module === MAPS_IMPORT_MODULE);
    return wanted ? (mapOperations(this.rt.mem) as unknown as WebAssembly.ModuleImports) : {};
  }

  /** The instance for a run starting now. Not private: hotPaths' generated code calls it, like enter and translate. */
  get x(): JitExports {
    const depth = this.helperDepth;
    if (depth === 0) return this.instances[0]!;
    while (this.instances.length <= depth) this.instances.push(this.instantiate());
    return this.instances[depth]!;
  }

  runBatch(base: number, stride: number, len: number, count: number, resultsAddr: number, cpu = 0): void {
    if (!isU32(stride) || !isU32(count)) throw new InputError('runBatch: stride and count must be integers in 0..2^32-1');
    if (count === 0) return; // the event loop runs at least once (module.ts)
    this.guard.checkResults(resultsAddr, count);
    this.guard.checkStride(stride);
    // Events lie at increasing addresses with one length: the first and the last bound them all.
    this.guard.check(base + (count - 1) * stride, len);
    if ((this.untilCheck -= count) <= 0) this.checkTier();
    if (this.tails) return this.runBatchChained(base, stride, len, count, resultsAddr, cpu);
    const stackStart = this.enter(base, len, cpu);
    const x = this.x;
    try {
      x.run_batch(base, stride, len, count, resultsAddr, stackStart);
    } catch (error) {
      throw this.translate(x, error);
    }
  }

  /** Checks a run's context (entry.ts) and CPU, and moves to the optimized tier when it is ready; returns the CPU's stack start. */
  enter(ctxAddr: number, ctxLen: number, cpu: number): number {
    this.guard.check(ctxAddr, ctxLen);
    let stackStart = this.stackStarts[cpu];
    if (stackStart === undefined) {
      if (!isU32(cpu) || cpu >= this.rt.mem.cpus) throw new InputError(`cpu ${cpu} is out of range (engine has ${this.rt.mem.cpus})`);
      stackStart = this.rt.mem.stackRegion(cpu).start;
      this.stackStarts[cpu] = stackStart;
    }
    this.cpu = cpu;
    return stackStart;
  }

  share(): ExecutableShare {
    return { ...this.shared, jit: { module: this.module, tier: this.currentTier, unguarded: this.unguarded } };
  }

  /** An 'auto' program still on the baseline tier: it moves to the optimized one once hot. */
  get tiersUp(): boolean {
    return this.tierUp !== undefined;
  }

  /** The tier the next run uses: 'baseline' until the optimized module is installed. */
  get tier(): 'baseline' | 'optimized' {
    return this.currentTier;
  }

  /**
   * Re-optimizes the program through binaryen in the optimizer worker now (an 'auto' program does
   * so by itself once hot); resolves once the optimized module serves the runs that start next.
   */
  async optimize(): Promise<void> {
    if (this.currentTier === 'optimized') return;
    this.tierUp ??= new TierUp(this.baseline, this.program.insns.length);
    this.untilCheck = Math.min(this.untilCheck, POLL_EVENTS);
    const binary = await this.tierUp.start();
    if (this.currentTier === 'baseline') this.install(binary);
  }

  /**
   * Sends the program to the optimizer once it is hot, then installs the optimized module once it is
   * there. Only at the start of an outermost run: a run in progress (or a helper's nested one) keeps
   * the instance it started with, and the instances nested runs use are made afresh from the new module.
   */
  private checkTier(): void {
    if (!this.tierUp) {
      this.untilCheck = NEVER;
      return;
    }
    this.untilCheck = this.helperDepth > 0 ? 1 : POLL_EVENTS;
    if (this.helperDepth > 0) return;
    const binary = this.tierUp.poll();
    if (binary) this.install(binary);
  }

  private install(binary: Uint8Array<ArrayBuffer>): void {
    this.module = compileModule(binary);
    this.instances.length = 0;
    this.instances.push(this.instantiate());
    this.currentTier = 'optimized';
    this.tierUp = undefined;
    this.untilCheck = NEVER;
  }

  /** The helper import: (pc, id, r1..r5) -> r0, looked up at call time like the interpreter does. */
  private callHelper(level: number, pc: number, id: number, args: [bigint, bigint, bigint, bigint, bigint], fp: number): bigint {
    const spec = this.rt.helpers.get(id);
    if (!spec) throw new BpfRuntimeError('E_RUN_UNKNOWN_HELPER', pc, `callx: no helper with id ${id} is registered`);
    const x = this.instances[level]!;
    const cpu = this.cpu;
    let result: unknown;
    this.helperDepth++;
    // tail_call (through callx; a static call is inlined) counts in, and names the next program through, the module's globals.
    const tail = spec.tailCall && this.tails ? { count: x.tail_count(), target: 0 } : undefined;
    try {
      result = spec.impl(...args, this.helperEnv(x, cpu, fp, tail));
      if (tail) x.set_tail(tail.target, tail.count);
    } catch (error) {
      if (error instanceof HelperFault) throw new BpfRuntimeError('E_RUN_MEMORY', pc, `helper ${spec.name}: ${error.message}`);
      if (error instanceof BpfError) throw error;
      const message = error instanceof Error ? error.message : String(error);
      throw new BpfRuntimeError('E_RUN_HELPER', pc, `helper ${spec.name} failed: ${message}`);
    } finally {
      this.helperDepth--;
      this.cpu = cpu;
    }
    if (typeof result !== 'bigint') {
      throw new BpfRuntimeError('E_RUN_HELPER', pc, `helper ${spec.name} returned ${typeof result}, not a bigint`);
    }
    const value = BigInt.asUintN(64, result);
    if (spec.unwindOnZero && value === 0n) x.set_unwind();
    return value;
  }

  private helperEnv(x: JitExports, cpu: number, fp: number, tail: TailState | undefined): HelperEnv {
    const regions = runRegions(this.rt.mem, cpu, fp, x.ctx_start() >>> 0, x.ctx_len() >>> 0, this.regions);
    return tail ? { mem: this.rt.mem, cpu, regions, maps: this.maps, tail } : { mem: this.rt.mem, cpu, regions, maps: this.maps };
  }

  /** The drive loop found a packet context whose pointers lie outside the heap (module.ts). */
  private packetRefusal(addr: number): InputError {
    const p = this.guard.contract!.packet!;
    const { data, end, meta } = readPacket(this.rt.mem.refresh().view, addr, p);
    return packetError(addr, data, end, meta);
  }

  /** Every way a run can stop, as a BpfError: nothing raw escapes. */
  translate(x: JitExports, error: unknown): BpfError {
    releaseHeldLocks(this.rt.mem, this.cpu); // a run that failed holds no lock (src/maps/held-locks.ts)
    if (error instanceof BpfError) return error;
    if (error instanceof WebAssembly.RuntimeError) {
      const code = trapErrorCode(x.take_error());
      if (code === 'E_INPUT') return this.packetRefusal(x.error_at() >>> 0);
      if (code) return new BpfRuntimeError(code, x.error_at(), trapMessage(this.program, code, x.error_at()));
      if (this.unguarded) return new BpfRuntimeError('E_RUN_MEMORY', -1, `unchecked program stopped by a WebAssembly trap: ${error.message}`);
      return new InternalError(`WebAssembly trap outside the JIT's checks: ${error.message}`);
    }
    const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    return new BpfRuntimeError('E_RUN_HELPER', -1, `run stopped by ${message}`);
  }
}
