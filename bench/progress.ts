/**
 * A progress line for `bench` on a terminal: one line on stderr, rewritten in place ("[3/11] switch:
 * jit batch"), so a run that takes minutes does not look hung. Nothing at all when stderr is not a
 * terminal: piped or redirected output stays exactly the report.
 */

/** The part of a stream the progress line needs (process.stderr, or a test's fake). */
export interface ProgressStream {
  readonly isTTY?: boolean;
  readonly columns?: number;
  write(text: string): boolean;
}

export interface Progress {
  /** Shows `text` in place of the previous progress line. */
  show(text: string): void;
  /** Removes the progress line (before a report line is printed, and at the end). */
  clear(): void;
}

export const NO_PROGRESS: Progress = { show: () => {}, clear: () => {} };

/** Carriage return, then erase to the end of the line. */
const ERASE = '\r\u001b[K';

export function progressOn(stream: ProgressStream): Progress {
  if (!stream.isTTY) return NO_PROGRESS;
  let shown = false;
  return {
    show(text) {
      // A line longer than the terminal wraps, and \r would then rewrite only its last row. A pty
      // with no size set reports 0 columns.
      const width = Math.max(20, (stream.columns || 80) - 1);
      stream.write(`${ERASE}${text.length > width ? `${text.slice(0, width - 1)}…` : text}`);
      shown = true;
    },
    clear() {
      if (shown) stream.write(ERASE);
      shown = false;
    },
  };
}
