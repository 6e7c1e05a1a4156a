/**
 * ringbuf-to-host: event delivery across threads. A pool's worker runs a verified, JIT-compiled
 * program over batches of events placed once in the shared memory, each event a bpf_ringbuf_output of
 * its 16 bytes, two batches in flight so it never idles and never waits for room; the host thread
 * consumes meanwhile, sleeping on the ring buffer's wake word (RingBuf.wait, Atomics.waitAsync)
 * whenever it has caught up, and reading records in place (consumeRaw) or as copies (consume). The
 * measure is records delivered to the host per second, from the first batch sent to the last record
 * consumed; records the producer found no room for are dropped and counted (RingBuf.dropped).
 */
import { InternalError } from '../../src/errors.js';
import { Vm, memory, type RingBuf, type WorkerPool, type LoadedProgram, type PlacedBatch } from '../../src/index.js';

export interface RingbufToHostOptions {
  /** The ring buffer's size in bytes (a power of 2, at least 4096). Default 4 MiB. */
  readonly ringBytes?: number;
  /** Events per batch the worker runs. Default 16,384. */
  readonly batch?: number;
  /** Events in all. Default 8M (rounded up to a multiple of batch). */
  readonly records?: number;
  /** raw: consumeRaw, no copy (default); copy: consume, a Uint8Array per record. */
  readonly consumer?: 'raw' | 'copy';
  readonly tier?: 'baseline' | 'optimized';
}

export interface RingbufToHostResult {
  readonly ringBytes: number;
  readonly batch: number;
  readonly consumer: 'raw' | 'copy';
  /** Events the worker ran: delivered + dropped. */
  readonly produced: number;
  readonly delivered: number;
  readonly dropped: number;
  readonly ms: number;
  readonly deliveredPerSec: number;
  /** Times the host slept and was woken by the producer (or found records as it went to sleep). */
  readonly wakes: number;
}

/** bpf_ringbuf_output(map, event, 16, 0): the event, as it is, one record. */
export const OUTPUT_EVENT = `r2 = r1
r1 = map_by_idx(0) ll
r3 = 16
r4 = 0
call 130
exit`;

/** The worker's side: `total` events in batches, two in flight. */
async function produce(pool: WorkerPool, prog: LoadedProgram, batch: PlacedBatch, total: number): Promise<void> {
  const inFlight: Promise<void>[] = [];
  for (let sent = 0; sent < total; sent += batch.count) {
    inFlight.push(pool.runOn(0, prog, batch));
    if (inFlight.length >= 2) await inFlight.shift();
  }
  await Promise.all(inFlight);
}

/** The host's side: consumes whenever woken until the producer is done, then the rest. */
async function consume(ring: RingBuf, done: Promise<unknown>, consumer: 'raw' | 'copy'): Promise<{ delivered: number; wakes: number; checksum: number }> {
  const abort = new AbortController();
  let finished = false;
  void done.then(() => { finished = true; abort.abort(); }, () => abort.abort());
  let checksum = 0;
  // Each callback reads a byte of its record, so that a consumer that skipped the bytes would not look faster.
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

/** One measurement (see the file's comment). Throws unless delivered + dropped is every event the worker ran. */
export async function measureRingbufToHost(options: RingbufToHostOptions = {}): Promise<RingbufToHostResult> {
  const ringBytes = options.ringBytes ?? 1 << 22;
  const count = options.batch ?? 16384;
  const produced = Math.ceil((options.records ?? 8_000_000) / count) * count;
  const consumer = options.consumer ?? 'raw';
  const vm = new Vm({ cpus: 1 });
  const ring = vm.createMap({ type: 'ringbuf', keySize: 0, valueSize: 0, maxEntries: ringBytes, name: 'events' });
  const prog = vm.load(OUTPUT_EVENT, { maps: [ring], context: memory(16), engine: 'jit', tier: options.tier ?? 'baseline' });
  const base = vm.mem.alloc(16 * count, 64);
  for (let i = 0; i < count; i++) vm.mem.view.setBigUint64(base + 16 * i, BigInt(i), true);
  const batch: PlacedBatch = { base, stride: 16, len: 16, count, results: vm.mem.alloc(8 * count, 8) };
  const pool = await vm.pool(1);
  try {
    // One batch first, untimed: the worker instantiates the module and V8 compiles it.
    await pool.runOn(0, prog, batch);
    ring.consumeRaw(() => undefined);
    const droppedBefore = ring.dropped;
    const start = performance.now();
    const done = produce(pool, prog, batch, produced);
    const { delivered, wakes } = await consume(ring, done, consumer);
    const ms = performance.now() - start;
    const dropped = ring.dropped - droppedBefore;
    if (delivered + dropped !== produced) {
      throw new InternalError(`ringbuf-to-host: ${delivered} delivered + ${dropped} dropped is not the ${produced} produced`);
    }
    return { ringBytes, batch: count, consumer, produced, delivered, dropped, ms, deliveredPerSec: (delivered / ms) * 1000, wakes };
  } finally {
    await pool.close();
  }
}
