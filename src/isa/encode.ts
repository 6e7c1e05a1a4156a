import type { Insn, RawSlot } from './insn.js';
import { SLOT_BYTES } from './decode.js';

function writeSlot(view: DataView, slot: number, raw: RawSlot): void {
  const at = slot * SLOT_BYTES;
  view.setUint8(at, raw.opcode);
  view.setUint8(at + 1, ((raw.src & 0x0f) << 4) | (raw.dst & 0x0f));
  view.setInt16(at + 2, raw.off, true);
  view.setInt32(at + 4, raw.imm, true);
}

/** Raw slots of an instruction list (lddw expands to two). */
export function toRawSlots(insns: readonly Insn[]): RawSlot[] {
  const slots: RawSlot[] = [];
  for (const insn of insns) {
    slots.push({ opcode: insn.opcode, dst: insn.dst, src: insn.src, off: insn.off, imm: insn.imm });
    if (insn.kind === 'lddw') slots.push({ opcode: 0, dst: 0, src: 0, off: 0, imm: insn.nextImm });
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
