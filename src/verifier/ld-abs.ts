/**
 * The legacy packet loads LD_ABS / LD_IND, as the kernel's check_ld_abs allows them: only in a
 * context that is an __sk_buff (socket filter, tc), with r6 holding that context unmoved, a scalar
 * index for LD_IND, no ring buffer record or spin lock held (the load may end the program), and only
 * in the main program (the kernel refuses it in subprograms without BTF; here an out-of-range load
 * ends the whole run). r0 gets the big-endian value, zero-extended; r1-r5 are clobbered.
 */
import type { InsnOf } from '../isa/insn.js';
import type { ContextDescriptor } from './context.js';
import { formatReg, hasConstOffset, UNINIT } from './reg-state.js';
import { refuse } from './refusal.js';
import { constValue, loadedScalar } from './scalar.js';
import { refuseWhileLocked } from './spin-lock.js';
import { topFrame, type VState } from './state.js';

const CTX_REG = 6;

export function ldAbsStep(ctx: ContextDescriptor, state: VState, insn: InsnOf<'ldabs'>): void {
  const what = insn.indirect ? 'LD_IND' : 'LD_ABS';
  if (!ctx.ldAbs) refuse('E_VERIFY_LD_ABS', `${what} needs an __sk_buff context (socket or tc), not ${ctx.name}`);
  if (state.frames.length > 1) refuse('E_VERIFY_LD_ABS', `${what} in a subprogram: legacy packet loads are allowed in the main program only`);
  const held = state.refs[0];
  if (held) refuse('E_VERIFY_REF_LEAK', `${what} may end the program and leak the ring buffer record reserved at pc ${held.pc}: submit or discard it first`);
  refuseWhileLocked(state, what);
  const regs = topFrame(state).regs;
  const r6 = regs[CTX_REG]!;
  if (r6.t === 'uninit') refuse('E_VERIFY_UNINIT_REGISTER', `r6 is not initialized: ${what} reads the context from it`, [CTX_REG]);
  if (r6.t !== 'ptr' || r6.kind !== 'ctx' || r6.off !== 0 || !hasConstOffset(r6) || constValue(r6.var) !== 0n) {
    refuse('E_VERIFY_LD_ABS', `${what} needs r6 to hold the context itself, not ${formatReg(r6)}`, [CTX_REG]);
  }
  if (insn.indirect) {
    const index = regs[insn.src]!;
    if (index.t === 'uninit') refuse('E_VERIFY_UNINIT_REGISTER', `r${insn.src} is not initialized`, [insn.src]);
    if (index.t !== 'scalar') refuse('E_VERIFY_LD_ABS', `${what} index r${insn.src} must be a scalar, not ${formatReg(index)}`, [insn.src]);
  }
  for (let r = 1; r <= 5; r++) regs[r] = UNINIT;
  regs[0] = loadedScalar(insn.size, false);
}
