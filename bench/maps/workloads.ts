/**
 * The map benchmarks (bench/README.md, "Map workloads"): what each sets up, and the hand-written
 * JavaScript each event workload is checked and compared against.
 */
import type { BpfMap } from '../../src/maps/map.js';
import type { MapSpec } from '../../src/maps/spec.js';
import { Prng } from '../prng.js';
import { makeEvents, type EventSet } from '../workload.js';
import { HASH_UPDATE, PERCPU_INC, PID_FILTER, hashLookup } from './programs.js';
import { programBytes } from '../programs.js';

/** Keys the hash micro-benchmarks' map holds: 0..255 (a miss looks up 256..511). */
export const HASH_KEYS = 256;
const HASH_SPEC: MapSpec = { type: 'hash', keySize: 4, valueSize: 8, maxEntries: 1024, name: 'table' };

const fillHash = (map: BpfMap): void => {
  for (let k = 0; k < HASH_KEYS; k++) map.update(k, k);
};

/** A micro-benchmark: one map operation repeated inside one program run, and the same from the host API. */
export interface MapOpWorkload {
  readonly name: string;
  readonly summary: string;
  readonly spec: MapSpec;
  readonly source: string;
  readonly setup: (map: BpfMap) => void;
  /** The host API's version of one operation on the i-th key. */
  readonly host: (map: BpfMap, keys: readonly Uint8Array[], i: number) => unknown;
}

const u32 = (k: number): Uint8Array => new Uint8Array(new Uint32Array([k]).buffer);
const VALUE = new Uint8Array(8);
export const hostKeys = (offset: number): Uint8Array[] => Array.from({ length: HASH_KEYS }, (_, k) => u32(k + offset));

export const MAP_OPS: readonly MapOpWorkload[] = [
  {
    name: 'hash-lookup-hit', summary: 'hash map lookup of a present key (256 of 1024 entries used)', spec: HASH_SPEC,
    source: hashLookup(0), setup: fillHash, host: (map, keys, i) => map.lookup(keys[i & 255]!),
  },
  {
    name: 'hash-lookup-miss', summary: 'hash map lookup of an absent key', spec: HASH_SPEC,
    source: hashLookup(HASH_KEYS), setup: fillHash, host: (map, keys, i) => map.lookup(keys[(i & 255)]!),
  },
  {
    name: 'hash-update', summary: 'hash map update of a present key (BPF_ANY)', spec: HASH_SPEC,
    source: HASH_UPDATE, setup: fillHash, host: (map, keys, i) => map.update(keys[i & 255]!, VALUE),
  },
  {
    name: 'percpu-inc', summary: 'per-CPU array lookup and increment of one slot',
    spec: { type: 'percpu_array', keySize: 4, valueSize: 8, maxEntries: 1, name: 'counter' },
    source: PERCPU_INC, setup: () => undefined, host: (map, keys) => map.lookup(keys[0]!),
  },
];

/** An event workload: events, a program with one map, and the JavaScript doing the same with a JS structure. */
export interface MapEventWorkload {
  readonly name: string;
  readonly summary: string;
  readonly spec: MapSpec;
  /** The program: assembly text, or bytes built from C (bench/programs). */
  readonly source: () => string | Uint8Array;
  readonly events: () => EventSet;
  readonly setup: (map: BpfMap) => void;
  /** A fresh JavaScript filter with its own state: returns the program's r0 for the event at `at`. */
  readonly js: () => JsFilter;
  /**
   * The same filter without what makes the program's work shareable across threads (atomic updates
   * of shared memory), measured beside it as the `plain` JavaScript row.
   */
  readonly jsPlain?: () => JsFilter;
  /** The map's state in the same shape as the JavaScript's: key -> value (summed over CPUs). */
  readonly mapState: (map: BpfMap) => Map<number, bigint>;
}

export interface JsFilter {
  readonly run: (view: DataView, at: number) => number;
  readonly state: () => Map<number, bigint>;
}

