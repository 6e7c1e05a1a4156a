/**
 * The reference interpreter as an Executable (src/runtime/executable.ts states the rules it obeys).
 * One Machine is reused run after run; a run started from inside a helper gets a fresh one.
 */
import { InputError } from '../errors.js';
import type { Program } from '../program/program.js';
import { DEFAULT_BUDGET, type ExecOptions, type Executable, type Runtime } from '../runtime/executable.js';
import type { Region } from '../runtime/memory.js';
import { toU64 } from './arith.js';
import { buildImage, costAt, type CodeImage } from './image.js';
import { execute } from './loop.js';
import { Machine, budgetExceeded } from './machine.js';

const isU32 = (x: number): boolean => x >>> 0 === x;

function checkRegions(regions: readonly Region[]): void {
  for (const r of regions) {
    if (!Number.isSafeInteger(r.start) || !Number.isSafeInteger(r.end) || r.start < 0 || r.end < r.start) {
      throw new InputError(`region [${r.start}, ${r.end}) is not a valid address range`);
    }
  }
}

export class Interpreter implements Executable {
  readonly engine = 'interp' as const;
  private readonly machine: Machine;

  constructor(
    readonly program: Program,
    private readonly rt: Runtime,
    private readonly img: CodeImage,
    private readonly budget: number,
    private readonly regions: readonly Region[],
  ) {
    this.machine = new Machine(rt, img, regions);
  }

  run(ctxAddr: number, ctxLen: number, cpu = 0): bigint {
    this.checkArgs(ctxAddr, ctxLen, cpu);
    return toU64(this.exec(ctxAddr, ctxLen, cpu).R, 0);
  }

  runU32(ctxAddr: number, ctxLen: number, cpu = 0): number {
    this.checkArgs(ctxAddr, ctxLen, cpu);
    return this.exec(ctxAddr, ctxLen, cpu).R[0]! >>> 0;
  }

  /** A run that fails stops the batch with its error; results of the events before it are stored. */
  runBatch(base: number, stride: number, len: number, count: number, resultsAddr: number, cpu = 0): void {
    if (!isU32(stride) || !isU32(count) || !isU32(resultsAddr)) {
      throw new InputError('runBatch: stride, count and resultsAddr must be integers in 0..2^32-1');
    }
    if (count === 0) return;
    this.checkArgs(base, len, cpu);
    this.checkArgs(base + (count - 1) * stride, len, cpu);
    const resultsEnd = resultsAddr + 8 * count;
    if (resultsEnd > this.machine.memLen) this.machine.refresh();
    if (resultsEnd > this.machine.memLen) {
      throw new InputError(`runBatch: results [0x${resultsAddr.toString(16)}, +${8 * count}) lie outside the engine memory`);
    }
    for (let k = 0, at = resultsAddr; k < count; k++, at += 8) {
      const m = this.exec(base + k * stride, len, cpu);
      m.dv.setInt32(at, m.R[0]!, true);
      m.dv.setInt32(at + 4, m.R[1]!, true);
    }
  }

  private checkArgs(ctxAddr: number, ctxLen: number, cpu: number): void {
    if (!isU32(ctxAddr) || !isU32(ctxLen)) {
      throw new InputError(`context ${ctxAddr} (+${ctxLen}): address and length must be integers in 0..2^32-1`);
    }
    if (!isU32(cpu) || cpu >= this.rt.mem.cpus) {
      throw new InputError(`cpu ${cpu} is out of range (engine has ${this.rt.mem.cpus})`);
    }
  }

  /** Runs once; the returned machine holds r0 until the next run. */
  private exec(ctxAddr: number, ctxLen: number, cpu: number): Machine {
    const m = this.machine.inHelper ? new Machine(this.rt, this.img, this.regions) : this.machine;
    m.begin(ctxAddr, ctxLen, cpu);
    m.left = this.budget - costAt(this.img, 0);
    if (m.left < 0) throw budgetExceeded(this.img.pc[0]!);
    execute(m, this.img);
    return m;
  }
}

/** Pre-decodes the program and checks its static helper calls against the runtime's registry. */
export function createInterpreter(program: Program, rt: Runtime, options: ExecOptions = {}): Executable {
  const budget = options.budget ?? DEFAULT_BUDGET;
  if (!Number.isSafeInteger(budget) || budget < 0) {
    throw new InputError(`budget ${budget} must be a non-negative integer`);
  }
  const regions = options.regions ?? [];
  checkRegions(regions);
  return new Interpreter(program, rt, buildImage(program, rt.helpers), budget, [...regions]);
}
