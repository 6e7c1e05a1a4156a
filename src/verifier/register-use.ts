/**
 * The verifier's first pass: no instruction writes r10, and none reads a register that is not
 * initialized on every path to it (a must-initialized dataflow over each function's blocks). It needs
 * no types and runs in time linear in the program, so a 1,000,000-instruction program that never sets
 * r0 is refused at once instead of after exploring every path to its exit. The exploration refuses
 * the same reads on the paths it follows (step.ts, exit.ts); this pass only finds them sooner.
 *
 * Knowing no values, the pass also counts paths no run can take: `if r1 != 0 goto L` after `r1 = 0`
 * still brings L's reads into question, where the Linux verifier would skip the dead branch.
 */
import type { Insn } from '../isa/insn.js';
import { writesRegister } from '../isa/insn.js';
import { FP } from '../isa/opcode.js';
import { solveDataflow } from '../program/cfg.js';
import type { BpfFunction, Program } from '../program/program.js';
import { ARG_REGS, afterMask, readMask } from '../program/registers.js';
import { insnText } from './log.js';
import { VerifyError } from './refusal.js';

/** The entry gets r1 (context), r2 (its length, for memory-region programs) and the frame pointer. */
const ENTRY_REGS = (1 << 1) | (1 << 2) | (1 << FP);
/** A local call's callee gets its arguments r1-r5 and its own frame pointer. */
const SUBPROG_REGS = ARG_REGS | (1 << FP);

function refusal(code: 'E_VERIFY_UNINIT_REGISTER' | 'E_VERIFY_WRITE_R10', insn: Insn, rule: string): VerifyError {
  return new VerifyError(code, insn.pc, rule, `${insnText(insn)}: ${rule}`);
}

function uninitialized(insn: Insn, missing: number): VerifyError {
  const regs = Array.from({ length: 11 }, (_, r) => r).filter((r) => missing & (1 << r)).map((r) => `r${r}`);
  const rule = `${regs.join(', ')} ${regs.length > 1 ? 'are' : 'is'} not initialized`;
  return refusal('E_VERIFY_UNINIT_REGISTER', insn, rule);
}

/**
 * The first read (in pc order) of a register not initialized on every path to it: a must-initialized
 * problem, so paths meet by intersection. Each block's transfer notes its first read of a missing
 * register; the solver carries a block again whenever what flows in changes, so the last note of each
 * block is the one at the fixed point, and blocks no path from the entry reaches are never carried.
 */
function checkFunction(fn: BpfFunction, entryMask: number): VerifyError | undefined {
  // By block start less the function's entry; only blocks with such a read have an entry.
  const firstBad: Array<{ insn: Insn; missing: number } | undefined> = [];
  solveDataflow<number>(fn, {
    direction: 'forward', boundary: entryMask,
    meet: (a, b) => a & b,
    equals: (a, b) => a === b,
    transfer: (block, mask) => {
      let m = mask;
      let bad: { insn: Insn; missing: number } | undefined;
      for (const insn of block.insns) {
        const missing = readMask(insn) & ~m;
        if (missing && !bad) bad = { insn, missing };
        m = afterMask(insn, m);
      }
      const at = block.start - fn.entry;
      if (bad || firstBad[at]) firstBad[at] = bad;
      return m;
    },
  });
  for (const block of fn.blocks) {
    const bad = firstBad[block.start - fn.entry];
    if (bad) return uninitialized(bad.insn, bad.missing);
  }
  return undefined;
}

/** The first write to r10 or uninitialized read found, as the verifier's refusal; undefined when there is none. */
export function checkRegisterUse(program: Program): VerifyError | undefined {
  for (const insn of program.insns) {
    if (writesRegister(insn) === FP) return refusal('E_VERIFY_WRITE_R10', insn, 'r10 is the read-only frame pointer');
  }
  for (const fn of program.functions) {
    const error = checkFunction(fn, fn.index === 0 ? ENTRY_REGS : SUBPROG_REGS);
    if (error) return error;
  }
  return undefined;
}
