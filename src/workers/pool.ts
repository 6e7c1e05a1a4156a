/**
 * A pool of worker threads over one Vm's memory (docs/architecture.md, "Worker threads"): worker i is
 * CPU i. Programs reach a worker as shares (the JIT's compiled WebAssembly.Module, instantiated there
 * over the same shared memory), with their maps, before their first run there. Events are placed in
 * the shared memory by this thread, and each worker runs its part of a batch with the batch entry
 * point, writing results to memory: per batch one message each way, nothing per event.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { resolve } from 'node:path';
import { InputError, InternalError, WorkerError } from '../errors.js';
import { JitExecutable } from '../jit/instance.js';
import { DEFAULT_HOT_RUNS } from '../jit/index.js';
import { mapAtAddress } from '../maps/map-base.js';
import type { HelperRegistry } from '../runtime/helpers.js';
import type { EngineMemory } from '../runtime/memory.js';
import type { Executable } from '../runtime/executable.js';
import { heldPrograms } from '../runtime/tail-call.js';
import type { TracePrintkSink } from '../helpers/index.js';
import type { LoadedProgram } from '../vm.js';
import { batchBytes, placeEvents, type PlacedBatch } from './events.js';
import type { ErrorData, FromWorker, ToWorker, WorkerInit } from './protocol.js';
import { Arenas } from './arenas.js';

export type { PlacedBatch } from './events.js';

export interface PoolOptions {
  /**
   * A module each worker imports for the Vm's host-defined helpers: it exports `helpers` (and
   * `current`, `probeRead` where the Vm has them), the VmOptions it was created with. Helpers run in
   * the worker that calls them, at the speed of a helper call; the pool checks that every worker has
   * exactly the Vm's helpers. A path or a file: URL.
   */
  helpers?: string | URL;
  /** Called when a worker thread dies: its runs in progress fail with this error, and a new thread takes its CPU. */
  onWorkerExit?: (error: WorkerError) => void;
}

/** What a pool needs of its Vm. */
export interface PoolHost {
  readonly mem: EngineMemory;
  readonly helpers: HelperRegistry;
  readonly tracePrintk: TracePrintkSink | undefined;
  readonly current: boolean;
  readonly probeRead: boolean;
}

interface Pending {
  resolve(): void;
  reject(error: Error): void;
}

/** One worker thread: CPU `cpu`, and what it has been sent. */
class Slot {
  readonly pending = new Map<number, Pending>();
  /** Program keys sent, with the module sent (a program that tiers up is sent again). */
  readonly programs = new Map<number, WebAssembly.Module | undefined>();
  readonly maps = new Set<number>();
  tails = '';
  ready: Promise<void>;
  failure: Error | undefined;

  constructor(readonly cpu: number, readonly worker: Worker, onMessage: (slot: Slot, msg: FromWorker) => void) {
    this.ready = new Promise((resolve, reject) => {
      worker.on('message', (msg: FromWorker) => {
        if (msg.type === 'ready') resolve();
        else if (msg.type === 'init-failed') reject(workerError(cpu, msg.error));
        else onMessage(this, msg);
      });
      worker.once('exit', () => reject(new WorkerError('E_WORKER', cpu, -1, 'the worker thread exited before it was ready')));
    });
    this.ready.catch(() => undefined);
  }

  post(msg: ToWorker): void {
    this.worker.postMessage(msg);
  }
}

function workerError(cpu: number, e: ErrorData): WorkerError {
  return new WorkerError(e.code ?? 'E_RUN_HELPER', cpu, e.pc, e.message);
}

/** The worker's script: the bundle's (dist/bundle/workers/worker.js), else the compiled module beside this one. */
function workerScript(): URL {
  const candidates = [
    new URL('./workers/worker.js', import.meta.url), // from a chunk of dist/bundle
    new URL('../../dist/bundle/workers/worker.js', import.meta.url), // from src/workers (tests) or dist/bundle/workers
    new URL('./worker.js', import.meta.url), // from dist/src/workers
  ];
  const found = candidates.find((url) => existsSync(fileURLToPath(url)));
  if (!found) throw new InputError('the worker script (dist/bundle/workers/worker.js) is missing: run `npm run build`');
  return found;
}

export class WorkerPool {
  private readonly slots: Slot[] = [];
  private readonly keys = new WeakMap<Executable, number>();
  private nextKey = 1;
  private nextJob = 1;
  /** Runs sent and not yet settled: close() waits for them. */
  private readonly running = new Set<Promise<void>>();
  private closing = false;
  private readonly arenas: Arenas;
  /** Events each 'auto' JIT program ran in the pool: at DEFAULT_HOT_RUNS it is optimized (instance.ts). */
  private readonly hot = new Map<number, number>();
  private readonly script = workerScript();

