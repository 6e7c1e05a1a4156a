// Runs every program of the BPF conformance suite (../shared/conformance) through both tiers of the
// JIT, baseline and optimized: the 313 programs in tests/ must return their stated r0 in checked mode
// (also through the flat layout) and compiled with the verifier's facts; every file in negative/ must
// be refused (by the assembler, the decoder, the program checks or the JIT, or, for a well-formed
// program, by the verifier) before anything runs, except incorrect_return_value_high_bits.data, whose
// stated result must not be produced. The runner behind `bpfjit conformance` takes the tier too.
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { BIN, cli, type CliResult } from './cli-helpers.js';
import { CONFORMANCE_ROOT, conformanceFiles, conformancePresent, readConformance, reportMissingConformance } from './conformance-suite.js';
import { assemble } from '../src/asm/index.js';
import type { DataFile } from '../src/conformance/data-file.js';
import { runConformance } from '../src/conformance/runner.js';
import { conformanceHelpers } from '../src/conformance/test-helpers.js';
import { BpfError, InputError } from '../src/errors.js';
import { compileJit, loadOptimizer, type JitOptions } from '../src/jit/index.js';
import { JitExecutable } from '../src/jit/instance.js';
import { buildProgram, loadBytes, type Program } from '../src/program/program.js';
import type { Executable, Runtime } from '../src/runtime/executable.js';
import { HelperRegistry } from '../src/runtime/helpers.js';
import { EngineMemory } from '../src/runtime/memory.js';
import { CONFORMANCE_PROTOS, memory, verify } from '../src/verifier/index.js';

// The optimized tier runs binaryen in this thread.
await loadOptimizer();

const tests = conformanceFiles('tests');
const negatives = conformanceFiles('negative');
const TIERS = ['baseline', 'optimized'] as const;

function buildFrom(data: DataFile): Program {
  if (data.asm !== undefined) return buildProgram(assemble(data.asm, 'ubpf'));
  if (data.raw !== undefined) return loadBytes(data.raw);
  throw new InputError('no -- asm or -- raw section: nothing to run');
}

const newRuntime = (): Runtime => ({ mem: new EngineMemory({ cpus: 1 }), helpers: new HelperRegistry(conformanceHelpers()) });

const compile = (data: DataFile, rt: Runtime, options: JitOptions): Executable => compileJit(buildFrom(data), rt, options);

/** Compiled with the facts of the verifier, which must accept the program under memory(size of its -- mem). */
function compileVerified(data: DataFile, rt: Runtime, options: JitOptions): Executable {
  const program = buildFrom(data);
  const result = verify(program, { context: memory(data.mem.length), helpers: rt.helpers });
  if (!result.ok) throw result.error;
  return compileJit(program, rt, { ...options, facts: result.facts });
}

/** Copies the file's memory into engine memory (8-aligned, as the Vm places it) and runs with r1/r2 pointing at it (0/0 without). */
function runWithMemory(exe: Executable, data: DataFile, rt: Runtime): bigint {
  if (data.mem.length === 0) return exe.run(0, 0);
  const addr = rt.mem.alloc(data.mem.length, 8);
  rt.mem.write(addr, data.mem);
  return exe.run(addr, data.mem.length);
}

const hex = (v: bigint | undefined): string => '0x' + (v ?? 0n).toString(16);

