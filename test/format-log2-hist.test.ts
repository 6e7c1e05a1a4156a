/** The log2 histogram printer: rows up to the last non-empty slot, bounds per slot, bars scaled to the largest count. */
import { describe, expect, it } from 'vitest';
import { formatLog2Hist } from '../src/format/log2-hist.js';

describe('formatLog2Hist', () => {
  it('prints the familiar header and one row per slot up to the last non-empty one', () => {
    const text = formatLog2Hist([1n, 0n, 4n, 2n, 0n, 0n], 'usecs');
    expect(text.split('\n')).toEqual([
      '     usecs               : count    distribution',
      '         0 -> 1          : 1        |**********                              |',
      '         2 -> 3          : 0        |                                        |',
      '         4 -> 7          : 4        |****************************************|',
      '         8 -> 15         : 2        |********************                    |',
      '',
    ]);
  });

  it('prints nothing when every slot is empty, and widens the columns past slot 32', () => {
    expect(formatLog2Hist([0, 0], 'usecs')).toBe('');
    const counts = Array<number>(40).fill(0);
    counts[39] = 7;
    const rows = formatLog2Hist(counts, 'nsecs').split('\n');
    expect(rows).toHaveLength(42);
    expect(rows[40]).toBe(`${String(2n ** 39n).padStart(20)} -> ${String(2n ** 40n - 1n).padEnd(20)} : 7        |${'*'.repeat(40)}|`);
  });
});
