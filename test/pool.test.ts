// Issue 13: the worker pool — worker i is CPU i, programs run there as they run here, and every way a
// run in a worker can fail comes back with the CPU and the pc, leaving the pool usable.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Vm, event, memory, xdp, WorkerError, InputError, type LoadedProgram, type WorkerPool } from '../src/index.js';
import { helpers } from './fixtures/pool/helpers.mjs';

const HELPERS = new URL('./fixtures/pool/helpers.mjs', import.meta.url);
const u32 = (i: number): Uint8Array => new Uint8Array(new Uint32Array([i]).buffer);
const ENGINES = ['jit', 'interp'] as const;

// r0 = triple(index) | cpu << 32, the CPU from get_smp_processor_id (8).
const TRIPLE_AND_CPU = `
  r1 = *(u32 *)(r1 + 0)
  call 1000
  r6 = r0
  call 8
  r0 <<= 32
  r0 |= r6
  exit`;

describe('worker pool (issue 13)', () => {
  let vm: Vm;
  let pool: WorkerPool;
  const exits: WorkerError[] = [];

  beforeAll(async () => {
    vm = new Vm({ cpus: 2, helpers });
    pool = await vm.pool(2, { helpers: HELPERS, onWorkerExit: (e) => exits.push(e) });
  });
  afterAll(async () => pool.close());

  const load = (asm: string, engine: 'jit' | 'interp', options: object = {}): LoadedProgram => vm.load(asm, { context: event(4), engine, ...options });

  it.each(ENGINES)('runs a batch split across the workers, in order, with the host helpers (%s)', async (engine) => {
    const events = Array.from({ length: 1001 }, (_, i) => u32(i));
    const results = await pool.runBatch(load(TRIPLE_AND_CPU, engine), events);
    // The first half (rounded up) ran on CPU 0, the rest on CPU 1.
    expect([...results]).toEqual(events.map((_, i) => BigInt(i * 3) | (BigInt(i < 501 ? 0 : 1) << 32n)));
  });

  it.each(ENGINES)('streams batches, keeping their order (%s)', async (engine) => {
    const prog = load(TRIPLE_AND_CPU, engine);
    const batches = [3, 700, 1, 250, 90, 400].map((n, b) => Array.from({ length: n }, (_, i) => u32(1000 * b + i)));
    const out: bigint[][] = [];
    for await (const results of pool.stream(prog, batches)) out.push([...results].map((r) => r & 0xffffffffn));
    expect(out).toEqual(batches.map((b) => b.map((e) => BigInt(3 * new Uint32Array(e.buffer)[0]!))));
  });

  it('runs packet contexts: each event is a packet, as LoadedProgram.run takes it', async () => {
    // r0 = data_end - data: the packet's length, built in front of each packet as run() builds it.
    const asm = 'r2 = *(u32 *)(r1 + 4)\nr1 = *(u32 *)(r1 + 0)\nr0 = r2\nr0 -= r1\nexit';
    const packets = [14, 60, 1500, 0, 64].map((n) => new Uint8Array(n).fill(n & 0xff));
    for (const engine of ENGINES) {
      const prog = vm.load(asm, { context: xdp(), engine });
      expect([...await pool.runBatch(prog, packets)]).toEqual(packets.map((p) => prog.run(p)));
    }
    // A batch of many packets (the widest one sets the stride).
    const many = Array.from({ length: 300_000 }, (_, i) => new Uint8Array(14 + (i % 50)));
    const results = await pool.runBatch(vm.load(asm, { context: xdp() }), many);
    expect(results[299_999]).toBe(BigInt(14 + (299_999 % 50)));
  });

  it('runs tail calls through a prog_array', async () => {
    const progs = vm.createMap({ type: 'prog_array', keySize: 4, valueSize: 4, maxEntries: 2, name: 'jumps' });
    const target = vm.load('r0 = 42\nexit', { context: event(4), engine: 'interp' });
    progs.set(1, target);
    const asm = 'r2 = map_by_idx(0) ll\nr3 = 1\ncall 12\nr0 = 7\nexit';
    for (const engine of ENGINES) {
      const results = await pool.runBatch(load(asm, engine, { maps: [progs] }), [u32(0), u32(1), u32(2)]);
      expect([...results]).toEqual([42n, 42n, 42n]);
    }
  });

  it.each(ENGINES)('reports a checked run that faults with its CPU, code and pc, and stays usable (%s)', async (engine) => {
    // Event 777 reads 8 bytes past its 4-byte context: E_RUN_MEMORY at pc 3, on CPU 0.
    const asm = 'r2 = *(u32 *)(r1 + 0)\nif r2 != 777 goto +1\nr1 += 8\nr0 = *(u32 *)(r1 + 0)\nexit';
    const prog = vm.load(asm, { unverified: true, engine });
    const events = Array.from({ length: 2000 }, (_, i) => u32(i));
    const error = await pool.runBatch(prog, events).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WorkerError);
    expect(error).toMatchObject({ code: 'E_RUN_MEMORY', pc: 3, cpu: 0 });
    expect([...await pool.runBatch(prog, events.slice(1000))]).toEqual(events.slice(1000).map((_, i) => BigInt(1000 + i)));
  });

  it('reports a host helper that throws, with its CPU', async () => {
    const prog = load('r1 = *(u32 *)(r1 + 0)\nif r1 < 5 goto +1\ncall 1001\nr0 = 0\nexit', 'jit');
    const error = await pool.runBatch(prog, Array.from({ length: 10 }, (_, i) => u32(i))).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'E_RUN_HELPER', cpu: 1, pc: 2 });
    expect((error as Error).message).toContain('boom');
  });

  it('replaces a worker that dies, reports it, and runs on', async () => {
    const dies = vm.load('call 1002\nr0 = 0\nexit', { context: memory(0) });
    const error = await pool.runOn(1, dies, { base: 0, stride: 0, len: 0, count: 1, results: vm.mem.alloc(8) }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'E_WORKER', cpu: 1 });
    expect(exits.map((e) => e.cpu)).toEqual([1]);
    const events = Array.from({ length: 10 }, (_, i) => u32(i));
    const results = await pool.runBatch(load(TRIPLE_AND_CPU, 'jit'), events);
    expect(results[9]).toBe(27n | (1n << 32n)); // CPU 1 is back
  });
});

