// Maps shared by worker threads (each a CPU of the Vm) and the host at once (issue 13): the map
// lock keeps hash maps, LRU maps, LPM tries and arrays exact under concurrent updates and deletes,
// a host lookup never sees half an update, per-CPU counters add up, and bpf_spin_lock makes a
// program's read-modify-write exact. Each test runs ROUNDS times, on a fresh Vm each time; the
// workers (test/maps-threads-worker.mjs, run from dist/, which `npm test` builds first) stay.
import { Worker } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Vm, type BpfMap } from '../src/index.js';
import { INCREMENT, PRESENT_LOOKUPS } from './maps-helpers.js';

const THREADS = 3;
const ROUNDS = Number(process.env.MT_ROUNDS ?? 20);
const INDEX = new URL('../dist/src/index.js', import.meta.url).href;
const WORKER = new URL('./maps-threads-worker.mjs', import.meta.url);

interface Thread { worker: Worker; next(): Promise<string> }
let threads: Thread[] = [];

function start(cpu: number): Thread {
  const worker = new Worker(WORKER, { workerData: { index: INDEX, cpu } });
  const queue: string[] = [];
  const waiting: Array<(m: string) => void> = [];
  const deliver = (m: string): void => {
    const w = waiting.shift();
    if (w) w(m);
    else queue.push(m);
  };
  worker.on('message', deliver);
  worker.on('error', (e) => deliver(`failed: ${String(e)}`));
  return { worker, next: () => new Promise((resolve) => (queue.length ? resolve(queue.shift()!) : waiting.push(resolve))) };
}

beforeAll(async () => {
  threads = Array.from({ length: THREADS }, (_, cpu) => start(cpu));
  for (const t of threads) expect(await t.next()).toBe('started');
});
afterAll(async () => {
  await Promise.all(threads.map((t) => t.worker.terminate()));
});

/**
 * Runs `task` on every worker at once over the maps; `host`, if given, runs on this thread at the
 * same time, told whether the workers are all done.
 */
async function race(vm: Vm, maps: BpfMap[], task: string, rounds: number, host?: (done: () => boolean) => void, source?: string): Promise<void> {
  const sync = new SharedArrayBuffer(16);
  const flags = new Int32Array(sync);
  const job = { mem: vm.mem.share(), maps: maps.map((m) => m.share()), sync, task, rounds, threads: THREADS, source };
  for (const t of threads) t.worker.postMessage(job);
  const ready = await Promise.all(threads.map((t) => t.next()));
  // Started whatever they said, so that each answers this job before the next one.
  Atomics.store(flags, 0, 1);
  Atomics.notify(flags, 0);
  try {
    host?.(() => Atomics.load(flags, 1) === THREADS);
  } finally {
    const done = await Promise.all(threads.map((t) => t.next()));
    expect([...ready, ...done]).toEqual([...threads.map(() => 'ready'), ...threads.map(() => 'done')]);
  }
}

const u32 = (bytes: Uint8Array): number => new DataView(bytes.buffer, bytes.byteOffset).getUint32(0, true);
const keysOf = (map: BpfMap): number[] => [...map.keys()].map(u32).sort((a, b) => a - b);

