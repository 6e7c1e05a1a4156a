/**
 * Runs the BPF conformance suite: every `*.data` file under a directory (its tests/ and negative/
 * folders included), or one file. A file passes when its program returns the stated r0; a file that
 * says `-- error`, or that lies in negative/, passes when the program is refused with a BpfError (or,
 * for a negative file with a stated result, when the runtime does not produce that result). A file
 * with no -- asm or -- raw section holds the empty program, which goes to the loader like any other
 * (the suite's negative/empty*.data expect it refused); a file that cannot be parsed is not
 * understood: a failure wherever it lies. Unverified runs (checked mode) still verify the programs
 * the suite expects refused: checked mode runs unsafe programs on purpose. The JIT runs in the tier
 * asked for (options.tier); 'auto' runs each program once, so it stays in baseline.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { BpfError, InputError } from '../errors.js';
import { encode } from '../isa/encode.js';
import { optimizerLoaded, type Tier } from '../jit/index.js';
import { buildProgram, loadBytes, type Program } from '../program/program.js';
import { HelperRegistry } from '../runtime/helpers.js';
import { EngineMemory } from '../runtime/memory.js';
import { assembleIn } from '../source.js';
import type { Executable, Runtime } from '../runtime/executable.js';
import { memory, verify, type VerifierFacts } from '../verifier/index.js';
import { compileFor, type EngineName } from '../vm.js';
import { readDataFile, type DataFile } from './data-file.js';
import { conformanceHelpers } from './test-helpers.js';

export type ConformanceEngine = EngineName | 'both';

export interface CaseResult {
  readonly file: string;
  readonly passed: boolean;
  /** What went wrong, for a failure; how it was refused, for a passing negative case. */
  readonly detail: string;
  /** A failure because the file could not be read as a test (no program, bad syntax). */
  readonly notUnderstood?: true;
}

export interface ConformanceReport {
  readonly results: readonly CaseResult[];
  readonly passed: number;
  readonly failed: number;
  /** Of the failures, the files that were not understood. */
  readonly notUnderstood: number;
}

/** Every `.data` file under `dir`, its own first, then each subdirectory's (dot-folders skipped). */
function walk(dir: string, out: string[]): void {
  const entries = readdirSync(dir, { withFileTypes: true }).filter((e) => !e.name.startsWith('.'))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const e of entries) if (e.isFile() && e.name.endsWith('.data')) out.push(join(dir, e.name));
  for (const e of entries) if (e.isDirectory()) walk(join(dir, e.name), out);
}

/**
 * The `.data` files to run: `path` itself when it is one, else every one under the directory (the
 * suite's tests/ and negative/, uBPF's per-program folders). Finding none is an error: a run of no
 * tests would pass vacuously.
 */
export function listDataFiles(path: string): string[] {
  if (!existsSync(path)) throw new InputError(`'${path}' does not exist (give a directory of .data files or one .data file)`);
  if (!statSync(path).isDirectory()) {
    if (!path.endsWith('.data')) throw new InputError(`'${path}' is neither a .data file nor a directory`);
    return [path];
  }
  const files: string[] = [];
  walk(path, files);
  if (files.length === 0) throw new InputError(`no .data files in '${path}'`);
  return files;
}

const hex = (v: bigint): string => '0x' + v.toString(16);

function buildFrom(file: DataFile): Program {
  if (file.asm !== undefined) {
    const insns = assembleIn(file.asm, file.asmAt ?? { file: '<data>', line: 1 });
    if (file.raw) {
      const bytes = encode(insns);
      if (bytes.length !== file.raw.length || bytes.some((b, i) => b !== file.raw![i])) {
        throw new InputError('-- asm and -- raw sections disagree');
      }
    }
    return buildProgram(insns);
  }
  return loadBytes(file.raw ?? new Uint8Array(0));
}

export interface ConformanceOptions {
  /** Verify each program under memory(size of its -- mem) and run it unchecked (default true). */
  readonly verify?: boolean;
  /**
   * The JIT's tier (default 'auto', which runs each program once, in baseline). 'optimized' needs
   * binaryen in this thread: await loadOptimizer() before.
   */
  readonly tier?: Tier;
}

interface Settings {
  readonly shouldVerify: boolean;
  readonly tier: Tier;
}

