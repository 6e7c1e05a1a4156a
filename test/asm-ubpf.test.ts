/**
 * uBPF / conformance syntax: encodings checked against bytes written out by hand from RFC 9669
 * (not produced by our encoder), aliases, labels, comments and the `exit` label convention.
 */
import { describe, expect, it } from 'vitest';
import { assemble, assembleBytes, disassemble, formatInsn } from '../src/asm/index.js';
import { decode } from '../src/isa/decode.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const bytes = (text: string): string => hex(assembleBytes(text, 'ubpf'));
const words = (...w: string[]): string => w.join('').replace(/\s+/g, '');

/** [text, little-endian bytes as RFC 9669 lays them out: opcode, src<<4|dst, off, imm]. */
const ENCODINGS: ReadonlyArray<readonly [string, string]> = [
  ['mov %r0, 1', 'b7 00 0000 01000000'],
  ['mov32 %r0, 0x80000000', 'b4 00 0000 00000080'],
  ['mov %r1, 0xffffffff', 'b7 01 0000 ffffffff'],
  ['mov %r1, -0x1', 'b7 01 0000 ffffffff'],
  ['mov %r2, %r10', 'bf a2 0000 00000000'],
  ['add %r1, -3', '07 01 0000 fdffffff'],
  ['add64 %r1, -3', '07 01 0000 fdffffff'],
  ['add32 %r1, %r2', '0c 21 0000 00000000'],
  ['neg %r2', '87 02 0000 00000000'],
  ['neg32 %r2', '84 02 0000 00000000'],
  ['neg64 %r2', '87 02 0000 00000000'],
  ['sdiv %r1, %r2', '3f 21 0100 00000000'],
  ['smod32 %r1, 3', '94 01 0100 03000000'],
  ['div %r1, 3', '37 01 0000 03000000'],
  ['arsh32 %r0, -16', 'c4 00 0000 f0ffffff'],
  ['movsx832 %r0, %r1', 'bc 10 0800 00000000'],
  ['movsx1632 %r0, %r1', 'bc 10 1000 00000000'],
  ['movsx864 %r0, %r1', 'bf 10 0800 00000000'],
  ['movsx1664 %r0, %r1', 'bf 10 1000 00000000'],
  ['movsx3264 %r0, %r1', 'bf 10 2000 00000000'],
  ['le16 %r3', 'd4 03 0000 10000000'],
  ['be32 %r3', 'dc 03 0000 20000000'],
  ['be64 %r3', 'dc 03 0000 40000000'],
  ['bswap64 %r3', 'd7 03 0000 40000000'],
  ['swap16 %r3', 'd7 03 0000 10000000'],
  ['ldxw %r0, [%r1+4]', '61 10 0400 00000000'],
  ['ldxdw %r0, [%r1]', '79 10 0000 00000000'],
  ['ldxb %r8, [%r0+0x1]', '71 08 0100 00000000'],
  ['ldxsb %r0, [%r10-1]', '91 a0 ffff 00000000'],
  ['ldxsh %r0, [%r10-2]', '89 a0 feff 00000000'],
  ['ldxsw %r0, [%r10-4]', '81 a0 fcff 00000000'],
  ['stw [%r10-8], 5', '62 0a f8ff 05000000'],
  ['stb [%r1+2], -1', '72 01 0200 ffffffff'],
  ['stxdw [%r10-8], %r1', '7b 1a f8ff 00000000'],
  ['stxh [%r1-32768], %r9', '6b 91 0080 00000000'],
  ['lddw %r0, 0x1122334455667788', '18 00 0000 88776655 00 00 0000 44332211'],
  ['lddw %r1, 2147483648', '18 01 0000 00000080 00 00 0000 00000000'],
  ['lddw %r0, -1', '18 00 0000 ffffffff 00 00 0000 ffffffff'],
  ['lddw %r0, 0xFFFFFFFFFFFFFFFF', '18 00 0000 ffffffff 00 00 0000 ffffffff'],
  ['jeq %r1, 0x10, +2', '15 01 0200 10000000'],
  ['jsge %r1, -1, +0', '75 01 0000 ffffffff'],
  ['jeq32 %r1, %r2, -1', '1e 21 ffff 00000000'],
  ['jset32 %r1, 0x8, +1', '46 01 0100 08000000'],
  ['ja +3', '05 00 0300 00000000'],
  ['ja32 +3', '06 00 0000 03000000'],
  ['call 5', '85 00 0000 05000000'],
  ['call %r2', '8d 02 0000 00000000'],
  ['callx %r2', '8d 02 0000 00000000'],
  ['exit', '95 00 0000 00000000'],
  ['lock add [%r10-8], %r1', 'db 1a f8ff 00000000'],
  ['lock add64 [%r10-8], %r1', 'db 1a f8ff 00000000'],
  ['lock add32 [%r10-4], %r1', 'c3 1a fcff 00000000'],
  ['lock fetch add32 [%r10-4], %r1', 'c3 1a fcff 01000000'],
  ['lock or [%r10-8], %r1', 'db 1a f8ff 40000000'],
  ['lock fetch xor [%r10-8], %r1', 'db 1a f8ff a1000000'],
  ['lock xchg [%r10-8], %r1', 'db 1a f8ff e1000000'],
  ['lock cmpxchg32 [%r10-8], %r1', 'c3 1a f8ff f1000000'],
];

