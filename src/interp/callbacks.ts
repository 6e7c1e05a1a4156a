/**
 * bpf_loop and bpf_for_each_map_elem (src/helpers/callbacks.ts) in the interpreter: the callback runs
 * as a local call from the helper's call site, once per iteration, in a nested dispatch loop that
 * returns at the callback's exit. Budget, call depth and unwinding work as for any local call, so
 * the JIT's loop in WebAssembly (src/jit/callbacks.ts) stops where this one does.
 */
import { BpfRuntimeError } from '../errors.js';
import { CALLBACK_EINVAL, FOR_EACH_TYPES, loopRefusal } from '../helpers/callbacks.js';
import { mapOperations } from '../maps/ops.js';
import type { BpfMap } from '../maps/map.js';
import type { CallbackKind } from '../runtime/helper-proto.js';
import { STACK_FRAME_BYTES } from '../runtime/memory.js';
import { fromU64, toU64 } from './arith.js';
import { enterLocal, leaveLocal } from './calls.js';
import { FP_SLOT, costAt, type CodeImage } from './image.js';
import { execute } from './loop.js';
import { budgetExceeded, type Machine } from './machine.js';

/** r1-r5 as the slots [2, 12). */
const ARGS_FROM = 2;
const ARGS_END = 12;

/** The callback's context argument: the caller's r3 as (lo, hi), and the register it goes in. */
interface Ctx {
  readonly value: Int32Array;
  readonly reg: number;
}

/**
 * Calls the callback at code index `entry` with r1-r5 = args, each a u32 (an index or an address),
 * and the context in its register: no BigInt per call. True when it returned non-zero (stop).
 */
function callOnce(m: Machine, img: CodeImage, entry: number, args: readonly number[], ctx: Ctx, pc: number): boolean {
  enterLocal(m, -1, pc);
  const R = m.R;
  for (let k = 0; k < 5; k++) {
    R[ARGS_FROM + 2 * k] = args[k]!;
    R[ARGS_FROM + 2 * k + 1] = 0;
  }
  R[2 * ctx.reg] = ctx.value[0]!;
  R[2 * ctx.reg + 1] = ctx.value[1]!;
  m.left -= costAt(img, entry);
  if (m.left < 0) throw budgetExceeded(img.pc[entry]!);
  execute(m, img, entry, m.depth);
  if (m.unwinding) return true;
  const stop = m.R[0] !== 0 || m.R[1] !== 0;
  leaveLocal(m);
  return stop;
}

function callbackEntry(m: Machine, img: CodeImage, fn: bigint, pc: number): number {
  const entry = fn <= 0x7fffffffn ? img.callbacks.get(Number(fn)) : undefined;
  if (entry === undefined) throw new BpfRuntimeError('E_RUN_CALLBACK', pc, `r2 (0x${fn.toString(16)}) is not the code address of one of the program's callbacks`);
  return entry;
}

function forEachMap(m: Machine, r1: bigint, pc: number): BpfMap {
  const map = r1 <= 0xffffffffn ? m.maps.get(Number(r1)) : undefined;
  if (!map || !FOR_EACH_TYPES.includes(map.typeId)) {
    throw new BpfRuntimeError('E_RUN_MEMORY', pc, `for_each_map_elem: r1 (0x${r1.toString(16)}) is not one of the program's array or hash maps`);
  }
  return map;
}

function runLoop(m: Machine, img: CodeImage, entry: number, a: readonly bigint[], ctx: Int32Array, pc: number): bigint {
  const refused = loopRefusal(a[0]!, a[3]!);
  if (refused !== undefined) return refused;
  const n = Number(BigInt.asUintN(32, a[0]!));
  const args = [0, 0, 0, 0, 0];
  const arg: Ctx = { value: ctx, reg: 2 };
  for (let i = 0; i < n; i++) {
    args[0] = i;
    if (callOnce(m, img, entry, args, arg, pc)) return m.unwinding ? 0n : BigInt(i + 1);
  }
  return BigInt(n);
}

/** Each element in the map's order (ops-foreach.ts), its key copied into a frame of its own above the callback's. */
function runForEach(m: Machine, img: CodeImage, entry: number, a: readonly bigint[], ctx: Int32Array, pc: number): bigint {
  const map = forEachMap(m, a[0]!, pc);
  if (a[3] !== 0n) return CALLBACK_EINVAL;
  const ops = mapOperations(m.rt.mem);
  const address = BigInt(map.address);
  enterLocal(m, -1, pc);
  const key = (m.R[FP_SLOT]! >>> 0) - STACK_FRAME_BYTES;
  const args = [map.address, key, 0, 0, 0];
  const arg: Ctx = { value: ctx, reg: 4 };
  let n = 0n;
  for (let pos = ops.foreach_find(address, 0n); pos >= 0n; pos = ops.foreach_find(address, pos + 1n)) {
    args[2] = Number(ops.foreach_elem(address, pos, BigInt(m.cpu), BigInt(key)));
    n++;
    if (callOnce(m, img, entry, args, arg, pc)) break;
  }
  if (m.unwinding) return 0n;
  leaveLocal(m);
  return n;
}

/**
 * Runs a callback helper's call: r0 = its result, r1-r5 keep their values (as after any helper).
 * Returns true when a helper inside asked to unwind the whole run.
 */
export function runCallbackHelper(m: Machine, img: CodeImage, kind: CallbackKind, pc: number): boolean {
  const R = m.R;
  const args = [2, 4, 6, 8, 10].map((at) => toU64(R, at));
  const saved = R.slice(ARGS_FROM, ARGS_END);
  const ctx = R.slice(6, 8); // r3
  const entry = callbackEntry(m, img, args[1]!, pc);
  const result = kind === 'loop' ? runLoop(m, img, entry, args, ctx, pc) : runForEach(m, img, entry, args, ctx, pc);
  if (m.unwinding) return true;
  R.set(saved, ARGS_FROM);
  fromU64(R, 0, result);
  return false;
}
