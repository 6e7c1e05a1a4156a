/**
 * What `bench --filter` can name, for the filter and for `bench --help`: every workload of the
 * manifest and of the map benchmarks (bench/maps), plus the load-latency, verification-time and 1,000,000-instruction loading tables. Light to import (no engine).
 */
import { WORKLOADS } from './workloads/index.js';
import { MAP_EVENTS, MAP_OPS } from './maps/workloads.js';
import { OBJECT_WORKLOADS } from './objects/workloads.js';

export const LOAD = 'load';
export const VERIFY = 'verify';
export const LOAD_1M = 'load-1m';
export const LOAD_OBJECTS = 'load-objects';
export const WORKERS = 'workers';

export interface BenchEntry {
  readonly name: string;
  readonly summary: string;
}

export function benchCatalog(): BenchEntry[] {
  return [
    ...WORKLOADS.map((w) => ({ name: w.name, summary: w.summary })),
    ...[...MAP_OPS, ...MAP_EVENTS, ...OBJECT_WORKLOADS].map((w) => ({ name: w.name, summary: w.summary })),
    { name: LOAD, summary: 'load latency per JIT tier: bytes to a first result by phase, steady and in fresh processes; bpfjit run' },
    { name: VERIFY, summary: 'verification time: verify() on straight-line programs and a loop' },
    { name: LOAD_OBJECTS, summary: 'load time of objects: parseObject + loadObject of each example object and of a 1,000-instruction one' },
    { name: WORKERS, summary: 'worker threads: latency-hist, pid-filter, port80 and shared against per-CPU counters on the host thread, one worker and all (--workers N)' },
    { name: LOAD_1M, summary: 'loading 1,000,000 instructions: decode + build, verify, refusal and disasm' },
  ];
}
