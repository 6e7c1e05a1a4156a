/**
 * The transfer function: what one instruction does to the abstract state, and where control goes
 * next. It mutates the current path's state; at a conditional jump with two live edges it hands back
 * a copy for the jump edge, which the exploration loop pushes.
 */
import { LddwSrc, branchTarget, calleeTarget, type Insn, type InsnOf } from '../isa/insn.js';
import { FP } from '../isa/opcode.js';
import type { Program } from '../program/program.js';
import { isPoisonedCall, poisonedCallRule } from '../program/core-poison.js';
import { BPF_MAP_TYPE } from '../maps/types.js';
import { MAX_CALL_FRAMES } from '../runtime/memory.js';
import { branchEdges } from './branch.js';
import type { FactsCollector } from './facts.js';
import { callHelper, type CallEnv } from './helper-call.js';
import { refuseLockedExit, refuseWhileLocked } from './spin-lock.js';
import { atomic, load, store, type AccessEnv } from './mem-access.js';
import { ptrAlu } from './ptr-alu.js';
import { formatReg, makePtr, type RegState } from './reg-state.js';
import { refuse } from './refusal.js';
import { scalarAlu, scalarEnd, viewOf } from './scalar-alu.js';
import { SCALAR_ZERO, constValue, isConstScalar, immScalar, loadedScalar, scalarConst, toS64, withLink, type Scalar } from './scalar.js';
import { copyState, framesInUse, newFrame, topFrame, type VState } from './state.js';
import { enterCallback, leaveCallback } from './callback.js';
import { checkLeaks, checkReturn, leaveFunction } from './exit.js';
import { ldAbsStep } from './ld-abs.js';

export interface StepEnv extends AccessEnv, CallEnv {
  readonly maps: CallEnv['maps'];
  readonly program: Program;
  readonly facts: FactsCollector;
}

export type StepOutcome =
  | { readonly kind: 'next'; readonly pc: number }
  /** Continue at `pc` with the current state; `taken` continues at `takenPc`. */
  | { readonly kind: 'fork'; readonly pc: number; readonly taken: VState; readonly takenPc: number }
  /** The path ended: the entry function returned, or no value satisfies the state (dead edge). */
  | { readonly kind: 'done' };

const next = (insn: Insn): StepOutcome => ({ kind: 'next', pc: insn.pc + (insn.kind === 'lddw' ? 2 : 1) });

function read(regs: readonly RegState[], r: number): Exclude<RegState, { t: 'uninit' }> {
  const v = regs[r]!;
  if (v.t === 'uninit') refuse('E_VERIFY_UNINIT_REGISTER', `r${r} is not initialized`, [r]);
  return v;
}

function write(regs: RegState[], r: number, v: RegState): void {
  if (r === FP) refuse('E_VERIFY_WRITE_R10', 'r10 is the read-only frame pointer', [FP]);
  regs[r] = v;
}

const isMov = (op: string): boolean => op === 'mov' || op.startsWith('movsx');

function noteAluFacts(env: StepEnv, insn: InsnOf<'alu'>, dst: Scalar, src: Scalar): void {
  const w = insn.width;
  if (insn.op === 'div' || insn.op === 'mod' || insn.op === 'sdiv' || insn.op === 'smod') {
    const d = viewOf(src, w);
    const a = viewOf(dst, w);
    const mayBeMinusOne = d.smin <= -1n && d.smax >= -1n;
    const intMin = w === 64 ? -(1n << 63n) : -(1n << 31n);
    env.facts.division(insn.pc, d.umin > 0n, !(mayBeMinusOne && a.smin === intMin));
  } else if (insn.operand === 'reg' && (insn.op === 'lsh' || insn.op === 'rsh' || insn.op === 'arsh')) {
    env.facts.shift(insn.pc, viewOf(src, w).umax < BigInt(w));
  }
}

function aluStep(env: StepEnv, state: VState, insn: InsnOf<'alu'>): void {
  const regs = topFrame(state).regs;
  const mov = isMov(insn.op);
  const src: RegState = insn.operand === 'reg' ? read(regs, insn.src) : immScalar(insn.imm);
  const dst: RegState = mov ? SCALAR_ZERO : read(regs, insn.dst);
  if (dst.t === 'ptr' || src.t === 'ptr') {
    const srcReg = insn.operand === 'reg' ? insn.src : undefined;
    write(regs, insn.dst, ptrAlu({ op: insn.op, width: insn.width, dst, src, dstReg: insn.dst, srcReg }, () => env.newId()));
    return;
  }
  if (dst.t !== 'scalar' || src.t !== 'scalar') return; // unreachable: read() refused uninit
  noteAluFacts(env, insn, dst, src);
  if (insn.op === 'mov' && insn.width === 64 && insn.operand === 'reg' && !isConstScalar(src)) {
    // Link the copy to the original, so a branch on either bounds both.
    const linked = src.id === 0 ? withLink(src, env.newId()) : src;
    regs[insn.src] = linked;
    write(regs, insn.dst, linked);
    return;
  }
  write(regs, insn.dst, keepLink(insn, dst, src, scalarAlu(insn.op, insn.width, dst, src)));
}

