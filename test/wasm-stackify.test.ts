// The stackifier (src/wasm/stackify.ts) against a direct walk of the same graph: random graphs,
// reducible and not, with conditional branches, switches and code on edges, compiled to WebAssembly
// and run; both must visit the same blocks in the same order, deciding branches from one sequence.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { WasmModule, i32, i64, tupleType } from '../src/wasm/builder.js';
import { encodeModule } from '../src/wasm/encode.js';
import { Stackifier } from '../src/wasm/stackify.js';

interface Edge { readonly to: number; readonly withCode: boolean }
interface GNode {
  /** 'branches': conditional edges tested in order, then the last as default; 'switch': index picks one. */
  readonly kind: 'exit' | 'branches' | 'switch';
  readonly edges: readonly Edge[];
}

const STEP_LIMIT = 200;

/** Decisions from a fixed sequence, consumed in the order they are asked for. */
class Decisions {
  private at = 0;
  constructor(private readonly bits: readonly number[]) {}
  next(range: number): number {
    const v = this.bits[this.at++ % this.bits.length]!;
    return v % range;
  }
}

class StepLimit extends Error {}

/** The reference: walk the graph, recording each block and each edge with code. */
function walk(graph: readonly GNode[], bits: readonly number[]): number[] {
  const trace: number[] = [];
  const d = new Decisions(bits);
  let at = 0;
  for (;;) {
    trace.push(at);
    if (trace.length > STEP_LIMIT) return trace;
    const node = graph[at]!;
    let edge: Edge;
    if (node.kind === 'exit') return trace;
    if (node.kind === 'switch') edge = node.edges[d.next(node.edges.length + 1)] ?? node.edges[node.edges.length - 1]!;
    else {
      const taken = node.edges.slice(0, -1).find(() => d.next(2) === 1);
      edge = taken ?? node.edges[node.edges.length - 1]!;
    }
    if (edge.withCode) {
      trace.push(1000 + at);
      if (trace.length > STEP_LIMIT) return trace;
    }
    at = edge.to;
  }
}

/** The same graph through the stackifier, as one wasm function that calls `visit` and `decide`. */
let structured = 0;

function compile(graph: readonly GNode[], flat: boolean): (bits: readonly number[]) => number[] {
  const m = new WasmModule();
  m.addFunctionImport('visit', 'env', 'visit', tupleType([i32]), 'none');
  m.addFunctionImport('decide', 'env', 'decide', tupleType([i32]), i32);
  const visit = (id: number) => m.call('visit', [m.i32.const(id)], 'none');
  const decide = (range: number) => m.call('decide', [m.i32.const(range)], i32);
  const s = new Stackifier(m);
  const ids = graph.map((node, i) => {
    const code = node.kind === 'exit' ? m.block(null, [visit(i), m.return(m.i64.const(BigInt(i)))]) : visit(i);
    return node.kind === 'switch' ? s.addBlockWithSwitch(code, decide(node.edges.length + 1)) : s.addBlock(code);
  });
  graph.forEach((node, i) => {
    node.edges.forEach((edge, k) => {
      const code = edge.withCode ? visit(1000 + i) : undefined;
      const last = k === node.edges.length - 1;
      if (node.kind === 'switch') s.addBranchForSwitch(ids[i]!, ids[edge.to]!, last ? [] : [k], code);
      else s.addBranch(ids[i]!, ids[edge.to]!, last ? undefined : m.i32.eq(decide(2), m.i32.const(1)), code);
    });
  });
  const body = s.render(ids[0]!, 0, flat ? { flat: true } : {});
  if (s.layout === 'structured') structured++;
  m.addFunction('run', 'none', i64, [i32], m.block(null, [body, m.unreachable()]));
  m.addFunctionExport('run', 'run');
  const module = new WebAssembly.Module(encodeModule(m.definition()));
  return (bits) => {
    const trace: number[] = [];
    const d = new Decisions(bits);
    const env = {
      visit: (id: number): void => {
        trace.push(id);
        if (trace.length > STEP_LIMIT) throw new StepLimit();
      },
      decide: (range: number): number => d.next(range),
    };
    const run = new WebAssembly.Instance(module, { env }).exports['run'] as () => bigint;
    try {
      run();
    } catch (e) {
      if (!(e instanceof StepLimit)) throw e;
    }
    return trace;
  };
}

/** Arbitrary graphs of 1..n blocks: each block exits, branches (1-3 edges) or switches (2-4 edges). */
const graphs = (n: number): fc.Arbitrary<GNode[]> => fc.integer({ min: 1, max: n }).chain((size) => fc.array(
  fc.record({
    kind: fc.constantFrom('exit' as const, 'branches' as const, 'branches' as const, 'switch' as const),
    edges: fc.array(fc.record({ to: fc.integer({ min: 0, max: size - 1 }), withCode: fc.boolean() }), { minLength: 1, maxLength: 4 }),
  }).map((node) => (node.kind === 'switch' && node.edges.length < 2 ? { ...node, edges: [...node.edges, node.edges[0]!] } : node)),
  { minLength: size, maxLength: size },
));

