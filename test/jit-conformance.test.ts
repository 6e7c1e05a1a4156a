// Runs every program of the BPF conformance suite (../shared/conformance) through the JIT: the 313
// programs in tests/ must return their stated r0, and every file in negative/ must be refused
// (by the assembler, the decoder, the program checks or the JIT, or, for a well-formed program, by
// the verifier) before anything runs, except incorrect_return_value_high_bits.data, whose stated
// result must not be produced.
import { describe, expect, it } from 'vitest';
import { conformanceFiles, conformancePresent, readConformance, reportMissingConformance } from './conformance-suite.js';
import { assemble } from '../src/asm/index.js';
import type { DataFile } from '../src/conformance/data-file.js';
import { conformanceHelpers } from '../src/conformance/test-helpers.js';
import { BpfError, InputError } from '../src/errors.js';
import { compileJit, type JitOptions } from '../src/jit/index.js';
import { buildProgram, loadBytes, type Program } from '../src/program/program.js';
import type { Executable, Runtime } from '../src/runtime/executable.js';
import { HelperRegistry } from '../src/runtime/helpers.js';
import { EngineMemory } from '../src/runtime/memory.js';
import { CONFORMANCE_PROTOS, memory, verify } from '../src/verifier/index.js';

const tests = conformanceFiles('tests');
const negatives = conformanceFiles('negative');

function buildFrom(data: DataFile): Program {
  if (data.asm !== undefined) return buildProgram(assemble(data.asm, 'ubpf'));
  if (data.raw !== undefined) return loadBytes(data.raw);
  throw new InputError('no -- asm or -- raw section: nothing to run');
}

const compile = (data: DataFile, rt: Runtime, options: JitOptions = {}): Executable => compileJit(buildFrom(data), rt, options);

/** Copies the file's memory into engine memory and runs with r1/r2 pointing at it (0/0 without). */
function runWithMemory(exe: Executable, data: DataFile, rt: Runtime): bigint {
  if (data.mem.length === 0) return exe.run(0, 0);
  const addr = rt.mem.alloc(data.mem.length);
  rt.mem.write(addr, data.mem);
  return exe.run(addr, data.mem.length);
}

describe.skipIf(!conformancePresent)('conformance suite through the JIT', () => {
  const rt: Runtime = { mem: new EngineMemory({ cpus: 1 }), helpers: new HelperRegistry(conformanceHelpers()) };

  it('finds all 313 programs and the negative cases', () => {
    expect(tests.length).toBe(313);
    expect(negatives.length).toBeGreaterThan(0);
  });

  it.each(tests)('%s', (name) => {
    const data = readConformance(name);
    expect(data.result).toBeDefined();
    const r0 = runWithMemory(compile(data, rt), data, rt);
    expect('0x' + r0.toString(16)).toBe('0x' + data.result!.toString(16));
  });

  // The flat layout normally serves only functions of over 1,000 blocks: run the suite through it too.
  it.each(tests)('%s (flat layout instead of the Relooper)', (name) => {
    const data = readConformance(name);
    const r0 = runWithMemory(compile(data, rt, { structure: 'layout' }), data, rt);
    expect('0x' + r0.toString(16)).toBe('0x' + data.result!.toString(16));
  });

  it.each(negatives)('negative/%s is refused before it runs', (name) => {
    const data = readConformance(name, 'negative');
    let exe: Executable;
    try {
      exe = compile(data, rt);
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

reportMissingConformance('conformance suite through the JIT');