/** Verified programs run without checks; unverified ones in checked mode. */
function compile(engine: EngineName, program: Program, rt: Runtime, mem: Uint8Array, settings: Settings): Executable {
  let facts: VerifierFacts | undefined;
  if (settings.shouldVerify) {
    const result = verify(program, { context: memory(mem.length), helpers: rt.helpers });
    if (!result.ok) throw result.error;
    facts = result.facts;
  }
  return compileFor(engine, program, rt, engine === 'jit' ? { tier: settings.tier } : {}, facts);
}

function runOn(engine: EngineName, program: Program, rt: Runtime, mem: Uint8Array, settings: Settings): bigint {
  const exe = compile(engine, program, rt, mem, settings);
  if (mem.length === 0) return exe.run(0, 0, 0);
  const addr = rt.mem.alloc(mem.length, 8);
  rt.mem.write(addr, mem);
  return exe.run(addr, mem.length, 0);
}

type Outcome = { ok: true; r0: bigint } | { ok: false; error: string };

/** A file that passes only when the program is refused. */
const expectsRefusal = (file: DataFile, negative: boolean): boolean => file.expectError || (negative && file.result === undefined);

function attempt(engine: EngineName, file: DataFile, rt: Runtime, settings: Settings, refusalExpected: boolean): Outcome {
  try {
    const program = buildFrom(file);
    // Checked mode runs unsafe programs by design, so a well-formed one the suite wants refused
    // (error.data reads r0 before setting it) is asked of the verifier, which refuses it.
    return { ok: true, r0: runOn(engine, program, rt, file.mem, { ...settings, shouldVerify: settings.shouldVerify || refusalExpected }) };
  } catch (err) {
    if (err instanceof BpfError) return { ok: false, error: `${err.code}: ${err.message}` };
    // Not a BpfError: a bug in bpfjit. One line, like every other detail; the caller may add the stack.
    const what = err instanceof Error ? `${err.name}: ${err.message.split('\n')[0]}` : String(err);
    return { ok: false, error: `crash: ${what}` };
  }
}

function judge(path: string, negative: boolean, file: DataFile, out: Outcome): CaseResult {
  const name = path;
  if (!out.ok && out.error.startsWith('crash:')) return { file: name, passed: false, detail: out.error };
  if (expectsRefusal(file, negative)) {
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

/** A file the runner cannot make a test of: never a pass, whatever folder it is in. */
const notUnderstood = (path: string, why: string): CaseResult => ({ file: path, passed: false, notUnderstood: true, detail: `not understood: ${why}` });

function runCase(path: string, engine: ConformanceEngine, rt: Runtime, settings: Settings): CaseResult {
  const negative = basename(dirname(path)) === 'negative';
  let file: DataFile;
  try {
    file = readDataFile(path);
  } catch (err) {
    return notUnderstood(path, err instanceof Error ? err.message : String(err));
  }
  const engines: EngineName[] = engine === 'both' ? ['interp', 'jit'] : [engine];
  const refusalExpected = expectsRefusal(file, negative);
  const results = engines.map((e) => ({ e, r: judge(path, negative, file, attempt(e, file, rt, settings, refusalExpected)) }));
  const failed = results.find((x) => !x.r.passed);
  if (failed) return { ...failed.r, detail: `[${failed.e}] ${failed.r.detail}` };
  return results[0]!.r;
}

/** Runs one .data file, or every one under a directory. */
export function runConformance(dir: string, engine: ConformanceEngine = 'jit', options: ConformanceOptions = {}): ConformanceReport {
  const tier = options.tier ?? 'auto';
  // Checked here, not per file: a compile that cannot start would pass every file the suite wants refused.
  if (!['baseline', 'optimized', 'auto'].includes(tier)) throw new InputError(`tier must be baseline, optimized or auto, not '${String(tier)}'`);
  if (tier === 'optimized' && !optimizerLoaded()) {
    throw new InputError("tier 'optimized' needs binaryen in this thread: await loadOptimizer() before runConformance");
  }
  const files = listDataFiles(dir);
  const rt: Runtime = { mem: new EngineMemory({ cpus: 1 }), helpers: new HelperRegistry(conformanceHelpers()) };
  const results = files.map((f) => runCase(f, engine, rt, { shouldVerify: options.verify ?? true, tier }));
  const passed = results.filter((r) => r.passed).length;
  return { results, passed, failed: results.length - passed, notUnderstood: results.filter((r) => r.notUnderstood).length };
}
