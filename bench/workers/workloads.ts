/**
 * The worker-thread benchmarks (bench/README.md, "Worker threads"): high-frequency filters of the
 * other tables, spread over a pool's workers, and two counters that show what sharing costs: one
 * counter every worker increments atomically (its cache line moves between cores on every event)
 * against a per-CPU counter each CPU increments alone, as the kernel's per-CPU maps are meant to be used.
 */
import { memory, event, type ContextDescriptor } from '../../src/index.js';
import type { BpfMap } from '../../src/maps/map.js';
import type { MapSpec } from '../../src/maps/spec.js';
import { MAP_EVENTS } from '../maps/workloads.js';
import { programBytes } from '../programs.js';
import { PORT80 } from '../workloads/port80.js';
import type { EventSet } from '../workload.js';

export interface WorkerWorkload {
  readonly name: string;
  readonly summary: string;
  readonly source: () => string | Uint8Array;
  readonly context: ContextDescriptor;
  readonly spec?: MapSpec;
  readonly setup?: (map: BpfMap) => void;
  /** The events of one sample, before they are repeated to a sample's length. */
  readonly events: () => EventSet;
}

const mapEvents = (name: string): WorkerWorkload => {
  const w = MAP_EVENTS.find((m) => m.name === name)!;
  return { name, summary: w.summary, source: w.source, context: event(16), spec: w.spec, setup: w.setup, events: w.events };
};

/** Events without bytes: the program's context is memory(0) (r1 = null). */
const noEvents = (count: number): EventSet => ({ bytes: new Uint8Array(0), stride: 0, len: 0, count });

/** Looks up the one entry of map 0 and adds 1 to its u64: `atomic` with a BPF atomic add, else a load, add and store. */
const counter = (atomic: boolean): string => `
  r1 = 0
  *(u32 *)(r10 - 4) = r1
  r2 = r10
  r2 += -4
  r1 = map_by_idx(0) ll
  call 1
  if r0 == 0 goto out
  r1 = 1
  ${atomic ? 'lock *(u64 *)(r0 + 0) += r1' : 'r2 = *(u64 *)(r0 + 0)\n  r2 += r1\n  *(u64 *)(r0 + 0) = r2'}
out:
  r0 = 0
  exit`;

export const WORKER_WORKLOADS: readonly WorkerWorkload[] = [
  mapEvents('latency-hist'),
  mapEvents('pid-filter'),
  {
    name: 'port80', summary: PORT80.summary, source: () => programBytes('port80'),
    context: memory(PORT80.input('full').len), events: () => PORT80.input('full'),
  },
  {
    name: 'shared-counter', summary: 'one u64 in an array map, incremented atomically by every worker',
    source: () => counter(true), context: memory(0), spec: { type: 'array', keySize: 4, valueSize: 8, maxEntries: 1, name: 'count' },
    events: () => noEvents(4096),
  },
  {
    name: 'percpu-counter', summary: 'one u64 in a per-CPU array map, each CPU incrementing its own copy',
    source: () => counter(false), context: memory(0), spec: { type: 'percpu_array', keySize: 4, valueSize: 8, maxEntries: 1, name: 'count' },
    events: () => noEvents(4096),
  },
];
