import { verify, type LogLevel, type Termination, type VerifierFacts, type VerifyStats } from '../verifier/index.js';
import type { VariableValue } from '../elf/index.js';
import { declaredDescriptors } from '../maps/bind.js';
import { standardRegistry } from '../runtime/standard-helpers.js';
import { noteMissingInput, parseContextType } from './context-arg.js';
import { helpersFor } from './helpers.js';
import { InputError } from '../errors.js';
import { isObjectFile } from './object-args.js';
import { loadProgramNamed } from './program-file.js';

export interface VerifyCommandOptions {
  /** --type; default memory (an object's program: its section's context). */
  type?: string;
  mem: Uint8Array | undefined;
  logLevel: LogLevel;
  termination: Termination;
  /** Largest program accepted, in slots (default 1,000,000). */
  maxSlots?: number;
  /** An object's program (--section) and its globals' values (--set). */
  section?: string;
  set?: Readonly<Record<string, VariableValue>>;
}

function summary(insns: number, contextName: string, s: VerifyStats, facts: VerifierFacts): string {
  const stats = `${s.insnsProcessed} instructions processed, ${s.statesStored} states stored (peak ${s.peakStates}), ${s.timeMs.toFixed(2)} ms`;
  const budget = facts.needsBudget ? ' (safe; a loop is not proven to end: runs keep the instruction budget)' : '';
  return `verified${budget}: ${insns} instructions, ${contextName}: ${stats}\n`;
}

const printLog = (log: string): void => { if (log) process.stdout.write(log.endsWith('\n') ? log : log + '\n'); };

/** An object's program, verified as loadObject loads it (frozen .rodata read as constants). */
async function verifyObject(path: string, opts: VerifyCommandOptions): Promise<void> {
  const { loadObjectForCli } = await import('./object-load.js');
  const { loaded } = loadObjectForCli(path, {
    engine: 'interp', logTo: process.stdout, logLevel: opts.logLevel, termination: opts.termination, inputLength: opts.mem?.length ?? 0,
    ...(opts.type !== undefined ? { type: opts.type } : {}), ...(opts.section !== undefined ? { section: opts.section } : {}),
    ...(opts.set ? { set: opts.set } : {}), ...(opts.maxSlots ? { maxSlots: opts.maxSlots } : {}),
  });
  const v = loaded.verification!;
  printLog(v.log);
  process.stdout.write(summary(loaded.program.insns.length, loaded.context?.name ?? 'no context', v.stats, v.facts));
}

/** `bpfjit verify`: exit 0 with a one-line summary when safe, 1 with the refusal otherwise. */
export async function verifyCommand(path: string, opts: VerifyCommandOptions): Promise<void> {
  if (isObjectFile(path)) return verifyObject(path, opts);
  if (opts.set && Object.keys(opts.set).length > 0) throw new InputError(`--set: ${path} is not an ELF object (only objects have global variables)`);
  const file = loadProgramNamed(path, opts);
  const memLength = (opts.mem ?? file.mem)?.length ?? 0;
  const type = opts.type ?? 'memory';
  const context = parseContextType(type, memLength);
  const result = verify(file.program, {
    context, helpers: standardRegistry(helpersFor(path)), logLevel: opts.logLevel, termination: opts.termination,
    maps: declaredDescriptors(file.program.maps),
  });
  printLog(result.log);
  if (!result.ok) throw noteMissingInput(result.error, memLength > 0 || opts.mem !== undefined, type);
  process.stdout.write(summary(file.program.insns.length, context.name, result.stats, result.facts));
}
