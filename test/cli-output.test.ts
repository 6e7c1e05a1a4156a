/**
 * What the CLI writes when it works: output cut short by a closed pipe, the bench report's width and
 * its silence when piped, and `run --repeat` figures that do not depend on N.
 */
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { WORKLOADS } from '../bench/workloads/index.js';
import { assembleBytes } from '../src/asm/index.js';
import { BIN, cli, scratch } from './cli-helpers.js';

const { dir, write } = scratch('bpfjit-cli-output-');

/** Runs the CLI with its stdout a pipe whose read end is closed before it writes anything. */
function withClosedStdout(...args: string[]): Promise<{ code: number | null; signal: string | null; err: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.destroy();
    let err = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
    child.on('close', (code, signal) => resolve({ code, signal, err }));
  });
}

describe('a closed pipe (`bpfjit ... | head`) ends the command quietly with 141, like SIGPIPE', () => {
  // 20,000 instructions: megabytes of disassembly and of verifier log, far beyond a pipe's buffer.
  const big = write('big.bin', assembleBytes(`${'mov %r0, 1\n'.repeat(20_000)}exit\n`, 'ubpf'));
  const suite = join(dir, 'suite');
  mkdirSync(suite);
  for (let i = 0; i < 40; i++) write(`suite/t${i}.data`, `-- asm\nmov %r0, ${i}\nexit\n-- result\n${i}\n`);

  const cases: Array<[string, string[]]> = [
    ['disasm of a big program', ['disasm', big]],
    ['verify --log-level 2', ['verify', big, '--log-level', '2']],
    ['conformance -v', ['conformance', '-v', suite]],
  ];
  for (const [name, args] of cases) {
    it(name, async () => {
      const r = await withClosedStdout(...args);
      expect(r.err).toBe('');
      expect(r.code).toBe(141);
    });
  }
});

const lines = (text: string): string[] => text.split('\n').filter((l) => l.length > 0);

describe('bench output', () => {
  it('lists every workload in bench --help, within 100 columns', () => {
    const r = cli('bench', '--help');
    expect(r.code).toBe(0);
    for (const w of WORKLOADS) expect(r.out).toMatch(new RegExp(`^  ${w.name} +\\S`, 'm'));
    for (const l of lines(r.out)) expect(l.length, l).toBeLessThanOrEqual(100);
  });

  it('keeps every line within 100 columns, wraps footnotes whole, and writes nothing to a piped stderr', () => {
    // primes runs with the budget kept (a footnote); switch has the variant tables with long titles.
    const r = cli('bench', '--quick', '--filter', 'primes,switch');
    expect(r.code, r.err).toBe(0);
    expect(r.err).toBe('');
    for (const l of lines(r.out)) expect(l.length, l).toBeLessThanOrEqual(100);
    expect(r.out).not.toContain('…');
    const joined = r.out.replace(/\n +/g, ' ');
    // The footnote carries the verifier's code, pc and whole rule; the old one was cut at 160 characters.
    expect(joined).toMatch(/\* primes: verified safe with termination 'budget' .* E_VERIFY_LOOP at pc \d+: .*\n/);
    expect(joined).toContain('value tables (a C switch whose cases return constants: loads from a table of them, and the same tree as a br_table):');
  });
});

describe('run --repeat', () => {
  const prog = write('sum.s', 'ldxb %r0, [%r1]\nldxb %r3, [%r1+1]\nadd %r0, %r3\nexit\n');
  const big = write('input.bin', new Uint8Array(2 << 20));
  const median = (...args: string[]): number => {
    const r = cli('run', prog, ...args);
    expect(r.code, r.err).toBe(0);
    const m = /median ([\d.,]+) ns per run/.exec(r.out);
    expect(m, r.out).not.toBeNull();
    return Number(m![1]!.replace(/,/g, ''));
  };

  it('reports a time per run that does not depend on N (it fell 300-fold from N=1 to N=100,000)', () => {
    const times = ['1', '1000', '100000'].map((n) => median('--mem-hex', '0102', '--repeat', n));
    // Generous: the machine is shared, so figures move; the old ones differed by 30x and more.
    expect(Math.max(...times) / Math.min(...times), times.join(', ')).toBeLessThan(3);
  });

  it('does not copy the input on every run: a 2 MiB input costs what a 2-byte one does', () => {
    const small = median('--mem-hex', '0102', '--repeat', '1000');
    const large = median('--mem', big, '--repeat', '1000');
    expect(large / small, `${small} ns vs ${large} ns`).toBeLessThan(3);
  });
});
