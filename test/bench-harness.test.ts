/** The benchmark harness: workload inputs, the report formats and a short run of runBench. */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runBench, type BenchRecord } from '../bench/index.js';
import {
  fallbackNotes, markdownTable, resultRows, tierNotes, tierRows, variantRows, verifierRows, type RunRecord, type VerifierRecord,
} from '../bench/report.js';
import { WORKLOADS } from '../bench/workloads/index.js';
import { load1mRows, measureLoad1m, mixedProgram } from '../bench/load-1m.js';
import { loadBytes } from '../src/program/program.js';
import { writesRegister } from '../src/isa/insn.js';

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
  const rec = (engine: RunRecord['engine'], mode: RunRecord['mode'], ns: number, extra: Partial<RunRecord> = {}): RunRecord =>
    ({ workload: 'w', engine, mode, nsPerOp: ns, opsPerSec: 1e9 / ns, samples: 10, ...extra });

  it('gives ratios to JIT batch (optimized tier) and to JavaScript', () => {
    const rows = resultRows([rec('jit', 'batch', 4, { tier: 'baseline' }), rec('jit', 'batch', 2, { tier: 'optimized' }), rec('interp', 'event', 200), rec('js', 'event', 4)]);
    expect(rows[0]).toEqual(['workload', 'engine', 'mode', 'tier', 'checked', 'ns/event', 'vs jit batch', 'vs js', 'samples']);
    expect(rows[1]).toEqual(['w', 'jit', 'batch', 'baseline', 'no', '4.00', '2.00x', '1.00x', '10']);
    expect(rows[2]).toEqual(['w', 'jit', 'batch', 'optimized', 'no', '2.00', '1.00x', '0.50x', '10']);
    expect(rows[3]).toEqual(['w', 'interp', 'event', '-', 'yes', '200.0', '100x', '50.0x', '10']);
    expect(rows[4]![4]).toBe('-');
    expect(markdownTable(rows).split('\n')[1]).toBe('| --- | --- | --- | --- | --- | ---: | ---: | ---: | ---: |');
  });

  it('marks a JIT row in checked mode and keeps variants out of the main table', () => {
    const records = [
      rec('jit', 'batch', 3, { tier: 'optimized', checked: true }), rec('jit', 'batch', 2, { tier: 'optimized' }),
      rec('jit', 'batch', 5, { tier: 'baseline' }), rec('jit', 'batch', 4, { tier: 'optimized', checked: true, variant: 'checked' }),
    ];
    const rows = resultRows([records[0]!]);
    expect(rows[1]![4]).toBe('yes *');
    expect(resultRows(records.slice(1))).toHaveLength(3);
    // The variant is compared with the main build of its own tier, not the baseline one.
    expect(variantRows(records.slice(1), 'checked')).toEqual([
      ['workload', 'mode', 'verified ns/event', 'checked ns/event', 'checked / verified'],
      ['w', 'batch', '2.00', '4.00', '2.00x'],
    ]);
    expect(variantRows(records, 'no-jump-tables')).toBeUndefined();
    expect(fallbackNotes(new Map([['w', { mode: 'checked', reason: 'E_VERIFY_LOOP: ...' }]]))).toEqual(['* w: not verified, so the JIT runs it in checked mode: E_VERIFY_LOOP: ...']);
  });

  it('sets the tiers side by side, with the auto build\'s tier-up time, and footnotes one that never tiered up', () => {
    const records = [
      rec('jit', 'event', 10, { tier: 'optimized' }), rec('jit', 'event', 15, { tier: 'baseline' }),
      rec('jit', 'event', 11, { tier: 'optimized', auto: true, tierUpMs: 450 }),
      rec('jit', 'batch', 2, { tier: 'optimized' }), rec('jit', 'batch', 3, { tier: 'baseline' }), rec('jit', 'batch', 3.2, { tier: 'baseline', auto: true }),
    ];
    expect(resultRows(records).slice(1).map((r) => r[3])).toEqual(['optimized', 'baseline', 'auto', 'optimized', 'baseline', 'auto *']);
    expect(tierRows(records)).toEqual([
      ['workload', 'mode', 'optimized ns', 'baseline ns', 'base / opt', 'auto ns', 'auto / opt', 'tier-up s'],
      ['w', 'event', '10.00', '15.00', '1.50x', '11.00', '1.10x', '0.45'],
      ['w', 'batch', '2.00', '3.00', '1.50x', '3.20 *', '1.60x', '-'],
    ]);
    expect(tierNotes(records, 10_000)).toEqual(["* w batch: loaded with tier 'auto', still in the baseline tier after 10 s of runs, so timed there"]);
    expect(tierRows(records.filter((r) => r.tier === 'optimized' && !r.auto))).toBeUndefined();
  });

  it('marks a JIT row verified safe but kept on the budget', () => {
    expect(resultRows([rec('jit', 'batch', 3, { budget: true })])[1]![4]).toBe('budget *');
    const [note] = fallbackNotes(new Map([['w', { mode: 'budget', reason: 'E_VERIFY_LOOP: ...' }]]));
    expect(note).toMatch(/^\* w: verified safe with termination 'budget' .*instruction budget kept.*: E_VERIFY_LOOP: \.\.\.$/);
  });

  it('tabulates verification times', () => {
    const v: VerifierRecord = {
      workload: 'verify-x', engine: 'verifier', mode: 'verify', nsPerOp: 2.5e6, opsPerSec: 400, samples: 7,
      insns: 100, insnsProcessed: 300, statesStored: 20, peakStates: 4,
    };
    expect(verifierRows([v])).toEqual([
      ['program', 'insns', 'insns processed', 'states stored', 'peak states', 'verify() ms', 'samples'],
      ['verify-x', '100', '300', '20', '4', '2.50', '7'],
    ]);
    expect(resultRows([v])).toHaveLength(1);
  });
});

