/**
 * Where the tests find the public BPF conformance suite: $BPFJIT_CONFORMANCE, else
 * ../shared/conformance beside the repository (read-only; it is never copied in). Any checkout of
 * github.com/Alan-Jowett/bpf_conformance works: its tests/ and negative/ folders are what is read.
 * Tests that need it skip when it is absent, and leave a skipped test that says where it was looked
 * for, so a run without it does not pass silently.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, it } from 'vitest';
import { parseDataFile, type DataFile } from '../src/conformance/data-file.js';

export const CONFORMANCE_ROOT = resolve(process.env['BPFJIT_CONFORMANCE'] ?? join(import.meta.dirname, '..', '..', 'shared', 'conformance'));
export const CONFORMANCE_TESTS = join(CONFORMANCE_ROOT, 'tests');
export const conformancePresent = existsSync(CONFORMANCE_TESTS);

export type SuiteDir = 'tests' | 'negative';

/** The .data files of tests/ or negative/, sorted; none when the suite is absent. */
export function conformanceFiles(dir: SuiteDir = 'tests'): string[] {
  if (!conformancePresent) return [];
  return readdirSync(join(CONFORMANCE_ROOT, dir)).filter((f) => f.endsWith('.data')).sort();
}

export function readConformance(name: string, dir: SuiteDir = 'tests'): DataFile {
  return parseDataFile(readFileSync(join(CONFORMANCE_ROOT, dir, name), 'utf8'), name);
}

/** When the suite is absent: a skipped test under `title` that says where it was looked for. */
export function reportMissingConformance(title: string): void {
  if (conformancePresent) return;
  describe(title, () => {
    it.skip(`skipped: the conformance suite is not at ${CONFORMANCE_ROOT} (set BPFJIT_CONFORMANCE to a checkout of bpf_conformance, or put one at ../shared/conformance)`, () => {});
  });
}
