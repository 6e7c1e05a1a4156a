// Ring buffers (BPF_MAP_TYPE_RINGBUF): creation checks, the WebAssembly operations against a model of
// the kernel's semantics, the host consumer (consume and the async iterator), and programs emitting
// records in every engine that the host reads identically.
import { beforeAll, describe, expect, it } from 'vitest';
import { ENGINES } from './engines.js';
import fc from 'fast-check';
import { EngineMemory, InputError, MapError, RingBuf, Vm, createMap, mapOperations, memory } from '../src/index.js';
import { BpfRuntimeError } from '../src/errors.js';
import { jitToWat, loadOptimizer } from '../src/jit/index.js';
import { RB_BUSY, RB_DISCARD } from '../src/maps/layout.js';

beforeAll(() => loadOptimizer());

const SIZE = 4096;
const EAGAIN = -11n;
const EINVAL = -22n;

function ring(size = SIZE, mem = new EngineMemory()): { rb: RingBuf; ops: ReturnType<typeof mapOperations>; mem: EngineMemory } {
  const rb = createMap(mem, { type: 'ringbuf', keySize: 0, valueSize: 0, maxEntries: size, name: 'events' });
  return { rb, ops: mapOperations(mem), mem };
}

const bytes = (n: number, seed: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed * 7 + 1) & 0xff);
const round8 = (n: number): number => (n + 7) & ~7;
/** Byte equality without a diff per element (vitest's toEqual is slow on thousands of typed arrays). */
const same = (a: Uint8Array | undefined, b: Uint8Array): boolean => a !== undefined && Buffer.from(a).equals(Buffer.from(b));

/** Reserves, fills and submits (or discards) one record through the operations; false when it does not fit. */
function produce(t: ReturnType<typeof ring>, data: Uint8Array, discard = false): boolean {
  const rec = t.ops.ringbuf_reserve(BigInt(t.rb.address), BigInt(data.length), 0n);
  if (rec === 0n) return false;
  t.mem.write(Number(rec), data);
  (discard ? t.ops.ringbuf_discard : t.ops.ringbuf_submit)(rec, 0n);
  return true;
}

function drain(rb: RingBuf): Uint8Array[] {
  const out: Uint8Array[] = [];
  const n = rb.consume((r) => { out.push(r); });
  expect(n).toBe(out.length);
  return out;
}

describe('ring buffer creation', () => {
  const spec = { type: 'ringbuf', keySize: 0, valueSize: 0, maxEntries: SIZE };
  it('takes a power of 2 multiple of the page size, no key, no value, no flags', () => {
    const mem = new EngineMemory();
    const rb = createMap(mem, spec);
    expect(rb).toBeInstanceOf(RingBuf);
    expect(rb.type).toBe('ringbuf');
    expect(createMap(mem, { ...spec, type: 27, maxEntries: 1 << 16 })).toBeInstanceOf(RingBuf);
  });

  it.each([
    [{ keySize: 4 }, /keySize 4 must be 0/],
    [{ valueSize: 8 }, /valueSize 8 must be 0/],
    [{ maxEntries: 3 * 4096 }, /power of 2 and a multiple of 4096/],
    [{ maxEntries: 2048 }, /power of 2 and a multiple of 4096/],
    [{ maxEntries: 0 }, /power of 2/],
    [{ maxEntries: 1 << 29 }, /at most 268435456/],
    [{ flags: 1 }, /flags 1 not supported for map type 'ringbuf'/],
  ])('refuses %o', (change, message) => {
    expect(() => createMap(new EngineMemory(), { ...spec, ...change })).toThrow(InputError);
    expect(() => createMap(new EngineMemory(), { ...spec, ...change })).toThrow(message);
  });

  it('has no keys: lookup, update, delete, keys and clear fail with ENOTSUPP', () => {
    const { rb } = ring();
    const calls: Array<() => unknown> = [() => rb.lookup(), () => rb.update(), () => rb.delete(), () => [...rb.keys()], () => rb.clear()];
    for (const call of calls) {
      expect(call).toThrow(MapError);
      expect(call).toThrow(/ENOTSUPP/);
    }
  });
});

