/**
 * Differential fuzzing of the checked interpreter against the other engines:
 *
 *   npm run fuzz -- --runs N [--seed S] [--path P] [--ignore-known] [--engines jit,jit-opt,jit-facts,jit-facts-opt] [--gen programs,regions,maps,packets]
 *
 * Runs N generated cases (cases.ts): random programs through the interpreter and the engines of
 * differential.ts (default all: the checked JIT, and the JIT compiled with the verifier's facts for the
 * programs the verifier accepts, each in the baseline tier and in the optimized one), one case in
 * eight programs whose pointers cross regions through the interpreter and the JIT (in the chosen
 * engines' tiers) each in a Vm of its own (layout.ts), one case in four programs that call
 * the map helpers through the interpreter and the chosen engines, each in a Vm of its own with the
 * same pre-filled maps (map-run.ts), and one case in four programs for the kernel contexts (xdp,
 * socket, tc) that read fields and packet bytes (bounds-checked, LD_ABS/LD_IND) and write fields, run
 * on random packets through the interpreter and the chosen engines (packet-run.ts). On the first difference fast-check
 * shrinks the case, and this prints it with its input and every outcome, then exits 1; otherwise it
 * prints a summary (cases per second, how the runs ended, how many the verifier accepted) and exits 0.
 * `--seed` and `--path` (both printed on failure) replay a case; `--gen` picks the generators (one
 * alone replays the seeds of the tests that use it). `--ignore-known` counts differences that a known,
 * reported issue explains (known.ts) instead of stopping at them.
 */
import fc from 'fast-check';
import { CaseRunner, GENS, fuzzCases, regionTiers, type FuzzCase, type Gen, type Ran } from './cases.js';
import { FUZZ_ENGINES, needsOptimizer, type FuzzEngine } from './differential.js';
import { loadOptimizer } from '../src/jit/index.js';

interface Args {
  runs: number;
  seed: number;
  path: string | undefined;
  ignoreKnown: boolean;
  engines: FuzzEngine[];
  gens: Gen[];
}

const USAGE = 'usage: npm run fuzz -- [--runs N] [--seed S] [--path P] [--ignore-known] '
  + `[--engines ${FUZZ_ENGINES.join(',')}] [--gen ${GENS.join(',')}]`;

/** A comma-separated list of names out of `allowed`. */
function parseList<T extends string>(flag: string, value: string, allowed: readonly T[]): T[] {
  const names = value.split(',').map((n) => n.trim()).filter((n) => n !== '');
  const bad = names.filter((n) => !(allowed as readonly string[]).includes(n));
  if (bad.length > 0 || names.length === 0) throw new Error(`${flag} takes a list of ${allowed.join(', ')}; got ${value}`);
  return [...new Set(names)] as T[];
}

