// Differential testing: the interpreter and the JIT must end every program with the same r0, the same
// memory and the same error (code and pc); so must the JIT compiled with the verifier's facts, on the
// programs the verifier accepts; both in the baseline tier and in the optimized one. Random programs
// come from fuzz/program-gen.ts (built from the opcode table); `npm run fuzz -- --runs N` runs as
// many as asked outside the test suite, every one through all four engines.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Differential, FUZZ_ENGINES, caseOf, runsOf, type CaseInput, type CaseResult } from '../fuzz/differential.js';
import { knownIssue } from '../fuzz/known.js';
import { lowerProgram } from '../fuzz/lower.js';
import { LOOP_SHAPES } from '../fuzz/loops.js';
import { category, programSpec, rowsOf } from '../fuzz/program-gen.js';
import { formatCounterexample, fromHex } from '../fuzz/report.js';
import type { ProgramSpec } from '../fuzz/spec.js';
import { assemble } from '../src/asm/index.js';
import { encode } from '../src/isa/encode.js';
import { OPCODE_TABLE, findRow } from '../src/isa/table.js';
import { loadOptimizer } from '../src/jit/index.js';
import { findJumpTables } from '../src/jit/jump-table.js';
import { buildProgram } from '../src/program/program.js';

/** Fixed, so a failure here reproduces with `npm run fuzz -- --gen programs --runs 300 --seed <SEED + chunk>`. */
const SEED = 20240611;
const CHUNKS = 6;
const RUNS_PER_CHUNK = 300;
/**
 * binaryen takes some 10 ms per case, twice the rest of the case: every generated case runs through
 * the baseline engines, one in OPTIMIZED_SHARE through the optimized ones too.
 */
const OPTIMIZED_SHARE = 4;

// The optimized tier runs binaryen in this thread.
await loadOptimizer();
const diff = new Differential();
const baselineDiff = new Differential(['jit', 'jit-facts']);
/** How the generated runs ended, by interpreter error code ('r0' for a normal exit). */
const ends = new Map<string, number>();
/** Cases whose difference a known, reported issue explains (fuzz/known.ts), by issue id. */
const excused = new Map<string, number>();
/** The verifier's verdicts on the cases the JIT with facts could run (aligned contexts), by code. */
const verdicts = new Map<string, number>();
/** Each engine's runs, by the tier its executable reported ('load' when it could not be compiled). */
const tiers = new Map<string, number>();

/** Whether a case goes through the optimized tier too: by a hash of its program and input, so a replay makes the same choice. */
function throughOptimized(c: CaseInput): boolean {
  let h = 0x811c9dc5;
  for (const bytes of [encode(c.insns), c.input]) for (const b of bytes) h = Math.imul(h ^ b, 0x01000193);
  return (h >>> 0) % OPTIMIZED_SHARE === 0;
}

function check(spec: ProgramSpec): void {
  const c = caseOf(spec);
  const engines = throughOptimized(c) ? diff : baselineDiff;
  const result = engines.runCase(c);
  for (const r of result.runs) tiers.set(`${r.engine} ${r.tier ?? 'load'}`, (tiers.get(`${r.engine} ${r.tier ?? 'load'}`) ?? 0) + 1);
  if (result.difference !== undefined) {
    const issue = knownIssue(engines, c);
    if (!issue) throw new Error(`${result.difference}\n${formatCounterexample(spec, result)}`);
    excused.set(issue.id, (excused.get(issue.id) ?? 0) + 1);
  }
  const key = result.interp.error?.code ?? 'r0';
  ends.set(key, (ends.get(key) ?? 0) + 1);
  if (result.verdict !== undefined) verdicts.set(result.verdict, (verdicts.get(result.verdict) ?? 0) + 1);
}