/** Largest constant distance kept between linked copies. */
const MAX_LINK_DELTA = 1 << 29;

/** A linked copy moved by a 64-bit constant stays linked, with the constant in its delta. */
function keepLink(insn: InsnOf<'alu'>, dst: Scalar, src: Scalar, result: Scalar): Scalar {
  if (dst.id === 0 || insn.width !== 64 || (insn.op !== 'add' && insn.op !== 'sub') || !isConstScalar(src)) return result;
  const c = Number(toS64(constValue(src)));
  const delta = dst.delta + (insn.op === 'add' ? c : -c);
  return Math.abs(delta) <= MAX_LINK_DELTA ? withLink(result, dst.id, delta) : result;
}

function endStep(state: VState, insn: InsnOf<'end'>): void {
  const regs = topFrame(state).regs;
  const v = read(regs, insn.dst);
  if (v.t !== 'scalar') refuse('E_VERIFY_PTR_ARITH', `byte swap of a pointer (r${insn.dst} = ${formatReg(v)}) is not allowed`, [insn.dst]);
  write(regs, insn.dst, scalarEnd(insn.order, insn.bits, v));
}

function lddwStep(env: StepEnv, state: VState, insn: InsnOf<'lddw'>): void {
  const regs = topFrame(state).regs;
  switch (insn.src) {
    case LddwSrc.IMM64: write(regs, insn.dst, scalarConst(insn.value)); return;
    case LddwSrc.MAP_BY_FD: case LddwSrc.MAP_BY_IDX: case LddwSrc.MAP_VALUE_BY_FD: case LddwSrc.MAP_VALUE_BY_IDX: {
      const index = insn.imm;
      const map = env.maps[index];
      if (!map) refuse('E_VERIFY_MAP', `map ${index} does not exist (the program was given ${env.maps.length} map${env.maps.length === 1 ? '' : 's'})`);
      if (insn.src === LddwSrc.MAP_BY_FD || insn.src === LddwSrc.MAP_BY_IDX) {
        write(regs, insn.dst, makePtr('map_handle', { region: index }));
        env.facts.constPointer(insn.pc, { kind: 'map_handle', map: index, off: 0 });
        return;
      }
      const off = insn.nextImm;
      if (off < 0 || off >= map.valueSize) refuse('E_VERIFY_MAP', `offset ${off} is outside map ${index}'s ${map.valueSize}-byte value`);
      // As the kernel's array_map_direct_value_addr: other maps have no one value to point at.
      if (map.type !== undefined && (map.type !== BPF_MAP_TYPE.ARRAY || map.maxEntries !== 1)) {
        refuse('E_VERIFY_MAP', `map ${index}${map.name ? ` ('${map.name}')` : ''} has no direct value address: only an array map of one entry has one`);
      }
      write(regs, insn.dst, makePtr('map_value', { region: index, size: map.valueSize, off }));
      env.facts.constPointer(insn.pc, { kind: 'map_value', map: index, off });
      return;
    }
    case LddwSrc.CODE_ADDR:
      // program.ts made the target a function entry (and refused recursion through it).
      write(regs, insn.dst, makePtr('func', { region: env.program.functionOf[calleeTarget(insn)!]! }));
      return;
    default:
      refuse('E_VERIFY_UNSUPPORTED', `lddw source ${insn.src} (variable addresses) is not supported`);
  }
}

function memStep(env: StepEnv, state: VState, insn: InsnOf<'ldx' | 'st' | 'stx' | 'atomic'>): void {
  const regs = topFrame(state).regs;
  switch (insn.kind) {
    case 'ldx': {
      const { value, ptr } = load(env, state, regs[insn.src]!, insn.src, insn.off, insn.size, insn.signed);
      env.facts.access(insn.pc, ptr.kind);
      write(regs, insn.dst, value);
      return;
    }
    case 'st': {
      const p = store(env, state, regs[insn.dst]!, insn.dst, insn.off, insn.size, immScalar(insn.imm), undefined);
      env.facts.access(insn.pc, p.kind);
      return;
    }
    case 'stx': {
      const value = read(regs, insn.src);
      env.facts.access(insn.pc, store(env, state, regs[insn.dst]!, insn.dst, insn.off, insn.size, value, insn.src).kind);
      return;
    }
    case 'atomic': {
      if (insn.op === 'cmpxchg' && read(regs, 0).t !== 'scalar') refuse('E_VERIFY_ATOMIC', `cmpxchg compares with r0, which must be a scalar, not ${formatReg(regs[0]!)}`, [0]);
      const p = atomic(env, state, regs[insn.dst]!, insn.dst, insn.off, insn.size, regs[insn.src]!, insn.src);
      env.facts.access(insn.pc, p.kind, true);
      const old = loadedScalar(insn.size, false);
      if (insn.op === 'cmpxchg') regs[0] = old;
      else if (insn.fetch) write(regs, insn.src, old);
    }
  }
}

