import { ProgramError } from '../errors.js';
import type { Insn, RawSlot } from './insn.js';
import { REG_COUNT } from './opcode.js';
import { ROWS_BY_OPCODE, findRow, type FieldUse, type OpcodeRow } from './table.js';

export const SLOT_BYTES = 8;
/** Largest program accepted, in slots (the kernel's limit for privileged programs). */
export const MAX_SLOTS = 1_000_000;

/** Reads one slot from little-endian bytes. */
export function readSlot(view: DataView, slot: number): RawSlot {
  const at = slot * SLOT_BYTES;
  const regs = view.getUint8(at + 1);
  return {
    opcode: view.getUint8(at),
    dst: regs & 0x0f,
    src: regs >> 4,
    off: view.getInt16(at + 2, true),
    imm: view.getInt32(at + 4, true),
  };
}

/** Splits bytes into raw slots; the length must be a whole number of slots. */
export function toSlots(bytes: Uint8Array): RawSlot[] {
  if (bytes.length % SLOT_BYTES !== 0) {
    throw new ProgramError('E_DECODE_LENGTH', Math.floor(bytes.length / SLOT_BYTES),
      `program is ${bytes.length} bytes, not a multiple of ${SLOT_BYTES}`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const slots: RawSlot[] = [];
  for (let i = 0; i < bytes.length / SLOT_BYTES; i++) slots.push(readSlot(view, i));
  return slots;
}

function checkField(pc: number, row: OpcodeRow, name: 'dst' | 'src' | 'off' | 'imm', use: FieldUse, value: number): void {
  if (use === 'reg' && (value < 0 || value >= REG_COUNT)) {
    throw new ProgramError('E_DECODE_REGISTER', pc, `${row.mnemonic}: invalid ${name} register r${value}`);
  }
  if (use === 'zero' && value !== 0) {
    throw new ProgramError('E_DECODE_RESERVED', pc, `${row.mnemonic}: reserved field ${name} must be 0, is ${value}`);
  }
  if (use === 'pseudo' && (value < 0 || value > 6)) {
    throw new ProgramError('E_DECODE_RESERVED', pc, `${row.mnemonic}: unknown source mode ${value}`);
  }
}

function rowFor(pc: number, slot: RawSlot): OpcodeRow {
  const row = findRow(slot.opcode, slot);
  if (row) return row;
  const hex = '0x' + slot.opcode.toString(16).padStart(2, '0');
  const candidates = ROWS_BY_OPCODE[slot.opcode] ?? [];
  const first = candidates[0];
  if (!first?.key) throw new ProgramError('E_DECODE_OPCODE', pc, `unknown opcode ${hex}`);
  const field = first.key.field;
  if (candidates.length === 1) {
    throw new ProgramError('E_DECODE_RESERVED', pc,
      `${first.mnemonic}: reserved field ${field} must be ${first.key.value}, is ${slot[field]}`);
  }
  const allowed = candidates.map((r) => r.key?.value).join(', ');
  throw new ProgramError('E_DECODE_RESERVED', pc, `opcode ${hex}: ${field} ${slot[field]} is not one of ${allowed}`);
}

/** Decodes one instruction starting at `pc`; `next` is the following slot (needed by lddw). */
export function decodeAt(pc: number, slot: RawSlot, next: RawSlot | undefined): Insn {
  const row = rowFor(pc, slot);
  const { fields } = row;
  checkField(pc, row, 'dst', fields.dst, slot.dst);
  checkField(pc, row, 'src', fields.src, slot.src);
  checkField(pc, row, 'off', fields.off, slot.off);
  checkField(pc, row, 'imm', fields.imm, slot.imm);
  if (row.form.kind !== 'lddw') return { ...row.form, ...slot, pc } as Insn;
  if (!next) throw new ProgramError('E_DECODE_LDDW_TRUNCATED', pc, 'lddw is missing its second slot');
  if (next.opcode !== 0 || next.dst !== 0 || next.src !== 0 || next.off !== 0) {
    throw new ProgramError('E_DECODE_RESERVED', pc + 1, 'second slot of lddw must have opcode, registers and offset 0');
  }
  const value = (BigInt(next.imm >>> 0) << 32n) | BigInt(slot.imm >>> 0);
  return { kind: 'lddw', ...slot, pc, nextImm: next.imm, value };
}

/** Decodes raw slots into instructions (lddw merged). Control-flow checks live in program/. */
export function decodeSlots(slots: readonly RawSlot[]): Insn[] {
  if (slots.length === 0) throw new ProgramError('E_DECODE_EMPTY', 0, 'program has no instructions');
  if (slots.length > MAX_SLOTS) {
    throw new ProgramError('E_DECODE_PROGRAM_TOO_LARGE', MAX_SLOTS, `program has ${slots.length} slots, limit is ${MAX_SLOTS}`);
  }
  const insns: Insn[] = [];
  for (let pc = 0; pc < slots.length;) {
    const insn = decodeAt(pc, slots[pc]!, slots[pc + 1]);
    insns.push(insn);
    pc += insn.kind === 'lddw' ? 2 : 1;
  }
  return insns;
}

export function decode(bytes: Uint8Array): Insn[] {
  return decodeSlots(toSlots(bytes));
}
