/**
 * Source lines of a program compiled from C (the `.BTF.ext` line info): which C line each
 * instruction came from. A record covers its pc and the pcs after it up to the next record, as in the
 * kernel, so lookups find the last record at or before a pc.
 */

export interface SourceLine {
  /** First instruction (slot index) the line covers. */
  readonly pc: number;
  readonly file: string;
  /** The line's text ('' when the compiler left it out). */
  readonly text: string;
  readonly line: number;
  readonly column: number;
}

/** Records sorted by pc (a stable sort: the last of several records at one pc wins, as it does in the kernel). */
export function sortLines(lines: readonly SourceLine[]): SourceLine[] {
  return [...lines].sort((a, b) => a.pc - b.pc);
}

/** Index of the last record at or before `pc` in sorted records, or -1. */
function lastAtOrBefore(lines: readonly SourceLine[], pc: number): number {
  let lo = 0, hi = lines.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (lines[mid]!.pc <= pc) lo = mid + 1;
    else hi = mid;
  }
  return lo - 1;
}

/**
 * The line `pc` belongs to (in sorted records). Clang marks code that has no line of its own (spills,
 * moves it added) with line 0: such code belongs to no line.
 */
export function lineAt(lines: readonly SourceLine[] | undefined, pc: number): SourceLine | undefined {
  const line = lines ? lines[lastAtOrBefore(lines, pc)] : undefined;
  return line?.line === 0 ? undefined : line;
}

/**
 * The line that starts at `pc`, if one does: what a listing prints above that instruction. Clang
 * writes a record per column, so a record on the same line as the one before starts nothing (the
 * kernel skips those too).
 */
export function lineStartingAt(lines: readonly SourceLine[] | undefined, pc: number): SourceLine | undefined {
  if (!lines) return undefined;
  const i = lastAtOrBefore(lines, pc);
  const line = lines[i];
  if (line?.pc !== pc || line.line === 0) return undefined;
  const prev = lines[i - 1];
  return prev && prev.line === line.line && prev.file === line.file ? undefined : line;
}

/** The kernel's spelling: `; return x > 5; @ filter.c:12`. */
export function formatSourceLine(line: SourceLine): string {
  return `; ${line.text.trim()} @ ${line.file.replace(/^.*\//, '')}:${line.line}`;
}
