// A worker thread of test/maps-threads.test.ts, CPU `cpu` of the test's Vm. For each job posted
// to it: attaches a Vm to the job's memory and maps, says it is ready, waits for the start signal
// (so that every thread runs at once), runs the job's task and says it is done.
import { parentPort, workerData } from 'node:worker_threads';

const { Vm, attachMap, mapOperations, memory } = await import(workerData.index);
const { cpu } = workerData;
let vm, maps, sync, job, rounds;

/** Keys of this thread alone. */
const own = (j) => 1000 * (cpu + 1) + j;
const tolerate = (f, errno) => {
  try {
    f();
  } catch (e) {
    if (e.errno !== errno) throw e;
  }
};

const TASKS = {
  // Own keys (every odd one deleted again), shared keys 0..7 (everyone writes its id), and keys
  // 100..103 that everyone updates then deletes.
  hash() {
    const [map] = maps;
    for (let j = 0; j < rounds; j++) {
      map.update(own(j), BigInt(j));
      if (j % 2) map.delete(own(j));
      map.update(j % 8, BigInt(cpu + 1));
      const k = 100 + (j % 4);
      map.update(k, 1n);
      tolerate(() => map.delete(k), 'ENOENT');
    }
  },
  // Values of one byte repeated, a different byte each update, while the host reads.
  torn() {
    const [map] = maps;
    for (let j = 0; j < rounds; j++) {
      for (let k = 0; k < 4; k++) map.update(k, new Uint8Array(map.valueSize).fill(1 + ((cpu * 64 + j) % 255)));
    }
  },
  // Counters in this CPU's copies: created by whoever comes first (the others see EEXIST).
  percpu() {
    const [map] = maps;
    const ops = mapOperations(vm.mem);
    const scratch = vm.mem.alloc(16, 8);
    const at = BigInt(map.address);
    for (let j = 0; j < rounds; j++) {
      const k = j % 4;
      vm.mem.view.setUint32(scratch, k, true);
      let value = ops.percpu_hash_lookup(at, BigInt(scratch), BigInt(cpu));
      if (value === 0n) {
        const rc = ops.percpu_hash_update(at, BigInt(scratch), BigInt(scratch + 8), 1n, BigInt(cpu));
        if (rc !== 0n && rc !== -17n) throw new Error(`percpu update: ${rc}`);
        value = ops.percpu_hash_lookup(at, BigInt(scratch), BigInt(cpu));
      }
      const a = Number(value);
      vm.mem.view.setBigUint64(a, vm.mem.view.getBigUint64(a, true) + 1n, true);
    }
  },
  // A program that increments a counter under bpf_spin_lock, run on this CPU.
  spin() {
    const program = vm.load(job.source, { maps, context: memory(0), ...(cpu % 2 ? { engine: 'interp' } : {}) });
    for (let j = 0; j < rounds; j++) program.run(new Uint8Array(0), cpu);
  },
  // Own keys churning an LRU map, and a "live" key updated at every step; then, once every
  // thread is through, the live key once more.
  lru() {
    const [map] = maps;
    for (let j = 0; j < rounds; j++) {
      map.update(own(j), BigInt(j));
      map.update(cpu + 1, BigInt(j));
    }
    Atomics.add(sync, 2, 1);
    while (Atomics.load(sync, 2) < job.threads) Atomics.wait(sync, 2, Atomics.load(sync, 2), 1);
    map.update(cpu + 1, BigInt(rounds));
  },
  // Prefixes 10.cpu.j.0/24 (every odd one deleted again) and 10.0.0.0/8 by everyone.
  lpm() {
    const [map] = maps;
    const key = (len, a, b, c) => Uint8Array.of(len, 0, 0, 0, 10, a, b, c);
    for (let j = 0; j < rounds; j++) {
      map.update(key(24, cpu + 1, j, 0), BigInt(j));
      if (j % 2) map.delete(key(24, cpu + 1, j, 0));
      map.update(key(8, 0, 0, 0), BigInt(cpu + 1));
    }
  },
  // The last CPU inserts, replaces and deletes its own keys, again and again; the others run a
  // program (CPU 0 JIT-compiled, CPU 1 interpreted) looking up the keys that stay in the map until
  // it is through. Each run returns how many of those lookups missed or found a wrong value.
  churn() {
    const [map] = maps;
    if (cpu === job.threads - 1) {
      for (let j = 0; j < rounds; j++) {
        const k = own(j % 8);
        map.update(k, 1n);
        map.update(k, 2n);
        map.delete(k);
      }
      Atomics.store(sync, 3, 1);
      return;
    }
    const program = vm.load(job.source, { maps, context: memory(0), ...(cpu % 2 ? { engine: 'interp' } : {}) });
    let runs = 0;
    let misses = 0n;
    while (Atomics.load(sync, 3) === 0 || runs < 100) {
      misses += program.run(new Uint8Array(0), cpu);
      runs++;
    }
    if (misses) throw new Error(`${misses} lookups of always-present keys missed, in ${runs} runs`);
  },
  // Array slots cpu * 16 .. cpu * 16 + 15, each written again and again.
  array() {
    const [map] = maps;
    for (let j = 0; j < rounds; j++) map.update(cpu * 16 + (j % 16), BigInt(j));
  },
};

parentPort.on('message', (posted) => {
  job = posted;
  rounds = job.rounds;
  vm = new Vm({ memory: job.mem });
  maps = job.maps.map((share) => attachMap(vm.mem, share));
  sync = new Int32Array(job.sync);
  parentPort.postMessage('ready');
  Atomics.wait(sync, 0, 0);
  try {
    TASKS[job.task]();
    parentPort.postMessage('done');
  } catch (e) {
    parentPort.postMessage(`failed: ${e.errno ?? e.code ?? ''} ${e.stack}`);
  }
  Atomics.add(sync, 1, 1);
});
parentPort.postMessage('started');
