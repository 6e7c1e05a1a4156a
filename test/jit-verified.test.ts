/**
 * The JIT on verified programs (JitOptions.facts): the generated module has no bounds checks, no
 * budget and no guards the verifier made useless, and gives the same results as checked mode and as
 * the interpreter. Also the jump tables recovered from compare trees (jump-table.ts).
 */
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { conformanceFiles, conformancePresent, readConformance, reportMissingConformance } from './conformance-suite.js';
import { programBytes } from '../bench/programs.js';
import { assemble } from '../src/asm/index.js';
import { conformanceHelpers } from '../src/conformance/test-helpers.js';
import { BpfError } from '../src/errors.js';
import { createInterpreter } from '../src/interp/index.js';
import { trapCode } from '../src/jit/abi.js';
import { compileJit, jitToWat, loadOptimizer, type JitOptions } from '../src/jit/index.js';
import { conditionSet, findJumpTables, type JumpTable } from '../src/jit/jump-table.js';
import { findValueTables } from '../src/jit/value-table.js';
import { buildProgram, loadBytes, type Program } from '../src/program/program.js';
import type { Executable, Runtime } from '../src/runtime/executable.js';
import { HelperRegistry } from '../src/runtime/helpers.js';
import { EngineMemory } from '../src/runtime/memory.js';
import { memory, verify, type VerifierFacts } from '../src/verifier/index.js';

// jitToWat prints through binaryen, the optimizing tier: load it in this thread once.
beforeAll(() => loadOptimizer());

const rt: Runtime = { mem: new EngineMemory(), helpers: new HelperRegistry() };
const asm = (lines: readonly string[]): Program => buildProgram(assemble(lines.join('\n'), 'ubpf'));

function factsOf(program: Program, size: number, helpers: Runtime['helpers'] = rt.helpers): VerifierFacts {
  const result = verify(program, { context: memory(size), helpers });
  if (!result.ok) throw result.error;
  return result.facts;
}

