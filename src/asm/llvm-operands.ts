/** Operand readers for the kernel/LLVM syntax: `r1`/`w1`, `(r1 + 4)`, `(u32 *)`, `+3`/`pc+3`/labels. */
import type { AccessSize } from '../isa/insn.js';
import { registerNumber, type Cursor } from './cursor.js';
import type { ItemFields } from './item.js';
import { parseTypeName } from './llvm-syntax.js';

export interface Reg {
  readonly n: number;
  /** `r` (64-bit) rather than `w` (32-bit). */
  readonly wide: boolean;
  readonly column: number;
}

export const isRegName = (text: string): boolean => /^[rw][0-9]+$/.test(text);

export function atReg(c: Cursor, ahead = 0): boolean {
  const t = c.peek(ahead);
  return t?.kind === 'ident' && isRegName(t.text);
}

export function readReg(c: Cursor, what = 'a register'): Reg {
  const t = c.peek();
  if (t?.kind !== 'ident' || !isRegName(t.text)) {
    throw c.error('E_ASM_OPERANDS', `expected ${what}${t ? `, found '${t.text}'` : ' at end of line'}`);
  }
  c.next();
  const wide = t.text.startsWith('r');
  return { n: registerNumber(t.text, c.line, t.column, wide ? 'r' : 'w'), wide, column: t.column };
}

/** A register that must have the given width (`w` for 32-bit operations). */
export function readRegOfWidth(c: Cursor, wide: boolean): Reg {
  const reg = readReg(c, wide ? 'an r register' : 'a w register');
  if (reg.wide !== wide) {
    throw c.error('E_ASM_REGISTER', `expected ${wide ? 'r' : 'w'}${reg.n}: the operation is ${wide ? '64' : '32'}-bit`, reg.column);
  }
  return reg;
}

/** `rN + off` / `rN - off` / `rN` (without parentheses). */
export function readAddress(c: Cursor): { base: number; off: number } {
  const base = readRegOfWidth(c, true).n;
  const off = c.isPunct('+') || c.isPunct('-') ? Number(c.readNumber('off16', 'an offset')) : 0;
  return { base, off };
}

/** `(rN + off)`. */
export function readMemory(c: Cursor): { base: number; off: number } {
  c.expect('(');
  const address = readAddress(c);
  c.expect(')');
  return address;
}

/** `(u32 *)`: the access size and whether it sign-extends. */
export function readTypeCast(c: Cursor): { size: AccessSize; signed: boolean; column: number } {
  c.expect('(');
  const name = c.expectIdent('a type such as u32', 'E_ASM_OPERANDS');
  const type = parseTypeName(name.text);
  if (!type) throw c.error('E_ASM_OPERANDS', `unknown type '${name.text}' (u8, u16, u32, u64, s8, s16, s32)`, name.column);
  c.expect('*');
  c.expect(')');
  return { ...type, column: name.column };
}

/** A jump or call target into `off` (short) or `imm` (gotol, calls): `+3`, `-1`, `pc+3`, `pc-2` or a label. */
export function readTarget(c: Cursor, field: 'off' | 'imm'): ItemFields {
  const kind = field === 'off' ? 'off16' : 'rel32';
  if (c.isIdent('pc') && (c.isPunct('+', 1) || c.isPunct('-', 1))) c.next();
  if (c.atNumber()) return { [field]: Number(c.readNumber(kind, 'a jump offset')) };
  const t = c.peek();
  if (t?.kind !== 'ident') throw c.error('E_ASM_OPERANDS', 'expected a jump offset (+N, -N) or a label');
  c.next();
  return { target: { name: t.text, column: t.column } };
}