describe('interpreter, JIT and JIT with facts, in both tiers, agree on generated programs', () => {
  for (let chunk = 0; chunk < CHUNKS; chunk++) {
    it(`${RUNS_PER_CHUNK} programs, seed ${SEED + chunk}`, () => {
      fc.assert(fc.property(programSpec(), check), { seed: SEED + chunk, numRuns: RUNS_PER_CHUNK });
    });
  }

  it('most runs end normally, and every kind of runtime error occurs', () => {
    if (ends.size === 0) fc.assert(fc.property(programSpec(), check), { seed: SEED, numRuns: 500 });
    const total = [...ends.values()].reduce((a, b) => a + b, 0);
    expect(ends.get('r0')! / total).toBeGreaterThan(0.6);
    for (const code of ['E_RUN_MEMORY', 'E_RUN_BUDGET', 'E_RUN_CALL_DEPTH', 'E_RUN_UNKNOWN_HELPER']) expect(ends.get(code)).toBeGreaterThan(0);
    for (const [id, n] of excused) console.warn(`differential: ${n} generated case(s) hit known issue ${id} (fuzz/known.ts)`);
  });

  it('the verifier accepts a good share of the programs, which the JIT with facts then runs', () => {
    if (verdicts.size === 0) fc.assert(fc.property(programSpec(), check), { seed: SEED, numRuns: 500 });
    const asked = [...verdicts.values()].reduce((a, b) => a + b, 0);
    expect((verdicts.get('accepted') ?? 0) / asked).toBeGreaterThan(0.2);
  });

  it('every engine runs a good share of the programs, in its own tier', () => {
    if (tiers.size === 0) fc.assert(fc.property(programSpec(), check), { seed: SEED, numRuns: 500 });
    const cases = [...ends.values()].reduce((a, b) => a + b, 0);
    // Each compiles every program the interpreter runs (the generator's programs all load).
    expect(tiers.get('jit baseline')).toBe(cases);
    expect(tiers.get('jit-opt optimized')! / cases).toBeGreaterThan(0.8 / OPTIMIZED_SHARE);
    expect(tiers.get('jit-facts baseline')! / cases).toBeGreaterThan(0.2);
    expect(tiers.get('jit-facts-opt optimized')! / cases).toBeGreaterThan(0.2 / OPTIMIZED_SHARE);
    expect([...tiers.keys()].sort()).toEqual(['jit baseline', 'jit-facts baseline', 'jit-facts-opt optimized', 'jit-opt optimized']);
  });
});

describe('the generator', () => {
  const specs = fc.sample(programSpec(), { seed: SEED, numRuns: 1500 });

  it('builds programs that buildProgram accepts', () => {
    for (const spec of specs) expect(() => buildProgram(lowerProgram(spec))).not.toThrow();
  });

  it('uses every generated row of the opcode table and every loop shape', () => {
    const seen = new Set<string>();
    const seenShapes = new Set<number>();
    for (const spec of specs) {
      for (const insn of lowerProgram(spec)) seen.add(findRow(insn.opcode, insn)!.mnemonic + '/' + insn.opcode);
      const visit = (items: ProgramSpec['main']['body']): void => items.forEach((item) => {
        if (item.t === 'loop') {
          seenShapes.add(item.shape % LOOP_SHAPES.length);
          visit(item.body);
        }
      });
      [spec.main, ...spec.subs].forEach((fn) => visit(fn.body));
    }
    const wanted = OPCODE_TABLE.filter((row) => category(row) !== 'unsupported');
    expect(wanted.filter((row) => !seen.has(row.mnemonic + '/' + row.opcode)).map((row) => row.mnemonic)).toEqual([]);
    expect(rowsOf('unsupported').map((row) => row.mnemonic)).toEqual(['call kfunc', 'ldabsb', 'ldindb', 'ldabsh', 'ldindh', 'ldabsw', 'ldindw']);
    expect(seenShapes.size).toBe(LOOP_SHAPES.length);
  });
});

