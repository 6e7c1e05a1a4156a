/**
 * The helper set the BPF conformance suite expects (ids are the suite's own, see its README).
 * Pointer arguments go through checkedAddress, so a bad pointer faults instead of reading stray memory.
 * Each carries a prototype so verified programs may call it too.
 */
import { checkedAddress, type HelperEnv, type HelperSpec } from '../runtime/helpers.js';
import type { HelperProto } from '../runtime/helper-proto.js';

const byte = (x: bigint): bigint => x & 0xffn;

function gatherBytes(a: bigint, b: bigint, c: bigint, d: bigint, e: bigint): bigint {
  return (byte(a) << 32n) | (byte(b) << 24n) | (byte(c) << 16n) | (byte(d) << 8n) | byte(e);
}

function memfrob(ptr: bigint, len: bigint, _c: bigint, _d: bigint, _e: bigint, env: HelperEnv): bigint {
  const n = len > 0xffffffffn ? Number.MAX_SAFE_INTEGER : Number(len);
  const at = checkedAddress(env, ptr, n, true);
  const bytes = env.mem.bytes;
  for (let k = 0; k < n; k++) bytes[at + k] = bytes[at + k]! ^ 42;
  return 0n;
}

/** Floor of the square root of an unsigned 64-bit value, exact (Newton's method on BigInt). */
export function isqrt(value: bigint): bigint {
  if (value < 2n) return value;
  let x = BigInt(Math.floor(Math.sqrt(Number(value))));
  while (x * x > value) x--;
  while ((x + 1n) * (x + 1n) <= value) x++;
  return x;
}

/** Reads the NUL-terminated string at ptr, checking every byte against the run's regions. */
function cString(env: HelperEnv, ptr: bigint): Uint8Array {
  const start = checkedAddress(env, ptr, 1);
  const bytes = env.mem.bytes;
  let end = start;
  while (bytes[end] !== 0) {
    end++;
    checkedAddress(env, BigInt(end), 1);
  }
  return bytes.subarray(start, end);
}

/** C strcmp: the difference of the first differing bytes (as unsigned char), 0 when equal. */
function strcmpExt(a: bigint, b: bigint, _c: bigint, _d: bigint, _e: bigint, env: HelperEnv): bigint {
  const x = cString(env, a), y = cString(env, b);
  for (let k = 0; ; k++) {
    const cx = x[k] ?? 0, cy = y[k] ?? 0;
    if (cx !== cy || cx === 0) return BigInt(cx - cy);
  }
}

const scalars = (n: number): HelperProto['args'] => Array.from({ length: n }, () => 'scalar' as const);
const upTo = (max: bigint): HelperProto['ret'] => ({ kind: 'scalar', min: 0n, max });

export function conformanceHelpers(): HelperSpec[] {
  return [
    { id: 0, name: 'gather_bytes', impl: gatherBytes, proto: { args: scalars(5), ret: upTo(0xffffffffffn) } },
    { id: 1, name: 'memfrob', impl: memfrob, proto: { args: ['mem_rw', 'size_or_zero'], ret: upTo(0n) } },
    { id: 2, name: 'no_op', impl: () => 0n, proto: { args: [], ret: upTo(0n) } },
    { id: 3, name: 'sqrti', impl: (a) => isqrt(a), proto: { args: scalars(1), ret: upTo(0xffffffffn) } },
    { id: 4, name: 'strcmp_ext', impl: strcmpExt, proto: { args: ['string', 'string'], ret: 'scalar' } },
    { id: 5, name: 'unwind', impl: (a) => a, unwindOnZero: true, proto: { args: scalars(1), ret: 'scalar' } },
  ];
}
