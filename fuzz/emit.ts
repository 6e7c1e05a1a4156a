/**
 * A small instruction buffer with labels for the fuzz lowering. Every instruction is made from an
 * opcode-table row: fields the row fixes (keys, reserved zeros, lddw's pseudo source) come from the
 * row, the rest from the caller, and jump/call targets are resolved once all code is placed.
 */
import { decodeSlots } from '../src/isa/decode.js';
import type { AluOp, Form, Insn, JmpCond, RawSlot, Width } from '../src/isa/insn.js';
import { OPCODE_TABLE, type OpcodeRow } from '../src/isa/table.js';

/** A position in the code, placed once; jumps may refer to it before it is placed. */
export interface Label {
  at: number | undefined;
}

interface Pending {
  readonly row: OpcodeRow;
  readonly dst: number;
  readonly src: number;
  readonly off: number;
  readonly imm: number;
  readonly wide: bigint | undefined;
  readonly target: Label | undefined;
}

export interface Fields {
  readonly dst?: number;
  readonly src?: number;
  readonly off?: number;
  readonly imm?: number;
  /** lddw's 64-bit value. */
  readonly wide?: bigint;
}

function sameForm(a: Form, b: Form): boolean {
  const ka = Object.keys(a) as Array<keyof Form>;
  return ka.length === Object.keys(b).length && ka.every((k) => a[k] === b[k]);
}

const rowCache = new Map<string, OpcodeRow>();

/** The table row of a form (throws when the table has none: the lowering asked for something unknown). */
export function rowOf(form: Form): OpcodeRow {
  const key = JSON.stringify(form);
  let row = rowCache.get(key);
  if (!row) {
    row = OPCODE_TABLE.find((r) => sameForm(r.form, form));
    if (!row) throw new Error(`no opcode-table row for ${key}`);
    rowCache.set(key, row);
  }
  return row;
}

export const aluRow = (op: AluOp, width: Width, operand: 'imm' | 'reg'): OpcodeRow =>
  rowOf({ kind: 'alu', op, width, operand });
export const jmpRow = (cond: JmpCond, width: Width): OpcodeRow => rowOf({ kind: 'jmp', cond, width, operand: 'imm' });

/** Which field of a jump or call row carries its relative target. */
function targetField(row: OpcodeRow): 'off' | 'imm' {
  if (row.form.kind === 'jmp') return 'off';
  return row.fields.off === 'value' ? 'off' : 'imm';
}

/** A field's raw value: the row's key, zero for reserved fields and pseudo sources, else the given value. */
function field(row: OpcodeRow, name: 'dst' | 'src' | 'off' | 'imm', given: number | undefined): number {
  const use = row.fields[name];
  if (use === 'key') return row.key!.value;
  if (use === 'zero' || use === 'pseudo') return 0;
  return given ?? 0;
}

export class CodeBuffer {
  private readonly code: Pending[] = [];

  label(): Label {
    return { at: undefined };
  }

  place(label: Label): void {
    if (label.at !== undefined) throw new Error('label placed twice');
    label.at = this.code.length;
  }

  /** Appends one instruction of `row`; `target` fills the row's offset field (jumps, local calls). */
  emit(row: OpcodeRow, fields: Fields, target?: Label): void {
    this.code.push({
      row,
      dst: field(row, 'dst', fields.dst),
      src: field(row, 'src', fields.src),
      off: field(row, 'off', fields.off),
      imm: field(row, 'imm', fields.imm),
      wide: row.form.kind === 'lddw' ? BigInt.asUintN(64, fields.wide ?? 0n) : undefined,
      target,
    });
  }

  /** Resolves labels, encodes raw slots and decodes them: the result is what a loader would see. */
  finish(): Insn[] {
    const pcs: number[] = [];
    let pc = 0;
    for (const p of this.code) {
      pcs.push(pc);
      pc += p.wide === undefined ? 1 : 2;
    }
    const slots: RawSlot[] = [];
    this.code.forEach((p, i) => {
      const slot: RawSlot = { opcode: p.row.opcode, dst: p.dst, src: p.src, off: p.off, imm: p.imm };
      if (p.target) {
        const to = pcs[p.target.at ?? -1];
        if (to === undefined) throw new Error('jump to a label that was never placed or has no instruction');
        slot[targetField(p.row)] = to - pcs[i]! - 1;
      }
      if (p.wide === undefined) {
        slots.push(slot);
      } else {
        slot.imm = Number(BigInt.asIntN(32, p.wide));
        slots.push(slot, { opcode: 0, dst: 0, src: 0, off: 0, imm: Number(BigInt.asIntN(32, p.wide >> 32n)) });
      }
    });
    return decodeSlots(slots);
  }
}
