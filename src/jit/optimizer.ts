/**
 * The optimizing tier's entry points. binaryen (binaryen.ts) is loaded only here, and only when asked
 * for: in this thread by `loadOptimizer()` (for `tier: 'optimized'`, which waits for the optimized
 * module as loading once did, and for dump-wasm's text), or in a worker thread that re-optimizes
 * programs that run hot (`optimizeInBackground`), so the thread running events never waits for it.
 */
import { InputError } from '../errors.js';
import { optimizeSettingsFor } from './optimize.js';

type Door = typeof import('./binaryen.js');

let door: Door | undefined;

/** Loads binaryen in this thread (once); afterwards `optimizeNow` and `binaryToText` work. */
export async function loadOptimizer(): Promise<void> {
  door ??= await import('./binaryen.js');
}

export const optimizerLoaded = (): boolean => door !== undefined;

function loaded(what: string): Door {
  if (!door) throw new InputError(`${what} needs binaryen in this thread: call (and await) loadOptimizer() from 'bpfjit' first`);
  return door;
}

/** binaryen's passes over a baseline module, in this thread; `insns` picks the pipeline (optimize.ts). */
export function optimizeNow(binary: Uint8Array, insns: number): Uint8Array<ArrayBuffer> {
  return loaded("tier: 'optimized'").optimizeBinary(binary, optimizeSettingsFor(insns));
}

/** A module's bytes as WebAssembly text; with `optimizeFor` (its instruction count), after binaryen's passes. */
export function binaryToText(binary: Uint8Array, optimizeFor?: number): string {
  const settings = optimizeFor === undefined ? undefined : optimizeSettingsFor(optimizeFor);
  return loaded('printing WebAssembly').binaryText(binary, settings);
}

/**
 * Shared memory the worker writes a result into, so the running thread can pick it up between two
 * runs without waiting for its event loop: status[0] 0 pending, 1 ready (status[1] bytes long), 2 not
 * written (too large, or failed).
 */
export interface Mailbox {
  readonly status: Int32Array;
  readonly bytes: Uint8Array;
}

interface Job {
  resolve(binary: Uint8Array<ArrayBuffer>): void;
  reject(error: Error): void;
}

/** The worker that optimizes in the background: one per process, started on first use, never keeping it alive. */
class BackgroundOptimizer {
  private worker: Promise<import('node:worker_threads').Worker> | undefined;
  private readonly jobs = new Map<number, Job>();
  private next = 0;

  async optimize(binary: Uint8Array, insns: number, mailbox: Mailbox | undefined): Promise<Uint8Array<ArrayBuffer>> {
    const worker = await (this.worker ??= this.start());
    const id = this.next++;
    const done = new Promise<Uint8Array<ArrayBuffer>>((resolve, reject) => this.jobs.set(id, { resolve, reject }));
    // A pending job keeps the process alive, so a caller awaiting it gets its answer.
    if (this.jobs.size === 1) worker.ref();
    worker.postMessage({ id, binary, insns, mailbox });
    return done;
  }

  /** One worker, however many callers ask at once (the promise is what they share). */
  private async start(): Promise<import('node:worker_threads').Worker> {
    const { Worker } = await import('node:worker_threads');
    const worker = new Worker(await workerUrl());
    worker.unref();
    worker.on('message', (msg: { id: number; binary?: Uint8Array<ArrayBuffer>; error?: string }) => this.settle(worker, msg));
    worker.on('error', (error) => this.failAll(error));
    worker.on('exit', () => {
      this.failAll(new Error('the optimizer worker exited'));
      this.worker = undefined;
    });
    return worker;
  }

  private settle(worker: import('node:worker_threads').Worker, msg: { id: number; binary?: Uint8Array<ArrayBuffer>; error?: string }): void {
    const job = this.jobs.get(msg.id);
    if (!job) return;
    this.jobs.delete(msg.id);
    if (this.jobs.size === 0) worker.unref();
    if (msg.binary) job.resolve(msg.binary);
    else job.reject(new Error(msg.error ?? 'the optimizer failed'));
  }

  private failAll(error: Error): void {
    for (const job of this.jobs.values()) job.reject(error);
    this.jobs.clear();
  }
}

/**
 * The worker's script: beside this module in dist/src/jit; from dist/src/jit when this module runs
 * from the bundle (dist/bundle, two levels down like src/jit) or from its TypeScript source under tests.
 */
async function workerUrl(): Promise<URL> {
  const here = new URL('./optimizer-worker.js', import.meta.url);
  const { existsSync } = await import('node:fs');
  const { fileURLToPath } = await import('node:url');
  return existsSync(fileURLToPath(here)) ? here : new URL('../../dist/src/jit/optimizer-worker.js', import.meta.url);
}

const background = new BackgroundOptimizer();

/** binaryen's passes over a baseline module, in the optimizer worker (the result also in `mailbox`, when given). */
export function optimizeInBackground(binary: Uint8Array, insns: number, mailbox?: Mailbox): Promise<Uint8Array<ArrayBuffer>> {
  return background.optimize(binary, insns, mailbox);
}
