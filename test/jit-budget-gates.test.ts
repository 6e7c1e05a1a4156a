/**
 * Budget gates (src/jit/budget-gates.ts): a function charged per block gets a fast copy that tests
 * the fuel only at gates. Where the gates are and what they ask for, and that the run still stops at
 * the interpreter's block, with the interpreter's memory, for every budget.
 */
import { describe, expect, it } from 'vitest';
import { Differential } from '../fuzz/differential.js';
import { fromHex } from '../fuzz/report.js';
import { assemble } from '../src/asm/index.js';
import { budgetGates } from '../src/jit/budget-gates.js';
import { jitToWat } from '../src/jit/index.js';
import { buildProgram, type Program } from '../src/program/program.js';
import type { Runtime } from '../src/runtime/executable.js';
import { HelperRegistry } from '../src/runtime/helpers.js';
import { EngineMemory } from '../src/runtime/memory.js';

const asm = (text: string): Program => buildProgram(assemble(text, 'ubpf'));
const gatesOf = (program: Program, fn = 0): Array<[number, number]> => [...budgetGates(program.functions[fn]!)].sort((a, b) => a[0] - b[0]);

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

  it('send the loop to a copy without per-block tests', () => {
    const wat = jitToWat(asm(LOOPS), { mem: new EngineMemory(), helpers: new HelperRegistry() } satisfies Runtime, { optimize: false });
    // Every budget trap is in the exact copy: one per block of the two functions ...
    expect([...wat.matchAll(/\(global\.set \$err_code\s+\(i32\.const 2\)/g)]).toHaveLength(blockCount(asm(LOOPS)));
    // ... and the gates test the fuel against what their paths need.
    for (const need of [3, 11, 1, 4]) expect(wat).toMatch(new RegExp(`\\(i64\\.lt_s\\s+\\(local\\.get \\$\\d+\\)\\s+\\(i64\\.const ${need}\\)`));
  });

  it('stop the run where the interpreter stops it, with the same memory, for every budget', () => {
    const diff = new Differential();
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
});

function blockCount(program: Program): number {
  return program.functions.reduce((n, fn) => n + fn.blocks.length, 0);
}
