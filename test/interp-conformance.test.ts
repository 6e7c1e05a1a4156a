// Runs every program of the BPF conformance suite (../shared/conformance/tests) through the interpreter.
import { describe, expect, it } from 'vitest';
import { CONFORMANCE_ROOT, conformanceFiles, conformancePresent, readConformance, reportMissingConformance } from './conformance-suite.js';
import { assemble } from '../src/asm/index.js';
import { runConformance } from '../src/conformance/runner.js';
import { conformanceHelpers } from '../src/conformance/test-helpers.js';
import { createInterpreter } from '../src/interp/index.js';
import { buildProgram, loadBytes } from '../src/program/program.js';
import type { Runtime } from '../src/runtime/executable.js';
import { HelperRegistry } from '../src/runtime/helpers.js';
import { EngineMemory } from '../src/runtime/memory.js';

const files = conformanceFiles();

function runFile(name: string, rt: Runtime): { r0: bigint; expected: bigint | undefined } {
  const data = readConformance(name);
  const program = data.asm !== undefined ? buildProgram(assemble(data.asm, 'ubpf')) : loadBytes(data.raw!);
  const exe = createInterpreter(program, rt);
  let addr = 0;
  if (data.mem.length > 0) {
    addr = rt.mem.alloc(data.mem.length);
    rt.mem.write(addr, data.mem);
  }
  return { r0: exe.run(addr, data.mem.length), expected: data.result };
}

describe.skipIf(!conformancePresent)('conformance suite through the interpreter', () => {
  const rt: Runtime = { mem: new EngineMemory({ cpus: 1 }), helpers: new HelperRegistry(conformanceHelpers()) };

  it('finds all 313 programs', () => {
    expect(files.length).toBe(313);
  });

  it.each(files)('%s', (name) => {
    const { r0, expected } = runFile(name, rt);
    expect(expected).toBeDefined();
    expect('0x' + r0.toString(16)).toBe('0x' + expected!.toString(16));
  });
});

// This file never loads binaryen, so the runner must refuse the optimized tier up front: compiling
// file by file would fail every program, and so pass every file the suite wants refused.
describe.skipIf(!conformancePresent)('the conformance runner without binaryen loaded', () => {
  it("refuses tier 'optimized' before running anything, and runs the others", () => {
    expect(() => runConformance(CONFORMANCE_ROOT, 'both', { tier: 'optimized' })).toThrow(expect.objectContaining({ code: 'E_INPUT', message: expect.stringContaining('loadOptimizer') }));
    expect(runConformance(CONFORMANCE_ROOT, 'both', { tier: 'baseline' })).toMatchObject({ failed: 0 });
  });
});

reportMissingConformance('conformance suite through the interpreter');