describe('regressions found by the fuzzer', () => {
  // JIT jump tables (found with the compare-tree items of fuzz/program-gen.ts): the keys 2-3 and the
  // default reach `out`, key 1 reaches `out` after `or32` in a tree block. Both table arms went to
  // one Relooper block, the code-less one through an empty block that binaryen's Relooper skips
  // (SkipEmptyBlocks), merging its keys into the other arm: every key ran the `or32`. Fixed in
  // src/jit/function.ts (addTableBranches puts the code of every arm that has some in a block of its own).
  const jumpTableArms = `
    mov %r0, 0
    jeq %r2, 1, one
    jeq %r2, 2, add
    jeq %r2, 3, add
    ja out
    one:
    or32 %r0, 0x7fff
    jeq %r2, 0, add
    ja out
    add:
    add %r0, 100
    out:
    exit`;

  it('jump-table arms to the same block keep their own code', () => {
    const program = buildProgram(assemble(jumpTableArms, 'ubpf'));
    expect(findJumpTables(program.functions[0]!).size).toBe(1);
    const r0 = (len: number): bigint | undefined => agree(jumpTableArms, '00'.repeat(len)).interp.r0;
    expect([0, 1, 2, 3, 4, 8].map(r0)).toEqual([0n, 0x7fffn, 100n, 100n, 0n, 0n]);
  });

  // The JIT put each arm's path code on its Relooper switch branch; binaryen's Relooper skips blocks
  // that compile to nothing (SkipEmptyBlocks) and merges branches that then share a target
  // (MergeBranchInto), keeping one branch's code. Fixed in src/jit/function.ts: addTableBranches
  // puts every arm's code in a block of its own, and the switch branches carry none.
  it('an arm whose path compiles to nothing (le64) keeps to its own code', () => {
    // key 2 reaches `out` through `le64 r0` (a wasm nop), key 1 through `or32`: the JIT ran `or32` for key 2.
    const asm = `
      mov %r0, 0
      jeq %r2, 1, one
      jeq %r2, 2, two
      jeq %r2, 3, add
      ja add
      one:
      or32 %r0, 0x7fff
      jeq %r2, 0, add
      ja out
      two:
      le64 %r0
      jeq %r2, 0, add
      ja out
      add:
      add %r0, 100
      out:
      exit`;
    expect(findJumpTables(buildProgram(assemble(asm, 'ubpf')).functions[0]!).size).toBe(1);
    const r0 = (len: number): bigint | undefined => agree(asm, '00'.repeat(len)).interp.r0;
    expect([0, 1, 2, 3, 4].map(r0)).toEqual([100n, 0x7fffn, 0n, 100n, 100n]);
  });

  it('an arm into a block that compiles to nothing keeps its own code', () => {
    // `skip` is a jump to the next instruction, an empty block: the Relooper sent key 3's branch
    // (code: add r4, 2) on to `fold`, where key 1's branch (code: add r5, 1) already went, and
    // binaryen.js aborted on IsCodeEquivalent: compileJit threw E_INPUT for every input.
    const asm = `
      mov %r0, 0
      mov %r4, 0
      mov %r5, 0
      jsgt %r2, 1, hi
      jeq %r2, 0, done
      add %r5, 1
      jeq %r2, 1, fold
      ja done
      hi:
      add %r4, 2
      jeq %r2, 2, done
      jeq %r2, 3, skip
      ja done
      skip:
      jsle %r1, 0, fold
      fold:
      add %r0, %r4
      add %r0, %r5
      exit
      done:
      exit`;
    expect(findJumpTables(buildProgram(assemble(asm, 'ubpf')).functions[0]!).size).toBe(1);
    const r0 = (len: number): bigint | undefined => agree(asm, '00'.repeat(len)).interp.r0;
    expect([0, 1, 2, 3, 4].map(r0)).toEqual([0n, 1n, 0n, 2n, 0n]);
  });
});

/** Runs hand-written uBPF assembly through the interpreter and every engine; returns the (shared) outcome. */
function agree(asm: string, input = '', options: Parameters<Differential['runAsm']>[2] = {}): CaseResult {
  const result = diff.runAsm(asm, fromHex(input), options);
  expect(result.difference).toBeUndefined();
  // The checked engines always run; the verified ones when the verifier accepts (aligned contexts only).
  const ran = result.runs.map((r) => r.engine);
  expect(ran).toEqual(result.verdict === 'accepted' ? FUZZ_ENGINES : ['jit', 'jit-opt']);
  return result;
}

