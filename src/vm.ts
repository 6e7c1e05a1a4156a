/**
 * The public face of bpfjit: a Vm owns one engine memory and one helper registry; programs loaded into
 * it are verified against a context descriptor, then run in the interpreter or as JIT-compiled
 * WebAssembly against the same memory. Unverified programs run only in checked mode, by opt-in.
 */
import { BpfError, InputError } from './errors.js';
import { createInterpreter } from './interp/index.js';
import { compileJit, type Tier } from './jit/index.js';
import { JitExecutable } from './jit/instance.js';
import type { Program } from './program/program.js';
import type { Executable, ExecOptions, Runtime } from './runtime/executable.js';
import { HelperRegistry, type HelperSpec } from './runtime/helpers.js';
import { EngineMemory, type MemoryShare } from './runtime/memory.js';
import { toProgram, type ProgramSource } from './source.js';
import { bindMaps, mapDescriptor, type GivenMaps } from './maps/bind.js';
import { standardRegistry } from './runtime/standard-helpers.js';
import type { CurrentTaskFn, ProbeReadFn, TracePrintkSink } from './helpers/index.js';
import { ProgArray, createMap, type BpfMap, type PerfEventArray, type RingBuf } from './maps/map.js';
import type { MapSpec } from './maps/spec.js';
import { verify, type ContextDescriptor, type ContextLayout, type LogLevel, type Termination, type VerifierFacts, type VerifyStats } from './verifier/index.js';
import { contextBytes, writeContext } from './runtime/build-context.js';
import type { PoolOptions, WorkerPool } from './workers/pool.js';

export type EngineName = 'interp' | 'jit';

export interface VmOptions {
  /** CPUs (worker threads) the memory has stacks for. */
  cpus?: number;
  /**
   * Helpers programs may call, by id. The kernel's helpers this runtime has (the map helpers 1-3 and
   * 195, the ring buffer helpers 130-134, and those of src/helpers: README.md lists them) are
   * registered too, except where one of these takes the id.
   */
  helpers?: Iterable<HelperSpec>;
  /**
   * The task a run works for, for get_current_pid_tgid, get_current_uid_gid and get_current_comm;
   * called with the run's CPU at each such call. Without it, or when it returns undefined, those
   * helpers answer as the kernel does with no current task: -EINVAL (and a zeroed comm).
   */
  current?: CurrentTaskFn;
  /** Receives bpf_trace_printk's text and the run's CPU. Default: the text is dropped. */
  tracePrintk?: TracePrintkSink;
  /**
   * Memory the probe_read helpers may read beyond the run's own regions: all of user memory
   * (probe_read_user*), and kernel memory outside the engine's. Default: none (-EFAULT).
   */
  probeRead?: ProbeReadFn;
  /** Largest program `load` accepts, in 8-byte slots (default 1,000,000, the kernel's limit). */
  maxSlots?: number;
  /**
   * Another Vm's memory (`vm.mem.share()`, posted to this thread), in place of a new one: this Vm then
   * works on the same maps and allocates from the same heap (`cpus` comes from the share). Its maps
   * are reached with attachMap(vm.mem, map.share()).
   */
  memory?: MemoryShare;
}

/** What the engines take beyond the runtime's options: for the JIT, its tier (src/jit/index.ts). */
export interface EngineOptions extends ExecOptions {
  /**
   * The JIT's tier: 'baseline' (the code generator's module, compiled at once), 'optimized' (through
   * binaryen first, in this thread: await loadOptimizer() once before), or 'auto' (default: baseline,
   * re-optimized in a worker thread once `hotRuns` events have run in batches, swapped in between two runs).
   */
  tier?: Tier;
  /** Batch events after which an 'auto' program is re-optimized (default 10,000). */
  hotRuns?: number;
}

export interface LoadOptions extends Omit<EngineOptions, 'maps'> {
  /**
   * Maps for the program: by position (map_by_idx order) or, for a program that declares its maps,
   * by declared name. A declared map given none is created in this Vm's memory (LoadedProgram.maps).
   */
  maps?: GivenMaps;
  engine?: EngineName;
  /** What r1 (and r2) hold at entry: memory(size), event(size), packet() or a structContext. */
  context?: ContextDescriptor;
  /** Skip the verifier and run in checked mode: every access bounds-checked, an instruction budget. */
  unverified?: boolean;
  /** Verifier log detail kept in `verification.log` (0, 1 or 2). */
  logLevel?: LogLevel;
  /**
   * 'prove' (default): refuse loops the verifier cannot prove to end. 'budget': accept loops proven
   * safe, and rely on the run's instruction budget (`budget`) to end them (see VerifyOptions).
   */
  termination?: Termination;
}

