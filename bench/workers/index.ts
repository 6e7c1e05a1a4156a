/**
 * `bench` with worker threads (--filter workers): each workload's verified program, JIT-compiled once
 * (optimized tier), run over the same events placed once in the shared memory — on the host thread
 * (runBatch), on one worker of a pool (runOn) and split over all of them (runPlaced). The three are
 * timed in turn within each round, so they share the machine's state, and each is checked to give
 * the host thread's results first. Events per second count wall time, messages included.
 */
import { availableParallelism } from 'node:os';
import { InternalError } from '../../src/errors.js';
import { Vm, type LoadedProgram, type WorkerPool, type PlacedBatch } from '../../src/index.js';
import { loadOptimizer, optimizerLoaded } from '../../src/jit/index.js';
import type { EventSet } from '../workload.js';
import { WORKER_WORKLOADS, type WorkerWorkload } from './workloads.js';
import { measureRingbufToHost } from './ringbuf-to-host.js';

export interface WorkerRecord {
  readonly workload: string;
  readonly engine: 'jit';
  /** batch: the host thread's runBatch; workers:N: split over N workers of a pool. */
  readonly mode: 'batch' | `workers:${number}`;
  readonly tier: 'baseline' | 'optimized';
  readonly nsPerOp: number;
  readonly opsPerSec: number;
  readonly samples: number;
}

export interface WorkerPlan {
  readonly workers: number;
  readonly rounds: number;
  /** Bytes of events per sample at most, and events at most: what one sample runs. */
  readonly maxBytes: number;
  readonly maxEvents: number;
  /** ringbuf-to-host: runs, and records per run. */
  readonly ringbufRuns: number;
  readonly ringbufRecords: number;
}

export const FULL_WORKER_PLAN: Omit<WorkerPlan, 'workers'> = { rounds: 15, maxBytes: 32 << 20, maxEvents: 1 << 20, ringbufRuns: 5, ringbufRecords: 8_000_000 };
export const QUICK_WORKER_PLAN: Omit<WorkerPlan, 'workers'> = { rounds: 4, maxBytes: 4 << 20, maxEvents: 1 << 17, ringbufRuns: 1, ringbufRecords: 1_000_000 };
export const defaultWorkers = (): number => availableParallelism();

/** The events repeated to one sample's length. */
function tiled(ev: EventSet, plan: WorkerPlan): EventSet {
  const count = Math.min(plan.maxEvents, ev.stride === 0 ? plan.maxEvents : Math.floor(plan.maxBytes / ev.stride));
  if (ev.stride === 0) return { ...ev, count };
  const bytes = new Uint8Array(count * ev.stride);
  for (let at = 0; at < bytes.length; at += ev.bytes.length) bytes.set(ev.bytes.subarray(0, Math.min(ev.bytes.length, bytes.length - at)), at);
  return { bytes, stride: ev.stride, len: ev.len, count };
}

function place(vm: Vm, ev: EventSet): PlacedBatch {
  const base = ev.bytes.length === 0 ? 0 : vm.mem.alloc(ev.bytes.length, 64);
  if (base !== 0) vm.mem.write(base, ev.bytes);
  return { base, stride: ev.stride, len: ev.len, count: ev.count, results: vm.mem.alloc(8 * ev.count, 8) };
}

const results = (vm: Vm, b: PlacedBatch): BigUint64Array => new BigUint64Array(vm.mem.refresh().buffer, b.results, b.count).slice();

