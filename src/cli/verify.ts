import { verify, type LogLevel, type Termination } from '../verifier/index.js';
import { declaredDescriptors } from '../maps/bind.js';
import { standardRegistry } from '../runtime/standard-helpers.js';
import { noteMissingInput, parseContextType } from './context-arg.js';
import { helpersFor } from './helpers.js';
import { loadProgramNamed } from './program-file.js';

export interface VerifyCommandOptions {
  type: string;
  mem: Uint8Array | undefined;
  logLevel: LogLevel;
  termination: Termination;
  /** Largest program accepted, in slots (default 1,000,000). */
  maxSlots?: number;
}

/** `bpfjit verify`: exit 0 with a one-line summary when safe, 1 with the refusal otherwise. */
export function verifyCommand(path: string, opts: VerifyCommandOptions): void {
  const file = loadProgramNamed(path, opts);
  const memLength = (opts.mem ?? file.mem)?.length ?? 0;
  const context = parseContextType(opts.type, memLength);
  const result = verify(file.program, {
    context, helpers: standardRegistry(helpersFor(path)), logLevel: opts.logLevel, termination: opts.termination,
    maps: declaredDescriptors(file.program.maps),
  });
  if (result.log) process.stdout.write(result.log.endsWith('\n') ? result.log : result.log + '\n');
  const s = result.stats;
  const stats = `${s.insnsProcessed} instructions processed, ${s.statesStored} states stored (peak ${s.peakStates}), ${s.timeMs.toFixed(2)} ms`;
  if (!result.ok) throw noteMissingInput(result.error, memLength > 0 || opts.mem !== undefined, opts.type);
  const budget = result.facts.needsBudget ? ' (safe; a loop is not proven to end: runs keep the instruction budget)' : '';
  process.stdout.write(`verified${budget}: ${file.program.insns.length} instructions, ${context.name}: ${stats}\n`);
}
