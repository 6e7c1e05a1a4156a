// perf_event_array (BPF_MAP_TYPE_PERF_EVENT_ARRAY) and bpf_perf_event_output (25): creation checks,
// the WebAssembly copy against the kernel's semantics (index or current CPU, -EINVAL, -E2BIG, -ENOENT,
// -ENOSPC with lost records), the host reader (read and the async iterator), programs in every
// engine writing records the host reads identically, and the verifier's map type rules.
import { beforeAll, describe, expect, it } from 'vitest';
import { ENGINES } from './engines.js';
import { EngineMemory, InputError, MapError, PerfEventArray, Vm, createMap, mapOperations, memory, type PerfRecord } from '../src/index.js';
import { jitToWat, loadOptimizer } from '../src/jit/index.js';
import { VerifyError } from '../src/verifier/refusal.js';

beforeAll(() => loadOptimizer());

const SPEC = { type: 'perf_event_array', keySize: 4, valueSize: 4, maxEntries: 2, bufferSize: 4096, name: 'events' } as const;
const CURRENT = 0xffffffffn;
const [EINVAL, E2BIG, ENOENT, ENOSPC] = [-22n, -7n, -2n, -28n];

const bytes = (n: number, seed: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed * 7 + 1) & 0xff);

function setup(): { pa: PerfEventArray; out: (flags: bigint, data: Uint8Array, cpu?: number) => bigint } {
  const mem = new EngineMemory({ cpus: 2 });
  const pa = createMap(mem, SPEC);
  const ops = mapOperations(mem);
  const scratch = mem.alloc(1 << 16);
  return {
    pa,
    out: (flags, data, cpu = 0) => {
      mem.write(scratch, data);
      return ops.perf_event_output(BigInt(pa.address), flags, BigInt(scratch), BigInt(data.length), BigInt(cpu));
    },
  };
}

function drain(pa: PerfEventArray): PerfRecord[] {
  const got: PerfRecord[] = [];
  expect(pa.read((r) => { got.push(r); })).toBe(got.length);
  return got;
}

describe('perf_event_array creation', () => {
  it('takes 4-byte keys and values and a power of 2 of pages per buffer', () => {
    const pa = createMap(new EngineMemory(), SPEC);
    expect(pa).toBeInstanceOf(PerfEventArray);
    expect(pa.bufferSize).toBe(4096);
    expect(createMap(new EngineMemory(), { ...SPEC, type: 4, bufferSize: undefined }).bufferSize).toBe(65536);
  });

  it.each([
    [{ keySize: 8 }, /keySize 8 must be 4/],
    [{ valueSize: 8 }, /valueSize 8 must be 4/],
    [{ maxEntries: 0 }, /maxEntries 0/],
    [{ bufferSize: 3 * 4096 }, /bufferSize 12288 must be a power of 2 of pages/],
    [{ bufferSize: 2048 }, /bufferSize 2048/],
    [{ flags: 1 }, /flags 1 not supported/],
  ])('refuses %o', (change, message) => {
    expect(() => createMap(new EngineMemory(), { ...SPEC, ...change })).toThrow(InputError);
    expect(() => createMap(new EngineMemory(), { ...SPEC, ...change })).toThrow(message);
  });

  it('refuses bufferSize on other map types, and answers the keyed commands with EOPNOTSUPP', () => {
    expect(() => createMap(new EngineMemory(), { type: 'hash', keySize: 4, valueSize: 4, maxEntries: 1, bufferSize: 4096 })).toThrow(/bufferSize is for a perf_event_array only/);
    const { pa } = setup();
    for (const call of [() => pa.lookup(), () => pa.update(), () => pa.delete(), () => [...pa.keys()], () => pa.clear()]) {
      expect(call).toThrow(MapError);
      expect(call).toThrow(/EOPNOTSUPP/);
    }
  });
});

