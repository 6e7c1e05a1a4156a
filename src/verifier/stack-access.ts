/**
 * Loads, stores and helper buffers on the stack through a stack pointer: bounds ([-512, 0) of the
 * frame the pointer points into), initialization, spills. Every access also records how deep into
 * its frame the owning function reaches, for the combined stack-size rule checked after exploration.
 */
import type { AccessSize } from '../isa/insn.js';
import { accessSpan, accessText, spanText, type AccessMode, type Span } from './access-common.js';
import type { Ptr, RegState } from './reg-state.js';
import { refuse } from './refusal.js';
import { isConstScalar, constValue, loadedScalar, type Scalar } from './scalar.js';
import {
  STACK_BYTES, checkStackRange, checkStackString, fillStack, isFault, readStack, smearStack, writeStack,
  type FrameStack, type StackFault,
} from './stack.js';
import type { VState } from './state.js';

/** Deepest byte (below r10) each function's own frame is accessed at. */
export type DepthSink = (fn: number, depth: number) => void;

const fpText = (p: number): string => `fp${p - STACK_BYTES}`;

function frameOf(state: VState, p: Ptr): FrameStack {
  return state.frames[p.frame]!.stack;
}

/** Checks [lo, hi + len) stays in the frame; returns the span and records the depth. */
function stackSpan(state: VState, p: Ptr, reg: number, insnOff: number, len: number, mode: AccessMode, depth: DepthSink): Span {
  const span = accessSpan(p, insnOff, 'E_VERIFY_STACK_BOUNDS', accessText(mode, len), reg);
  if (span.lo < -STACK_BYTES || span.hi + len > 0) {
    refuse('E_VERIFY_STACK_BOUNDS',
      `${accessText(mode, len)} at ${spanText('fp', span)} is outside the stack frame [fp-${STACK_BYTES}, fp)`, [reg]);
  }
  depth(state.frames[p.frame]!.fn, -span.lo);
  return span;
}

function stackFault(f: StackFault, what: string, reg: number): never {
  switch (f.fault) {
    case 'uninit':
      return refuse('E_VERIFY_UNINIT_STACK', `${what}: stack byte ${fpText(f.byte)} is not initialized`, [reg]);
    case 'pointer_bytes':
      return refuse('E_VERIFY_STACK_ACCESS', `${what}: it would read part of a pointer spilled at ${fpText(f.byte & ~7)} (pointers are reloaded whole: 8 bytes at the offset they were stored)`, [reg]);
    case 'partial_pointer_store':
      return refuse('E_VERIFY_STACK_ACCESS', `${what}: a pointer can only be stored whole (8 bytes)`, [reg]);
    case 'misaligned_pointer_store':
      return refuse('E_VERIFY_STACK_ACCESS', `${what}: a pointer can only be spilled at an 8-byte aligned stack offset`, [reg]);
    case 'unterminated':
      return refuse('E_VERIFY_HELPER_ARG', `${what}: no NUL byte the verifier knows of ends the string at ${fpText(f.byte)}`, [reg]);
  }
}

export function stackLoad(state: VState, p: Ptr, reg: number, insnOff: number, size: AccessSize, signed: boolean, depth: DepthSink): RegState {
  const span = stackSpan(state, p, reg, insnOff, size, 'read', depth);
  const what = `${accessText('read', size)} at ${spanText('fp', span)}`;
  const stack = frameOf(state, p);
  if (span.lo === span.hi) {
    const r = readStack(stack, STACK_BYTES + span.lo, size, signed);
    if (isFault(r)) stackFault(r, what, reg);
    return r;
  }
  const fault = checkStackRange(stack, STACK_BYTES + span.lo, STACK_BYTES + span.hi + size, false);
  if (fault) stackFault(fault, what, reg);
  return loadedScalar(size, signed);
}

