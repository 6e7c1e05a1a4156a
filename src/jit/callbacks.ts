/**
 * bpf_loop and bpf_for_each_map_elem (src/helpers/callbacks.ts) in WebAssembly: a loop at the call
 * site calls the callback's function directly, as a local call from the helper's call site, and
 * for_each_map_elem steps through the map with the map operations' foreach_find / foreach_elem
 * (src/maps/ops-foreach.ts). No JavaScript runs in the loop. The checks, their order, the frames and
 * the budget follow the interpreter's src/interp/callbacks.ts, which executable.ts states as rules.
 */
import { FP } from '../isa/opcode.js';
import type { InsnOf } from '../isa/insn.js';
import { CALLBACK_EINVAL, FOR_EACH_TYPES, LOOP_E2BIG, MAX_LOOPS } from '../helpers/callbacks.js';
import { callbackEntries } from '../program/program.js';
import type { CallbackKind } from '../runtime/helper-proto.js';
import { STACK_FRAME_BYTES } from '../runtime/memory.js';
import { i64, i64Const, type Expr } from '../wasm/builder.js';
import { unwindCheck } from './calls.js';
import type { FnEmitter } from './emitter.js';
import { cpuOf, importOp } from './map-calls.js';

/** A new i64 local, and reading and writing it. */
function local(e: FnEmitter): { get: () => Expr; set: (v: Expr) => Expr } {
  const index = e.temp(i64);
  return { get: () => e.m.local.get(index, i64), set: (v) => e.m.local.set(index, v) };
}

/** `cond` stops the run with `code` at the call, unless the verifier proved it cannot hold. */
function check(e: FnEmitter, cond: () => Expr, code: 'E_RUN_CALLBACK' | 'E_RUN_MEMORY' | 'E_RUN_CALL_DEPTH', pc: number, needed: boolean): Expr[] {
  return needed ? [e.m.if(cond(), e.trap(code, pc))] : [];
}

const anyOf = (e: FnEmitter, value: Expr, options: readonly number[]): Expr =>
  options.map((o) => e.m.i64.eq(value, i64Const(e.m, BigInt(o)))).reduce((a, b) => e.m.i32.or(a, b), e.m.i32.const(0));

/**
 * r0 of the callback the code address `fn` names, called with `args` and r10 = `fp` (each arm gets
 * expressions of its own: thunks, not shared nodes).
 */
function dispatch(e: FnEmitter, fn: () => Expr, args: () => Expr[], fp: () => Expr): Expr {
  const m = e.m;
  const entries = callbackEntries(e.mc.program);
  let call: Expr = m.unreachable(); // the address was checked before the loop
  for (const entry of entries.reverse()) {
    const here = m.call(e.calleeName(e.mc.program.functionOf[entry]!), [...args(), fp()], i64);
    call = entries.length === 1 ? here : m.if(m.i64.eq(fn(), i64Const(m, BigInt(entry))), here, call);
  }
  return call;
}

interface Loop {
  /** Statements before the first iteration; one that finds an error result leaves for `done`. */
  readonly setup: Expr[];
  /** Whether there is an iteration to run. */
  readonly more: Expr;
  /** Before the call: moves to the element the callback gets. */
  readonly before: Expr[];
  readonly args: () => Expr[];
  /** Right after the call, whatever it returned. */
  readonly counted: Expr[];
  /** After a call that asked to go on. */
  readonly after: Expr[];
  readonly result: Expr;
  /** Frames above the caller's the callback runs in: 1, or 2 with for_each_map_elem's key frame. */
  readonly frames: number;
}

function loopParts(e: FnEmitter, done: string): Loop {
  const m = e.m;
  const n = local(e), i = local(e);
  return {
    setup: [
      m.br(done, m.i64.ne(e.get(4), i64Const(m, 0n))),
      n.set(m.i64.and(e.get(1), i64Const(m, 0xffffffffn))),
      m.if(m.i64.gt_u(n.get(), i64Const(m, BigInt(MAX_LOOPS))), m.block(null, [e.set(0, i64Const(m, LOOP_E2BIG)), m.br(done)])),
      i.set(i64Const(m, 0n)),
    ],
    more: m.i64.lt_u(i.get(), n.get()),
    before: [],
    args: () => [i.get(), e.get(3), i64Const(m, 0n), i64Const(m, 0n), i64Const(m, 0n)],
    // A callback that stops at index i makes the count i + 1.
    counted: [i.set(m.i64.add(i.get(), i64Const(m, 1n)))],
    after: [],
    result: i.get(),
    frames: 1,
  };
}

