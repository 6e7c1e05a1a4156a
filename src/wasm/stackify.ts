/**
 * Structured control flow from a control-flow graph, in place of binaryen's Relooper. The code
 * generator adds blocks of code and the branches between them (conditional ones tested in order, a
 * default, or a br_table over an index), then asks for one structured expression.
 *
 * Reducible graphs are translated the way Ramsey describes ("Beyond Relooper", ICFP 2022): walking
 * the dominator tree, a block that is the target of a back edge becomes a `loop`, a block reached by
 * more than one forward edge (a merge) is placed after its immediate dominator's code, at the end of a
 * wasm `block` that branches to it leave, and a block reached by one forward edge is placed inline
 * where that edge is taken. Every branch then is a `br` to an enclosing label or falls into inlined
 * code, and no block is duplicated.
 *
 * An irreducible graph (a loop entered in two places), or one too large to translate recursively,
 * gets the flat layout instead: blocks in order, each after the end of a wasm `block` that forward
 * branches leave, and a dispatch loop with a br_table over a label local for backward branches.
 */
import { InternalError } from '../errors.js';
import type { Expr } from './expr.js';
import { i32, type WasmModule } from './builder.js';

interface Branch {
  readonly to: number;
  readonly cond?: Expr | undefined;
  /** For a switch block: the index values that take this branch (empty: the default). */
  readonly slots?: readonly number[];
}

interface Node {
  readonly code: Expr;
  readonly index?: Expr | undefined;
  readonly branches: Branch[];
}

/** Past this many blocks the flat layout is used: the recursive translation nests one call per inlined block. */
export const STRUCTURED_MAX_BLOCKS = 2000;

export class Stackifier {
  private readonly nodes: Node[] = [];

  constructor(private readonly m: WasmModule) {}

  get size(): number {
    return this.nodes.length;
  }

  addBlock(code: Expr): number {
    return this.nodes.push({ code, branches: [] }) - 1;
  }

  /** A block that ends in a br_table over `index`; its branches come from addBranchForSwitch. */
  addBlockWithSwitch(code: Expr, index: Expr): number {
    return this.nodes.push({ code, index, branches: [] }) - 1;
  }

  /**
   * A branch from `from` to `to`, taken when `cond` holds (tested in the order branches were added),
   * or by default without a condition. `code` runs on the way when the branch is taken.
   */
  addBranch(from: number, to: number, cond?: Expr, code?: Expr): void {
    this.node(from).branches.push({ to: this.via(to, code), cond });
  }

  /** A switch block's branch for the given index values (none: the default branch). */
  addBranchForSwitch(from: number, to: number, slots: readonly number[], code?: Expr): void {
    this.node(from).branches.push({ to: this.via(to, code), slots });
  }

  /**
   * The structured code of the graph from `entry`; `labelLocal` is an i32 local the flat layout may
   * use (`flat` forces it, for tests and measurements).
   */
  render(entry: number, labelLocal: number, options: { readonly flat?: boolean } = {}): Expr {
    const graph = analyze(this.nodes, entry);
    this.layout = !options.flat && graph.reducible && graph.order.length <= STRUCTURED_MAX_BLOCKS ? 'structured' : 'flat';
    if (this.layout === 'structured') return new Structured(this.m, this.nodes, graph).render(entry);
    return flatLayout(this.m, this.nodes, graph.order, labelLocal);
  }

  /** Which translation the last render used. */
  layout: 'structured' | 'flat' | undefined;

  /**
   * The flat layout of the graph, entered at any of `entries`: the label local chooses, entry k at
   * value k. For cold code entered from elsewhere (the exact copy of a function charged per block).
   */
  renderDispatch(entries: readonly number[], labelLocal: number): Expr {
    const seen = new Set<number>();
    for (const entry of entries) for (const v of reversePostorder(this.nodes, entry)) seen.add(v);
    this.layout = 'flat';
    return flatLayout(this.m, this.nodes, [...seen], labelLocal, entries);
  }

  private node(i: number): Node {
    const node = this.nodes[i];
    if (!node) throw new InternalError(`stackifier: no block ${i}`);
    return node;
  }

  /** Code on an edge becomes a block of its own on the way. */
  private via(to: number, code: Expr | undefined): number {
    if (!code) return to;
    const step = this.addBlock(code);
    this.addBranch(step, to);
    return step;
  }
}

interface Graph {
  /** Reachable blocks in reverse postorder from the entry. */
  readonly order: readonly number[];
  /** Position of each block in `order` (-1: unreachable). */
  readonly rank: Int32Array;
  readonly idom: Int32Array;
  /** Forward edges into each block (a merge has two or more). */
  readonly forwardIn: Int32Array;
  readonly loopHeader: Uint8Array;
  readonly reducible: boolean;
}

const targets = (node: Node): number[] => node.branches.map((b) => b.to);

