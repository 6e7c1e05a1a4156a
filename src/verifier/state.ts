/**
 * The verifier's state on one path: a stack of call frames, each with registers r0-r10 and its own
 * 512-byte stack. The current path mutates its state in place; a fork copies it (registers and slots
 * are immutable values, so a copy is a few array slices).
 */
import { FP } from '../isa/opcode.js';
import { UNINIT, makePtr, type Ptr, type RegState } from './reg-state.js';
import type { Scalar } from './scalar.js';
import { emptyStack, type FrameStack } from './stack.js';
import type { HeldLock } from './spin-lock.js';

export interface Frame {
  /** Index of the function (Program.functions) this frame runs. */
  readonly fn: number;
  /** pc of the local call that made this frame; -1 for the entry frame. */
  readonly callsite: number;
  readonly regs: RegState[];
  readonly stack: FrameStack;
  /** Set on the frame of a bpf_loop / for_each_map_elem callback (callback.ts). */
  callback?: CallbackFrame;
}

/** What a callback's exit must check and undo (callback.ts). */
export interface CallbackFrame {
  /** The frame the callback's context points into, -1 for none: its bytes may change at each call. */
  readonly ctxFrame: number;
  /** That frame's bytes as the callback found them, all unknown (stack.ts havocSlots); empty for none. */
  readonly ctxBefore: readonly number[];
  /** References held when the callback started: it must not leave more. */
  readonly refs: number;
  /** Frames the runtime takes beyond the callback's own (for_each_map_elem's key frame). */
  readonly scratch: number;
}

/** A reference the program holds and must release on every path: a reserved ring buffer record. */
export interface Ref {
  readonly id: number;
  /** Where it was acquired (the bpf_ringbuf_reserve call), for the message when a path leaks it. */
  readonly pc: number;
}

export interface VState {
  readonly frames: Frame[];
  /** Acquired references, oldest first (the kernel's acquired_refs). */
  refs: Ref[];
  /** The bpf_spin_lock this path holds (spin-lock.ts); absent when none. */
  lock?: HeldLock;
}

export function newFrame(fn: number, callsite: number, depth: number): Frame {
  const regs: RegState[] = new Array<RegState>(11).fill(UNINIT);
  regs[FP] = makePtr('stack', { frame: depth });
  return { fn, callsite, regs, stack: emptyStack() };
}

function copyFrame(f: Frame): Frame {
  const copy: Frame = { fn: f.fn, callsite: f.callsite, regs: f.regs.slice(), stack: f.stack.slice() };
  if (f.callback) copy.callback = f.callback;
  return copy;
}

/** A copy to mutate on its own (a fork, a checkpoint); optional fields appear only when set, as before. */
export function copyState(s: VState): VState {
  const copy: VState = { frames: s.frames.map(copyFrame), refs: s.refs.slice() };
  if (s.lock) copy.lock = s.lock;
  return copy;
}

export const topFrame = (s: VState): Frame => s.frames[s.frames.length - 1]!;

/** Frames the runtime has in use: one per frame, plus the extra frames callbacks take. */
export const framesInUse = (s: VState): number => s.frames.reduce((n, f) => n + 1 + (f.callback?.scratch ?? 0), 0);

/**
 * Rewrites every register and spilled register in every frame: `fn` returns the replacement, or the
 * same object to keep it. Used where one fact covers several copies of a value (a null check, a
 * packet bounds check, a branch on a scalar that was copied).
 */
export function mapValues(s: VState, fn: (r: Scalar | Ptr) => Scalar | Ptr): void {
  for (const frame of s.frames) {
    const { regs, stack } = frame;
    for (let r = 0; r < regs.length; r++) {
      const reg = regs[r]!;
      if (reg.t === 'uninit') continue;
      const next = fn(reg);
      if (next !== reg) regs[r] = next;
    }
    for (let i = 0; i < stack.length; i++) {
      const slot = stack[i];
      if (slot?.kind !== 'spill') continue;
      const next = fn(slot.reg);
      if (next !== slot.reg) stack[i] = { kind: 'spill', reg: next };
    }
  }
}

/** Drops reference `id` from the state (the record was released, or is null). */
export function dropRef(s: VState, id: number): void {
  s.refs = s.refs.filter((r) => r.id !== id);
}

/** Releases reference `id`: it is dropped and every copy of the record pointer becomes a released one. */
export function releaseRef(s: VState, id: number): void {
  dropRef(s, id);
  mapValues(s, (v) => (v.t === 'ptr' && v.ref === id ? makePtr('released_mem', { ref: id }) : v));
}
