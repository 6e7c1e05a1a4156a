// The verifier's ring buffer rules: the map argument's type both ways, a constant record size, the
// record as an acquired reference (null check, bounds, release by submit or discard, no use after
// release, no leak on any path), and pruning that never merges states holding different records.
import { describe, expect, it } from 'vitest';
import { Vm, memory, type LoadedProgram } from '../src/index.js';
import { VerifyError } from '../src/verifier/refusal.js';

function setup(): { vm: Vm; load: (src: string) => LoadedProgram } {
  const vm = new Vm();
  const rb = vm.createMap({ type: 'ringbuf', keySize: 0, valueSize: 0, maxEntries: 4096, name: 'events' });
  const hash = vm.createMap({ type: 'hash', keySize: 4, valueSize: 8, maxEntries: 4, name: 'table' });
  return { vm, load: (src) => vm.load(src, { context: memory(16), maps: [rb, hash] }) };
}

function refusal(src: string): VerifyError {
  try {
    setup().load(src);
  } catch (e) {
    expect(e).toBeInstanceOf(VerifyError);
    return e as VerifyError;
  }
  throw new Error('expected the verifier to refuse the program');
}

/** r0 = ringbuf_reserve(events, size, 0); r6 keeps the context. */
const reserve = (size: number | string = 16): string => `mov %r6, %r1
lddw %r1, map_by_idx(0)
mov %r2, ${size}
mov %r3, 0
call 131`;
const submit = (reg = '%r0', helper = 132): string => `mov %r1, ${reg}\nmov %r2, 0\ncall ${helper}`;

/** The canonical program: reserve, null check, write the record, submit it (discard when the input's first byte is odd). */
const CANONICAL = `${reserve()}
jeq %r0, 0, out
ldxdw %r1, [%r6]
stxdw [%r0], %r1
stdw [%r0+8], 7
ldxb %r3, [%r6]
and %r3, 1
jne %r3, 0, drop
${submit()}
ja out
drop:
${submit('%r0', 133)}
out:
mov %r0, 0
exit`;

