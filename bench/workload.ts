/**
 * The benchmark manifest's vocabulary (bench/README.md): each workload names
 * its program, builds its input deterministically and carries a hand-written JavaScript function
 * that does the same job. That function's answer is the expected result every engine must give
 * before anything is timed.
 */

/** Input size: `full` for measuring, `small` for tests. */
export type InputSize = 'full' | 'small';

/**
 * Extra JIT builds a workload is measured with, next to its main (verified) one, each reported in a
 * table of its own: `checked` compiles without the verifier's facts (bounds checks and budget, what
 * an unverified program gets), `no-value-tables` keeps the facts but jumps through a `br_table` where
 * the default build loads constants from a value table, `no-jump-tables` leaves compare trees as they are.
 */
export type JitVariant = 'checked' | 'no-value-tables' | 'no-jump-tables';

/**
 * Events laid out back to back, the way runBatch reads them: event i is the `len` bytes at
 * `i * stride`. A single-run workload (a 1 MiB string compare) is one event of the whole input.
 */
export interface EventSet {
  readonly bytes: Uint8Array;
  readonly stride: number;
  readonly len: number;
  readonly count: number;
}

/**
 * The hand-written JavaScript version of a program: reads one event at `offset` (`len` bytes) and
 * returns the program's result truncated to an unsigned 32-bit number, which is also what
 * Executable.runU32 returns. `bytes` and `view` cover the same buffer.
 */
export type JsFunction = (bytes: Uint8Array, view: DataView, offset: number, len: number) => number;

export interface Workload {
  /** Stable name: used by --filter and in the JSON records. */
  readonly name: string;
  /** Base name of the program in bench/programs (NAME.c, NAME.bin). */
  readonly program: string;
  readonly summary: string;
  /** One event per run of a big input rather than many small events. */
  readonly singleRun: boolean;
  readonly input: (size: InputSize) => EventSet;
  readonly js: JsFunction;
  /** The full 64-bit result, for programs whose result can need more than 32 bits. */
  readonly js64?: (bytes: Uint8Array, view: DataView, offset: number, len: number) => bigint;
  /** JIT builds measured beside the main one (default none). */
  readonly compare?: readonly JitVariant[];
}

/** Events of `len` bytes with the given stride, filled by `fill(view, offset, index)`. */
export function makeEvents(count: number, stride: number, len: number, fill: (view: DataView, offset: number, index: number) => void): EventSet {
  const bytes = new Uint8Array(count * stride);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < count; i++) fill(view, i * stride, i);
  return { bytes, stride, len, count };
}

/** One event covering the whole input. */
export function singleEvent(bytes: Uint8Array): EventSet {
  return { bytes, stride: bytes.length, len: bytes.length, count: 1 };
}

/** Expected 64-bit result of one event, from the workload's JavaScript function(s). */
export function expected64(w: Workload, bytes: Uint8Array, view: DataView, offset: number, len: number): bigint {
  return w.js64 ? w.js64(bytes, view, offset, len) : BigInt(w.js(bytes, view, offset, len) >>> 0);
}