describe('ring buffer operations', () => {
  it('carries records of every size up to the whole buffer, wrapping around', () => {
    const t = ring();
    for (let n = 0; n + 8 <= SIZE; n++) {
      expect(produce(t, bytes(n, n))).toBe(true);
      const got = drain(t.rb);
      expect(got).toHaveLength(1);
      expect(same(got[0], bytes(n, n))).toBe(true);
    }
    // A record takes its size plus an 8-byte header, rounded up to 8: SIZE - 7 no longer fits.
    expect(t.ops.ringbuf_reserve(BigInt(t.rb.address), BigInt(SIZE - 7), 0n)).toBe(0n);
    expect(t.rb.availableData).toBe(0);
    expect(t.rb.producerPosition).toBe(t.rb.consumerPosition);
  });

  it('returns NULL from reserve and -EAGAIN from output when full, and room again after consuming', () => {
    const t = ring();
    const src = t.mem.alloc(64, 8);
    t.mem.write(src, bytes(64, 3));
    let written = 0;
    while (t.ops.ringbuf_output(BigInt(t.rb.address), BigInt(src), 56n, 0n) === 0n) written++;
    expect(written).toBe(SIZE / 64);
    expect(t.ops.ringbuf_output(BigInt(t.rb.address), BigInt(src), 56n, 0n)).toBe(EAGAIN);
    expect(t.ops.ringbuf_reserve(BigInt(t.rb.address), 0n, 0n)).toBe(0n);
    expect(t.rb.availableData).toBe(SIZE);
    expect(t.rb.consume(() => false)).toBe(1); // the callback stops after one
    expect(t.ops.ringbuf_reserve(BigInt(t.rb.address), 56n, 0n)).not.toBe(0n);
    expect(t.ops.ringbuf_reserve(BigInt(t.rb.address), 0n, 0n)).toBe(0n);
  });

  it('counts in `dropped` each reserve and output refused for lack of room, and nothing else', () => {
    const t = ring();
    const at = BigInt(t.rb.address);
    const src = BigInt(t.mem.alloc(64, 8));
    expect(t.ops.ringbuf_reserve(at, 8n, 1n)).toBe(0n); // flags
    expect(t.ops.ringbuf_reserve(at, BigInt(SIZE), 0n)).toBe(0n); // larger than the buffer: no room
    expect(t.ops.ringbuf_output(at, src, 8n, 4n)).toBe(EINVAL);
    expect(t.ops.ringbuf_output(at, src, 1n << 32n, 0n)).toBe(EAGAIN); // past the largest record
    expect(t.rb.dropped).toBe(1);
    while (t.ops.ringbuf_output(at, src, 56n, 0n) === 0n);
    expect(t.rb.dropped).toBe(2);
    expect(t.ops.ringbuf_reserve(at, 0n, 0n)).toBe(0n);
    expect(t.rb.dropped).toBe(3);
    drain(t.rb);
    expect(t.ops.ringbuf_output(at, src, 56n, 0n)).toBe(0n);
    expect(t.rb.dropped).toBe(3);
  });

  it('hands records over in place with consumeRaw, freeing them only after the callback', () => {
    const t = ring();
    for (let i = 0; i < 3; i++) produce(t, bytes(5 + i, i));
    const got: Uint8Array[] = [];
    const freed: number[] = [];
    expect(t.rb.consumeRaw((memory, offset, length) => {
      expect(memory).toBe(t.mem.bytes); // the memory itself, no copy
      got.push(memory.slice(offset, offset + length));
      freed.push(t.rb.consumerPosition);
      return got.length < 2;
    })).toBe(2);
    expect(got).toEqual([bytes(5, 0), bytes(6, 1)]);
    // Still held while the callbacks ran; both freed once consumeRaw returned.
    expect(freed).toEqual([0, 0]);
    expect(t.rb.consumerPosition).toBe(16 + 16);
    expect(t.rb.consumeRaw((memory, offset, length) => { got.push(memory.slice(offset, offset + length)); })).toBe(1);
    expect(got[2]).toEqual(bytes(7, 2));
  });

  it('skips discarded records and stops at a record still reserved', () => {
    const t = ring();
    const at = BigInt(t.rb.address);
    produce(t, bytes(5, 1));
    produce(t, bytes(6, 2), true);
    const busy = t.ops.ringbuf_reserve(at, 7n, 0n);
    produce(t, bytes(8, 4));
    expect(t.mem.view.getUint32(Number(busy) - 8, true)).toBe((RB_BUSY | 7) >>> 0);
    expect(drain(t.rb)).toEqual([bytes(5, 1)]);
    expect(drain(t.rb)).toEqual([]);
    t.mem.write(Number(busy), bytes(7, 3));
    t.ops.ringbuf_submit(busy, 0n);
    expect(drain(t.rb)).toEqual([bytes(7, 3), bytes(8, 4)]);
    const discarded = t.ops.ringbuf_reserve(at, 9n, 0n);
    t.ops.ringbuf_discard(discarded, 0n);
    expect(t.mem.view.getUint32(Number(discarded) - 8, true)).toBe((RB_DISCARD | 9) >>> 0);
    expect(drain(t.rb)).toEqual([]);
    expect(t.rb.availableData).toBe(0);
  });

  it('answers query as the kernel: available data, size, consumer and producer positions', () => {
    const t = ring();
    const at = BigInt(t.rb.address);
    const q = (flag: bigint): bigint => t.ops.ringbuf_query(at, flag);
    produce(t, bytes(10, 0)); // 24 bytes
    const held = t.ops.ringbuf_reserve(at, 1n, 0n); // 16 bytes, still BUSY: counted as available data
    expect([q(0n), q(1n), q(2n), q(3n), q(4n)]).toEqual([40n, BigInt(SIZE), 0n, 40n, 0n]);
    drain(t.rb);
    expect([q(0n), q(2n), q(3n)]).toEqual([16n, 24n, 40n]);
    t.ops.ringbuf_submit(held, 0n);
    drain(t.rb);
    expect([q(0n), q(2n), q(3n)]).toEqual([0n, 40n, 40n]);
    expect([t.rb.availableData, t.rb.size, t.rb.consumerPosition, t.rb.producerPosition]).toEqual([0, SIZE, 40, 40]);
  });

  it('takes the kernel\'s flags: reserve none, output only the wake-up ones', () => {
    const t = ring();
    const at = BigInt(t.rb.address);
    const src = BigInt(t.mem.alloc(8, 8));
    expect(t.ops.ringbuf_reserve(at, 8n, 1n)).toBe(0n);
    expect(t.ops.ringbuf_reserve(at, 1n << 32n, 0n)).toBe(0n);
    expect(t.ops.ringbuf_output(at, src, 8n, 4n)).toBe(EINVAL);
    expect(t.ops.ringbuf_output(at, src, 8n, 1n)).toBe(0n);
    expect(t.ops.ringbuf_output(at, src, 8n, 2n)).toBe(0n);
    expect(t.ops.ringbuf_output(at, src, 8n, 3n)).toBe(0n);
    expect(t.ops.ringbuf_output(at, src, 1n << 32n, 0n)).toBe(EAGAIN);
    expect(drain(t.rb)).toHaveLength(3);
  });

  it('agrees with a model of the kernel\'s ring buffer over many rounds (wrap-around, out-of-order commits)', () => {
    type Rec = { size: number; data: Uint8Array; state: 'busy' | 'done' | 'discarded'; ptr: bigint };
    const op = fc.oneof(
      fc.record({ kind: fc.constant('reserve' as const), size: fc.oneof(fc.integer({ min: 0, max: 40 }), fc.integer({ min: 0, max: SIZE })) }),
      fc.record({ kind: fc.constant('commit' as const), which: fc.nat(), discard: fc.boolean() }),
      fc.record({ kind: fc.constant('consume' as const) }),
    );
    fc.assert(fc.property(fc.array(op, { maxLength: 300 }), (ops) => {
      const t = ring();
      const at = BigInt(t.rb.address);
      const queue: Rec[] = [];
      let prod = 0;
      let cons = 0;
      let seed = 0;
      for (const o of ops) {
        if (o.kind === 'reserve') {
          const len = round8(o.size + 8);
          const ptr = t.ops.ringbuf_reserve(at, BigInt(o.size), 0n);
          if (prod + len - cons > SIZE) {
            expect(ptr).toBe(0n);
            continue;
          }
          expect(ptr).not.toBe(0n);
          const data = bytes(o.size, seed++);
          t.mem.write(Number(ptr), data);
          queue.push({ size: o.size, data, state: 'busy', ptr });
          prod += len;
        } else if (o.kind === 'commit') {
          const busy = queue.filter((r) => r.state === 'busy');
          if (busy.length === 0) continue;
          const r = busy[o.which % busy.length]!;
          r.state = o.discard ? 'discarded' : 'done';
          (o.discard ? t.ops.ringbuf_discard : t.ops.ringbuf_submit)(r.ptr, 0n);
        } else {
          const want: Uint8Array[] = [];
          while (queue.length > 0 && queue[0]!.state !== 'busy') {
            const r = queue.shift()!;
            cons += round8(r.size + 8);
            if (r.state === 'done') want.push(r.data);
          }
          expect(drain(t.rb)).toEqual(want);
        }
        expect(t.rb.availableData).toBe(prod - cons);
      }
    }), { numRuns: 200 });
  });

  it('keeps going for many rounds of a small buffer (positions far past its size)', () => {
    const t = ring();
    let sent = 0;
    let seen = 0;
    for (let round = 0; round < 3000; round++) {
      const n = (round * 37) % 200;
      while (!produce(t, bytes(n, sent))) {
        for (const r of drain(t.rb)) expect(same(r, bytes((seen * 37) % 200, seen++))).toBe(true);
      }
      expect(round).toBe(sent++);
    }
    for (const r of drain(t.rb)) expect(same(r, bytes((seen * 37) % 200, seen++))).toBe(true);
    expect(seen).toBe(3000);
    expect(t.rb.producerPosition).toBeGreaterThan(50 * SIZE);
  });
});