function reversePostorder(nodes: readonly Node[], entry: number): number[] {
  const seen = new Uint8Array(nodes.length);
  const post: number[] = [];
  const stack: Array<[number, number]> = [[entry, 0]];
  seen[entry] = 1;
  while (stack.length > 0) {
    const top = stack[stack.length - 1]!;
    const out = targets(nodes[top[0]]!);
    if (top[1] === out.length) {
      post.push(top[0]);
      stack.pop();
      continue;
    }
    const to = out[top[1]++]!;
    if (!seen[to]) {
      seen[to] = 1;
      stack.push([to, 0]);
    }
  }
  return post.reverse();
}

/** Immediate dominators (Cooper, Harvey and Kennedy's iteration over reverse postorder). */
function dominators(nodes: readonly Node[], order: readonly number[], rank: Int32Array): Int32Array {
  const preds: number[][] = nodes.map(() => []);
  for (const v of order) for (const to of targets(nodes[v]!)) preds[to]!.push(v);
  const idom = new Int32Array(nodes.length).fill(-1);
  idom[order[0]!] = order[0]!;
  const meet = (a: number, b: number): number => {
    while (a !== b) {
      while (rank[a]! > rank[b]!) a = idom[a]!;
      while (rank[b]! > rank[a]!) b = idom[b]!;
    }
    return a;
  };
  for (let changed = true; changed;) {
    changed = false;
    for (const v of order.slice(1)) {
      let d = -1;
      for (const p of preds[v]!) if (idom[p] !== -1) d = d === -1 ? p : meet(p, d);
      if (d !== idom[v]) {
        idom[v] = d;
        changed = true;
      }
    }
  }
  return idom;
}

function dominates(idom: Int32Array, a: number, b: number): boolean {
  for (let v = b; ; v = idom[v]!) {
    if (v === a) return true;
    if (idom[v] === v) return false;
  }
}

function analyze(nodes: readonly Node[], entry: number): Graph {
  const order = reversePostorder(nodes, entry);
  const rank = new Int32Array(nodes.length).fill(-1);
  order.forEach((v, k) => { rank[v] = k; });
  const idom = dominators(nodes, order, rank);
  const forwardIn = new Int32Array(nodes.length);
  const loopHeader = new Uint8Array(nodes.length);
  let reducible = true;
  for (const v of order) {
    for (const to of targets(nodes[v]!)) {
      if (rank[to]! > rank[v]!) forwardIn[to]!++;
      else {
        loopHeader[to] = 1;
        if (!dominates(idom, to, v)) reducible = false;
      }
    }
  }
  return { order, rank, idom, forwardIn, loopHeader, reducible };
}

/**
 * Where control goes at the end of a block, given how to reach a target: `label` when a `br` to an
 * enclosing label gets there, `branch` for the code that does (a `br`, or the target's code inline).
 */
function exitCode(m: WasmModule, node: Node, name: string, label: (to: number) => string | undefined, branch: (to: number) => Expr[]): Expr[] {
  if (node.branches.length === 0) return [m.unreachable()];
  if (node.index) return switchCode(m, node, name, label, branch);
  const out: Expr[] = [];
  let fallback: number | undefined;
  for (const b of node.branches) {
    if (!b.cond) {
      fallback = b.to;
      break;
    }
    const direct = label(b.to);
    out.push(direct ? m.br(direct, b.cond) : m.if(b.cond, m.block(null, branch(b.to))));
  }
  if (fallback === undefined) throw new InternalError('stackifier: a block has conditional branches and no default');
  out.push(...branch(fallback));
  return out;
}

/**
 * A br_table: index values go straight to targets with a label; the others leave nested blocks, after
 * each of which their branch code follows (the innermost block's end leads to the first target's code).
 */
function switchCode(m: WasmModule, node: Node, name: string, label: (to: number) => string | undefined, branch: (to: number) => Expr[]): Expr[] {
  const slotCount = Math.max(0, ...node.branches.flatMap((b) => b.slots ?? []).map((s) => s + 1));
  const labels = new Array<string>(slotCount);
  const fallbackBranch = node.branches.find((b) => (b.slots ?? []).length === 0);
  if (!fallbackBranch) throw new InternalError('stackifier: a switch has no default branch');
  const wrapped: number[] = [];
  const labelFor = (to: number): string => {
    const direct = label(to);
    if (direct) return direct;
    let k = wrapped.indexOf(to);
    if (k < 0) k = wrapped.push(to) - 1;
    return `${name}_${k}`;
  };
  for (const b of node.branches) for (const s of b.slots ?? []) labels[s] = labelFor(b.to);
  const fallback = labelFor(fallbackBranch.to);
  for (let s = 0; s < slotCount; s++) labels[s] ??= fallback;
  let nest: Expr = m.switch(labels, fallback, node.index!);
  wrapped.forEach((to, k) => {
    nest = m.block(null, [m.block(`${name}_${k}`, [nest]), ...branch(to)]);
  });
  return [nest];
}

