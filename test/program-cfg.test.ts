// The control-flow toolkit (src/program/cfg.ts) that the verifier and the JIT share.
import { describe, expect, it } from 'vitest';
import { assemble } from '../src/asm/index.js';
import { depthFirst, solveDataflow, type Dataflow } from '../src/program/cfg.js';
import { buildProgram, type BpfFunction } from '../src/program/program.js';

const fnOf = (text: string): BpfFunction => buildProgram(assemble(text)).functions[0]!;

describe('depthFirst', () => {
  it('finds the header of a rotated loop and orders the blocks so that forward edges go forward', () => {
    const fn = fnOf('r0 = 0\nr1 = 10\nr0 += 1\nr1 -= 1\nif r1 != 0 goto -3\nexit');
    const { headers, order } = depthFirst(fn);
    expect([...headers]).toEqual([2]);
    const rank = new Map(order.map((b, k) => [fn.blocks[b]!.start, k]));
    for (const block of fn.blocks) {
      for (const s of block.succs) if (!headers.has(s)) expect(rank.get(s)!).toBeGreaterThan(rank.get(block.start)!);
    }
  });

  it('breaks every cycle of a loop entered in its middle, and walks dead blocks too', () => {
    // 0: goto L2; L1 (2): r0 += 1; L2 (3): if r0 < 5 goto L1; exit; 6: dead code after the exit
    const fn = fnOf('r0 = 0\ngoto +1\nr0 += 1\nif r0 < 5 goto -2\nexit\nr0 = 1\nexit');
    const { headers, order } = depthFirst(fn);
    expect(headers.size).toBe(1);
    expect(order).toHaveLength(fn.blocks.length);
  });

  it('finds no header in straight-line code', () => {
    expect(depthFirst(fnOf('r0 = 1\nif r0 > 2 goto +1\nr0 = 2\nexit')).headers.size).toBe(0);
  });
});

describe('solveDataflow', () => {
  const text = 'r0 = 0\nif r1 == 0 goto +2\nr2 = 1\ngoto +1\nr3 = 1\nexit';
  const fn = fnOf(text);
  const written = (block: BpfFunction['blocks'][number]): number =>
    block.insns.reduce((m, insn) => (insn.kind === 'alu' ? m | (1 << insn.dst) : m), 0);

  it('meets forward paths: a must-problem keeps only what every path writes', () => {
    const must: Dataflow<number> = { direction: 'forward', boundary: 0, meet: (a, b) => a & b, equals: (a, b) => a === b, transfer: (b, m) => m | written(b) };
    const starts = solveDataflow(fn, must);
    const exitBlock = fn.blocks.findIndex((b) => b.insns.some((i) => i.kind === 'exit'));
    expect(starts[exitBlock]).toBe(1 << 0); // r0 on both paths; r2 and r3 on one each
  });

  it('meets backward paths: a may-problem keeps what some path reads', () => {
    const reads: Dataflow<number> = {
      direction: 'backward', boundary: 1 << 0, meet: (a, b) => a | b, equals: (a, b) => a === b,
      transfer: (b, after) => (after & ~written(b)) | (b.insns.some((i) => i.kind === 'jmp') ? 1 << 1 : 0),
    };
    const starts = solveDataflow(fn, reads);
    expect(starts[0]).toBe(1 << 1); // r0 is written before the exit reads it; r1 is read by the test
  });

  it('leaves blocks the entry never reaches without a forward state', () => {
    const dead = fnOf('r0 = 0\nexit\nr0 = 1\nexit');
    const starts = solveDataflow(dead, { direction: 'forward', boundary: 0, meet: (a, b) => a & b, equals: (a, b) => a === b, transfer: (_b, m) => m });
    expect(starts).toEqual([0, undefined]);
  });
});
