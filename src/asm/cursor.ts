/**
 * A read position over one line's tokens, with the number and register readers both syntaxes share.
 * Every error it raises names the line and the column of the token at fault.
 */
import { AsmError, type ErrorCode } from '../errors.js';
import { REG_COUNT } from '../isa/opcode.js';
import type { Token } from './lexer.js';

/**
 * Integer ranges. `imm32` and `imm64` accept hex as a bit pattern (0xffffffff is -1), decimal only
 * as a signed value; offsets and relative targets are signed in every base.
 */
export type NumberKind = 'imm32' | 'imm64' | 'off16' | 'rel32';

const RANGES: Record<NumberKind, { min: bigint; maxDec: bigint; maxHex: bigint; bits: number }> = {
  imm32: { min: -(1n << 31n), maxDec: (1n << 31n) - 1n, maxHex: (1n << 32n) - 1n, bits: 32 },
  imm64: { min: -(1n << 63n), maxDec: (1n << 64n) - 1n, maxHex: (1n << 64n) - 1n, bits: 64 },
  off16: { min: -(1n << 15n), maxDec: (1n << 15n) - 1n, maxHex: (1n << 15n) - 1n, bits: 16 },
  rel32: { min: -(1n << 31n), maxDec: (1n << 31n) - 1n, maxHex: (1n << 31n) - 1n, bits: 32 },
};

/** A number as written: sign, digits and where it starts. */
export interface NumberText {
  readonly negative: boolean;
  readonly digits: string;
  readonly column: number;
}

export class Cursor {
  private pos = 0;
  constructor(
    readonly tokens: readonly Token[],
    readonly line: number,
    /** Column just past the line's text, for "expected ... at end of line". */
    readonly endColumn: number,
  ) {}

  peek(ahead = 0): Token | undefined { return this.tokens[this.pos + ahead]; }
  next(): Token | undefined { return this.tokens[this.pos++]; }
  atEnd(): boolean { return this.pos >= this.tokens.length; }
  column(): number { return this.peek()?.column ?? this.endColumn; }

  error(code: ErrorCode, message: string, column = this.column()): AsmError {
    return new AsmError(code, this.line, column, message);
  }

  isPunct(text: string, ahead = 0): boolean {
    const t = this.peek(ahead);
    return t?.kind === 'punct' && t.text === text;
  }

  isIdent(text?: string, ahead = 0): boolean {
    const t = this.peek(ahead);
    return t?.kind === 'ident' && (text === undefined || t.text === text);
  }

  /** Consumes the punctuation if present. */
  eat(text: string): boolean {
    if (!this.isPunct(text)) return false;
    this.pos++;
    return true;
  }

  expect(text: string, code: ErrorCode = 'E_ASM_SYNTAX'): Token {
    const t = this.peek();
    if (t?.kind !== 'punct' || t.text !== text) throw this.error(code, `expected '${text}'${found(t)}`);
    this.pos++;
    return t;
  }

  expectIdent(what: string, code: ErrorCode = 'E_ASM_SYNTAX'): Token {
    const t = this.peek();
    if (t?.kind !== 'ident') throw this.error(code, `expected ${what}${found(t)}`);
    this.pos++;
    return t;
  }

  expectEnd(code: ErrorCode = 'E_ASM_OPERANDS'): void {
    const t = this.peek();
    if (t) throw this.error(code, `unexpected '${t.text}' after the instruction`);
  }

  /** True when a number (optionally signed) starts here. */
  atNumber(): boolean {
    const t = this.peek();
    if (t?.kind === 'num') return true;
    return (this.isPunct('-') || this.isPunct('+')) && this.peek(1)?.kind === 'num';
  }

  readNumberText(what: string): NumberText {
    const column = this.column();
    const negative = this.eat('-');
    if (!negative) this.eat('+');
    const t = this.peek();
    if (t?.kind !== 'num') throw this.error('E_ASM_OPERANDS', `expected ${what}${found(t)}`);
    this.pos++;
    return { negative, digits: t.text, column };
  }

  readNumber(kind: NumberKind, what: string): bigint {
    return checkRange(this.readNumberText(what), kind, this.line);
  }

  /** Range-checks a number read earlier, once the caller knows which range applies. */
  checkNumber(n: NumberText, kind: NumberKind): bigint {
    return checkRange(n, kind, this.line);
  }
}

function found(t: Token | undefined): string {
  return t ? `, found '${t.kind === 'reg' ? '%' + t.text : t.text}'` : ' at end of line';
}

/** Range-checks a number and returns it as the field stores it (imm32 wraps hex to signed). */
export function checkRange(n: NumberText, kind: NumberKind, line: number): bigint {
  const range = RANGES[kind];
  const hex = n.digits.startsWith('0x') || n.digits.startsWith('0X');
  const magnitude = BigInt(n.digits);
  const value = n.negative ? -magnitude : magnitude;
  const max = hex ? range.maxHex : range.maxDec;
  if (value < range.min || value > max) {
    const text = `${n.negative ? '-' : ''}${n.digits}`;
    throw new AsmError('E_ASM_RANGE', line, n.column, `${text} does not fit in a ${kindName(kind)}`);
  }
  return kind === 'imm64' ? BigInt.asUintN(64, value) : BigInt.asIntN(range.bits, value);
}

function kindName(kind: NumberKind): string {
  switch (kind) {
    case 'imm32': return '32-bit immediate';
    case 'imm64': return '64-bit immediate';
    case 'off16': return '16-bit signed offset';
    case 'rel32': return '32-bit signed offset';
  }
}

/** The number of register `r7` (or `w7` with prefix 'w'); anything else, or r11 and up, is refused. */
export function registerNumber(name: string, line: number, column: number, prefix: 'r' | 'w' = 'r'): number {
  const digits = /^[rw](0|[1-9][0-9]?)$/.exec(name)?.[1];
  const n = name.startsWith(prefix) && digits !== undefined ? Number(digits) : REG_COUNT;
  if (n >= REG_COUNT) {
    throw new AsmError('E_ASM_REGISTER', line, column, `invalid register '${name}' (${prefix}0..${prefix}${REG_COUNT - 1})`);
  }
  return n;
}
