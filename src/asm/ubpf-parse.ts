/**
 * uBPF / conformance-suite syntax: `mnemonic op, op, ...` with `%rN` registers, `[%rN+off]` memory
 * operands and `+N`/`-N`/label jump targets. Mnemonics come from the opcode table's rows.
 */
import type { AsmError } from '../errors.js';
import { ROWS_BY_MNEMONIC, type OpcodeRow } from '../isa/table.js';
import { Cursor, checkRange, registerNumber, type NumberText } from './cursor.js';
import { makeItem, type AsmItem, type ItemFields } from './item.js';
import { readPseudo, type PseudoValue } from './pseudo.js';

type Operand =
  | { readonly type: 'reg'; readonly reg: number; readonly column: number }
  | { readonly type: 'num'; readonly num: NumberText; readonly column: number }
  | { readonly type: 'mem'; readonly base: number; readonly off: number; readonly column: number }
  | { readonly type: 'label'; readonly name: string; readonly column: number }
  | { readonly type: 'pseudo'; readonly value: PseudoValue; readonly column: number };

interface Head {
  readonly mnemonic: string;
  readonly column: number;
}

function readRegister(c: Cursor): number {
  const t = c.next()!;
  return registerNumber(t.text.toLowerCase(), c.line, t.column);
}

function readMemory(c: Cursor): Operand {
  const column = c.expect('[').column;
  if (c.peek()?.kind !== 'reg') throw c.error('E_ASM_OPERANDS', 'expected a base register in a memory operand');
  const base = readRegister(c);
  let off = 0;
  if (c.isPunct('+') || c.isPunct('-')) off = Number(checkRange(c.readNumberText('an offset'), 'off16', c.line));
  c.expect(']');
  return { type: 'mem', base, off, column };
}

function readOperand(c: Cursor): Operand {
  const t = c.peek();
  const column = c.column();
  if (!t) throw c.error('E_ASM_OPERANDS', 'expected an operand');
  if (t.kind === 'reg') return { type: 'reg', reg: readRegister(c), column };
  if (c.isPunct('[')) return readMemory(c);
  if (c.atNumber()) return { type: 'num', num: c.readNumberText('a number'), column };
  if (t.kind === 'ident') {
    if (c.isPunct('(', 1)) return { type: 'pseudo', value: readPseudo(c), column };
    c.next();
    return { type: 'label', name: t.text, column };
  }
  throw c.error('E_ASM_SYNTAX', `unexpected '${t.text}'`);
}

function readOperands(c: Cursor): Operand[] {
  const operands: Operand[] = [];
  if (c.atEnd()) return operands;
  operands.push(readOperand(c));
  while (c.eat(',')) operands.push(readOperand(c));
  if (!c.atEnd()) throw c.error('E_ASM_SYNTAX', `expected ',' or end of line, found '${c.peek()!.text}'`);
  return operands;
}

/** `lock [fetch] op`, `call local`, `call kfunc`, or a plain mnemonic. */
function readHead(c: Cursor): Head {
  const first = c.peek();
  if (first?.kind !== 'ident') throw c.error('E_ASM_MNEMONIC', `expected a mnemonic, found '${first?.text ?? ''}'`);
  c.next();
  const word = first.text.toLowerCase();
  if (word === 'call' && (c.isIdent('local') || c.isIdent('kfunc'))) {
    return { mnemonic: `call ${c.next()!.text}`, column: first.column };
  }
  if (word !== 'lock') return { mnemonic: word, column: first.column };
  const parts = ['lock'];
  if (c.isIdent('fetch')) parts.push(c.next()!.text);
  if (!c.isIdent()) throw c.error('E_ASM_OPERANDS', 'lock needs an operation (add, or, and, xor, xchg, cmpxchg)');
  parts.push(c.next()!.text.toLowerCase());
  return { mnemonic: parts.join(' '), column: first.column };
}

/** Table rows for a mnemonic, accepting `add64`-style and `swap16` aliases. */
function rowsFor(mnemonic: string): readonly OpcodeRow[] | undefined {
  const direct = ROWS_BY_MNEMONIC.get(mnemonic);
  if (direct) return direct;
  if (mnemonic.startsWith('swap')) return ROWS_BY_MNEMONIC.get('b' + mnemonic);
  if (!mnemonic.endsWith('64')) return undefined;
  const base = ROWS_BY_MNEMONIC.get(mnemonic.slice(0, -2));
  const wide = base?.every((r) => (r.form.kind === 'alu' || r.form.kind === 'jmp') ? r.form.width === 64
    : r.form.kind === 'atomic' && r.form.size === 8);
  return wide ? base : undefined;
}

export function parseUbpfLine(c: Cursor): AsmItem {
  const head = readHead(c);
  let rows = rowsFor(head.mnemonic);
  if (!rows) throw c.error('E_ASM_MNEMONIC', `unknown mnemonic '${head.mnemonic}'`, head.column);
  const operands = readOperands(c);
  if (head.mnemonic === 'call' && operands[0]?.type === 'reg') rows = ROWS_BY_MNEMONIC.get('callx')!;
  const { row, fields } = buildFields(c, head, rows, operands);
  return makeItem(row, fields, c.line, head.column);
}

class Checker {
  constructor(readonly c: Cursor, readonly head: Head, readonly operands: readonly Operand[]) {}

  count(n: number | readonly number[], usage: string): void {
    const allowed = typeof n === 'number' ? [n] : n;
    if (allowed.includes(this.operands.length)) return;
    const extra = this.operands[Math.max(...allowed)];
    throw this.c.error('E_ASM_OPERANDS',
      `${this.head.mnemonic} takes ${allowed.join(' or ')} operand(s): ${usage}; found ${this.operands.length}`,
      extra?.column ?? this.c.endColumn);
  }

