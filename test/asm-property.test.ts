/**
 * Property: for any valid program built from opcode-table rows with random field values, printing
 * it in either syntax (with or without labels) and assembling the text gives back the same bytes.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { assembleBytes, disassemble } from '../src/asm/index.js';
import { decodeSlots } from '../src/isa/decode.js';
import { encodeSlots } from '../src/isa/encode.js';
import type { RawSlot } from '../src/isa/insn.js';
import { OPCODE_TABLE, type FieldUse } from '../src/isa/table.js';

const valueFor = (use: FieldUse, bits: 16 | 32): fc.Arbitrary<number> => {
  switch (use) {
    case 'reg': return fc.integer({ min: 0, max: 10 });
    case 'pseudo': return fc.integer({ min: 0, max: 6 });
    case 'value': return bits === 16 ? fc.integer({ min: -32768, max: 32767 }) : fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 });
    case 'zero': case 'key': return fc.constant(0);
  }
};

/** One instruction (one or two slots) from a random table row. */
const instruction: fc.Arbitrary<RawSlot[]> = fc.constantFrom(...OPCODE_TABLE).chain((row) =>
  fc.record({
    dst: valueFor(row.fields.dst, 32), src: valueFor(row.fields.src, 32),
    off: valueFor(row.fields.off, 16), imm: valueFor(row.fields.imm, 32),
    next: fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
  }).map(({ next, ...fields }) => {
    const slot: RawSlot = { opcode: row.opcode, ...fields };
    if (row.key) slot[row.key.field] = row.key.value;
    return row.form.kind === 'lddw' ? [slot, { opcode: 0, dst: 0, src: 0, off: 0, imm: next }] : [slot];
  }));

const program = fc.array(instruction, { minLength: 1, maxLength: 12 }).map((insns) => insns.flat());
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

describe('random programs round-trip through both syntaxes', () => {
  it.each(['ubpf', 'llvm'] as const)('%s', (syntax) => {
    fc.assert(fc.property(program, fc.boolean(), (slots, labels) => {
      const text = disassemble(decodeSlots(slots), syntax, { labels });
      expect(hex(assembleBytes(text, syntax)), text).toBe(hex(encodeSlots(slots)));
    }), { numRuns: 300 });
  });
});
