/**
 * What the maps programs stream records through (ring buffers, ringbuf.ts, and perf event arrays,
 * perf.ts) share on the host: no keyed commands (the kernel answers them with an error), and an
 * async iterator that polls for the next record.
 */
import { MapError } from '../errors.js';
import { BpfMap } from './map-keyed.js';

export interface PollOptions {
  /**
   * Milliseconds to wait before looking again when the buffer is empty (setTimeout); 0 looks again
   * on the next turn of the event loop (setImmediate). Default 1.
   */
  readonly pollMs?: number;
  /** Ends the iteration (without an error) when aborted. */
  readonly signal?: AbortSignal;
}

function wait(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = (): void => {
      signal?.removeEventListener('abort', done);
      if (ms === 0) clearImmediate(immediate);
      else clearTimeout(timer);
      resolve();
    };
    const immediate = ms === 0 ? setImmediate(done) : undefined;
    const timer = ms === 0 ? undefined : setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

/**
 * Every record `take` hands over, forever (until the loop breaks or the signal aborts): `take` gives
 * one record or undefined when there is none yet, so records a loop that stops early never saw stay
 * in the buffer.
 */
export async function* poll<T>(take: () => T | undefined, options: PollOptions = {}): AsyncGenerator<T, void, undefined> {
  const pollMs = options.pollMs ?? 1;
  for (;;) {
    if (options.signal?.aborted) return;
    const record = take();
    if (record !== undefined) {
      yield record;
      continue;
    }
    await wait(pollMs, options.signal);
  }
}

/** The kernel's ENOTSUPP (524): what a ring buffer answers to lookup, update, delete and next key. */
const ENOTSUPP = 'ENOTSUPP';

/** A map without keyed commands: lookup, update, delete, keys, next key (and so the batches) and clear fail with `errno`. */
export abstract class StreamMap extends BpfMap<never> {
  protected abstract readonly what: string;
  protected readonly errno: string = ENOTSUPP;

  private unsupported(op: string): MapError {
    return new MapError(this.errno, `${this.label}: ${op}: ${this.what} (${this.errno})`);
  }

  override lookup(): undefined {
    throw this.unsupported('lookup');
  }

  override update(): void {
    throw this.unsupported('update');
  }

  override delete(): void {
    throw this.unsupported('delete');
  }

  // eslint-disable-next-line require-yield
  override *keys(): IterableIterator<Uint8Array> {
    throw this.unsupported('keys');
  }

  override clear(): void {
    throw this.unsupported('clear');
  }

  override nextKey(): undefined {
    throw this.unsupported('next key');
  }
}
