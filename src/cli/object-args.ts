/**
 * What the commands check about ELF objects before loading any of the ELF code (it is imported only
 * for an object): whether a file is one, and the `--set` values.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { extname } from 'node:path';
import type { VariableValue } from '../elf/index.js';
import { InputError } from '../errors.js';

const ELF_MAGIC = [0x7f, 0x45, 0x4c, 0x46];

/**
 * Whether the file is an object: it starts with \x7fELF, or is named `.o` (so a damaged one gets the
 * ELF reader's error, naming what is wrong, rather than a bytecode decoder's). An unreadable file is
 * not one: the usual path reports it.
 */
export function isObjectFile(path: string): boolean {
  if (extname(path).toLowerCase() === '.o') return true;
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    const head = new Uint8Array(4);
    const n = readSync(fd, head, 0, 4, 0);
    return n === 4 && ELF_MAGIC.every((b, i) => head[i] === b);
  } catch {
    return false;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** `--set NAME=VALUE`: decimal or 0x hex integers (negative too), true or false. */
export function parseSets(list: readonly string[] | undefined): Record<string, VariableValue> {
  const out: Record<string, VariableValue> = {};
  for (const item of list ?? []) {
    const eq = item.indexOf('=');
    const name = item.slice(0, eq);
    const text = item.slice(eq + 1).trim();
    if (eq <= 0) throw new InputError(`--set '${item}': expected NAME=VALUE`);
    if (text === 'true' || text === 'false') out[name] = text === 'true';
    else if (/^-?(0x[0-9a-f]+|\d+)$/i.test(text)) out[name] = text.startsWith('-') ? -BigInt(text.slice(1)) : BigInt(text);
    else throw new InputError(`--set ${name}: '${text}' is not a number (decimal or 0x hex) or true/false`);
  }
  return out;
}
