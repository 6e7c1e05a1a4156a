// The map benchmarks' workloads (bench/maps): the names the JSON records carry, lpm-lookup's prefix
// table, and a quick run of ringbuf-output that checks what each row measured.
import { describe, expect, it } from 'vitest';
import { MAP_WORKLOAD_NAMES, measureMaps } from '../bench/maps/index.js';
import type { Budget } from '../bench/measure.js';
import { LPM_OP, LPM_PREFIXES, lpmTable, type Prefix } from '../bench/maps/lpm-ringbuf.js';
import { Vm } from '../src/vm.js';

/** A few samples each: enough to check the rows, quick in `npm test`. */
const TINY_BUDGET: Budget = { timeMs: 5, warmupMs: 5, maxTaskMs: 20, minSamples: 3 };

const contains = (p: Prefix, addr: number): boolean => p.len === 0 || (addr ^ p.addr) >>> (32 - p.len) === 0;
const longest = (prefixes: readonly Prefix[], addr: number): number =>
  prefixes.reduce((best, p, i) => (contains(p, addr) && (best < 0 || p.len > prefixes[best]!.len) ? i : best), -1);

describe('map benchmark workloads', () => {
  it('keeps the names of the issue', () => {
    expect(MAP_WORKLOAD_NAMES).toEqual([
      'hash-lookup-hit', 'hash-lookup-miss', 'hash-update', 'lpm-lookup', 'percpu-inc', 'ringbuf-output', 'pid-filter', 'latency-hist',
    ]);
  });

  it('lpm-lookup: distinct, overlapping prefixes of /8 to /32, addresses matching at many depths', () => {
    const { prefixes, addresses } = lpmTable();
    expect(prefixes).toHaveLength(LPM_PREFIXES);
    expect(new Set(prefixes.map((p) => `${p.addr}/${p.len}`)).size).toBe(LPM_PREFIXES);
    expect(Math.min(...prefixes.map((p) => p.len))).toBe(8);
    expect(Math.max(...prefixes.map((p) => p.len))).toBe(32);
    const nested = prefixes.filter((p) => prefixes.some((q) => q.len < p.len && contains(q, p.addr)));
    expect(nested.length).toBeGreaterThan(LPM_PREFIXES * 0.9);
    const depths = new Set(addresses.map((a) => prefixes[longest(prefixes, a)]!.len));
    expect(depths.size).toBeGreaterThan(10);
  });

  it('lpm-lookup: the trie answers each address with its longest prefix', () => {
    const { prefixes, addresses } = lpmTable();
    const map = new Vm().createMap(LPM_OP.spec);
    LPM_OP.setup(map);
    for (const [i, a] of addresses.entries()) {
      const key = LPM_OP.context!.subarray(4 * i, 4 * i + 4);
      const value = map.lookup(Uint8Array.of(32, 0, 0, 0, ...key)) as Uint8Array;
      expect(new DataView(value.buffer, value.byteOffset).getUint32(0, true)).toBe(longest(prefixes, a));
    }
  });

  it('a quick run of ringbuf-output: every engine, both programs, the host consumer, no run finding the buffer full', async () => {
    // Each run must find the buffer empty (bench/maps/lpm-ringbuf.ts, drainRun throws otherwise).
    const records = await measureMaps(['ringbuf-output'], TINY_BUDGET, () => {});
    const rows = records.map((r) => [r.workload, r.variant, r.engine, r.tier ?? r.mode]);
    const engines = [['interp', 'program'], ['jit', 'baseline'], ['jit', 'optimized']];
    expect(rows).toEqual([
      ...[...engines, ['host', 'host']].map(([e, t]) => ['ringbuf-output', 'reserve-submit', e, t]),
      ...engines.map(([e, t]) => ['ringbuf-output', 'output', e, t]),
    ]);
    for (const r of records) expect(r.nsPerOp).toBeGreaterThan(0);
  }, 60_000);
});
