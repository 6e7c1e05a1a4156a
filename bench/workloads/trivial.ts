/**
 * a-plus-b and return-const: programs that do almost nothing, so what they measure is the cost of
 * calling into an engine, per event and per batch.
 */
import { Prng } from '../prng.js';
import { makeEvents, type EventSet, type InputSize, type Workload } from '../workload.js';

const EVENTS = { full: 8192, small: 64 } as const;

function pairs(size: InputSize): EventSet {
  const rng = new Prng(0xab);
  return makeEvents(EVENTS[size], 16, 16, (view, at) => {
    for (let i = 0; i < 16; i += 4) view.setUint32(at + i, rng.u32(), true);
  });
}

/** Low 32 bits of the u64 sum (what runU32 returns): only the low halves matter. */
function aPlusB(_bytes: Uint8Array, view: DataView, at: number, len: number): number {
  if (len < 16) return 0;
  return (view.getUint32(at, true) + view.getUint32(at + 8, true)) >>> 0;
}

function aPlusB64(_bytes: Uint8Array, view: DataView, at: number, len: number): bigint {
  if (len < 16) return 0n;
  return BigInt.asUintN(64, view.getBigUint64(at, true) + view.getBigUint64(at + 8, true));
}

export const A_PLUS_B: Workload = {
  name: 'a-plus-b',
  program: 'a-plus-b',
  summary: 'sum of two u64 per event, 8192 events',
  singleRun: false,
  input: pairs,
  js: aPlusB,
  js64: aPlusB64,
};

export const RETURN_CONST: Workload = {
  name: 'return-const',
  program: 'return-const',
  summary: 'return 42, 8192 events: the cost of a call',
  singleRun: false,
  input: (size) => makeEvents(EVENTS[size], 8, 8, () => {}),
  js: () => 42,
};
