/** primes: count the primes below N = 10,000 by trial division (one run). */
import { singleEvent, type EventSet, type InputSize, type Workload } from '../workload.js';

function limit(size: InputSize): EventSet {
  const bytes = new Uint8Array(8);
  new DataView(bytes.buffer).setBigUint64(0, size === 'full' ? 10_000n : 200n, true);
  return singleEvent(bytes);
}

function primes(_bytes: Uint8Array, view: DataView, at: number, len: number): number {
  if (len < 8) return 0;
  const n = Number(view.getBigUint64(at, true));
  let count = 0;
  for (let k = 2; k < n; k++) {
    let prime = 1;
    for (let d = 2; d * d <= k; d++) {
      if (k % d === 0) {
        prime = 0;
        break;
      }
    }
    count += prime;
  }
  return count;
}

export const PRIMES: Workload = {
  name: 'primes',
  program: 'primes',
  summary: 'count primes below 10,000 by trial division',
  singleRun: true,
  input: limit,
  js: primes,
};