describe('uBPF syntax encodings', () => {
  it.each(ENCODINGS)('%s', (text, expected) => {
    expect(bytes(text)).toBe(words(expected));
    const insns = assemble(text, 'ubpf');
    expect(insns).toEqual(decode(assembleBytes(text, 'ubpf')));
  });
});

describe('labels and comments', () => {
  it('resolves forward and backward labels to slot offsets (lddw counts two slots)', () => {
    const text = [
      'start:',
      '  jeq %r1, 0, done   # forward, over an lddw',
      '  lddw %r0, 0x100000000',
      '  ja start           // backward',
      'done: mov %r0, 1     ; label and instruction on one line',
      '  exit',
    ].join('\n');
    expect(bytes(text)).toBe(bytes('jeq %r1, 0, +3\nlddw %r0, 0x100000000\nja -4\nmov %r0, 1\nexit'));
  });

  it('`exit` as a label with no such label means the first exit instruction', () => {
    expect(bytes('jne %r0, 0, exit\nmov %r0, 1\nexit\nexit'))
      .toBe(bytes('jne %r0, 0, +1\nmov %r0, 1\nexit\nexit'));
    expect(bytes('ja exit\nexit:\nmov %r0, 2\nexit')).toBe(bytes('ja +0\nmov %r0, 2\nexit'));
  });

  it('local calls name a label; imm is target - pc - 1', () => {
    const insns = assemble('call local func1\nexit\nfunc1:\nmov %r0, 3\nexit', 'ubpf');
    expect(insns[0]).toMatchObject({ kind: 'call', mode: 'local', src: 1, imm: 1 });
    expect(assemble('call local +1\nexit\nmov %r0, 3\nexit', 'ubpf')).toEqual(insns);
  });

  it('accepts upper-case mnemonics and registers', () => {
    expect(bytes('MOV %R0, 1\nEXIT')).toBe(bytes('mov %r0, 1\nexit'));
  });

  it('gives every instruction its slot index as pc', () => {
    const insns = assemble('lddw %r0, 1\nmov %r1, 2\nexit', 'ubpf');
    expect(insns.map((i) => i.pc)).toEqual([0, 2, 3]);
  });
});

describe('uBPF disassembly', () => {
  it('prints table mnemonics, signed targets and hex lddw values', () => {
    const insns = assemble([
      'mov %r0, -1', 'ldxh %r1, [%r1]', 'jne32 %r1, 0xb, +2', 'lddw %r1, -1', 'call local -6', 'call %r2',
      'lock fetch and [%r10-8], %r1', 'exit',
    ].join('\n'), 'ubpf');
    expect(disassemble(insns, 'ubpf')).toBe([
      'mov %r0, -1', 'ldxh %r1, [%r1+0]', 'jne32 %r1, 11, +2', 'lddw %r1, 0xffffffffffffffff', 'call local -6',
      'callx %r2', 'lock fetch and [%r10-8], %r1', 'exit',
    ].join('\n'));
    expect(disassemble(insns, 'ubpf', { labels: true })).toBe([
      'fn0:', 'mov %r0, -1', 'ldxh %r1, [%r1+0]', 'jne32 %r1, 11, L5', 'lddw %r1, 0xffffffffffffffff', 'L5:',
      'call local fn0', 'callx %r2', 'lock fetch and [%r10-8], %r1', 'exit',
    ].join('\n'));
    expect(formatInsn(insns[2]!, 'ubpf')).toBe('jne32 %r1, 11, +2');
  });

  it('keeps numeric targets that do not land on an instruction', () => {
    const insns = decode(new Uint8Array(Buffer.from(words('05 00 0700 00000000', '95 00 0000 00000000'), 'hex')));
    expect(disassemble(insns, 'ubpf', { labels: true })).toBe('ja +7\nexit');
  });
});
