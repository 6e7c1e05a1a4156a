/**
 * ringbuf-to-host: event delivery across threads. One worker thread (ringbuf-producer.ts) runs a
 * verified, JIT-compiled program in batches, each event a bpf_ringbuf_output of 16 bytes, as fast as
 * it can and never waiting; the host thread consumes at the same time, sleeping on the ring buffer's
 * wake word (RingBuf.wait, Atomics.waitAsync) whenever it has caught up, and reading records in
 * place (consumeRaw) or as copies (consume). The measure is records delivered to the host per
 * second, from the gate opening to the last record consumed; records the producer found no room for
 * are dropped and counted (RingBuf.dropped), never waited for. Runs from dist/ (the worker is
 * dist/bench/maps/ringbuf-producer.js): `npx tsc -p tsconfig.json` first.
 */
import { Worker } from 'node:worker_threads';
import { InternalError } from '../../src/errors.js';
import { Vm, type RingBuf } from '../../src/index.js';
import type { ProducerJob } from './ringbuf-producer.js';

export interface RingbufToHostOptions {
  /** The ring buffer's size in bytes (a power of 2, at least 4096). Default 4 MiB. */
  readonly ringBytes?: number;
  /** Events per runBatch call in the producer. Default 4096. */
  readonly batch?: number;
  /** Events the producer runs. Default 8M (rounded up to a multiple of batch). */
  readonly records?: number;
  /** raw: consumeRaw, no copy (default); copy: consume, a Uint8Array per record. */
  readonly consumer?: 'raw' | 'copy';
  readonly tier?: 'baseline' | 'optimized';
}

export interface RingbufToHostResult {
  readonly ringBytes: number;
  readonly batch: number;
  readonly consumer: 'raw' | 'copy';
  readonly tier: 'baseline' | 'optimized';
  /** Events the producer ran: delivered + dropped. */
  readonly produced: number;
  readonly delivered: number;
  readonly dropped: number;
  /** From the gate opening to the last record consumed. */
  readonly ms: number;
  readonly deliveredPerSec: number;
  /** Times the host slept and was woken by a producer (or found records when it went to sleep). */
  readonly wakes: number;
}

const PRODUCER = new URL('./ringbuf-producer.js', import.meta.url);

/** Starts the producer and resolves once it has placed its events (it then waits for the gate). */
function startProducer(job: ProducerJob): { ready: Promise<void>; done: Promise<number>; worker: Worker } {
  const worker = new Worker(PRODUCER, { workerData: job });
  let readyResolve: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => { readyResolve = resolve; });
  const done = new Promise<number>((resolve, reject) => {
    worker.on('error', reject);
    worker.on('message', (m: 'ready' | { dropped?: number; error?: string }) => {
      if (m === 'ready') readyResolve();
      else if (m.error !== undefined) reject(new InternalError(`ringbuf-to-host: the producer failed: ${m.error}`));
      else resolve(m.dropped ?? 0);
    });
  });
  return { ready, done, worker };
}

/** The host's side: consumes whenever woken until the producer is done, then the rest; returns records and wakes. */
async function consume(ring: RingBuf, done: Promise<unknown>, consumer: 'raw' | 'copy'): Promise<{ delivered: number; wakes: number; checksum: number }> {
  const abort = new AbortController();
  let finished = false;
  void done.then(() => { finished = true; abort.abort(); }, () => abort.abort());
  let checksum = 0;
  // Each callback reads a word of its record, so that a consumer that skipped the bytes would not look faster.
  const raw = (bytes: Uint8Array, at: number): void => { checksum = (checksum + bytes[at]!) | 0; };
  const copy = (record: Uint8Array): void => { checksum = (checksum + record[0]!) | 0; };
  const take = (): number => (consumer === 'raw' ? ring.consumeRaw(raw) : ring.consume(copy));
  let delivered = 0;
  let wakes = 0;
  while (!finished) {
    if (await ring.wait(undefined, abort.signal)) wakes++;
    delivered += take();
  }
  await done;
  delivered += take();
  return { delivered, wakes, checksum };
}

/** One measurement (see the file's comment). Throws unless delivered + dropped is every event the producer ran. */
export async function measureRingbufToHost(options: RingbufToHostOptions = {}): Promise<RingbufToHostResult> {
  const ringBytes = options.ringBytes ?? 1 << 22;
  const batch = options.batch ?? 4096;
  const produced = Math.ceil((options.records ?? 8_000_000) / batch) * batch;
  const consumer = options.consumer ?? 'raw';
  const tier = options.tier ?? 'baseline';
  const vm = new Vm({ cpus: 1 });
  const ring = vm.createMap({ type: 'ringbuf', keySize: 0, valueSize: 0, maxEntries: ringBytes, name: 'events' });
  const gate = new Int32Array(new SharedArrayBuffer(4));
  const producer = startProducer({ mem: vm.mem.share(), map: ring.share(), batch, records: produced, tier, gate });
  try {
    await producer.ready;
    const start = performance.now();
    Atomics.store(gate, 0, 1);
    Atomics.notify(gate, 0);
    const { delivered, wakes } = await consume(ring, producer.done, consumer);
    const ms = performance.now() - start;
    const dropped = await producer.done;
    if (delivered + dropped !== produced || ring.dropped !== dropped) {
      throw new InternalError(`ringbuf-to-host: ${delivered} delivered + ${dropped} dropped (the ring counted ${ring.dropped}) is not the ${produced} produced`);
    }
    return { ringBytes, batch, consumer, tier, produced, delivered, dropped, ms, deliveredPerSec: (delivered / ms) * 1000, wakes };
  } finally {
    await producer.worker.terminate();
  }
}
