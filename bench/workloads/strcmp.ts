/**
 * strcmp-match / strcmp-mismatch: C strcmp of two NUL-terminated strings in the input memory.
 * Layout (see strcmp.c): u32 offset of string A, u32 offset of string B, then A and B.
 */
import { Prng } from '../prng.js';
import { singleEvent, type EventSet, type InputSize, type Workload } from '../workload.js';

const HEADER = 8;
/** Where strcmp-mismatch's strings first differ: early, so the run is short. */
const MISMATCH_AT = 64;

function strings(size: InputSize, mismatch: boolean): EventSet {
  const n = size === 'full' ? 1 << 20 : 4096;
  const bytes = new Uint8Array(HEADER + 2 * (n + 1));
  const view = new DataView(bytes.buffer);
  const a = HEADER;
  const b = HEADER + n + 1;
  view.setUint32(0, a, true);
  view.setUint32(4, b, true);
  const rng = new Prng(0x57c);
  for (let i = 0; i < n; i++) bytes[a + i] = 0x61 + rng.below(26); // 'a'..'z', never NUL
  bytes.copyWithin(b, a, a + n + 1);
  if (mismatch) bytes[b + MISMATCH_AT] = bytes[a + MISMATCH_AT]! === 0x7a ? 0x61 : bytes[a + MISMATCH_AT]! + 1;
  return singleEvent(bytes);
}

/** strcmp that treats the end of the memory as NUL, like strcmp.c; returns the result mod 2^32. */
function strcmp(bytes: Uint8Array, view: DataView, at: number, len: number): number {
  if (len < HEADER) return 0;
  const end = at + len;
  let a = at + view.getUint32(at, true);
  let b = at + view.getUint32(at + 4, true);
  for (;;) {
    const ca = a < end ? bytes[a]! : 0;
    const cb = b < end ? bytes[b]! : 0;
    if (ca !== cb || ca === 0) return (ca - cb) >>> 0;
    a++;
    b++;
  }
}

export const STRCMP_MATCH: Workload = {
  name: 'strcmp-match',
  program: 'strcmp',
  summary: 'strcmp of two equal 1 MiB strings',
  singleRun: true,
  input: (size) => strings(size, false),
  js: strcmp,
};

export const STRCMP_MISMATCH: Workload = {
  name: 'strcmp-mismatch',
  program: 'strcmp',
  summary: `strcmp of two 1 MiB strings differing at byte ${MISMATCH_AT}`,
  singleRun: true,
  input: (size) => strings(size, true),
  js: strcmp,
};
