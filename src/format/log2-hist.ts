/**
 * A log2 histogram printed the way BCC's and libbpf-tools' histogram tools print one: a row per slot
 * from the first up to the last non-empty one, slot i counting values in [2^i, 2^(i+1) - 1] (slot 0
 * also counts 0), with a bar of `*` scaled to the largest count.
 *
 *      usecs               : count    distribution
 *          0 -> 1          : 3        |***                                     |
 *          2 -> 3          : 40       |****************************************|
 */

const BAR = 40;

/** The histogram's text, one line per row, ending in a newline; '' when every slot is empty. */
export function formatLog2Hist(counts: readonly (bigint | number)[], unit: string): string {
  const values = counts.map((c) => BigInt(c));
  let last = -1;
  values.forEach((v, i) => { if (v !== 0n) last = i; });
  if (last < 0) return '';
  const wide = last > 32;
  const width = wide ? 20 : 10;
  const max = values.reduce((a, b) => (b > a ? b : a), 0n);
  const lines = [`${' '.repeat(wide ? 15 : 5)}${unit.padEnd(wide ? 29 : 19)} : count    distribution`];
  for (let i = 0; i <= last; i++) {
    const high = (1n << BigInt(i + 1)) - 1n;
    const low = i === 0 ? 0n : 1n << BigInt(i);
    const v = values[i]!;
    lines.push(`${String(low).padStart(width)} -> ${String(high).padEnd(width)} : ${String(v).padEnd(8)} |${bar(v, max)}|`);
  }
  return lines.join('\n') + '\n';
}

function bar(value: bigint, max: bigint): string {
  const stars = max === 0n ? 0 : Number((value * BigInt(BAR)) / max);
  return '*'.repeat(stars) + ' '.repeat(BAR - stars);
}
