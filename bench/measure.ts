/**
 * Runs one timed call under tinybench with a bounded budget. The budget adapts to the call's
 * length, measured once up front, so a 100x slower engine gets fewer samples instead of 100x the
 * time, and a sub-microsecond single run is repeated until a sample is long enough to time.
 */
import { Bench } from 'tinybench';
import type { Executable } from '../src/runtime/executable.js';
import type { EngineName } from './engines.js';
import { MAX_REPEAT, type Prepared } from './prepare.js';
import { timedCall, type Mode, type TimedCall } from './tasks.js';

export interface Budget {
  /** tinybench's time per task and warmup time, in ms. */
  readonly timeMs: number;
  readonly warmupMs: number;
  /** Most time one task should take when its calls are slow. */
  readonly maxTaskMs: number;
  readonly minSamples: number;
}

// Warmup of a few hundred ms runs every hot function well past V8's tiering budget, so the
// samples measure optimized code (TurboFan for JS and WebAssembly), not the baseline tiers. V8
// installs WebAssembly's TurboFan code from a task on the event loop, so the loop must turn: see
// yieldNow.
export const FULL_BUDGET: Budget = { timeMs: 1000, warmupMs: 300, maxTaskMs: 3000, minSamples: 5 };
export const QUICK_BUDGET: Budget = { timeMs: 100, warmupMs: 100, maxTaskMs: 400, minSamples: 3 };

/** Shortest call worth timing, in ms: far above the timer's resolution and its own cost. */
const MIN_CALL_MS = 0.1;

export interface Measurement {
  readonly engine: EngineName;
  readonly mode: Mode;
  readonly nsPerOp: number;
  readonly opsPerSec: number;
  readonly samples: number;
}

function timeOnce(call: TimedCall): number {
  let best = Infinity;
  for (let i = 0; i < 3; i++) {
    const t0 = performance.now();
    call.fn();
    best = Math.min(best, performance.now() - t0);
    if (best > 50) break; // slow enough: one more run would only cost time
  }
  return best;
}

/** Builds the call, repeating a short single run until one call lasts at least MIN_CALL_MS. */
function calibrated(p: Prepared, engine: EngineName, mode: Mode, build: Executable | undefined): { call: TimedCall; callMs: number } {
  let call = timedCall(p, engine, mode, 1, build);
  let callMs = timeOnce(call);
  if (p.workload.singleRun && callMs < MIN_CALL_MS) {
    const repeat = Math.min(MAX_REPEAT, Math.ceil(MIN_CALL_MS / Math.max(callMs, 1e-6)));
    call = timedCall(p, engine, mode, repeat, build);
    callMs = timeOnce(call);
  }
  return { call, callMs };
}

const clamp = (x: number, lo: number, hi: number): number => Math.max(lo, Math.min(hi, x));

/** Longest stretch of timed calls without a turn of the event loop, in ms. */
const YIELD_EVERY_MS = 10;

/** A turn of the event loop (its macrotask queue: a microtask would not let V8's tasks run). */
export const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * tinybench's afterEach hook: a turn of the event loop every YIELD_EVERY_MS. Left out, a WebAssembly
 * function optimized by TurboFan in the background may wait for a turn until the samples end (log2's
 * optimized tier ran its Liftoff code, 8.0 ns instead of 4.2, for a whole second without turns).
 * Only now and then: the time between samples is not counted, but a turn per short call would
 * stretch a task's wall time far beyond its budget.
 */
function yieldNow(): () => Promise<void> | void {
  let last = performance.now();
  return () => {
    if (performance.now() - last < YIELD_EVERY_MS) return;
    return nextTurn().then(() => {
      last = performance.now();
    });
  };
}

/**
 * Runs `fn` under tinybench within the budget; returns the median latency in ms and the sample count.
 * `before` runs before every call of `fn` (which must then be synchronous), untimed: a ring buffer
 * benchmark drains the buffer there.
 */
export async function timeTask(name: string, fn: () => void, callMs: number, budget: Budget, before?: () => void): Promise<{ medianMs: number; samples: number }> {
  const bench = new Bench({
    time: budget.timeMs,
    iterations: clamp(Math.floor(budget.maxTaskMs / callMs), budget.minSamples, 64),
    warmupTime: budget.warmupMs,
    warmupIterations: clamp(Math.floor(budget.warmupMs / callMs), 1, 16),
    throws: true,
  });
  // async: false, or tinybench calls fn once, outside the hooks, to find out whether it returns a promise.
  bench.add(name, fn, { afterEach: yieldNow(), ...(before ? { beforeEach: before, async: false } : {}) });
  const [task] = await bench.run();
  const result = task?.result;
  if (!result || !('latency' in result)) throw new Error(`${name}: tinybench returned no statistics`);
  return { medianMs: result.latency.p50, samples: result.latency.samplesCount };
}

/** Measures one engine and mode; `build` replaces the engine's executable (a JIT variant). */
export async function measure(p: Prepared, engine: EngineName, mode: Mode, budget: Budget, build?: Executable): Promise<Measurement> {
  const { call, callMs } = calibrated(p, engine, mode, build);
  const { medianMs, samples } = await timeTask(`${p.workload.name} ${engine} ${mode}`, call.fn, callMs, budget);
  const nsPerOp = (medianMs * 1e6) / call.events;
  return { engine, mode, nsPerOp, opsPerSec: 1e9 / nsPerOp, samples };
}
