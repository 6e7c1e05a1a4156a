/**
 * switch: a 64-case switch over a u32 per event (8192 events). Most keys hit a case; some miss,
 * including keys >= 2^31, which the signed compare tree clang emits must also send to `default`.
 */
import { Prng } from '../prng.js';
import { makeEvents, type EventSet, type InputSize, type Workload } from '../workload.js';

/** The constants switch.c returns for keys 0..63, in order. */
export const CASES = Uint16Array.of(
  10290, 57043, 41192, 27715, 13849, 39302, 57730, 54738, 28522, 42986, 32511, 21341, 41303, 52376, 51001, 53938,
  23605, 15488, 58526, 48988, 27657, 39004, 42489, 42737, 40410, 27046, 26960, 30734, 59908, 41702, 22821, 15648,
  54459, 4692, 23528, 40208, 53104, 59036, 50053, 17952, 50426, 19267, 10337, 41307, 53263, 43374, 16878, 4305,
  25469, 17421, 42144, 49784, 40439, 52044, 44575, 4408, 13754, 8305, 26428, 21882, 24041, 53441, 19256, 51150,
);

function keys(size: InputSize): EventSet {
  const rng = new Prng(0x5717c4);
  return makeEvents(size === 'full' ? 8192 : 128, 4, 4, (view, at) => {
    const key = rng.chance(0.9) ? rng.below(CASES.length) : rng.chance(0.5) ? rng.between(64, 1000) : rng.u32();
    view.setUint32(at, key, true);
  });
}

/** A JavaScript programmer's switch over dense small keys is a table lookup. */
function lookup(_bytes: Uint8Array, view: DataView, at: number, len: number): number {
  if (len < 4) return 0;
  const key = view.getUint32(at, true);
  return key < 64 ? CASES[key]! : 0;
}

export const SWITCH: Workload = {
  name: 'switch',
  program: 'switch',
  summary: '64-case switch over 8192 u32 keys (a compare tree in BPF)',
  singleRun: false,
  input: keys,
  js: lookup,
  compare: ['no-value-tables', 'no-jump-tables'],
};
