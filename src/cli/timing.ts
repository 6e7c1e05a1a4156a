/**
 * `run --repeat N`: the time of one run, as a median a user can trust. One run of a small program
 * takes nanoseconds, far below what the clock can time alone, and its first thousands of runs are
 * slower while V8 tiers the code up; the old figure (the median of N/101-run chunks after
 * min(N, 1000) warm-up runs) therefore fell from 4,308 ns at N=1 to 15 ns at N=100,000.
 *
 * So: every sample times enough runs to last MIN_SAMPLE_MS. Warm-up goes in rounds of samples, for
 * at least MIN_WARM_UP_MS and until the medians of the last AGREEING_ROUNDS rounds agree within
 * STABLE_WITHIN (V8 can keep the interpreter on a plateau for a few hundred ms before its last
 * tier-up, so two agreeing rounds are not enough). Then at least MIN_TIMED_MS of samples are timed,
 * more when N asks for more runs, and the figure is marked not stable when warm-up ran out of time
 * or the two halves of the timed samples disagree. N sets how many runs are timed, not what one costs.
 */
import { performance } from 'node:perf_hooks';

const MIN_SAMPLE_MS = 1;
const ROUND_MS = 25;
const MIN_ROUND_SAMPLES = 5;
const MIN_WARM_UP_MS = 200;
const MAX_WARM_UP_MS = 2000;
const AGREEING_ROUNDS = 3;
const STABLE_WITHIN = 0.03;
const MIN_TIMED_MS = 100;
const MIN_SAMPLES = 5;
const MAX_DEFAULT_SAMPLES = 101;
/** The halves of the timed samples may differ by this much before the figure is called unstable. */
const HALVES_WITHIN = 0.05;
/** Runs per sample never exceed this, however fast a run is (a guard against a 0 ms reading). */
const MAX_RUNS_PER_SAMPLE = 1 << 24;

export interface Timing {
  readonly nsPerRun: number;
  readonly samples: number;
  readonly runsPerSample: number;
  readonly warmUpMs: number;
  /** Why the figure is not to be trusted; undefined when it is stable. */
  readonly unstable?: string;
}

function sampleMs(run: () => unknown, runs: number): number {
  const t0 = performance.now();
  for (let i = 0; i < runs; i++) run();
  return performance.now() - t0;
}

/** Per-run times, in ms, of `samples` samples of `runs` runs each. */
function perRunTimes(run: () => unknown, runs: number, samples: number): Float64Array {
  const times = new Float64Array(samples);
  for (let s = 0; s < samples; s++) times[s] = sampleMs(run, runs) / runs;
  return times;
}

function median(times: Float64Array): number {
  const sorted = Float64Array.from(times).sort();
  return sorted[sorted.length >> 1]!;
}

const spread = (xs: readonly number[]): number => Math.max(...xs) / Math.min(...xs) - 1;

const runsFor = (perRunMs: number): number =>
  Math.min(MAX_RUNS_PER_SAMPLE, Math.max(1, Math.ceil(MIN_SAMPLE_MS / Math.max(perRunMs, 1e-9))));

interface WarmUp { readonly runs: number; readonly perRunMs: number; readonly ms: number; readonly unstable?: string }

function warmUp(run: () => unknown): WarmUp {
  const start = performance.now();
  let perRunMs = sampleMs(run, 1);
  const medians: number[] = [];
  for (;;) {
    const runs = runsFor(perRunMs);
    const samples = Math.max(MIN_ROUND_SAMPLES, Math.ceil(ROUND_MS / (runs * perRunMs)));
    perRunMs = median(perRunTimes(run, runs, samples));
    medians.push(perRunMs);
    const last = medians.slice(-AGREEING_ROUNDS);
    const ms = performance.now() - start;
    const agreed = last.length === AGREEING_ROUNDS && spread(last) <= STABLE_WITHIN;
    if (agreed && ms >= MIN_WARM_UP_MS) return { runs: runsFor(perRunMs), perRunMs, ms };
    if (ms > MAX_WARM_UP_MS) {
      const unstable = last.length < AGREEING_ROUNDS ? `a run is too slow for ${AGREEING_ROUNDS} warm-up rounds in ${MAX_WARM_UP_MS / 1000} s`
        : `the last warm-up rounds still differed by ${(spread(last) * 100).toFixed(0)}% after ${MAX_WARM_UP_MS / 1000} s`;
      return { runs: runsFor(perRunMs), perRunMs, ms, unstable };
    }
  }
}

/** Times `run` (one run of the program, its input already in place) at least `repeat` times. */
export function timeRuns(run: () => unknown, repeat: number): Timing {
  const w = warmUp(run);
  const byTime = Math.min(MAX_DEFAULT_SAMPLES, Math.ceil(MIN_TIMED_MS / (w.runs * w.perRunMs)));
  const samples = Math.max(MIN_SAMPLES, byTime, Math.ceil(repeat / w.runs));
  const times = perRunTimes(run, w.runs, samples);
  const half = samples >> 1;
  const halves = spread([median(times.subarray(0, half)), median(times.subarray(samples - half))]);
  const unstable = w.unstable ?? (halves > HALVES_WITHIN ? `the first and second half of the samples differ by ${(halves * 100).toFixed(0)}%` : undefined);
  return { nsPerRun: median(times) * 1e6, samples, runsPerSample: w.runs, warmUpMs: w.ms, ...(unstable ? { unstable } : {}) };
}

const pct = (x: number): string => `${Math.round(x * 100)}%`;

/** For `run --help`, from the constants above. */
export const REPEAT_HELP = `
--repeat N puts the input in engine memory once, then warms up (at least ${MIN_WARM_UP_MS / 1000} s, at most
${MAX_WARM_UP_MS / 1000} s) until the median time of one run agrees within ${pct(STABLE_WITHIN)} over ${AGREEING_ROUNDS} rounds in a row. It
then times at least N runs, and at least ${MIN_TIMED_MS} ms of them, in samples of enough runs to last
${MIN_SAMPLE_MS} ms, and prints the median per run. The figure is marked "not stable" when warm-up runs
out of time or the two halves of the samples differ by over ${pct(HALVES_WITHIN)}. N sets how many runs
are timed, not the figure. A program that writes to its input sees its own writes on later runs.`;

/** `median 15.2 ns per run (101 samples of 65,536 runs, after 0.25 s of warm-up)`. */
export function timingLine(t: Timing): string {
  const ns = t.nsPerRun < 100 ? t.nsPerRun.toFixed(1) : Math.round(t.nsPerRun).toLocaleString('en-US');
  const how = `${t.samples} samples of ${t.runsPerSample.toLocaleString('en-US')} runs, after ${(t.warmUpMs / 1000).toFixed(2)} s of warm-up`;
  return `median ${ns} ns per run (${how}${t.unstable ? `; not stable: ${t.unstable}` : ''})`;
}
