/**
 * Every row of the opcode table in both syntaxes: build slots from the row's field uses, decode,
 * print, assemble the printed text and compare with the encoding. The list of forms comes from
 * OPCODE_TABLE, so a new row is covered without touching this file.
 */
import { describe, expect, it } from 'vitest';
import { assemble, assembleBytes, formatInsn } from '../src/asm/index.js';
import { decodeSlots } from '../src/isa/decode.js';
import { encodeSlots } from '../src/isa/encode.js';
import type { RawSlot } from '../src/isa/insn.js';
import { OPCODE_TABLE, type FieldUse, type OpcodeRow } from '../src/isa/table.js';

interface Sample { dst: number; src: number; off: number; imm: number; nextImm: number; pseudo: number }

const SAMPLES: Sample[] = [
  { dst: 3, src: 4, off: -8, imm: 42, nextImm: 0, pseudo: 0 },
  { dst: 10, src: 0, off: 32767, imm: -1, nextImm: -1, pseudo: 1 },
  { dst: 0, src: 10, off: -32768, imm: -2147483648, nextImm: 0x12345678, pseudo: 2 },
  { dst: 9, src: 1, off: 0, imm: 2147483647, nextImm: 7, pseudo: 6 },
];

function field(row: OpcodeRow, name: 'dst' | 'src' | 'off' | 'imm', s: Sample): number {
  const use: FieldUse = row.fields[name];
  if (row.key?.field === name) return row.key.value;
  switch (use) {
    case 'reg': case 'value': return s[name];
    case 'pseudo': return s.pseudo;
    case 'zero': case 'key': return 0;
  }
}

function slotsFor(row: OpcodeRow, s: Sample): RawSlot[] {
  const slot = { opcode: row.opcode, dst: field(row, 'dst', s), src: field(row, 'src', s), off: field(row, 'off', s), imm: field(row, 'imm', s) };
  return row.form.kind === 'lddw' ? [slot, { opcode: 0, dst: 0, src: 0, off: 0, imm: s.nextImm }] : [slot];
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const label = (row: OpcodeRow): string => `${row.mnemonic} (0x${row.opcode.toString(16).padStart(2, '0')})`;

describe.each(['ubpf', 'llvm'] as const)('every opcode-table row in %s syntax', (syntax) => {
  it.each(OPCODE_TABLE.map((row) => [label(row), row] as const))('%s', (_name, row) => {
    for (const sample of SAMPLES) {
      const slots = slotsFor(row, sample);
      const [insn] = decodeSlots(slots);
      const text = formatInsn(insn!, syntax);
      expect(hex(assembleBytes(text, syntax)), text).toBe(hex(encodeSlots(slots)));
      expect(assemble(text, syntax), text).toEqual(decodeSlots(slots));
      if (syntax === 'ubpf' && row.mnemonic !== 'callx') expect(text.startsWith(row.mnemonic), text).toBe(true);
    }
  });
});

describe('syntax auto-detection on single instructions', () => {
  it('picks the syntax each row was printed in, unless the text is shared (exit, call N)', () => {
    for (const row of OPCODE_TABLE) {
      const [insn] = decodeSlots(slotsFor(row, SAMPLES[0]!));
      for (const syntax of ['ubpf', 'llvm'] as const) {
        const text = formatInsn(insn!, syntax);
        expect(hex(assembleBytes(text)), `${syntax}: ${text}`).toBe(hex(assembleBytes(text, syntax)));
      }
    }
  });
});
