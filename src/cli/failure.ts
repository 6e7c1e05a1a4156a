/**
 * How the command line reports a failure: one line on stderr and an exit code that says whose
 * problem it is. 0 ok; 1 the program was refused (E_VERIFY_*) or faulted while running (E_RUN_*);
 * 2 bad input or arguments (every other code: E_INPUT, E_DECODE_*, E_ASM_*, structural errors);
 * 70 (EX_SOFTWARE) a bug in bpfjit itself: E_INTERNAL, or anything thrown that is not a BpfError.
 */
import { CommanderError } from 'commander';
import { AsmError, BpfError } from '../errors.js';

export const EXIT_REFUSED = 1;
export const EXIT_USAGE = 2;
export const EXIT_INTERNAL = 70;

/**
 * A failure with a note for the user put in front of its message, e.g. that no input was given, when
 * a refusal may be about the missing input. The exit code is the wrapped error's.
 */
export class NotedFailure extends Error {
  constructor(readonly error: unknown, readonly note: string) {
    super(error instanceof Error ? error.message : String(error));
  }
}

const unwrap = (error: unknown): unknown => (error instanceof NotedFailure ? error.error : error);

/** Codes are classified by prefix, so codes added or renamed later land in the right class. */
export function exitCodeFor(error: unknown): number {
  const e = unwrap(error);
  if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : EXIT_USAGE;
  if (!(e instanceof BpfError) || e.code === 'E_INTERNAL') return EXIT_INTERNAL;
  return /^E_(VERIFY|RUN)_/.test(e.code) ? EXIT_REFUSED : EXIT_USAGE;
}

const REPORT = 'this is a bug in bpfjit: please report it with the command that caused it'
  + ' (BPFJIT_DEBUG=1 prints the stack trace)';

/** The message of an error that is not the user's doing. */
function internalLine(error: unknown): string {
  // A JavaScript error's class says what went wrong (TypeError, RangeError); ours say it in the message.
  const named = error instanceof Error && !(error instanceof BpfError) && error.name !== 'Error';
  const text = error instanceof Error ? `${named ? `${error.name}: ` : ''}${error.message}` : String(error);
  const message = text.split('\n')[0]!.replace(/^internal error: /, '');
  return `bpfjit: internal error: ${message}; ${REPORT}`;
}

/** What a BpfError prints: refusals say so, every code but E_INPUT is shown in brackets. */
function bpfLine(error: BpfError, note: string): string {
  const message = note + error.message.split('\n')[0]!;
  if (error.code === 'E_INPUT') return `bpfjit: ${message}`;
  // `file:line:column: message`, without the program name, so editors can jump to the place.
  if (error instanceof AsmError && error.file !== undefined) return `${message} [${error.code}]`;
  const refused = error.code.startsWith('E_VERIFY_') ? 'refused: ' : '';
  return `bpfjit: ${refused}${message} [${error.code}]`;
}

/** The one line (no newline) the CLI prints for `error`. */
export function failureLine(error: unknown): string {
  const e = unwrap(error);
  const note = error instanceof NotedFailure ? `${error.note}: ` : '';
  if (e instanceof CommanderError) return `bpfjit: ${e.message.replace(/^error: /, '')}`;
  if (exitCodeFor(e) === EXIT_INTERNAL) return internalLine(e);
  return bpfLine(e as BpfError, note);
}

/** Prints the failure (plus the stack under BPFJIT_DEBUG=1) and returns the exit code. */
export function reportFailure(error: unknown): number {
  const code = exitCodeFor(error);
  const e = unwrap(error);
  const silent = e instanceof CommanderError && (code === 0 || e.code === 'commander.help');
  if (!silent) process.stderr.write(`${failureLine(error)}\n`);
  if (process.env['BPFJIT_DEBUG'] === '1' && e instanceof Error && e.stack) process.stderr.write(`${e.stack}\n`);
  return code;
}
