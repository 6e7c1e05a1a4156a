// Source lines from .BTF.ext line info: in verifier errors and logs, and interleaved with disassembly.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Vm, memory } from '../src/index.js';
import { VerifyError, verify } from '../src/verifier/index.js';
import { parseBtf } from '../src/btf/parse.js';
import { parseBtfExt, sourceLines } from '../src/btf/ext.js';
import { buildProgram } from '../src/program/program.js';
import { decode } from '../src/isa/decode.js';
import { encode } from '../src/isa/encode.js';
import { assemble, disassemble } from '../src/asm/index.js';
import { HelperRegistry } from '../src/runtime/helpers.js';

const dir = new URL('./fixtures/core/', import.meta.url);
const read = (name: string): Uint8Array => new Uint8Array(readFileSync(new URL(name, dir)));
const btf = parseBtf(read('refused.btf'));
const ext = parseBtfExt(read('refused.btf.ext'), btf);
const lines = sourceLines(ext.lineInfo.get('prog/refused')!);
const insns = decode(read('refused.refused.bin'));
// refused.c reads event[4] of an 8-byte event: line 6, `return first + event[4];`, at pc 1.
const withLines = buildProgram(insns, { lines });
const without = buildProgram(insns);

function refusal(program: ReturnType<typeof buildProgram>, logLevel: 0 | 1 | 2 = 0): { error: VerifyError; log: string } {
  const r = verify(program, { context: memory(8), helpers: new HelperRegistry(), logLevel });
  if (r.ok) throw new Error('expected a refusal');
  return { error: r.error, log: r.log };
}

describe('line info', () => {
  it('reads clang\'s line records: file, line, column and text', () => {
    // One record per column: pcs 1-3 all come from line 6.
    expect(lines.map((l) => [l.pc, l.file, l.line])).toEqual([[0, './refused.c', 5], [1, './refused.c', 6], [2, './refused.c', 6], [3, './refused.c', 6]]);
    expect(lines[1]!.text.trim()).toBe('return first + event[4];');
    expect(lines[1]!.column).toBeGreaterThan(0);
  });

  it('puts the C line of the refused instruction into the verifier error, code and pc unchanged', () => {
    const plain = refusal(without).error;
    const sourced = refusal(withLines).error;
    expect(sourced).toMatchObject({ code: plain.code, pc: 1, rule: plain.rule });
    expect(plain.message).not.toContain('@');
    expect(sourced.message).toContain('; return first + event[4]; @ refused.c:6');
    expect(sourced.source?.line).toBe(6);
  });

  it('shows source lines above their instructions in the verifier log', () => {
    for (const level of [1, 2] as const) {
      const log = refusal(withLines, level).log.split('\n');
      const at = log.findIndex((l) => l.startsWith('1: '));
      expect(log[at - 1]).toBe('; return first + event[4]; @ refused.c:6');
      expect(log).toContain('; u32 first = event[0]; @ refused.c:5');
    }
    expect(refusal(without, 1).log).not.toContain('@ refused.c');
  });

  it('reaches Vm.load callers', () => {
    expect(() => new Vm().load(withLines, { context: memory(8) })).toThrow(/@ refused\.c:6/);
  });

  it('interleaves source lines with the disassembly, which still assembles to the same bytes', () => {
    for (const labels of [false, true]) {
      const text = disassemble(withLines, 'llvm', { lines, labels });
      expect(text.split('\n').slice(0, 4)).toEqual([
        '; u32 first = event[0]; @ refused.c:5', 'r2 = *(u32 *)(r1 + 0)', '; return first + event[4]; @ refused.c:6', 'r0 = *(u32 *)(r1 + 16)',
      ]);
      expect(encode(assemble(text))).toEqual(encode(insns));
    }
    expect(disassemble(withLines, 'llvm', { lines }).match(/@ refused\.c:6/g)).toHaveLength(1);
    expect(disassemble(withLines, 'llvm')).not.toContain(';');
  });
});
