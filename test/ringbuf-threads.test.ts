// Event delivery across threads (issue 13): worker threads, each a CPU, write numbered records into a
// ring buffer or a perf event array over one shared memory while the main thread consumes them,
// sleeping with Atomics.waitAsync (RingBuf.wait, PerfEventArray.wait) between batches. Every record is
// delivered exactly once or counted dropped, in each producer's order. The workers run
// test/fixtures/stream-producer.mjs on dist/ (npm test's pretest builds it); each concurrency test
// loops ROUNDS times, a fresh Vm each round, as CI must pass it 20 times in a row.
import { Worker } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Vm, mapOperations, type PerfEventArray, type PerfRecord, type RingBuf } from '../src/index.js';
import { BPF_RB_FORCE_WAKEUP, BPF_RB_NO_WAKEUP } from '../src/maps/ops-ringbuf.js';

const DIST = new URL('../dist/src/index.js', import.meta.url).href;
const SCRIPT = new URL('./fixtures/stream-producer.mjs', import.meta.url);
const ROUNDS = 20;
const WORKERS = 3;
/** Records per worker per round: enough to fill the small buffers below many times over. */
const COUNT = 20_000;
const EAGAIN = -11n;
const ENOSPC = -28n;

interface Reply { cpu: number; ready?: boolean; results?: BigInt64Array; r0?: bigint; error?: string }

let workers: Worker[] = [];

beforeAll(() => {
  workers = Array.from({ length: WORKERS }, () => new Worker(SCRIPT));
});

afterAll(async () => {
  await Promise.all(workers.map((w) => w.terminate()));
});

/** Posts a job to worker `cpu` and resolves with its (last) reply; rejects with the worker's error. */
function job(cpu: number, message: Record<string, unknown>, onReady?: () => void): Promise<Reply> {
  const worker = workers[cpu]!;
  return new Promise((resolve, reject) => {
    const listen = (reply: Reply): void => {
      if (reply.ready) {
        onReady?.();
        worker.once('message', listen);
      } else if (reply.error) reject(new Error(reply.error));
      else resolve(reply);
    };
    worker.once('message', listen);
    worker.postMessage({ dist: DIST, cpu, engine: cpu % 2 === 0 ? 'jit' : 'interp', flags: 0, ...message });
  });
}

/**
 * Gives every worker in `cpus` a batch job and opens the gate once all have placed their events, so
 * that they write at the same time. Resolves with their replies.
 */
function batches(cpus: readonly number[], message: Record<string, unknown>): Promise<Reply[]> {
  const gate = new Int32Array(new SharedArrayBuffer(4));
  let ready = 0;
  const open = (): void => {
    if (++ready === cpus.length) {
      Atomics.store(gate, 0, 1);
      Atomics.notify(gate, 0);
    }
  };
  return Promise.all(cpus.map((cpu) => job(cpu, { ...message, gate }, open)));
}

/**
 * Runs `consume` after every wake-up until `done` settles, then once more: the host side of a round,
 * sleeping (wait) whenever there is nothing to read. Returns how many times the wait was woken.
 */
async function consumeUntil(done: Promise<unknown>, wait: (signal: AbortSignal) => Promise<boolean>, consume: () => void): Promise<number> {
  const abort = new AbortController();
  let finished = false;
  const settled = done.finally(() => { finished = true; abort.abort(); });
  let wakes = 0;
  while (!finished) {
    if (await wait(abort.signal)) wakes++;
    consume();
  }
  await settled;
  consume();
  return wakes;
}

/** The seqs whose run returned 0 (written), and how many returned `failure` (dropped); anything else fails the test. */
function outcomes(results: BigInt64Array, failure: bigint): { written: number[]; failed: number } {
  const written: number[] = [];
  let failed = 0;
  results.forEach((r0, seq) => {
    if (r0 === 0n) written.push(seq);
    else if (r0 === failure) failed++;
    else throw new Error(`seq ${seq}: r0 ${r0}`);
  });
  return { written, failed };
}

/** Where the seqs delivered first differ from the seqs written (a short description), or undefined: vitest's diff of 20,000 numbers is unreadable. */
function difference(delivered: readonly number[], written: readonly number[]): string | undefined {
  const n = Math.min(delivered.length, written.length);
  for (let i = 0; i < n; i++) {
    if (delivered[i] !== written[i]) return `record ${i}: seq ${delivered[i]} delivered, seq ${written[i]} written (${delivered.length} delivered, ${written.length} written)`;
  }
  return delivered.length === written.length ? undefined : `${delivered.length} delivered, ${written.length} written`;
}

describe('ring buffer written by several workers', () => {
  it(`delivers every record exactly once or counts it dropped, in each worker's order (${ROUNDS} rounds)`, async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const vm = new Vm({ cpus: WORKERS });
      // Odd rounds: a buffer that is full most of the time; even rounds: one where every reserve succeeds, many at once.
      const rb = vm.createMap({ type: 'ringbuf', keySize: 0, valueSize: 0, maxEntries: round % 2 ? 4096 : 1 << 22 }) as RingBuf;
      const seen: number[][] = Array.from({ length: WORKERS }, () => []);
      const replies = batches([0, 1, 2], { mem: vm.mem.share(), map: rb.share(), kind: 'ringbuf', count: COUNT });
      let wrongLength = 0;
      await consumeUntil(replies, (signal) => rb.wait(undefined, signal), () => {
        rb.consumeRaw((bytes, at, length) => {
          if (length !== 16) wrongLength++;
          const view = new DataView(bytes.buffer, bytes.byteOffset + at, length);
          seen[view.getUint32(0, true)]!.push(view.getUint32(4, true));
        });
      });
      expect(wrongLength).toBe(0);
      let dropped = 0;
      for (const reply of await replies) {
        const { written, failed } = outcomes(reply.results!, EAGAIN);
        // Delivered exactly the seqs whose output succeeded, once each and in order: the others were dropped.
        expect(difference(seen[reply.cpu]!, written)).toBeUndefined();
        expect(written.length + failed).toBe(COUNT);
        dropped += failed;
      }
      expect(rb.dropped).toBe(dropped);
      expect(rb.availableData).toBe(0);
    }
  });
});

