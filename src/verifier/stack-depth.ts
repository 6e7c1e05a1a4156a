/**
 * The kernel's combined stack rule: along any chain of local calls, the stack the frames actually use
 * must add up to at most 512 bytes. Each function's use is the deepest byte below its r10 that any
 * path touched (recorded while exploring), rounded up to 16 bytes as the kernel does for JIT-compiled
 * programs. Checked on the static call graph once exploration is done.
 */
import { calleeTarget } from '../isa/insn.js';
import type { Program } from '../program/program.js';
import { STACK_FRAME_BYTES } from '../runtime/memory.js';

export interface StackChainProblem {
  /** The local call whose callee pushes the chain over the limit. */
  readonly pc: number;
  readonly total: number;
  readonly chain: readonly number[];
}

export const roundDepth = (bytes: number): number => Math.ceil(bytes / 16) * 16;

interface CallSite {
  readonly pc: number;
  readonly callee: number;
}

function callSites(program: Program): CallSite[][] {
  const sites: CallSite[][] = program.functions.map(() => []);
  for (const insn of program.insns) {
    // A code address counts as a call: the callback runs on top of the frame that passes it.
    const callee = calleeTarget(insn);
    if (callee === undefined) continue;
    sites[program.functionOf[insn.pc]!]!.push({ pc: insn.pc, callee: program.functionOf[callee]! });
  }
  return sites;
}

interface Deepest {
  readonly total: number;
  /** Call pcs along the deepest chain below the function. */
  readonly chain: readonly CallSite[];
}

/** Largest combined depth over all call chains, and where the deepest chain goes over the limit. */
export function checkStackChains(program: Program, depth: ArrayLike<number>, reached: Uint8Array): { max: number; problem?: StackChainProblem } {
  const calls = callSites(program);
  const memo = new Map<number, Deepest>();
  // The call graph is acyclic (buildProgram refuses recursion), so the memoized walk terminates.
  const deepest = (fn: number): Deepest => {
    const known = memo.get(fn);
    if (known) return known;
    const own = roundDepth(depth[fn]!);
    let best: Deepest = { total: own, chain: [] };
    for (const site of calls[fn]!) {
      if (!reached[site.pc]) continue;
      const below = deepest(site.callee);
      if (own + below.total > best.total) best = { total: own + below.total, chain: [site, ...below.chain] };
    }
    memo.set(fn, best);
    return best;
  };
  const top = deepest(0);
  if (top.total <= STACK_FRAME_BYTES) return { max: top.total };
  let sum = roundDepth(depth[0]!);
  for (const site of top.chain) {
    sum += roundDepth(depth[site.callee]!);
    if (sum > STACK_FRAME_BYTES) {
      return { max: top.total, problem: { pc: site.pc, total: top.total, chain: top.chain.map((c) => c.pc) } };
    }
  }
  return { max: top.total };
}
