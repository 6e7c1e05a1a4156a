// The object workloads (bench/objects): the examples' objects checked against their JavaScript in
// every engine on a small input, and a quick run giving every row.
import { describe, expect, it } from 'vitest';
import { exampleObject, exampleBtf } from '../examples/host/common.js';
import { checkedLoad, measureObjects, OBJECT_WORKLOAD_NAMES } from '../bench/objects/index.js';
import { OBJECT_WORKLOADS } from '../bench/objects/workloads.js';
import { ENGINES } from '../bench/maps/index.js';
import type { Budget } from '../bench/measure.js';
import { loadOptimizer } from '../src/jit/index.js';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LOAD_OBJECTS, measureObjectLoads, objectFile } from '../bench/objects/load.js';
import { programsDir } from '../bench/programs.js';

const hasClang = spawnSync('clang', ['--version']).status === 0;

const TINY_BUDGET: Budget = { timeMs: 5, warmupMs: 5, maxTaskMs: 20, minSamples: 3 };

describe('object benchmark workloads', () => {
  it('keeps the names of the issue', () => {
    expect(OBJECT_WORKLOAD_NAMES).toEqual(['biolatency', 'opensnoop']);
  });

  for (const w of OBJECT_WORKLOADS) {
    it(`${w.name}: every engine agrees with the JavaScript, per event and in batches`, async () => {
      await loadOptimizer();
      const btf = exampleBtf(exampleObject(w.object));
      const input = w.input(btf, 'small');
      for (const e of ENGINES) {
        // checkedLoad throws on the first r0, map state or record that differs from the JavaScript's.
        const l = checkedLoad(w, btf, input, e.options, e.engine);
        expect(l.exes).toHaveLength(w.programs.length);
      }
    }, 60_000);
  }

  it('load-objects: every object loads in both tiers; pathstat has about 1,000 instructions', async () => {
    const rows = await measureObjectLoads({ warmUpRounds: 0, rounds: 1 });
    expect(rows.map((r) => `${r.object}/${r.tier}`)).toEqual(LOAD_OBJECTS.flatMap((o) => [`${o}/baseline`, `${o}/optimized`]));
    const pathstat = rows.find((r) => r.object === 'pathstat')!;
    expect(pathstat.insns).toBeGreaterThanOrEqual(1000);
    expect(pathstat.insns).toBeLessThan(1100);
    for (const r of rows) expect(r.total).toBeGreaterThanOrEqual(r.parse);
  }, 60_000);

  it.skipIf(!hasClang)('pathstat.bpf.o still matches its source (skipped without clang)', () => {
    const out = mkdtempSync(join(tmpdir(), 'bpfjit-objects-'));
    const build = spawnSync(`${programsDir()}objects/build.sh`, [out], { encoding: 'utf8' });
    expect(build.status, build.stderr).toBe(0);
    const version = readFileSync(join(out, 'clang-version.txt'), 'utf8');
    if (version !== readFileSync(`${programsDir()}objects/clang-version.txt`, 'utf8')) return; // another compiler emits other bytes
    expect(readFileSync(join(out, 'pathstat.bpf.o')).equals(readFileSync(objectFile('pathstat')))).toBe(true);
  });
});
