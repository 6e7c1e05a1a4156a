/**
 * The kernel/LLVM syntax: each spelling llvm-objdump / bpftool print, checked against the same
 * instruction written in uBPF syntax (two independent parsers must agree on the bytes), plus
 * llvm-objdump and bpftool output pasted as-is.
 */
import { describe, expect, it } from 'vitest';
import { assemble, assembleBytes, detectSyntax, disassemble, disassembleChunks } from '../src/asm/index.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const llvm = (text: string): string => hex(assembleBytes(text, 'llvm'));
const ubpf = (text: string): string => hex(assembleBytes(text, 'ubpf'));

/** [LLVM text, the same instruction in uBPF syntax]. */
const PAIRS: ReadonlyArray<readonly [string, string]> = [
  ['r0 = 1', 'mov %r0, 1'],
  ['w0 = 1', 'mov32 %r0, 1'],
  ['r0 = -0x1', 'mov %r0, -1'],
  ['r9 = 0xffffffff', 'mov %r9, -1'],
  ['r0 = r1', 'mov %r0, %r1'],
  ['w3 = w9', 'mov32 %r3, %r9'],
  ['r0 += r1', 'add %r0, %r1'],
  ['r0 += 0x2a', 'add %r0, 42'],
  ['w0 -= 5', 'sub32 %r0, 5'],
  ['r2 *= -4', 'mul %r2, -4'],
  ['r3 /= r4', 'div %r3, %r4'],
  ['r0 s/= r1', 'sdiv %r0, %r1'],
  ['w0 s/= -3', 'sdiv32 %r0, -3'],
  ['r4 %= 5', 'mod %r4, 5'],
  ['r0 s%= r1', 'smod %r0, %r1'],
  ['r4 |= 0xff', 'or %r4, 255'],
  ['r5 &= r6', 'and %r5, %r6'],
  ['r6 <<= 63', 'lsh %r6, 63'],
  ['w7 >>= w8', 'rsh32 %r7, %r8'],
  ['r8 ^= 0', 'xor %r8, 0'],
  ['r0 s>>= 3', 'arsh %r0, 3'],
  ['r10 s>>= r0', 'arsh %r10, %r0'],
  ['r0 = -r0', 'neg %r0'],
  ['w2 = -w2', 'neg32 %r2'],
  ['r0 = (s8)r1', 'movsx864 %r0, %r1'],
  ['r0 = (s16)r1', 'movsx1664 %r0, %r1'],
  ['r0 = (s32)r1', 'movsx3264 %r0, %r1'],
  ['w0 = (s8)w1', 'movsx832 %r0, %r1'],
  ['w0 = (s16)w1', 'movsx1632 %r0, %r1'],
  ['r0 = le16 r0', 'le16 %r0'],
  ['r0 = be32 r0', 'be32 %r0'],
  ['r3 = be64 r3', 'be64 %r3'],
  ['r0 = bswap64 r0', 'bswap64 %r0'],
  ['r0 = bswap16 r0', 'swap16 %r0'],
  ['r0 = 0x1122334455667788 ll', 'lddw %r0, 0x1122334455667788'],
  ['r0 = 1234605616436508552 ll', 'lddw %r0, 0x1122334455667788'],
  ['r9 = 0xffffffff ll', 'lddw %r9, 0xffffffff'],
  ['r1 = map_by_fd(3) ll', 'lddw %r1, map_by_fd(3)'],
  ['r1 = map_value_by_idx(0, 16) ll', 'lddw %r1, map_value_by_idx(0, 16)'],
  ['r0 = *(u32 *)(r1 + 4)', 'ldxw %r0, [%r1+4]'],
  ['w0 = *(u32 *)(r1 + 4)', 'ldxw %r0, [%r1+4]'],
  ['w5 = *(u8 *)(r0 + 0)', 'ldxb %r5, [%r0]'],
  ['r0 = *(s16 *)(r1 - 2)', 'ldxsh %r0, [%r1-2]'],
  ['r0 = *(s8 *)(r1 + 0x10)', 'ldxsb %r0, [%r1+16]'],
  ['r8 = *(u64 *)(r3 - 30)', 'ldxdw %r8, [%r3-30]'],
  ['r1 = *(u64 *)(r10 - 0x8)', 'ldxdw %r1, [%r10-8]'],
  ['*(u64 *)(r10 - 8) = r1', 'stxdw [%r10-8], %r1'],
  ['*(u32 *)(r10 - 8) = w1', 'stxw [%r10-8], %r1'],
  ['*(u8 *)(r0 + 0) = r7', 'stxb [%r0+0], %r7'],
  ['*(u32 *)(r10 - 8) = 5', 'stw [%r10-8], 5'],
  ['*(u16 *)(r1 + 0x7eef) = 0x1122', 'sth [%r1+0x7eef], 0x1122'],
  ['lock *(u64 *)(r1 + 0) += r2', 'lock add [%r1+0], %r2'],
  ['lock *(u64 *)(r1 + 8) |= r2', 'lock or [%r1+8], %r2'],
  ['lock *(u64 *)(r1 + 8) &= r2', 'lock and [%r1+8], %r2'],
  ['lock *(u64 *)(r1 + 8) ^= r2', 'lock xor [%r1+8], %r2'],
  ['lock *(u32 *)(r2 + 16) += w9', 'lock add32 [%r2+16], %r9'],
  ['lock *(u32 *)(r2 + 16) += r9', 'lock add32 [%r2+16], %r9'],
  ['lock *(u32 *)(r2 + 16) ^= w9', 'lock xor32 [%r2+16], %r9'],
  ['r2 = atomic_fetch_add((u64 *)(r1 + 0), r2)', 'lock fetch add [%r1], %r2'],
  ['r2 = atomic_fetch_and((u64 *)(r1 + 0), r2)', 'lock fetch and [%r1], %r2'],
  ['r2 = atomic_fetch_or((u64 *)(r1 + 0), r2)', 'lock fetch or [%r1], %r2'],
  ['r2 = atomic_fetch_xor((u64 *)(r1 + 0), r2)', 'lock fetch xor [%r1], %r2'],
  ['w2 = atomic_fetch_add((u32 *)(r1 - 4), w2)', 'lock fetch add32 [%r1-4], %r2'],
  ['r2 = xchg_64(r1 + 0, r2)', 'lock xchg [%r1], %r2'],
  ['w2 = xchg32_32(r1 + 0, w2)', 'lock xchg32 [%r1], %r2'],
  ['r0 = cmpxchg_64(r1 + 0, r0, r2)', 'lock cmpxchg [%r1], %r2'],
  ['w0 = cmpxchg32_32(r1 + 0, w0, w2)', 'lock cmpxchg32 [%r1], %r2'],
  ['if r1 > 5 goto +3', 'jgt %r1, 5, +3'],
  ['if r1 > 0x5 goto +0x3', 'jgt %r1, 5, +3'],
  ['if r1 s< r2 goto -1', 'jslt %r1, %r2, -1'],
  ['if r1 & 0x8 goto +2', 'jset %r1, 8, +2'],
  ['if r3 != -1 goto +13', 'jne %r3, -1, +13'],
  ['if r2 >= 0xffffffff goto +11', 'jge %r2, -1, +11'],
  ['if r9 s<= r10 goto +15', 'jsle %r9, %r10, +15'],
  ['if w1 == 5 goto +1', 'jeq32 %r1, 5, +1'],
  ['if w0 == w9 goto +0', 'jeq32 %r0, %r9, +0'],
  ['if w9 s< 100 goto +1', 'jslt32 %r9, 100, +1'],
  ['if r1 > 5 goto pc+3', 'jgt %r1, 5, +3'],
  ['goto +3', 'ja +3'],
  ['goto -1', 'ja -1'],
  ['gotol +3', 'ja32 +3'],
  ['gotol -70000', 'ja32 -70000'],
  ['call 5', 'call 5'],
  ['call pc+3', 'call local +3'],
  ['call pc-2', 'call local -2'],
  ['callx r2', 'call %r2'],
  ['exit', 'exit'],
];