describe('maps shared by worker threads and the host', () => {
  it('hash: concurrent updates and deletes of own and shared keys leave exactly the expected entries', async () => {
    const rounds = 200;
    for (let round = 0; round < ROUNDS; round++) {
      const vm = new Vm({ cpus: THREADS });
      const map = vm.createMap({ type: 'hash', keySize: 4, valueSize: 8, maxEntries: 1024 });
      // The host is thread THREADS: the same updates as the workers' task, with its own keys.
      const own = (j: number): number => 1000 * (THREADS + 1) + j;
      await race(vm, [map], 'hash', rounds, () => {
        for (let j = 0; j < rounds; j++) {
          map.update(own(j), BigInt(j));
          if (j % 2) map.delete(own(j));
          map.update(j % 8, BigInt(THREADS + 1));
        }
      });
      const expected = [0, 1, 2, 3, 4, 5, 6, 7];
      for (let t = 0; t <= THREADS; t++) {
        for (let j = 0; j < rounds; j += 2) expected.push(1000 * (t + 1) + j);
      }
      expect(keysOf(map)).toEqual(expected.sort((a, b) => a - b));
      for (const k of expected) {
        const value = map.lookupBigInt(k)!;
        if (k < 8) expect(value >= 1n && value <= BigInt(THREADS + 1)).toBe(true);
        else expect(value).toBe(BigInt(k % 1000));
      }
    }
  });

  it('hash: a host lookup racing updates of 64-byte values always sees one whole value', async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const vm = new Vm({ cpus: THREADS });
      const map = vm.createMap({ type: 'hash', keySize: 4, valueSize: 64, maxEntries: 4 });
      for (let k = 0; k < 4; k++) map.update(k, new Uint8Array(64));
      let looks = 0;
      const torn: number[][] = [];
      await race(vm, [map], 'torn', 1000, (done) => {
        // At least one pass: on a busy machine the workers may be done before this thread looks.
        do {
          for (let k = 0; k < 4; k++, looks++) {
            const v = map.lookup(k) as Uint8Array;
            if (v.some((b) => b !== v[0])) torn.push([...v]);
          }
        } while (!done());
      });
      expect(torn).toEqual([]);
      expect(looks).toBeGreaterThan(0);
    }
  });

  it('lru_hash: never more than maxEntries keys, each with its last value, and the keys updated last all kept', async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const vm = new Vm({ cpus: THREADS });
      const map = vm.createMap({ type: 'lru_hash', keySize: 4, valueSize: 8, maxEntries: 32 });
      await race(vm, [map], 'lru', 200);
      const keys = keysOf(map);
      expect(keys.length).toBeLessThanOrEqual(32);
      expect(new Set(keys).size).toBe(keys.length);
      // Exact LRU: after the barrier only the live keys were updated, so each is among the last 32.
      for (let t = 1; t <= THREADS; t++) expect(map.lookupBigInt(t)).toBe(200n);
      for (const k of keys) if (k > THREADS) expect(map.lookupBigInt(k)).toBe(BigInt(k % 1000));
    }
  });

  it('lpm_trie: concurrent inserts and deletes leave exactly the expected prefixes', async () => {
    const rounds = 100;
    for (let round = 0; round < ROUNDS; round++) {
      const vm = new Vm({ cpus: THREADS });
      const map = vm.createMap({ type: 'lpm_trie', keySize: 8, valueSize: 8, maxEntries: 512, flags: 1 });
      await race(vm, [map], 'lpm', rounds);
      const keys = [...map.keys()].map((k) => [...k].join('.')).sort();
      const expected = ['8.0.0.0.10.0.0.0'];
      for (let t = 1; t <= THREADS; t++) for (let j = 0; j < rounds; j += 2) expected.push(`24.0.0.0.10.${t}.${j}.0`);
      expect(keys).toEqual(expected.sort());
      for (let t = 1; t <= THREADS; t++) {
        expect(map.lookupBigInt(Uint8Array.of(32, 0, 0, 0, 10, t, 4, 9))).toBe(4n);
        expect(map.lookupBigInt(Uint8Array.of(32, 0, 0, 0, 10, t, 5, 9))).toBeGreaterThanOrEqual(1n);
      }
    }
  });

  it('array: each thread\'s slots hold its last writes', async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const vm = new Vm({ cpus: THREADS });
      const map = vm.createMap({ type: 'array', keySize: 4, valueSize: 8, maxEntries: 64 });
      await race(vm, [map], 'array', 100);
      for (let i = 0; i < 64; i++) {
        const t = Math.floor(i / 16);
        const last = (i % 16) + 16 * Math.floor((99 - (i % 16)) / 16);
        expect(map.lookupBigInt(i)).toBe(t < THREADS ? BigInt(last) : 0n);
      }
    }
  });

  it('percpu_hash: each CPU counts in its own copy and the host\'s sum is the total', async () => {
    const rounds = 400;
    for (let round = 0; round < ROUNDS; round++) {
      const vm = new Vm({ cpus: THREADS });
      const map = vm.createMap({ type: 'percpu_hash', keySize: 4, valueSize: 8, maxEntries: 8 });
      await race(vm, [map], 'percpu', rounds);
      for (let k = 0; k < 4; k++) expect(map.sum(k)).toBe(BigInt((THREADS * rounds) / 4));
      expect(() => vm.createMap({ type: 'percpu_hash', keySize: 4, valueSize: 3, maxEntries: 1 }).sum(0)).toThrow(/4- or 8-byte/);
    }
  });

  it('bpf_spin_lock: programs on every CPU (JIT and interpreter) increment one counter exactly', async () => {
    const rounds = 300;
    for (let round = 0; round < ROUNDS; round++) {
      const vm = new Vm({ cpus: THREADS });
      const map = vm.createMap({ type: 'hash', keySize: 4, valueSize: 16, maxEntries: 2, spinLockOffset: 4 });
      map.update(0, new Uint8Array(16));
      await race(vm, [map], 'spin', rounds, undefined, INCREMENT);
      const value = map.lookup(0) as Uint8Array;
      expect(new DataView(value.buffer).getBigUint64(8, true)).toBe(BigInt(THREADS * rounds));
    }
  });

  it('hash, percpu_hash: programs\' lock-free lookups of keys always present never miss while other keys in the same buckets churn', async () => {
    const rounds = 3000;
    for (let round = 0; round < ROUNDS; round++) {
      const vm = new Vm({ cpus: THREADS });
      // 8 buckets for 4 keys always present and up to 2 churning (the last worker's and the host's):
      // most churning keys share a bucket with one always present, and their elements, freed and
      // taken again, move between buckets under the readers.
      const map = vm.createMap({ type: round % 2 ? 'percpu_hash' : 'hash', keySize: 4, valueSize: 8, maxEntries: 8 });
      for (let k = 0; k < 4; k++) map.update(k, BigInt(1000 + k));
      await race(vm, [map], 'churn', rounds, () => {
        for (let j = 0; j < rounds; j++) {
          const k = 100 + (j % 8);
          map.update(k, 1n);
          map.update(k, 2n);
          map.delete(k);
        }
      }, PRESENT_LOOKUPS);
      expect(keysOf(map)).toEqual([0, 1, 2, 3]);
    }
  });
});
