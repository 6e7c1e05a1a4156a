/**
 * The messages between a worker pool (pool.ts) and its threads (worker.ts). Each worker is one CPU of
 * the Vm's memory; programs reach it as shares (ExecutableShare: the JIT's compiled module, never
 * recompiled) together with the maps they use (MapShare), before the first run that needs them.
 * Messages to one worker arrive in order, so a program is always there before its runs.
 */
import type { ErrorCode } from '../errors.js';
import type { MapShare } from '../maps/map.js';
import type { ExecutableShare } from '../runtime/executable.js';
import type { MemoryShare } from '../runtime/memory.js';
import type { PlacedBatch } from './events.js';

export interface WorkerInit {
  readonly cpu: number;
  readonly memory: MemoryShare;
  /** A module to import in the worker for its helpers (PoolOptions.helpers), as a URL string. */
  readonly helperModule: string | undefined;
  /** The Vm's helpers (id, name): the worker's registry must have exactly these. */
  readonly helperIds: ReadonlyArray<readonly [number, string]>;
  /** The Vm forwards bpf_trace_printk's text to a sink: the worker sends it on. */
  readonly printk: boolean;
  /** The Vm has these host callbacks (VmOptions): the helper module must export them too. */
  readonly current: boolean;
  readonly probeRead: boolean;
}

export type ToWorker =
  | { readonly type: 'program'; readonly key: number; readonly share: ExecutableShare; readonly maps: readonly MapShare[] }
  /** The tail-call registry: program ids (what prog_array slots hold) and the program keys that serve them. */
  | { readonly type: 'tails'; readonly entries: ReadonlyArray<readonly [number, number]> }
  | { readonly type: 'run'; readonly job: number; readonly key: number; readonly batch: PlacedBatch };

/** An error as it crosses threads. */
export interface ErrorData {
  readonly code: ErrorCode | undefined;
  readonly pc: number;
  readonly message: string;
}

export type FromWorker =
  | { readonly type: 'ready' }
  | { readonly type: 'init-failed'; readonly error: ErrorData }
  | { readonly type: 'done'; readonly job: number }
  | { readonly type: 'failed'; readonly job: number; readonly error: ErrorData }
  | { readonly type: 'printk'; readonly text: string };
