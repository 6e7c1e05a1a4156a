// The object workloads (bench/objects): the examples' objects checked against their JavaScript in
// every engine on a small input, and a quick run giving every row.
import { describe, expect, it } from 'vitest';
import { exampleObject, objectBtf } from '../examples/host/common.js';
import { checkedLoad, measureObjects, OBJECT_WORKLOAD_NAMES } from '../bench/objects/index.js';
import { OBJECT_WORKLOADS } from '../bench/objects/workloads.js';
import { ENGINES } from '../bench/maps/index.js';
import type { Budget } from '../bench/measure.js';
import { loadOptimizer } from '../src/jit/index.js';

const TINY_BUDGET: Budget = { timeMs: 5, warmupMs: 5, maxTaskMs: 20, minSamples: 3 };

describe('object benchmark workloads', () => {
  it('keeps the names of the issue', () => {
    expect(OBJECT_WORKLOAD_NAMES).toEqual(['biolatency', 'opensnoop']);
  });

  for (const w of OBJECT_WORKLOADS) {
    it(`${w.name}: every engine agrees with the JavaScript, per event and in batches`, async () => {
      await loadOptimizer();
      const btf = objectBtf(exampleObject(w.object));
      const input = w.input(btf, 'small');
      for (const e of ENGINES) {
        // checkedLoad throws on the first r0, map state or record that differs from the JavaScript's.
        const l = checkedLoad(w, btf, input, e.options, e.engine);
        expect(l.exes).toHaveLength(w.programs.length);
      }
    }, 60_000);
  }
});
