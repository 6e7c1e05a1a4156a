// The kernel's bpf_bprintf_prepare rules for trace_printk formats (src/helpers/bprintf.ts).
import { describe, expect, it } from 'vitest';
import { formatInt, formatIp, parseFormat, type Spec } from '../src/helpers/bprintf.js';

const parse = (fmt: string, args = 3) => parseFormat(new TextEncoder().encode(fmt), args);

describe('trace_printk formats', () => {
  it.each([
    '', 'plain text\n', '100%% sure', '%d %i %u', '%x %X %lx', '%ld %li %lu', '%lld %lli %llu', '%llx %llX %c',
    '%s.', '%pks %pus', '%p %pK %px', '%ps %pS %pB', '%pI4 %pi4 %pI6', '%pi6', '%-5d|%05u|%+d', '% d %10s',
    'tab\tand\nnewline %d',
  ])('accepts %j', (fmt) => {
    expect(parse(fmt)).toBeDefined();
  });

  it.each([
    ['%q', 'an unknown conversion'], ['%f', 'no floating point'], ['%.2d', 'a precision'], ['%hd', 'a short'],
    ['%lc', 'a long char'], ['%lls', 'a long string'], ['%sx', 'a word after %s'], ['%pksx', 'a word after %pks'],
    ['%pI5', 'an IP family other than 4 and 6'], ['%pz', 'an unknown pointer form'], ['%', 'a lone %'],
    ['%d %d %d %d', 'more conversions than arguments'], ['caf\u00e9', 'a byte that is not ASCII'], ['a\u0001b', 'a control byte'],
  ])('refuses %j: %s', (fmt) => {
    expect(parse(fmt)).toBeUndefined();
  });

  it('counts conversions against the arguments, not %%', () => {
    expect(parse('%% %d', 1)).toBeDefined();
    expect(parse('%d %d', 1)).toBeUndefined();
  });

  it('formats integers by size, sign, width and flags as vsprintf', () => {
    const spec = (fmt: string): Spec => parse(fmt)!.find((p): p is Spec => typeof p !== 'string')!;
    const int = (fmt: string, v: bigint): string => {
      const s = spec(fmt);
      if (s.conv.kind !== 'int') throw new Error('not an int');
      return formatInt(s, s.conv, v);
    };
    expect(int('%d', 0xffffffffn)).toBe('-1');
    expect(int('%ld', 0xffffffffn)).toBe('4294967295');
    expect(int('%u', -1n)).toBe('4294967295');
    expect(int('%llu', -1n)).toBe('18446744073709551615');
    expect(int('%x', 0x1234abcdefn)).toBe('34abcdef');
    expect(int('%lX', 0x1234abcdefn)).toBe('1234ABCDEF');
    expect(int('%05d', -42n)).toBe('-0042');
    expect(int('%-5d', 42n)).toBe('42   ');
    expect(int('%+d', 42n)).toBe('+42');
    expect(int('% d', 42n)).toBe(' 42');
    expect(int('%5x', 255n)).toBe('   ff');
  });

  it('formats IP addresses', () => {
    const b6 = Uint8Array.from({ length: 16 }, (_, k) => k);
    expect(formatIp({ kind: 'ip', family: 6, compact: true }, b6)).toBe('0001:0203:0405:0607:0809:0a0b:0c0d:0e0f');
    expect(formatIp({ kind: 'ip', family: 6, compact: false }, b6)).toBe('000102030405060708090a0b0c0d0e0f');
  });
});