describe('perf_event_output on the buffers', () => {
  it('writes to the buffer the flags name, or the current CPU\'s, with the kernel\'s errors', () => {
    const { pa, out } = setup();
    expect(out(1n, bytes(5, 1))).toBe(0n);
    expect(out(CURRENT, bytes(3, 2), 0)).toBe(0n);
    expect(out(CURRENT, bytes(0, 3), 1)).toBe(0n);
    expect(out(2n, bytes(4, 4))).toBe(E2BIG);
    expect(out(CURRENT, bytes(4, 4), 2)).toBe(E2BIG);
    expect(out(1n << 32n, bytes(4, 4))).toBe(EINVAL);
    expect(out(CURRENT | (1n << 40n), bytes(4, 4))).toBe(EINVAL);
    pa.close(1);
    expect(out(1n, bytes(4, 4))).toBe(ENOENT);
    pa.open(1);
    expect(drain(pa)).toEqual([
      { cpu: 0, data: bytes(3, 2), lost: 0 },
      { cpu: 1, data: bytes(5, 1), lost: 0 },
      { cpu: 1, data: bytes(0, 3), lost: 0 },
    ]);
    expect(() => pa.close(2)).toThrow(/E2BIG/);
  });

  it('carries records of every size up to the buffer, wrapping around its end', () => {
    const { pa, out } = setup();
    for (let n = 0; n + 16 <= 4096; n += 13) {
      expect(out(0n, bytes(n, n))).toBe(0n);
      const got = drain(pa);
      expect(got).toHaveLength(1);
      expect(Buffer.from(got[0]!.data).equals(Buffer.from(bytes(n, n)))).toBe(true);
    }
    expect(pa.pending(0)).toBe(0);
  });

  it('counts records lost when full (-ENOSPC), and reports them in a lost record before the next sample', () => {
    const { pa, out } = setup();
    let n = 0;
    while (out(0n, bytes(100, n)) === 0n) n++; // 112-byte records: 36 fit, 64 bytes stay free
    expect(n).toBe(Math.floor(4096 / 112));
    expect(out(0n, bytes(100, 0))).toBe(ENOSPC);
    expect(out(0n, bytes(41, 0))).toBe(ENOSPC); // 56 bytes would fit, not with the 24-byte lost record before it
    expect(out(0n, bytes(1, 5))).toBe(0n);
    const first = drain(pa);
    expect(first).toHaveLength(n + 2);
    expect(first.slice(n)).toEqual([{ cpu: 0, data: new Uint8Array(0), lost: 3 }, { cpu: 0, data: bytes(1, 5), lost: 0 }]);
    // Lost with nothing written after: the reader takes the count itself.
    while (out(0n, bytes(100, 2)) === 0n);
    expect(drain(pa).at(-1)).toEqual({ cpu: 0, data: new Uint8Array(0), lost: 1 });
    expect(out(0n, bytes(8, 9))).toBe(0n);
    expect(drain(pa)).toEqual([{ cpu: 0, data: bytes(8, 9), lost: 0 }]);
  });

  it('refuses a sample larger than perf\'s u16 record size with -E2BIG, and one larger than the buffer as lost', () => {
    const { pa, out } = setup();
    expect(out(0n, bytes(65536, 0))).toBe(E2BIG);
    expect(out(0n, bytes(4096, 0))).toBe(ENOSPC);
    expect(drain(pa)).toEqual([{ cpu: 0, data: new Uint8Array(0), lost: 1 }]);
  });

  it('yields records to an async iterator as they are written', async () => {
    const { pa, out } = setup();
    const abort = new AbortController();
    setTimeout(() => { out(1n, bytes(4, 4)); }, 2);
    const got: PerfRecord[] = [];
    for await (const r of pa.records({ signal: abort.signal })) {
      got.push(r);
      abort.abort();
    }
    expect(got).toEqual([{ cpu: 1, data: bytes(4, 4), lost: 0 }]);
  });
});

/** perf_event_output(ctx, events, flags = the input's first u64, the next 16 bytes, 16). */
const OUTPUT = `
mov %r6, %r1
ldxdw %r3, [%r6]
mov %r4, %r6
add %r4, 8
mov %r1, %r6
lddw %r2, map_by_idx(0)
mov %r5, 16
call 25
exit`;

