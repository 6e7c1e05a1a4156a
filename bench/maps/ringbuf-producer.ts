/**
 * The producer thread of ringbuf-to-host (ringbuf-to-host.ts starts it with a ProducerJob as its
 * workerData): attaches to the host's memory and ring buffer, loads the program that copies each
 * 16-byte event into the ring (bpf_ringbuf_output), JIT-compiled and verified, places one batch of
 * events, posts 'ready', waits for the gate, then runs the batch over and over until it has run
 * `records` events. Posts the count of runs whose output failed (dropped), or an error.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { Vm, attachMap, memory, type MemoryShare } from '../../src/index.js';
import type { MapShare } from '../../src/maps/map-base.js';

export interface ProducerJob {
  readonly mem: MemoryShare;
  readonly map: MapShare;
  /** Events per runBatch call. */
  readonly batch: number;
  /** Events in all, a multiple of batch. */
  readonly records: number;
  readonly tier: 'baseline' | 'optimized';
  /** An Int32Array over a SharedArrayBuffer: the producer starts once [0] is not 0. */
  readonly gate: Int32Array;
}

/** bpf_ringbuf_output(map, event, 16, 0): the event, as it is, one record. */
export const OUTPUT_EVENT = `mov %r2, %r1
lddw %r1, map_by_idx(0)
mov %r3, 16
mov %r4, 0
call 130
exit`;

async function produce(job: ProducerJob): Promise<number> {
  if (job.tier === 'optimized') await (await import('../../src/jit/index.js')).loadOptimizer();
  const vm = new Vm({ memory: job.mem });
  const ring = attachMap(vm.mem, job.map);
  const exe = vm.load(OUTPUT_EVENT, { maps: [ring], context: memory(16), engine: 'jit', tier: job.tier }).exe;
  const base = vm.mem.alloc(16 * job.batch, 64);
  const results = vm.mem.alloc(8 * job.batch, 8);
  for (let i = 0; i < job.batch; i++) vm.mem.view.setBigUint64(base + 16 * i, BigInt(i), true);
  const r0 = new BigInt64Array(vm.mem.buffer, results, job.batch);
  parentPort!.postMessage('ready');
  Atomics.wait(job.gate, 0, 0);
  let dropped = 0;
  for (let done = 0; done < job.records; done += job.batch) {
    exe.runBatch(base, 16, 16, job.batch, results, 0);
    for (let i = 0; i < job.batch; i++) if (r0[i] !== 0n) dropped++;
  }
  return dropped;
}

produce(workerData as ProducerJob).then(
  (dropped) => parentPort!.postMessage({ dropped }),
  (e: unknown) => parentPort!.postMessage({ error: String(e instanceof Error ? e.stack : e) }),
);
