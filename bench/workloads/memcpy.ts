/** memcpy: copy 1 MiB byte by byte from the first half of the input to the second (one run). */
import { Prng } from '../prng.js';
import { singleEvent, type EventSet, type InputSize, type Workload } from '../workload.js';

function buffer(size: InputSize): EventSet {
  const half = size === 'full' ? 1 << 20 : 4096;
  const bytes = new Uint8Array(2 * half);
  const rng = new Prng(0x3e3c);
  for (let i = 0; i < half; i++) bytes[i] = rng.below(256);
  return singleEvent(bytes);
}

/** The same loop as memcpy.c: copy each byte and add it to the checksum. */
function copy(bytes: Uint8Array, _view: DataView, at: number, len: number): number {
  const half = Math.floor(len / 2);
  const dst = at + half;
  let sum = 0;
  for (let i = 0; i < half; i++) {
    const b = bytes[at + i]!;
    bytes[dst + i] = b;
    sum += b;
  }
  return sum >>> 0;
}

export const MEMCPY: Workload = {
  name: 'memcpy',
  program: 'memcpy',
  summary: 'byte-by-byte copy of 1 MiB with a checksum',
  singleRun: true,
  input: buffer,
  js: copy,
};
