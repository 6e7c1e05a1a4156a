/**
 * Files the CLI writes (asm -o, bench --json and --markdown). Their paths are checked before any
 * work, so a typo does not cost a whole benchmark run; every failure is an InputError (exit 2).
 */
import { accessSync, constants, statSync, writeFileSync, type Stats } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { InputError } from '../errors.js';

const errnoOf = (err: unknown): string => (err as NodeJS.ErrnoException).code ?? String(err);

function statOrUndefined(path: string): Stats | undefined {
  try {
    return statSync(path);
  } catch {
    return undefined;
  }
}

/** Throws unless `path` names a file that can be created or overwritten; `option` names the flag. */
export function checkOutputPath(option: string, path: string): void {
  if (path === '') throw new InputError(`${option} needs a file name`);
  const target = statOrUndefined(path);
  if (target?.isDirectory()) throw new InputError(`${option} '${path}' is a directory, not a file`);
  const dir = dirname(resolve(path));
  const parent = statOrUndefined(dir);
  if (!parent) throw new InputError(`${option} '${path}': directory '${dir}' does not exist`);
  if (!parent.isDirectory()) throw new InputError(`${option} '${path}': '${dir}' is not a directory`);
  try {
    accessSync(target ? path : dir, constants.W_OK);
  } catch (err) {
    throw new InputError(`${option} '${path}' is not writable (${errnoOf(err)})`);
  }
}

/** writeFileSync, with a failure (a full disk, a path that changed since the check) as an InputError. */
export function writeOutputFile(option: string, path: string, data: string | Uint8Array): void {
  try {
    writeFileSync(path, data);
  } catch (err) {
    throw new InputError(`${option}: cannot write '${path}' (${errnoOf(err)})`);
  }
}
