/**
 * One tokenizer for both assembly syntaxes. Tokens keep their 1-based column so every error can
 * point at the text that caused it.
 */
import { AsmError } from '../errors.js';

export type TokenKind = 'ident' | 'num' | 'reg' | 'punct';

export interface Token {
  readonly kind: TokenKind;
  /** For `reg` (uBPF `%r1`) the text after the `%`. */
  readonly text: string;
  readonly column: number;
}

/** Longest first, so `s>>=` wins over `s>` and `>>=` over `>=`. */
const PUNCTS = [
  's>>=', '<<=', '>>=', 's/=', 's%=', 's<=', 's>=', '+=', '-=', '*=', '/=', '|=', '&=', '^=', '%=',
  '==', '!=', '<=', '>=', 's<', 's>', '<', '>', '=', '+', '-', '*', '/', '(', ')', '[', ']', ',', ':',
  '&', '|', '^',
] as const;

const IDENT_START = /[A-Za-z_.$]/;
const IDENT_PART = /[A-Za-z0-9_.$]/;

/** Cuts a `#`, `//` or `;` comment off a line. */
export function stripComment(line: string): string {
  let end = line.length;
  for (const marker of ['#', '//', ';']) {
    const at = line.indexOf(marker);
    if (at >= 0 && at < end) end = at;
  }
  return line.slice(0, end);
}

function readWhile(text: string, start: number, re: RegExp): number {
  let i = start;
  while (i < text.length && re.test(text[i]!)) i++;
  return i;
}

function matchPunct(text: string, at: number): string | undefined {
  for (const p of PUNCTS) {
    if (text.startsWith(p, at)) return p;
  }
  return undefined;
}

/** Splits one line (comment already removed) into tokens. */
export function tokenize(text: string, line: number): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const ch = text[i]!;
    if (ch === ' ' || ch === '\t' || ch === '\r') { i++; continue; }
    const column = i + 1;
    if (/[0-9]/.test(ch)) {
      const end = readWhile(text, i, IDENT_PART);
      const lexeme = text.slice(i, end);
      if (!/^(0x[0-9a-fA-F]+|[0-9]+)$/.test(lexeme)) {
        throw new AsmError('E_ASM_SYNTAX', line, column, `'${lexeme}' is not a number`);
      }
      tokens.push({ kind: 'num', text: lexeme, column });
      i = end;
    } else if (ch === '%' && i + 1 < text.length && IDENT_START.test(text[i + 1]!)) {
      const end = readWhile(text, i + 1, IDENT_PART);
      tokens.push({ kind: 'reg', text: text.slice(i + 1, end), column });
      i = end;
    } else if (ch === 's' && /^s(>>=|\/=|%=|<=|>=|<|>)/.test(text.slice(i))) {
      // `s` starts an identifier unless it prefixes a signed operator (`s<`, `s>>=`, `s/=`).
      const p = matchPunct(text, i)!;
      tokens.push({ kind: 'punct', text: p, column });
      i += p.length;
    } else if (IDENT_START.test(ch)) {
      const end = readWhile(text, i, IDENT_PART);
      tokens.push({ kind: 'ident', text: text.slice(i, end), column });
      i = end;
    } else {
      const p = matchPunct(text, i) ?? (ch === '%' ? '%' : undefined);
      if (p === undefined) throw new AsmError('E_ASM_SYNTAX', line, column, `unexpected character '${ch}'`);
      tokens.push({ kind: 'punct', text: p, column });
      i += p.length;
    }
  }
  return tokens;
}