  private constructor(private readonly host: PoolHost, readonly size: number, private readonly options: PoolOptions) {
    this.arenas = new Arenas(host.mem);
  }

  /** Starts `size` workers (default: os.availableParallelism()), CPUs 0..size-1; resolves once all are ready. */
  static async start(host: PoolHost, size = availableParallelism(), options: PoolOptions = {}): Promise<WorkerPool> {
    if (!Number.isInteger(size) || size < 1 || size > host.mem.cpus) {
      throw new InputError(`a pool of ${size} workers needs a Vm with at least as many CPUs (this one has ${host.mem.cpus}: new Vm({ cpus: ${Number.isInteger(size) && size > 0 ? size : 'N'} }))`);
    }
    const pool = new WorkerPool(host, size, options);
    for (let cpu = 0; cpu < size; cpu++) pool.slots.push(pool.spawn(cpu));
    try {
      await Promise.all(pool.slots.map((s) => s.ready));
    } catch (error) {
      await pool.close();
      throw error;
    }
    return pool;
  }

  private spawn(cpu: number): Slot {
    const { helpers } = this.options;
    const init: WorkerInit = {
      cpu, memory: this.host.mem.share(), helperModule: helpers === undefined ? undefined : moduleUrl(helpers),
      helperIds: this.host.helpers.all().map((s) => [s.id, s.name] as const), printk: this.host.tracePrintk !== undefined,
      current: this.host.current, probeRead: this.host.probeRead,
    };
    const worker = new Worker(this.script, { workerData: init });
    const slot = new Slot(cpu, worker, (s, msg) => this.onMessage(s, msg));
    worker.on('error', (error) => (slot.failure = error));
    worker.once('exit', (code) => this.onExit(slot, code));
    return slot;
  }

  private onMessage(slot: Slot, msg: FromWorker): void {
    if (msg.type === 'printk') return this.host.tracePrintk?.(msg.text, slot.cpu);
    if (msg.type !== 'done' && msg.type !== 'failed') return;
    const pending = slot.pending.get(msg.job);
    if (!pending) return;
    slot.pending.delete(msg.job);
    if (msg.type === 'done') pending.resolve();
    else pending.reject(workerError(slot.cpu, msg.error));
  }

  /** A worker died: its runs fail, and (unless the pool is closing) a new thread takes its CPU. */
  private onExit(slot: Slot, code: number): void {
    if (this.closing || this.slots[slot.cpu] !== slot) return;
    const cause = slot.failure ? `: ${slot.failure.message}` : '';
    const error = new WorkerError('E_WORKER', slot.cpu, -1, `the worker thread exited (code ${code})${cause}; a new thread takes its place`);
    for (const p of slot.pending.values()) p.reject(error);
    slot.pending.clear();
    this.slots[slot.cpu] = this.spawn(slot.cpu);
    this.options.onWorkerExit?.(error);
  }

  /** Runs a batch already placed in memory (PlacedBatch) on one worker: CPU `cpu`. */
  runOn(cpu: number, prog: LoadedProgram, batch: PlacedBatch): Promise<void> {
    let slot: Slot;
    try {
      slot = this.slotFor(cpu);
    } catch (error) {
      return Promise.reject(error);
    }
    // Counted from the call on, so that a close() right after it waits for this run.
    const run = slot.ready.then(() => this.send(slot, prog, batch));
    const settled = (): boolean => this.running.delete(run);
    this.running.add(run);
    run.then(settled, settled);
    return run;
  }

  private send(slot: Slot, prog: LoadedProgram, batch: PlacedBatch): Promise<void> {
    this.ship(slot, prog, batch.count);
    const job = this.nextJob++;
    return new Promise<void>((resolve, reject) => {
      slot.pending.set(job, { resolve, reject });
      slot.post({ type: 'run', job, key: this.keyOf(prog.exe), batch });
    });
  }

  /** Splits a placed batch into one contiguous part per worker; resolves when all are done (rejects with the first failure, by CPU). */
  async runPlaced(prog: LoadedProgram, batch: PlacedBatch): Promise<void> {
    const parts = Math.min(this.size, batch.count);
    const runs: Promise<void>[] = [];
    for (let i = 0, from = 0; i < parts; i++) {
      const count = Math.floor(batch.count / parts) + (i < batch.count % parts ? 1 : 0);
      runs.push(this.runOn(i, prog, { ...batch, base: batch.base + from * batch.stride, count, results: batch.results + 8 * from }));
      from += count;
    }
    const settled = await Promise.allSettled(runs);
    const failed = settled.find((s) => s.status === 'rejected');
    if (failed) throw failed.reason;
  }

