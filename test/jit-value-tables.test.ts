/**
 * Value tables (src/jit/value-table.ts): compare trees whose arms only set registers to constants
 * become loads from a table of those constants. What is found, and that the JIT with them gives the
 * interpreter's result for every key, with and without them.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { programBytes } from '../bench/programs.js';
import { CASES } from '../bench/workloads/switch.js';
import { assemble } from '../src/asm/index.js';
import { createInterpreter } from '../src/interp/index.js';
import { compileJit, jitToWat, loadOptimizer } from '../src/jit/index.js';
import { entryFormat, EXIT_JOIN, findValueTables, type ValueTable } from '../src/jit/value-table.js';
import { buildProgram, loadBytes, type Program } from '../src/program/program.js';
import type { Runtime } from '../src/runtime/executable.js';
import { HelperRegistry } from '../src/runtime/helpers.js';
import { EngineMemory } from '../src/runtime/memory.js';
import { memory, verify } from '../src/verifier/index.js';

// jitToWat prints through binaryen, the optimizing tier: load it in this thread once.
beforeAll(() => loadOptimizer());

const rt: Runtime = { mem: new EngineMemory(), helpers: new HelperRegistry() };
const asm = (lines: readonly string[]): Program => buildProgram(assemble(lines.join('\n'), 'ubpf'));
const tablesOf = (program: Program, fn = 0): ValueTable[] => [...findValueTables(program.functions[fn]!).values()];
const U64 = (1n << 64n) - 1n;

/**
 * The interpreter's r0 for each u64 key at the context's start, after checking that the JIT gives the
 * same with value tables, without them, and with the flat layout (which has value tables but no br_table).
 */
function expectAgreement(program: Program, keys: readonly bigint[]): bigint[] {
  const interp = createInterpreter(program, rt);
  const jits = [
    compileJit(program, rt), compileJit(program, rt, { valueTables: false }), compileJit(program, rt, { structure: 'layout' }),
  ];
  const at = rt.mem.alloc(8, 8);
  return keys.map((key) => {
    rt.mem.view.setBigUint64(at, key, true);
    const want = interp.run(at, 8);
    for (const jit of jits) expect(jit.run(at, 8), `key ${key}`).toBe(want);
    return want;
  });
}

/** Keys around every boundary a tree over small constants can have, in both widths. */
const KEYS = [
  ...Array.from({ length: 80 }, (_, k) => BigInt(k) - 8n).map((k) => BigInt.asUintN(64, k)),
  0x7fffffffn, 0x80000000n, 0xffffffffn, 0x1_0000_0002n, 1n << 63n, U64,
];