describe('perf event array written by several workers', () => {
  it(`delivers every sample of each CPU's buffer once or counts it lost (${ROUNDS} rounds)`, async () => {
    const cpus = 2;
    for (let round = 0; round < ROUNDS; round++) {
      const vm = new Vm({ cpus });
      const pa = vm.createMap({ type: 'perf_event_array', keySize: 4, valueSize: 4, maxEntries: cpus, bufferSize: 4096 }) as PerfEventArray;
      const seen: number[][] = [[], []];
      const lost = [0, 0];
      const replies = batches([0, 1], { mem: vm.mem.share(), map: pa.share(), kind: 'perf', count: COUNT });
      await consumeUntil(replies, (signal) => pa.wait(undefined, signal), () => {
        pa.read((r: PerfRecord) => {
          if (r.lost > 0) lost[r.cpu]! += r.lost;
          else seen[r.cpu]!.push(new DataView(r.data.buffer).getUint32(4, true));
        });
      });
      for (const reply of await replies) {
        const { written, failed } = outcomes(reply.results!, ENOSPC);
        expect(difference(seen[reply.cpu]!, written)).toBeUndefined();
        expect(lost[reply.cpu]).toBe(failed);
        expect(written.length + failed).toBe(COUNT);
        expect(pa.pending(reply.cpu)).toBe(0);
      }
    }
  });
});

describe('waking the consumer', () => {
  /** Whether `wait` is still pending after the event loop has run for `ms`. */
  const pendingAfter = async (wait: Promise<boolean>, ms: number): Promise<boolean> =>
    Promise.race([wait.then(() => false), new Promise<boolean>((resolve) => setTimeout(() => resolve(true), ms))]);

  it('an idle wait resolves when a worker submits, not under BPF_RB_NO_WAKEUP, always under BPF_RB_FORCE_WAKEUP', async () => {
    const vm = new Vm({ cpus: 1 });
    const rb = vm.createMap({ type: 'ringbuf', keySize: 0, valueSize: 0, maxEntries: 4096 }) as RingBuf;
    const share = { mem: vm.mem.share(), map: rb.share(), kind: 'ringbuf' };
    const drain = (): number => rb.consume(() => undefined);

    let wait = rb.wait();
    expect(await pendingAfter(wait, 20)).toBe(true);
    expect((await job(0, { ...share, one: 0 })).r0).toBe(0n);
    expect(await wait).toBe(true);
    expect(drain()).toBe(1);

    wait = rb.wait();
    expect((await job(0, { one: 1, flags: BPF_RB_NO_WAKEUP })).r0).toBe(0n);
    expect(await pendingAfter(wait, 50)).toBe(true);
    // The record is there; a wait that starts now needs no wake-up.
    expect(await rb.wait()).toBe(true);
    expect((await job(0, { one: 2, flags: BPF_RB_FORCE_WAKEUP })).r0).toBe(0n);
    expect(await wait).toBe(true);
    expect(drain()).toBe(2);
  });

  it('wakes when the record the consumer waits at is submitted, not one after it (unless forced)', async () => {
    const vm = new Vm();
    const rb = vm.createMap({ type: 'ringbuf', keySize: 0, valueSize: 0, maxEntries: 4096 }) as RingBuf;
    const ops = mapOperations(vm.mem);
    const reserve = (): bigint => ops.ringbuf_reserve(BigInt(rb.address), 8n, 0n);
    const [first, second, third] = [reserve(), reserve(), reserve()];
    const wait = rb.wait();
    ops.ringbuf_submit(second, 0n);
    expect(await pendingAfter(wait, 20)).toBe(true);
    ops.ringbuf_submit(third, BigInt(BPF_RB_FORCE_WAKEUP));
    expect(await wait).toBe(true);
    // Woken, yet the first record still holds the others back.
    expect(rb.consume(() => undefined)).toBe(0);
    const next = rb.wait();
    ops.ringbuf_submit(first, 0n);
    expect(await next).toBe(true);
    expect(rb.consume(() => undefined)).toBe(3);
  });

  it('a perf event array reader sleeps until a worker writes a sample', async () => {
    const vm = new Vm({ cpus: 1 });
    const pa = vm.createMap({ type: 'perf_event_array', keySize: 4, valueSize: 4, maxEntries: 1 }) as PerfEventArray;
    const wait = pa.wait();
    expect(await pendingAfter(wait, 20)).toBe(true);
    expect((await job(0, { mem: vm.mem.share(), map: pa.share(), kind: 'perf', one: 7 })).r0).toBe(0n);
    expect(await wait).toBe(true);
    expect(await pa.wait(0)).toBe(true);
    expect(pa.read(() => undefined)).toBe(1);
    expect(await pa.wait(10)).toBe(false);
  });
});
