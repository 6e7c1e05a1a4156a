/**
 * Finds the committed program binaries. They live in bench/programs next to the sources; compiled
 * code runs from dist/bench, which has no copy, so both places are tried.
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { InputError } from '../src/errors.js';

const CANDIDATES = ['./programs/', '../../bench/programs/'];

/** Absolute path of bench/programs. */
export function programsDir(): string {
  for (const rel of CANDIDATES) {
    const dir = fileURLToPath(new URL(rel, import.meta.url));
    if (existsSync(`${dir}build.sh`)) return dir;
  }
  throw new InputError('cannot find bench/programs (looked next to the bench code and in the package root)');
}

/** Bytes of bench/programs/NAME.bin. */
export function programBytes(name: string): Uint8Array {
  const file = `${programsDir()}${name}.bin`;
  if (!existsSync(file)) throw new InputError(`missing ${file}: run bench/programs/build.sh`);
  return new Uint8Array(readFileSync(file));
}
