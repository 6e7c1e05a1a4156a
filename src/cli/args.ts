/** Parsing and checking of CLI argument values; every failure is an InputError (exit code 2). */
import { InputError } from '../errors.js';

export function parseSyntax(value: string | undefined): 'ubpf' | 'llvm' | undefined {
  if (value === undefined) return undefined;
  if (value === 'ubpf' || value === 'llvm') return value;
  throw new InputError(`--syntax must be 'llvm' or 'ubpf', not '${value}'`);
}

/** One of the allowed words (an engine, a tier) for the option `flag`. */
export function parseEngine<T extends string>(value: string, allowed: readonly T[], flag = '--engine'): T {
  if ((allowed as readonly string[]).includes(value)) return value as T;
  throw new InputError(`${flag} must be one of ${allowed.join(', ')}, not '${value}'`);
}

export function parsePositiveInt(name: string, value: string): number {
  if (!/^\d+$/.test(value) || Number(value) < 1 || !Number.isSafeInteger(Number(value))) {
    throw new InputError(`${name} must be a positive integer, not '${value}'`);
  }
  return Number(value);
}

/** Hex bytes, with or without spaces (`aa bb cc` or `aabbcc`), optional 0x prefix. */
export function parseHexBytes(value: string): Uint8Array {
  const digits = value.replace(/^0x/i, '').replace(/[\s,:]/g, '');
  if (digits.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(digits)) {
    throw new InputError(`--mem-hex: '${value}' is not a sequence of hex bytes`);
  }
  const bytes = new Uint8Array(digits.length / 2);
  for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(digits.slice(2 * i, 2 * i + 2), 16);
  return bytes;
}
