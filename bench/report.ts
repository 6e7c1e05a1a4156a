/** Formats the measurements: a plain-text table for the terminal, Markdown for the README, JSON records. */
import type { EngineName } from './engines.js';
import type { LoadTimes } from './load-time.js';
import type { Mode } from './tasks.js';
import type { JitVariant } from './workload.js';

/** One JSON record of `--json` for a workload run by an engine. */
export interface RunRecord {
  readonly workload: string;
  readonly engine: EngineName;
  readonly mode: Mode;
  readonly nsPerOp: number;
  readonly opsPerSec: number;
  readonly samples: number;
  /** JIT rows only, and only when true: compiled in checked mode (bounds checks, budget), not verified. */
  readonly checked?: boolean;
  /** JIT rows only, and only when true: verified safe but not to end, so the instruction budget is kept. */
  readonly budget?: boolean;
  /** A comparison build of the workload (Workload.compare), reported in its own table. */
  readonly variant?: JitVariant;
}

/** One JSON record of `--json` for the verification-time benchmark: ns per verify() call. */
export interface VerifierRecord {
  readonly workload: string;
  readonly engine: 'verifier';
  readonly mode: 'verify';
  readonly nsPerOp: number;
  readonly opsPerSec: number;
  readonly samples: number;
  /** Instructions of the program, processed over all paths, states stored and most alive at once. */
  readonly insns: number;
  readonly insnsProcessed: number;
  readonly statesStored: number;
  readonly peakStates: number;
}

export type BenchRecord = RunRecord | VerifierRecord;

const isRun = (r: BenchRecord): r is RunRecord => r.engine !== 'verifier';
/** Rows of the main table: every engine's main build. */
const isMain = (r: BenchRecord): r is RunRecord => isRun(r) && r.variant === undefined;

const HEADER = ['workload', 'engine', 'mode', 'checked', 'ns/event', 'events/s', 'vs jit batch', 'vs js', 'samples'];

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
function ratio(ns: number, reference: RunRecord | undefined): string {
  if (!reference) return '-';
  const r = ns / reference.nsPerOp;
  return `${r < 10 ? r.toFixed(2) : r < 100 ? r.toFixed(1) : Math.round(r).toString()}x`;
}

/**
 * The `checked` cell: the interpreter always checks, the JIT only when the program is not verified,
 * and only the budget when it is verified safe but not proven to end.
 */
function checkedCell(r: RunRecord): string {
  if (r.engine === 'js') return '-';
  if (r.engine === 'interp') return 'yes';
  return r.checked ? 'yes *' : r.budget ? 'budget *' : 'no';
}

/**
 * Header plus one row per main record, with each record's ratios to JIT batch and to hand-written JS.
 * A JIT row in checked mode (the verifier refused the program) says `yes *`, one verified safe but
 * not proven to end `budget *`; see fallbackNotes.
 */
export function resultRows(records: readonly BenchRecord[]): string[][] {
  const rows = [HEADER];
  const main = records.filter(isMain);
  for (const r of main) {
    const same = main.filter((o) => o.workload === r.workload);
    const jitBatch = same.find((o) => o.engine === 'jit' && o.mode === 'batch');
    const js = same.find((o) => o.engine === 'js');
    rows.push([
      r.workload, r.engine, r.mode, checkedCell(r), formatNs(r.nsPerOp), formatRate(r.opsPerSec),
      ratio(r.nsPerOp, jitBatch), ratio(r.nsPerOp, js), String(r.samples),
    ]);
  }
  return rows;
}

/** Why the JIT did not run a workload fully verified: checked mode, or verified with the budget kept. */
export interface Fallback {
  readonly mode: 'checked' | 'budget';
  readonly reason: string;
}

/** Footnotes for the main table: why each JIT row marked `yes *` or `budget *` is not fully verified. */
export function fallbackNotes(fallbacks: ReadonlyMap<string, Fallback>): string[] {
  return [...fallbacks].map(([workload, { mode, reason }]) => (mode === 'checked'
    ? `* ${workload}: not verified, so the JIT runs it in checked mode: ${reason}`
    : `* ${workload}: verified safe with termination 'budget' (no bounds checks, the instruction budget kept), because the verifier cannot prove a loop ends: ${reason}`));
}

const VARIANT_HEADERS: Record<JitVariant, { title: string; main: string; variant: string; ratio: string }> = {
  'checked': {
    title: 'verified vs checked (the same program compiled with and without the verifier\'s facts, measured one after the other)',
    main: 'verified ns/event', variant: 'checked ns/event', ratio: 'checked / verified',
  },
  'no-value-tables': {
    title: 'value tables (a C switch whose cases return constants: loads from a table of them, and the same tree as a br_table)',
    main: 'value table ns/event', variant: 'br_table ns/event', ratio: 'br_table / value table',
  },
  'no-jump-tables': {
    title: 'jump tables (the compare tree of a C switch as the JIT builds it by default, and left as compares)',
    main: 'table ns/event', variant: 'compare tree ns/event', ratio: 'compare tree / table',
  },
};

