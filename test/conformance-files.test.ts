/**
 * The .data format as uBPF's tests write it (`-- asm @ FILE`, hexdump `-- mem`), where assembler
 * errors point, and which files the conformance runner runs.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseDataFile, readDataFile } from '../src/conformance/data-file.js';
import { listDataFiles, runConformance } from '../src/conformance/runner.js';
import { AsmError } from '../src/errors.js';
import { loadProgramFile } from '../src/source.js';
import { scratch } from './cli-helpers.js';

const { dir, write } = scratch('bpfjit-data-');

describe('.data files', () => {
  it('reads -- asm @ and -- mem @ sections from files next to the .data file', () => {
    mkdirSync(join(dir, 'tcp'));
    write('tcp/prog.asm', 'ldxh %r0, [%r1+2]\nexit\n');
    write('tcp/pkt.hex', '0x0000:  0026 622f\n0x0004:  47\n');
    const file = readDataFile(write('tcp/match.data', '-- asm @ prog.asm\n-- mem @ pkt.hex\n-- result\n0x2f62\n'));
    expect(file.asm).toContain('ldxh %r0, [%r1+2]');
    expect([...file.mem]).toEqual([0x00, 0x26, 0x62, 0x2f, 0x47]);
    expect(file.asmAt).toEqual({ file: join(dir, 'tcp', 'prog.asm'), line: 1 });
    expect(runConformance(join(dir, 'tcp', 'match.data'), 'both')).toMatchObject({ passed: 1, failed: 0 });
  });

  it('names both files when an included one is missing', () => {
    const data = write('missing.data', '-- asm @ nowhere.asm\n-- result\n0x0\n');
    expect(() => readDataFile(data)).toThrow(expect.objectContaining({ code: 'E_INPUT', message: expect.stringMatching(/missing\.data: .*nowhere\.asm.*ENOENT/) }));
    // Text alone has no directory to read includes from.
    expect(() => parseDataFile('-- asm @ x.asm\n')).toThrow(expect.objectContaining({ code: 'E_INPUT' }));
  });

  it('refuses lines under an include header and a section given twice', () => {
    write('p.asm', 'exit\n');
    expect(() => readDataFile(write('under.data', '-- asm @ p.asm\nmov %r0, 1\n'))).toThrow(/under\.data:2: .*belongs to no section/);
    expect(() => parseDataFile('-- mem\n00\n-- mem\n01\n', 'twice.data')).toThrow(/twice\.data:3: a second -- mem section/);
  });

  it('places the -- asm text in its file, so assembler errors give the file\'s line', () => {
    expect(parseDataFile('# c\n\n-- asm\nmov %r0, 1\n', 'x.data').asmAt).toEqual({ file: 'x.data', line: 4 });
    const path = write('bad.data', '# c\n-- asm\nmov %r0, 1\nfrob\n');
    let error: unknown;
    try {
      loadProgramFile(path);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(AsmError);
    expect(error).toMatchObject({ code: 'E_ASM_MNEMONIC', file: path, line: 4, column: 1 });
  });
});

describe('conformance runner', () => {
  it('runs .data files in nested folders, a directory\'s own first', () => {
    const root = join(dir, 'nested');
    mkdirSync(join(root, 'b', 'c'), { recursive: true });
    write('nested/z.data', '-- asm\nmov %r0, 1\nexit\n-- result\n1\n');
    write('nested/b/c/y.data', '-- asm\nmov %r0, 2\nexit\n-- result\n2\n');
    write('nested/b/x.data', '-- asm\nmov %r0, 3\nexit\n-- result\n3\n');
    write('nested/b/notes.txt', 'not a test');
    expect(listDataFiles(root)).toEqual([join(root, 'z.data'), join(root, 'b', 'x.data'), join(root, 'b', 'c', 'y.data')]);
    expect(runConformance(root, 'interp')).toMatchObject({ passed: 3, failed: 0 });
  });

  it('finds no tests in an empty directory: an input error, not a vacuous pass', () => {
    mkdirSync(join(dir, 'none'));
    expect(() => listDataFiles(join(dir, 'none'))).toThrow(expect.objectContaining({ code: 'E_INPUT' }));
    expect(() => listDataFiles(join(dir, 'absent'))).toThrow(expect.objectContaining({ code: 'E_INPUT' }));
  });

  it('runs a file with no program as the empty program: the loader must refuse it', () => {
    mkdirSync(join(dir, 'neg', 'negative'), { recursive: true });
    mkdirSync(join(dir, 'neg', 'tests'), { recursive: true });
    write('neg/negative/empty.data', '# Empty test file\n-- result\n0x0\n');
    write('neg/tests/empty.data', '-- result\n0x0\n');
    const report = runConformance(join(dir, 'neg'), 'jit');
    expect(report).toMatchObject({ passed: 1, failed: 1, notUnderstood: 0 });
    const [negative, positive] = [...report.results].sort((a, b) => (a.file < b.file ? -1 : 1));
    expect(negative).toMatchObject({ passed: true, detail: expect.stringContaining('E_DECODE_EMPTY') });
    expect(positive).toMatchObject({ passed: false, detail: expect.stringContaining('E_DECODE_EMPTY') });
  });

  it('fails a file it cannot parse, in negative/ too, as not understood', () => {
    mkdirSync(join(dir, 'bad', 'negative'), { recursive: true });
    write('bad/negative/unparsable.data', '-- asm\nexit\n-- mem\nzz\n');
    const report = runConformance(join(dir, 'bad'), 'jit');
    expect(report).toMatchObject({ passed: 0, failed: 1, notUnderstood: 1 });
    expect(report.results[0]).toMatchObject({ passed: false, notUnderstood: true, detail: expect.stringMatching(/^not understood: /) });
  });
});
