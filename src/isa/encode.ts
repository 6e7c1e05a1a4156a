import type { Insn, RawSlot } from './insn.js';
import { SLOT_BYTES, checkSlotFields } from './decode.js';
import { Cls, Mode, Size } from './opcode.js';

const LDDW = Cls.LD | Mode.IMM | Size.DW;

function writeSlot(view: DataView, slot: number, raw: RawSlot): void {
  checkSlotFields(raw, slot);
  const at = slot * SLOT_BYTES;
  view.setUint8(at, raw.opcode);
  view.setUint8(at + 1, (raw.src << 4) | raw.dst);
  view.setInt16(at + 2, raw.off, true);
  view.setInt32(at + 4, raw.imm, true);
}

/**
 * Raw slots of an instruction list, fields checked; lddw (by its opcode, which is what a decoder
 * goes by) expands to two. Only the raw fields count: `kind` and the form's fields are not read.
 */
export function toRawSlots(insns: readonly Insn[]): RawSlot[] {
  const slots: RawSlot[] = [];
  for (const insn of insns) {
    checkSlotFields(insn, slots.length);
    const raw: RawSlot = { opcode: insn.opcode, dst: insn.dst, src: insn.src, off: insn.off, imm: insn.imm };
    slots.push(raw);
    if (raw.opcode !== LDDW) continue;
    const second: RawSlot = { opcode: 0, dst: 0, src: 0, off: 0, imm: (insn as { nextImm?: number }).nextImm! };
    checkSlotFields(second, slots.length);
    slots.push(second);
  }
  return slots;
}

export function encodeSlots(slots: readonly RawSlot[]): Uint8Array {
  const bytes = new Uint8Array(slots.length * SLOT_BYTES);
  const view = new DataView(bytes.buffer);
  slots.forEach((raw, i) => writeSlot(view, i, raw));
  return bytes;
}

export function encode(insns: readonly Insn[]): Uint8Array {
  return encodeSlots(toRawSlots(insns));
}
