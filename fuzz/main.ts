/**
 * Differential fuzzing of the checked interpreter against the other engines (differential.ts):
 *
 *   npm run fuzz -- --runs N [--seed S] [--path P] [--ignore-known] [--engines jit,jit-facts]
 *
 * Runs N generated programs through the interpreter and the engines (default: all of them: the checked
 * JIT, and the JIT compiled with the verifier's facts for the programs the verifier accepts). On the
 * first difference fast-check shrinks the case, and this prints it as uBPF assembly with its input and
 * every outcome, then exits 1; otherwise it prints a summary (cases per second, how the runs ended, how
 * many the verifier accepted) and exits 0. `--seed` and `--path` (both printed on failure) replay a
 * case. `--ignore-known` counts differences that a known, reported issue explains (known.ts) instead
 * of stopping at them.
 */
import fc from 'fast-check';
import { Differential, FUZZ_ENGINES, caseOf, type CaseResult, type FuzzEngine } from './differential.js';
import { knownIssue } from './known.js';
import { programSpec } from './program-gen.js';
import { formatCounterexample } from './report.js';
import type { ProgramSpec } from './spec.js';

interface Args {
  runs: number;
  seed: number;
  path: string | undefined;
  ignoreKnown: boolean;
  engines: FuzzEngine[];
}

const USAGE = `usage: npm run fuzz -- [--runs N] [--seed S] [--path P] [--ignore-known] [--engines ${FUZZ_ENGINES.join(',')}]`;

function parseEngines(value: string): FuzzEngine[] {
  const names = value.split(',').map((n) => n.trim()).filter((n) => n !== '');
  const bad = names.filter((n) => !(FUZZ_ENGINES as readonly string[]).includes(n));
  if (bad.length > 0 || names.length === 0) throw new Error(`--engines takes a list of ${FUZZ_ENGINES.join(', ')}; got ${value}`);
  return names as FuzzEngine[];
}

function parseArgs(argv: readonly string[]): Args {
  const args: Args = { runs: 1000, seed: Date.now() % 0x7fffffff, path: undefined, ignoreKnown: false, engines: [...FUZZ_ENGINES] };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i], value = argv[i + 1];
    if (flag === '--help' || flag === '-h') {
      console.log(USAGE);
      process.exit(0);
    }
    if (flag === '--ignore-known') {
      args.ignoreKnown = true;
      continue;
    }
    if (value === undefined) throw new Error(`${flag} needs a value\n${USAGE}`);
    i++;
    if (flag === '--runs' || flag === '--seed') {
      const n = Number(value);
      if (!Number.isSafeInteger(n) || n < 0) throw new Error(`${flag} must be a non-negative integer, got ${value}`);
      if (flag === '--runs') args.runs = n;
      else args.seed = n;
    } else if (flag === '--path') {
      args.path = value;
    } else if (flag === '--engines') {
      args.engines = parseEngines(value);
    } else {
      throw new Error(`unknown option ${flag}\n${USAGE}`);
    }
  }
  return args;
}

/** How runs ended (interpreter side), counted until the first failure. */
class Tally {
  readonly counts = new Map<string, number>();
  /** Differences explained by known issues, by issue id. */
  readonly known = new Map<string, number>();
  cases = 0;
  insns = 0;
  /** Cases the verifier was asked about, and how many it accepted (run by the JIT with facts). */
  verified = 0;
  accepted = 0;

  add(result: CaseResult): void {
    this.cases++;
    this.insns += result.insns.length;
    const key = result.interp.error ? result.interp.error.code : 'r0';
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
    if (result.verdict !== undefined) this.verified++;
    if (result.verdict === 'accepted') this.accepted++;
  }

  summary(): string {
    const parts = [...this.counts].sort((a, b) => b[1] - a[1])
      .map(([k, n]) => `${k === 'r0' ? 'returned' : k} ${((100 * n) / Math.max(1, this.cases)).toFixed(1)}%`);
    const known = [...this.known].map(([id, n]) => `\nknown issue ${id}: ${n} cases`).join('');
    const verified = this.verified === 0 ? '' : `\nverifier accepted ${this.accepted} of ${this.verified} aligned cases (${((100 * this.accepted) / this.verified).toFixed(1)}%), run by the JIT with facts`;
    return `average ${(this.insns / Math.max(1, this.cases)).toFixed(1)} instructions; ${parts.join(', ')}${verified}${known}`;
  }
}

function main(): number {
  const args = parseArgs(process.argv.slice(2));
  const diff = new Differential(args.engines);
  const tally = new Tally();
  let failing = false;
  const started = performance.now();
  let lastReport = started;
  const property = fc.property(programSpec(), (spec) => {
    const c = caseOf(spec);
    const result = diff.runCase(c);
    // Also while shrinking, so that the shrunk case stays a new difference.
    if (result.difference !== undefined && args.ignoreKnown) {
      const issue = knownIssue(diff, c);
      if (issue) {
        if (!failing) {
          tally.known.set(issue.id, (tally.known.get(issue.id) ?? 0) + 1);
          tally.add(result);
        }
        return;
      }
    }
    if (!failing) {
      tally.add(result);
      const now = performance.now();
      if (now - lastReport > 10_000) {
        lastReport = now;
        process.stderr.write(`  ${tally.cases} cases, ${(tally.cases / ((now - started) / 1000)).toFixed(0)}/s\n`);
      }
    }
    if (result.difference !== undefined) {
      if (!failing) process.stderr.write(`difference after ${tally.cases} cases, shrinking...\n`);
      failing = true;
      throw new Error(result.difference);
    }
  });
  console.log(`fuzzing the interpreter against ${args.engines.join(', ')}: ${args.runs} cases, seed ${args.seed}${args.path ? `, path ${args.path}` : ''}`);
  const details = fc.check(property, { numRuns: args.runs, seed: args.seed, ...(args.path ? { path: args.path } : {}) });
  const seconds = (performance.now() - started) / 1000;
  if (!details.failed) {
    const agree = tally.known.size > 0 ? 'no difference beyond known issues' : 'the engines agree';
    console.log(`OK: ${tally.cases} cases in ${seconds.toFixed(1)} s (${(tally.cases / seconds).toFixed(0)} cases/s), ${agree}`);
    console.log(tally.summary());
    return 0;
  }
  if (details.counterexample === null) {
    console.log(`fast-check stopped without a counterexample: ${details.interrupted ? 'interrupted' : 'too many skips'}`);
    return 1;
  }
  const [spec] = details.counterexample as [ProgramSpec];
  console.log(`FAILED after ${details.numRuns} cases and ${details.numShrinks} shrinks (${seconds.toFixed(1)} s)`);
  console.log(`replay: npm run fuzz -- --runs ${args.runs} --seed ${details.seed} --path ${details.counterexamplePath}\n`);
  try {
    console.log(formatCounterexample(spec, diff.runSpec(spec)));
  } catch (error) {
    console.log(`the shrunk case throws: ${error instanceof Error ? error.stack : String(error)}`);
  }
  return 1;
}

try {
  process.exitCode = main();
} catch (error) {
  console.error(error instanceof Error ? error.message : String(error));
  process.exitCode = 2;
}
