/**
 * Budget gates (src/jit/budget-gates.ts): a function charged per block gets a fast copy that tests
 * the fuel only at gates. Where the gates are and what they ask for, and that the run still stops at
 * the interpreter's block, with the interpreter's memory, for every budget.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { Differential } from '../fuzz/differential.js';
import { fromHex } from '../fuzz/report.js';
import { assemble } from '../src/asm/index.js';
import { budgetPlan, type BudgetPlan } from '../src/jit/budget-gates.js';
import { jitToWat, loadOptimizer } from '../src/jit/index.js';
import { buildProgram, type Program } from '../src/program/program.js';
import type { Runtime } from '../src/runtime/executable.js';
import { HelperRegistry } from '../src/runtime/helpers.js';
import { EngineMemory } from '../src/runtime/memory.js';

// jitToWat prints through binaryen, the optimizing tier: load it in this thread once.
beforeAll(() => loadOptimizer());

const asm = (text: string): Program => buildProgram(assemble(text, 'ubpf'));
const planOf = (program: Program, fn = 0): BudgetPlan => budgetPlan(program.functions[fn]!, fn > 0);
const gatesOf = (program: Program, fn = 0): Array<[number, number]> => [...budgetPlan(program.functions[fn]!, fn > 0).gates].sort((a, b) => a[0] - b[0]);

/** Stores each round's counter into the context, calls a function that loops too, and branches. */
const LOOPS = `
  mov %r9, %r1
  mov %r0, 0
  mov %r6, 0
top:
  mov %r2, %r6
  and %r2, 7
  lsh %r2, 3
  mov %r3, %r9
  add %r3, %r2
  stxdw [%r3], %r6
  jgt %r6, 5, odd
  add %r0, 2
  ja next
odd:
  mov %r7, %r0
  mov %r1, %r6
  call local inner
  add %r0, %r7
next:
  add %r6, 1
  jlt %r6, 12, top
  exit
inner:
  mov %r0, 0
again:
  add %r0, 3
  sub %r1, 1
  jgt %r1, 3, again
  exit`;

/**
 * A loop as clang lays it out: entered in the middle (the first jump goes to `check`), its
 * backward jump going to `body`. The loop's header, where the run comes in, is `check`.
 */
const ROTATED = `
  mov %r0, 0
  mov %r2, 0
  ja check
body:
  add %r0, %r2
  jgt %r0, 100, big
  add %r0, 1
big:
  add %r2, 1
check:
  ldxb %r3, [%r1+0]
  jge %r2, %r3, done
  jne %r3, 7, body
  add %r0, 3
  ja body
done:
  exit`;

/** Every path from a gate to the next one, a call or an observed exit, with its cost and its charge. */
function regionPaths(program: Program, fn: number): Array<{ from: number; cost: number; charged: number }> {
  const f = program.functions[fn]!;
  const plan = planOf(program, fn);
  const blocks = new Map(f.blocks.map((b) => [b.start, b]));
  const out: Array<{ from: number; cost: number; charged: number }> = [];
  const walk = (from: number, at: number, cost: number, charged: number): void => {
    const block = blocks.get(at)!;
    cost += block.insns.length;
    charged += plan.charges.get(at) ?? 0;
    const last = block.insns[block.insns.length - 1]!;
    const calls = block.insns.some((i) => i.kind === 'call');
    if (last.kind === 'exit' || calls) {
      // The entry function's fuel dies at its exit; a callee's goes back to its caller.
      if (fn > 0 || calls) out.push({ from, cost, charged });
      return;
    }
    for (const succ of block.succs) {
      if (plan.gates.has(succ)) out.push({ from, cost, charged });
      else walk(from, succ, cost, charged);
    }
  };
  for (const gate of plan.gates.keys()) walk(gate, gate, 0, 0);
  return out;
}

