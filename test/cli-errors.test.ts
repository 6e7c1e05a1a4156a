/**
 * Every user mistake the CLI can meet prints one line and exits 2 (bad input) or 1 (a refusal),
 * never a stack trace; the exit code of each class of error comes from one function.
 */
import { chmodSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CommanderError } from 'commander';
import { describe, expect, it } from 'vitest';
import { exitCodeFor, failureLine } from '../src/cli/failure.js';
import { AsmError, BpfError, InternalError, ProgramError } from '../src/errors.js';
import { cli, expectOneLineFailure, scratch } from './cli-helpers.js';

const { dir, write } = scratch('bpfjit-cli-errors-');
const ADD = write('add.s', 'ldxb %r0, [%r1]\nldxb %r3, [%r1+1]\nadd %r0, %r3\nexit\n');
const VERSION = (JSON.parse(readFileSync(join(import.meta.dirname, '..', 'package.json'), 'utf8')) as { version: string }).version;

describe('usage', () => {
  it('prints the usage and exits 2 when given no command', () => {
    const r = cli();
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^Usage: bpfjit/);
    expect(r.err).not.toContain('outputHelp');
  });

  it('prints the version with --version and -V', () => {
    for (const flag of ['--version', '-V']) {
      const r = cli(flag);
      expect(r.code).toBe(0);
      expect(r.out).toBe(`${VERSION}\n`);
    }
  });
});

describe('output paths are checked before any work', () => {
  const missing = join(dir, 'no-such-dir', 'x.bin');

  it('asm -o a directory or a path in a missing directory', () => {
    expectOneLineFailure(cli('asm', ADD, '-o', dir), 2, /-o .* is a directory/);
    expectOneLineFailure(cli('asm', ADD, '-o', missing), 2, /does not exist/);
  });

  it('bench --json a directory, --markdown in a missing directory: nothing is measured', () => {
    for (const [flag, path, why] of [['--json', dir, /is a directory/], ['--markdown', missing, /does not exist/]] as const) {
      const r = cli('bench', '--quick', '--filter', 'return-const', flag, path);
      expectOneLineFailure(r, 2, why);
      expect(r.out).toBe(''); // not even the environment line: the run never started
    }
  });

  it.skipIf(process.getuid?.() === 0)('asm -o into a directory that is not writable', () => {
    const locked = join(dir, 'locked');
    mkdirSync(locked);
    chmodSync(locked, 0o500);
    expectOneLineFailure(cli('asm', ADD, '-o', join(locked, 'x.bin')), 2, /not writable/);
  });
});

describe('conformance PATH', () => {
  it('an empty directory is an error, not 0 passed', () => {
    const empty = join(dir, 'empty');
    mkdirSync(empty);
    expectOneLineFailure(cli('conformance', empty), 2, /no \.data files/);
  });

  it('runs a single .data file', () => {
    const one = write('one.data', '-- asm\nmov %r0, 7\nexit\n-- result\n0x7\n');
    const r = cli('conformance', one);
    expect(r.out).toBe('1 passed, 0 failed\n');
    expect(r.code).toBe(0);
  });

  it('refuses a file that is not a .data file', () => {
    expectOneLineFailure(cli('conformance', ADD), 2, /neither a \.data file nor a directory/);
  });

  it('reports a file it cannot parse as not understood, a failure even in negative/', () => {
    const suite = join(dir, 'suite-bad');
    mkdirSync(join(suite, 'negative'), { recursive: true });
    write('suite-bad/negative/bad.data', '-- asm\nexit\n-- mem\nzz\n');
    const r = cli('conformance', suite);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/^FAIL .*bad\.data: not understood: /);
    expect(r.out).toMatch(/0 passed, 1 failed \(1 not understood\)\n$/);
  });
});

