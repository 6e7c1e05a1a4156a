/**
 * LLVM-syntax instructions that start with a destination register: ALU (`r0 += r1`, `w0 = -w0`,
 * `r0 = (s8)r1`), byte swaps (`r0 = be32 r0`), lddw (`r0 = 0x... ll`), loads
 * (`r0 = *(u32 *)(r1 + 4)`) and fetching atomics (`r2 = atomic_fetch_add((u64 *)(r1 + 0), r2)`,
 * `r2 = xchg_64(r1 + 0, r2)`, `r0 = cmpxchg_64(r1 + 0, r0, r2)`).
 */
import type { AluOp, AtomicOp, Form, RawSlot } from '../isa/insn.js';
import { OPCODE_TABLE } from '../isa/table.js';
import type { Cursor } from './cursor.js';
import type { Token } from './lexer.js';
import { findFormRow, makeItem, rowOf, type AsmItem, type ItemFields } from './item.js';
import { atReg, readAddress, readMemory, readReg, readRegOfWidth, readTypeCast, type Reg } from './llvm-operands.js';
import { ALU_OPERATOR, invert, swapName } from './llvm-syntax.js';
import { isPseudoName, readPseudo } from './pseudo.js';

/** What the pasted objdump/bpftool columns tell about a line. */
export interface LineHints {
  readonly raw?: readonly RawSlot[];
  readonly lddw?: boolean;
}

const ALU_BY_OPERATOR = invert(ALU_OPERATOR);

/** `le16`, `be32`, `bswap64`...: the table's byte-swap mnemonics. */
const END_BY_NAME: ReadonlyMap<string, Form> = new Map(
  OPCODE_TABLE.filter((r) => r.form.kind === 'end').map((r) => [r.mnemonic, r.form]),
);

export function parseAssignment(c: Cursor, hints: LineHints): AsmItem {
  const column = c.column();
  const dst = readReg(c);
  const opTok = c.next();
  const op = opTok?.kind === 'punct' ? ALU_BY_OPERATOR.get(opTok.text) : undefined;
  if (!opTok || !op) throw c.error('E_ASM_OPERANDS', `expected '=' or an operator such as '+='`, opTok?.column);
  const item = (form: Form, fields: ItemFields): AsmItem => makeItem(rowOf(form), { dst: dst.n, ...fields }, c.line, column);
  if (op !== 'mov') return item(...binary(c, op, dst));
  return parseRhs(c, dst, hints, item);
}

type Build = (form: Form, fields: ItemFields) => AsmItem;

/** `rD op= rS` or `rD op= imm`. */
function binary(c: Cursor, op: AluOp, dst: Reg): [Form, ItemFields] {
  const width = dst.wide ? 64 : 32;
  if (atReg(c)) return [{ kind: 'alu', op, width, operand: 'reg' }, { src: readRegOfWidth(c, dst.wide).n }];
  return [{ kind: 'alu', op, width, operand: 'imm' }, { imm: Number(c.readNumber('imm32', 'a register or an immediate')) }];
}

function parseRhs(c: Cursor, dst: Reg, hints: LineHints, item: Build): AsmItem {
  const t = c.peek();
  const width = dst.wide ? 64 : 32;
  if (c.isPunct('-') && atReg(c, 1)) {
    c.next();
    sameRegister(c, dst, 'neg');
    return item({ kind: 'alu', op: 'neg', width, operand: 'imm' }, {});
  }
  if (c.isPunct('(')) return item(...movsx(c, dst));
  if (c.isPunct('*')) return item(...load(c, dst));
  if (t?.kind === 'ident' && END_BY_NAME.has(t.text)) {
    c.next();
    sameRegister(c, dst, t.text, true);
    return item(END_BY_NAME.get(t.text)!, {});
  }
  if (t?.kind === 'ident' && isPseudoName(t.text)) {
    requireWide(c, dst, 'lddw');
    const value = readPseudo(c);
    if (c.isIdent('ll')) c.next();
    return item({ kind: 'lddw' }, value);
  }
  if (t?.kind === 'ident' && !atReg(c)) return item(...fetchAtomic(c, dst));
  if (atReg(c)) return item({ kind: 'alu', op: 'mov', width, operand: 'reg' }, { src: readRegOfWidth(c, dst.wide).n });
  const text = c.readNumberText('a register, an immediate or an expression');
  if (c.isIdent('ll') || hints.lddw) {
    if (c.isIdent('ll')) c.next();
    requireWide(c, dst, 'lddw');
    const value = c.checkNumber(text, 'imm64');
    return item({ kind: 'lddw' }, { imm: Number(BigInt.asIntN(32, value)), nextImm: Number(BigInt.asIntN(32, value >> 32n)) });
  }
  return item({ kind: 'alu', op: 'mov', width, operand: 'imm' }, { imm: Number(c.checkNumber(text, 'imm32')) });
}