describe('LLVM syntax spellings', () => {
  it.each(PAIRS)('%s', (l, u) => {
    expect(llvm(l)).toBe(ubpf(u));
    // `exit` and `call N` read the same in both syntaxes, so they do not decide.
    if (l !== u) expect(detectSyntax(l)).toBe('llvm');
  });

  it('resolves labels for goto, gotol, if and call', () => {
    const text = [
      'entry:', 'if r1 == 0 goto out', 'call helper', 'goto entry', 'gotol out', 'out:', 'exit',
      'helper:', 'r0 = 7', 'exit',
    ].join('\n');
    expect(hex(assembleBytes(text))).toBe(ubpf([
      'jeq %r1, 0, +3', 'call local +3', 'ja -3', 'ja32 +0', 'exit', 'mov %r0, 7', 'exit',
    ].join('\n')));
  });

  it('accepts `label :` with a space, as llvm-mc does', () => {
    expect(llvm('goto L\nL :\nexit')).toBe(ubpf('ja +0\nexit'));
  });
});

describe('pasted llvm-objdump output', () => {
  /** Real output of LLVM 14 (decimal immediates, `<LBB>` annotations, a 16-byte lddw line). */
  const LLVM14 = `
y3.o:	file format elf64-bpf

Disassembly of section .text:

0000000000000000 <f>:
       0:	bc 39 00 00 00 00 00 00	w9 = w3
       1:	79 17 08 00 00 00 00 00	r7 = *(u64 *)(r1 + 8)
       2:	db 51 10 00 01 00 00 00	r5 = atomic_fetch_add((u64 *)(r1 + 16), r5)
       3:	18 00 00 00 88 77 66 55 00 00 00 00 44 33 22 11	r0 = 1234605616436508552 ll
       5:	65 02 01 00 05 00 00 00	if r2 s> 5 goto +1 <LBB0_2>
       6:	b7 05 00 00 00 00 00 00	r5 = 0

0000000000000038 <LBB0_2>:
       7:	c3 34 00 00 e1 00 00 00	<unknown>
       8:	07 05 00 00 ef ff ff ff	r5 += -17
       9:	85 10 00 00 01 00 00 00	call 1
      10:	95 00 00 00 00 00 00 00	exit

0000000000000058 <sub>:
      11:	b4 00 00 00 03 00 00 00	w0 = 3
      12:	95 00 00 00 00 00 00 00	exit
`;

  it('assembles LLVM 14 output, taking the bytes column only where the text is ambiguous', () => {
    const bytes = LLVM14.split('\n').flatMap((l) => /^\s*\d+:\t([0-9a-f ]+)\t/.exec(l)?.[1]!.trim().split(' ') ?? []);
    expect(hex(assembleBytes(LLVM14))).toBe(bytes.join(''));
    expect(detectSyntax(LLVM14)).toBe('llvm');
    const insns = assemble(LLVM14);
    expect(insns[6]).toMatchObject({ kind: 'atomic', op: 'xchg', size: 4 }); // printed as <unknown>
    expect(insns[8]).toMatchObject({ kind: 'call', mode: 'local', imm: 1 }); // `call 1`, src = 1 in the bytes
  });

  it('assembles newer (hex immediate) output with --no-show-raw-insn, labels from headers', () => {
    const text = `
0000000000000000 <prog>:
       0:	r1 = *(u32 *)(r1 + 0x4)
       1:	if r1 > 0x5 goto +0x1 <LBB0_2>
       2:	goto +0x2 <LBB0_3>

0000000000000018 <LBB0_2>:
       3:	r1 = 0x2a
       4:	*(u64 *)(r10 - 0x8) = r1

0000000000000028 <LBB0_3>:
       5:	r0 = 0x0
       6:	if w0 == 0x0 goto LBB0_2
       7:	exit`;
    expect(hex(assembleBytes(text))).toBe(ubpf([
      'ldxw %r1, [%r1+4]', 'jgt %r1, 5, +1', 'ja +2', 'mov %r1, 42', 'stxdw [%r10-8], %r1', 'mov %r0, 0',
      'jeq32 %r0, 0, -4', 'exit',
    ].join('\n')));
  });

  it('skips relocation lines printed by -r', () => {
    const text = '       0:\t18 01 00 00 00 00 00 00 00 00 00 00 00 00 00 00\tr1 = 0 ll\n\t\t0000000000000000:  R_BPF_64_64\tmy_map\n       2:\t95 00 00 00 00 00 00 00\texit';
    expect(llvm(text)).toBe(ubpf('lddw %r1, 0\nexit'));
  });
});

