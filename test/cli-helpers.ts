/** Spawning the built CLI (bin/bpfjit.js) for the CLI tests, and scratch files for them. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';

export const BIN = join(import.meta.dirname, '..', 'bin', 'bpfjit.js');

export interface CliResult {
  readonly code: number;
  readonly out: string;
  readonly err: string;
}

export function cli(...args: string[]): CliResult {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env: { ...process.env, BPFJIT_DEBUG: '' } });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

/** A fresh scratch directory and a function writing a file into it. */
export function scratch(prefix: string): { dir: string; write: (name: string, text: string | Uint8Array) => string } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return {
    dir,
    write: (name, text) => {
      const path = join(dir, name);
      writeFileSync(path, text);
      return path;
    },
  };
}

/** A failure as the CLI must print it: the exit code, exactly one line on stderr, no stack trace. */
export function expectOneLineFailure(r: CliResult, code: number, pattern?: RegExp): void {
  expect(r.err, r.err).not.toMatch(/^\s+at /m);
  expect(r.err.endsWith('\n') && r.err.trim().split('\n').length === 1, `stderr: ${JSON.stringify(r.err)}`).toBe(true);
  expect(r.code, r.err).toBe(code);
  if (pattern) expect(r.err).toMatch(pattern);
}
