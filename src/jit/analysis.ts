/**
 * Whole-program facts that let the JIT leave out runtime checks which can never fire: the most
 * instructions any run can execute (finite only without loops) and the deepest call chain.
 */
import { calleeTarget, type Insn } from '../isa/insn.js';
import { MAX_CALL_FRAMES } from '../runtime/memory.js';
import type { BasicBlock, BpfFunction, Program } from '../program/program.js';
import { blocksByStart } from '../program/cfg.js';

export interface ProgramFacts {
  /** Most frames alive at once (the entry counts as one). */
  /** Access sizes of memory instructions, for the per-size context limits. */
  readonly accessSizes: ReadonlySet<number>;
  /** The program calls helpers (call N or callx). */
  readonly callsHelpers: boolean;
  /** A run can end in the middle of a function: a helper call, or a legacy packet load out of range. */
  readonly unwinds: boolean;
}

/** Functions a block calls, callbacks whose code address it loads included (with `callback` set). */
const callees = (block: BasicBlock, program: Program): Array<{ fn: number; callback: boolean }> =>
  block.insns.flatMap((i) => {
    const target = calleeTarget(i);
    return target === undefined ? [] : [{ fn: program.functionOf[target]!, callback: i.kind === 'lddw' }];
  });

/** Blocks reachable from the entry in DFS post-order (successors first), or undefined on a cycle. */
export function postOrder(fn: BpfFunction): BasicBlock[] | undefined {
  const byStart = blocksByStart(fn);
  const state = new Map<number, 1 | 2>([[fn.entry, 1]]); // 1 on the DFS path, 2 finished
  const order: BasicBlock[] = [];
  const stack: Array<{ block: BasicBlock; next: number }> = [{ block: byStart.get(fn.entry)!, next: 0 }];
  while (stack.length > 0) {
    const top = stack[stack.length - 1]!;
    const succ = top.block.succs[top.next++];
    if (succ === undefined) {
      state.set(top.block.start, 2);
      order.push(top.block);
      stack.pop();
    } else if (state.get(succ) === 1) {
      return undefined;
    } else if (state.get(succ) === undefined) {
      state.set(succ, 1);
      stack.push({ block: byStart.get(succ)!, next: 0 });
    }
  }
  return order;
}

/** Longest charged path through the entry function, callees included; Infinity if a loop is reachable. */
export function maxCost(program: Program): number {
  const costs: Array<number | undefined> = new Array(program.functions.length).fill(undefined);
  const fnCost = (index: number): number => {
    const known = costs[index];
    if (known !== undefined) return known;
    const order = postOrder(program.functions[index]!);
    if (!order) return (costs[index] = Infinity);
    const blockCost = new Map<number, number>();
    for (const block of order) {
      let cost = block.insns.length;
      // A callback may run up to 2^23 times per helper call: no useful bound.
      for (const callee of callees(block, program)) cost += callee.callback ? Infinity : fnCost(callee.fn);
      cost += Math.max(0, ...block.succs.map((s) => blockCost.get(s)!));
      blockCost.set(block.start, cost);
    }
    return (costs[index] = blockCost.get(program.functions[index]!.entry)!);
  };
  return fnCost(0);
}

function maxFrames(program: Program): number {
  const memo = new Map<number, number>();
  const frames = (index: number): number => {
    const known = memo.get(index);
    if (known !== undefined) return known;
    const fn = program.functions[index]!;
    let deepest = 0;
    for (const block of fn.blocks) {
      // for_each_map_elem runs its callback two frames up (the key's frame, then the callback's).
      for (const callee of callees(block, program)) deepest = Math.max(deepest, frames(callee.fn) + (callee.callback ? 1 : 0));
    }
    memo.set(index, deepest + 1);
    return deepest + 1;
  };
  return frames(0);
}

const isMemory = (insn: Insn): boolean =>
  insn.kind === 'ldx' || insn.kind === 'st' || insn.kind === 'stx' || insn.kind === 'atomic';

export function analyzeProgram(program: Program): ProgramFacts {
  const accessSizes = new Set<number>();
  let callsHelpers = false;
  let unwinds = false;
  for (const insn of program.insns) {
    if (isMemory(insn)) accessSizes.add((insn as Extract<Insn, { size: number }>).size);
    if (insn.kind === 'callx' || (insn.kind === 'call' && insn.mode === 'helper')) callsHelpers = true;
    if (insn.kind === 'ldabs') {
      // It reads the __sk_buff's u32 data and data_end, then the packet bytes: checked accesses.
      accessSizes.add(4).add(insn.size);
      unwinds = true;
    }
  }
  return { accessSizes, callsHelpers, unwinds: unwinds || callsHelpers };
}

/** True when no run can need more frames than allowed, so local calls need no depth check. */
export const callDepthIsStatic = (program: Program): boolean => maxFrames(program) <= MAX_CALL_FRAMES;
