// bpf_snprintf (165): the kernel's format rules and return values (the output's length with its NUL,
// truncation to str_size, -EINVAL for a bad format, more conversions than arguments, or a data_len
// that is no multiple of 8 or over 12 arguments), the format read from a map value (global data) or
// the stack, in every engine, and the verifier's refusals.
import { beforeAll, describe, expect, it } from 'vitest';
import { ENGINES } from './engines.js';
import { Vm, memory, type BpfMap } from '../src/index.js';
import { loadOptimizer } from '../src/jit/index.js';
import { VerifyError } from '../src/verifier/refusal.js';

beforeAll(() => loadOptimizer());

const EINVAL = -22n;

/** snprintf(out value, 32, fmt value, ctx, DATA_LEN): the arguments are the context's u64s. */
const program = (dataLen = 24, size = 32): string => `mov %r6, %r1
lddw %r1, map_value_by_idx(0, 0)
mov %r2, ${size}
lddw %r3, map_value_by_idx(1, 0)
mov %r4, %r6
mov %r5, ${dataLen}
call 165
exit`;

function setup(opts: object): { run: (fmt: string, args: bigint[], dataLen?: number) => { rc: bigint; out: string }; strAt: number; vm: Vm; maps: BpfMap[] } {
  const vm = new Vm();
  const out = vm.createMap({ type: 'array', keySize: 4, valueSize: 32, maxEntries: 1, name: 'out' });
  const fmt = vm.createMap({ type: 'array', keySize: 4, valueSize: 64, maxEntries: 1, name: 'rodata' });
  const strAt = fmt.valueRegion.start + 56;
  const run = (text: string, args: bigint[], dataLen = 24): { rc: bigint; out: string } => {
    const value = new Uint8Array(64);
    value.set(Buffer.from(text, 'latin1'));
    value.set(Buffer.from('bpf\0', 'latin1'), 56);
    fmt.update(0, value);
    out.update(0, new Uint8Array(32).fill(0x2a));
    const ctx = new Uint8Array(24);
    args.forEach((a, i) => new DataView(ctx.buffer).setBigUint64(8 * i, BigInt.asUintN(64, a), true));
    const p = vm.load(program(dataLen), { ...opts, context: memory(24), maps: [out, fmt] });
    const rc = BigInt.asIntN(64, p.run(ctx));
    const bytes = out.lookup(0) as Uint8Array;
    return { rc, out: Buffer.from(bytes.subarray(0, bytes.indexOf(0) < 0 ? 32 : bytes.indexOf(0))).toString('latin1') };
  };
  return { run, strAt, vm, maps: [out, fmt] };
}

describe.each(ENGINES)('bpf_snprintf: %s', (_name, opts) => {
  it('formats integers, strings and widths, returning the length with the NUL', () => {
    const { run, strAt } = setup(opts);
    expect(run('%d|%5u|%x|%s', [-5n, 42n, 255n], 24)).toEqual({ rc: EINVAL, out: '*'.repeat(32) }); // 4 conversions, 3 arguments
    expect(run('%ld|%05u|%-4X|', [-5n, 42n, 255n])).toEqual({ rc: 15n, out: '-5|00042|FF  |' });
    expect(run('[%s] %lld', [BigInt(strAt), -1n], 16)).toEqual({ rc: 9n, out: '[bpf] -1' });
  });

  it('truncates to str_size and still answers the whole length', () => {
    const { run } = setup(opts);
    const long = 'x'.repeat(40) + '%d';
    const r = run(long, [123n], 8);
    expect(r.rc).toBe(44n);
    expect(r.out).toBe('x'.repeat(31));
  });

  it('answers -EINVAL for a bad format or data_len, and writes nothing', () => {
    const { run } = setup(opts);
    expect(run('%q', [1n], 8)).toEqual({ rc: EINVAL, out: '*'.repeat(32) });
    expect(run('%.3d', [1n], 8).rc).toBe(EINVAL);
    expect(run('%d', [1n], 12).rc).toBe(EINVAL);
    expect(run('no conversions', [], 0)).toEqual({ rc: 15n, out: 'no conversions' });
  });
});

describe('the verifier on bpf_snprintf', () => {
  function refusal(src: string): VerifyError {
    const vm = new Vm();
    const maps = [vm.createMap({ type: 'array', keySize: 4, valueSize: 32, maxEntries: 1 }), vm.createMap({ type: 'array', keySize: 4, valueSize: 64, maxEntries: 1 })];
    try {
      vm.load(src, { context: memory(24), maps });
    } catch (e) {
      expect(e).toBeInstanceOf(VerifyError);
      return e as VerifyError;
    }
    throw new Error('expected a refusal');
  }

  it('refuses a format that is no string pointer, a stack format without a known NUL, an output past its buffer', () => {
    const e1 = refusal(program().replace('lddw %r3, map_value_by_idx(1, 0)', 'mov %r3, 0\nmov %r3, 0'));
    expect([e1.code, e1.pc]).toEqual(['E_VERIFY_HELPER_ARG', 8]);
    const stack = program().replace('lddw %r3, map_value_by_idx(1, 0)', 'stdw [%r10-8], 0x64\nmov %r3, %r10');
    const e2 = refusal(stack.replace('mov %r3, %r10', 'mov %r3, %r10\nadd %r3, -16'));
    expect(e2.code).toMatch(/^E_VERIFY_/);
    expect(e2.pc).toBe(9);
    const e3 = refusal(program(24, 33));
    expect([e3.code, e3.pc]).toEqual(['E_VERIFY_MEM_ACCESS', 8]);
  });

  it('accepts a format on the stack with its NUL known', () => {
    const vm = new Vm();
    const out = vm.createMap({ type: 'array', keySize: 4, valueSize: 32, maxEntries: 1 });
    const src = program().replace('lddw %r3, map_value_by_idx(1, 0)', 'stdw [%r10-8], 0x646c25\nmov %r3, %r10\nadd %r3, -8');
    const p = vm.load(src, { context: memory(24), maps: [out, out] });
    expect(p.run(new Uint8Array(24).fill(1))).toBe(18n); // "72340172838076673" and the NUL
    expect(Buffer.from((out.lookup(0) as Uint8Array).subarray(0, 17)).toString()).toBe('72340172838076673');
  });
});