function forEachParts(e: FnEmitter, insn: InsnOf<'call'>, done: string): Loop {
  const m = e.m;
  const maps = e.mc.maps.filter((map) => FOR_EACH_TYPES.includes(map.typeId)).map((map) => map.address);
  const map = local(e), pos = local(e), count = local(e), value = local(e);
  // The key's frame: the callback's r10 is the key's address.
  const key = (): Expr => m.i64.sub(e.get(FP), i64Const(m, BigInt(2 * STACK_FRAME_BYTES)));
  const find = importOp(e, { name: 'foreach_find', cpu: false }, 2);
  return {
    setup: [
      ...check(e, () => m.i32.eqz(anyOf(e, e.get(1), maps)), 'E_RUN_MEMORY', insn.pc, !e.mc.verified),
      m.br(done, m.i64.ne(e.get(4), i64Const(m, 0n))),
      ...depthCheck(e, insn, 1),
      map.set(e.get(1)), count.set(i64Const(m, 0n)),
      pos.set(m.call(find, [map.get(), i64Const(m, 0n)], i64)),
    ],
    more: m.i64.ge_s(pos.get(), i64Const(m, 0n)),
    before: [
      value.set(m.call(importOp(e, { name: 'foreach_elem', cpu: true }, 4), [map.get(), pos.get(), cpuOf(e), key()], i64)),
      count.set(m.i64.add(count.get(), i64Const(m, 1n))),
    ],
    args: () => [map.get(), key(), value.get(), e.get(3), i64Const(m, 0n)],
    counted: [],
    after: [pos.set(m.call(find, [map.get(), m.i64.add(pos.get(), i64Const(m, 1n))], i64))],
    result: count.get(),
    frames: 2,
  };
}

/** Checked code: a frame `frames` above this one must fit on the stack, as a local call's (calls.ts). */
function depthCheck(e: FnEmitter, insn: InsnOf<'call'>, frames: number): Expr[] {
  const m = e.m;
  const min = (): Expr => m.i64.add(e.run('stackStart'), i64Const(m, BigInt((frames + 1) * STACK_FRAME_BYTES)));
  return check(e, () => m.i64.lt_u(e.get(FP), min()), 'E_RUN_CALL_DEPTH', insn.pc, e.mc.depthChecks);
}

/** The helper call: r0 = its result; r1-r5 keep their values, as after any helper. */
export function emitCallbackHelper(e: FnEmitter, insn: InsnOf<'call'>, kind: CallbackKind): Expr[] {
  const m = e.m;
  const label = `callback${e.temp(i64)}`;
  const done = `${label}_done`, finished = `${label}_finished`, next = `${label}_next`;
  const parts = kind === 'loop' ? loopParts(e, done) : forEachParts(e, insn, done);
  const r0 = local(e);
  const fp = (): Expr => m.i64.sub(e.get(FP), i64Const(m, BigInt(parts.frames * STACK_FRAME_BYTES)));
  const iteration = m.loop(next, m.block(null, [
    m.br(finished, m.i32.eqz(parts.more)),
    ...parts.before,
    ...depthCheck(e, insn, parts.frames),
    r0.set(dispatch(e, () => e.get(2), parts.args, fp)),
    unwindCheck(e),
    ...parts.counted,
    m.br(finished, m.i64.ne(r0.get(), i64Const(m, 0n))),
    ...parts.after,
    m.br(next),
  ]));
  return [
    // The callee reads the fuel from its global; this function's copy is stale until reloaded.
    ...e.saveFuel(),
    ...check(e, () => m.i32.eqz(anyOf(e, e.get(2), callbackEntries(e.mc.program))), 'E_RUN_CALLBACK', insn.pc, e.mc.verified === undefined),
    e.set(0, i64Const(m, CALLBACK_EINVAL)),
    m.block(done, [...parts.setup, m.block(finished, [iteration]), e.set(0, parts.result)]),
    ...e.reloadFuel(),
  ];
}
