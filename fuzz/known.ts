/**
 * Engine differences that are known and reported, but not fixed yet. `npm run fuzz -- --ignore-known`
 * counts cases they explain instead of stopping at them, so a long run can look for new ones; by
 * default every difference stops the run. Each entry names the failing test that holds the issue
 * (it fails until the fix lands; nothing is skipped); remove the entry once that test passes.
 */
import type { CaseInput, Differential } from './differential.js';

export interface KnownIssue {
  readonly id: string;
  readonly summary: string;
  /** True when this issue accounts for the case's difference. */
  explains(diff: Differential, c: CaseInput): boolean;
}

export const KNOWN_ISSUES: readonly KnownIssue[] = [];

/** The known issue behind a case's difference, if any. */
export function knownIssue(diff: Differential, c: CaseInput): KnownIssue | undefined {
  return KNOWN_ISSUES.find((issue) => issue.explains(diff, c));
}
