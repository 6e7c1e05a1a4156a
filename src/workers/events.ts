/**
 * A batch of events laid out in engine memory for the batch entry point (Executable.runBatch): one
 * event every `stride` bytes, each `len` long, with room for the results behind them. A packet
 * context (packet(), xdp(), socketFilter(), tc()) gets its struct in front of each packet, as
 * LoadedProgram.run builds it (src/runtime/build-context.ts); `len` is then the struct's length.
 */
import { InputError } from '../errors.js';
import { contextBytes, writeContext } from '../runtime/build-context.js';
import type { EngineMemory } from '../runtime/memory.js';
import type { ContextDescriptor } from '../verifier/index.js';

/** Events in engine memory: event i at base + i * stride, `len` bytes; results (u64 each) at `results`. */
export interface PlacedBatch {
  readonly base: number;
  readonly stride: number;
  readonly len: number;
  readonly count: number;
  readonly results: number;
}

const round8 = (n: number): number => Math.ceil(n / 8) * 8;

/** Bytes each event takes in memory, and what a run gets as r2. */
function eventShape(context: ContextDescriptor | undefined, events: readonly Uint8Array[]): { stride: number; fixed: number | undefined } {
  if (context?.layout) {
    const layout = context.layout;
    let widest = 0; // a loop: Math.max(...sizes) overflows the call stack past about 100,000 events
    for (const e of events) widest = Math.max(widest, contextBytes(layout, e.length));
    return { stride: round8(widest), fixed: undefined };
  }
  const size = context ? context.r1.size : events[0]?.length ?? 0;
  events.forEach((e, i) => {
    if (e.length !== size) throw new InputError(`event ${i} is ${e.length} bytes but ${context ? `the program was verified for ${context.name}` : `event 0 is ${size}`}`);
  });
  return { stride: round8(size), fixed: size };
}

/** Bytes a batch of these events needs (events, then 8 per result). */
export function batchBytes(context: ContextDescriptor | undefined, events: readonly Uint8Array[]): number {
  return eventShape(context, events).stride * events.length + 8 * events.length;
}

/** Writes the events at `addr` (which has batchBytes of room) and says where everything is. */
export function placeEvents(mem: EngineMemory, addr: number, context: ContextDescriptor | undefined, events: readonly Uint8Array[]): PlacedBatch {
  const { stride, fixed } = eventShape(context, events);
  const count = events.length;
  const results = addr + stride * count;
  // memory(0) promises r1 = null (src/verifier/context.ts): its events are empty and the context (0, 0).
  if (fixed === 0 && (!context || context.r1.kind === 'memory')) return { base: 0, stride: 0, len: 0, count, results };
  let len = fixed ?? 0;
  events.forEach((e, i) => {
    const at = addr + i * stride;
    if (context?.layout) len = writeContext(mem, at, context.layout, e);
    else mem.write(at, e);
  });
  return { base: addr, stride, len, count, results };
}
