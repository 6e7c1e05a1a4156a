/**
 * Which registers an instruction reads and defines, as bit masks (bit n is rn), with the calling
 * convention: calls (and the legacy packet loads) define r0 and leave r1-r5 undefined. The verifier's register-use pre-pass and
 * the liveness analyses of the verifier and the JIT read these.
 */
import type { Insn } from '../isa/insn.js';

const bit = (reg: number): number => 1 << reg;
export const ARG_REGS = bit(1) | bit(2) | bit(3) | bit(4) | bit(5);
const CALLER_SAVED = ARG_REGS | bit(0);

/** Registers an instruction reads, as a bit mask. */
export function readMask(insn: Insn): number {
  switch (insn.kind) {
    case 'alu': {
      const dst = insn.op === 'mov' || insn.op.startsWith('movsx') ? 0 : bit(insn.dst);
      return dst | (insn.operand === 'reg' ? bit(insn.src) : 0);
    }
    case 'end': return bit(insn.dst);
    case 'jmp': return bit(insn.dst) | (insn.operand === 'reg' ? bit(insn.src) : 0);
    case 'ldx': return bit(insn.src);
    case 'st': return bit(insn.dst);
    case 'stx': return bit(insn.dst) | bit(insn.src);
    case 'atomic': return bit(insn.dst) | bit(insn.src) | (insn.op === 'cmpxchg' ? bit(0) : 0);
    case 'callx': return bit(insn.dst);
    case 'exit': return bit(0);
    case 'ldabs': return bit(6) | (insn.indirect ? bit(insn.src) : 0);
    case 'ja': case 'call': case 'lddw': return 0;
  }
}

/** Register mask after the instruction, given the mask before it. */
export function afterMask(insn: Insn, before: number): number {
  switch (insn.kind) {
    case 'alu': case 'end': case 'lddw': case 'ldx': return before | bit(insn.dst);
    case 'atomic':
      if (insn.op === 'cmpxchg') return before | bit(0);
      return insn.fetch ? before | bit(insn.src) : before;
    case 'call': case 'callx': case 'ldabs': return (before & ~CALLER_SAVED) | bit(0);
    default: return before;
  }
}

