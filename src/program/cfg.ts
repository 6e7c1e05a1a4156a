/**
 * The control-flow toolkit every analysis shares: blocks by index, a depth-first walk that finds the
 * loop headers, and one worklist solver for dataflow problems over a function's blocks. The verifier
 * (register use, liveness, its loop messages) and the JIT (liveness, pointer facts, budget gates) are
 * written against these instead of walking the graph each its own way.
 */
import type { BasicBlock, BpfFunction } from './program.js';

const successorCache = new WeakMap<BpfFunction, readonly (readonly number[])[]>();

/**
 * Each block's successors as block indexes (fn.blocks order). Computed once per function (the verifier
 * and the JIT each ask several times) and shared, so callers must not change the arrays.
 */
export function successorIndexes(fn: BpfFunction): readonly (readonly number[])[] {
  let succs = successorCache.get(fn);
  if (!succs) {
    const at = new Int32Array(fn.end - fn.entry);
    fn.blocks.forEach((block, i) => { at[block.start - fn.entry] = i; });
    succs = fn.blocks.map((block) => block.succs.map((s) => at[s - fn.entry]!));
    successorCache.set(fn, succs);
  }
  return succs;
}

const blockMapCache = new WeakMap<BpfFunction, ReadonlyMap<number, BasicBlock>>();

/** The function's blocks by start pc, made once per function and shared like successorIndexes. */
export function blocksByStart(fn: BpfFunction): ReadonlyMap<number, BasicBlock> {
  let blocks = blockMapCache.get(fn);
  if (!blocks) {
    const map = new Map<number, BasicBlock>();
    for (const block of fn.blocks) map.set(block.start, block);
    blocks = map;
    blockMapCache.set(fn, blocks);
  }
  return blocks;
}

export interface DepthFirst {
  /**
   * Loop headers: the targets of the walk's back edges (edges to a block still on the walk's stack).
   * Removing the edges into them leaves no cycle, whatever the shape of the graph.
   */
  readonly headers: ReadonlySet<number>;
  /** Block indexes in reverse postorder: every edge that is not a back edge goes forward. */
  readonly order: readonly number[];
}

/** A depth-first walk from the entry, then from every block it did not reach (dead code). */
export function depthFirst(fn: BpfFunction): DepthFirst {
  const succs = successorIndexes(fn);
  const state = new Uint8Array(fn.blocks.length); // 0 new, 1 on the stack, 2 done
  const headers = new Set<number>();
  const postorder: number[] = [];
  // The walk's stack: block indexes, and for each the next of its successors to follow.
  const blocks: number[] = [];
  const nexts: number[] = [];
  const visit = (root: number): void => {
    blocks.push(root);
    nexts.push(0);
    state[root] = 1;
    while (blocks.length > 0) {
      const top = blocks.length - 1;
      const at = blocks[top]!;
      const next = nexts[top]!;
      const out = succs[at]!;
      if (next === out.length) {
        blocks.pop();
        nexts.pop();
        state[at] = 2;
        postorder.push(at);
        continue;
      }
      nexts[top] = next + 1;
      const to = out[next]!;
      if (state[to] === 1) headers.add(fn.blocks[to]!.start);
      else if (state[to] === 0) {
        state[to] = 1;
        blocks.push(to);
        nexts.push(0);
      }
    }
  };
  for (let i = 0; i < fn.blocks.length; i++) if (state[i] === 0) visit(i);
  return { headers, order: postorder.reverse() };
}

/**
 * A dataflow problem over one function's blocks. Forward problems flow from the entry along edges,
 * backward ones from the exits against them; `meet` joins the states of two paths and `transfer`
 * carries a state across a block (forward: from its start to its end; backward: from its end to its
 * start). States are compared with `equals` to find the fixed point, so `meet` must only ever move
 * down a finite lattice.
 */
export interface Dataflow<S> {
  readonly direction: 'forward' | 'backward';
  /** The state at the entry's start (forward) or after an exit (backward). */
  readonly boundary: S;
  meet(a: S, b: S): S;
  equals(a: S, b: S): boolean;
  transfer(block: BasicBlock, state: S): S;
}

/**
 * The fixed point: the state at the start of each block, by block index (forward: what flows in;
 * backward: what flows out of it towards its predecessors). Undefined for blocks a forward problem
 * never reaches from the entry.
 */
export function solveDataflow<S>(fn: BpfFunction, flow: Dataflow<S>): Array<S | undefined> {
  const succs = successorIndexes(fn);
  const starts = new Array<S | undefined>(fn.blocks.length);
  const forward = flow.direction === 'forward';
  const preds = forward ? [] : predecessors(succs);
  const work: number[] = forward ? [0] : fn.blocks.map((_, i) => i);
  const queued = new Uint8Array(fn.blocks.length).fill(forward ? 0 : 1);
  if (forward) starts[0] = flow.boundary;
  queued[0] = 1;
  while (work.length > 0) {
    const i = work.pop()!;
    queued[i] = 0;
    if (forward) {
      const out = flow.transfer(fn.blocks[i]!, starts[i]!);
      for (const s of succs[i]!) update(s, out);
    } else {
      const start = flow.transfer(fn.blocks[i]!, endState(succs[i]!, starts, flow));
      if (starts[i] !== undefined && flow.equals(starts[i]!, start)) continue;
      starts[i] = start;
      for (const p of preds[i]!) enqueue(p);
    }
  }
  return starts;

  function update(i: number, state: S): void {
    const old = starts[i];
    const merged = old === undefined ? state : flow.meet(old, state);
    if (old !== undefined && flow.equals(old, merged)) return;
    starts[i] = merged;
    enqueue(i);
  }
  function enqueue(i: number): void {
    if (queued[i]) return;
    queued[i] = 1;
    work.push(i);
  }
}

/** A backward problem's state at a block's end: the meet of its successors' starts (the boundary at an exit). */
export function endState<S>(succs: readonly number[], starts: ReadonlyArray<S | undefined>, flow: Dataflow<S>): S {
  let state: S | undefined;
  for (const s of succs) {
    const next = starts[s];
    if (next !== undefined) state = state === undefined ? next : flow.meet(state, next);
  }
  return state ?? flow.boundary;
}

const predecessorCache = new WeakMap<readonly (readonly number[])[], readonly (readonly number[])[]>();

/** Each block's predecessors, from the (memoized, so never changing) successor lists: made once per function too. */
function predecessors(succs: readonly (readonly number[])[]): readonly (readonly number[])[] {
  let preds = predecessorCache.get(succs);
  if (preds) return preds;
  const lists: number[][] = [];
  for (let i = 0; i < succs.length; i++) lists.push([]);
  for (let i = 0; i < succs.length; i++) for (const s of succs[i]!) lists[s]!.push(i);
  preds = lists;
  predecessorCache.set(succs, preds);
  return preds;
}
