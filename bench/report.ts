/** Formats the measurements: a plain-text table for the terminal, Markdown for the README, JSON records. */
import type { EngineName } from './engines.js';
import type { Mode } from './tasks.js';
import type { JitVariant } from './workload.js';

/** One JSON record of `--json` for a workload run by an engine. */
export interface RunRecord {
  readonly workload: string;
  readonly engine: EngineName;
  readonly mode: Mode;
  /** JIT rows only: the tier whose code the samples ran (the executable's tier after they ran). */
  readonly tier?: 'baseline' | 'optimized';
  readonly nsPerOp: number;
  readonly opsPerSec: number;
  readonly samples: number;
  /** JIT rows only, and only when true: compiled in checked mode (bounds checks, budget), not verified. */
  readonly checked?: boolean;
  /** JIT rows only, and only when true: verified safe but not to end, so the instruction budget is kept. */
  readonly budget?: boolean;
  /** A comparison build of the workload (Workload.compare), reported in its own table. */
  readonly variant?: JitVariant;
  /** Only when true: loaded with tier 'auto' (it starts in the baseline tier and tiers up when hot). */
  readonly auto?: boolean;
  /** With `auto`: ms from its first timed call to its first run in the optimized tier (absent: it never got there). */
  readonly tierUpMs?: number;
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

const HEADER = ['workload', 'engine', 'mode', 'tier', 'checked', 'ns/event', 'vs jit batch', 'vs js', 'samples'];

export function formatNs(ns: number): string {
  if (ns < 100) return ns.toFixed(2);
  if (ns < 10_000) return ns.toFixed(1);
  return Math.round(ns).toLocaleString('en-US');
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
 * The `tier` cell: the tier a JIT row's samples ran; `auto` for a build loaded with tier 'auto' that
 * reached the optimized tier before it was timed, `auto *` for one that did not (see tierNotes).
 */
function tierCell(r: RunRecord): string {
  if (r.auto) return r.tier === 'optimized' ? 'auto' : 'auto *';
  return r.tier ?? '-';
}

/** The reference of the `vs jit batch` column: the main JIT build's batch row, in the optimized tier when there is one. */
function jitBatchOf(same: readonly RunRecord[]): RunRecord | undefined {
  const batches = same.filter((o) => o.engine === 'jit' && o.mode === 'batch' && !o.auto);
  return batches.find((o) => o.tier === 'optimized') ?? batches[0];
}

/**
 * Header plus one row per main record, with each record's ratios to JIT batch (optimized tier) and
 * to hand-written JS. A JIT row in checked mode (the verifier refused the program) says `yes *`, one
 * verified safe but not proven to end `budget *`; see fallbackNotes.
 */
export function resultRows(records: readonly BenchRecord[]): string[][] {
  const rows = [HEADER];
  const main = records.filter(isMain);
  for (const r of main) {
    const same = main.filter((o) => o.workload === r.workload);
    const js = same.find((o) => o.engine === 'js');
    rows.push([
      r.workload, r.engine, r.mode, tierCell(r), checkedCell(r), formatNs(r.nsPerOp),
      ratio(r.nsPerOp, jitBatchOf(same)), ratio(r.nsPerOp, js), String(r.samples),
    ]);
  }
  return rows;
}

/** A main JIT record of the workload and mode in one tier ('auto': the build loaded with tier 'auto'). */
function jitRecord(records: readonly RunRecord[], workload: string, mode: Mode, tier: 'baseline' | 'optimized' | 'auto'): RunRecord | undefined {
  return records.find((r) => isMain(r) && r.engine === 'jit' && r.workload === workload && r.mode === mode
    && (tier === 'auto' ? r.auto === true : !r.auto && r.tier === tier));
}

const formatSeconds = (ms: number | undefined): string => (ms === undefined ? '-' : (ms / 1000).toFixed(2));

/**
 * The JIT's tiers side by side, one row per workload and mode: the baseline and 'auto' builds'
 * ns/event and their ratio to the optimized tier's, and how long the 'auto' build took to tier up.
 * Undefined when no workload was measured in two tiers.
 */
export function tierRows(records: readonly BenchRecord[]): string[][] | undefined {
  const rows = [['workload', 'mode', 'optimized ns', 'baseline ns', 'base / opt', 'auto ns', 'auto / opt', 'tier-up s']];
  const runs = records.filter(isRun);
  const pairs = runs.filter((r) => isMain(r) && r.engine === 'jit' && !r.auto && r.tier === 'optimized');
  for (const opt of pairs) {
    const base = jitRecord(runs, opt.workload, opt.mode, 'baseline');
    const auto = jitRecord(runs, opt.workload, opt.mode, 'auto');
    if (!base && !auto) continue;
    const cell = (r: RunRecord | undefined): string => (r ? formatNs(r.nsPerOp) : '-');
    const rel = (r: RunRecord | undefined): string => (r ? ratio(r.nsPerOp, opt) : '-');
    rows.push([
      opt.workload, opt.mode, formatNs(opt.nsPerOp), cell(base), rel(base),
      auto && auto.tier !== 'optimized' ? `${cell(auto)} *` : cell(auto), rel(auto), formatSeconds(auto?.tierUpMs),
    ]);
  }
  return rows.length > 1 ? rows : undefined;
}

export const TIER_TITLE = 'JIT tiers (ns/event of the baseline tier and of a build loaded with tier \'auto\', '
  + 'next to the optimized tier; tier-up: from the auto build\'s first timed call to its first optimized run)';

/** Footnotes for builds loaded with tier 'auto' that were timed in the baseline tier: they never tiered up. */
export function tierNotes(records: readonly BenchRecord[], timeoutMs: number): string[] {
  const stuck = records.filter(isRun).filter((r) => r.auto && r.tier !== 'optimized');
  return stuck.map((r) => (r.mode === 'event'
    ? `* ${r.workload} event: loaded with tier 'auto', timed in the baseline tier: single runs do not tier up`
    : `* ${r.workload} ${r.mode}: loaded with tier 'auto', still in the baseline tier after ${timeoutMs / 1000} s of runs, so timed there`));
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
    // The main build of the variant's tier (the optimized one, when binaryen loaded).
    const main = records.filter(isMain).find((r) => r.workload === v.workload && r.engine === 'jit' && r.mode === v.mode && !r.auto && r.tier === v.tier);
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
