// Stray pointers in checked mode (unverified programs), run as `bpfjit run --unverified` runs them: each
// engine in a Vm of its own (fuzz/layout.ts), the JIT in its baseline and its optimized tier. The
// engines must lay a run out alike (the same addresses leak the same way into r0 and memory), and an
// access that leaves its region must fault, at the same pc in all, instead of landing in a
// neighbouring region: regions are separated by guard gaps and the stack is limited to the frames in use. The hand-written reproducers are in
// run-guarantees.test.ts and runtime-rules.test.ts; here are generated cases (fuzz/regions.ts), and
// `npm run fuzz -- --gen regions --runs N` runs as many as asked.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { REGION_TIERS, formatRegionCase, runRegionCase } from '../fuzz/layout.js';
import { classify, expectation, lowerRegions, regionSpec, type Span, type Verdict } from '../fuzz/regions.js';
import { loadOptimizer } from '../src/jit/index.js';
import { GUARD_GAP } from '../src/runtime/memory.js';

// The optimized tier runs binaryen in this thread.
await loadOptimizer();

/** Fixed, so a failure reproduces with `npm run fuzz -- --gen regions --runs 300 --seed 20240612`. */
const SEED = 20240612;
const RUNS = 300;

describe('what the region rules fix (fuzz/regions.ts classify)', () => {
  // A 2-byte input, and main's frame; offsets are from r1 and from r10.
  const input: Span = { start: 0, end: 2, guardBelow: GUARD_GAP, guardAbove: GUARD_GAP };
  const frame: Span = { start: -512, end: 0, guardBelow: Infinity, guardAbove: GUARD_GAP };
  const cases: Array<[string, Span, number, number, Verdict]> = [
    ['the whole input', input, 0, 2, 'ok'],
    ['one byte past the input', input, 2, 1, 'fault'],
    ['a load straddling the input end', input, 1, 2, 'fault'],
    ['r1 - 9', input, -9, 1, 'fault'],
    ['the last byte of the gap before the input', input, -GUARD_GAP, 1, 'fault'],
    ['past the gap before the input', input, -GUARD_GAP - 8, 8, 'layout'],
    ['the frame bottom', frame, -512, 8, 'ok'],
    ['r10 + 0', frame, 0, 1, 'fault'],
    ['r10 + 8', frame, 8, 1, 'fault'],
    ['r10 - 513', frame, -513, 1, 'fault'],
    ['r10 - 4000', frame, -4000, 8, 'fault'],
    ['past the gap above the stack', frame, GUARD_GAP, 1, 'layout'],
  ];
  it.each(cases)('%s', (_, span, at, size, verdict) => {
    expect(classify(span, at, size)).toBe(verdict);
  });
});

describe('generated region programs', () => {
  it(`${RUNS} programs, seed ${SEED}: the interpreter and both JIT tiers agree and stray accesses end as the rules say`, () => {
    fc.assert(fc.property(regionSpec(), (spec) => {
      const result = runRegionCase(spec);
      expect(result.jit.map((j) => j.outcome.tier)).toEqual(REGION_TIERS);
      if (result.difference !== undefined) throw new Error(`${result.difference}\n${formatRegionCase(spec, result)}`);
    }), { seed: SEED, numRuns: RUNS });
  });

  it('aim inside, just outside and far from both regions, in main and in a callee', () => {
    const specs = fc.sample(regionSpec(), { seed: SEED, numRuns: 1000 });
    const verdicts = new Map<string, number>();
    const count = (key: string): void => void verdicts.set(key, (verdicts.get(key) ?? 0) + 1);
    const seen = new Set<string>();
    for (const spec of specs) {
      const program = lowerRegions(spec);
      for (const a of program.accesses) count(a.verdict);
      const run = expectation(program);
      count(`run: ${run === undefined ? 'layout' : run === 'exit' ? 'exit' : 'fault'}`);
      for (const p of [...spec.main, ...(spec.callee ?? []), ...spec.after]) {
        seen.add(`${p.anchor}/${p.move}/${p.act.k}`);
        if (Math.abs(p.delta) <= 64) seen.add(`near ${p.edge}`);
        else seen.add('far');
      }
      if (spec.callee) seen.add('callee');
    }
    if (process.env.REGIONS_STATS) console.log(verdicts);
    // Most accesses get a verdict from the rules, and most runs reach one, ending either way.
    expect(verdicts.get('ok')).toBeGreaterThan(1000);
    expect(verdicts.get('fault')).toBeGreaterThan(1000);
    expect(verdicts.get('layout')).toBeGreaterThan(0);
    expect(verdicts.get('run: fault')).toBeGreaterThan(500);
    expect(verdicts.get('run: exit')).toBeGreaterThan(100);
    // Every anchor, move and act, combined (5 * 4 * 4 combinations)...
    expect([...seen].filter((s) => s.split('/').length === 3)).toHaveLength(5 * 4 * 4);
    // ... near both edges and far, and in callees.
    for (const s of ['near start', 'near end', 'far', 'callee']) expect(seen).toContain(s);
  });
});