describe('pasted bpftool prog dump xlated output', () => {
  it('reads the (opcode) column, pc+N targets, named helpers and lddw without ll', () => {
    const text = `
   0: (b7) r0 = 0
   1: (18) r1 = 0x1122334455667788
   3: (85) call bpf_map_lookup_elem#1
   4: (15) if r0 == 0x0 goto pc+1
   5: (05) goto pc-2
   6: (95) exit`;
    expect(llvm(text)).toBe(ubpf([
      'mov %r0, 0', 'lddw %r1, 0x1122334455667788', 'call 1', 'jeq %r0, 0, +1', 'ja -2', 'exit',
    ].join('\n')));
  });
});

describe('kernel verifier / bpftool spellings', () => {
  it('reads `(r1 +0)` offsets and the kernel names of fetching atomics', () => {
    const text = `
   0: (b7) r1 = 5
   1: (7b) *(u64 *)(r10 -8) = r1
   2: (bf) r2 = r10
   3: (07) r2 += -8
   4: (db) r1 = atomic64_fetch_add((u64 *)(r2 +0), r1)
   5: (c3) r1 = atomic_fetch_or((u32 *)(r2 +0), r1)
   6: (c3) r1 = atomic_xchg((u32 *)(r2 +0), r1)
   7: (db) r0 = atomic64_cmpxchg((u64 *)(r2 +0), r0, r1)
   8: (c3) lock *(u32 *)(r2 +0) += r1
   9: (61) r0 = *(u32 *)(r2 +4)
  10: (16) if w0 == 0x5 goto pc+1
  11: (95) exit`;
    expect(llvm(text)).toBe(ubpf([
      'mov %r1, 5', 'stxdw [%r10-8], %r1', 'mov %r2, %r10', 'add %r2, -8', 'lock fetch add [%r2], %r1',
      'lock fetch or32 [%r2], %r1', 'lock xchg32 [%r2], %r1', 'lock cmpxchg [%r2], %r1', 'lock add32 [%r2], %r1',
      'ldxw %r0, [%r2+4]', 'jeq32 %r0, 5, +1', 'exit',
    ].join('\n')));
  });
});

