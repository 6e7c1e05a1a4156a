/**
 * What a parser makes of one instruction line: the opcode-table row plus the raw field values,
 * and possibly a label reference still to be resolved into a relative offset.
 */
import { InternalError } from '../errors.js';
import type { Form, RawSlot } from '../isa/insn.js';
import { OPCODE_TABLE, type OpcodeRow } from '../isa/table.js';

export interface LabelRef {
  readonly name: string;
  readonly column: number;
}

export interface AsmItem {
  readonly row: OpcodeRow;
  readonly dst: number;
  readonly src: number;
  readonly off: number;
  readonly imm: number;
  /** High half of an lddw value (second slot's imm). */
  readonly nextImm: number;
  /** Jump or local-call target written as a label; resolved into off or imm by the assembler. */
  readonly target?: LabelRef;
  /** lddw map source written with a map's name; resolved into imm by the assembler. */
  readonly mapRef?: LabelRef;
  readonly line: number;
  readonly column: number;
}

export type ItemFields = Partial<Pick<AsmItem, 'dst' | 'src' | 'off' | 'imm' | 'nextImm' | 'target' | 'mapRef'>>;

/** A stable key for a form: its fields in a fixed order. */
export function formKey(form: Form): string {
  switch (form.kind) {
    case 'alu': return `alu:${form.op}:${form.width}:${form.operand}`;
    case 'end': return `end:${form.order}:${form.bits}`;
    case 'jmp': return `jmp:${form.cond}:${form.width}:${form.operand}`;
    case 'ja': return `ja:${form.long}`;
    case 'call': return `call:${form.mode}`;
    case 'callx': return 'callx';
    case 'exit': return 'exit';
    case 'lddw': return 'lddw';
    case 'ldx': return `ldx:${form.size}:${form.signed}`;
    case 'st': return `st:${form.size}`;
    case 'stx': return `stx:${form.size}`;
    case 'atomic': return `atomic:${form.size}:${form.op}:${form.fetch}`;
    case 'ldabs': return `ldabs:${form.size}:${form.indirect}`;
    default: {
      const never: never = form;
      return never;
    }
  }
}

const ROW_BY_FORM: ReadonlyMap<string, OpcodeRow> = new Map(OPCODE_TABLE.map((row) => [formKey(row.form), row]));

/** The table row of a form, or undefined when the form does not exist (e.g. 32-bit movsx32). */
export const findFormRow = (form: Form): OpcodeRow | undefined => ROW_BY_FORM.get(formKey(form));

/** The table row of a form the caller knows is in the table. */
export function rowOf(form: Form): OpcodeRow {
  const row = findFormRow(form);
  if (!row) throw new InternalError(`no opcode row for ${formKey(form)}`);
  return row;
}

export function makeItem(row: OpcodeRow, fields: ItemFields, line: number, column: number): AsmItem {
  return {
    row, dst: fields.dst ?? 0, src: fields.src ?? 0, off: fields.off ?? 0, imm: fields.imm ?? 0,
    nextImm: fields.nextImm ?? 0, line, column,
    ...(fields.target ? { target: fields.target } : {}), ...(fields.mapRef ? { mapRef: fields.mapRef } : {}),
  };
}

/** Which field a label target resolves into: `gotol`/`ja32`, local calls and code addresses use imm. */
export function targetField(row: OpcodeRow): 'off' | 'imm' {
  const form = row.form;
  if (form.kind === 'ja' && form.long) return 'imm';
  if (form.kind === 'call' || form.kind === 'lddw') return 'imm';
  return 'off';
}

/** The raw slots of an item; the row's key field gets the key value. */
export function itemSlots(item: AsmItem): RawSlot[] {
  const slot: RawSlot = { opcode: item.row.opcode, dst: item.dst, src: item.src, off: item.off, imm: item.imm };
  if (item.row.key) slot[item.row.key.field] = item.row.key.value;
  if (item.row.form.kind !== 'lddw') return [slot];
  return [slot, { opcode: 0, dst: 0, src: 0, off: 0, imm: item.nextImm }];
}
