/**
 * Engine differences that are known and reported, but not fixed yet. `npm run fuzz -- --ignore-known`
 * counts cases they explain instead of stopping at them, so a long run can look for new ones; by
 * default every difference stops the run. Remove an entry once its fix lands (its `it.fails`
 * regression case in test/differential.test.ts then starts failing, as a reminder).
 */
import type { CaseInput, Differential } from './differential.js';

export interface KnownIssue {
  readonly id: string;
  readonly summary: string;
  /** True when this issue accounts for the case's difference. */
  explains(diff: Differential, c: CaseInput): boolean;
}

export const KNOWN_ISSUES: readonly KnownIssue[] = [
  {
    id: 'jump-table-branch-code',
    summary: 'JIT jump tables put each arm\'s path code on its Relooper switch branch. binaryen\'s Relooper skips ' +
      'empty target blocks (a block that compiles to nothing: `ja`, a jump to the next instruction, `le64`) and ' +
      'then merges branches that now share a target (SkipEmptyBlocks + MergeBranchInto), keeping one branch\'s ' +
      'code for both: keys run another arm\'s instructions (wrong r0), or binaryen.js aborts on its assertion ' +
      'IsCodeEquivalent and the JIT refuses the program (E_INPUT). Accounts for any difference that ' +
      'disappears with jumpTables: false. Regression cases: test/differential.test.ts, "regressions found by the fuzzer".',
    explains: (diff, c) => diff.runCase({ ...c, jumpTables: false }).difference === undefined,
  },
];

/** The known issue behind a case's difference, if any. */
export function knownIssue(diff: Differential, c: CaseInput): KnownIssue | undefined {
  return KNOWN_ISSUES.find((issue) => issue.explains(diff, c));
}