const input = (flags: bigint, seed: number): Uint8Array => {
  const b = new Uint8Array(24);
  new DataView(b.buffer).setBigUint64(0, flags, true);
  b.set(bytes(16, seed), 8);
  return b;
};

describe.each(ENGINES)('perf_event_output in programs: %s', (_name, opts) => {
  it('writes samples the host reads, with the kernel\'s return codes', () => {
    const vm = new Vm({ cpus: 2 });
    const pa = vm.createMap(SPEC);
    const p = vm.load(OUTPUT, { ...opts, context: memory(24), maps: [pa] });
    expect(p.run(input(CURRENT, 1), 1)).toBe(0n);
    expect(p.run(input(0n, 2), 1)).toBe(0n);
    expect(BigInt.asIntN(64, p.run(input(2n, 3)))).toBe(E2BIG);
    expect(BigInt.asIntN(64, p.run(input(1n << 33n, 3)))).toBe(EINVAL);
    pa.close(0);
    expect(BigInt.asIntN(64, p.run(input(CURRENT, 3)))).toBe(ENOENT);
    pa.open(0);
    let n = 0;
    while (p.run(input(CURRENT, n), 1) === 0n) n++;
    expect(n).toBe(4096 / 32 - 1);
    expect(BigInt.asIntN(64, p.run(input(CURRENT, 0), 1))).toBe(ENOSPC);
    const got = drain(pa);
    expect(got[0]).toEqual({ cpu: 0, data: bytes(16, 2), lost: 0 });
    expect(got[1]).toEqual({ cpu: 1, data: bytes(16, 1), lost: 0 });
    expect(got.at(-1)).toEqual({ cpu: 1, data: new Uint8Array(0), lost: 2 });
    expect(got).toHaveLength(n + 3);
  });
});

describe('the verifier and the JIT on perf_event_output', () => {
  function load(src: string, maps: 'perf' | 'hash' = 'perf'): unknown {
    const vm = new Vm();
    const map = maps === 'perf' ? vm.createMap(SPEC) : vm.createMap({ type: 'hash', keySize: 4, valueSize: 4, maxEntries: 1 });
    return vm.load(src, { context: memory(24), maps: [map] });
  }
  function refusal(src: string, maps: 'perf' | 'hash' = 'perf'): VerifyError {
    try {
      load(src, maps);
    } catch (e) {
      expect(e).toBeInstanceOf(VerifyError);
      return e as VerifyError;
    }
    throw new Error('expected a refusal');
  }

  it('refuses a perf_event_array given to map_lookup_elem, and another map given to perf_event_output', () => {
    const lookup = refusal('lddw %r1, map_by_idx(0)\nmov %r2, %r10\nadd %r2, -4\nstw [%r10-4], 0\ncall 1\nmov %r0, 0\nexit');
    expect(lookup.code).toBe('E_VERIFY_HELPER_ARG');
    expect(lookup.pc).toBe(5);
    const output = refusal(OUTPUT, 'hash');
    expect(output.code).toBe('E_VERIFY_HELPER_ARG');
    expect(output.pc).toBe(8);
  });

  it('refuses a context pointer that is not the context, and data that is not readable', () => {
    const ctx = refusal(OUTPUT.replace('mov %r1, %r6', 'mov %r1, %r10'));
    expect([ctx.code, ctx.pc]).toEqual(['E_VERIFY_HELPER_ARG', 8]);
    const data = refusal(OUTPUT.replace('mov %r5, 16', 'mov %r5, 17'));
    expect(data.code).toMatch(/^E_VERIFY_/);
    expect(data.pc).toBe(8);
  });

  it('calls the copy inside WebAssembly from verified code: no JavaScript import', () => {
    const vm = new Vm();
    const pa = vm.createMap(SPEC);
    const p = vm.load(OUTPUT, { engine: 'jit', tier: 'baseline', context: memory(24), maps: [pa] });
    const wat = jitToWat(p.program, vm.runtime, { facts: p.verification!.facts, maps: [pa], tier: 'baseline' });
    expect(wat).not.toContain('(import "env" "helper"');
    expect(wat).toContain('(import "maps" "perf_event_output"');
  });
});
