/**
 * The dispatch loop: one `switch` over the pre-decoded handler ids (see ops.ts and image.ts).
 * Registers are (lo, hi) int32 pairs in one Int32Array, immediates sit in constant slots of the same
 * array, and every memory access is a plain numeric compare against the context and stack bounds
 * before the slow path is asked about the other regions.
 *
 * This is the one long function of the interpreter on purpose: the hot locals (register file, code,
 * views, bounds, budget) stay in machine registers from one instruction to the next, where a handler
 * function per instruction would reload them every time. Rare or long operations live in arith.ts,
 * atomic.ts and calls.ts.
 */
import { InternalError } from '../errors.js';
import {
  arsh64, bswap16, bswap32, div64, lsh64, mod64, mul64, rsh64, sdiv64, sgt64, smod64, ugt64,
} from './arith.js';
import { runAtomic } from './atomic.js';
import { runLdAbs } from './ld-abs.js';
import { callHelper, callIndirect, enterLocal, leaveLocal } from './calls.js';
import { runCallbackHelper } from './callbacks.js';
import type { CodeImage } from './image.js';
import { budgetExceeded, type Machine } from './machine.js';
import type { Id } from './ops.js';

const TWO32 = 4294967296;

/**
 * Runs from code index `start` until the exit of the frame at depth `stop` (the entry's, or a
 * callback's) or an unwinding helper; r0 is left in m.R[0..1], the budget left in m.left.
 */
