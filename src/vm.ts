/**
 * The public face of bpfjit: a Vm owns one engine memory and one helper registry; programs loaded into
 * it run in the interpreter or as JIT-compiled WebAssembly, against the same memory.
 */
import { createInterpreter } from './interp/index.js';
import { compileJit } from './jit/index.js';
import type { Program } from './program/program.js';
import type { Executable, ExecOptions, Runtime } from './runtime/executable.js';
import { HelperRegistry, type HelperSpec } from './runtime/helpers.js';
import { EngineMemory } from './runtime/memory.js';
import { toProgram, type ProgramSource } from './source.js';
import { BpfError } from './errors.js';

export type EngineName = 'interp' | 'jit';

export interface VmOptions {
  /** CPUs (worker threads) the memory has stacks for. */
  cpus?: number;
  /** Helpers programs may call, by id. */
  helpers?: Iterable<HelperSpec>;
}

export interface LoadOptions extends ExecOptions {
  engine?: EngineName;
}

/** A program loaded into a Vm, ready to run on byte inputs. */
export class LoadedProgram {
  private inputAddr = 0;
  private inputCapacity = 0;

  constructor(readonly exe: Executable, private readonly mem: EngineMemory) {}

  get program(): Program {
    return this.exe.program;
  }

  /** Copies `input` into engine memory and runs once with r1 = its address, r2 = its length; returns r0. */
  run(input: Uint8Array = new Uint8Array(0), cpu = 0): bigint {
    if (input.length === 0) return this.exe.run(0, 0, cpu);
    return this.exe.run(this.place(input), input.length, cpu);
  }

  /** Like run, returning the low 32 bits of r0 (no BigInt). */
  runU32(input: Uint8Array, cpu = 0): number {
    if (input.length === 0) return this.exe.runU32(0, 0, cpu);
    return this.exe.runU32(this.place(input), input.length, cpu);
  }

  private place(input: Uint8Array): number {
    if (input.length > this.inputCapacity) {
      this.inputCapacity = Math.max(input.length, 2 * this.inputCapacity, 4096);
      this.inputAddr = this.mem.alloc(this.inputCapacity, 8);
    }
    this.mem.write(this.inputAddr, input);
    return this.inputAddr;
  }
}

export class Vm {
  readonly mem: EngineMemory;
  readonly helpers: HelperRegistry;

  constructor(options: VmOptions = {}) {
    this.mem = new EngineMemory({ cpus: options.cpus ?? 1 });
    this.helpers = new HelperRegistry(options.helpers ?? []);
  }

  get runtime(): Runtime {
    return { mem: this.mem, helpers: this.helpers };
  }

  /** Compiles a program (bytecode, assembly text, instructions or a built Program) for one engine. */
  load(source: ProgramSource | Program, options: LoadOptions = {}): LoadedProgram {
    const program = toProgram(source);
    const engine = options.engine ?? 'jit';
    const exe = this.compile(program, engine, options);
    return new LoadedProgram(exe, this.mem);
  }

  compile(program: Program, engine: EngineName, options: ExecOptions = {}): Executable {
    switch (engine) {
      case 'interp': return createInterpreter(program, this.runtime, options);
      case 'jit': return compileJit(program, this.runtime, options);
      default: throw new BpfError('E_INPUT', `unknown engine '${String(engine)}' (expected interp or jit)`);
    }
  }
}
