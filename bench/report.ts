/** Formats the measurements: a plain-text table for the terminal, Markdown for the README, JSON records. */
import type { EngineName } from './engines.js';
import type { LoadTimes } from './load-time.js';
import type { Mode } from './tasks.js';

/** One JSON record of `--json`. */
export interface BenchRecord {
  readonly workload: string;
  readonly engine: EngineName;
  readonly mode: Mode;
  readonly nsPerOp: number;
  readonly opsPerSec: number;
  readonly samples: number;
}

const HEADER = ['workload', 'engine', 'mode', 'ns/event', 'events/s', 'vs jit batch', 'vs js', 'samples'];

export function formatNs(ns: number): string {
  if (ns < 100) return ns.toFixed(2);
  if (ns < 10_000) return ns.toFixed(1);
  return Math.round(ns).toLocaleString('en-US');
}

export function formatRate(perSec: number): string {
  const units: Array<[number, string]> = [[1e9, 'G'], [1e6, 'M'], [1e3, 'k']];
  for (const [scale, unit] of units) if (perSec >= scale) return `${(perSec / scale).toFixed(perSec / scale < 10 ? 2 : 1)} ${unit}`;
  return perSec.toFixed(1);
}

/** "3.20x" slower (or "0.50x" faster) than the reference; "-" when there is no reference. */
function ratio(ns: number, reference: BenchRecord | undefined): string {
  if (!reference) return '-';
  const r = ns / reference.nsPerOp;
  return `${r < 10 ? r.toFixed(2) : r < 100 ? r.toFixed(1) : Math.round(r).toString()}x`;
}

/** Header plus one row per record, with each record's ratios to JIT batch and to hand-written JS. */
export function resultRows(records: readonly BenchRecord[]): string[][] {
  const rows = [HEADER];
  for (const r of records) {
    const same = records.filter((o) => o.workload === r.workload);
    const jitBatch = same.find((o) => o.engine === 'jit' && o.mode === 'batch');
    const js = same.find((o) => o.engine === 'js');
    rows.push([r.workload, r.engine, r.mode, formatNs(r.nsPerOp), formatRate(r.opsPerSec), ratio(r.nsPerOp, jitBatch), ratio(r.nsPerOp, js), String(r.samples)]);
  }
  return rows;
}

const isNumeric = (cell: string): boolean => /^[\d.,-]/.test(cell) && !/[a-z]{2}/i.test(cell);

/** Left-aligns text and right-aligns numbers, columns padded to their widest cell. */
export function textTable(rows: readonly string[][]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  return rows.map((row, i) => row.map((cell, c) => (i > 0 && isNumeric(cell) ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!))).join('  ').trimEnd()).join('\n');
}

export function markdownTable(rows: readonly string[][]): string {
  const [head, ...body] = rows;
  const align = head!.map((_, c) => (body.some((r) => isNumeric(r[c] ?? '')) ? '---:' : '---'));
  return [head!, align, ...body].map((r) => `| ${r.join(' | ')} |`).join('\n');
}

export function formatMs(ms: number): string {
  return ms < 1 ? ms.toFixed(3) : ms < 10 ? ms.toFixed(2) : ms.toFixed(1);
}

/** Phases as rows, programs as columns, in milliseconds. */
export function loadRows(lt: LoadTimes): string[][] {
  const head = ['load phase (ms)', ...lt.programs.map((p) => `${p.name} (${p.slots} insns)`)];
  return [head, ...lt.phases.map((ph) => [ph.phase, ...ph.ms.map((ms) => (ms === undefined ? '-' : formatMs(ms)))])];
}

export function binaryenLine(lt: LoadTimes): string {
  const xs = [...lt.binaryenImportMs].sort((a, b) => a - b);
  if (xs.length === 0) return 'binaryen start-up: not measured (the child process failed)';
  return `binaryen start-up (first import in a fresh process): ${formatMs(xs[xs.length >> 1]!)} ms` +
    (xs.length > 1 ? ` (median of ${xs.length}: ${xs.map(formatMs).join(', ')})` : '');
}