  private get(i: number): Operand { return this.operands[i]!; }

  private fail(i: number, what: string): AsmError {
    return this.c.error('E_ASM_OPERANDS', `${this.head.mnemonic}: operand ${i + 1} must be ${what}`, this.get(i).column);
  }

  reg(i: number): number {
    const op = this.get(i);
    if (op.type !== 'reg') throw this.fail(i, 'a register');
    return op.reg;
  }

  mem(i: number): { base: number; off: number } {
    const op = this.get(i);
    if (op.type !== 'mem') throw this.fail(i, 'a memory operand [%rN+off]');
    return op;
  }

  imm(i: number, kind: 'imm32' | 'off16' = 'imm32'): number {
    const op = this.get(i);
    if (op.type !== 'num') throw this.fail(i, 'a number');
    return Number(checkRange(op.num, kind, this.c.line));
  }

  /** A jump target: `+N`, `-N`, `N` or a label. */
  target(i: number, long: boolean): ItemFields {
    const op = this.get(i);
    const field = long ? 'imm' : 'off';
    if (op.type === 'label') return { target: { name: op.name, column: op.column } };
    if (op.type !== 'num') throw this.fail(i, 'a jump offset or a label');
    return { [field]: Number(checkRange(op.num, long ? 'rel32' : 'off16', this.c.line)) };
  }

  isReg(i: number): boolean { return this.operands[i]?.type === 'reg'; }
}

function pick(rows: readonly OpcodeRow[], operand: 'imm' | 'reg'): OpcodeRow {
  return rows.find((r) => (r.form.kind === 'alu' || r.form.kind === 'jmp') && r.form.operand === operand) ?? rows[0]!;
}

function buildFields(c: Cursor, head: Head, rows: readonly OpcodeRow[], operands: readonly Operand[]): { row: OpcodeRow; fields: ItemFields } {
  const k = new Checker(c, head, operands);
  const row = rows[0]!;
  const form = row.form;
  switch (form.kind) {
    case 'alu': {
      if (form.op === 'neg') { k.count(1, `${head.mnemonic} %rD`); return { row, fields: { dst: k.reg(0) } }; }
      k.count(2, `${head.mnemonic} %rD, imm|%rS`);
      if (form.op.startsWith('movsx')) return { row, fields: { dst: k.reg(0), src: k.reg(1) } };
      if (k.isReg(1)) return { row: pick(rows, 'reg'), fields: { dst: k.reg(0), src: k.reg(1) } };
      return { row: pick(rows, 'imm'), fields: { dst: k.reg(0), imm: k.imm(1) } };
    }
    case 'end':
      k.count(1, `${head.mnemonic} %rD`);
      return { row, fields: { dst: k.reg(0) } };
    case 'jmp': {
      k.count(3, `${head.mnemonic} %rD, imm|%rS, target`);
      const target = k.target(2, false);
      if (k.isReg(1)) return { row: pick(rows, 'reg'), fields: { dst: k.reg(0), src: k.reg(1), ...target } };
      return { row: pick(rows, 'imm'), fields: { dst: k.reg(0), imm: k.imm(1), ...target } };
    }
    case 'ja':
      k.count(1, `${head.mnemonic} target`);
      return { row, fields: k.target(0, form.long) };
    case 'call':
      if (form.mode === 'local') { k.count(1, 'call local target'); return { row, fields: k.target(0, true) }; }
      if (form.mode === 'helper') { k.count(1, 'call imm'); return { row, fields: { imm: k.imm(0) } }; }
      k.count([1, 2], 'call kfunc imm[, off]');
      return { row, fields: { imm: k.imm(0), off: operands.length === 2 ? k.imm(1, 'off16') : 0 } };
    case 'callx':
      k.count(1, 'callx %rD');
      return { row, fields: { dst: k.reg(0) } };
    case 'exit':
      k.count(0, 'exit');
      return { row, fields: {} };
    case 'lddw':
      k.count(2, 'lddw %rD, imm64');
      return { row, fields: { dst: k.reg(0), ...lddwValue(c, operands[1]!) } };
    case 'ldx': {
      k.count(2, `${head.mnemonic} %rD, [%rS+off]`);
      const m = k.mem(1);
      return { row, fields: { dst: k.reg(0), src: m.base, off: m.off } };
    }
    case 'st': {
      k.count(2, `${head.mnemonic} [%rD+off], imm`);
      const m = k.mem(0);
      return { row, fields: { dst: m.base, off: m.off, imm: k.imm(1) } };
    }
    case 'stx': case 'atomic': {
      k.count(2, `${head.mnemonic} [%rD+off], %rS`);
      const m = k.mem(0);
      return { row, fields: { dst: m.base, off: m.off, src: k.reg(1) } };
    }
    case 'ldabs':
      if (!form.indirect) { k.count(1, `${head.mnemonic} imm`); return { row, fields: { imm: k.imm(0) } }; }
      k.count(2, `${head.mnemonic} %rS, imm`);
      return { row, fields: { src: k.reg(0), imm: k.imm(1) } };
    default: {
      const never: never = form;
      return never;
    }
  }
}

function lddwValue(c: Cursor, op: Operand): ItemFields {
  if (op.type === 'pseudo') return op.value;
  if (op.type !== 'num') throw c.error('E_ASM_OPERANDS', 'lddw: operand 2 must be a 64-bit number or a source like map_by_fd(N)', op.column);
  const value = checkRange(op.num, 'imm64', c.line);
  return { imm: Number(BigInt.asIntN(32, value)), nextImm: Number(BigInt.asIntN(32, value >> 32n)) };
}
