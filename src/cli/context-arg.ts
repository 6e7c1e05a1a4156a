/** `--type` values: which context descriptor a program is verified against. */
import { InputError } from '../errors.js';
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