describe('errors name the file and carry their code', () => {
  it('an assembler error in a .data file gives the line in the file', () => {
    const data = write('bad.data', '# a comment\n-- asm\nmov %r0, 1\nfrob %r1\nexit\n-- result\n0x1\n');
    expectOneLineFailure(cli('run', data), 2, /^.*bad\.data:4:1: unknown mnemonic 'frob' \[E_ASM_MNEMONIC\]$/m);
  });

  it('an assembler error in a file included with -- asm @ names the included file', () => {
    write('prog.asm', 'mov %r0, 1\n\nbogus %r0\nexit\n');
    const data = write('inc.data', '-- asm @ prog.asm\n-- result\n0x1\n');
    expectOneLineFailure(cli('disasm', data), 2, /prog\.asm:3:1: .*\[E_ASM_MNEMONIC\]$/m);
  });

  it('asm names the file too', () => {
    const bad = write('bad2.s', 'exit\nmov %r0,\n');
    expectOneLineFailure(cli('asm', bad, '-o', join(dir, 'out.bin')), 2, /bad2\.s:2:\d+: .*\[E_ASM_\w+\]$/m);
  });

  it('a decoding error names the file and the pc', () => {
    const bin = write('bad.bin', new Uint8Array([0xff, 0, 0, 0, 0, 0, 0, 0]));
    expectOneLineFailure(cli('disasm', bin), 2, /bad\.bin: pc 0: .*\[E_DECODE_\w+\]$/m);
  });

  it('run prints a refusal the way verify does, with its code', () => {
    for (const command of ['run', 'verify']) {
      expectOneLineFailure(cli(command, ADD, '--mem-hex', '01'), 1, /^bpfjit: refused: pc 1: .*\[E_VERIFY_MEM_ACCESS\]$/m);
    }
  });

  it('run without an input says that none was given and how to give one, keeping the reason', () => {
    for (const command of ['run', 'verify']) {
      const r = cli(command, ADD);
      expectOneLineFailure(r, 1, /refused: no input was given.*--mem FILE or --mem-hex HEX/);
      expect(r.err).toMatch(/r1 is a scalar.*\[E_VERIFY_INVALID_DEREF\]$/m);
    }
    // With an input the note is not added.
    expect(cli('run', ADD, '--mem-hex', '01').err).not.toContain('no input');
  });
});

describe('exitCodeFor and failureLine', () => {
  it('classifies codes by prefix: refusals and faults 1, input 2, bugs 70', () => {
    expect(exitCodeFor(new ProgramError('E_VERIFY_MEM_ACCESS', 3, 'x'))).toBe(1);
    // A code that does not exist yet still lands in its class.
    expect(exitCodeFor(new BpfError('E_VERIFY_SOMETHING_NEW' as never, 'x'))).toBe(1);
    expect(exitCodeFor(new BpfError('E_RUN_MEMORY', 'x'))).toBe(1);
    expect(exitCodeFor(new BpfError('E_INPUT', 'x'))).toBe(2);
    expect(exitCodeFor(new AsmError('E_ASM_SYNTAX', 1, 1, 'x'))).toBe(2);
    expect(exitCodeFor(new ProgramError('E_JUMP_OUT_OF_RANGE', 1, 'x'))).toBe(2);
    expect(exitCodeFor(new InternalError('x'))).toBe(70);
    expect(exitCodeFor(new TypeError('x'))).toBe(70);
    expect(exitCodeFor(new CommanderError(0, 'commander.version', '0.1.0'))).toBe(0);
    expect(exitCodeFor(new CommanderError(1, 'commander.unknownOption', 'x'))).toBe(2);
  });

  it('prints a bug as one line asking for a report, without the stack', () => {
    const line = failureLine(new TypeError('cannot read properties of undefined\n    at f (x.js:1:1)'));
    expect(line).toMatch(/^bpfjit: internal error: TypeError: cannot read properties of undefined; .*please report/);
    expect(line).not.toContain('\n');
    expect(failureLine(new InternalError('a broken invariant'))).toMatch(/^bpfjit: internal error: a broken invariant; /);
  });
});
