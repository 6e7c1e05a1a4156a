/** `--type` values: which context descriptor a program is verified against. */
import { BpfError, InputError } from '../errors.js';
import { NotedFailure } from './failure.js';
import { event, kernelContextByName, memory, packet, type ContextDescriptor } from '../verifier/index.js';

const EXPECTED = 'expected memory, memory:SIZE, event:SIZE, packet, xdp, socket or tc';

/**
 * `memory` (r1 = the input, r2 = its length; the size comes from the input), `memory:SIZE`,
 * `event:SIZE` (a read-only record), `packet` (r1 = {data, data_end}), or a kernel context around
 * the input packet: `xdp` (struct xdp_md), `socket` or `tc` (struct __sk_buff).
 */
export function parseContextType(value: string, inputLength: number | undefined): ContextDescriptor {
  const [kind, sizeText, ...rest] = value.split(':');
  const size = sizeText === undefined ? undefined : Number(sizeText);
  if (rest.length > 0 || (sizeText !== undefined && (!/^\d+$/.test(sizeText) || !Number.isSafeInteger(size)))) {
    throw new InputError(`--type '${value}': ${EXPECTED}`);
  }
  const kernel = kernelContextByName(kind ?? '');
  if (kernel) {
    if (size !== undefined) throw new InputError(`--type ${kind} takes no size`);
    return kernel;
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
      throw new InputError(`--type '${value}': ${EXPECTED}`);
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