export function stackStore(
  state: VState, p: Ptr, reg: number, insnOff: number, size: AccessSize, value: Scalar | Ptr, depth: DepthSink,
): void {
  const span = stackSpan(state, p, reg, insnOff, size, 'write', depth);
  const what = `${accessText('write', size)} at ${spanText('fp', span)}`;
  const stack = frameOf(state, p);
  if (span.lo === span.hi) {
    const fault = writeStack(stack, STACK_BYTES + span.lo, size, value);
    if (fault) stackFault(fault, what, reg);
    return;
  }
  if (value.t === 'ptr') refuse('E_VERIFY_STACK_ACCESS', `${what}: a pointer cannot be spilled at a variable stack offset`, [reg]);
  const zero = isConstScalar(value) && constValue(value) === 0n;
  smearStack(stack, STACK_BYTES + span.lo, STACK_BYTES + span.hi + size, zero);
}

/** Read-modify-write of an initialized scalar on the stack; the value afterwards is unknown. */
export function stackAtomic(state: VState, p: Ptr, reg: number, insnOff: number, size: 4 | 8, depth: DepthSink): void {
  const span = stackSpan(state, p, reg, insnOff, size, 'atomic access', depth);
  if (span.lo !== span.hi) refuse('E_VERIFY_ATOMIC', `atomic access at ${spanText('fp', span)} needs a constant stack offset`, [reg]);
  // Frames are 8-aligned, so the offset alone decides the alignment atomics need.
  if (span.lo % size !== 0) refuse('E_VERIFY_ATOMIC', `${size}-byte atomic access at ${spanText('fp', span)} is not ${size}-byte aligned`, [reg]);
  const stack = frameOf(state, p);
  const what = `${accessText('atomic access', size)} at ${spanText('fp', span)}`;
  const before = readStack(stack, STACK_BYTES + span.lo, size, false);
  if (isFault(before)) stackFault(before, what, reg);
  if (before.t === 'ptr') refuse('E_VERIFY_ATOMIC', `${what}: the slot holds a spilled pointer`, [reg]);
  writeStack(stack, STACK_BYTES + span.lo, size, loadedScalar(size, false));
}

/**
 * A helper's buffer on the stack: `lenMin`..`lenMax` bytes at the pointer. Reads need every byte that
 * may be read initialized; writes initialize the bytes surely written.
 */
export function stackBuffer(
  state: VState, p: Ptr, reg: number, lenMin: number, lenMax: number, access: { read: boolean; write: boolean }, depth: DepthSink,
): void {
  const mode: AccessMode = access.write ? 'write' : 'read';
  const span = stackSpan(state, p, reg, 0, lenMax, mode, depth);
  const stack = frameOf(state, p);
  const what = `helper buffer of ${lenMax === lenMin ? lenMax : `${lenMin}..${lenMax}`} bytes at ${spanText('fp', span)}`;
  if (access.read) {
    const fault = checkStackRange(stack, STACK_BYTES + span.lo, STACK_BYTES + span.hi + lenMax, true);
    if (fault) stackFault(fault, what, reg);
  }
  if (!access.write) return;
  if (span.lo === span.hi) {
    fillStack(stack, STACK_BYTES + span.lo, STACK_BYTES + span.lo + lenMin);
    smearStack(stack, STACK_BYTES + span.lo + lenMin, STACK_BYTES + span.lo + lenMax, false);
  } else {
    smearStack(stack, STACK_BYTES + span.lo, STACK_BYTES + span.hi + lenMax, false);
  }
}

/** A NUL-terminated string on the stack: constant offset, terminator known. */
export function stackString(state: VState, p: Ptr, reg: number, depth: DepthSink): void {
  const span = stackSpan(state, p, reg, 0, 1, 'read', depth);
  if (span.lo !== span.hi) refuse('E_VERIFY_HELPER_ARG', `string at ${spanText('fp', span)} needs a constant stack offset`, [reg]);
  const fault = checkStackString(frameOf(state, p), STACK_BYTES + span.lo);
  if (fault) stackFault(fault, `string at ${spanText('fp', span)}`, reg);
}
