/**
 * Runs the BPF conformance suite: every `*.data` file under a directory (and its tests/ and negative/
 * folders). A file passes when its program returns the stated r0; a file that says `-- error`, or that
 * lies in negative/, passes when the program is refused with a BpfError (or, for a negative file with a
 * stated result, when the runtime does not produce that result).
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { assemble } from '../asm/index.js';
import { BpfError, InputError } from '../errors.js';
import { encode } from '../isa/encode.js';
import { buildProgram, loadBytes, type Program } from '../program/program.js';
import { HelperRegistry } from '../runtime/helpers.js';
import { EngineMemory } from '../runtime/memory.js';
import type { Executable, Runtime } from '../runtime/executable.js';
import { memory, verify, type VerifierFacts } from '../verifier/index.js';
import { compileFor, type EngineName } from '../vm.js';
import { parseDataFile, type DataFile } from './data-file.js';
import { conformanceHelpers } from './test-helpers.js';

export type ConformanceEngine = EngineName | 'both';

export interface CaseResult {
  readonly file: string;
  readonly passed: boolean;
  /** What went wrong, for a failure; how it was refused, for a passing negative case. */
  readonly detail: string;
}

export interface ConformanceReport {
  readonly results: readonly CaseResult[];
  readonly passed: number;
  readonly failed: number;
}

/** The `.data` files the suite holds, sorted, from DIR, DIR/tests and DIR/negative. */
export function listDataFiles(dir: string): string[] {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new InputError(`conformance directory '${dir}' does not exist`);
  const files: string[] = [];
  for (const sub of ['', 'tests', 'negative']) {
    const d = join(dir, sub);
    if (!existsSync(d) || !statSync(d).isDirectory()) continue;
    for (const name of readdirSync(d).sort()) if (name.endsWith('.data')) files.push(join(d, name));
  }
  return files;
}

const hex = (v: bigint): string => '0x' + v.toString(16);

function buildFrom(file: DataFile): Program {
  if (file.asm !== undefined) {
    const insns = assemble(file.asm);
    if (file.raw) {
      const bytes = encode(insns);
      if (bytes.length !== file.raw.length || bytes.some((b, i) => b !== file.raw![i])) {
        throw new InputError('-- asm and -- raw sections disagree');
      }
    }
    return buildProgram(insns);
  }
  if (file.raw) return loadBytes(file.raw);
  throw new InputError('no -- asm or -- raw section: nothing to run');
}

export interface ConformanceOptions {
  /** Verify each program under memory(size of its -- mem) and run it unchecked (default true). */
  readonly verify?: boolean;
}

/** Verified programs run without checks; unverified ones in checked mode. */
function compile(engine: EngineName, program: Program, rt: Runtime, mem: Uint8Array, shouldVerify: boolean): Executable {
  let facts: VerifierFacts | undefined;
  if (shouldVerify) {
    const result = verify(program, { context: memory(mem.length), helpers: rt.helpers });
    if (!result.ok) throw result.error;
    facts = result.facts;
  }
  return compileFor(engine, program, rt, {}, facts);
}

function runOn(engine: EngineName, program: Program, rt: Runtime, mem: Uint8Array, shouldVerify: boolean): bigint {
  const exe = compile(engine, program, rt, mem, shouldVerify);
  if (mem.length === 0) return exe.run(0, 0, 0);
  const addr = rt.mem.alloc(mem.length, 8);
  rt.mem.write(addr, mem);
  return exe.run(addr, mem.length, 0);
}

type Outcome = { ok: true; r0: bigint } | { ok: false; error: string };

function attempt(engine: EngineName, file: DataFile, rt: Runtime, shouldVerify: boolean): Outcome {
  try {
    return { ok: true, r0: runOn(engine, buildFrom(file), rt, file.mem, shouldVerify) };
  } catch (err) {
    if (err instanceof BpfError) return { ok: false, error: `${err.code}: ${err.message}` };
    return { ok: false, error: `crash: ${err instanceof Error ? err.stack ?? err.message : String(err)}` };
  }
}

function judge(path: string, negative: boolean, file: DataFile, out: Outcome): CaseResult {
  const name = path;
  if (!out.ok && out.error.startsWith('crash:')) return { file: name, passed: false, detail: out.error };
  if (file.expectError || (negative && file.result === undefined)) {
    return out.ok
      ? { file: name, passed: false, detail: `expected the program to be refused, got ${hex(out.r0)}` }
      : { file: name, passed: true, detail: out.error };
  }
  if (negative) {
    // The stated result is deliberately wrong: a correct runtime must not produce it.
    if (!out.ok) return { file: name, passed: true, detail: out.error };
    return out.r0 === file.result
      ? { file: name, passed: false, detail: `produced the deliberately wrong result ${hex(out.r0)}` }
      : { file: name, passed: true, detail: `returned ${hex(out.r0)}, not the wrong ${hex(file.result!)}` };
  }
  if (!out.ok) return { file: name, passed: false, detail: `expected ${hex(file.result ?? 0n)}, got error ${out.error}` };
  if (file.result === undefined) return { file: name, passed: false, detail: 'file states no -- result' };
  return out.r0 === file.result
    ? { file: name, passed: true, detail: hex(out.r0) }
    : { file: name, passed: false, detail: `expected ${hex(file.result)}, got ${hex(out.r0)}` };
}

function runCase(path: string, engine: ConformanceEngine, rt: Runtime, shouldVerify: boolean): CaseResult {
  const negative = basename(join(path, '..')) === 'negative';
  let file: DataFile;
  try {
    file = parseDataFile(readFileSync(path, 'utf8'), path);
  } catch (err) {
    return { file: path, passed: false, detail: `unreadable: ${(err as Error).message}` };
  }
  const engines: EngineName[] = engine === 'both' ? ['interp', 'jit'] : [engine];
  const results = engines.map((e) => ({ e, r: judge(path, negative, file, attempt(e, file, rt, shouldVerify)) }));
  const failed = results.find((x) => !x.r.passed);
  if (failed) return { ...failed.r, detail: `[${failed.e}] ${failed.r.detail}` };
  return results[0]!.r;
}

export function runConformance(dir: string, engine: ConformanceEngine = 'jit', options: ConformanceOptions = {}): ConformanceReport {
  const files = listDataFiles(dir);
  const rt: Runtime = { mem: new EngineMemory({ cpus: 1 }), helpers: new HelperRegistry(conformanceHelpers()) };
  const results = files.map((f) => runCase(f, engine, rt, options.verify ?? true));
  const passed = results.filter((r) => r.passed).length;
  return { results, passed, failed: results.length - passed };
}