describe('the verifier on ring buffer programs', () => {
  it('accepts reserve, null check, write, then submit or discard', () => {
    const { load } = setup();
    expect(() => load(CANONICAL)).not.toThrow();
  });

  it('accepts a record kept on the stack, copied, passed to helpers, and released through a copy', () => {
    const { load } = setup();
    expect(() => load(`${reserve(24)}
jne %r0, 0, ok
exit
ok:
stxdw [%r10-8], %r0
mov %r7, %r0
add %r7, 8
stdw [%r7], 1
mov %r2, %r7
lddw %r1, map_by_idx(0)
mov %r3, 16
mov %r4, 0
call 130
ldxdw %r8, [%r10-8]
${submit('%r8')}
mov %r0, 0
exit`)).not.toThrow();
  });

  it('accepts a bounded loop reserving and submitting a record each round', () => {
    const { vm, load } = setup();
    const p = load(`mov %r6, 0
loop:
lddw %r1, map_by_idx(0)
mov %r2, 8
mov %r3, 0
call 131
jeq %r0, 0, next
stxdw [%r0], %r6
${submit()}
next:
add %r6, 1
jlt %r6, 4, loop
mov %r0, 0
exit`);
    p.run(new Uint8Array(16));
    const rb = p.maps[0] as import('../src/index.js').RingBuf;
    const got: bigint[] = [];
    rb.consume((r) => { got.push(new DataView(r.buffer).getBigUint64(0, true)); });
    expect(got).toEqual([0n, 1n, 2n, 3n]);
    expect(vm).toBeDefined();
  });

  it('refuses a record leaked on one path, naming the pc of its reserve', () => {
    const e = refusal(`${reserve()}
jeq %r0, 0, out
ldxb %r3, [%r6]
jeq %r3, 0, out
${submit()}
out:
mov %r0, 0
exit`);
    expect(e.code).toBe('E_VERIFY_REF_LEAK');
    expect(e.rule).toMatch(/ring buffer record reserved at pc 5 is neither submitted nor discarded/);
    expect(e.pc).toBe(13);
  });

  it('does not prune a path holding a record into one that released it, whichever is explored first', () => {
    for (const cond of ['jeq', 'jne']) {
      const e = refusal(`${reserve()}
jeq %r0, 0, out
ldxb %r3, [%r6]
${cond} %r3, 0, join
${submit()}
join:
mov %r0, 0
exit
out:
mov %r0, 0
exit`);
      expect(e.code).toBe('E_VERIFY_REF_LEAK');
    }
  });

  it('refuses a record leaked without a null check, and accepts dropping a null one', () => {
    expect(refusal(`${reserve()}\nmov %r0, 0\nexit`).code).toBe('E_VERIFY_REF_LEAK');
    const { load } = setup();
    expect(() => load(`${reserve()}\njne %r0, 0, ok\nexit\nok:\n${submit()}\nmov %r0, 0\nexit`)).not.toThrow();
  });

  it('refuses submit of what is not a reserved record at offset 0', () => {
    const stack = refusal(`mov %r1, %r10\nadd %r1, -8\nmov %r2, 0\ncall 132\nmov %r0, 0\nexit`);
    expect(stack.code).toBe('E_VERIFY_HELPER_ARG');
    expect(stack.rule).toMatch(/must be a ring buffer record from ringbuf_reserve, compared with 0, not fp-8/);
    const ctx = refusal(`mov %r2, 0\ncall 133\nmov %r0, 0\nexit`);
    expect(ctx.rule).toMatch(/must be a ring buffer record/);
    const unchecked = refusal(`${reserve()}\n${submit()}\nmov %r0, 0\nexit`);
    expect(unchecked.rule).toMatch(/may be null: compare it with 0 first/);
    const inside = refusal(`${reserve()}\njeq %r0, 0, out\nadd %r0, 8\n${submit()}\nout:\nmov %r0, 0\nexit`);
    expect(inside.rule).toMatch(/must point to the start of the record \(offset 0\)/);
  });

  it('refuses a record used after submit or discard, through any copy', () => {
    const write = refusal(`${reserve()}\njeq %r0, 0, out\nmov %r7, %r0\n${submit()}\nstdw [%r7], 1\nout:\nmov %r0, 0\nexit`);
    expect(write.code).toBe('E_VERIFY_REF_RELEASED');
    expect(write.rule).toMatch(/r7 points to a ring buffer record already submitted or discarded/);
    const twice = refusal(`${reserve()}\njeq %r0, 0, out\nmov %r7, %r0\n${submit()}\n${submit('%r7', 133)}\nout:\nmov %r0, 0\nexit`);
    expect(twice.code).toBe('E_VERIFY_REF_RELEASED');
    const spilled = refusal(`${reserve()}\njeq %r0, 0, out\nstxdw [%r10-8], %r0\n${submit()}\nldxdw %r1, [%r10-8]\nldxdw %r0, [%r1]\nout:\nmov %r0, 0\nexit`);
    expect(spilled.code).toBe('E_VERIFY_REF_RELEASED');
    const returned = refusal(`${reserve()}\njeq %r0, 0, out\nmov %r7, %r0\n${submit()}\nmov %r0, %r7\nexit\nout:\nmov %r0, 0\nexit`);
    expect(returned.code).toBe('E_VERIFY_RETURN');
  });

  it('refuses a record size that is not a known constant', () => {
    const e = refusal(`ldxb %r2, [%r1]\nlddw %r1, map_by_idx(0)\nmov %r3, 0\ncall 131\nmov %r0, 0\nexit`);
    expect(e.code).toBe('E_VERIFY_HELPER_ARG');
    expect(e.rule).toMatch(/argument 2 \(r2\) is the record size and must be a known constant/);
  });

  it('refuses a ring buffer helper given another map, and a map helper given a ring buffer', () => {
    for (const id of [130, 131, 134]) {
      const e = refusal(`mov %r2, %r1\nlddw %r1, map_by_idx(1)\nmov %r3, 8\nmov %r4, 0\ncall ${id}\nmov %r0, 0\nexit`);
      expect(e.code).toBe('E_VERIFY_HELPER_ARG');
      expect(e.rule).toMatch(/must be a ring buffer, but map 1 \('table'\) is a map of type 1/);
    }
    const lookup = refusal(`stw [%r10-4], 0\nmov %r2, %r10\nadd %r2, -4\nlddw %r1, map_by_idx(0)\ncall 1\nmov %r0, 0\nexit`);
    expect(lookup.code).toBe('E_VERIFY_HELPER_ARG');
    expect(lookup.rule).toMatch(/map 0 \('events'\) is a ring buffer, which this helper cannot take/);
  });

  it('refuses accesses past the record\'s size, and pointers stored into it', () => {
    const past = refusal(`${reserve()}\njeq %r0, 0, out\nstdw [%r0+16], 1\n${submit()}\nout:\nmov %r0, 0\nexit`);
    expect(past.code).toBe('E_VERIFY_MEM_ACCESS');
    expect(past.rule).toMatch(/write of 8 bytes at ringbuf_mem\+16 is outside the 16-byte ring buffer record/);
    const leak = refusal(`${reserve()}\njeq %r0, 0, out\nstxdw [%r0], %r0\n${submit()}\nout:\nmov %r0, 0\nexit`);
    expect(leak.code).toBe('E_VERIFY_PTR_LEAK');
    const read = refusal(`${reserve(4)}\njeq %r0, 0, out\nldxdw %r1, [%r0]\n${submit()}\nout:\nmov %r0, 0\nexit`);
    expect(read.rule).toMatch(/outside the 4-byte ring buffer record/);
  });

  it('takes ringbuf_output\'s data as a buffer of the size argument', () => {
    const e = refusal(`mov %r2, %r1\nlddw %r1, map_by_idx(0)\nmov %r3, 17\nmov %r4, 0\ncall 130\nexit`);
    expect(e.code).toBe('E_VERIFY_MEM_ACCESS');
    const { load } = setup();
    expect(() => load(`mov %r2, %r1\nlddw %r1, map_by_idx(0)\nmov %r3, 16\nmov %r4, 0\ncall 130\nexit`)).not.toThrow();
    expect(() => load(`lddw %r1, map_by_idx(0)\nmov %r2, 0\ncall 134\nexit`)).not.toThrow();
  });
});