describe('ring buffer async iteration', () => {
  it('yields records as they are committed, one at a time, until the loop breaks', async () => {
    const t = ring();
    produce(t, bytes(3, 0));
    const timer = setTimeout(() => { produce(t, bytes(4, 1)); produce(t, bytes(5, 2)); produce(t, bytes(6, 3)); }, 5);
    const got: Uint8Array[] = [];
    for await (const record of t.rb) {
      got.push(record);
      if (got.length === 3) break;
    }
    clearTimeout(timer);
    expect(got).toEqual([bytes(3, 0), bytes(4, 1), bytes(5, 2)]);
    // The record the loop did not take stays for the next reader.
    expect(drain(t.rb)).toEqual([bytes(6, 3)]);
  });

  it('finds a record submitted with BPF_RB_NO_WAKEUP, which wakes nobody, after timeoutMs', async () => {
    const t = ring();
    const src = BigInt(t.mem.alloc(8, 8));
    t.mem.write(Number(src), bytes(8, 5));
    // BPF_RB_NO_WAKEUP, once the loop sleeps: only its timeout makes it look again.
    setTimeout(() => t.ops.ringbuf_output(BigInt(t.rb.address), src, 8n, 1n), 5);
    for await (const record of t.rb.records({ timeoutMs: 20 })) {
      expect(record).toEqual(bytes(8, 5));
      break;
    }
  });

  it('ends when its signal aborts', async () => {
    const t = ring();
    const abort = new AbortController();
    setTimeout(() => produce(t, bytes(9, 9)), 2);
    const got: Uint8Array[] = [];
    for await (const record of t.rb.records({ signal: abort.signal })) {
      got.push(record);
      setTimeout(() => abort.abort(), 2);
    }
    expect(got).toEqual([bytes(9, 9)]);
  });
});