function requireWide(c: Cursor, dst: Reg, what: string): void {
  if (!dst.wide) throw c.error('E_ASM_REGISTER', `${what} needs r${dst.n}, not w${dst.n}`, dst.column);
}

/** neg and byte swaps repeat the destination: `r0 = -r0`, `r0 = be16 r0` (either width for swaps). */
function sameRegister(c: Cursor, dst: Reg, what: string, anyWidth = false): void {
  const src = anyWidth ? readReg(c) : readRegOfWidth(c, dst.wide);
  if (src.n !== dst.n) throw c.error('E_ASM_OPERANDS', `${what} works in place: expected ${dst.wide ? 'r' : 'w'}${dst.n}`, src.column);
}

/** `r0 = (s8)r1`, `w0 = (s16)w1`, `r0 = (s32)r1`. */
function movsx(c: Cursor, dst: Reg): [Form, ItemFields] {
  c.expect('(');
  const name = c.expectIdent('s8, s16 or s32', 'E_ASM_OPERANDS');
  const bits = /^s(8|16|32)$/.exec(name.text)?.[1];
  const op = bits ? (`movsx${bits}` as AluOp) : undefined;
  const form: Form | undefined = op && { kind: 'alu', op, width: dst.wide ? 64 : 32, operand: 'reg' };
  if (!form || !findFormRow(form)) {
    throw c.error('E_ASM_OPERANDS', `no sign extension '(${name.text})' for ${dst.wide ? '64' : '32'}-bit registers`, name.column);
  }
  c.expect(')');
  return [form, { src: readRegOfWidth(c, dst.wide).n }];
}

/** `r0 = *(u32 *)(r1 + 4)`; `w0` for unsigned loads up to 4 bytes (llvm's alu32 mode). */
function load(c: Cursor, dst: Reg): [Form, ItemFields] {
  c.expect('*');
  const type = readTypeCast(c);
  if (type.signed && type.size === 8) throw c.error('E_ASM_OPERANDS', 'there is no s64 load; use u64', type.column);
  if (!dst.wide && (type.signed || type.size === 8)) {
    throw c.error('E_ASM_REGISTER', `this load writes 64 bits: use r${dst.n}`, dst.column);
  }
  if (c.isIdent('skb')) return packetLoad(c, dst, type);
  const mem = readMemory(c);
  return [{ kind: 'ldx', size: type.size, signed: type.signed }, { src: mem.base, off: mem.off }];
}

/** The legacy packet loads: `r0 = *(u16 *)skb[12]`, `r0 = *(u8 *)skb[r3]`, `r0 = *(u32 *)skb[r3 + 2]`. */
function packetLoad(c: Cursor, dst: Reg, type: { size: number; signed: boolean; column: number }): [Form, ItemFields] {
  c.next();
  if (!dst.wide || dst.n !== 0) throw c.error('E_ASM_REGISTER', 'a packet load always writes r0', dst.column);
  if (type.signed || type.size === 8) throw c.error('E_ASM_OPERANDS', 'packet loads read u8, u16 or u32', type.column);
  const size = type.size as 1 | 2 | 4;
  c.expect('[');
  let fields: ItemFields;
  if (atReg(c)) {
    const src = readRegOfWidth(c, true).n;
    const imm = c.isPunct('+') || c.isPunct('-') ? c.readNumber('imm32', 'an offset') : 0n;
    fields = { src, imm: Number(BigInt.asIntN(32, imm)) };
  } else {
    fields = { imm: Number(c.readNumber('imm32', 'a packet offset')) };
  }
  c.expect(']');
  return [{ kind: 'ldabs', size, indirect: fields.src !== undefined }, fields];
}

