// Generated programs that call the map helpers (fuzz/map-gen.ts, map-gen-keyless.ts) on arrays, hash
// maps, an LPM trie, a queue, a stack, a bloom filter, a ring buffer, global data, bpf_loop and
// for_each_map_elem callbacks, a perf_event_array and values with a spin lock: the checked
// interpreter, the checked JIT and, for the programs the verifier accepts, the verified interpreter
// and JIT, each in a Vm of its own with the same pre-filled maps, must agree on r0, the fault and the
// maps' final contents (fuzz/map-run.ts). The baseline tier runs most cases here, both tiers a few
// (the optimized tier's binaryen build is most of a case's time); `npm run fuzz -- --gen maps --runs N`
// runs as many as asked in every tier.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FUZZ_ENGINES, type FuzzEngine } from '../fuzz/differential.js';
import { LPM_MAP } from '../fuzz/map-common.js';
import { MAP_DEFS, mapProgramSpec, type MapProgramSpec } from '../fuzz/map-gen.js';
import { formatMapCase, keyBytes, runMapCase, type MapResult } from '../fuzz/map-run.js';
import { loadOptimizer } from '../src/jit/index.js';

// The optimized tier runs binaryen in this thread.
await loadOptimizer();

/** Fixed, so a failure reproduces with `npm run fuzz -- --gen maps --runs 200 --seed 20261206 --engines jit,jit-facts`. */
const SEED = 20261206;
const RUNS = 200;
/** Cases run in both tiers (every engine), with seed SEED + 1. */
const ALL_TIER_RUNS = 40;

const verdicts = new Map<string, number>();
const ends = new Map<string, number>();
const opKinds = new Map<string, number>();
/** Maps left holding something after the interpreter's run (a ring buffer: committed records). */
const filled = new Map<string, number>();
const bump = (m: Map<string, number>, k: string): void => void m.set(k, (m.get(k) ?? 0) + 1);

function tally(spec: MapProgramSpec, result: MapResult): void {
  bump(verdicts, `${spec.verifiable ? 'verifiable' : 'any'} ${result.verdict}`);
  bump(ends, result.runs[0]!.error?.code ?? 'r0');
  for (const op of spec.ops) bump(opKinds, 'map' in op && op.map === LPM_MAP ? `lpm ${op.op}` : op.op === 'reserve' && op.hold ? 'held reserve' : op.op);
  for (const line of result.runs[0]!.maps.split('\n')) {
    const [name, rest] = line.split(': ') as [string, string];
    if (rest !== '(empty)' && !/^seeds $/.test(rest) && !/^prod \d+ cons \d+$/.test(rest)) bump(filled, name);
  }
}

const property = (engines: readonly FuzzEngine[]) => fc.property(mapProgramSpec(), (spec) => {
  const result = runMapCase(spec, engines);
  tally(spec, result);
  if (result.difference !== undefined) throw new Error(`${result.difference}\n${formatMapCase(spec, result)}`);
});

describe('generated map programs', () => {
  it(`${RUNS} programs, seed ${SEED}, baseline tier: every engine leaves the same r0, fault and map contents`, () => {
    fc.assert(property(['jit', 'jit-facts']), { seed: SEED, numRuns: RUNS });
  }, 60_000);

  it(`${ALL_TIER_RUNS} programs, seed ${SEED + 1}, both tiers`, () => {
    fc.assert(property(FUZZ_ENGINES), { seed: SEED + 1, numRuns: ALL_TIER_RUNS });
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

  it('reaches every operation and leaves every kind of map holding something', () => {
    for (const kind of ['lookup', 'update', 'delete', 'lpm lookup', 'lpm update', 'lpm delete', 'push', 'pop', 'peek', 'reserve', 'held reserve', 'output', 'query', 'global', 'loop', 'for_each', 'perf', 'spin', 'tail']) {
      expect(opKinds.get(kind), kind).toBeGreaterThan(5);
    }
    for (const def of MAP_DEFS) expect(filled.get(def.name!), def.name).toBeGreaterThan(5);
  });

  it('prefills keys as the programs write them on the stack', () => {
    const sizes = MAP_DEFS.map((d) => d.keySize);
    expect(sizes).toEqual(expect.arrayContaining([4, 6, 8]));
    expect([...keyBytes(-1, 8)]).toEqual(new Array(8).fill(0xff)); // stdw sign-extends
    expect([...keyBytes(-1, 6)]).toEqual([0xff, 0xff, 0xff, 0xff, 0, 0]); // stw, then sth 0
    expect([...keyBytes(3, 4)]).toEqual([3, 0, 0, 0]);
    expect([...keyBytes(3, 8, 24)]).toEqual([24, 0, 0, 0, 3, 0, 0, 0]); // an LPM key: stw plen, stw data
  });
});