export const variantTitle = (variant: JitVariant): string => VARIANT_HEADERS[variant].title;

/** The variant's rows next to the main JIT rows of the same workload and mode; undefined when there are none. */
export function variantRows(records: readonly BenchRecord[], variant: JitVariant): string[][] | undefined {
  const h = VARIANT_HEADERS[variant];
  const rows = [['workload', 'mode', h.main, h.variant, h.ratio]];
  for (const v of records.filter(isRun).filter((r) => r.variant === variant)) {
    const main = records.filter(isMain).find((r) => r.workload === v.workload && r.engine === 'jit' && r.mode === v.mode);
    if (!main) continue;
    rows.push([v.workload, v.mode, formatNs(main.nsPerOp), formatNs(v.nsPerOp), ratio(v.nsPerOp, main)]);
  }
  return rows.length > 1 ? rows : undefined;
}

/** Verification times, one row per program; undefined when none were measured. */
export function verifierRows(records: readonly BenchRecord[]): string[][] | undefined {
  const rows = [['program', 'insns', 'insns processed', 'states stored', 'peak states', 'verify() ms', 'samples']];
  for (const r of records) {
    if (r.engine !== 'verifier') continue;
    rows.push([r.workload, String(r.insns), String(r.insnsProcessed), String(r.statesStored), String(r.peakStates), formatMs(r.nsPerOp / 1e6), String(r.samples)]);
  }
  return rows.length > 1 ? rows : undefined;
}

const isNumeric = (cell: string): boolean => /^[\d.,-]/.test(cell) && !/[a-z]{2}/i.test(cell);

/** Columns holding numbers (a lone `-`, "nothing here", does not decide), by index. */
const numericColumns = (rows: readonly string[][]): boolean[] =>
  rows[0]!.map((_, c) => rows.slice(1).some((r) => (r[c] ?? '') !== '-' && isNumeric(r[c] ?? '')));

/** Left-aligns text and right-aligns numbers, columns padded to their widest cell. */
export function textTable(rows: readonly string[][]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  const numeric = numericColumns(rows);
  return rows.map((row, i) => row.map((cell, c) => (i > 0 && numeric[c] ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!))).join('  ').trimEnd()).join('\n');
}

export function markdownTable(rows: readonly string[][]): string {
  const [head, ...body] = rows;
  const align = numericColumns(rows).map((n) => (n ? '---:' : '---'));
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

/** Load latency by V8 configuration; undefined when none was measured. */
export function configurationRows(lt: LoadTimes): string[][] | undefined {
  if (lt.configurations.length === 0) return undefined;
  const rows = [['port80 load (ms), fresh process', 'warm-up', 'first load', 'loads 1-20', 'loads 101-150', 'processes']];
  for (const c of lt.configurations) {
    const warm = c.warmUpLoads === 0 ? '-' : `${formatMs(c.warmUpMs)} (${c.warmUpLoads} loads)`;
    rows.push([c.name, warm, formatMs(c.firstMs), formatMs(c.earlyMs), formatMs(c.lateMs), String(c.processes)]);
  }
  return rows;
}

export function binaryenLine(lt: LoadTimes): string {
  const xs = [...lt.binaryenImportMs].sort((a, b) => a - b);
  if (xs.length === 0) return 'binaryen start-up: not measured (the child process failed)';
  return `binaryen start-up (first import in a fresh process): ${formatMs(xs[xs.length >> 1]!)} ms` +
    (xs.length > 1 ? ` (median of ${xs.length}: ${xs.map(formatMs).join(', ')})` : '');
}

/** Printed report lines are at most this wide: a terminal of 100 columns shows them unbroken. */
export const LINE_WIDTH = 100;

/**
 * Breaks prose at spaces into lines of at most `width` columns, keeping the text's own leading
 * indentation on the first line and starting the others with `indent`. Words are never cut: one
 * longer than a line gets a line of its own.
 */
export function wrap(text: string, indent = '  ', width = LINE_WIDTH): string[] {
  const lines: string[] = [];
  for (const paragraph of text.split('\n')) {
    const lead = /^ */.exec(paragraph)![0];
    let line = '';
    for (const word of paragraph.slice(lead.length).split(/ +/).filter(Boolean)) {
      if (line === '') line = lead + word;
      else if (line.length + 1 + word.length <= width) line += ` ${word}`;
      else {
        lines.push(line);
        line = indent + word;
      }
    }
    lines.push(line);
  }
  return lines;
}
