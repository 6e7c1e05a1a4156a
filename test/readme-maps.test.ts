/** The README's `.map` example works verbatim: the file assembles, and the commands print what it shows. */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { assembleUnit } from '../src/asm/index.js';
import { BIN, scratch } from './cli-helpers.js';

const README = readFileSync(join(import.meta.dirname, '..', 'README.md'), 'utf8');
const INTRO = 'A per-CPU counter and a hash lookup, `count.s`:\n\n```\n';

/** The example file, and the shell session after it as [command, expected output] pairs. */
function example(): { file: string; session: Array<[string, string]> } {
  const start = README.indexOf(INTRO);
  expect(start, 'README example not found').toBeGreaterThan(0);
  const fileStart = start + INTRO.length;
  const fileEnd = README.indexOf('```\n', fileStart);
  const shStart = README.indexOf('```sh\n', fileEnd) + '```sh\n'.length;
  const sh = README.slice(shStart, README.indexOf('```\n', shStart));
  const session: Array<[string, string]> = [];
  for (const line of sh.split('\n').slice(0, -1)) {
    if (line.startsWith('$ ')) session.push([line.slice(2), '']);
    else session[session.length - 1]![1] += `${line}\n`;
  }
  return { file: README.slice(fileStart, fileEnd), session };
}

describe('README: maps in assembly', () => {
  it('the example declares a per-CPU counter and a hash, and its ubpf listing is the same program', () => {
    const { file, session } = example();
    const unit = assembleUnit(file);
    expect(unit.maps.map((m) => [m.name, m.type])).toEqual([['counts', 'percpu_array'], ['flows', 'hash']]);
    const listing = session.find(([command]) => command.includes('--syntax ubpf'))![1];
    expect(assembleUnit(listing, 'ubpf')).toEqual(unit);
  });

  it('the commands print what the README shows', () => {
    const { file, session } = example();
    const { dir, write } = scratch('bpfjit-readme-');
    write('count.s', file);
    expect(session.length).toBeGreaterThan(1);
    for (const [command, expected] of session) {
      const args = command.split(' ');
      expect(args.slice(0, 2)).toEqual(['npx', 'bpfjit']);
      const r = spawnSync(process.execPath, [BIN, ...args.slice(2)], { cwd: dir, encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout + r.stderr, command).toBe(expected);
    }
  });
});
