// The worker-thread benchmarks (bench/workers): a tiny run of each workload checks that the pool's
// results equal the host thread's before timing, and that the records and the table say what ran.
import { describe, expect, it } from 'vitest';
import { measureWorkers, workerRows } from '../bench/workers/index.js';
import { WORKER_WORKLOADS } from '../bench/workers/workloads.js';

describe('worker-thread benchmarks', () => {
  it('keeps the names of the issue', () => {
    expect(WORKER_WORKLOADS.map((w) => w.name)).toEqual(['latency-hist', 'pid-filter', 'port80', 'shared-counter', 'percpu-counter']);
  });

  it('measures the host thread, one worker and all workers of each workload', async () => {
    const records = await measureWorkers({ workers: 2, rounds: 1, maxBytes: 1 << 16, maxEvents: 4096, ringbufRuns: 1, ringbufRecords: 100_000 }, () => undefined);
    for (const w of WORKER_WORKLOADS) {
      expect(records.filter((r) => r.workload === w.name).map((r) => r.mode)).toEqual(['batch', 'workers:1', 'workers:2']);
    }
    for (const r of records) expect(r.nsPerOp).toBeGreaterThan(0);
    const rows = workerRows(records);
    expect(rows[0]).toEqual(['workload', 'host thread', '1 worker', 'all workers', 'scaling', 'samples']);
    expect(rows.slice(1).map((r) => r[0])).toEqual([...WORKER_WORKLOADS.map((w) => w.name), 'ringbuf-to-host']);
    expect(records.find((r) => r.workload === 'ringbuf-to-host')?.mode).toBe('workers:1');
  }, 60_000);
});
