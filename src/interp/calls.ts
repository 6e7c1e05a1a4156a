/**
 * Helper calls, callx and local calls (bpf-to-bpf). Helpers take and return BigInt, so these stay
 * off the per-instruction path: r0 = helper(r1..r5), r1-r5 keep their values.
 */
import { BpfError, BpfRuntimeError } from '../errors.js';
import { HelperFault, type HelperSpec } from '../runtime/helpers.js';
import { MAX_CALL_FRAMES, STACK_FRAME_BYTES } from '../runtime/memory.js';
import { fromU64, toU64 } from './arith.js';
import { FP_SLOT } from './image.js';
import { FRAME_INTS, type Machine } from './machine.js';

/** r6..r10 are the slots [12, 22): the callee-saved registers and the frame pointer. */
const SAVED_FROM = 12;
const SAVED_SLOTS = 10;
/** r1..r5 are the slots [2, 12). */
const ARGS_FROM = 2;

const describe = (e: unknown): string => (e instanceof Error ? e.message : String(e));

/** Calls a helper; returns true when the run must stop at once (an `unwindOnZero` helper returned 0, or a tail call). */
export function callHelper(m: Machine, spec: HelperSpec, pc: number): boolean {
  const R = m.R;
  let result: unknown;
  m.inHelper = true;
  try {
    result = spec.impl(toU64(R, 2), toU64(R, 4), toU64(R, 6), toU64(R, 8), toU64(R, 10), m.env());
  } catch (e) {
    if (e instanceof HelperFault) throw new BpfRuntimeError('E_RUN_MEMORY', pc, `helper ${spec.name}: ${e.message}`);
    if (e instanceof BpfError) throw e;
    throw new BpfRuntimeError('E_RUN_HELPER', pc, `helper ${spec.name} failed: ${describe(e)}`);
  } finally {
    m.inHelper = false;
  }
  if (typeof result !== 'bigint') {
    throw new BpfRuntimeError('E_RUN_HELPER', pc, `helper ${spec.name} returned ${typeof result}, not a bigint`);
  }
  const value = BigInt.asUintN(64, result);
  fromU64(R, 0, value);
  return (spec.unwindOnZero === true && value === 0n) || m.tail.target !== 0;
}

/** callx: the helper id is in the register at slot `d`. */
export function callIndirect(m: Machine, d: number, pc: number): boolean {
  const lo = m.R[d]!, hi = m.R[d + 1]!;
  const spec = hi === 0 && lo >= 0 ? m.rt.helpers.get(lo) : undefined;
  if (!spec) {
    throw new BpfRuntimeError('E_RUN_UNKNOWN_HELPER', pc, `callx: no helper with id ${toU64(m.R, d)} is registered`);
  }
  return callHelper(m, spec, pc);
}

/**
 * Pushes a frame for a local call that will return to code index `ret`. The callee starts with r0 and
 * r6-r9 at 0 (executable.ts: what an uninitialized register reads in checked mode).
 */
export function enterLocal(m: Machine, ret: number, pc: number): void {
  if (m.depth >= MAX_CALL_FRAMES - 1) {
    throw new BpfRuntimeError('E_RUN_CALL_DEPTH', pc, `more than ${MAX_CALL_FRAMES} nested call frames`);
  }
  const R = m.R, F = m.frames;
  const base = m.depth * FRAME_INTS;
  F[base] = ret;
  for (let k = 0; k < SAVED_SLOTS; k++) F[base + 1 + k] = R[SAVED_FROM + k]!;
  R.fill(0, SAVED_FROM, FP_SLOT);
  R[0] = R[1] = 0;
  m.depth++;
  R[FP_SLOT] = R[FP_SLOT]! - STACK_FRAME_BYTES;
  m.frameChanged();
}

/** Pops the frame of a returning local call (the caller's r1-r5 read 0 after it); returns the code index to continue at. */
export function leaveLocal(m: Machine): number {
  const R = m.R, F = m.frames;
  m.depth--;
  const base = m.depth * FRAME_INTS;
  for (let k = 0; k < SAVED_SLOTS; k++) R[SAVED_FROM + k] = F[base + 1 + k]!;
  R.fill(0, ARGS_FROM, SAVED_FROM);
  m.frameChanged();
  return F[base]!;
}