export interface Verification {
  readonly facts: VerifierFacts;
  readonly stats: VerifyStats;
  readonly log: string;
}

/** A program loaded into a Vm, ready to run on byte inputs. */
export class LoadedProgram {
  private inputAddr = 0;
  private inputCapacity = 0;

  constructor(
    readonly exe: Executable,
    /** The memory of the Vm that loaded the program (a prog_array takes only programs of its own). */
    readonly mem: EngineMemory,
    readonly context: ContextDescriptor | undefined,
    readonly verification: Verification | undefined,
    /** The maps the program runs with, in map_by_idx order. */
    readonly maps: readonly BpfMap[] = [],
  ) {}

  /** The program's map of this name (a declared name, or the name the map was created with). */
  map(name: string): BpfMap {
    const found = this.maps.find((m) => m.name === name);
    if (!found) throw new InputError(`the program has no map named '${name}' (its maps: ${this.maps.map((m) => `'${m.name}'`).join(', ') || 'none'})`);
    return found;
  }

  get program(): Program {
    return this.exe.program;
  }

  /** What runs the program now: the interpreter, or the JIT's baseline or optimized tier. */
  get tier(): 'interp' | 'baseline' | 'optimized' {
    return this.exe instanceof JitExecutable ? this.exe.tier : 'interp';
  }

  /**
   * Moves a JIT program to the optimized tier now, through binaryen in a worker thread (an 'auto'
   * program does so by itself once hot); resolves once the runs that start next use it. Nothing to do
   * for the interpreter.
   */
  async optimize(): Promise<void> {
    if (this.exe instanceof JitExecutable) await this.exe.optimize();
  }

  /**
   * Copies `input` into engine memory and runs once; returns r0. For a packet context (packet(),
   * xdp(), socketFilter(), tc()) `input` is the packet, and r1 points to the struct built in front of
   * it (src/runtime/build-context.ts); for the other contexts it must be exactly the context's size.
   */
  run(input: Uint8Array = new Uint8Array(0), cpu = 0): bigint {
    const { addr, len } = this.placeInput(input);
    return this.exe.run(addr, len, cpu);
  }

  /** Like run, returning the low 32 bits of r0 (no BigInt). */
  runU32(input: Uint8Array, cpu = 0): number {
    const { addr, len } = this.placeInput(input);
    return this.exe.runU32(addr, len, cpu);
  }

  /**
   * Copies `input` into this program's input buffer in engine memory and returns the context to pass
   * to `exe.run(addr, len)`: for running the same input many times without copying it each time.
   * The next placeInput (or run) overwrites the buffer.
   */
  placeInput(input: Uint8Array): { addr: number; len: number } {
    const [addr, len] = this.prepare(input);
    return { addr, len };
  }

  private prepare(input: Uint8Array): [number, number] {
    const ctx = this.context;
    if (ctx?.layout) return this.placePacket(ctx.layout, input);
    if (ctx && input.length !== ctx.r1.size) {
      throw new InputError(`input is ${input.length} bytes but the program was verified for ${ctx.name}`);
    }
    // memory(0) promises r1 = null (src/verifier/context.ts); every other context gets a real address.
    if (input.length === 0 && (!ctx || ctx.r1.kind === 'memory')) return [0, 0];
    return [this.place(input, 0), input.length];
  }

  /** The built-in layouts: the struct (packet(), xdp_md, __sk_buff) with the packet behind it (runtime/build-context.ts). */
  private placePacket(layout: ContextLayout, input: Uint8Array): [number, number] {
    const addr = this.reserve(contextBytes(layout, input.length));
    return [addr, writeContext(this.mem, addr, layout, input)];
  }

  private place(input: Uint8Array, offset: number): number {
    const addr = this.reserve(input.length + offset);
    this.mem.write(addr + offset, input);
    return addr;
  }

  /** This program's input buffer, grown to `need` bytes. */
  private reserve(need: number): number {
    if (need > this.inputCapacity || this.inputAddr === 0) {
      this.inputCapacity = Math.max(need, 2 * this.inputCapacity, 4096);
      this.inputAddr = this.mem.alloc(this.inputCapacity, 8);
    }
    return this.inputAddr;
  }
}

export class Vm {
  readonly mem: EngineMemory;
  readonly helpers: HelperRegistry;
  /** The largest program load accepts, in slots (VmOptions.maxSlots). */
  readonly maxSlots: number | undefined;
  private readonly hostCallbacks: Pick<VmOptions, 'current' | 'tracePrintk' | 'probeRead'>;