const EVENTS = 4096;
const PIDS = 512;
/** The pids pid-filter lets through: every 8th. */
const allowedPids = (): number[] => Array.from({ length: PIDS / 8 }, (_, i) => 8 * i + 3);

const sumCpus = (value: Uint8Array | Uint8Array[]): bigint =>
  (Array.isArray(value) ? value : [value]).reduce((n, v) => n + new DataView(v.buffer, v.byteOffset).getBigUint64(0, true), 0n);

function stateOf(map: BpfMap): Map<number, bigint> {
  const out = new Map<number, bigint>();
  for (const [k, v] of map.entries()) {
    const n = sumCpus(v);
    if (n !== 0n) out.set(new DataView(k.buffer, k.byteOffset).getUint32(0, true), n);
  }
  return out;
}

export const MAP_EVENTS: readonly MapEventWorkload[] = [
  {
    name: 'pid-filter', summary: `pass the events of ${PIDS / 8} of ${PIDS} pids (a hash map), counting passes per pid`,
    spec: { type: 'hash', keySize: 4, valueSize: 8, maxEntries: 1024, name: 'allowed' }, source: () => PID_FILTER,
    events: () => {
      const rng = new Prng(0x91d);
      return makeEvents(EVENTS, 16, 16, (view, at, i) => {
        view.setUint32(at, rng.below(PIDS), true);
        view.setUint32(at + 4, rng.below(400), true);
        view.setBigUint64(at + 8, BigInt(i) * 1000n, true);
      });
    },
    setup: (map) => {
      for (const pid of allowedPids()) map.update(pid, 0);
    },
    js: () => {
      const allowed = new Map(allowedPids().map((pid) => [pid, { count: 0 }]));
      return {
        run: (view, at) => {
          const entry = allowed.get(view.getUint32(at, true));
          if (entry === undefined) return 0;
          entry.count++;
          return 1;
        },
        state: () => new Map([...allowed].filter(([, e]) => e.count > 0).map(([pid, e]) => [pid, BigInt(e.count)])),
      };
    },
    mapState: stateOf,
  },
  {
    name: 'latency-hist', summary: 'log2 of end - start into a 64-slot per-CPU array, incremented atomically',
    spec: { type: 'percpu_array', keySize: 4, valueSize: 8, maxEntries: 64, name: 'hist' }, source: () => programBytes('latency-hist'),
    events: () => {
      const rng = new Prng(0x1a7);
      return makeEvents(EVENTS, 16, 16, (view, at) => {
        const start = BigInt(rng.u32()) * 1000n;
        const latency = BigInt(rng.u32()) >> BigInt(rng.below(32));
        view.setBigUint64(at, start, true);
        view.setBigUint64(at + 8, start + latency, true);
      });
    },
    setup: () => undefined,
    // Like the program, atomic adds to u64 counters in shared memory, which other threads may read.
    js: () => histogram(new BigUint64Array(new SharedArrayBuffer(64 * 8)), (hist, slot) => Atomics.add(hist, slot, 1n)),
    jsPlain: () => histogram(new Float64Array(64), (hist, slot) => hist[slot]!++),
    mapState: stateOf,
  },
];

/** end - start over two u32 halves, then the index of its highest set bit (0 for 0). */
function latencySlot(view: DataView, at: number): number {
  const lo = view.getUint32(at + 8, true) - view.getUint32(at, true);
  const hi = (view.getUint32(at + 12, true) - view.getUint32(at + 4, true) - (lo < 0 ? 1 : 0)) >>> 0;
  return hi !== 0 ? 63 - Math.clz32(hi) : Math.max(0, 31 - Math.clz32(lo >>> 0));
}

/** latency-hist in JavaScript, counting into `hist` with `add`. */
function histogram<H extends BigUint64Array | Float64Array>(hist: H, add: (hist: H, slot: number) => unknown): JsFilter {
  return {
    run: (view, at) => {
      const slot = latencySlot(view, at);
      add(hist, slot);
      return slot;
    },
    state: () => new Map([...hist].flatMap((n, slot) => (n > 0 ? [[slot, BigInt(n)] as const] : []))),
  };
}