export function execute(m: Machine, img: CodeImage, start = 0, stop = 0): void {
  const R = m.R, C = img.code, PC = img.pc;
  const c0 = m.ctxAddr, s1 = m.stackEnd;
  let s0 = m.stackStart;
  let c1 = m.ctxEnd, dv = m.dv, u8 = m.u8, left = m.left, i = start;
  for (;;) {
    const k = i << 2, w = C[k]!, d = C[k + 1]!, s = C[k + 2]!;
    switch (w & 0xff) {
      case 0 satisfies Id<'CHARGE'>:
        i++;
        if ((left -= (C[i << 2]! >> 8)) < 0) throw budgetExceeded(PC[i]!);
        continue;
      // ALU64
      case 1 satisfies Id<'ADD64'>: {
        const lo = (R[d]! >>> 0) + (R[s]! >>> 0);
        R[d + 1] = R[d + 1]! + R[s + 1]! + (lo >= TWO32 ? 1 : 0);
        R[d] = lo;
        break;
      }
      case 2 satisfies Id<'SUB64'>: {
        const a = R[d]! >>> 0, b = R[s]! >>> 0;
        R[d + 1] = R[d + 1]! - R[s + 1]! - (a < b ? 1 : 0);
        R[d] = a - b;
        break;
      }
      case 3 satisfies Id<'MUL64'>: mul64(R, d, s); break;
      case 4 satisfies Id<'DIV64'>: div64(R, d, s); break;
      case 5 satisfies Id<'SDIV64'>: sdiv64(R, d, s); break;
      case 6 satisfies Id<'MOD64'>: mod64(R, d, s); break;
      case 7 satisfies Id<'SMOD64'>: smod64(R, d, s); break;
      case 8 satisfies Id<'OR64'>: R[d] = R[d]! | R[s]!; R[d + 1] = R[d + 1]! | R[s + 1]!; break;
      case 9 satisfies Id<'AND64'>: R[d] = R[d]! & R[s]!; R[d + 1] = R[d + 1]! & R[s + 1]!; break;
      case 10 satisfies Id<'XOR64'>: R[d] = R[d]! ^ R[s]!; R[d + 1] = R[d + 1]! ^ R[s + 1]!; break;
      case 11 satisfies Id<'LSH64'>: lsh64(R, d, R[s]! & 63); break;
      case 12 satisfies Id<'RSH64'>: rsh64(R, d, R[s]! & 63); break;
      case 13 satisfies Id<'ARSH64'>: arsh64(R, d, R[s]! & 63); break;
      case 14 satisfies Id<'NEG64'>: {
        const lo = R[d]!;
        R[d] = -lo;
        R[d + 1] = ~R[d + 1]! + (lo === 0 ? 1 : 0);
        break;
      }
      case 15 satisfies Id<'MOV64'>: R[d] = R[s]!; R[d + 1] = R[s + 1]!; break;
      case 16 satisfies Id<'MOVSX8_64'>: R[d] = (R[s]! << 24) >> 24; R[d + 1] = R[d]! >> 31; break;
      case 17 satisfies Id<'MOVSX16_64'>: R[d] = (R[s]! << 16) >> 16; R[d + 1] = R[d]! >> 31; break;
      case 18 satisfies Id<'MOVSX32_64'>: R[d] = R[s]!; R[d + 1] = R[s]! >> 31; break;
      // ALU32: results are zero-extended into the 64-bit register
      case 19 satisfies Id<'ADD32'>: R[d] = R[d]! + R[s]!; R[d + 1] = 0; break;
      case 20 satisfies Id<'SUB32'>: R[d] = R[d]! - R[s]!; R[d + 1] = 0; break;
      case 21 satisfies Id<'MUL32'>: R[d] = Math.imul(R[d]!, R[s]!); R[d + 1] = 0; break;
      case 22 satisfies Id<'DIV32'>: {
        const b = R[s]! >>> 0;
        R[d] = b === 0 ? 0 : (R[d]! >>> 0) / b;
        R[d + 1] = 0;
        break;
      }
      case 23 satisfies Id<'SDIV32'>: {
        const b = R[s]!;
        R[d] = b === 0 ? 0 : R[d]! / b;
        R[d + 1] = 0;
        break;
      }
      case 24 satisfies Id<'MOD32'>: {
        const b = R[s]! >>> 0;
        if (b !== 0) R[d] = (R[d]! >>> 0) % b;
        R[d + 1] = 0;
        break;
      }
      case 25 satisfies Id<'SMOD32'>: {
        const b = R[s]!;
        if (b !== 0) R[d] = R[d]! % b;
        R[d + 1] = 0;
        break;
      }
      case 26 satisfies Id<'OR32'>: R[d] = R[d]! | R[s]!; R[d + 1] = 0; break;
      case 27 satisfies Id<'AND32'>: R[d] = R[d]! & R[s]!; R[d + 1] = 0; break;
      case 28 satisfies Id<'XOR32'>: R[d] = R[d]! ^ R[s]!; R[d + 1] = 0; break;
      case 29 satisfies Id<'LSH32'>: R[d] = R[d]! << R[s]!; R[d + 1] = 0; break; // JS masks shifts to 5 bits
      case 30 satisfies Id<'RSH32'>: R[d] = R[d]! >>> R[s]!; R[d + 1] = 0; break;
      case 31 satisfies Id<'ARSH32'>: R[d] = R[d]! >> R[s]!; R[d + 1] = 0; break;
      case 32 satisfies Id<'NEG32'>: R[d] = -R[d]!; R[d + 1] = 0; break;
      case 33 satisfies Id<'MOV32'>: R[d] = R[s]!; R[d + 1] = 0; break;
      case 34 satisfies Id<'MOVSX8_32'>: R[d] = (R[s]! << 24) >> 24; R[d + 1] = 0; break;
      case 35 satisfies Id<'MOVSX16_32'>: R[d] = (R[s]! << 16) >> 16; R[d + 1] = 0; break;
      // byte order (the machine is little-endian)
      case 36 satisfies Id<'ZEXT16'>: R[d] = R[d]! & 0xffff; R[d + 1] = 0; break;
      case 37 satisfies Id<'ZEXT32'>: R[d + 1] = 0; break;
      case 38 satisfies Id<'NOP'>: break;
      case 39 satisfies Id<'SWAP16'>: R[d] = bswap16(R[d]!); R[d + 1] = 0; break;
      case 40 satisfies Id<'SWAP32'>: R[d] = bswap32(R[d]!); R[d + 1] = 0; break;
      case 41 satisfies Id<'SWAP64'>: {
        const lo = R[d]!;
        R[d] = bswap32(R[d + 1]!);
        R[d + 1] = bswap32(lo);
        break;
      }
      // jumps land on a block start and pay for it there
      case 42 satisfies Id<'JA'>:
        i = C[k + 3]!;
        if ((left -= (C[i << 2]! >> 8)) < 0) throw budgetExceeded(PC[i]!);
        continue;
      case 43 satisfies Id<'JEQ'>:
        i = R[d] === R[s] && R[d + 1] === R[s + 1] ? C[k + 3]! : i + 1;
        if ((left -= (C[i << 2]! >> 8)) < 0) throw budgetExceeded(PC[i]!);
        continue;
      case 44 satisfies Id<'JNE'>:
        i = R[d] !== R[s] || R[d + 1] !== R[s + 1] ? C[k + 3]! : i + 1;
        if ((left -= (C[i << 2]! >> 8)) < 0) throw budgetExceeded(PC[i]!);
        continue;
      case 45 satisfies Id<'JGT'>:
        i = ugt64(R, d, s) ? C[k + 3]! : i + 1;
        if ((left -= (C[i << 2]! >> 8)) < 0) throw budgetExceeded(PC[i]!);
        continue;
      case 46 satisfies Id<'JGE'>:
        i = !ugt64(R, s, d) ? C[k + 3]! : i + 1;
        if ((left -= (C[i << 2]! >> 8)) < 0) throw budgetExceeded(PC[i]!);
        continue;
      case 47 satisfies Id<'JLT'>:
        i = ugt64(R, s, d) ? C[k + 3]! : i + 1;
        if ((left -= (C[i << 2]! >> 8)) < 0) throw budgetExceeded(PC[i]!);
        continue;
      case 48 satisfies Id<'JLE'>:
        i = !ugt64(R, d, s) ? C[k + 3]! : i + 1;
        if ((left -= (C[i << 2]! >> 8)) < 0) throw budgetExceeded(PC[i]!);
        continue;
      case 49 satisfies Id<'JSGT'>:
        i = sgt64(R, d, s) ? C[k + 3]! : i + 1;
        if ((left -= (C[i << 2]! >> 8)) < 0) throw budgetExceeded(PC[i]!);
        continue;
      case 50 satisfies Id<'JSGE'>:
        i = !sgt64(R, s, d) ? C[k + 3]! : i + 1;
        if ((left -= (C[i << 2]! >> 8)) < 0) throw budgetExceeded(PC[i]!);
        continue;
      case 51 satisfies Id<'JSLT'>:
        i = sgt64(R, s, d) ? C[k + 3]! : i + 1;
        if ((left -= (C[i << 2]! >> 8)) < 0) throw budgetExceeded(PC[i]!);
        continue;
      case 52 satisfies Id<'JSLE'>:
        i = !sgt64(R, d, s) ? C[k + 3]! : i + 1;
        if ((left -= (C[i << 2]! >> 8)) < 0) throw budgetExceeded(PC[i]!);
        continue;
      case 53 satisfies Id<'JSET'>:
        i = ((R[d]! & R[s]!) | (R[d + 1]! & R[s + 1]!)) !== 0 ? C[k + 3]! : i + 1;
        if ((left -= (C[i << 2]! >> 8)) < 0) throw budgetExceeded(PC[i]!);
        continue;
      case 54 satisfies Id<'JEQ32'>:
        i = R[d] === R[s] ? C[k + 3]! : i + 1;
        if ((left -= (C[i << 2]! >> 8)) < 0) throw budgetExceeded(PC[i]!);
        continue;
      case 55 satisfies Id<'JNE32'>:
        i = R[d] !== R[s] ? C[k + 3]! : i + 1;
        if ((left -= (C[i << 2]! >> 8)) < 0) throw budgetExceeded(PC[i]!);
        continue;
      case 56 satisfies Id<'JGT32'>:
        i = R[d]! >>> 0 > R[s]! >>> 0 ? C[k + 3]! : i + 1;
        if ((left -= (C[i << 2]! >> 8)) < 0) throw budgetExceeded(PC[i]!);
        continue;
      case 57 satisfies Id<'JGE32'>:
        i = R[d]! >>> 0 >= R[s]! >>> 0 ? C[k + 3]! : i + 1;
        if ((left -= (C[i << 2]! >> 8)) < 0) throw budgetExceeded(PC[i]!);
        continue;
      case 58 satisfies Id<'JLT32'>:
        i = R[d]! >>> 0 < R[s]! >>> 0 ? C[k + 3]! : i + 1;
        if ((left -= (C[i << 2]! >> 8)) < 0) throw budgetExceeded(PC[i]!);
        continue;
      case 59 satisfies Id<'JLE32'>:
        i = R[d]! >>> 0 <= R[s]! >>> 0 ? C[k + 3]! : i + 1;
        if ((left -= (C[i << 2]! >> 8)) < 0) throw budgetExceeded(PC[i]!);
        continue;
      case 60 satisfies Id<'JSGT32'>:
        i = R[d]! > R[s]! ? C[k + 3]! : i + 1;
        if ((left -= (C[i << 2]! >> 8)) < 0) throw budgetExceeded(PC[i]!);
        continue;
      case 61 satisfies Id<'JSGE32'>:
        i = R[d]! >= R[s]! ? C[k + 3]! : i + 1;
        if ((left -= (C[i << 2]! >> 8)) < 0) throw budgetExceeded(PC[i]!);
        continue;
      case 62 satisfies Id<'JSLT32'>:
        i = R[d]! < R[s]! ? C[k + 3]! : i + 1;
        if ((left -= (C[i << 2]! >> 8)) < 0) throw budgetExceeded(PC[i]!);
        continue;
      case 63 satisfies Id<'JSLE32'>:
        i = R[d]! <= R[s]! ? C[k + 3]! : i + 1;
        if ((left -= (C[i << 2]! >> 8)) < 0) throw budgetExceeded(PC[i]!);
        continue;
      case 64 satisfies Id<'JSET32'>:
        i = (R[d]! & R[s]!) !== 0 ? C[k + 3]! : i + 1;
        if ((left -= (C[i << 2]! >> 8)) < 0) throw budgetExceeded(PC[i]!);
        continue;
      // calls
      case 65 satisfies Id<'CALL'>: {
        const spec = img.helpers[img.aux[i]!]!;
        if (spec.proto?.callback !== undefined) {
          m.left = left;
          if (runCallbackHelper(m, img, spec.proto.callback, PC[i]!)) return;
          left = m.left;
          ({ dv, u8, ctxEnd: c1 } = m);
          break;
        }
        if (callHelper(m, spec, PC[i]!)) {
          m.unwinding = true;
          return;
        }
        break;
      }
      case 66 satisfies Id<'CALL_LOCAL'>:
        enterLocal(m, i + 1, PC[i]!);
        s0 = m.stackStart;
        i = C[k + 3]!;
        if ((left -= (C[i << 2]! >> 8)) < 0) throw budgetExceeded(PC[i]!);
        continue;
      case 67 satisfies Id<'CALLX'>:
        if (callIndirect(m, d, PC[i]!)) {
          m.unwinding = true;
          return;
        }
        break;
      case 68 satisfies Id<'EXIT'>:
        if (m.depth === stop) {
          m.left = left;
          return;
        }
        i = leaveLocal(m);
        s0 = m.stackStart;
        continue;
      // loads: [src + off]
      case 69 satisfies Id<'LDXB'>: {
        const a = R[s + 1]! * TWO32 + (R[s]! >>> 0) + C[k + 3]!;
        if (!((a >= c0 && a + 1 <= c1) || (a >= s0 && a + 1 <= s1))) {
          m.checkSlow(a, 1, PC[i]!);
          ({ dv, u8, ctxEnd: c1 } = m);
        }
        R[d] = u8[a]!;
        R[d + 1] = 0;
        break;
      }
      case 70 satisfies Id<'LDXH'>: {
        const a = R[s + 1]! * TWO32 + (R[s]! >>> 0) + C[k + 3]!;
        if (!((a >= c0 && a + 2 <= c1) || (a >= s0 && a + 2 <= s1))) {
          m.checkSlow(a, 2, PC[i]!);
          ({ dv, u8, ctxEnd: c1 } = m);
        }
        R[d] = dv.getUint16(a, true);
        R[d + 1] = 0;
        break;
      }
      case 71 satisfies Id<'LDXW'>: {
        const a = R[s + 1]! * TWO32 + (R[s]! >>> 0) + C[k + 3]!;
        if (!((a >= c0 && a + 4 <= c1) || (a >= s0 && a + 4 <= s1))) {
          m.checkSlow(a, 4, PC[i]!);
          ({ dv, u8, ctxEnd: c1 } = m);
        }
        R[d] = dv.getInt32(a, true);
        R[d + 1] = 0;
        break;
      }
      case 72 satisfies Id<'LDXDW'>: {
        const a = R[s + 1]! * TWO32 + (R[s]! >>> 0) + C[k + 3]!;
        if (!((a >= c0 && a + 8 <= c1) || (a >= s0 && a + 8 <= s1))) {
          m.checkSlow(a, 8, PC[i]!);
          ({ dv, u8, ctxEnd: c1 } = m);
        }
        R[d] = dv.getInt32(a, true);
        R[d + 1] = dv.getInt32(a + 4, true);
        break;
      }
      case 73 satisfies Id<'LDXSB'>: {
        const a = R[s + 1]! * TWO32 + (R[s]! >>> 0) + C[k + 3]!;
        if (!((a >= c0 && a + 1 <= c1) || (a >= s0 && a + 1 <= s1))) {
          m.checkSlow(a, 1, PC[i]!);
          ({ dv, u8, ctxEnd: c1 } = m);
        }
        R[d] = (u8[a]! << 24) >> 24;
        R[d + 1] = R[d]! >> 31;
        break;
      }
      case 74 satisfies Id<'LDXSH'>: {
        const a = R[s + 1]! * TWO32 + (R[s]! >>> 0) + C[k + 3]!;
        if (!((a >= c0 && a + 2 <= c1) || (a >= s0 && a + 2 <= s1))) {
          m.checkSlow(a, 2, PC[i]!);
          ({ dv, u8, ctxEnd: c1 } = m);
        }
        R[d] = dv.getInt16(a, true);
        R[d + 1] = R[d]! >> 31;
        break;
      }
      case 75 satisfies Id<'LDXSW'>: {
        const a = R[s + 1]! * TWO32 + (R[s]! >>> 0) + C[k + 3]!;
        if (!((a >= c0 && a + 4 <= c1) || (a >= s0 && a + 4 <= s1))) {
          m.checkSlow(a, 4, PC[i]!);
          ({ dv, u8, ctxEnd: c1 } = m);
        }
        R[d] = dv.getInt32(a, true);
        R[d + 1] = R[d]! >> 31;
        break;
      }
      // stores: [dst + off] = src register or constant slot
      case 76 satisfies Id<'STB'>: {
        const a = R[d + 1]! * TWO32 + (R[d]! >>> 0) + C[k + 3]!;
        if (!((a >= c0 && a + 1 <= c1) || (a >= s0 && a + 1 <= s1))) {
          m.checkSlow(a, 1, PC[i]!, true);
          ({ dv, u8, ctxEnd: c1 } = m);
        }
        u8[a] = R[s]!;
        break;
      }
      case 77 satisfies Id<'STH'>: {
        const a = R[d + 1]! * TWO32 + (R[d]! >>> 0) + C[k + 3]!;
        if (!((a >= c0 && a + 2 <= c1) || (a >= s0 && a + 2 <= s1))) {
          m.checkSlow(a, 2, PC[i]!, true);
          ({ dv, u8, ctxEnd: c1 } = m);
        }
        dv.setInt16(a, R[s]!, true);
        break;
      }
      case 78 satisfies Id<'STW'>: {
        const a = R[d + 1]! * TWO32 + (R[d]! >>> 0) + C[k + 3]!;
        if (!((a >= c0 && a + 4 <= c1) || (a >= s0 && a + 4 <= s1))) {
          m.checkSlow(a, 4, PC[i]!, true);
          ({ dv, u8, ctxEnd: c1 } = m);
        }
        dv.setInt32(a, R[s]!, true);
        break;
      }
      case 79 satisfies Id<'STDW'>: {
        const a = R[d + 1]! * TWO32 + (R[d]! >>> 0) + C[k + 3]!;
        if (!((a >= c0 && a + 8 <= c1) || (a >= s0 && a + 8 <= s1))) {
          m.checkSlow(a, 8, PC[i]!, true);
          ({ dv, u8, ctxEnd: c1 } = m);
        }
        dv.setInt32(a, R[s]!, true);
        dv.setInt32(a + 4, R[s + 1]!, true);
        break;
      }
      case 80 satisfies Id<'ATOMIC'>:
        runAtomic(m, img, i);
        ({ dv, u8, ctxEnd: c1 } = m);
        break;
      case 81 satisfies Id<'LDABS'>:
        if (runLdAbs(m, img, i)) {
          m.unwinding = true;
          return;
        }
        ({ dv, u8, ctxEnd: c1 } = m);
        break;
      default: // unreachable: opOf maps every instruction form to a handler
        throw new InternalError(`no interpreter handler ${w & 0xff} at pc ${PC[i]}`);
    }
    i++;
  }
}
