/** The load-latency tables (load-time.ts) as rows of cells, for the terminal and for Markdown. */
import type { LoadTimes } from './load-time.js';
import { median } from './load-time.js';
import { formatMs } from './report.js';

/** One row per program and tier: the median ms of each phase of a steady-state load. */
export function steadyRows(lt: LoadTimes): string[][] {
  const head = ['program (insns)', 'tier', 'decode', 'verify', 'build', 'optimize', 'compile', 'instantiate', 'load', 'first run'];
  const slots = new Map(lt.programs.map((p) => [p.name, p.slots]));
  return [head, ...lt.steady.map(({ program, tier, ms }) => [
    `${program} (${slots.get(program) ?? '?'})`, tier, formatMs(ms.decode), formatMs(ms.verify), formatMs(ms.build),
    tier === 'baseline' ? '-' : formatMs(ms.optimize), formatMs(ms.compile), formatMs(ms.instantiate), formatMs(ms.load), formatMs(ms.firstRun),
  ])];
}

export const STEADY_TITLE = 'load latency, steady state (ms, medians; load = decode + verify + build + optimize + compile + instantiate)';
export const FRESH_TITLE = 'load latency, first load in a fresh process (ms from process start, medians over the processes)';

/** One row per program and tier: the first load in a fresh process; undefined when no process reported. */
export function freshRows(lt: LoadTimes): string[][] | undefined {
  if (lt.fresh.length === 0) return undefined;
  const head = ['program', 'tier', 'node start', 'imports', 'load', 'first run', 'start to result', 'processes'];
  return [head, ...lt.fresh.map((r) => [
    r.program, r.tier, formatMs(r.nodeStartMs), formatMs(r.importMs), formatMs(r.loadMs), formatMs(r.firstRunMs),
    formatMs(r.firstResultMs), String(r.processes),
  ])];
}

/** "`bpfjit run` of port80 on one frame, spawn to exit: 212 ms wall (median of 5: ...)". */
export function cliRunLine(lt: LoadTimes): string {
  const what = '`bpfjit run` of port80 on one 64-byte frame, spawn to exit';
  const xs = [...lt.cliRunMs].sort((a, b) => a - b);
  if (xs.length === 0) return `${what}: not measured (the command failed)`;
  return `${what}: ${formatMs(median(xs))} ms wall${xs.length > 1 ? ` (median of ${xs.length}: ${xs.map(formatMs).join(', ')})` : ''}`;
}

/** The load tables with their titles (the fresh-process one only when a process reported). */
export function loadTables(lt: LoadTimes): Array<{ title: string; rows: string[][] }> {
  const fresh = freshRows(lt);
  return [{ title: STEADY_TITLE, rows: steadyRows(lt) }, ...(fresh ? [{ title: FRESH_TITLE, rows: fresh }] : [])];
}