/** Trap codes the module stores before `unreachable` (take_error's reset to 0 is not a trap). */
function trapCodes(wat: string): number[] {
  return [...wat.matchAll(/\(global\.set \$err_code\s+\(i32\.const (\d+)\)/g)].map((m) => Number(m[1])).filter((c) => c !== 0);
}

const MEMORY_TRAP = trapCode('E_RUN_MEMORY');
const BUDGET_TRAP = trapCode('E_RUN_BUDGET');

/** Runs with the bytes copied to a fresh place in engine memory. */
function runOn(exe: Executable, bytes: Uint8Array): bigint {
  if (bytes.length === 0) return exe.run(0, 0);
  const at = rt.mem.alloc(bytes.length, 8);
  rt.mem.write(at, bytes);
  return exe.run(at, bytes.length);
}

const port80 = loadBytes(programBytes('port80'));

/** A loop over a stack slot picked by the counter, plus a read of the 16-byte context. */
const stackLoop = asm([
  'ldxdw %r2, [%r1]', 'stdw [%r10-8], 0', 'mov %r0, 0', 'mov %r3, 0',
  'loop:', 'mov %r5, %r3', 'and %r5, 3', 'lsh %r5, 3', 'mov %r6, %r10', 'add %r6, -32', 'add %r6, %r5',
  'stxdw [%r6], %r2', 'ldxdw %r4, [%r10-32]', 'add %r0, %r4', 'add %r3, 1', 'jlt %r3, 10, loop', 'exit',
]);

describe('the module of a verified program', () => {
  it('port80 under memory(64): bounds checks in checked mode, none with the facts', () => {
    const checked = jitToWat(port80, rt);
    const verified = jitToWat(port80, rt, { facts: factsOf(port80, 64) });
    expect(trapCodes(checked)).toContain(MEMORY_TRAP);
    expect(checked).toMatch(/\$ctx_limit\d/);
    expect(trapCodes(verified)).toEqual([]);
    expect(verified).not.toMatch(/\$ctx_limit\d/);
    // also before optimization, where nothing could have been folded away
    expect(trapCodes(jitToWat(port80, rt, { facts: factsOf(port80, 64), tier: 'baseline' }))).toEqual([]);
  });

  it('a verified access with a non-negative offset carries it in the wasm load', () => {
    // a-plus-b reads r1 + 0 and r1 + 8: the second as `offset=8` on the load, not an add before it.
    const program = loadBytes(programBytes('a-plus-b'));
    const unoptimized = (facts?: VerifierFacts): string => jitToWat(program, rt, { ...(facts ? { facts } : {}), tier: 'baseline' });
    expect(unoptimized(factsOf(program, 16))).toMatch(/i64\.load offset=8\b/);
    expect(unoptimized()).not.toMatch(/load offset=/);
    const at = rt.mem.alloc(16, 8);
    rt.mem.view.setBigUint64(at, 0xffff_ffff_ffff_fff0n, true);
    rt.mem.view.setBigUint64(at + 8, 0x21n, true);
    expect(compileJit(program, rt, { facts: factsOf(program, 16) }).run(at, 16)).toBe(0x11n);
  });

  it('a stack-using loop: budget and bounds checks in checked mode, neither with the facts', () => {
    const checked = jitToWat(stackLoop, rt);
    expect(trapCodes(checked)).toEqual(expect.arrayContaining([MEMORY_TRAP, BUDGET_TRAP]));
    expect(checked).toContain('$fuel');
    const verified = jitToWat(stackLoop, rt, { facts: factsOf(stackLoop, 16) });
    expect(trapCodes(verified)).toEqual([]);
    expect(verified).not.toContain('$fuel');
  });

  it('checked: true with facts keeps the bounds checks and the budget', () => {
    const wat = jitToWat(stackLoop, rt, { facts: factsOf(stackLoop, 16), checked: true });
    expect(trapCodes(wat)).toEqual(expect.arrayContaining([MEMORY_TRAP, BUDGET_TRAP]));
  });

  it('runs the same as checked mode and the interpreter', () => {
    const facts = factsOf(stackLoop, 16);
    for (const value of [0n, 1n, 0xffffffffffffffffn, 0x123456789n]) {
      const bytes = new Uint8Array(16);
      new DataView(bytes.buffer).setBigUint64(0, value, true);
      const want = runOn(createInterpreter(stackLoop, rt), bytes);
      expect(runOn(compileJit(stackLoop, rt), bytes)).toBe(want);
      expect(runOn(compileJit(stackLoop, rt, { facts }), bytes)).toBe(want);
    }
  });

  it('drops division guards the facts make useless, and keeps the others', () => {
    const program = asm([
      'ldxdw %r3, [%r1]', 'ldxdw %r0, [%r1+8]', 'ldxdw %r4, [%r1+16]',
      'or %r3, 1', 'div %r0, %r3', // never zero
      'and %r3, 100', 'add %r3, 1', 'sdiv %r0, %r3', 'smod %r0, %r3', // 1..101: neither zero nor -1
      'mod %r0, %r4', // anything
      'exit',
    ]);
    const facts = factsOf(program, 24);
    const unopt = (options: JitOptions): string => jitToWat(program, rt, { ...options, tier: 'baseline' });
    // Checked: four zero tests and one -1 test; verified: only the zero test of `mod r0, r4`. (The
    // other i64.eqz are the 32-bit fast path's test of the high halves, `eqz (shr_u (or a b) 32)`.)
    const zeroTests = (wat: string): number => wat.match(/i64\.eqz\s+\(local\.get/g)?.length ?? 0;
    expect(zeroTests(unopt({}))).toBe(4);
    expect(unopt({}).match(/\(i64\.const -1\)/g)).toHaveLength(1);
    expect(zeroTests(unopt({ facts }))).toBe(1);
    expect(unopt({ facts })).not.toContain('(i64.const -1)');
    const verified = compileJit(program, rt, { facts });
    const interp = createInterpreter(program, rt);
    for (const [a, b, c] of [[0n, 5n, 0n], [7n, 1n << 63n, 3n], [0xffffn, 12345n, 0n], [2n, 0xffffffffffffffffn, 1n]] as const) {
      const bytes = new Uint8Array(24);
      const view = new DataView(bytes.buffer);
      view.setBigUint64(0, a, true);
      view.setBigUint64(8, b, true);
      view.setBigUint64(16, c, true);
      expect(runOn(verified, bytes)).toBe(runOn(interp, bytes));
    }
  });

  it('compares 64-bit registers in i32 where both sides fit in 32 bits', () => {
    const program = asm(['ldxw %r3, [%r1]', 'ldxb %r4, [%r1+4]', 'mov %r0, 0', 'jsgt %r3, %r4, big', 'exit', 'big:', 'mov %r0, 1', 'exit']);
    const facts = factsOf(program, 8);
    expect(facts.insns[3]?.fits32).toBe(true);
    expect(jitToWat(program, rt, { tier: 'baseline' })).toContain('i64.gt_s');
    const narrow = jitToWat(program, rt, { facts, tier: 'baseline' });
    expect(narrow).not.toContain('i64.gt_s');
    expect(narrow).toContain('i32.gt_u'); // both non-negative: the signed order is the unsigned one
    const exe = compileJit(program, rt, { facts });
    for (const [a, b] of [[0x80000000, 1], [5, 4], [4, 5], [0xffffffff, 255], [255, 255]] as const) {
      const bytes = new Uint8Array(8);
      new DataView(bytes.buffer).setUint32(0, a, true);
      bytes[4] = b;
      expect(runOn(exe, bytes)).toBe(a > b ? 1n : 0n);
    }
  });

  it('makes code no path reaches unreachable', () => {
    // r2 is 8 under memory(8): the branch to `short` is never taken.
    const program = asm(['mov %r0, 1', 'jlt %r2, 8, short', 'ldxdw %r0, [%r1]', 'exit', 'short:', 'mov %r0, 77', 'exit']);
    const facts = factsOf(program, 8);
    expect(jitToWat(program, rt, { tier: 'baseline' })).toContain('(i64.const 77)');
    expect(jitToWat(program, rt, { facts, tier: 'baseline' })).not.toContain('(i64.const 77)');
    expect(runOn(compileJit(program, rt, { facts }), new Uint8Array([9, 0, 0, 0, 0, 0, 0, 0]))).toBe(9n);
  });

  it('refuses facts of another program', () => {
    expect(() => compileJit(port80, rt, { facts: factsOf(stackLoop, 16) })).toThrow(BpfError);
    expect(() => compileJit(port80, rt, { facts: factsOf(stackLoop, 16) })).toThrow(/facts do not describe this program/);
  });
});

const suiteFiles = conformanceFiles();

describe.skipIf(!conformancePresent)('conformance suite, verified under memory(size of -- mem)', () => {
  const conf: Runtime = { mem: new EngineMemory({ cpus: 1 }), helpers: new HelperRegistry(conformanceHelpers()) };
  const run = (exe: Executable, mem: Uint8Array): bigint => {
    if (mem.length === 0) return exe.run(0, 0);
    const at = conf.mem.alloc(mem.length, 8);
    conf.mem.write(at, mem);
    return exe.run(at, mem.length);
  };

  it.each(suiteFiles)('%s', (name) => {
    const data = readConformance(name);
    const program = data.asm !== undefined ? buildProgram(assemble(data.asm, 'ubpf')) : loadBytes(data.raw!);
    const result = verify(program, { context: memory(data.mem.length), helpers: conf.helpers });
    expect(result.ok ? 'verified' : result.error.message).toBe('verified');
    if (!result.ok) return;
    const verified = run(compileJit(program, conf, { facts: result.facts }), data.mem);
    expect(run(compileJit(program, conf, { facts: result.facts, structure: 'layout' }), data.mem)).toBe(verified);
    expect(verified).toBe(run(compileJit(program, conf), data.mem));
    expect(verified).toBe(run(createInterpreter(program, conf), data.mem));
    expect('0x' + verified.toString(16)).toBe('0x' + data.result!.toString(16));
  });
});

reportMissingConformance('conformance suite, verified under memory(size of -- mem)');

describe('jump tables', () => {
  const switchProgram = loadBytes(programBytes('switch'));

  it('conditionSet turns each test into unsigned key intervals', () => {
    expect(conditionSet('jsgt', 31, 32)).toEqual([[32n, 0x7fffffffn]]);
    expect(conditionSet('jslt', 0, 32)).toEqual([[0x80000000n, 0xffffffffn]]);
    expect(conditionSet('jsle', 5, 32)).toEqual([[0n, 5n], [0x80000000n, 0xffffffffn]]);
    expect(conditionSet('jne', 0, 64)).toEqual([[1n, 0xffffffffffffffffn]]);
    expect(conditionSet('jgt', -1, 64)).toEqual([]); // -1 sign-extends to the largest u64
    expect(conditionSet('jset', 1, 64)).toBeUndefined();
  });

  it('turns switch.c\'s compare tree into one 64-slot br_table', () => {
    const tables = [...findJumpTables(switchProgram.functions[0]!).values()];
    expect(tables).toHaveLength(1);
    expect(tables[0]).toMatchObject({ key: 1, width: 32, lo: 0n });
    expect(tables[0]!.slots).toHaveLength(64);
    const facts = factsOf(switchProgram, 4);
    // Its arms only set r0, so by default it becomes a value table (jit-value-tables.test.ts).
    expect(jitToWat(switchProgram, rt, { facts, valueTables: false })).toContain('br_table');
    expect(jitToWat(switchProgram, rt, { facts, jumpTables: false })).not.toContain('br_table');
  });

  it('makes tables of trees that pick out single keys, not of trees that split ranges', () => {
    const tables = (lines: readonly string[]): JumpTable[] => [...findJumpTables(asm(lines).functions[0]!).values()];
    // Range compares sending keys 0-1, 2-3, 4-7, 8-15 and the rest to five arms, shaped like
    // log2.c's `if (v >> k)` chain: no arm is reached by a single key, so no table.
    const ranges = [
      'ldxdw %r1, [%r1]',
      'jlt %r1, 16, lt16', 'mov %r0, 4', 'exit',
      'lt16:', 'jlt %r1, 8, lt8', 'mov %r0, 3', 'exit',
      'lt8:', 'jlt %r1, 4, lt4', 'mov %r0, 2', 'exit',
      'lt4:', 'jlt %r1, 2, lt2', 'mov %r0, 1', 'exit',
      'lt2:', 'mov %r0, 0', 'exit',
    ];
    expect(tables(ranges)).toEqual([]);
    // `==` tests picking out keys 0-3, one arm each: a table.
    const equalities = [
      'ldxdw %r1, [%r1]',
      'jeq %r1, 0, c0', 'jeq %r1, 1, c1', 'jeq %r1, 2, c2', 'jeq %r1, 3, c3', 'mov %r0, 0', 'exit',
      'c0:', 'mov %r0, 10', 'exit', 'c1:', 'mov %r0, 11', 'exit', 'c2:', 'mov %r0, 12', 'exit', 'c3:', 'mov %r0, 13', 'exit',
    ];
    expect(tables(equalities)).toMatchObject([{ key: 1, width: 64, lo: 0n, slots: [0, 1, 2, 3] }]);
    // Mixed: at least half of the non-default arms must be reached by a single key. Key 0 picked
    // out next to the ranges 1-3, 4-7 and 8-15 (one arm of four) is not enough ...
    const split = (lt4: readonly string[]): string[] => [...ranges.slice(0, ranges.indexOf('lt4:')), 'lt4:', ...lt4];
    expect(tables(split(['jeq %r1, 0, z', 'mov %r0, 1', 'exit', 'z:', 'mov %r0, 0', 'exit']))).toEqual([]);
    // ... keys 0, 1, 2 and 3 each picked out below ranges 4-7 and 8-15 (four of six) are.
    const picked = split([
      'jeq %r1, 0, z', 'jeq %r1, 1, o', 'jeq %r1, 2, t', 'mov %r0, 9', 'exit',
      'z:', 'mov %r0, 0', 'exit', 'o:', 'mov %r0, 5', 'exit', 't:', 'mov %r0, 7', 'exit',
    ]);
    expect(tables(picked)).toMatchObject([{ lo: 0n }]);
    expect(tables(picked)[0]!.slots).toHaveLength(16);
  });

  it('leaves log2.c\'s range tree to compares', () => {
    expect(findJumpTables(loadBytes(programBytes('log2')).functions[0]!).size).toBe(0);
  });

  it('gives switch.c\'s results for every key, checked and verified', () => {
    const facts = factsOf(switchProgram, 4);
    const engines = [
      compileJit(switchProgram, rt), compileJit(switchProgram, rt, { facts }), compileJit(switchProgram, rt, { facts, valueTables: false }),
      compileJit(switchProgram, rt, { jumpTables: false }),
    ];
    const interp = createInterpreter(switchProgram, rt);
    const at = rt.mem.alloc(4, 4);
    const keys = [...Array.from({ length: 130 }, (_, k) => k), 0x7fffffff, 0x80000000, 0xffffffff, 0xffffffc0, 1 << 20];
    for (const key of keys) {
      rt.mem.view.setUint32(at, key, true);
      const want = interp.run(at, 4);
      for (const exe of engines) expect(exe.run(at, 4)).toBe(want);
    }
  });

  it('is not used where the budget is charged per block', () => {
    // The tree inside a loop: with a budget the run must stop at the interpreter's pc.
    const program = asm([
      'mov %r0, 0', 'mov %r6, 0', 'loop:', 'mov %r1, %r6', 'and %r1, 7',
      'jsgt %r1, 3, high', 'jeq %r1, 0, c0', 'jeq %r1, 1, c1', 'jeq %r1, 2, c2', 'ja next',
      'high:', 'jeq %r1, 4, c0', 'jeq %r1, 5, c1', 'ja next',
      'c0:', 'add %r0, 1', 'ja next', 'c1:', 'add %r0, 2', 'ja next', 'c2:', 'add %r0, 3',
      'next:', 'add %r6, 1', 'jlt %r6, 1000, loop', 'exit',
    ]);
    expect(findJumpTables(program.functions[0]!).size).toBe(1);
    expect(compileJit(program, rt).run(0, 0)).toBe(createInterpreter(program, rt).run(0, 0));
    const stop = (exe: Executable): unknown => {
      try {
        exe.run(0, 0);
      } catch (e) {
        return e;
      }
      return undefined;
    };
    const interp = stop(createInterpreter(program, rt, { budget: 500 })) as BpfError;
    expect(interp).toMatchObject({ code: 'E_RUN_BUDGET' });
    expect(stop(compileJit(program, rt, { budget: 500 }))).toMatchObject({ code: 'E_RUN_BUDGET', pc: (interp as unknown as { pc: number }).pc });
  });

  it('matches the interpreter on random compare trees', () => {
    let withTables = 0;
    let withValueTables = 0;
    fc.assert(fc.property(treeProgram(), fc.array(fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), { maxLength: 8 }), (t, randomKeys) => {
      const program = asm(t.lines);
      if (findJumpTables(program.functions[0]!).size > 0) withTables++;
      if (findValueTables(program.functions[0]!).size > 0) withValueTables++;
      const jits = [compileJit(program, rt), compileJit(program, rt, { valueTables: false })];
      const interp = createInterpreter(program, rt);
      const bytes = new Uint8Array(8);
      const view = new DataView(bytes.buffer);
      for (const key of [...t.keys, ...randomKeys]) {
        view.setBigUint64(0, key, true);
        const want = runOn(interp, bytes);
        for (const jit of jits) expect(runOn(jit, bytes)).toBe(want);
      }
    }), { numRuns: Number(process.env.JUMP_TABLE_RUNS ?? 150), seed: Number(process.env.JUMP_TABLE_SEED ?? 0x5eed) });
    expect(withTables).toBeGreaterThan(Number(process.env.JUMP_TABLE_RUNS ?? 150) / 5);
    // Some trees' arms only set r0 (value tables), others add to it or leave it (br_table).
    expect(withValueTables).toBeGreaterThan(0);
    expect(withValueTables).toBeLessThan(withTables);
  });
});

// ---- random compare trees ----

type Tree =
  | { readonly kind: 'leaf'; readonly r0?: number; readonly viaDone: boolean }
  | { readonly kind: 'test'; readonly cond: string; readonly imm: number; readonly prefix?: string; readonly yes: Tree; readonly no: Tree };

/** An instruction in front of a test (runs on the table edge): sets r0, updates it, or sets a dead r3. */
const prefixInsn = fc.tuple(fc.constantFrom('mov %r0', 'add %r0', 'mov32 %r3', 'xor %r0'), fc.integer({ min: 1000, max: 1999 })).map(([op, k]) => `${op}, ${k}`);

const CONDS = ['jeq', 'jne', 'jgt', 'jge', 'jlt', 'jle', 'jsgt', 'jsge', 'jslt', 'jsle'];
const IMMS = [0, 1, 2, 3, 4, 5, 7, 8, 15, 16, 31, 32, 63, 100, -1, -2, -100, 0x7fffffff, -0x80000000];

const leaf = fc.record({ kind: fc.constant('leaf' as const), r0: fc.option(fc.integer({ min: 0, max: 999 }), { nil: undefined }), viaDone: fc.boolean() });
const { tree } = fc.letrec<{ tree: Tree; test: Tree }>((tie) => ({
  tree: fc.oneof({ depthSize: 'small', withCrossShrink: true }, leaf, tie('test'), tie('test')),
  test: fc.record({
    kind: fc.constant('test' as const),
    cond: fc.constantFrom(...CONDS),
    imm: fc.oneof(fc.constantFrom(...IMMS), fc.integer({ min: -40, max: 80 })),
    prefix: fc.option(prefixInsn, { nil: undefined }),
    yes: tie('tree'),
    no: tie('tree'),
  }),
}));

/** A tree shaped like clang's for a C switch: binary search on the case keys, `==` tests at the bottom. */
const switchTree: fc.Arbitrary<Tree> = fc.record({
  keys: fc.uniqueArray(fc.integer({ min: -4, max: 48 }), { minLength: 5, maxLength: 40 }),
  signed: fc.boolean(),
  seed: fc.integer(),
  defaultR0: fc.option(fc.integer({ min: 0, max: 99 }), { nil: undefined }),
}).map(({ keys, signed, seed, defaultR0 }) => {
  const sorted = [...keys].sort((a, b) => (signed ? a - b : (a >>> 0) - (b >>> 0)));
  let rng = seed;
  const coin = (): boolean => ((rng = (rng * 1103515245 + 12345) | 0) & 0x10000) !== 0;
  const fallback: Tree = { kind: 'leaf', r0: defaultR0, viaDone: coin() };
  const build = (lo: number, hi: number): Tree => {
    if (hi - lo <= 2) {
      let node: Tree = fallback;
      for (let i = hi - 1; i >= lo; i--) {
        const hit: Tree = { kind: 'leaf', r0: 500 + i, viaDone: coin() };
        node = { kind: 'test', cond: 'jeq', imm: sorted[i]!, yes: hit, no: node, ...(coin() ? { prefix: `mov %r0, ${1000 + i}` } : {}) };
      }
      return node;
    }
    const mid = (lo + hi) >> 1;
    const cond = signed ? (coin() ? 'jsgt' : 'jsge') : coin() ? 'jgt' : 'jge';
    const imm = cond.endsWith('ge') ? sorted[mid]! : sorted[mid - 1]!;
    return { kind: 'test', cond, imm, yes: build(mid, hi), no: build(lo, mid) };
  };
  return build(0, sorted.length);
});

/** A program comparing r1 (the u64 at the context, or its low half for JMP32) in the tree's shape. */
function treeProgram(): fc.Arbitrary<{ lines: string[]; keys: bigint[] }> {
  return fc.tuple(fc.oneof(tree, switchTree), fc.boolean()).map(([t, w32]) => {
    const lines = ['ldxdw %r1, [%r1]', 'mov %r0, 7'];
    const imms: number[] = [];
    let labels = 0;
    const emit = (node: Tree): void => {
      if (node.kind === 'leaf') {
        if (node.r0 !== undefined) lines.push(`mov %r0, ${node.r0}`);
        lines.push(node.viaDone ? 'ja done' : 'exit');
        return;
      }
      if (node.prefix !== undefined) lines.push(node.prefix);
      const label = `t${labels++}`;
      imms.push(node.imm);
      lines.push(`${node.cond}${w32 ? '32' : ''} %r1, ${node.imm}, ${label}`);
      emit(node.no);
      lines.push(`${label}:`);
      emit(node.yes);
    };
    emit(t);
    lines.push('done:', 'exit');
    const width = w32 ? 32 : 64;
    const keys = imms.flatMap((imm) => [-1n, 0n, 1n].map((d) => BigInt.asUintN(width, BigInt(imm) + d)));
    // JMP32 must ignore the high half.
    const high = w32 ? keys.map((k) => k | 0xdead00000000n) : [];
    return { lines, keys: [...keys, ...high, 0n, (1n << 64n) - 1n, 1n << 63n, 0x80000000n] };
  });
}
