/**
 * `exit`: returning from a local call (r0 goes back to the caller, r1-r5 are clobbered, nothing may
 * keep pointing into the frame that goes away) and returning from the program (r0 must be a scalar
 * the context allows; a pointer would hand the host an address).
 */
import type { ContextDescriptor } from './context.js';
import { UNINIT, formatReg, type RegState } from './reg-state.js';
import { refuse } from './refusal.js';
import { formatScalar } from './scalar.js';
import { topFrame, type VState } from './state.js';

const intoFrame = (v: RegState, depth: number): boolean => v.t === 'ptr' && v.kind === 'stack' && v.frame >= depth;

/** Pops the callee's frame; returns the pc to continue at in the caller. */
export function leaveFunction(state: VState): number {
  const depth = state.frames.length - 1;
  const callee = topFrame(state);
  const r0 = callee.regs[0]!;
  if (r0.t === 'uninit') refuse('E_VERIFY_UNINIT_REGISTER', 'r0 is not initialized when the function returns', [0]);
  if (intoFrame(r0, depth)) {
    refuse('E_VERIFY_RETURN', `the function returns ${formatReg(r0)}, a pointer into its own stack frame, which ends here`, [0]);
  }
  for (let f = 0; f < depth; f++) {
    state.frames[f]!.stack.forEach((slot, i) => {
      if (slot?.kind === 'spill' && intoFrame(slot.reg, depth)) {
        refuse('E_VERIFY_STACK_ACCESS', `the caller's stack slot fp${8 * i - 512} (frame ${f}) still points into the returning function's frame`);
      }
    });
  }
  state.frames.pop();
  const caller = topFrame(state);
  caller.regs[0] = r0;
  for (let r = 1; r <= 5; r++) caller.regs[r] = UNINIT;
  return callee.callsite + 1;
}

/**
 * The entry function's exit: every reference acquired on this path (a reserved ring buffer record)
 * must have been released (submitted or discarded), as the kernel's check_reference_leak.
 */
export function checkLeaks(state: VState): void {
  const leak = state.refs[0];
  if (!leak) return;
  const more = state.refs.length > 1 ? ` (and ${state.refs.length - 1} more record${state.refs.length > 2 ? 's' : ''})` : '';
  refuse('E_VERIFY_REF_LEAK', `the ring buffer record reserved at pc ${leak.pc} is neither submitted nor discarded on this path before the program exits${more}`);
}

/** The entry function's exit: r0 must be a scalar inside the context's return range. */
export function checkReturn(ctx: ContextDescriptor, r0: RegState): void {
  switch (r0.t) {
    case 'uninit': return refuse('E_VERIFY_UNINIT_REGISTER', 'r0 is not initialized at exit', [0]);
    case 'ptr': return refuse('E_VERIFY_RETURN', `the program returns a pointer (r0=${formatReg(r0)}); r0 must be a scalar at exit`, [0]);
    case 'scalar': break;
  }
  const range = ctx.ret;
  if (range && (r0.umin < range.min || r0.umax > range.max)) {
    refuse('E_VERIFY_RETURN', `r0=${formatScalar(r0)} at exit may be outside the ${ctx.name} context's return range [${range.min}, ${range.max}]`, [0]);
  }
}
