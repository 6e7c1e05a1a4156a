/** `--type` values: which context descriptor a program is verified against. */
import { BpfError, InputError } from '../errors.js';
import { NotedFailure } from './failure.js';
import { event, memory, packet, type ContextDescriptor } from '../verifier/index.js';

/**
 * `memory` (r1 = the input, r2 = its length; the size comes from the input), `memory:SIZE`,
 * `event:SIZE` (a read-only record) or `packet` (r1 = {data, data_end}).
 */
export function parseContextType(value: string, inputLength: number | undefined): ContextDescriptor {
  const [kind, sizeText, ...rest] = value.split(':');
  const size = sizeText === undefined ? undefined : Number(sizeText);
  if (rest.length > 0 || (sizeText !== undefined && (!/^\d+$/.test(sizeText) || !Number.isSafeInteger(size)))) {
    throw new InputError(`--type '${value}': expected memory, memory:SIZE, event:SIZE or packet`);
  }
  switch (kind) {
    case 'memory': return memory(size ?? inputLength ?? 0);
    case 'event':
      if (size === undefined) throw new InputError('--type event needs a size: event:SIZE');
      return event(size);
    case 'packet':
      if (size !== undefined) throw new InputError('--type packet takes no size');
      return packet();
    default:
      throw new InputError(`--type '${value}': expected memory, memory:SIZE, event:SIZE or packet`);
  }
}

const NO_INPUT = 'no input was given, so r1 = 0 and r2 = 0 (give one with --mem FILE or --mem-hex HEX)';

/**
 * Under the default `--type memory` the context's size is the input's, so a program verified with
 * no input is checked against memory(0) and refused for touching r1: a refusal then also says that
 * no input was given, and how to give one.
 */
export function noteMissingInput(err: unknown, inputGiven: boolean, type: string): unknown {
  const refused = err instanceof BpfError && err.code.startsWith('E_VERIFY_');
  return refused && !inputGiven && type === 'memory' ? new NotedFailure(err, NO_INPUT) : err;
}