  constructor(options: VmOptions = {}) {
    this.mem = options.memory ? EngineMemory.attach(options.memory) : new EngineMemory({ cpus: options.cpus ?? 1 });
    const { current, tracePrintk, probeRead } = options;
    this.helpers = standardRegistry(options.helpers, { cpus: this.mem.cpus, current, tracePrintk, probeRead });
    this.maxSlots = options.maxSlots;
    this.hostCallbacks = { current, tracePrintk, probeRead };
  }

  /**
   * Starts worker threads over this Vm's memory (src/workers/pool.ts): worker i is CPU i, so the Vm
   * needs `cpus` >= size (default size: os.availableParallelism()). Node only. While a pool runs,
   * run programs on this thread only on CPUs that are not the pool's.
   */
  async pool(size?: number, options: PoolOptions = {}): Promise<WorkerPool> {
    const { WorkerPool } = await import('./workers/pool.js');
    const { current, tracePrintk, probeRead } = this.hostCallbacks;
    return WorkerPool.start({ mem: this.mem, helpers: this.helpers, tracePrintk, current: current !== undefined, probeRead: probeRead !== undefined }, size, options);
  }

  /** A map in this Vm's memory, for programs to share with each other and with the host. */
  createMap(spec: MapSpec & { type: 'ringbuf' | 27 }): RingBuf;
  createMap(spec: MapSpec & { type: 'prog_array' | 3 }): ProgArray;
  createMap(spec: MapSpec & { type: 'perf_event_array' | 4 }): PerfEventArray;
  createMap(spec: MapSpec): BpfMap;
  createMap(spec: MapSpec): BpfMap {
    return createMap(this.mem, spec);
  }

  get runtime(): Runtime {
    return { mem: this.mem, helpers: this.helpers };
  }

  /**
   * Verifies a program (bytecode, assembly text, instructions or a built Program) against
   * `options.context` and compiles it for one engine. Throws a VerifyError when it is refused.
   */
  load(source: ProgramSource | Program, options: LoadOptions = {}): LoadedProgram {
    const program = toProgram(source, this.maxSlots === undefined ? {} : { maxSlots: this.maxSlots });
    const engine = options.engine ?? 'jit';
    const maps = bindMaps(this.mem, program.maps, options.maps);
    // A prog_array serves programs of one context: the tail-called programs run on this one's.
    for (const map of maps) if (map instanceof ProgArray) map.claim(options.context);
    const engineOptions: EngineOptions = { ...options, maps };
    if (options.unverified) return new LoadedProgram(this.compile(program, engine, engineOptions), this.mem, options.context, undefined, maps);
    if (!options.context) {
      throw new InputError('load needs a context (memory(size), event(size), packet(), ...) to verify against, or unverified: true');
    }
    const result = verify(program, {
      context: options.context, helpers: this.helpers, logLevel: options.logLevel ?? 0, termination: options.termination ?? 'prove',
      maps: maps.map(mapDescriptor),
    });
    if (!result.ok) {
      result.error.log = result.log;
      throw result.error;
    }
    const verification = { facts: result.facts, stats: result.stats, log: result.log };
    const exe = this.compile(program, engine, engineOptions, result.facts);
    return new LoadedProgram(exe, this.mem, options.context, verification, maps);
  }

  /** Compiles without verifying: checked mode unless `facts` from a successful verify() are given. */
  compile(program: Program, engine: EngineName, options: EngineOptions = {}, facts?: VerifierFacts): Executable {
    return compileFor(engine, program, this.runtime, options, facts);
  }
}

/**
 * Builds an executable. With verifier facts the program runs unchecked: the JIT emits no bounds
 * checks and no budget; the interpreter drops its region rules and budget (JavaScript still keeps it
 * inside the memory buffer). Facts that say `needsBudget` keep the budget in both. Without facts both
 * run in checked mode. Either way every run is checked at entry (src/runtime/entry.ts).
 */
export function compileFor(engine: EngineName, program: Program, rt: Runtime, options: EngineOptions = {}, facts?: VerifierFacts): Executable {
  const withFacts = facts ? { ...options, facts } : options;
  switch (engine) {
    case 'interp': return createInterpreter(program, rt, withFacts);
    case 'jit': return compileJit(program, rt, withFacts);
    default:
      throw new BpfError('E_INPUT', `unknown engine '${String(engine)}' (expected interp or jit)`);
  }
}
