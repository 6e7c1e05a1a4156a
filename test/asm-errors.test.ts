/** Assembler errors: each carries a stable code and the 1-based line and column of the culprit. */
import { describe, expect, it } from 'vitest';
import { assemble } from '../src/asm/index.js';
import type { Syntax } from '../src/asm/index.js';
import { AsmError } from '../src/errors.js';

function failure(text: string, syntax: Syntax): AsmError {
  try {
    assemble(text, syntax);
  } catch (e) {
    expect(e).toBeInstanceOf(AsmError);
    return e as AsmError;
  }
  throw new Error(`assembled without error: ${text}`);
}

/** [syntax, text, code, line, column]. */
const CASES: ReadonlyArray<readonly [Syntax, string, string, number, number]> = [
  // unknown mnemonics / instructions
  ['ubpf', 'mov %r0, 1\nldxq %r0, [%r1]\nexit', 'E_ASM_MNEMONIC', 2, 1],
  ['ubpf', '  frob %r0', 'E_ASM_MNEMONIC', 1, 3],
  ['ubpf', 'lock nand [%r1], %r2', 'E_ASM_MNEMONIC', 1, 1],
  ['llvm', 'r0 = 1\nfrob r0\nexit', 'E_ASM_MNEMONIC', 2, 1],
  ['llvm', 'r0 = frob_64(r1 + 0, r0)', 'E_ASM_MNEMONIC', 1, 6],
  // registers
  ['ubpf', 'or %r0, %r50', 'E_ASM_REGISTER', 1, 9],
  ['ubpf', 'mov %r11, 1', 'E_ASM_REGISTER', 1, 5],
  ['ubpf', 'mov %rx, 1', 'E_ASM_REGISTER', 1, 5],
  ['ubpf', 'ldxw %r0, [%r12+4]', 'E_ASM_REGISTER', 1, 12],
  ['llvm', 'r11 = 1', 'E_ASM_REGISTER', 1, 1],
  ['llvm', 'r0 += w1', 'E_ASM_REGISTER', 1, 7],
  ['llvm', 'if w1 == r2 goto +1', 'E_ASM_REGISTER', 1, 10],
  ['llvm', 'w0 = *(u64 *)(r1 + 0)', 'E_ASM_REGISTER', 1, 1],
  ['llvm', 'r0 = cmpxchg_64(r1 + 0, r3, r2)', 'E_ASM_REGISTER', 1, 25],
  // operand count and kinds
  ['ubpf', 'lddw %r0', 'E_ASM_OPERANDS', 1, 9],
  ['ubpf', 'add %r0, 1, 2', 'E_ASM_OPERANDS', 1, 13],
  ['ubpf', 'exit %r0', 'E_ASM_OPERANDS', 1, 6],
  ['ubpf', 'ldxb %r0, %r1', 'E_ASM_OPERANDS', 1, 11],
  ['ubpf', 'stw [%r10-8], %r1', 'E_ASM_OPERANDS', 1, 15],
  ['ubpf', 'lock or [%r10-8]', 'E_ASM_OPERANDS', 1, 17],
  ['ubpf', 'lock', 'E_ASM_OPERANDS', 1, 5],
  ['ubpf', 'jeq %r1, 1', 'E_ASM_OPERANDS', 1, 11],
  ['llvm', 'r0 = -r1', 'E_ASM_OPERANDS', 1, 7],
  ['llvm', 'r0 = be16 r1', 'E_ASM_OPERANDS', 1, 11],
  ['llvm', 'exit r0', 'E_ASM_OPERANDS', 1, 6],
  ['llvm', 'if r1 ~ 2 goto +1', 'E_ASM_SYNTAX', 1, 7],
  ['llvm', 'r2 = xchg_64(r1 + 0, r3)', 'E_ASM_OPERANDS', 1, 22],
  ['llvm', 'r0 = *(u128 *)(r1 + 0)', 'E_ASM_OPERANDS', 1, 8],
  ['llvm', 'w0 = (s32)w1', 'E_ASM_OPERANDS', 1, 7],
  // ranges
  ['ubpf', 'mov32 %r0, 2147483648', 'E_ASM_RANGE', 1, 12],
  ['ubpf', 'mov32 %r0, -2147483649', 'E_ASM_RANGE', 1, 12],
  ['ubpf', 'mov32 %r0, 0x100000000', 'E_ASM_RANGE', 1, 12],
  ['ubpf', 'mov %r0, -0x80000001', 'E_ASM_RANGE', 1, 10],
  ['ubpf', 'ldxb %r0, [%r1+0x10000]', 'E_ASM_RANGE', 1, 15],
  ['ubpf', 'ldxb %r0, [%r1+32768]', 'E_ASM_RANGE', 1, 15],
  ['ubpf', 'ja +32768', 'E_ASM_RANGE', 1, 4],
  ['ubpf', 'lddw %r0, 0x10000000000000000', 'E_ASM_RANGE', 1, 11],
  ['llvm', 'r0 = *(u32 *)(r1 + 40000)', 'E_ASM_RANGE', 1, 18],
  ['llvm', 'goto -32769', 'E_ASM_RANGE', 1, 6],
  ['llvm', 'w0 = 4294967296', 'E_ASM_RANGE', 1, 6],
  // labels
  ['ubpf', 'ja NOT_A_LABEL\nexit', 'E_ASM_LABEL', 1, 4],
  ['ubpf', 'a:\nmov %r0, 1\na:\nexit', 'E_ASM_LABEL', 3, 1],
  ['ubpf', 'jeq %r1, 0, nowhere\nexit', 'E_ASM_LABEL', 1, 13],
  ['llvm', 'goto out\nexit', 'E_ASM_LABEL', 1, 6],
  ['llvm', 'call missing\nexit', 'E_ASM_LABEL', 1, 6],
  ['llvm', 'x:\n  r0 = 0\n  x:\nexit', 'E_ASM_LABEL', 3, 3],
  // lexical and empty
  ['ubpf', 'mov %r0, 12abc', 'E_ASM_SYNTAX', 1, 10],
  ['ubpf', 'mov %r0, @1', 'E_ASM_SYNTAX', 1, 10],
  ['ubpf', '# only a comment\n', 'E_ASM_SYNTAX', 1, 1],
  ['llvm', '', 'E_ASM_SYNTAX', 1, 1],
];

describe('assembler errors', () => {
  it.each(CASES)('%s: %j -> %s at %i:%i', (syntax, text, code, line, column) => {
    const e = failure(text, syntax);
    expect({ code: e.code, line: e.line, column: e.column }).toEqual({ code, line, column });
    expect(e.message).toContain(`line ${line}, column ${column}`);
  });

  it('a jump label too far away for a 16-bit offset is a range error on the jump', () => {
    const text = ['ja far', ...Array<string>(40000).fill('mov %r0, 0'), 'far:', 'exit'].join('\n');
    const e = failure(text, 'ubpf');
    expect([e.code, e.line, e.column]).toEqual(['E_ASM_RANGE', 1, 4]);
    expect(() => assemble(text.replace('ja far', 'ja32 far'), 'ubpf')).not.toThrow();
  });
});
