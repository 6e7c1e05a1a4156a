/**
 * Structured control flow without the Relooper, for functions too big for it (binaryen's Relooper
 * recurses once per block and overflows the stack past a few thousand blocks).
 *
 * Blocks keep their pc order. Block i's code sits just after the end of a wasm `block $bi`, nested
 * inside `block $bi+1`, and so on:
 *
 *   loop $dispatch                      ;; only when some jump goes backwards
 *    block $bn-1 ... block $b1 block $b0 br_table (label) end code0 end code1 ... end codeN-1
 *
 * so a forward jump to block j is `br $bj` (it lands on code j), falling through to the next block
 * needs nothing, and a backward jump sets the label local and re-enters the dispatch `br_table`.
 * binaryen and V8 handle blocks nested in first position iteratively, so depth costs no stack.
 */
import { i32, type Expr } from './binaryen.js';
import type { FnEmitter } from './emitter.js';
import type { BasicBlock, BpfFunction } from '../program/program.js';

/** Where control goes at the end of a block: a conditional target, then the unconditional one. */
export interface BlockExit {
  readonly cond?: { readonly test: Expr; readonly target: number };
  /** Undefined after `exit`. */
  readonly next?: number;
}

const blockLabel = (pc: number): string => `b${pc}`;
const DISPATCH = 'dispatch';

export function layoutBody(e: FnEmitter, fn: BpfFunction, code: ReadonlyMap<number, Expr>, exits: ReadonlyMap<number, BlockExit>): Expr {
  const m = e.m;
  const order = new Map(fn.blocks.map((b, i) => [b.start, i]));
  const backTargets: number[] = [];
  const slot = new Map<number, number>([[fn.entry, 0]]);
  let dispatches = false; // also when the only backward target is the entry, whose slot is 0
  const dispatchTo = (pc: number): number => {
    dispatches = true;
    let k = slot.get(pc);
    if (k === undefined) {
      k = backTargets.length + 1;
      slot.set(pc, k);
      backTargets.push(pc);
    }
    return k;
  };
  const jump = (from: number, to: number): Expr[] => {
    const target = order.get(to)!;
    if (target === from + 1) return [];
    if (target > from) return [m.br(blockLabel(to))];
    return [m.local.set(e.labelLocal, m.i32.const(dispatchTo(to))), m.br(DISPATCH)];
  };
  const bodies = fn.blocks.map((block: BasicBlock, i) => {
    const exit = exits.get(block.start)!;
    const stmts = [code.get(block.start)!];
    if (exit.cond) {
      const target = order.get(exit.cond.target)!;
      stmts.push(target > i
        ? m.br(blockLabel(exit.cond.target), exit.cond.test)
        : m.if(exit.cond.test, m.block(null, jump(i, exit.cond.target))));
    }
    if (exit.next !== undefined) stmts.push(...jump(i, exit.next));
    return stmts;
  });
  const targets = [fn.entry, ...backTargets].map(blockLabel);
  let nest: Expr = dispatches ? m.switch(targets, blockLabel(fn.entry), m.local.get(e.labelLocal, i32)) : m.nop();
  fn.blocks.forEach((block, i) => {
    nest = m.block(null, [m.block(blockLabel(block.start), [nest]), ...bodies[i]!]);
  });
  return dispatches ? m.loop(DISPATCH, nest) : nest;
}
