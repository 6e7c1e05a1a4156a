/**
 * Budget gates: where a function charged per block (checked mode, a program with loops) can skip
 * the per-block test and still stop exactly where the interpreter does.
 *
 * The rule both engines follow: each block charges its instruction count when it starts, and the run
 * stops at the first block the fuel left cannot pay for. A test and branch per block is what made
 * checked loops slow (bench/README.md, "Design measurements"). So the JIT compiles such a function twice: the exact copy, which tests in every block, and a fast
 * copy, which only subtracts. The fast copy tests only at gates, blocks that every cycle and every
 * return from a call must pass: the entry, the loop headers (program/cfg.ts: removing the edges into
 * them leaves no cycle) and the blocks after one containing a call (the
 * callee spends fuel of its own). A gate knows the most any path from it can charge before the next
 * gate or an exit; with at least that much fuel left, no block before the next gate can run out, so
 * the fast copy goes on. Otherwise it continues in the exact copy, which then tests every block until
 * the run ends or stops, as the interpreter would.
 */
import { depthFirst, successorIndexes } from '../program/cfg.js';
import type { BasicBlock, BpfFunction } from '../program/program.js';

const hasCall = (block: BasicBlock): boolean => block.insns.some((i) => i.kind === 'call' || i.kind === 'callx');

export interface BudgetPlan {
  /** Each gate's block start, with the fuel the fast copy needs there. */
  readonly gates: ReadonlyMap<number, number>;
  /** What the fast copy charges at the start of each block (blocks not listed charge nothing). */
  readonly charges: ReadonlyMap<number, number>;
}

/** The function's blocks between gates: edges into a gate end a path, so the rest is acyclic. */
interface Regions {
  readonly blocks: readonly BasicBlock[];
  readonly gates: ReadonlySet<number>;
  /** Successors that are not gates, by block index. */
  readonly succs: ReadonlyArray<readonly number[]>;
  /** Block indexes in an order where every edge left goes forward. */
  readonly order: readonly number[];
}

function regions(fn: BpfFunction): Regions {
  const blocks = fn.blocks;
  const { headers, order } = depthFirst(fn);
  const gates = new Set<number>([fn.entry, ...headers]);
  for (const block of blocks) if (hasCall(block)) for (const succ of block.succs) gates.add(succ);
  const succs = successorIndexes(fn).map((list) => list.filter((s) => !gates.has(blocks[s]!.start)));
  return { blocks, gates, succs, order };
}

/**
 * The gates of `fn`, each with the fuel the fast copy needs there (the largest instruction count of a
 * path from the gate's block, itself included, up to the next gate or an exit), and what each block
 * of the fast copy charges (`exitObserved`: whether anyone reads the fuel after the function's exit).
 */
export function budgetPlan(fn: BpfFunction, exitObserved: boolean): BudgetPlan {
  const r = regions(fn);
  const reach = new Array<number>(r.blocks.length);
  for (const i of [...r.order].reverse()) reach[i] = r.blocks[i]!.insns.length + Math.max(0, ...r.succs[i]!.map((s) => reach[s]!));
  const gates = new Map<number, number>();
  r.blocks.forEach((block, i) => {
    if (r.gates.has(block.start)) gates.set(block.start, reach[i]!);
  });
  return { gates, charges: charges(r, exitObserved) };
}

/**
 * The fast copy's fuel is read only at gates, by a callee, and by the caller after a subprogram's
 * `exit`; the entry function's fuel dies at its `exit`. So only the sum a path charges on its way to
 * one of those points must be exact, not where along the path it is charged. Two blocks that every
 * such path either passes both or neither (the first dominates the second, the second post-dominates
 * the first) can charge together, in the first: a loop body of n blocks on one line then subtracts
 * once instead of n times, which shortens the chain of subtractions each iteration waits on. A block
 * from which the only way on is the entry's `exit` charges nothing.
 */
function charges(r: Regions, exitObserved: boolean): Map<number, number> {
  const { blocks, succs, order } = r;
  const observed = blocks.map((block) => {
    const last = block.insns[block.insns.length - 1]!;
    return block.succs.some((s) => r.gates.has(s)) || hasCall(block) || (exitObserved && last.kind === 'exit');
  });
  // Post-dominators over the paths that reach an observation point (undefined: no path does).
  const post: Array<Set<number> | undefined> = new Array(blocks.length);
  for (const i of [...order].reverse()) {
    const onward = succs[i]!.map((s) => post[s]).filter((p): p is Set<number> => p !== undefined);
    if (observed[i]) post[i] = new Set([i]);
    else if (onward.length > 0) post[i] = new Set([i, ...[...onward[0]!].filter((b) => onward.every((p) => p.has(b)))]);
  }
  const preds = blocks.map((): number[] => []);
  succs.forEach((list, i) => list.forEach((s) => preds[s]!.push(i)));
  // Dominators as lists from the outermost in; a block's own list extends its immediate dominator's.
  const dom: number[][] = new Array(blocks.length);
  const out = new Map<number, number>();
  for (const i of order) {
    const from = preds[i]!.map((p) => dom[p]!);
    const shared = r.gates.has(blocks[i]!.start) || from.length === 0 ? [] : from[0]!.filter((b) => from.every((d) => d.includes(b)));
    dom[i] = [...shared, i];
    if (post[i] === undefined) continue;
    const into = blocks[dom[i]!.find((d) => post[d]?.has(i))!]!.start;
    out.set(into, (out.get(into) ?? 0) + blocks[i]!.insns.length);
  }
  return out;
}
