/**
 * The reference interpreter as an Executable (src/runtime/executable.ts states the rules it obeys).
 * One Machine is reused run after run; a run started from inside a helper gets a fresh one.
 */
import { InputError } from '../errors.js';
import type { Program } from '../program/program.js';
import { EntryGuard } from '../runtime/entry.js';
import { checkTailCount, finishChain, type TailState } from '../runtime/tail-call.js';
import {
  DEFAULT_BUDGET, mapsByAddress, programRegions, refuseFrameWrites, shareBase, type EntryFacts, type ExecOptions, type Executable, type ExecutableShare, type Runtime,
} from '../runtime/executable.js';
import type { BpfMap } from '../maps/map.js';
import type { Region } from '../runtime/memory.js';
import { toU64 } from './arith.js';
import { releaseHeldLocks } from '../maps/held-locks.js';
import { buildImage, costAt, type CodeImage } from './image.js';
import { execute } from './loop.js';
import { Machine, budgetExceeded } from './machine.js';

const isU32 = (x: number): boolean => x >>> 0 === x;

export interface InterpOptions extends ExecOptions {
  /**
   * What `verify()` proved (`result.facts`): the program then runs without region checks (JavaScript
   * still keeps it inside the memory buffer) and without the budget unless the facts say
   * `needsBudget`; every run is checked against the context it was verified for (`facts.entry`).
   */
  facts?: EntryFacts;
}

/** The whole 32-bit address space: an unchecked run's accesses need no region. */
const EVERYWHERE: readonly Region[] = [{ start: 0, end: 2 ** 32 }];

export class Interpreter implements Executable {
  readonly engine = 'interp' as const;
  private readonly machine: Machine;

  constructor(
    readonly program: Program,
    private readonly rt: Runtime,
    private readonly img: CodeImage,
    private readonly budget: number,
    private readonly regions: readonly Region[],
    private readonly allowed: readonly Region[],
    private readonly guard: EntryGuard,
    private readonly maps: ReadonlyMap<number, BpfMap>,
    private readonly shared: ExecutableShare,
  ) {
    this.machine = new Machine(rt, img, regions, allowed, maps);
  }

  share(): ExecutableShare {
    return this.shared;
  }

  run(ctxAddr: number, ctxLen: number, cpu = 0): bigint {
    const m = this.exec(ctxAddr, ctxLen, cpu, 0);
    return m.tail.target === 0 ? toU64(m.R, 0) : this.chain(m, ctxAddr, ctxLen, cpu);
  }

  runU32(ctxAddr: number, ctxLen: number, cpu = 0): number {
    const m = this.exec(ctxAddr, ctxLen, cpu, 0);
    return m.tail.target === 0 ? m.R[0]! >>> 0 : Number(BigInt.asUintN(32, this.chain(m, ctxAddr, ctxLen, cpu)));
  }

  runTail(ctxAddr: number, ctxLen: number, cpu: number, state: TailState): bigint {
    const m = this.exec(ctxAddr, ctxLen, cpu, checkTailCount(state.count));
    state.count = m.tail.count;
    state.target = m.tail.target;
    return toU64(m.R, 0);
  }

  /** The run's program made a tail call: the chain's programs run next (the next may be this one, on this machine). */
  private chain(m: Machine, ctxAddr: number, ctxLen: number, cpu: number): bigint {
    const state = { count: m.tail.count, target: m.tail.target };
    m.tail.target = 0;
    return finishChain(this.rt.mem, ctxAddr, ctxLen, cpu, state);
  }

  /** A run that fails stops the batch with its error; results of the events before it are stored. */
  runBatch(base: number, stride: number, len: number, count: number, resultsAddr: number, cpu = 0): void {
    if (!isU32(stride) || !isU32(count)) throw new InputError('runBatch: stride and count must be integers in 0..2^32-1');
    if (count === 0) return;
    this.guard.checkResults(resultsAddr, count);
    this.guard.checkStride(stride);
    this.guard.check(base + (count - 1) * stride, len);
    const m0 = this.machine;
    if (resultsAddr + 8 * count > m0.memLen) m0.refresh();
    for (let k = 0, at = resultsAddr; k < count; k++, at += 8) {
      const m = this.exec(base + k * stride, len, cpu, 0);
      if (m.tail.target !== 0) {
        m.dv.setBigUint64(at, this.chain(m, base + k * stride, len, cpu), true);
        continue;
      }
      m.dv.setInt32(at, m.R[0]!, true);
      m.dv.setInt32(at + 4, m.R[1]!, true);
    }
  }

  /** Runs once after the entry checks; the returned machine holds r0 until the next run. */
  private exec(ctxAddr: number, ctxLen: number, cpu: number, tailCount: number): Machine {
    this.guard.check(ctxAddr, ctxLen);
    this.guard.checkPacket(ctxAddr);
    if (!isU32(cpu) || cpu >= this.rt.mem.cpus) throw new InputError(`cpu ${cpu} is out of range (engine has ${this.rt.mem.cpus})`);
    const m = this.machine.inHelper ? new Machine(this.rt, this.img, this.regions, this.allowed, this.maps) : this.machine;
    m.begin(ctxAddr, ctxLen, cpu);
    m.tail.count = tailCount;
    m.tail.target = 0;
    m.left = this.budget - costAt(this.img, 0);
    if (m.left < 0) throw budgetExceeded(this.img.pc[0]!);
    try {
      execute(m, this.img);
    } catch (error) {
      releaseHeldLocks(this.rt.mem, cpu); // a run that failed holds no lock (src/maps/held-locks.ts)
      throw error;
    }
    return m;
  }
}

/** Pre-decodes the program and checks its static helper calls against the runtime's registry. */
export function createInterpreter(program: Program, rt: Runtime, options: InterpOptions = {}): Executable {
  const { facts } = options;
  const budget = facts && !facts.needsBudget ? Number.MAX_SAFE_INTEGER : options.budget ?? DEFAULT_BUDGET;
  if (!Number.isSafeInteger(budget) || budget < 0) {
    throw new InputError(`budget ${budget} must be a non-negative integer`);
  }
  refuseFrameWrites(program);
  const regions = programRegions(rt.mem, options);
  const allowed = facts ? EVERYWHERE : regions;
  const img = buildImage(program, rt.helpers, options.maps);
  return new Interpreter(program, rt, img, budget, regions, allowed, new EntryGuard(facts?.entry, rt.mem), mapsByAddress(options.maps),
    shareBase('interp', program, options, facts));
}
