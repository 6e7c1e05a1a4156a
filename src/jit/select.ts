/**
 * If-conversion: a short branch that only computes registers becomes code that always runs, with
 * each register it writes chosen by a `select` on the branch's condition. clang writes the halving
 * search of an integer log2 (and many small max/min/flag computations) as `if (c) goto +1; r0 |= 16`,
 * and a mispredicted branch there costs far more than computing both sides; binaryen's optimizer
 * makes these selects from its own input, and the code generator makes them itself so the baseline
 * tier has them too.
 *
 * The arm must be a block entered only from the branch, going on only to the branch's other target,
 * of a few instructions that cannot fault or take long (no memory, calls, division or modulo), and
 * the function must not be charged a budget per block (the arm's block would no longer be entered).
 */
import { i32, i64, type Expr } from '../wasm/builder.js';
import { jumpCondition } from './branch.js';
import type { FnEmitter } from './emitter.js';
import { branchTarget, LddwSrc, type Insn } from '../isa/insn.js';
import type { BasicBlock, BpfFunction } from '../program/program.js';
import { blocksByStart } from '../program/cfg.js';

/** Instructions an arm may have, not counting a final `ja` to the join. */
const MAX_ARM = 4;

const SLOW_ALU = new Set(['div', 'mod', 'sdiv', 'smod']);

function speculable(insn: Insn): boolean {
  switch (insn.kind) {
    case 'alu': return !SLOW_ALU.has(insn.op);
    case 'end': return true;
    case 'lddw': return insn.src === LddwSrc.IMM64;
    default: return false;
  }
}

export interface SelectArm {
  /** The block whose conditional jump is replaced (its start). */
  readonly from: number;
  readonly jump: Extract<Insn, { kind: 'jmp' }>;
  readonly arm: BasicBlock;
  /** Where both ways meet: the block's successor from now on. */
  readonly join: number;
  /** Whether the arm runs when the jump's condition holds (it is the jump's target). */
  readonly armWhenTaken: boolean;
}

/** The arms of `fn` to turn into selects, by the start of the block that branches around them. */
export function findSelectArms(fn: BpfFunction, skip: (start: number) => boolean): Map<number, SelectArm> {
  // Edges into each block, by its start pc less the function's entry.
  const preds = new Uint32Array(fn.end - fn.entry);
  for (const b of fn.blocks) for (const s of b.succs) preds[s - fn.entry]!++;
  const byStart = blocksByStart(fn);
  const arms = new Map<number, SelectArm>();
  for (const block of fn.blocks) {
    const last = block.insns[block.insns.length - 1]!;
    if (last.kind !== 'jmp' || block.succs.length !== 2 || skip(block.start)) continue;
    const target = branchTarget(last)!;
    const found = selectArm(block.end, target, false) ?? selectArm(target, block.end, true);
    if (found) arms.set(block.start, { from: block.start, jump: last, ...found });
  }
  return arms;

  /** The arm at armStart when it is one to speculate, rejoining at `join`. */
  function selectArm(armStart: number, join: number, armWhenTaken: boolean): Pick<SelectArm, 'arm' | 'join' | 'armWhenTaken'> | undefined {
    const arm = byStart.get(armStart);
    if (!arm || preds[armStart - fn.entry] !== 1 || arm.succs.length !== 1 || arm.succs[0] !== join || skip(armStart)) return undefined;
    const body = arm.insns[arm.insns.length - 1]!.kind === 'ja' ? arm.insns.slice(0, -1) : arm.insns;
    if (body.length === 0 || body.length > MAX_ARM || !body.every(speculable)) return undefined;
    return { arm, join, armWhenTaken };
  }
}

/** What ends the branching block instead of its jump: the arm computed aside, then one select per register. */
export function selectCode(e: FnEmitter, s: SelectArm, emit: (insn: Insn) => Expr | undefined): Expr[] {
  const m = e.m;
  const cond = e.temp(i32);
  const stmts: Expr[] = [m.local.set(cond, jumpCondition(e, s.jump))];
  const { code, writes } = e.speculate(() => s.arm.insns.flatMap((insn) => {
    const c = emit(insn);
    return c === undefined ? [] : [c];
  }));
  stmts.push(...code);
  for (const [reg, local] of writes) {
    const computed = m.local.get(local, i64);
    const kept = e.get(reg);
    const taken = m.local.get(cond, i32);
    stmts.push(e.set(reg, s.armWhenTaken ? m.select(taken, computed, kept) : m.select(taken, kept, computed)));
  }
  return stmts;
}