describe.skipIf(!conformancePresent).each(TIERS)('conformance suite through the %s JIT', (tier) => {
  const rt = newRuntime();

  it('finds all 313 programs and the negative cases', () => {
    expect(tests.length).toBe(313);
    expect(negatives.length).toBeGreaterThan(0);
  });

  it.each(tests)('%s (checked)', (name) => {
    const data = readConformance(name);
    expect(data.result).toBeDefined();
    const exe = compile(data, rt, { tier });
    expect(exe instanceof JitExecutable && exe.tier).toBe(tier);
    expect(hex(runWithMemory(exe, data, rt))).toBe(hex(data.result));
  });

  // The flat layout normally serves only functions of over 1,000 blocks: run the suite through it too.
  it.each(tests)('%s (checked, flat layout instead of the structured one)', (name) => {
    const data = readConformance(name);
    expect(hex(runWithMemory(compile(data, rt, { tier, structure: 'layout' }), data, rt))).toBe(hex(data.result));
  });

  it.each(tests)('%s (verified: compiled with the facts)', (name) => {
    const data = readConformance(name);
    expect(hex(runWithMemory(compileVerified(data, rt, { tier }), data, rt))).toBe(hex(data.result));
  });

  it.each(negatives)('negative/%s is refused before it runs', (name) => {
    const data = readConformance(name, 'negative');
    let exe: Executable;
    try {
      exe = compile(data, rt, { tier });
    } catch (e) {
      expect(e).toBeInstanceOf(BpfError);
      return;
    }
    // A well-formed but unsafe program (error.data reads r0 before setting it) compiles for checked
    // mode; the verifier refuses it.
    if (data.expectError) {
      const r = verify(buildFrom(data), { context: memory(data.mem.length), helpers: CONFORMANCE_PROTOS });
      expect(r.ok ? 'accepted' : r.error.code).toMatch(/^E_VERIFY_/);
      return;
    }
    // Only a file with a deliberately wrong result may load; it must not produce that result.
    expect(data.result).toBeDefined();
    expect(data.expectError).toBe(false);
    expect(runWithMemory(exe, data, rt)).not.toBe(data.result);
  });
});

describe.skipIf(!conformancePresent)('the conformance runner and `bpfjit conformance` in the optimized tier', () => {
  // The runner's default tier is covered by test/cli.test.ts; one file is enough for the CLI's options.
  const one = `${CONFORMANCE_ROOT}/tests/add.data`;

  it('runConformance passes every file through the optimized JIT', () => {
    const report = runConformance(CONFORMANCE_ROOT, 'jit', { tier: 'optimized' });
    expect(report.failed, report.results.filter((r) => !r.passed).map((r) => `${r.file}: ${r.detail}`).join('\n')).toBe(0);
    expect(report.passed).toBe(tests.length + negatives.length);
  });

  it('refuses a tier it does not know, before running anything', () => {
    expect(() => runConformance(CONFORMANCE_ROOT, 'jit', { tier: 'fast' as 'auto' })).toThrow(expect.objectContaining({ code: 'E_INPUT' }));
  });

  it('--tier optimized loads binaryen; without it binaryen is never imported', () => {
    const passed = '1 passed, 0 failed\n';
    expect(cli('conformance', one, '--engine', 'both', '--tier', 'optimized')).toMatchObject({ code: 0, out: passed });
    // With every import of binaryen made to fail, the other tiers still pass and 'optimized' cannot start.
    expect(cliWithoutBinaryen('conformance', one, '--engine', 'both')).toMatchObject({ code: 0, out: passed });
    expect(cliWithoutBinaryen('conformance', one, '--tier', 'baseline')).toMatchObject({ code: 0, out: passed });
    const r = cliWithoutBinaryen('conformance', one, '--tier', 'optimized');
    expect(r.code).not.toBe(0);
    expect(r.err).toContain('binaryen imported');
  });

  it('refuses --tier for the interpreter alone, and a tier it does not know', () => {
    for (const args of [['--engine', 'interp', '--tier', 'baseline'], ['--tier', 'fast']]) {
      const r = cli('conformance', one, ...args);
      expect(r.code).toBe(2);
      expect(r.err).toContain('--tier');
    }
  });
});

/**
 * The CLI run with a module hook that fails every import of binaryen (Node's module.register, given
 * on the command line as --import data:...).
 */
function cliWithoutBinaryen(...args: string[]): CliResult {
  const hook = 'export async function resolve(s, c, next) { if (s === "binaryen") throw new Error("binaryen imported"); return next(s, c); }';
  const register = `import { register } from 'node:module'; register(${JSON.stringify(`data:text/javascript,${encodeURIComponent(hook)}`)});`;
  const flag = `--import=data:text/javascript,${encodeURIComponent(register)}`;
  const r = spawnSync(process.execPath, [flag, BIN, ...args], { encoding: 'utf8', env: { ...process.env, BPFJIT_DEBUG: '' } });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

reportMissingConformance('conformance suite through the JIT');