describe('load-1m', () => {
  it('generates programs of exactly the size asked, with jumps and lddw', () => {
    const program = loadBytes(mixedProgram(5000));
    expect(program.slotCount).toBe(5000);
    expect(program.insns.some((i) => i.kind === 'lddw')).toBe(true);
    expect(program.insns.some((i) => i.kind === 'jmp')).toBe(true);
    const noR0 = loadBytes(mixedProgram(5000, { setsR0: false }));
    expect(noR0.slotCount).toBe(5000);
    expect(noR0.insns.some((i) => writesRegister(i) === 0)).toBe(false);
  });

  it('times every phase, checking each result', () => {
    const times = measureLoad1m(2, 3000);
    expect(times.phases).toHaveLength(4);
    const rows = load1mRows(times);
    expect(rows[0]).toEqual(['phase', 'ms']);
    expect(rows.slice(1).map((r) => r[0])).toEqual(times.phases.map((p) => p.phase));
    for (const p of times.phases) expect(p.ms).toBeGreaterThan(0);
  });
});

describe('runBench', () => {
  it('writes JSON and Markdown for a filtered quick run', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bpfjit-bench-'));
    const lines: string[] = [];
    await runBench({ filter: ['return-const'], quick: true, json: join(dir, 'r.json'), markdown: join(dir, 'r.md'), log: (l) => lines.push(l) });
    const records = JSON.parse(readFileSync(join(dir, 'r.json'), 'utf8')) as BenchRecord[];
    expect(records.length).toBeGreaterThanOrEqual(2);
    const base = ['workload', 'engine', 'mode', 'nsPerOp', 'opsPerSec', 'samples'];
    for (const r of records) {
      const auto = 'auto' in r && r.auto ? ['auto', ...('tierUpMs' in r ? ['tierUpMs'] : [])] : [];
      expect(Object.keys(r)).toEqual(r.engine === 'jit' ? [...base.slice(0, 3), 'tier', ...base.slice(3), ...auto] : base);
      expect(r.workload).toBe('return-const');
      expect(r.nsPerOp).toBeGreaterThan(0);
    }
    // Each JIT row says the tier its samples ran; the auto build ran in the optimized tier when it got there in time.
    const jit = records.filter((r): r is RunRecord => r.engine === 'jit');
    expect(jit.map((r) => [r.mode, r.auto ? 'auto' : r.tier])).toEqual([
      ['event', 'optimized'], ['event', 'baseline'], ['event', 'auto'], ['batch', 'optimized'], ['batch', 'baseline'], ['batch', 'auto'],
    ]);
    for (const r of jit.filter((j) => j.auto)) expect(r.tier === 'optimized').toBe(r.tierUpMs !== undefined);
    expect(records.some((r) => r.engine === 'js' && r.mode === 'event')).toBe(true);
    expect(readFileSync(join(dir, 'r.md'), 'utf8')).toContain('| return-const |');
    expect(lines.join('\n')).toContain('return-const');
  });

  it('measures port80 verified and checked side by side, and verification times', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bpfjit-bench-'));
    const lines: string[] = [];
    await runBench({ filter: ['port80', 'verify'], engines: ['jit'], quick: true, json: join(dir, 'r.json'), markdown: join(dir, 'r.md'), log: (l) => lines.push(l) });
    const records = JSON.parse(readFileSync(join(dir, 'r.json'), 'utf8')) as BenchRecord[];
    const jit = records.filter((r): r is RunRecord => r.workload === 'port80');
    // The checked build is measured right after the main build of its mode, in the optimized tier.
    expect(jit.map((r) => [r.mode, r.auto ? 'auto' : r.tier, r.variant, r.checked])).toEqual([
      ['event', 'optimized', undefined, undefined], ['event', 'optimized', 'checked', true], ['event', 'baseline', undefined, undefined],
      ['event', 'auto', undefined, undefined],
      ['batch', 'optimized', undefined, undefined], ['batch', 'optimized', 'checked', true], ['batch', 'baseline', undefined, undefined],
      ['batch', 'auto', undefined, undefined],
    ]);
    for (const r of jit) expect(r.engine).toBe('jit');
    const verifier = records.filter((r): r is VerifierRecord => r.engine === 'verifier');
    expect(verifier.map((r) => r.workload)).toEqual(['verify-straight-1000', 'verify-straight-4096', 'verify-loop-10000']);
    for (const r of verifier) {
      expect(r.mode).toBe('verify');
      expect(r.insnsProcessed).toBeGreaterThanOrEqual(r.insns);
    }
    expect(verifier[2]!.insnsProcessed).toBeGreaterThan(10_000);
    const md = readFileSync(join(dir, 'r.md'), 'utf8');
    expect(md).toContain('verified vs checked');
    expect(md).toContain('JIT tiers');
    expect(md).toContain('| verify-loop-10000 |');
    expect(lines.join('\n')).toContain('port80: IPv4');
  });

  it('runs a program whose loop the verifier cannot prove to end verified safe, with the budget, and says so', async () => {
    const lines: string[] = [];
    const dir = mkdtempSync(join(tmpdir(), 'bpfjit-bench-'));
    await runBench({ filter: ['primes'], engines: ['jit'], quick: true, json: join(dir, 'r.json'), log: (l) => lines.push(l) });
    const records = JSON.parse(readFileSync(join(dir, 'r.json'), 'utf8')) as RunRecord[];
    expect(records.map((r) => [r.engine, r.mode, r.checked, r.budget])).toEqual(['event', 'event', 'event', 'batch', 'batch', 'batch'].map((m) => ['jit', m, undefined, true]));
    // Report lines are wrapped at 100 columns: join continuation lines to read the footnote whole.
    const text = lines.join('\n').replace(/\n +/g, ' ');
    expect(text).toMatch(/primes +jit +event +optimized +budget \*/);
    expect(text).toMatch(/primes +jit +batch +baseline +budget \*/);
    expect(text).toContain("* primes: verified safe with termination 'budget' (no bounds checks, the instruction budget kept), because the verifier cannot prove a loop ends: E_VERIFY_LOOP");
  });

  it('measures loading a 1,000,000-slot program with --filter load-1m', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bpfjit-bench-'));
    const lines: string[] = [];
    await runBench({ filter: ['load-1m'], quick: true, markdown: join(dir, 'r.md'), log: (l) => lines.push(l) });
    const text = lines.join('\n');
    expect(text).toContain('load-1m: programs of 1,000,000 instruction slots (one round)');
    expect(text).toMatch(/load \+ refuse a program that never sets r0 +[\d.]+/);
    expect(readFileSync(join(dir, 'r.md'), 'utf8')).toMatch(/\| decode \+ build \(loadBytes\), ALU, jumps and lddw \| [\d.]+ \|/);
  });

  it('refuses an unknown workload name', async () => {
    await expect(runBench({ filter: ['nope'], log: () => {} })).rejects.toMatchObject({ code: 'E_INPUT' });
  });
});
