/**
 * `run` and `verify` of an ELF object: the object loaded with loadObject (its maps, globals with the
 * `--set` values, CO-RE, the section's default context, which `--type`/`--context` override), then
 * the chosen program.
 */
import { loadObject, type LoadedObject, type ObjectSpec, type ProgramSpec, type VariableValue } from '../elf/index.js';
import type { Tier } from '../jit/index.js';
import { VerifyError, type LogLevel, type Termination } from '../verifier/index.js';
import { Vm, type EngineName, type LoadedProgram } from '../vm.js';
import { parseContextType } from './context-arg.js';
import { chooseProgram, readObject } from './object-file.js';

export interface ObjectLoadCliOptions {
  readonly engine: EngineName;
  readonly tier?: Tier;
  readonly section?: string;
  readonly set?: Readonly<Record<string, VariableValue>>;
  /** --type/--context, when given: overrides the section's context. */
  readonly type?: string;
  /** The input's length, for `--type memory` (the context's size comes from the input). */
  readonly inputLength: number;
  readonly unverified?: boolean;
  readonly logLevel: LogLevel;
  readonly termination?: Termination;
  readonly maxSlots?: number;
  /** CPUs of the Vm (run --workers: one per worker thread). */
  readonly cpus?: number;
  /** Where a refusal's verifier log goes (with --log-level 1 or 2): verify prints it on stdout, run on stderr. */
  readonly logTo?: NodeJS.WriteStream;
}

export interface CliObject {
  readonly spec: ObjectSpec;
  readonly program: ProgramSpec;
  readonly obj: LoadedObject;
  readonly loaded: LoadedProgram;
  readonly vm: Vm;
}

/**
 * Loads the object's chosen program (only it: another program's refusal is not this one's business);
 * a refusal prints the verifier's log first when one was asked for. bpf_trace_printk's text goes to
 * stderr, as a trace pipe would show it.
 */
export function loadObjectForCli(path: string, opts: ObjectLoadCliOptions): CliObject {
  const spec = readObject(path);
  const program = chooseProgram(spec, opts.section, path);
  const vm = new Vm({ tracePrintk: (text) => { process.stderr.write(text); }, cpus: opts.cpus ?? 1, ...(opts.maxSlots ? { maxSlots: opts.maxSlots } : {}) });
  const context = opts.type === undefined ? undefined : parseContextType(opts.type, opts.inputLength);
  let obj: LoadedObject;
  try {
    obj = loadObject(vm, spec, {
      programs: [program.name], engine: opts.engine, tier: opts.tier ?? 'auto', ...(context ? { context } : {}), ...(opts.set ? { set: opts.set } : {}),
      ...(opts.unverified ? { unverified: true } : { logLevel: opts.logLevel, termination: opts.termination ?? 'prove' }),
    });
  } catch (err) {
    if (err instanceof VerifyError && opts.logLevel > 0 && err.log) (opts.logTo ?? process.stderr).write(err.log.endsWith('\n') ? err.log : `${err.log}\n`);
    throw err;
  }
  return { spec, program, obj, loaded: obj.program(program.name), vm };
}

/** The size of the record a program's context is (event(size), a tracing program's struct); undefined for others. */
export function recordSize(loaded: LoadedProgram): number | undefined {
  const ctx = loaded.context;
  return ctx && !ctx.layout && ctx.r1.kind === 'struct' ? ctx.r1.size : undefined;
}

/** The input a program of no given input runs on: a zeroed record for a record context, else nothing. */
export const defaultInput = (loaded: LoadedProgram): Uint8Array => new Uint8Array(recordSize(loaded) ?? 0);
