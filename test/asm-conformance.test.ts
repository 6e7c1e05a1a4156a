/**
 * The assembler against the conformance suite: every `-- asm` program assembles (and matches its
 * `-- raw` words where given), every negative file is refused by the assembler, the loader or the verifier, and
 * every program round-trips through both syntaxes, with and without labels.
 */
import { describe, expect, it } from 'vitest';
import { conformanceFiles, conformancePresent, readConformance, reportMissingConformance, type SuiteDir } from './conformance-suite.js';
import { assemble, assembleBytes, detectSyntax, disassemble } from '../src/asm/index.js';
import { AsmError } from '../src/errors.js';
import type { DataFile } from '../src/conformance/data-file.js';
import { decode } from '../src/isa/decode.js';
import { encode } from '../src/isa/encode.js';
import { buildProgram } from '../src/program/program.js';
import { CONFORMANCE_PROTOS, memory, verify } from '../src/verifier/index.js';

const load = (dir: SuiteDir): Array<[string, DataFile]> => conformanceFiles(dir).map((f) => [f, readConformance(f, dir)]);

const tests = load('tests');
const negative = load('negative');
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

describe.skipIf(!conformancePresent)('conformance programs (../shared/conformance)', () => {
  it('assembles every -- asm section; Insn[] is what decode() makes of the bytes', () => {
    let count = 0;
    for (const [name, file] of tests) {
      if (file.asm === undefined) continue;
      const bytes = assembleBytes(file.asm, 'ubpf');
      expect(assemble(file.asm, 'ubpf'), name).toEqual(decode(bytes));
      if (file.raw) expect(hex(bytes), name).toBe(hex(file.raw));
      count++;
    }
    expect(count).toBeGreaterThan(300);
  });

  it('detects the uBPF syntax in every conformance program', () => {
    for (const [name, file] of tests) if (file.asm !== undefined) expect(detectSyntax(file.asm), name).toBe('ubpf');
  });

  it('round-trips every program in both syntaxes, with and without labels', () => {
    for (const [name, file] of tests) {
      const bytes = file.raw ?? assembleBytes(file.asm!, 'ubpf');
      for (const syntax of ['ubpf', 'llvm'] as const) {
        for (const labels of [false, true]) {
          const what = `${name} ${syntax}${labels ? ' labels' : ''}`;
          const text = disassemble(decode(bytes), syntax, { labels });
          expect(detectSyntax(text), what).toBe(syntax);
          const again = assembleBytes(text, syntax);
          expect(hex(again), what).toBe(hex(bytes));
          expect(hex(encode(assemble(text))), what).toBe(hex(bytes));
          expect(disassemble(decode(again), syntax, { labels }), what).toBe(text);
        }
      }
    }
  });
});

describe.skipIf(!conformancePresent)('negative conformance files', () => {
  /** The ones the text itself makes impossible; the rest assemble and are refused when loaded. */
  const ASSEMBLER_REFUSES: Record<string, string> = {
    'invalid_imm32_dec_range.data': 'E_ASM_RANGE',
    'invalid_imm32_hex_range.data': 'E_ASM_RANGE',
    'invalid_label.data': 'E_ASM_LABEL',
    'invalid_lock.data': 'E_ASM_OPERANDS',
    'invalid_lock2.data': 'E_ASM_OPERANDS',
    'invalid_mnemonic.data': 'E_ASM_MNEMONIC',
    'invalid_offset.data': 'E_ASM_OPERANDS',
    'invalid_offset_range.data': 'E_ASM_RANGE',
    'invalid_operand_count.data': 'E_ASM_OPERANDS',
    'invalid_register.data': 'E_ASM_REGISTER',
    'invalid_unknown_directive.data': 'E_ASM_SYNTAX',
  };

  it('refuses every negative -- asm program, in the assembler, in buildProgram or in the verifier', () => {
    let seen = 0;
    for (const [name, file] of negative) {
      if (file.asm === undefined || name === 'incorrect_return_value_high_bits.data') continue;
      seen++;
      const code = ASSEMBLER_REFUSES[name];
      if (code) {
        let error: unknown;
        try { assemble(file.asm); } catch (e) { error = e; }
        expect(error, name).toBeInstanceOf(AsmError);
        expect((error as AsmError).code, name).toBe(code);
        expect((error as AsmError).line, name).toBeGreaterThanOrEqual(1);
      } else {
        // The one such file, error.data (`or %r0, %r10`), is well formed: reading r0 before setting it is unsafe.
        const r = verify(buildProgram(assemble(file.asm)), { context: memory(file.mem.length), helpers: CONFORMANCE_PROTOS });
        expect(r.ok ? 'accepted' : [r.error.code, r.error.pc], name).toEqual(['E_VERIFY_UNINIT_REGISTER', 0]);
      }
    }
    expect(seen).toBe(Object.keys(ASSEMBLER_REFUSES).length + 1);
  });
});

reportMissingConformance('conformance programs (../shared/conformance)');
