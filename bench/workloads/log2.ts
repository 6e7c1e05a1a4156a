/** log2: floor(log2) of one u64 per event, 8192 events, bit lengths spread evenly over 0..64. */
import { Prng } from '../prng.js';
import { makeEvents, type EventSet, type InputSize, type Workload } from '../workload.js';

function values(size: InputSize): EventSet {
  const rng = new Prng(0x1062);
  return makeEvents(size === 'full' ? 8192 : 64, 8, 8, (view, at) => {
    const bits = rng.below(65);
    let lo = rng.u32();
    let hi = rng.u32();
    if (bits <= 32) {
      hi = 0;
      lo = bits === 0 ? 0 : ((lo >>> (32 - bits)) | (1 << (bits - 1))) >>> 0;
    } else {
      hi = ((hi >>> (64 - bits)) | (1 << (bits - 33))) >>> 0;
    }
    view.setUint32(at, lo, true);
    view.setUint32(at + 4, hi, true);
  });
}

/** What a JavaScript programmer would write: Math.clz32 on the two halves. */
function log2(_bytes: Uint8Array, view: DataView, at: number, len: number): number {
  if (len < 8) return 0;
  const hi = view.getUint32(at + 4, true);
  if (hi !== 0) return 63 - Math.clz32(hi);
  const lo = view.getUint32(at, true);
  return lo === 0 ? 0 : 31 - Math.clz32(lo);
}

export const LOG2: Workload = {
  name: 'log2',
  program: 'log2',
  summary: 'floor(log2) of 8192 u64 values',
  singleRun: false,
  input: values,
  js: log2,
};