/** Structured programs: sequences, if-else, switches, while and do-while loops with breaks, as compilers emit. */
type Stmt = { kind: 'plain' } | { kind: 'if'; yes: Stmt[]; no: Stmt[] } | { kind: 'switch'; arms: Stmt[][] }
  | { kind: 'while' | 'dowhile'; body: Stmt[]; breakOut: boolean };

const { stmts } = fc.letrec<{ stmts: Stmt[]; stmt: Stmt }>((tie) => ({
  stmts: fc.array(tie('stmt'), { minLength: 1, maxLength: 3 }),
  stmt: fc.oneof({ depthSize: 'small', withCrossShrink: true },
    fc.constant({ kind: 'plain' } as Stmt),
    fc.record({ kind: fc.constant('if' as const), yes: tie('stmts'), no: tie('stmts') }),
    fc.record({ kind: fc.constant('switch' as const), arms: fc.array(tie('stmts'), { minLength: 2, maxLength: 3 }) }),
    fc.record({ kind: fc.constantFrom('while' as const, 'dowhile' as const), body: tie('stmts'), breakOut: fc.boolean() })),
}));

/** The graph of a structured program (reducible by construction); node 0 is the entry, an exit ends it. */
function lower(program: Stmt[]): GNode[] {
  const nodes: Array<{ kind: GNode['kind']; edges: Edge[] }> = [];
  const add = (kind: GNode['kind']): number => nodes.push({ kind, edges: [] }) - 1;
  const link = (from: number, to: number, withCode = false): void => { nodes[from]!.edges.push({ to, withCode }); };
  /** Lowers `list` starting at a fresh node; returns [entry, last node still open]. */
  const seq = (list: Stmt[]): [number, number] => {
    const first = add('branches');
    let open = first;
    for (const st of list) open = one(st, open);
    return [first, open];
  };
  const one = (st: Stmt, open: number): number => {
    const join = add('branches');
    switch (st.kind) {
      case 'plain': link(open, join, true); break;
      case 'if': {
        const [y, yEnd] = seq(st.yes); const [n, nEnd] = seq(st.no);
        link(open, y); link(open, n); link(yEnd, join); link(nEnd, join); break;
      }
      case 'switch': {
        nodes[open]!.kind = 'switch';
        for (const arm of st.arms) { const [a, aEnd] = seq(arm); link(open, a); link(aEnd, join); }
        break;
      }
      default: {
        const [b, bEnd] = seq(st.body);
        const head = add('branches');
        link(open, st.kind === 'while' ? head : b);
        link(head, join); link(head, b); // while: test first; exits to join or runs the body
        link(bEnd, head, true);
        if (st.breakOut) nodes[b]!.edges.unshift({ to: join, withCode: false });
      }
    }
    return join;
  };
  const [, end] = seq(program);
  const exit = add('exit');
  link(end, exit);
  for (const n of nodes) if (n.kind !== 'exit' && n.edges.length === 0) n.edges.push({ to: exit, withCode: false });
  for (const n of nodes) if (n.kind === 'switch' && n.edges.length < 2) n.kind = 'branches';
  return nodes;
}

const loopyGraphs = stmts.map(lower);

const decisions = fc.array(fc.nat(1000), { minLength: 1, maxLength: 64 });

describe('stackifier', () => {
  for (const flat of [false, true]) {
    it(`runs random graphs as a direct walk does (${flat ? 'flat layout' : 'structured where reducible'})`, () => {
      structured = 0;
      fc.assert(fc.property(graphs(12), fc.array(decisions, { minLength: 1, maxLength: 4 }), (graph, runs) => {
        const run = compile(graph, flat);
        for (const bits of runs) expect(run(bits)).toEqual(walk(graph, bits));
      }), { numRuns: 300 });
      // Random graphs are often irreducible; a good share must still take the structured translation.
      if (flat) expect(structured).toBe(0);
      else expect(structured).toBeGreaterThan(100);
    });
    it(`runs nested loops as a direct walk does (${flat ? 'flat layout' : 'structured'})`, () => {
      structured = 0;
      fc.assert(fc.property(loopyGraphs, fc.array(decisions, { minLength: 1, maxLength: 4 }), (graph, runs) => {
        const run = compile(graph, flat);
        for (const bits of runs) expect(run(bits)).toEqual(walk(graph, bits));
      }), { numRuns: 300 });
      expect(structured).toBe(flat ? 0 : 300);
    });
  }
});