/**
 * For a 16-byte input: reserve 16 bytes, copy the input in, then discard the record when its first
 * byte is odd and submit it otherwise; returns 1 when the buffer is full, else 0.
 */
const RESERVE = `
mov %r6, %r1
lddw %r1, map_by_idx(0)
mov %r2, 16
mov %r3, 0
call 131
jeq %r0, 0, full
ldxdw %r1, [%r6]
stxdw [%r0], %r1
ldxdw %r1, [%r6+8]
stxdw [%r0+8], %r1
mov %r1, %r0
mov %r2, 0
ldxb %r3, [%r6]
and %r3, 1
jne %r3, 0, drop
call 132
mov %r0, 0
exit
drop:
call 133
mov %r0, 0
exit
full:
mov %r0, 1
exit`;

/** ringbuf_output of the 16-byte input; returns its result. */
const OUTPUT = `
mov %r2, %r1
lddw %r1, map_by_idx(0)
mov %r3, 16
mov %r4, 0
call 130
exit`;

/** ringbuf_query(flags = the input's first byte). */
const QUERY = `
ldxb %r2, [%r1]
lddw %r1, map_by_idx(0)
call 134
exit`;

describe.each(ENGINES)('ring buffers in programs: %s', (_name, opts) => {
  /** 16 bytes whose first is even: the program submits them. */
  const input = (k: number): Uint8Array => {
    const b = bytes(16, k);
    b[0] = (2 * k) & 0xfe;
    return b;
  };

  it('emits records the host consumes, discards skipped, NULL and -EAGAIN when full', () => {
    const vm = new Vm();
    const rb = vm.createMap({ type: 'ringbuf', keySize: 0, valueSize: 0, maxEntries: SIZE, name: 'events' });
    const reserve = vm.load(RESERVE, { ...opts, context: memory(16), maps: [rb] });
    const output = vm.load(OUTPUT, { ...opts, context: memory(16), maps: [rb] });
    const query = vm.load(QUERY, { ...opts, context: memory(16), maps: [rb] });
    const odd = Uint8Array.from({ length: 16 }, (_, i) => i + 1);
    expect(reserve.run(input(0))).toBe(0n);
    expect(reserve.run(odd)).toBe(0n);
    expect(output.run(input(1))).toBe(0n);
    expect(reserve.run(input(2))).toBe(0n);
    expect(query.run(Uint8Array.of(0, ...new Array(15).fill(0)))).toBe(96n);
    expect(drain(rb)).toEqual([input(0), input(1), input(2)]);
    // Fill it: 24-byte records, 170 of them, then NULL (1) and -EAGAIN.
    let n = 0;
    while (reserve.run(input(n)) === 0n) n++;
    expect(n).toBe(Math.floor(SIZE / 24));
    expect(BigInt.asIntN(64, output.run(input(0)))).toBe(EAGAIN);
    expect(query.run(Uint8Array.of(1, ...new Array(15).fill(0)))).toBe(BigInt(SIZE));
    const got = drain(rb);
    expect(got).toHaveLength(n);
    got.forEach((r, i) => expect(same(r, input(i))).toBe(true));
    expect(output.run(input(5))).toBe(0n);
    expect(drain(rb)).toEqual([input(5)]);
  });
});