  /**
   * Runs `prog` once per event, the events split across the workers; resolves with every r0, in the
   * events' order. Each event is what LoadedProgram.run takes (a packet for packet contexts).
   */
  async runBatch(prog: LoadedProgram, events: readonly Uint8Array[]): Promise<BigUint64Array> {
    return this.withEvents(prog, events, (batch) => this.runPlaced(prog, batch));
  }

  /**
   * Runs a sequence of batches, each whole on one worker, keeping every worker busy (two batches in
   * flight per worker); yields each batch's results in the batches' order.
   */
  async *stream(prog: LoadedProgram, batches: Iterable<readonly Uint8Array[]> | AsyncIterable<readonly Uint8Array[]>): AsyncGenerator<BigUint64Array> {
    const inFlight: Promise<BigUint64Array>[] = [];
    for await (const events of batches) {
      const run = this.withEvents(prog, events, (batch) => this.runOn(this.leastBusy(), prog, batch));
      run.catch(() => undefined); // awaited in order below; a failure must not go unhandled meanwhile
      inFlight.push(run);
      if (inFlight.length >= 2 * this.size) yield await inFlight.shift()!;
    }
    while (inFlight.length > 0) yield await inFlight.shift()!;
  }

  /** Ends every worker once the runs in progress are done; the pool takes no more runs. */
  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    await Promise.allSettled(this.running);
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }

  private async withEvents(prog: LoadedProgram, events: readonly Uint8Array[], run: (batch: PlacedBatch) => Promise<void>): Promise<BigUint64Array> {
    this.checkProgram(prog);
    if (events.length === 0) return new BigUint64Array(0);
    const arena = this.arenas.acquire(batchBytes(prog.context, events));
    try {
      const batch = placeEvents(this.host.mem, arena.addr, prog.context, events);
      await run(batch);
      return new BigUint64Array(this.host.mem.refresh().buffer, batch.results, batch.count).slice();
    } finally {
      this.arenas.release(arena);
    }
  }

  private checkProgram(prog: LoadedProgram): void {
    if (this.closing) throw new InputError('the pool is closed');
    if (prog.mem !== this.host.mem) throw new InputError('the program was loaded into another Vm than the pool\'s');
  }

  private slotFor(cpu: number): Slot {
    if (this.closing) throw new InputError('the pool is closed');
    const slot = this.slots[cpu];
    if (!Number.isInteger(cpu) || !slot) throw new InputError(`cpu ${cpu} is not a worker of this pool (0..${this.size - 1})`);
    return slot;
  }

  private leastBusy(): number {
    let best = 0;
    for (const s of this.slots) if (s.pending.size < this.slots[best]!.pending.size) best = s.cpu;
    return best;
  }

  private keyOf(exe: Executable): number {
    let key = this.keys.get(exe);
    if (key === undefined) this.keys.set(exe, (key = this.nextKey++));
    return key;
  }

  /** Sends the programs a run needs that the worker lacks: the program, the ones prog_array slots hold, their maps. */
  private ship(slot: Slot, prog: LoadedProgram, events: number): void {
    this.sendProgram(slot, prog.exe);
    const entries = [...heldPrograms(this.host.mem)].map(([id, exe]) => [id, this.sendProgram(slot, exe as Executable)] as const);
    const tails = entries.join(';');
    if (tails !== slot.tails) {
      slot.post({ type: 'tails', entries });
      slot.tails = tails;
    }
    this.countHot(prog, events);
  }

  private sendProgram(slot: Slot, exe: Executable): number {
    const key = this.keyOf(exe);
    const share = exe.share();
    const module = share.jit?.module;
    if (slot.programs.has(key) && slot.programs.get(key) === module) return key;
    const maps = share.maps.filter((a) => !slot.maps.has(a)).map((address) => {
      const map = mapAtAddress(this.host.mem, address);
      if (!map) throw new InternalError(`a program's map at 0x${address.toString(16)} is not in the memory's registry`);
      slot.maps.add(address);
      return map.share();
    });
    slot.post({ type: 'program', key, share, maps });
    slot.programs.set(key, module);
    return key;
  }

  /** An 'auto' JIT program hot in the pool is optimized here, and the workers get the new module with their next run. */
  private countHot(prog: LoadedProgram, events: number): void {
    const exe = prog.exe;
    if (!(exe instanceof JitExecutable) || !exe.tiersUp) return;
    const key = this.keyOf(exe);
    const seen = (this.hot.get(key) ?? 0) + events;
    this.hot.set(key, seen);
    if (seen >= DEFAULT_HOT_RUNS && seen - events < DEFAULT_HOT_RUNS) void prog.optimize().catch(() => undefined);
  }
}

/** A helper module named by a path (relative to the working directory) or a URL. */
function moduleUrl(spec: string | URL): string {
  if (spec instanceof URL) return spec.href;
  return spec.startsWith('file:') ? spec : pathToFileURL(resolve(spec)).href;
}
