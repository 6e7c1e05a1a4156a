/** The benchmark harness: workload inputs, the report formats and a short run of runBench. */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runBench, type BenchRecord } from '../bench/index.js';
import { markdownTable, resultRows } from '../bench/report.js';
import { WORKLOADS } from '../bench/workloads/index.js';

const named = (name: string) => WORKLOADS.find((w) => w.name === name)!;

describe('workload inputs', () => {
  it('keeps the stable workload names', () => {
    expect(WORKLOADS.map((w) => w.name)).toEqual([
      'port80', 'log2', 'switch', 'a-plus-b', 'return-const', 'strcmp-match', 'strcmp-mismatch', 'primes', 'memcpy',
    ]);
  });

  it('is deterministic', () => {
    for (const w of WORKLOADS) expect(w.input('small').bytes).toEqual(w.input('small').bytes);
  });

  it('port80 frames have the intended mix', () => {
    const ev = named('port80').input('full');
    const view = new DataView(ev.bytes.buffer);
    let ipv4 = 0;
    let tcp = 0;
    let hits = 0;
    for (let i = 0; i < ev.count; i++) {
      const at = i * ev.stride;
      if (view.getUint16(at + 12) !== 0x0800) continue;
      ipv4++;
      if (ev.bytes[at + 23] === 6) tcp++;
      hits += named('port80').js(ev.bytes, view, at, ev.len);
    }
    expect(ev.count).toBe(4096);
    expect(ipv4 / ev.count).toBeCloseTo(0.75, 1);
    expect(tcp / ipv4).toBeCloseTo(0.75, 1);
    expect(hits / tcp).toBeGreaterThan(0.3); // half are port 80, less the frames too short for the ports
    expect(hits / tcp).toBeLessThan(0.5);
  });

  it('strcmp inputs compare equal and unequal', () => {
    const js = named('strcmp-match').js;
    for (const [name, want] of [['strcmp-match', true], ['strcmp-mismatch', false]] as const) {
      const ev = named(name).input('small');
      expect(js(ev.bytes, new DataView(ev.bytes.buffer), 0, ev.len) === 0).toBe(want);
    }
  });

  it('log2 and primes give the known answers', () => {
    const bytes = new Uint8Array(8);
    const view = new DataView(bytes.buffer);
    view.setBigUint64(0, 10_000n, true);
    expect(named('primes').js(bytes, view, 0, 8)).toBe(1229);
    view.setBigUint64(0, 1n << 63n, true);
    expect(named('log2').js(bytes, view, 0, 8)).toBe(63);
  });
});

describe('report', () => {
  it('gives ratios to JIT batch and to JavaScript', () => {
    const rec = (engine: BenchRecord['engine'], mode: BenchRecord['mode'], ns: number): BenchRecord =>
      ({ workload: 'w', engine, mode, nsPerOp: ns, opsPerSec: 1e9 / ns, samples: 10 });
    const rows = resultRows([rec('jit', 'batch', 2), rec('interp', 'event', 200), rec('js', 'event', 4)]);
    expect(rows[2]).toEqual(['w', 'interp', 'event', '200.0', '5.00 M', '100x', '50.0x', '10']);
    expect(markdownTable(rows).split('\n')[1]).toBe('| --- | --- | --- | ---: | ---: | ---: | ---: | ---: |');
  });
});

describe('runBench', () => {
  it('writes JSON and Markdown for a filtered quick run', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bpfjit-bench-'));
    const lines: string[] = [];
    await runBench({ filter: ['return-const'], quick: true, json: join(dir, 'r.json'), markdown: join(dir, 'r.md'), log: (l) => lines.push(l) });
    const records = JSON.parse(readFileSync(join(dir, 'r.json'), 'utf8')) as BenchRecord[];
    expect(records.length).toBeGreaterThanOrEqual(2);
    for (const r of records) {
      expect(Object.keys(r)).toEqual(['workload', 'engine', 'mode', 'nsPerOp', 'opsPerSec', 'samples']);
      expect(r.workload).toBe('return-const');
      expect(r.nsPerOp).toBeGreaterThan(0);
    }
    expect(records.some((r) => r.engine === 'js' && r.mode === 'event')).toBe(true);
    expect(readFileSync(join(dir, 'r.md'), 'utf8')).toContain('| return-const |');
    expect(lines.join('\n')).toContain('return-const');
  });

  it('refuses an unknown workload name', async () => {
    await expect(runBench({ filter: ['nope'], log: () => {} })).rejects.toMatchObject({ code: 'E_INPUT' });
  });
});
