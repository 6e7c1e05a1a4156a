/**
 * Callbacks of bpf_loop and bpf_for_each_map_elem, verified as the kernel does in spirit
 * (set_loop_callback_state, set_map_elem_callback_state, check_callback_ret) but simpler: the
 * callback is explored once per call site and path, as a call from the helper's call site with the
 * kernel's argument types, on a state that stands for every iteration at once. The frame its context
 * points into is made "initialized, value unknown" where it was initialized (a callback may store
 * anything there, any number of times) before the callback starts and again when it returns, so
 * nothing the caller or a later iteration relies on can come from one particular iteration. Bytes
 * that were not initialized before the call stay so after it: the callback may never run.
 */
import { MAX_LOOPS } from '../helpers/callbacks.js';
import type { InsnOf } from '../isa/insn.js';
import type { CallbackKind } from '../runtime/helper-proto.js';
import { MAX_CALL_FRAMES } from '../runtime/memory.js';
import type { MapDescriptor } from './helper-call.js';
import { formatReg, makePtr, type Ptr, type RegState } from './reg-state.js';
import { refuse } from './refusal.js';
import { SCALAR_UNKNOWN, scalarURange } from './scalar.js';
import { havocSlots, setSlots } from './stack.js';
import { framesInUse, newFrame, topFrame, type VState } from './state.js';
import { leaveFunction } from './exit.js';
import type { Program } from '../program/program.js';

/** The region number of for_each_map_elem's key pointer: a read-only copy, neither the context (0) nor a map. */
const KEY_REGION = -2;

export interface CallbackEnv {
  readonly program: Program;
  readonly maps: readonly MapDescriptor[];
}

/** The callback's arguments r1-r5, as the kernel's set_*_callback_state gives them. */
function callbackArgs(env: CallbackEnv, kind: CallbackKind, ctx: RegState, map: number | undefined): RegState[] {
  if (kind === 'loop') return [scalarURange(0n, BigInt(MAX_LOOPS - 1)), ctx];
  const desc = env.maps[map!]!;
  return [
    makePtr('map_handle', { region: map! }),
    makePtr('mem', { size: desc.keySize, readOnly: true, region: KEY_REGION }),
    makePtr('map_value', { size: desc.valueSize, region: map! }),
    ctx,
  ];
}

/**
 * After the helper call's arguments were checked (helper-call.ts; `args` are r1-r4 as they were):
 * pushes the callback's frame and returns the pc it starts at.
 */
export function enterCallback(env: CallbackEnv, state: VState, insn: InsnOf<'call'>, kind: CallbackKind, args: readonly RegState[], map: number | undefined): number {
  const fn = (args[1] as Ptr).region;
  const ctx = args[2]!;
  const scratch = kind === 'for_each' ? 1 : 0;
  if (framesInUse(state) + 1 + scratch > MAX_CALL_FRAMES) {
    refuse('E_VERIFY_CALL_DEPTH', `the callback would make ${framesInUse(state) + 1 + scratch} frames in use; at most ${MAX_CALL_FRAMES} are allowed`);
  }
  const ctxFrame = ctx.t === 'ptr' ? ctx.frame : -1;
  let ctxBefore: number[] = [];
  if (ctxFrame >= 0) {
    const stack = state.frames[ctxFrame]!.stack;
    ctxBefore = havocSlots(stack);
    setSlots(stack, ctxBefore);
  }
  const frame = newFrame(fn, insn.pc, state.frames.length);
  frame.callback = { ctxFrame, ctxBefore, refs: state.refs.length, scratch };
  callbackArgs(env, kind, ctx, map).forEach((v, i) => (frame.regs[i + 1] = v));
  state.frames.push(frame);
  return env.program.functions[fn]!.entry;
}

/** The callback's exit: r0 must be 0 or 1 (check_callback_ret); returns the pc after the helper call. */
export function leaveCallback(state: VState): number {
  const frame = topFrame(state);
  const cb = frame.callback!;
  const r0 = frame.regs[0]!;
  if (r0.t === 'ptr' || (r0.t === 'scalar' && r0.umax > 1n)) {
    refuse('E_VERIFY_CALLBACK', `the callback returns r0=${formatReg(r0)}; it must return 0 (go on) or 1 (stop)`, [0]);
  }
  if (state.refs.length > cb.refs) {
    refuse('E_VERIFY_REF_LEAK', `the ring buffer record reserved at pc ${state.refs[state.refs.length - 1]!.pc} is neither submitted nor discarded before the callback returns`);
  }
  const pc = leaveFunction(state);
  topFrame(state).regs[0] = SCALAR_UNKNOWN; // the helper's result: a count or an error
  if (cb.ctxFrame >= 0) {
    const stack = state.frames[cb.ctxFrame]!.stack;
    setSlots(stack, havocSlots(stack).map((t, i) => t & cb.ctxBefore[i]!));
  }
  return pc;
}
