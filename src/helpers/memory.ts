/**
 * Reading and writing helper arguments inside the run's regions (HelperEnv.regions), for helpers
 * whose length is not known before they read (strings): they stop at the end of the region the
 * pointer lies in, so a helper never touches memory the run may not.
 */
import { HelperFault, checkedAddress, type HelperEnv } from '../runtime/helpers.js';

/** End of the run's region holding the byte at ptr, or undefined when no region does. */
export function regionEnd(env: HelperEnv, ptr: bigint): number | undefined {
  if (ptr < 0n || ptr > 0xffffffffn) return undefined;
  const addr = Number(ptr);
  for (const r of env.regions) if (addr >= r.start && addr < r.end) return r.end;
  return undefined;
}

/**
 * The bytes of the NUL-terminated string at ptr, at most `max` of them (without the NUL), or
 * undefined when ptr lies in no region or the string runs past its region's end.
 */
export function readString(env: HelperEnv, ptr: bigint, max: number): Uint8Array | undefined {
  const end = regionEnd(env, ptr);
  if (end === undefined) return undefined;
  const start = Number(ptr);
  const bytes = env.mem.bytes;
  const limit = Math.min(end, start + max);
  for (let at = start; at < limit; at++) if (bytes[at] === 0) return bytes.subarray(start, at);
  return start + max <= end ? bytes.subarray(start, limit) : undefined;
}

/** Like readString, but a string outside the run's regions is a fault (E_RUN_MEMORY at the call). */
export function checkedString(env: HelperEnv, ptr: bigint, max: number, what: string): Uint8Array {
  const s = readString(env, ptr, max);
  if (!s) throw new HelperFault(`${what}: the string at 0x${ptr.toString(16)} is not NUL-terminated inside the program's memory`);
  return s;
}

/**
 * The `size` bytes at ptr for a helper to fill (a mem_write argument): checked against the run's
 * regions, then zeroed, as the kernel's helpers that fill a buffer clear what they do not write.
 */
export function outBuffer(env: HelperEnv, ptr: bigint, size: bigint): Uint8Array {
  const len = size > 0xffffffffn ? Number.MAX_SAFE_INTEGER : Number(size);
  const at = checkedAddress(env, ptr, len, true);
  const out = env.mem.bytes.subarray(at, at + len);
  out.fill(0);
  return out;
}
