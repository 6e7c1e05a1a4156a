// Loading and running programs never imports binaryen: the optimizing tier is loaded only when asked
// for (src/jit/optimizer.ts). Each command runs in a node whose resolver refuses 'binaryen'.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CONFORMANCE_ROOT, conformancePresent } from './conformance-suite.js';

const repo = join(import.meta.dirname, '..');
const forbid = join(repo, 'test', 'fixtures', 'forbid-binaryen.mjs');
const dir = mkdtempSync(join(tmpdir(), 'bpfjit-load-path-'));
const prog = join(dir, 'sum.s');
writeFileSync(prog, 'r0 = *(u8 *)(r1 + 0)\nr3 = *(u8 *)(r1 + 1)\nr0 += r3\nexit\n');

function bpfjit(...args: string[]): { code: number | null; out: string; err: string } {
  const r = spawnSync(process.execPath, ['--import', forbid, join(repo, 'bin', 'bpfjit.js'), ...args], { encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('the load path without binaryen', () => {
  it.each([
    ['run (jit)', ['run', prog, '--mem-hex', '05fa']],
    ['run --unverified', ['run', prog, '--mem-hex', '05fa', '--unverified']],
    ['run (interp)', ['run', prog, '--mem-hex', '05fa', '--engine', 'interp']],
    ['verify', ['verify', prog, '--mem-hex', '05fa']],
    ['disasm', ['disasm', prog]],
  ])('%s', (_name, args) => {
    const r = bpfjit(...args);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
  });

  it.skipIf(!conformancePresent)('conformance --engine jit', () => {
    const r = bpfjit('conformance', CONFORMANCE_ROOT, '--engine', 'jit');
    expect(r.out).toMatch(/ passed, 0 failed\n$/);
    expect(r.code).toBe(0);
  });

  it('and the hook does refuse it: dump-wasm prints through binaryen', () => {
    const r = bpfjit('dump-wasm', prog);
    expect(r.code).not.toBe(0);
    expect(r.err).toMatch(/binaryen was imported/);
  });
});
