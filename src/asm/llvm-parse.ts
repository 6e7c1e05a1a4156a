/**
 * Kernel/LLVM syntax, as llvm-objdump and bpftool print it: `r0 = 1`, `w0 += w1`, `if r1 > 5 goto +3`,
 * `*(u64 *)(r10 - 8) = r1`, `lock *(u32 *)(r1 + 0) += w2`, `call pc+3`, `callx r2`, `exit`.
 * Assignments (`rN = ...`, `rN op= ...`) live in llvm-assign.ts.
 */
import type { JmpCond } from '../isa/insn.js';
import { ROWS_BY_MNEMONIC } from '../isa/table.js';
import type { Cursor } from './cursor.js';
import { makeItem, rowOf, type AsmItem } from './item.js';
import { parseAssignment, type LineHints } from './llvm-assign.js';
import { atReg, isRegName, readMemory, readReg, readRegOfWidth, readTarget, readTypeCast } from './llvm-operands.js';
import { JMP_OPERATOR, LOCK_OPERATOR, invert } from './llvm-syntax.js';

export type { LineHints } from './llvm-assign.js';

const JMP_BY_OPERATOR = invert(JMP_OPERATOR);
const LOCK_BY_OPERATOR = invert(LOCK_OPERATOR);

export function parseLlvmLine(c: Cursor, hints: LineHints = {}): AsmItem {
  const t = c.peek()!;
  const column = t.column;
  let item: AsmItem;
  if (t.kind === 'punct' && t.text === '*') item = parseStore(c);
  else if (t.kind !== 'ident') throw c.error('E_ASM_SYNTAX', `unexpected '${t.text}' at the start of an instruction`);
  else if (t.text === 'exit') { c.next(); item = makeItem(rowOf({ kind: 'exit' }), {}, c.line, column); }
  else if (t.text === 'goto' || t.text === 'gotol' || t.text === 'ja') item = parseGoto(c);
  else if (t.text === 'if') item = parseIf(c);
  else if (t.text === 'call') item = parseCall(c, hints);
  else if (t.text === 'callx') { c.next(); item = makeItem(rowOf({ kind: 'callx' }), { dst: readReg(c).n }, c.line, column); }
  else if (t.text === 'lock') item = parseLock(c);
  else if (isRegName(t.text)) item = parseAssignment(c, hints);
  else throw c.error('E_ASM_MNEMONIC', `unknown instruction '${t.text}'`);
  c.expectEnd();
  return item;
}

/** `goto +3`, `goto label`, `gotol +3`. */
function parseGoto(c: Cursor): AsmItem {
  const head = c.next()!;
  const long = head.text === 'gotol';
  return makeItem(rowOf({ kind: 'ja', long }), readTarget(c, long ? 'imm' : 'off'), c.line, head.column);
}

/** `if r1 > 5 goto +3`, `if w1 == w2 goto label`. */
function parseIf(c: Cursor): AsmItem {
  const head = c.next()!;
  const dst = readReg(c);
  const opTok = c.next();
  const cond: JmpCond | undefined = opTok?.kind === 'punct' ? JMP_BY_OPERATOR.get(opTok.text) : undefined;
  if (!opTok || !cond) {
    throw c.error('E_ASM_OPERANDS', `expected a comparison (${[...JMP_BY_OPERATOR.keys()].join(' ')})`, opTok?.column);
  }
  const width = dst.wide ? 64 : 32;
  const fields = atReg(c)
    ? { operand: 'reg' as const, src: readRegOfWidth(c, dst.wide).n }
    : { operand: 'imm' as const, imm: Number(c.readNumber('imm32', 'a register or an immediate')) };
  if (!c.isIdent('goto')) throw c.error('E_ASM_SYNTAX', "expected 'goto'");
  c.next();
  const row = rowOf({ kind: 'jmp', cond, width, operand: fields.operand });
  return makeItem(row, { dst: dst.n, ...fields, ...readTarget(c, 'off') }, c.line, head.column);
}

/**
 * `call 5` (helper), `call pc+3` / `call pc-2` / `call label` (local), `call kfunc 5[, off]`.
 * llvm-objdump prints a local call as `call N` too; when its bytes column is pasted, the src field
 * there says which call it is.
 */
function parseCall(c: Cursor, hints: LineHints): AsmItem {
  const head = c.next()!;
  if (c.isIdent('kfunc')) {
    c.next();
    const imm = Number(c.readNumber('imm32', 'a kfunc id'));
    const off = c.eat(',') ? Number(c.readNumber('off16', 'a module index')) : 0;
    return makeItem(rowOf({ kind: 'call', mode: 'kfunc' }), { imm, off }, c.line, head.column);
  }
  if (c.isIdent()) return makeItem(rowOf({ kind: 'call', mode: 'local' }), readTarget(c, 'imm'), c.line, head.column);
  const imm = Number(c.readNumber('imm32', 'a helper number, pc+N or a label'));
  const raw = hints.raw?.[0];
  const callRows = ROWS_BY_MNEMONIC.get('call') ?? [];
  if (raw && callRows.some((r) => r.opcode === raw.opcode) && raw.src !== 0) {
    const mode = raw.src === 1 ? 'local' : 'kfunc';
    return makeItem(rowOf({ kind: 'call', mode }), { imm, off: mode === 'kfunc' ? raw.off : 0 }, c.line, head.column);
  }
  return makeItem(rowOf({ kind: 'call', mode: 'helper' }), { imm }, c.line, head.column);
}

/** `*(u32 *)(r10 - 8) = 5` and `*(u64 *)(r10 - 8) = r1` (`w1` for sizes up to 4). */
function parseStore(c: Cursor): AsmItem {
  const head = c.next()!;
  const type = readTypeCast(c);
  if (type.signed) throw c.error('E_ASM_OPERANDS', 'stores take an unsigned type (u8..u64)', type.column);
  const mem = readMemory(c);
  c.expect('=');
  if (atReg(c)) {
    const src = readReg(c);
    if (!src.wide && type.size === 8) throw c.error('E_ASM_REGISTER', `a 64-bit store needs r${src.n}`, src.column);
    return makeItem(rowOf({ kind: 'stx', size: type.size }), { dst: mem.base, off: mem.off, src: src.n }, c.line, head.column);
  }
  const imm = Number(c.readNumber('imm32', 'a register or an immediate'));
  return makeItem(rowOf({ kind: 'st', size: type.size }), { dst: mem.base, off: mem.off, imm }, c.line, head.column);
}

/** `lock *(u64 *)(r1 + 0) += r2` (also |= &= ^=; u32 with a w register). */
function parseLock(c: Cursor): AsmItem {
  const head = c.next()!;
  c.expect('*');
  const type = readTypeCast(c);
  if (type.signed || (type.size !== 4 && type.size !== 8)) {
    throw c.error('E_ASM_OPERANDS', 'atomic operations take u32 or u64', type.column);
  }
  const mem = readMemory(c);
  const opTok = c.next();
  const op = opTok?.kind === 'punct' ? LOCK_BY_OPERATOR.get(opTok.text) : undefined;
  if (!opTok || !op) throw c.error('E_ASM_OPERANDS', 'expected +=, |=, &= or ^=', opTok?.column);
  const src = readReg(c);
  if (!src.wide && type.size === 8) throw c.error('E_ASM_REGISTER', `a 64-bit atomic needs r${src.n}`, src.column);
  const row = rowOf({ kind: 'atomic', size: type.size, op, fetch: false });
  return makeItem(row, { dst: mem.base, off: mem.off, src: src.n }, c.line, head.column);
}
