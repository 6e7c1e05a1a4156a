/**
 * The kernel's bpf_bprintf_prepare rules (kernel/bpf/helpers.c) and the formatting vsprintf does for
 * them: what a format string of bpf_trace_printk may hold, and the text it makes. A format is
 * refused (-EINVAL) for a byte that is not printable ASCII or white space, more conversions than
 * arguments, or any conversion but %d %i %u %x %X (each with l or ll), %c, %s, %%, and the pointer
 * forms %p %pK %px %ps %pS %pB %pks %pus %pI4 %pi4 %pI6 %pi6; flags 0 + - space and a width are
 * allowed, a precision is not.
 */
export interface Flags {
  readonly zero: boolean;
  readonly minus: boolean;
  readonly plus: boolean;
  readonly space: boolean;
}

export type Conv =
  | { readonly kind: 'int'; readonly signed: boolean; readonly bits: 32 | 64; readonly hex: boolean; readonly upper: boolean }
  | { readonly kind: 'char' | 'str' | 'ptr' | 'sym' }
  | { readonly kind: 'ip'; readonly family: 4 | 6; readonly compact: boolean };

export interface Spec {
  readonly flags: Flags;
  readonly width: number;
  readonly conv: Conv;
}

/** Literal text (as bytes, one char per byte) and conversions, in order. */
export type Piece = string | Spec;

const isSpace = (c: number): boolean => c === 0x20 || (c >= 0x09 && c <= 0x0d);
const isPrint = (c: number): boolean => c >= 0x20 && c <= 0x7e;
const isDigit = (c: number): boolean => c >= 0x30 && c <= 0x39;
const isAlnum = (c: number): boolean => isDigit(c) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
const isPunct = (c: number): boolean => isPrint(c) && c !== 0x20 && !isAlnum(c);
/** The kernel accepts a string conversion only before the end, white space or punctuation. */
const endsWord = (c: number): boolean => c === 0 || isSpace(c) || isPunct(c);
const ch = (s: string): number => s.charCodeAt(0);

/** Parses a format (its bytes before the NUL); undefined when the kernel would refuse it. */
export function parseFormat(fmt: Uint8Array, maxArgs: number): Piece[] | undefined {
  const at = (i: number): number => fmt[i] ?? 0; // past the end reads the NUL, as in C
  const pieces: Piece[] = [];
  let text = '';
  let specs = 0;
  for (let i = 0; i < fmt.length; i++) {
    const c = at(i);
    if (!(isPrint(c) || isSpace(c))) return undefined;
    if (c !== ch('%')) { text += String.fromCharCode(c); continue; }
    if (at(i + 1) === ch('%')) { text += '%'; i++; continue; }
    if (specs >= maxArgs) return undefined;
    i++;
    const flags = { zero: false, minus: false, plus: false, space: false };
    for (;; i++) {
      const f = at(i);
      if (f === ch('0')) flags.zero = true;
      else if (f === ch('-')) flags.minus = true;
      else if (f === ch('+')) flags.plus = true;
      else if (f === ch(' ')) flags.space = true;
      else break;
    }
    let width = 0;
    if (at(i) >= ch('1') && at(i) <= ch('9')) while (isDigit(at(i))) width = width * 10 + at(i++) - ch('0');
    const conv = conversion(at, i);
    if (!conv) return undefined;
    i = conv.last;
    if (text) pieces.push(text);
    text = '';
    pieces.push({ flags, width, conv: conv.conv });
    specs++;
  }
  if (text) pieces.push(text);
  return pieces;
}

/** The conversion starting at fmt[i], and the index of its last byte. */
function conversion(at: (i: number) => number, i: number): { conv: Conv; last: number } | undefined {
  const c = at(i);
  if (c === ch('p')) {
    const n = at(i + 1);
    if (endsWord(n)) return { conv: { kind: 'ptr' }, last: i };
    if ((n === ch('k') || n === ch('u')) && at(i + 2) === ch('s')) return endsWord(at(i + 3)) ? { conv: { kind: 'str' }, last: i + 2 } : undefined;
    if (n === ch('K') || n === ch('x')) return { conv: { kind: 'ptr' }, last: i + 1 };
    if (n === ch('s') || n === ch('S') || n === ch('B')) return { conv: { kind: 'sym' }, last: i + 1 };
    if ((n === ch('i') || n === ch('I')) && (at(i + 2) === ch('4') || at(i + 2) === ch('6'))) {
      return { conv: { kind: 'ip', family: at(i + 2) === ch('4') ? 4 : 6, compact: n === ch('I') }, last: i + 2 };
    }
    return undefined;
  }
  if (c === ch('s')) return endsWord(at(i + 1)) ? { conv: { kind: 'str' }, last: i } : undefined;
  if (c === ch('c')) return { conv: { kind: 'char' }, last: i };
  let bits: 32 | 64 = 32;
  if (at(i) === ch('l')) { bits = 64; i++; }
  if (at(i) === ch('l')) i++; // long long is long on a 64-bit kernel
  const k = at(i);
  if (k !== ch('d') && k !== ch('i') && k !== ch('u') && k !== ch('x') && k !== ch('X')) return undefined;
  const hex = k === ch('x') || k === ch('X');
  return { conv: { kind: 'int', signed: k === ch('d') || k === ch('i'), bits, hex, upper: k === ch('X') }, last: i };
}

/** Pads `body` (after `sign`) to the width as vsprintf does. */
export function pad(spec: Spec, sign: string, body: string, zeroable: boolean): string {
  const fill = spec.width - sign.length - body.length;
  if (fill <= 0) return sign + body;
  if (spec.flags.minus) return sign + body + ' '.repeat(fill);
  if (spec.flags.zero && zeroable) return sign + '0'.repeat(fill) + body;
  return ' '.repeat(fill) + sign + body;
}

/** An integer conversion of a register value. */
export function formatInt(spec: Spec, conv: Extract<Conv, { kind: 'int' }>, arg: bigint): string {
  const value = conv.signed ? BigInt.asIntN(conv.bits, arg) : BigInt.asUintN(conv.bits, arg);
  const neg = value < 0n;
  let digits = (neg ? -value : value).toString(conv.hex ? 16 : 10);
  if (conv.upper) digits = digits.toUpperCase();
  const sign = neg ? '-' : conv.signed && spec.flags.plus ? '+' : conv.signed && spec.flags.space ? ' ' : '';
  return pad(spec, sign, digits, true);
}

/** %pI4 / %pi4 / %pI6 / %pi6 of the address bytes. */
export function formatIp(conv: Extract<Conv, { kind: 'ip' }>, b: Uint8Array): string {
  if (conv.family === 4) return [...b].map((x) => (conv.compact ? String(x) : String(x).padStart(3, '0'))).join('.');
  const hex = [...b].map((x) => x.toString(16).padStart(2, '0'));
  if (!conv.compact) return hex.join('');
  const groups: string[] = [];
  for (let k = 0; k < 16; k += 2) groups.push(hex[k]! + hex[k + 1]!);
  return groups.join(':');
}