describe('hand-written cases at the edges of the runtime rules', () => {
  it('signed division and modulo of INT_MIN by -1, and by a zero register', () => {
    const r = agree(`
      lddw %r0, 0x8000000000000000
      mov %r3, -1
      mov %r4, 0
      mov %r5, %r0
      sdiv %r0, %r3
      smod %r5, %r3
      mov32 %r8, -2147483648
      sdiv32 %r8, -1
      mov32 %r9, 7
      sdiv32 %r9, %r4
      smod %r3, %r4
      xor %r0, %r5
      xor %r0, %r8
      xor %r0, %r9
      xor %r0, %r3
      exit`);
    expect(r.interp.r0).toBe(0x8000000000000000n ^ 0x80000000n ^ 0xffffffffffffffffn);
  });

  it('the JIT with facts runs a verified division by a tested divisor, as the interpreter does', () => {
    // r3 is non-zero after the test, so the verified code divides without the x/0 guard.
    const asm = 'mov %r0, 100\nldxdw %r3, [%r1]\njeq %r3, 0, +1\ndiv %r0, %r3\nexit';
    const r0 = (input: string): bigint | undefined => {
      const r = agree(asm, input);
      expect(r.verdict).toBe('accepted');
      expect(r.verified!.facts.insns[3]).toMatchObject({ divisorNonZero: true });
      expect(runsOf(r, 'jit-facts-opt')!.single.r0).toBe(runsOf(r, 'jit-facts')!.single.r0);
      return runsOf(r, 'jit-facts')!.single.r0;
    };
    expect(r0('05 00 00 00 00 00 00 00')).toBe(20n);
    expect(r0('00 00 00 00 00 00 00 00')).toBe(100n);
  });

  it('a misaligned atomic in the context faults in both, at the same pc', () => {
    const r = agree('mov %r0, 1\nlock add [%r1+8], %r0\nlock add [%r1+0], %r0\nexit', '00'.repeat(16), { shift: 4 });
    expect(r.interp.error).toMatchObject({ code: 'E_RUN_MEMORY', pc: 1 });
  });

  it('the budget runs out at the same block of a counted loop', () => {
    const r = agree('mov %r0, 0\nmov %r7, 10\nadd %r0, %r7\nsub %r7, 1\njne %r7, 0, -3\nexit', '', { budget: 17 });
    expect(r.interp.error).toMatchObject({ code: 'E_RUN_BUDGET', pc: 2 });
  });

  it('a callee writes the caller frame through r10 + positive offsets', () => {
    const r = agree(`
      stdw [%r10-8], 5
      call local +2
      ldxdw %r0, [%r10-8]
      exit
      ldxdw %r0, [%r10+504]
      add %r0, 1
      stxdw [%r10+504], %r0
      exit`);
    expect(r.interp.r0).toBe(6n);
  });

  it('a ninth frame stops the run at the call', () => {
    const chain = Array.from({ length: 9 }, () => 'call local +1\nexit').join('\n');
    const r = agree(`${chain}\nmov %r0, 0\nexit`);
    expect(r.interp.error).toMatchObject({ code: 'E_RUN_CALL_DEPTH', pc: 14 });
  });

  it('a helper that unwinds from inside a callee ends the run with r0 = 0', () => {
    const r = agree('mov %r0, 9\ncall local +2\nadd %r0, 1\nexit\nmov %r1, 0\ncall 1002\nmov %r0, 7\nexit');
    expect(r.interp.r0).toBe(0n);
  });

  it('a batch unwinds one event and goes on with the next, each event with its own context', () => {
    // Event i's first byte is 0x10 ^ (0x35 * i): event 1 (0x25) unwinds, the others return it + 1.
    const asm = 'ldxb %r0, [%r1]\nmov %r6, %r0\nmov %r1, %r0\nsub %r1, 0x25\ncall 1002\nmov %r0, %r6\nadd %r0, 1\nexit';
    const r = agree(asm, '10 00 00 00', { batch: 3, cpu: 1 });
    expect(r.interpBatch).toBeDefined();
    expect(r.interpBatch!.error).toBeUndefined();
    expect([...r.interpBatch!.results].filter((_, i) => i % 8 === 0)).toEqual([0x11, 0, (0x10 ^ 0x6a) + 1]);
    for (const run of r.runs) expect(run.batch).toBeDefined();
  });
});
