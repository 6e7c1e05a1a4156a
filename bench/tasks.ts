/**
 * The timed calls. Each mode becomes one function that runs a known number of events per call:
 * all the workload's events, or for a single-run workload the one event repeated (stride 0) often
 * enough that a call lasts well above the timer's resolution.
 */
import type { Executable } from '../src/runtime/executable.js';
import type { EngineName } from './engines.js';
import type { Prepared } from './prepare.js';
import type { JsFunction } from './workload.js';

export type Mode = 'event' | 'batch';

export interface TimedCall {
  readonly fn: () => void;
  /** Events run by one call of fn. */
  readonly events: number;
}

/** Where the loops leave their result, so the optimizer cannot drop the work as dead code. */
export const sink = { value: 0 };

const ENGINE_LOOP = `return () => {
  let acc = 0;
  for (let i = 0; i < count; i++) acc = (acc + exe.runU32(base + i * stride, len)) | 0;
  sink.value = acc;
};`;

const JS_LOOP = `return () => {
  let acc = 0;
  for (let i = 0; i < count; i++) acc = (acc + fn(bytes, view, i * stride, len)) | 0;
  sink.value = acc;
};`;

// Each task compiles its own copy of its loop. V8 shares type feedback and optimized code between
// closures of one function literal, so a shared loop would turn polymorphic across workloads and
// engines and slow every task after the first. The source differs per copy (a numbered comment)
// because V8 also caches `new Function` compilations by their source text.
let copies = 0;
export function freshLoop(source: string, args: Record<string, unknown>): () => void {
  const make = new Function(...Object.keys(args), `// loop copy ${++copies}\n${source}`) as (...a: unknown[]) => () => void;
  return make(...Object.values(args));
}

export function engineLoop(exe: Executable, base: number, stride: number, len: number, count: number): () => void {
  return freshLoop(ENGINE_LOOP, { exe, base, stride, len, count, sink });
}

function jsLoop(fn: JsFunction, bytes: Uint8Array, view: DataView, stride: number, len: number, count: number): () => void {
  return freshLoop(JS_LOOP, { fn, bytes, view, stride, len, count, sink });
}

/**
 * The timed call for one engine and mode; `repeat` only matters for single-run workloads. `build`
 * replaces the engine's executable (a JIT variant).
 */
export function timedCall(p: Prepared, engine: EngineName, mode: Mode, repeat: number, build?: Executable): TimedCall {
  const { len } = p.events;
  const stride = p.workload.singleRun ? 0 : p.events.stride;
  const count = p.workload.singleRun ? repeat : p.events.count;
  if (engine === 'js') return { fn: jsLoop(p.workload.js, p.jsBytes, p.jsView, stride, len, count), events: count };
  const exe = build ?? p.executables[engine];
  if (!exe) throw new Error(`${engine} is not available`);
  const { base, resultsAddr } = p;
  if (mode === 'batch') return { fn: () => exe.runBatch(base, stride, len, count, resultsAddr), events: count };
  return { fn: engineLoop(exe, base, stride, len, count), events: count };
}