describe('LLVM disassembly', () => {
  it('prints what llvm-objdump prints for the common forms', () => {
    const insns = assemble([
      'mov %r0, 1', 'add32 %r1, %r2', 'ldxw %r0, [%r1+4]', 'stxdw [%r10-8], %r1', 'jsgt %r2, 5, +1',
      'lock add [%r1+0], %r5', 'lddw %r0, 0x1122334455667788', 'call 5', 'call local -10', 'exit',
    ].join('\n'), 'ubpf');
    expect(disassemble(insns, 'llvm')).toBe([
      'r0 = 1', 'w1 += w2', 'r0 = *(u32 *)(r1 + 4)', '*(u64 *)(r10 - 8) = r1', 'if r2 s> 5 goto +1',
      'lock *(u64 *)(r1 + 0) += r5', 'r0 = 0x1122334455667788 ll', 'call 5', 'call pc-10', 'exit',
    ].join('\n'));
    expect(disassemble(insns, 'llvm', { labels: true })).toBe([
      'fn0:', 'r0 = 1', 'w1 += w2', 'r0 = *(u32 *)(r1 + 4)', '*(u64 *)(r10 - 8) = r1', 'if r2 s> 5 goto L6',
      'lock *(u64 *)(r1 + 0) += r5', 'L6:', 'r0 = 0x1122334455667788 ll', 'call 5', 'call fn0', 'exit',
    ].join('\n'));
  });

  it('gives the same listing in chunks of whole lines', () => {
    const insns = assemble(['r0 = 0', 'L:', 'r0 += 1', 'if r0 < 9 goto L', 'call pc+1', 'exit', 'r0 = 2', 'exit'].join('\n'), 'llvm');
    for (const syntax of ['llvm', 'ubpf'] as const) {
      for (const labels of [false, true]) {
        const whole = `${disassemble(insns, syntax, { labels })}\n`;
        for (const size of [1, 2, 3, 100]) {
          const chunks = [...disassembleChunks(insns, syntax, { labels }, size)];
          expect(chunks.join('')).toBe(whole);
          expect(chunks.every((c) => c.endsWith('\n') && c.split('\n').length - 1 <= size)).toBe(true);
        }
      }
    }
  });
});