/**
 * The name of a fetching atomic: LLVM's `atomic_fetch_add` (with a type cast), `xchg_64`,
 * `xchg32_32`, `cmpxchg_64`, `cmpxchg32_32` (bare address), and the kernel's (bpftool)
 * `atomic64_fetch_add`, `atomic[64]_xchg`, `atomic[64]_cmpxchg` (with a type cast). `size` is set
 * when the name fixes it.
 */
function atomicName(name: string): { op: AtomicOp; cast: boolean; size?: 4 | 8 } | undefined {
  const kernel = /^atomic(64)?_(fetch_(add|and|or|xor)|xchg|cmpxchg)$/.exec(name);
  if (kernel) return { op: (kernel[3] ?? kernel[2]) as AtomicOp, cast: true, ...(kernel[1] ? { size: 8 as const } : {}) };
  for (const op of ['xchg', 'cmpxchg'] as const) {
    for (const size of [4, 8] as const) if (name === swapName(op, size)) return { op, cast: false, size };
  }
  return undefined;
}

/** The access size from the cast or the name; 64-bit needs r registers, 32-bit takes w (LLVM) or r (kernel). */
function atomicSize(c: Cursor, name: Token, kind: { cast: boolean; size?: 4 | 8 }, dst: Reg): 4 | 8 {
  let size = kind.size;
  if (kind.cast) {
    const type = readTypeCast(c);
    if (type.signed || (type.size !== 4 && type.size !== 8) || (size !== undefined && size !== type.size)) {
      throw c.error('E_ASM_OPERANDS', `${name.text} takes (u32 *) or (u64 *)${size === 8 ? ', here u64' : ''}`, type.column);
    }
    size = type.size;
  }
  if (size === 8 && !dst.wide) throw c.error('E_ASM_REGISTER', `a 64-bit atomic writes r${dst.n}`, dst.column);
  return size!;
}

/** `r2 = atomic_fetch_add((u64 *)(r1 + 0), r2)`, `r2 = xchg_64(r1 + 0, r2)`, `r0 = cmpxchg_64(r1 + 0, r0, r2)`. */
function fetchAtomic(c: Cursor, dst: Reg): [Form, ItemFields] {
  const name = c.next()!;
  const kind = atomicName(name.text);
  if (!kind) throw c.error('E_ASM_MNEMONIC', `unknown operation '${name.text}'`, name.column);
  const { op } = kind;
  c.expect('(');
  const size = atomicSize(c, name, kind, dst);
  const mem = kind.cast ? readMemory(c) : readAddress(c);
  c.expect(',');
  if (op === 'cmpxchg') {
    if (dst.n !== 0) throw c.error('E_ASM_REGISTER', 'cmpxchg writes r0', dst.column);
    const expected = readRegOfWidth(c, dst.wide);
    if (expected.n !== 0) throw c.error('E_ASM_REGISTER', 'cmpxchg compares with r0', expected.column);
    c.expect(',');
  }
  const src = readRegOfWidth(c, dst.wide);
  if (op !== 'cmpxchg' && src.n !== dst.n) {
    throw c.error('E_ASM_OPERANDS', `${name.text} returns into its source: expected ${dst.wide ? 'r' : 'w'}${dst.n}`, src.column);
  }
  c.expect(')');
  return [{ kind: 'atomic', size, op, fetch: true }, { dst: mem.base, off: mem.off, src: src.n }];
}