describe('value tables', () => {
  it('store each column in the narrowest entry that loads back to the 64-bit value', () => {
    expect(entryFormat([0n, 255n])).toEqual({ bytes: 1, signed: false });
    expect(entryFormat([5n, U64])).toEqual({ bytes: 1, signed: true }); // -1
    expect(entryFormat([0n, 65535n])).toEqual({ bytes: 2, signed: false });
    expect(entryFormat([0n, 0xffffffffn])).toEqual({ bytes: 4, signed: false });
    expect(entryFormat([BigInt.asUintN(64, -70000n)])).toEqual({ bytes: 4, signed: true });
    expect(entryFormat([1n << 32n])).toEqual({ bytes: 8, signed: false });
  });

  it('turn switch.c into one column of its 64 constants, 0 for every other key', () => {
    const program = loadBytes(programBytes('switch'));
    const [table, ...more] = tablesOf(program);
    expect(more).toEqual([]);
    expect(table!.join).toBe(EXIT_JOIN);
    expect(table!.columns.map((c) => c.reg)).toEqual([0]);
    expect(table!.columns[0]!.values).toEqual([...CASES].map(BigInt).concat([0n]));
    expect(table!.columns[0]!.format).toEqual({ bytes: 2, signed: false });
    const result = verify(program, { context: memory(4), helpers: rt.helpers });
    if (!result.ok) throw result.error;
    const wat = jitToWat(program, rt, { facts: result.facts });
    expect(wat).toContain('i64.load16_u offset=');
    expect(wat).not.toContain('br_table');
    expect(jitToWat(program, rt, { facts: result.facts, structure: 'layout' })).toContain('i64.load16_u offset=');
  });

  const consts = (key: string, sets: (k: number) => string[], join: string[], init = 'mov %r6, 0'): string[] => [
    'ldxdw %r1, [%r1]', 'mov %r0, 0', init,
    ...[0, 1, 2, 3, 4].map((k) => `jeq ${key}, ${k}, c${k}`), ...sets(9), 'ja join',
    ...[0, 1, 2, 3, 4].flatMap((k) => [`c${k}:`, ...sets(k), 'ja join']),
    'join:', ...join,
  ];

  it('carry every register the join reads, each set on every arm', () => {
    const program = asm(consts('%r1', (k) => [`mov %r0, ${100 + k}`, `mov %r6, ${-k}`], ['lsh %r0, 8', 'add %r0, %r6', 'exit']));
    const [table] = tablesOf(program);
    expect(table!.columns.map((c) => [c.reg, c.format])).toEqual([[0, { bytes: 1, signed: false }], [6, { bytes: 1, signed: true }]]);
    const r0 = expectAgreement(program, KEYS);
    expect(r0.slice(8, 14)).toEqual([25600n, 25855n, 26110n, 26365n, 26620n, BigInt.asUintN(64, (109n << 8n) - 9n)]);
  });

  it('are not used when an arm leaves a register the join reads as it was', () => {
    const sets = (k: number): string[] => [`mov %r0, ${100 + k}`, ...(k === 3 ? [] : [`mov %r6, ${k}`])];
    const program = asm(consts('%r1', sets, ['add %r0, %r6', 'exit'], 'mov %r6, %r1'));
    expect(tablesOf(program)).toEqual([]);
    expectAgreement(program, KEYS);
    // The same arms after a root block that sets r6 to a constant: key 3 gets that constant.
    const seeded = asm(consts('%r1', sets, ['add %r0, %r6', 'exit'], 'mov %r6, 50'));
    expect(tablesOf(seeded)[0]!.columns.map((c) => c.reg)).toEqual([0, 6]);
    expect(expectAgreement(seeded, [3n])).toEqual([153n]);
  });

  it('leave out a register the join overwrites before reading it', () => {
    const program = asm(consts('%r1', (k) => [`mov %r0, ${k * 3}`, ...(k === 3 ? [] : [`mov %r6, ${k}`])], ['mov %r6, 1', 'add %r0, %r6', 'exit']));
    const [table] = tablesOf(program);
    expect(table!.columns.map((c) => c.reg)).toEqual([0]);
    expect(table!.join).not.toBe(EXIT_JOIN);
    expectAgreement(program, KEYS);
  });

  it('keep 64-bit constants: lddw, sign-extended mov and zero-extended mov32', () => {
    const sets = (k: number): string[] =>
      [[`lddw %r0, ${0x123456789abcdefn + BigInt(k)}`], [`mov %r0, ${-k - 1}`], [`mov32 %r0, ${-k - 1}`]][k % 3]!;
    const program = asm(consts('%r1', sets, ['exit']));
    const [table] = tablesOf(program);
    expect(table!.columns[0]!.format.bytes).toBe(8);
    const r0 = expectAgreement(program, KEYS);
    expect(r0.slice(8, 11)).toEqual([0x123456789abcdefn, BigInt.asUintN(64, -2n), 0xfffffffdn]);
  });

  it('index 32-bit trees by the low half and wrap round from the largest key', () => {
    // Cases -3..2 as u32: the slots run from 2^32 - 3 round to 2; the high half of the key is ignored.
    const cases = [-3, -2, -1, 0, 1, 2];
    const program = asm([
      'ldxdw %r1, [%r1]', 'mov %r0, 77',
      ...cases.map((k, i) => `jeq32 %r1, ${k}, c${i}`), 'exit',
      ...cases.flatMap((k, i) => [`c${i}:`, `mov %r0, ${1000 + k}`, 'exit']),
    ]);
    expect(tablesOf(program)).toHaveLength(1);
    const keys = KEYS.flatMap((k) => [k, k | 0xdead_0000_0000n]);
    const r0 = expectAgreement(program, keys);
    expect(r0).toContain(997n);
    expect(r0).toContain(77n);
  });

  it('work inside a loop and in a local-call target', () => {
    const loop = asm([
      'mov %r0, 0', 'mov %r6, 0',
      'top:', 'mov %r1, %r6', 'and %r1, 7',
      ...[0, 1, 2, 3, 4].map((k) => `jeq %r1, ${k}, c${k}`), 'mov %r7, 1', 'ja next',
      ...[0, 1, 2, 3, 4].flatMap((k) => [`c${k}:`, `mov %r7, ${k * k + 10}`, 'ja next']),
      'next:', 'add %r0, %r7', 'add %r6, 1', 'jlt %r6, 20, top', 'exit',
    ]);
    expect(tablesOf(loop)).toHaveLength(1);
    // Keys 0-7 twice, then 0-3: cases 0-4 add k * k + 10, keys 5-7 the default 1.
    expect(expectAgreement(loop, [0n])).toEqual([2n * (10n + 11n + 14n + 19n + 26n + 3n) + 10n + 11n + 14n + 19n]);

    const callee = asm([
      'ldxdw %r1, [%r1]', 'call local fn', 'add %r0, 1', 'exit',
      'fn:', ...[0, 1, 2, 3].map((k) => `jeq %r1, ${k}, c${k}`), 'mov %r0, 5', 'exit',
      ...[0, 1, 2, 3].flatMap((k) => [`c${k}:`, `mov %r0, ${40 + k}`, 'exit']),
    ]);
    expect(tablesOf(callee, 1)).toHaveLength(1);
    expect(expectAgreement(callee, [0n, 3n, 4n, U64])).toEqual([41n, 44n, 6n, 6n]);
  });

  it('are placed once per content and memory', () => {
    const program = loadBytes(programBytes('switch'));
    const mem = new EngineMemory();
    const local: Runtime = { mem, helpers: new HelperRegistry() };
    compileJit(program, local);
    const used = mem.heapEnd;
    compileJit(program, local);
    expect(mem.heapEnd).toBe(used);
  });
});
