/** LEB128, the variable-length integers of the WebAssembly binary format, written byte by byte to `put`. */

export type BytePut = (byte: number) => void;

/** Unsigned LEB128 of a non-negative integer below 2^53. */
export function putUleb(value: number, put: BytePut): void {
  let v = value;
  while (v >= 0x80) {
    put((v % 0x80) | 0x80);
    v = Math.floor(v / 0x80);
  }
  put(v);
}

/** Signed LEB128 of a 32-bit integer. */
export function putSleb32(value: number, put: BytePut): void {
  let v = value | 0;
  for (;;) {
    const b = v & 0x7f;
    v >>= 7;
    const done = (v === 0 && (b & 0x40) === 0) || (v === -1 && (b & 0x40) !== 0);
    put(done ? b : b | 0x80);
    if (done) return;
  }
}

/** Signed LEB128 of a 64-bit integer (any bigint, taken modulo 2^64 as a signed value); the 32-bit path when it fits. */
export function putSleb64(value: bigint, put: BytePut): void {
  let v = BigInt.asIntN(64, value);
  if (v >= -0x80000000n && v <= 0x7fffffffn) {
    putSleb32(Number(v), put);
    return;
  }
  for (;;) {
    const b = Number(v & 0x7fn);
    v >>= 7n;
    const done = (v === 0n && (b & 0x40) === 0) || (v === -1n && (b & 0x40) !== 0);
    put(done ? b : b | 0x80);
    if (done) return;
  }
}

const collect = (write: (put: BytePut) => void): number[] => {
  const out: number[] = [];
  write((b) => out.push(b));
  return out;
};

export const uleb = (value: number): number[] => collect((put) => putUleb(value, put));
export const sleb32 = (value: number): number[] => collect((put) => putSleb32(value, put));
export const sleb64 = (value: bigint): number[] => collect((put) => putSleb64(value, put));
