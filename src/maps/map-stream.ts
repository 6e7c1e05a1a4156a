/**
 * What the maps programs stream records through (ring buffers, ringbuf.ts, and perf event arrays,
 * perf.ts) share on the host: no keyed commands (the kernel answers them with an error), and an
 * async iterator that sleeps on the map's wake word (Atomics.waitAsync) until a producer wakes it.
 */
import { MapError } from '../errors.js';
import { BpfMap } from './map-keyed.js';

export interface PollOptions {
  /**
   * The longest the iteration sleeps (ms) before it looks again when there is no record; default: as
   * long as it takes a producer to wake it. A ring buffer record submitted with BPF_RB_NO_WAKEUP
   * wakes nobody (as in the kernel, whose readers then poll with a timeout): give one to see it.
   */
  readonly timeoutMs?: number;
  /** Ends the iteration (without an error) when aborted. */
  readonly signal?: AbortSignal;
}

type WaitAsyncResult = { async: false; value: 'not-equal' | 'timed-out' } | { async: true; value: Promise<'ok' | 'timed-out'> };
/** Atomics.waitAsync (Node 20 has it; the ES2022 lib this project builds with does not declare it). */
const waitAsync = (Atomics as unknown as { waitAsync: (a: Int32Array, index: number, value: number) => WaitAsyncResult }).waitAsync;

/**
 * Sleeps until a producer wakes the reader, without polling: sets the wake word (`words[index]`, a
 * u32 of the map's control block) to 1, looks once more with `ready`, and waits for the word to
 * change (Atomics.waitAsync). A producer that publishes a record reads the word after it, and when it
 * is 1 clears it and notifies (the map operations' wake_impl); both sides use sequentially consistent
 * atomics, so either the last look sees the record or the producer sees the word. Resolves true
 * when woken or when there are records, false when `timeoutMs` passed or the signal aborted.
 * The word stays 1 after a last look that found records: at worst one needless wake-up later.
 *
 * A pending Atomics.waitAsync does not keep Node's event loop alive (the producing threads do); a
 * timeout does: it is a timer, which wakes the sleeper through the word as an abort does. Either
 * wakes every reader sleeping on that word; the others look, find nothing and sleep again.
 */
export async function sleepOn(words: Int32Array, index: number, ready: () => boolean, timeoutMs = Infinity, signal?: AbortSignal): Promise<boolean> {
  if (ready()) return true;
  if (signal?.aborted || timeoutMs <= 0) return false;
  Atomics.store(words, index, 1);
  if (ready()) return true;
  const result = waitAsync(words, index, 1);
  if (!result.async) return true; // a producer cleared the word before the wait began
  let ended = false;
  const end = (): void => {
    ended = true;
    Atomics.notify(words, index);
  };
  const timer = Number.isFinite(timeoutMs) ? setTimeout(end, timeoutMs) : undefined;
  signal?.addEventListener('abort', end, { once: true });
  try {
    await result.value;
    return !ended;
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener('abort', end);
  }
}

/**
 * Every record `take` hands over, forever (until the loop breaks or the signal aborts): `take` gives
 * one record or undefined when there is none yet, and then `sleep` waits for a producer (sleepOn),
 * so records a loop that stops early never saw stay in the buffer.
 */
export async function* poll<T>(
  take: () => T | undefined,
  sleep: (timeoutMs: number | undefined, signal: AbortSignal | undefined) => Promise<boolean>,
  options: PollOptions = {},
): AsyncGenerator<T, void, undefined> {
  for (;;) {
    if (options.signal?.aborted) return;
    const record = take();
    if (record !== undefined) {
      yield record;
      continue;
    }
    await sleep(options.timeoutMs, options.signal);
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