/** The translation of a reducible graph (see the module comment). */
class Structured {
  constructor(private readonly m: WasmModule, private readonly nodes: readonly Node[], private readonly g: Graph) {}

  render(entry: number): Expr {
    return this.m.block(null, this.tree(entry));
  }

  private readonly loopLabel = (v: number): string => `L${v}`;
  private readonly mergeLabel = (v: number): string => `M${v}`;

  private isMerge(v: number): boolean {
    return this.g.forwardIn[v]! >= 2;
  }

  /** The code of `x` and of every block it immediately dominates. */
  private tree(x: number): Expr[] {
    const inner = this.within(x, this.mergesDominatedBy(x));
    return this.g.loopHeader[x] ? [this.m.loop(this.loopLabel(x), this.m.block(null, inner))] : inner;
  }

  private mergeIndex: Map<number, number[]> | undefined;

  /**
   * The merges `x` immediately dominates, in reverse postorder. (The other blocks it immediately
   * dominates have one forward edge in, from `x` itself, and are placed inline where it is taken.)
   */
  private mergesDominatedBy(x: number): number[] {
    if (!this.mergeIndex) {
      this.mergeIndex = new Map();
      for (const v of this.g.order) {
        if (!this.isMerge(v) || this.g.idom[v] === v) continue;
        const d = this.g.idom[v]!;
        const list = this.mergeIndex.get(d) ?? [];
        list.push(v);
        this.mergeIndex.set(d, list);
      }
    }
    return this.mergeIndex.get(x) ?? [];
  }

  /** x's code, with the merge children after it, each at the end of a block (innermost first). */
  private within(x: number, merges: readonly number[]): Expr[] {
    if (merges.length === 0) {
      const node = this.nodes[x]!;
      return [node.code, ...exitCode(this.m, node, `S${x}`, (to) => this.label(x, to), (to) => this.branch(x, to))];
    }
    const last = merges[merges.length - 1]!;
    return [this.m.block(this.mergeLabel(last), this.within(x, merges.slice(0, -1))), ...this.tree(last)];
  }

  private label(from: number, to: number): string | undefined {
    if (this.g.rank[to]! <= this.g.rank[from]!) return this.loopLabel(to);
    return this.isMerge(to) ? this.mergeLabel(to) : undefined;
  }

  private branch(from: number, to: number): Expr[] {
    const direct = this.label(from, to);
    return direct ? [this.m.br(direct)] : this.tree(to);
  }
}

/**
 * Blocks in order (the entry first); block k's code follows the end of a wasm block labelled `b{k}`
 * nested inside `b{k+1}`, so a forward branch is one `br`, falling through to the next block needs
 * nothing, and a backward branch sets the label local and re-enters a dispatching br_table.
 */
function flatLayout(m: WasmModule, nodes: readonly Node[], reachable: readonly number[], labelLocal: number, entries?: readonly number[]): Expr {
  const order = entries ? [...reachable].sort((a, b) => a - b) : [reachable[0]!, ...reachable.slice(1).sort((a, b) => a - b)];
  const position = new Map(order.map((v, k) => [v, k]));
  const starts = entries ?? [order[0]!];
  const backTargets: number[] = starts.slice(1);
  const slot = new Map<number, number>(starts.map((v, k) => [v, k]));
  let dispatches = entries !== undefined;
  const blockLabel = (v: number): string => `b${v}`;
  const dispatchTo = (to: number): number => {
    dispatches = true;
    let k = slot.get(to);
    if (k === undefined) {
      k = backTargets.push(to);
      slot.set(to, k);
    }
    return k;
  };
  const bodies = order.map((v, k) => {
    const forward = (to: number): boolean => position.get(to)! > k;
    const label = (to: number): string | undefined => (forward(to) ? blockLabel(to) : undefined);
    const branch = (to: number): Expr[] => {
      if (position.get(to) === k + 1) return [];
      if (forward(to)) return [m.br(blockLabel(to))];
      return [m.local.set(labelLocal, m.i32.const(dispatchTo(to))), m.br('dispatch')];
    };
    const node = nodes[v]!;
    return [node.code, ...exitCode(m, node, `S${v}`, label, branch)];
  });
  const labels = [starts[0]!, ...backTargets].map(blockLabel);
  // The label local starts at 0, the entry's slot (or at the slot of the entry chosen): the
  // dispatch's first round enters it.
  let nest: Expr = dispatches ? m.switch(labels, blockLabel(starts[0]!), m.local.get(labelLocal, i32)) : m.nop();
  order.forEach((v, k) => {
    nest = m.block(null, [m.block(blockLabel(v), [nest]), ...bodies[k]!]);
  });
  return dispatches ? m.loop('dispatch', nest) : nest;
}
