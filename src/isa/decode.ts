import { ProgramError } from '../errors.js';
import type { Form, Insn, RawSlot } from './insn.js';
import { REG_COUNT } from './opcode.js';
import { ROWS_BY_OPCODE, findRow, type FieldUse, type OpcodeRow } from './table.js';

export const SLOT_BYTES = 8;
/** Default largest program, in slots: the kernel's limit (BPF_COMPLEXITY_LIMIT_INSNS). */
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

const fits = (value: unknown, min: number, max: number): boolean =>
  Number.isInteger(value) && (value as number) >= min && (value as number) <= max;

/**
 * Refuses a field value its bits cannot hold: writing it would keep the low bits and make another
 * instruction (r17 would become r1, off 70000 would become 4464). Which register numbers are valid
 * (r0-r10) is the decoder's rule, not the encoding's.
 */
export function checkSlotFields(raw: RawSlot, pc: number): void {
  if (typeof raw !== 'object' || raw === null) throw new ProgramError('E_DECODE_FIELD', pc, `not an instruction: ${String(raw)}`);
  if (!fits(raw.opcode, 0, 0xff)) throw new ProgramError('E_DECODE_OPCODE', pc, `opcode ${String(raw.opcode)} is not a byte`);
  for (const name of ['dst', 'src'] as const) {
    if (!fits(raw[name], 0, 15)) throw new ProgramError('E_DECODE_REGISTER', pc, `${name} register ${String(raw[name])} does not fit in 4 bits`);
  }
  if (!fits(raw.off, -0x8000, 0x7fff)) throw new ProgramError('E_DECODE_FIELD', pc, `off ${String(raw.off)} does not fit in 16 signed bits`);
  if (!fits(raw.imm, -0x8000_0000, 0x7fff_ffff)) throw new ProgramError('E_DECODE_FIELD', pc, `imm ${String(raw.imm)} does not fit in 32 signed bits`);
}

function checkLength(bytes: Uint8Array): void {
  if (bytes.length % SLOT_BYTES !== 0) {
    throw new ProgramError('E_DECODE_LENGTH', Math.floor(bytes.length / SLOT_BYTES),
      `program is ${bytes.length} bytes, not a multiple of ${SLOT_BYTES}`);
  }
}

const viewOf = (bytes: Uint8Array): DataView => new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);

/** Splits bytes into raw slots; the length must be a whole number of slots. */
export function toSlots(bytes: Uint8Array): RawSlot[] {
  checkLength(bytes);
  const view = viewOf(bytes);
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

/**
 * The instruction of a form at a slot. Literals per kind, not `{ ...form, ...slot }`: a double spread
 * runs in V8's runtime and was most of the time of loading a large program.
 */
function located(form: Exclude<Form, { kind: 'lddw' }>, s: RawSlot, pc: number): Insn {
  const { opcode, dst, src, off, imm } = s;
  switch (form.kind) {
    case 'alu': return { kind: 'alu', op: form.op, width: form.width, operand: form.operand, opcode, dst, src, off, imm, pc };
    case 'end': return { kind: 'end', order: form.order, bits: form.bits, opcode, dst, src, off, imm, pc };
    case 'jmp': return { kind: 'jmp', cond: form.cond, width: form.width, operand: form.operand, opcode, dst, src, off, imm, pc };
    case 'ja': return { kind: 'ja', long: form.long, opcode, dst, src, off, imm, pc };
    case 'call': return { kind: 'call', mode: form.mode, opcode, dst, src, off, imm, pc };
    case 'callx': return { kind: 'callx', opcode, dst, src, off, imm, pc };
    case 'exit': return { kind: 'exit', opcode, dst, src, off, imm, pc };
    case 'ldx': return { kind: 'ldx', size: form.size, signed: form.signed, opcode, dst, src, off, imm, pc };
    case 'st': return { kind: 'st', size: form.size, opcode, dst, src, off, imm, pc };
    case 'stx': return { kind: 'stx', size: form.size, opcode, dst, src, off, imm, pc };
    case 'atomic': return { kind: 'atomic', size: form.size, op: form.op, fetch: form.fetch, opcode, dst, src, off, imm, pc };
    case 'ldabs': return { kind: 'ldabs', size: form.size, indirect: form.indirect, opcode, dst, src, off, imm, pc };
  }
}

/** Decodes one instruction starting at `pc`; `slotAt` gives the following slot (needed by lddw). */
function decodeAt(pc: number, slot: RawSlot, count: number, slotAt: (i: number) => RawSlot): Insn {
  const row = rowFor(pc, slot);
  const { fields } = row;
  checkField(pc, row, 'dst', fields.dst, slot.dst);
  checkField(pc, row, 'src', fields.src, slot.src);
  checkField(pc, row, 'off', fields.off, slot.off);
  checkField(pc, row, 'imm', fields.imm, slot.imm);
  if (row.form.kind !== 'lddw') return located(row.form, slot, pc);
  if (pc + 1 >= count) throw new ProgramError('E_DECODE_LDDW_TRUNCATED', pc, 'lddw is missing its second slot');
  const next = slotAt(pc + 1);
  if (next.opcode !== 0 || next.dst !== 0 || next.src !== 0 || next.off !== 0) {
    throw new ProgramError('E_DECODE_RESERVED', pc + 1, 'second slot of lddw must have opcode, registers and offset 0');
  }
  const value = (BigInt(next.imm >>> 0) << 32n) | BigInt(slot.imm >>> 0);
  const { opcode, dst, src, off, imm } = slot;
  return { kind: 'lddw', opcode, dst, src, off, imm, pc, nextImm: next.imm, value };
}

function decodeWith(count: number, slotAt: (i: number) => RawSlot): Insn[] {
  if (count === 0) throw new ProgramError('E_DECODE_EMPTY', 0, 'program has no instructions');
  const insns: Insn[] = [];
  for (let pc = 0; pc < count;) {
    const insn = decodeAt(pc, slotAt(pc), count, slotAt);
    insns.push(insn);
    pc += insn.kind === 'lddw' ? 2 : 1;
  }
  return insns;
}

/**
 * Decodes raw slots into instructions (lddw merged), checking every field, its width first (slots
 * made in code can hold any number). Control-flow checks and the program size limit live in program/.
 */
export function decodeSlots(slots: readonly RawSlot[]): Insn[] {
  return decodeWith(slots.length, (i) => {
    const slot = slots[i]!;
    checkSlotFields(slot, i);
    return slot;
  });
}

/** Decodes little-endian bytecode; each slot is read as it is decoded, not gathered first. */
export function decode(bytes: Uint8Array): Insn[] {
  checkLength(bytes);
  const view = viewOf(bytes);
  return decodeWith(bytes.length / SLOT_BYTES, (i) => readSlot(view, i));
}