/** The host thread's results, then the pool's (one worker, all workers): they must be the same. */
async function check(w: WorkerWorkload, vm: Vm, prog: LoadedProgram, pool: WorkerPool, batch: PlacedBatch): Promise<void> {
  prog.exe.runBatch(batch.base, batch.stride, batch.len, batch.count, batch.results, 0);
  const want = results(vm, batch);
  for (const [what, run] of [['one worker', () => pool.runOn(0, prog, batch)], ['all workers', () => pool.runPlaced(prog, batch)]] as const) {
    new Uint8Array(vm.mem.buffer, batch.results, 8 * batch.count).fill(0xee);
    await run();
    const got = results(vm, batch);
    const bad = got.findIndex((r, i) => r !== want[i]);
    if (bad >= 0) throw new InternalError(`${w.name}: ${what} gave r0 = ${got[bad]} for event ${bad}, the host thread ${want[bad]}`);
  }
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;

async function time(run: () => unknown): Promise<number> {
  const t0 = performance.now();
  await run();
  return performance.now() - t0;
}

async function measureOne(w: WorkerWorkload, plan: WorkerPlan, tier: 'baseline' | 'optimized', step: (what: string) => void): Promise<WorkerRecord[]> {
  const vm = new Vm({ cpus: plan.workers });
  const maps = w.spec ? [vm.createMap(w.spec)] : [];
  if (w.setup && maps[0]) w.setup(maps[0]);
  const prog = vm.load(w.source(), { context: w.context, maps, engine: 'jit', tier });
  const batch = place(vm, tiled(w.events(), plan));
  const pool = await vm.pool(plan.workers);
  try {
    step(`${w.name}: checking`);
    await check(w, vm, prog, pool, batch);
    const host: number[] = [], one: number[] = [], all: number[] = [];
    for (let round = 0; round < plan.rounds + 2; round++) {
      step(`${w.name}: round ${round + 1}/${plan.rounds + 2}`);
      const h = await time(() => prog.exe.runBatch(batch.base, batch.stride, batch.len, batch.count, batch.results, 0));
      const o = await time(() => pool.runOn(0, prog, batch));
      const a = await time(() => pool.runPlaced(prog, batch));
      if (round < 2) continue; // warm-up: V8's optimizing tier in every thread
      host.push(h);
      one.push(o);
      all.push(a);
    }
    const rec = (mode: WorkerRecord['mode'], ms: number[]): WorkerRecord => {
      const nsPerOp = (median(ms) * 1e6) / batch.count;
      return { workload: w.name, engine: 'jit', mode, tier, nsPerOp, opsPerSec: 1e9 / nsPerOp, samples: ms.length };
    };
    return [rec('batch', host), rec('workers:1', one), ...(plan.workers > 1 ? [rec(`workers:${plan.workers}`, all)] : [])];
  } finally {
    await pool.close();
  }
}

/** Measures every worker workload with `plan.workers` workers. */
export async function measureWorkers(plan: WorkerPlan, step: (what: string) => void): Promise<WorkerRecord[]> {
  await loadOptimizer().catch(() => undefined);
  const tier = optimizerLoaded() ? 'optimized' : 'baseline';
  const out: WorkerRecord[] = [];
  for (const w of WORKER_WORKLOADS) out.push(...await measureOne(w, plan, tier, step));
  out.push(await measureRingbuf(plan, tier, step));
  return out;
}

/** ringbuf-to-host: records one worker delivers to the host per second, the median of a few runs (16-byte records, a 4 MiB ring). */
async function measureRingbuf(plan: WorkerPlan, tier: 'baseline' | 'optimized', step: (what: string) => void): Promise<WorkerRecord> {
  const rates: number[] = [];
  for (let run = 0; run < plan.ringbufRuns; run++) {
    step(`ringbuf-to-host: run ${run + 1}/${plan.ringbufRuns}`);
    rates.push((await measureRingbufToHost({ records: plan.ringbufRecords, tier })).deliveredPerSec);
  }
  const opsPerSec = median(rates);
  return { workload: 'ringbuf-to-host', engine: 'jit', mode: 'workers:1', tier, nsPerOp: 1e9 / opsPerSec, opsPerSec, samples: rates.length };
}

export const workerTitle = (workers: number): string =>
  `worker threads (millions of events per second, JIT; the host thread's runBatch, one worker, and ${workers} workers of a pool sharing the events; scaling = ${workers} workers / one; ringbuf-to-host: 16-byte records one worker delivers to the host thread)`;

/** The table: millions per second in each mode, and the scaling from one worker to all. */
export function workerRows(records: readonly WorkerRecord[]): string[][] {
  const header = ['workload', 'host thread', '1 worker', 'all workers', 'scaling', 'samples'];
  const scalingOf = (one: WorkerRecord | undefined, all: WorkerRecord | undefined): string => (one && all ? `${(all.opsPerSec / one.opsPerSec).toFixed(2)}x` : '-');
  const names = [...new Set(records.map((r) => r.workload))];
  const mps = (r: WorkerRecord | undefined): string => (r ? (r.opsPerSec / 1e6).toFixed(1) : '-');
  return [header, ...names.map((name) => {
    const of = records.filter((r) => r.workload === name);
    const host = of.find((r) => r.mode === 'batch');
    const one = of.find((r) => r.mode === 'workers:1');
    // With one worker, "all" is that worker; ringbuf-to-host has a one-worker row only.
    const all = of.find((r) => r.mode !== 'batch' && r.mode !== 'workers:1') ?? (host ? one : undefined);
    return [name, mps(host), mps(one), mps(all), scalingOf(one, all), String(one?.samples ?? 0)];
  })];
}
