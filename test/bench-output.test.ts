/** The bench report's line wrapping and its progress line (shown on a terminal only). */
import { describe, expect, it } from 'vitest';
import { progressOn, type ProgressStream } from '../bench/progress.js';
import { LINE_WIDTH, wrap } from '../bench/report.js';

const words = (text: string): string[] => text.split(/\s+/).filter(Boolean);

describe('wrap', () => {
  const note = `* w: verified safe with termination 'budget' (no bounds checks, the instruction budget kept), because ${'the verifier cannot prove it ends '.repeat(6)}`;

  it('breaks at spaces within the width, cutting no word and losing none', () => {
    const lines = wrap(note);
    expect(lines.length).toBeGreaterThan(2);
    for (const l of lines) expect(l.length).toBeLessThanOrEqual(LINE_WIDTH);
    expect(words(lines.join(' '))).toEqual(words(note));
    expect(lines.slice(1).every((l) => l.startsWith('  ') && !l.startsWith('   '))).toBe(true);
  });

  it('keeps the first line\'s indentation, a short text whole, and a word longer than a line whole', () => {
    expect(wrap('  a note', '    ')).toEqual(['  a note']);
    const long = 'x'.repeat(120);
    expect(wrap(`see ${long} here`, '  ', 100)).toEqual(['see', `  ${long}`, '  here']);
  });
});

function fakeStream(isTTY: boolean, columns = 80): ProgressStream & { text: string } {
  return { isTTY, columns, text: '', write(s: string) { this.text += s; return true; } };
}

describe('progress line', () => {
  it('writes nothing when the stream is not a terminal (piped or redirected)', () => {
    const s = fakeStream(false);
    const p = progressOn(s);
    p.show('bench [1/3] port80: jit batch');
    p.clear();
    expect(s.text).toBe('');
  });

  it('rewrites one line in place on a terminal, kept shorter than the terminal, and erases it', () => {
    const s = fakeStream(true, 30);
    const p = progressOn(s);
    p.show('bench [1/3] port80: interp event');
    p.show('bench [2/3] log2');
    p.clear();
    const frames = s.text.split('\r\u001b[K');
    expect(frames).toEqual(['', 'bench [1/3] port80: interp e…', 'bench [2/3] log2', '']);
    for (const f of frames) expect(f.length).toBeLessThan(30);
  });
});