function parseArgs(argv: readonly string[]): Args {
  const args: Args = { runs: 1000, seed: Date.now() % 0x7fffffff, path: undefined, ignoreKnown: false, engines: [...FUZZ_ENGINES], gens: [...GENS] };
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
      args.engines = parseList(flag, value, FUZZ_ENGINES);
    } else if (flag === '--gen') {
      args.gens = parseList(flag, value, GENS);
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
  readonly byGen = new Map<Gen, number>();
  cases = 0;
  insns = 0;
  /** Per generator: cases the verifier was asked about, and how many it accepted (run by the JIT with facts). */
  readonly verified = new Map<Gen, { asked: number; accepted: number }>();

  add(ran: Ran): void {
    this.cases++;
    this.insns += ran.insns;
    this.byGen.set(ran.gen, (this.byGen.get(ran.gen) ?? 0) + 1);
    this.counts.set(ran.end, (this.counts.get(ran.end) ?? 0) + 1);
    if (ran.verdict !== undefined) {
      const v = this.verified.get(ran.gen) ?? { asked: 0, accepted: 0 };
      v.asked++;
      if (ran.verdict === 'accepted') v.accepted++;
      this.verified.set(ran.gen, v);
    }
    if (ran.known !== undefined) this.known.set(ran.known, (this.known.get(ran.known) ?? 0) + 1);
  }

  summary(): string {
    const percent = (n: number, of: number): string => `${((100 * n) / Math.max(1, of)).toFixed(1)}%`;
    const gens = [...this.byGen].map(([gen, n]) => `${n} ${gen} (${percent(n, this.cases)})`).join(', ');
    const parts = [...this.counts].sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k === 'r0' ? 'returned' : k} ${percent(n, this.cases)}`);
    const known = [...this.known].map(([id, n]) => `\nknown issue ${id}: ${n} cases`).join('');
    const what: Partial<Record<Gen, string>> = { programs: 'aligned program cases', maps: 'map cases', packets: 'packet cases' };
    const verified = [...this.verified].map(([gen, v]) =>
      `\nverifier accepted ${v.accepted} of ${v.asked} ${what[gen] ?? gen} (${percent(v.accepted, v.asked)}), run by the JIT with facts`).join('');
    return `${gens}; average ${(this.insns / Math.max(1, this.cases)).toFixed(1)} instructions; ${parts.join(', ')}${verified}${known}`;
  }
}

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  if (needsOptimizer(args.engines)) await loadOptimizer();
  const runner = new CaseRunner(args.engines, args.ignoreKnown);
  const tally = new Tally();
  let failing = false;
  const started = performance.now();
  let lastReport = started;
  let casesStarted = 0;
  const property = fc.asyncProperty(fuzzCases(args.gens), async (c) => {
    // A macrotask now and then ends the job: a WeakRef keeps its target (the tail-call registry's
    // executables, and through them their Vm's memory) alive until then, so thousands of map cases
    // in one job run out of WebAssembly memory.
    if (++casesStarted % 100 === 0) await new Promise((resolve) => setImmediate(resolve));
    const ran = runner.run(c);
    // Known issues are counted, also while shrinking, so that the shrunk case stays a new difference.
    if (!failing && (ran.difference === undefined || ran.known !== undefined)) {
      tally.add(ran);
      const now = performance.now();
      if (now - lastReport > 10_000) {
        lastReport = now;
        process.stderr.write(`  ${tally.cases} cases, ${(tally.cases / ((now - started) / 1000)).toFixed(0)}/s\n`);
      }
    }
    if (ran.difference !== undefined && ran.known === undefined) {
      if (!failing) process.stderr.write(`difference after ${tally.cases + 1} cases, shrinking...\n`);
      failing = true;
      throw new Error(ran.difference);
    }
  });
  const tiers = regionTiers(args.engines).join(' and ');
  const against = `${args.gens.some((g) => g !== 'regions') ? args.engines.join(', ') : `the ${tiers} JIT`}${args.gens.includes('regions') ? ` (region programs: the ${tiers} JIT, each run in its own Vm)` : ''}`;
  console.log(`fuzzing the interpreter against ${against}: ${args.runs} cases of ${args.gens.join(', ')}, seed ${args.seed}${args.path ? `, path ${args.path}` : ''}`);
  const details = await fc.check(property, { numRuns: args.runs, seed: args.seed, ...(args.path ? { path: args.path } : {}) });
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
  const [c] = details.counterexample as [FuzzCase];
  console.log(`FAILED after ${details.numRuns} cases and ${details.numShrinks} shrinks (${seconds.toFixed(1)} s)`);
  console.log(`replay: npm run fuzz -- --runs ${args.runs} --seed ${details.seed} --path ${details.counterexamplePath} --gen ${args.gens.join(',')}\n`);
  try {
    console.log(runner.format(c));
  } catch (error) {
    console.log(`the shrunk case throws: ${error instanceof Error ? error.stack : String(error)}`);
  }
  return 1;
}

try {
  process.exitCode = await main();
} catch (error) {
  console.error(error instanceof Error ? error.message : String(error));
  process.exitCode = 2;
}
