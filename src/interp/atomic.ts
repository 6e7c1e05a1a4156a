/**
 * Atomic read-modify-write instructions, on the shared memory through JavaScript Atomics so workers
 * running the same maps see them as atomic. Like WebAssembly atomics they need natural alignment:
 * a misaligned atomic access is a memory fault.
 */
import { BpfRuntimeError } from '../errors.js';
import { AtomicCode } from '../isa/opcode.js';
import { fromU64, toU64 } from './arith.js';
import type { CodeImage } from './image.js';
import type { Machine } from './machine.js';

const OPERATION = ~AtomicCode.FETCH & 0xff;

function atomic32(m: Machine, index: number, code: number, s: number): void {
  const A = m.int32, R = m.R, v = R[s]!;
  let old: number;
  switch (code & OPERATION) {
    case AtomicCode.ADD: old = Atomics.add(A, index, v); break;
    case AtomicCode.OR: old = Atomics.or(A, index, v); break;
    case AtomicCode.AND: old = Atomics.and(A, index, v); break;
    case AtomicCode.XOR: old = Atomics.xor(A, index, v); break;
    case AtomicCode.XCHG: old = Atomics.exchange(A, index, v); break;
    default: // cmpxchg compares with r0 and always loads the old value into r0
      R[0] = Atomics.compareExchange(A, index, R[0]!, v);
      R[1] = 0;
      return;
  }
  if (code & AtomicCode.FETCH) {
    R[s] = old;
    R[s + 1] = 0;
  }
}

function atomic64(m: Machine, index: number, code: number, s: number): void {
  const A = m.int64, R = m.R, v = BigInt.asIntN(64, toU64(R, s));
  let old: bigint;
  switch (code & OPERATION) {
    case AtomicCode.ADD: old = Atomics.add(A, index, v); break;
    case AtomicCode.OR: old = Atomics.or(A, index, v); break;
    case AtomicCode.AND: old = Atomics.and(A, index, v); break;
    case AtomicCode.XOR: old = Atomics.xor(A, index, v); break;
    case AtomicCode.XCHG: old = Atomics.exchange(A, index, v); break;
    default:
      fromU64(R, 0, BigInt.asUintN(64, Atomics.compareExchange(A, index, BigInt.asIntN(64, toU64(R, 0)), v)));
      return;
  }
  if (code & AtomicCode.FETCH) fromU64(R, s, BigInt.asUintN(64, old));
}

/** Runs the ATOMIC instruction at code index i. */
export function runAtomic(m: Machine, img: CodeImage, i: number): void {
  const R = m.R, C = img.code, k = i << 2, d = C[k + 1]!, aux = img.aux[i]!, pc = img.pc[i]!;
  const n = aux & 0x100 ? 8 : 4;
  const a = R[d + 1]! * 4294967296 + (R[d]! >>> 0) + C[k + 3]!;
  const fast = (a >= m.ctxAddr && a + n <= m.ctxEnd) || (a >= m.stackStart && a + n <= m.stackEnd);
  if (!fast) m.checkSlow(a, n, pc, true);
  if (a % n !== 0) {
    throw new BpfRuntimeError('E_RUN_MEMORY', pc, `misaligned ${n}-byte atomic access at 0x${a.toString(16)}`);
  }
  if (n === 8) atomic64(m, a / 8, aux & 0xff, C[k + 2]!);
  else atomic32(m, a / 4, aux & 0xff, C[k + 2]!);
}