describe('budget gates', () => {
  it('are the entry, every backward-jump target and every block after a call, each with its longest path', () => {
    // Blocks: 0-2 entry | 3-9 top | 10-11 add, ja | 12-15 odd (the call) | 16-17 next | 18 exit;
    // inner: 19 | 20-22 again | 23 exit. A path stops before the next gate (top, next, again).
    const program = asm(LOOPS);
    expect(gatesOf(program)).toEqual([
      [0, 3], // the entry block, then top
      [3, 7 + 4], // top and the longer arm, odd, then next
      [16, 2 + 1], // after the call: next, then top or exit
    ]);
    expect(gatesOf(program, 1)).toEqual([[19, 1], [20, 3 + 1]]);
  });

  it('sit at the block where a loop is entered, not at the target of its backward jump', () => {
    // Blocks: 0-2 | 3-4 body | 5 | 6 big | 7-8 check | 9 | 10-11 | 12 done.
    const program = asm(ROTATED);
    expect(gatesOf(program)).toEqual([
      [0, 3], // the entry, then check
      [7, 2 + 1 + 2 + 2 + 1 + 1], // check, 9, the 7 arm, body, the small arm, big
    ]);
  });

  it('charge each path from a gate exactly what it costs, in fewer places', () => {
    for (const [text, fns] of [[LOOPS, 2], [ROTATED, 1]] as const) {
      const program = asm(text);
      for (let fn = 0; fn < fns; fn++) {
        const paths = regionPaths(program, fn);
        expect(paths.length).toBeGreaterThan(0);
        for (const p of paths) expect(p.charged, `${JSON.stringify(p)} in function ${fn}`).toBe(p.cost);
      }
    }
    // check, 9, body and big run on every way round the loop: one charge covers them. Only the
    // two arms that a way round may skip charge for themselves.
    const rotated = planOf(asm(ROTATED));
    expect([...rotated.charges].sort((a, b) => a[0] - b[0])).toEqual([[0, 3], [5, 1], [7, 2 + 1 + 2 + 1], [10, 2]]);
    // done (12) only leads to the entry's exit, where the fuel is no longer read: it charges nothing.
  });

  it('send the loop to a copy without per-block tests', () => {
    const wat = jitToWat(asm(LOOPS), { mem: new EngineMemory(), helpers: new HelperRegistry() } satisfies Runtime, { tier: 'baseline' });
    // Every budget trap is in the exact copy: one per block of the two functions ...
    expect([...wat.matchAll(/\(global\.set \$err_code\s+\(i32\.const 2\)/g)]).toHaveLength(blockCount(asm(LOOPS)));
    // ... and the gates test the fuel against what their paths need.
    for (const need of [3, 11, 1, 4]) expect(wat).toMatch(new RegExp(`\\(i64\\.lt_s\\s+\\(local\\.get \\$\\d+\\)\\s+\\(i64\\.const ${need}\\)`));
  });

  // The checked JIT only: the budget gates are its code (the JIT with facts has no budget).
  it('stop the run where the interpreter stops it, with the same memory, for every budget', () => {
    const diff = new Differential(['jit']);
    const input = fromHex('00'.repeat(64));
    let stopped = 0;
    for (let budget = 0; budget <= 400; budget++) {
      const r = diff.runAsm(LOOPS, input, { budget });
      expect(r.difference, `budget ${budget}`).toBeUndefined();
      if (r.interp.error?.code === 'E_RUN_BUDGET') stopped++;
    }
    // The run takes some 200 instructions: the low budgets stop it at every block, the rest let it end.
    expect(stopped).toBeGreaterThan(150);
    expect(stopped).toBeLessThan(300);
  });

  it('stop a rotated loop where the interpreter stops it, for every budget', () => {
    const diff = new Differential(['jit']);
    let stopped = 0;
    for (const limit of [7, 40]) {
      for (let budget = 0; budget <= 300; budget++) {
        const r = diff.runAsm(ROTATED, Uint8Array.of(limit), { budget });
        expect(r.difference, `limit ${limit}, budget ${budget}`).toBeUndefined();
        if (r.interp.error?.code === 'E_RUN_BUDGET') stopped++;
      }
    }
    expect(stopped).toBeGreaterThan(250);
  });
});

function blockCount(program: Program): number {
  return program.functions.reduce((n, fn) => n + fn.blocks.length, 0);
}