describe('worker pool set-up and close', () => {
  it('refuses more workers than the Vm has CPUs, and a Vm whose helpers the workers lack', async () => {
    await expect(new Vm({ cpus: 1 }).pool(2)).rejects.toThrow(InputError);
    await expect(new Vm({ cpus: 1, helpers }).pool(1)).rejects.toThrow(/1000 \(triple\)/);
    await expect(new Vm({ cpus: 1 }).pool(1, { helpers: '/nonexistent/helpers.mjs' })).rejects.toMatchObject({ code: 'E_INPUT', message: expect.stringContaining('cannot import the helper module') });
  });

  it('forwards bpf_trace_printk to the Vm sink with the worker CPU', async () => {
    const lines: Array<[string, number]> = [];
    const vm = new Vm({ cpus: 2, tracePrintk: (text, cpu) => lines.push([text, cpu]) });
    const pool = await vm.pool(2);
    // "hi\n" on the stack: the format, 4 bytes.
    const prog = vm.load('r1 = 0x0a6968\n*(u32 *)(r10 - 4) = r1\nr1 = r10\nr1 += -4\nr2 = 4\ncall 6\nexit', { context: memory(0) });
    await pool.runBatch(prog, [new Uint8Array(0), new Uint8Array(0)]);
    await pool.close();
    expect(lines.sort((a, b) => a[1] - b[1])).toEqual([['hi\n', 0], ['hi\n', 1]]);
  });

  it('sees memory the host thread grew after the worker started (helpers read through it)', async () => {
    const lines: string[] = [];
    const vm = new Vm({ cpus: 1, tracePrintk: (text) => lines.push(text) });
    const pool = await vm.pool(1);
    // trace_printk("%s", ctx): the helper reads the event's string through its thread's view of memory.
    const asm = 'r3 = r1\nr1 = 0x7325\n*(u32 *)(r10 - 4) = r1\nr1 = r10\nr1 += -4\nr2 = 3\ncall 6\nr0 = 0\nexit';
    const prog = vm.load(asm, { context: event(4096) });
    const text = (s: string): Uint8Array => { const e = new Uint8Array(4096); e.set(new TextEncoder().encode(s)); return e; };
    await pool.runBatch(prog, [text('first')]);
    vm.mem.alloc(32 << 20); // 32 MiB more memory: the next batch's events land past what the worker saw
    await pool.runBatch(prog, Array.from({ length: 20 }, (_, i) => text(`event ${i}`)));
    await pool.close();
    expect(lines).toEqual(['first', ...Array.from({ length: 20 }, (_, i) => `event ${i}`)]);
  });

  it('takes no runs once closed', async () => {
    const vm = new Vm({ cpus: 1 });
    const pool = await vm.pool(1);
    const prog = vm.load('r0 = 1\nexit', { context: memory(0) });
    expect([...await pool.runBatch(prog, [new Uint8Array(0)])]).toEqual([1n]);
    const started = pool.runBatch(prog, [new Uint8Array(0), new Uint8Array(0)]);
    await pool.close(); // waits for the run started before it
    expect([...await started]).toEqual([1n, 1n]);
    await pool.close();
    await expect(pool.runBatch(prog, [new Uint8Array(0)])).rejects.toThrow(/closed/);
  });
});
