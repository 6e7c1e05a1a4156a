// Stray pointers in checked mode (unverified programs), run as `bpfjit run --unverified` runs them: each
// engine in a Vm of its own (fuzz/layout.ts). Both engines must lay a run out alike (the same addresses
// leak the same way into r0 and memory), and an access that leaves its region must fault, at the same
// pc in both, instead of landing in a neighbouring region: regions are separated by guard gaps and the
// stack is limited to the frames in use. Generated cases come from fuzz/regions.ts; `npm run fuzz --
// --gen regions --runs N` runs as many as asked.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compareVmOutcomes, formatRegionCase, runInVm, runRegionCase, type VmOutcome } from '../fuzz/layout.js';
import { classify, expectation, lowerRegions, regionSpec, type Verdict } from '../fuzz/regions.js';
import { fromHex } from '../fuzz/report.js';

/** Fixed, so a failure reproduces with `npm run fuzz -- --gen regions --runs 300 --seed 20240612`. */
const SEED = 20240612;
const RUNS = 300;

/** Runs `text` in both engines on `input`; they must agree. Returns the interpreter's outcome. */
function agree(text: string, input: string): VmOutcome {
  const bytes = fromHex(input);
  const interp = runInVm('interp', text, bytes);
  expect(compareVmOutcomes(interp, runInVm('jit', text, bytes)), text).toBeUndefined();
  return interp;
}

describe('stray pointers fault at the same pc in both engines (the reproducers of the issue)', () => {
  // `bpfjit run --unverified --mem-hex '22 11'`: the input sat right above the stack top in the
  // interpreter (0x11000) and 8 bytes further in the JIT (0x11008), and both allowed the whole stack.
  const input = '22 11';

  it('a store at r10 + 0 does not land in the input', () => {
    expect(agree('r0 = 0x33\n*(u8 *)(r10 + 0) = r0\nr0 = *(u8 *)(r1 + 0)\nexit', input).error).toMatchObject({ code: 'E_RUN_MEMORY', pc: 1 });
  });

  it('a load at r10 + 8 faults', () => {
    expect(agree('r0 = *(u8 *)(r10 + 8)\nexit', input).error).toMatchObject({ code: 'E_RUN_MEMORY', pc: 0 });
  });

  it('a load at r1 - 9 does not land in the stack', () => {
    expect(agree('r0 = *(u8 *)(r1 - 9)\nexit', input).error).toMatchObject({ code: 'E_RUN_MEMORY', pc: 0 });
  });

  it('r0 = r1 returns the same address', () => {
    expect(agree('r0 = r1\nexit', input).error).toBeUndefined();
  });

  it('a load at r10 - 4000, far below the 512-byte frame, faults', () => {
    expect(agree('r0 = *(u64 *)(r10 - 4000)\nexit', input).error).toMatchObject({ code: 'E_RUN_MEMORY', pc: 0 });
  });

  it("a callee's frame is out of use once it returned", () => {
    // The callee writes r10 - 8 (the caller's r10 - 520); after the return the caller reads it.
    const text = 'call f\nr0 = *(u64 *)(r10 - 520)\nexit\nf:\nr0 = 1\n*(u64 *)(r10 - 8) = r0\nexit';
    expect(agree(text, input).error).toMatchObject({ code: 'E_RUN_MEMORY', pc: 1 });
  });

  it("a callee may reach its caller's frame, not below its own", () => {
    const text = 'r0 = 7\n*(u64 *)(r10 - 8) = r0\ncall f\nexit\nf:\nr0 = *(u64 *)(r10 + 504)\nr2 = *(u8 *)(r10 - 513)\nexit';
    expect(agree(text, input).error).toMatchObject({ code: 'E_RUN_MEMORY', pc: 5 });
    expect(agree(text.replace('r10 - 513', 'r10 - 512'), input)).toMatchObject({ error: undefined, r0: 7n });
  });
});

describe('what the region rules fix (fuzz/regions.ts classify)', () => {
  const input = { start: 0, end: 2 };
  const frame = { start: -512, end: 0, dead: [-4096, -512] as const };
  const cases: Array<[string, typeof input, number, number, Verdict]> = [
    ['the whole input', input, 0, 2, 'ok'],
    ['one byte past the input', input, 2, 1, 'fault'],
    ['a load straddling the input end', input, 1, 2, 'fault'],
    ['the byte before the input', input, -1, 1, 'fault'],
    ['9 bytes before the input', input, -9, 1, 'layout'],
    ['the frame bottom', frame, -512, 8, 'ok'],
    ['r10 + 0', frame, 0, 1, 'fault'],
    ['r10 - 513', frame, -513, 1, 'fault'],
    ['r10 - 4000', frame, -4000, 8, 'fault'],
    ['r10 + 8', frame, 8, 1, 'layout'],
  ];
  it.each(cases)('%s', (_, span, at, size, verdict) => {
    expect(classify(span, at, size)).toBe(verdict);
  });
});

describe('generated region programs', () => {
  it(`${RUNS} programs, seed ${SEED}: the engines agree and stray accesses end as the rules say`, () => {
    fc.assert(fc.property(regionSpec(), (spec) => {
      const result = runRegionCase(spec);
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
    expect(verdicts.get('ok')).toBeGreaterThan(300);
    expect(verdicts.get('fault')).toBeGreaterThan(300);
    expect(verdicts.get('run: fault')).toBeGreaterThan(100);
    expect(verdicts.get('run: exit')).toBeGreaterThan(20);
    // Every anchor, move and act, combined (5 * 4 * 4 combinations)...
    expect([...seen].filter((s) => s.split('/').length === 3)).toHaveLength(5 * 4 * 4);
    // ... near both edges and far, and in callees.
    for (const s of ['near start', 'near end', 'far', 'callee']) expect(seen).toContain(s);
  });
});
