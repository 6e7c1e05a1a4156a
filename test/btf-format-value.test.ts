// Map values shown through their BTF type: the struct event of test/fixtures/btf/types.c.
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseBtf } from '../src/btf/parse.js';
import { formatValue } from '../src/btf/format-value.js';
import { InputError } from '../src/errors.js';

const btf = parseBtf(new Uint8Array(readFileSync(new URL('./fixtures/btf/types.btf', import.meta.url))));
const event = btf.byName('event', 'struct')!.id;

/**
 * types.c's struct event: u64 ts @0, u32 pid @8, char comm[16] @12, struct flags {u32 low:3, high:5} @28,
 * const volatile int *ptr @32, enum color @40, union {short s; u32 w} @44, float ratio @48; 56 bytes.
 */
function eventBytes(f: { ts: bigint; pid: number; comm: string; low: number; high: number; ptr: bigint; color: number; w: number; ratio: number }): Uint8Array {
  const bytes = new Uint8Array(56);
  const view = new DataView(bytes.buffer);
  view.setBigUint64(0, f.ts, true);
  view.setUint32(8, f.pid, true);
  bytes.set(new TextEncoder().encode(f.comm), 12);
  view.setUint32(28, (f.low & 7) | ((f.high & 31) << 3), true);
  view.setBigUint64(32, f.ptr, true);
  view.setInt32(40, f.color, true);
  view.setUint32(44, f.w, true);
  view.setFloat32(48, f.ratio, true);
  return bytes;
}

describe('formatValue', () => {
  it('shows a struct with field names, a string, bitfields, a pointer, an enum by name, a union and a float', () => {
    const bytes = eventBytes({ ts: 1234n, pid: 42, comm: 'bash', low: 5, high: 17, ptr: 0xdead00n, color: -2, w: 0x10002, ratio: 1.5 });
    const v = formatValue(btf, event, bytes);
    expect(v.text).toBe('{ts: 1234, pid: 42, comm: "bash", f: {low: 5, high: 17}, ptr: 0xdead00, color: GREEN, u: {s: 2, w: 65538}, ratio: 1.5}');
    expect(v.json).toEqual({ ts: 1234, pid: 42, comm: 'bash', f: { low: 5, high: 17 }, ptr: '0xdead00', color: 'GREEN', u: { s: 2, w: 65538 }, ratio: 1.5 });
    expect(JSON.parse(JSON.stringify(v.json))).toEqual(v.json);
  });

  it('keeps large integers exact, signed ones negative, and unnamed enum values as numbers', () => {
    const bytes = eventBytes({ ts: 0xffff_ffff_ffff_fff0n, pid: 0xffffffff, comm: '', low: 0, high: 0, ptr: 0n, color: 5, w: 0xffff, ratio: 0 });
    const v = formatValue(btf, event, bytes).json as Record<string, unknown>;
    expect(v['ts']).toBe('18446744073709551600');
    expect(v['pid']).toBe(4294967295);
    expect(v['color']).toBe(5);
    expect(v['u']).toEqual({ s: -1, w: 65535 });
    expect(v['comm']).toBe('');
  });

  it('shows a single member type and a typedef through to its type', () => {
    const u64 = btf.byName('u64', 'typedef')!.id;
    expect(formatValue(btf, u64, new Uint8Array([1, 1, 0, 0, 0, 0, 0, 0])).json).toBe(257);
  });

  it('refuses fewer bytes than the type takes', () => {
    expect(() => formatValue(btf, event, new Uint8Array(55))).toThrow(InputError);
  });

  it('formats any bytes of every type without throwing, and its JSON survives a round trip', () => {
    const sized = btf.types.filter((t) => {
      try {
        return t.id > 0 && btf.sizeOf(t.id) <= 64;
      } catch {
        return false; // functions and the like have no size
      }
    });
    fc.assert(fc.property(fc.constantFrom(...sized), fc.uint8Array({ minLength: 64, maxLength: 64 }), (t, bytes) => {
      const v = formatValue(btf, t.id, bytes);
      expect(typeof v.text).toBe('string');
      expect(JSON.parse(JSON.stringify(v.json))).toEqual(v.json);
    }));
  });
});