function jumpStep(env: StepEnv, state: VState, insn: InsnOf<'jmp'>): StepOutcome {
  const regs = topFrame(state).regs;
  const a = regs[insn.dst]!;
  const b = insn.operand === 'reg' ? regs[insn.src]! : immScalar(insn.imm);
  const edges = branchEdges(state, insn);
  if (a.t === 'scalar' && b.t === 'scalar') env.facts.compare(insn.pc, a.umax <= 0xffffffffn && b.umax <= 0xffffffffn);
  const target = branchTarget(insn)!;
  if (edges.taken && edges.fallthrough) {
    const taken = copyState(state);
    edges.taken(taken);
    edges.fallthrough(state);
    return { kind: 'fork', pc: insn.pc + 1, taken, takenPc: target };
  }
  if (edges.taken) {
    edges.taken(state);
    return { kind: 'next', pc: target };
  }
  if (edges.fallthrough) {
    edges.fallthrough(state);
    return { kind: 'next', pc: insn.pc + 1 };
  }
  return { kind: 'done' };
}

function localCall(env: StepEnv, state: VState, insn: InsnOf<'call'>): StepOutcome {
  const target = branchTarget(insn)!;
  if (framesInUse(state) >= MAX_CALL_FRAMES) {
    refuse('E_VERIFY_CALL_DEPTH', `the call would make ${framesInUse(state) + 1} frames; at most ${MAX_CALL_FRAMES} are allowed`);
  }
  refuseWhileLocked(state, 'a function call');
  const caller = topFrame(state);
  const frame = newFrame(env.program.functionOf[target]!, insn.pc, state.frames.length);
  for (let r = 1; r <= 5; r++) frame.regs[r] = caller.regs[r]!;
  state.frames.push(frame);
  return { kind: 'next', pc: target };
}

function callxStep(env: StepEnv, state: VState, insn: InsnOf<'callx'>): void {
  const v = read(topFrame(state).regs, insn.dst);
  if (v.t !== 'scalar' || !isConstScalar(v)) {
    refuse('E_VERIFY_CALLX', `callx needs a helper id the verifier knows; r${insn.dst} is ${formatReg(v)}`, [insn.dst]);
  }
  const id = constValue(v);
  if (id > 0x7fffffffn) refuse('E_VERIFY_HELPER', `callx target ${id} is not a helper id`, [insn.dst]);
  const found = env.lookupHelper(Number(id));
  if (found.found && found.proto.callback) refuse('E_VERIFY_CALLX', `${found.label} takes a callback: call it with call ${id}, not callx`, [insn.dst]);
  env.facts.callTarget(insn.pc, Number(id));
  callHelper(env, state, Number(id), insn.pc);
}

/** A helper call; one that takes a callback goes on in the callback (callback.ts). */
function helperStep(env: StepEnv, state: VState, insn: InsnOf<'call'>): StepOutcome {
  if (isPoisonedCall(insn)) refuse('E_VERIFY_CORE', poisonedCallRule(env.program, insn.pc));
  const found = env.lookupHelper(insn.imm);
  const kind = found.found ? found.proto.callback : undefined;
  const args = topFrame(state).regs.slice(1, 5);
  const map = callHelper(env, state, insn.imm, insn.pc);
  if (map !== undefined) env.facts.callMap(insn.pc, map);
  if (kind === undefined) return next(insn);
  return { kind: 'next', pc: enterCallback(env, state, insn, kind, args, map) };
}

export function step(env: StepEnv, state: VState, insn: Insn): StepOutcome {
  switch (insn.kind) {
    case 'alu': aluStep(env, state, insn); return next(insn);
    case 'end': endStep(state, insn); return next(insn);
    case 'lddw': lddwStep(env, state, insn); return next(insn);
    case 'ldx': case 'st': case 'stx': case 'atomic': memStep(env, state, insn); return next(insn);
    case 'ja': return { kind: 'next', pc: branchTarget(insn)! };
    case 'jmp': return jumpStep(env, state, insn);
    case 'call':
      if (insn.mode === 'local') return localCall(env, state, insn);
      if (insn.mode === 'kfunc') refuse('E_VERIFY_UNSUPPORTED', 'kfunc calls are not supported');
      return helperStep(env, state, insn);
    case 'callx': callxStep(env, state, insn); return next(insn);
    case 'ldabs': ldAbsStep(env.ctx, state, insn); return next(insn);
    case 'exit':
      refuseLockedExit(state);
      if (topFrame(state).callback) return { kind: 'next', pc: leaveCallback(state) };
      if (state.frames.length > 1) return { kind: 'next', pc: leaveFunction(state) };
      checkLeaks(state);
      checkReturn(env.ctx, topFrame(state).regs[0]!);
      return { kind: 'done' };
  }
}

