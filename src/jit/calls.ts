/**
 * Calls and exit. A local call is a wasm call of the callee's function with (r1..r5, r10 - 512); the
 * callee returns r0, and r6-r9 live in the caller's own locals, so they survive without saving (and
 * start at 0 in the callee, as executable.ts defines for checked mode).
 * Helper calls and callx go through one JS import (pc, id, r1..r5, r10) -> r0 that looks the id up at
 * call time. A helper flagged unwindOnZero that returns 0 sets the `unwinding` global; every frame then
 * returns 0 at once, so the run ends with r0 = 0 (and a batch moves on to its next event).
 * A static call of bpf_tail_call is inlined instead (tail-call.ts), and unwinds the same way when it succeeds.
 */
import { GLOBAL, HELPER_IMPORT } from './abi.js';
import { i32, i64, i64Const, type Expr } from '../wasm/builder.js';
import type { FnEmitter } from './emitter.js';
import { branchTarget, type InsnOf } from '../isa/insn.js';
import { FP } from '../isa/opcode.js';
import { staticHelper } from '../runtime/helpers.js';
import { isPoisonedCall } from '../program/core-poison.js';
import { directMapCall } from './map-calls.js';
import { emitTailCall } from './tail-call.js';
import { emitCallbackHelper } from './callbacks.js';
import { STACK_FRAME_BYTES } from '../runtime/memory.js';

const args = (e: FnEmitter): Expr[] => [1, 2, 3, 4, 5].map((r) => e.get(r));

/** Ends the whole run with r0 = 0 when a helper asked to unwind. */
export function unwindCheck(e: FnEmitter): Expr {
  const m = e.m;
  return m.if(m.global.get(GLOBAL.unwinding, i32), e.ret(i64Const(m, 0n)));
}

function helperCall(e: FnEmitter, pc: number, id: Expr): Expr[] {
  const m = e.m;
  e.mc.imports.add(HELPER_IMPORT);
  const call = m.call(HELPER_IMPORT, [m.i32.const(pc), id, ...args(e), e.get(FP)], i64);
  return [e.set(0, call), unwindCheck(e)];
}

function localCall(e: FnEmitter, insn: InsnOf<'call'>): Expr[] {
  const m = e.m;
  const callee = e.mc.program.functionOf[branchTarget(insn)!]!;
  const fp = (): Expr => e.get(FP);
  const stmts: Expr[] = [];
  if (e.mc.depthChecks) {
    // Frame d has r10 = top - 512 d; the callee's frame is allowed while its r10 >= stack start + 512.
    const minFp = m.i64.add(e.run('stackStart'), i64Const(m, BigInt(2 * STACK_FRAME_BYTES)));
    stmts.push(m.if(m.i64.lt_u(fp(), minFp), e.trap('E_RUN_CALL_DEPTH', insn.pc)));
  }
  const calleeFp = m.i64.sub(fp(), i64Const(m, BigInt(STACK_FRAME_BYTES)));
  stmts.push(...e.saveFuel());
  stmts.push(e.set(0, m.call(e.calleeName(callee), [...args(e), calleeFp], i64)));
  stmts.push(...e.reloadFuel());
  if (e.mc.facts.unwinds) stmts.push(unwindCheck(e));
  // Unverified code may read r1-r5 after the call: they read 0, as in the interpreter (executable.ts).
  if (!e.mc.verified) stmts.push(...[1, 2, 3, 4, 5].map((r) => e.set(r, i64Const(m, 0n))));
  return stmts;
}

export function emitCall(e: FnEmitter, insn: InsnOf<'call'>): Expr {
  const m = e.m;
  if (insn.mode === 'local') return m.block(null, localCall(e, insn));
  const spec = staticHelper(e.mc.helpers, insn, e.mc.program);
  if (isPoisonedCall(insn)) return e.trap('E_RUN_UNKNOWN_HELPER', insn.pc); // the message names the relocation (instance.ts)
  if (spec.tailCall) return m.block(null, emitTailCall(e, insn));
  if (spec.proto?.callback) return m.block(null, emitCallbackHelper(e, insn, spec.proto.callback));
  return m.block(null, directMapCall(e, insn, spec) ?? helperCall(e, insn.pc, m.i32.const(insn.imm)));
}

/**
 * callx: the helper id is the value of the register; anything above 2^31-1 cannot be registered.
 * Where the verifier proved which helper the register holds, the id is a constant.
 */
export function emitCallx(e: FnEmitter, insn: InsnOf<'callx'>): Expr {
  const m = e.m;
  const known = e.facts(insn.pc)?.callTarget;
  if (known !== undefined && known >= 0 && known <= 0x7fffffff) return m.block(null, helperCall(e, insn.pc, m.i32.const(known)));
  const id = (): Expr => e.get(insn.dst);
  const tooLarge = m.i64.gt_u(id(), i64Const(m, 0x7fffffffn));
  return m.block(null, [m.if(tooLarge, e.trap('E_RUN_UNKNOWN_HELPER', insn.pc)), ...helperCall(e, insn.pc, m.i32.wrap(id()))]);
}

export function emitExit(e: FnEmitter): Expr {
  const m = e.m;
  // The entry's fuel dies with the run; a callee hands what is left back to its caller.
  const save = e.isEntry ? [] : e.saveFuel();
  return m.block(null, [...save, e.ret(e.get(0))]);
}