describe('ring buffers in checked programs', () => {
  const checked = ENGINES.filter(([name]) => name.endsWith('checked'));
  it.each(checked)('%s: submit of a pointer that is no reserved record faults', (_name, opts) => {
    const vm = new Vm();
    const rb = vm.createMap({ type: 'ringbuf', keySize: 0, valueSize: 0, maxEntries: SIZE });
    const p = vm.load('mov %r1, %r10\nadd %r1, -8\nmov %r2, 0\ncall 132\nexit', { ...opts, maps: [rb] });
    expect(() => p.run()).toThrow(BpfRuntimeError);
    const twice = vm.load('lddw %r1, map_by_idx(0)\nmov %r2, 8\nmov %r3, 0\ncall 131\nmov %r6, %r0\nmov %r1, %r6\nmov %r2, 0\ncall 132\nmov %r1, %r6\nmov %r2, 0\ncall 132\nexit', { ...opts, maps: [rb] });
    expect(() => twice.run()).toThrow(/not a ring buffer record reserved/);
  });

  it.each(checked)('%s: a ring buffer helper given a hash map faults', (_name, opts) => {
    const vm = new Vm();
    const hash = vm.createMap({ type: 'hash', keySize: 4, valueSize: 8, maxEntries: 1 });
    const p = vm.load('lddw %r1, map_by_idx(0)\nmov %r2, 8\nmov %r3, 0\ncall 131\nexit', { ...opts, maps: [hash] });
    expect(() => p.run()).toThrow(/not one of the program's ring buffers/);
  });
});

describe('the JIT and the ring buffer helpers', () => {
  it('calls a verified program\'s ring buffer operations inside WebAssembly: no JavaScript import', () => {
    const vm = new Vm();
    const rb = vm.createMap({ type: 'ringbuf', keySize: 0, valueSize: 0, maxEntries: SIZE });
    for (const src of [RESERVE, OUTPUT, QUERY]) {
      const p = vm.load(src, { engine: 'jit', tier: 'baseline', context: memory(16), maps: [rb] });
      const wat = jitToWat(p.program, vm.runtime, { facts: p.verification!.facts, maps: [rb], tier: 'baseline' });
      expect(wat).not.toContain('(import "env" "helper"');
    }
    const p = vm.load(RESERVE, { engine: 'jit', tier: 'baseline', context: memory(16), maps: [rb] });
    const wat = jitToWat(p.program, vm.runtime, { facts: p.verification!.facts, maps: [rb], tier: 'baseline' });
    for (const op of ['reserve', 'submit', 'discard']) expect(wat).toContain(`(import "maps" "ringbuf_${op}"`);
  });
});
