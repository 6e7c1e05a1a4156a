// Generated programs that call the map helpers (fuzz/map-gen.ts) on an array, a per-CPU array and
// three kinds of hash map: the checked interpreter, the checked JIT and, for the programs the verifier
// accepts, the verified interpreter and JIT, in both tiers, each in a Vm of its own with the same
// pre-filled maps, must agree on r0, the fault and the maps' final entries (fuzz/map-run.ts).
// `npm run fuzz -- --gen maps --runs N` runs as many as asked.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FUZZ_ENGINES } from '../fuzz/differential.js';
import { MAP_DEFS, mapProgramSpec } from '../fuzz/map-gen.js';
import { formatMapCase, keyBytes, runMapCase } from '../fuzz/map-run.js';
import { loadOptimizer } from '../src/jit/index.js';

// The optimized tier runs binaryen in this thread.
await loadOptimizer();

/** Fixed, so a failure reproduces with `npm run fuzz -- --gen maps --runs 250 --seed 20261206`. */
const SEED = 20261206;
const RUNS = 250;

const verdicts = new Map<string, number>();
const ends = new Map<string, number>();
const bump = (m: Map<string, number>, k: string): void => void m.set(k, (m.get(k) ?? 0) + 1);

describe('generated map programs', () => {
  it(`${RUNS} programs, seed ${SEED}: every engine leaves the same r0, fault and map entries`, () => {
    fc.assert(fc.property(mapProgramSpec(), (spec) => {
      const result = runMapCase(spec, FUZZ_ENGINES);
      bump(verdicts, `${spec.verifiable ? 'verifiable' : 'any'} ${result.verdict}`);
      bump(ends, result.runs[0]!.error?.code ?? 'r0');
      if (result.difference !== undefined) throw new Error(`${result.difference}\n${formatMapCase(spec, result)}`);
    }), { seed: SEED, numRuns: RUNS });
  }, 60_000);

  it('the verifier accepts the verifiable ones, and checked runs fault too', () => {
    const share = (prefix: string): number => {
      const of = [...verdicts].filter(([k]) => k.startsWith(prefix));
      return (of.find(([k]) => k.endsWith('accepted'))?.[1] ?? 0) / of.reduce((n, [, v]) => n + v, 0);
    };
    expect(share('verifiable')).toBeGreaterThan(0.9);
    expect(ends.get('r0')).toBeGreaterThan(RUNS / 2);
    expect(ends.get('E_RUN_MEMORY')).toBeGreaterThan(0);
  });

  it('prefills keys as the programs write them on the stack', () => {
    const sizes = MAP_DEFS.map((d) => d.keySize);
    expect(sizes).toEqual(expect.arrayContaining([4, 6, 8]));
    expect([...keyBytes(-1, 8)]).toEqual(new Array(8).fill(0xff)); // stdw sign-extends
    expect([...keyBytes(-1, 6)]).toEqual([0xff, 0xff, 0xff, 0xff, 0, 0]); // stw, then sth 0
    expect([...keyBytes(3, 4)]).toEqual([3, 0, 0, 0]);
  });
});
