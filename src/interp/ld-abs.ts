/**
 * The legacy packet loads LD_ABS / LD_IND, as the JIT runs them (src/jit/ld-abs.ts): the packet is
 * [data, data_end) of the __sk_buff in r6, the offset imm or the low 32 bits of src + imm as a signed
 * int; out of range, the run ends with r0 = 0. The two fields and the packet bytes are accesses like
 * any other: checked against the run's regions unless the program is verified.
 */
import { SKB_DATA, SKB_DATA_END } from '../runtime/kernel-layout.js';
import { STRIDE, type CodeImage } from './image.js';
import type { Machine } from './machine.js';

const TWO32 = 4294967296;

/** The fast test of the dispatch loop (context or stack), then the machine's other regions. */
function check(m: Machine, a: number, n: number, pc: number): void {
  if ((a >= m.ctxAddr && a + n <= m.ctxEnd) || (a >= m.stackStart && a + n <= m.stackEnd)) return;
  m.checkSlow(a, n, pc);
}

/** Runs the load at code index `i`; true when it ends the run (r0 = 0). */
export function runLdAbs(m: Machine, img: CodeImage, i: number): boolean {
  const R = m.R, pc = img.pc[i]!, aux = img.aux[i]!;
  const size = aux & 0xf;
  const ctx = R[13]! * TWO32 + (R[12]! >>> 0); // r6
  check(m, ctx + SKB_DATA, 4, pc);
  const data = m.dv.getUint32(ctx + SKB_DATA, true);
  check(m, ctx + SKB_DATA_END, 4, pc);
  const end = m.dv.getUint32(ctx + SKB_DATA_END, true);
  const imm = img.code[i * STRIDE + 3]!;
  const off = aux & 0x10 ? (R[img.code[i * STRIDE + 2]!]! + imm) | 0 : imm;
  if (off < 0 || off + size > end - data) {
    R[0] = R[1] = 0;
    return true;
  }
  const a = data + off;
  check(m, a, size, pc);
  const dv = m.dv;
  R[0] = size === 1 ? dv.getUint8(a) : size === 2 ? dv.getUint16(a, false) : dv.getInt32(a, false);
  R[1] = 0;
  // r1-r5 are clobbered: unverified code reads 0 there, as after a local call.
  R.fill(0, 2, 12);
  return false;
}
