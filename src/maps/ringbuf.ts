/**
 * The consumer side of a ring buffer (BPF_MAP_TYPE_RINGBUF), as libbpf's ring_buffer__consume reads
 * the kernel's: from the consumer position up to the producer position, record by record, it hands
 * over each committed record, skips discarded ones, stops at one still BUSY (reserved, not yet
 * submitted or discarded), and moves the consumer position past the records it is done with, which
 * frees the space for producers. The producers are the WebAssembly operations (ops-ringbuf.ts), on
 * any thread, which only ever read the consumer position; this is the only code that writes it.
 * Positions and record headers are read and the consumer position written with atomics, as the
 * producers publish them. Layout: layout.ts (RB_CTL). RingBuf, at the end, is the map's host class
 * (createMap makes one for the type 'ringbuf').
 */
import { MapError } from '../errors.js';
import type { EngineMemory } from '../runtime/memory.js';
import type { MapShare } from './map-base.js';
import { H, RB_BUSY, RB_CTL, RB_DISCARD, RB_HDR_SIZE } from './layout.js';
import { StreamMap, poll, sleepOn, type PollOptions } from './map-stream.js';

export type { PollOptions } from './map-stream.js';
import { BPF_RB_AVAIL_DATA, BPF_RB_CONS_POS, BPF_RB_PROD_POS } from './ops-ringbuf.js';
import type { ValidSpec } from './spec.js';

/** Where a ring buffer lives: its control block (positions), its data (2 * size bytes), and a view for atomics. */
export interface RingView {
  readonly mem: EngineMemory;
  readonly header: number;
  /** The control block (RB_CTL). */
  readonly ctl: number;
  readonly data: number;
  /** The data size in bytes: a power of 2. */
  readonly size: number;
  /** The memory as i32s; made once (reading a shared memory's buffer costs an object each time), it covers the ring. */
  readonly words: Int32Array;
}

/** What a consume callback gets: a copy of the record's bytes. Returning false stops after this record. */
export type RecordCallback = (record: Uint8Array) => unknown;

/**
 * What consumeRaw's callback gets, with no copy: the engine memory's bytes and where the record's
 * data lies in them, memory[offset, offset + length). Valid only until the callback returns: the
 * space is then free for producers. Returning false stops after this record.
 */
export type RawRecordCallback = (memory: Uint8Array, offset: number, length: number) => unknown;

/**
 * The walk both consume forms share: gives each committed record's data (address, length) to `give`
 * until it returns true (stop) or `max` were given; returns how many. Discarded records are skipped
 * (and freed); a BUSY record stops the walk, as everything after it must wait for it. The consumer
 * position is stored when the walk ends (also when `give` throws: that record counts as handed over)
 * and every quarter of the buffer on the way, not after each record: each store takes the line the
 * producers read it from away from them.
 */
function walk(ring: RingView, give: (at: number, length: number) => boolean, max: number): number {
  const { words, size } = ring;
  const consAt = (ring.ctl + RB_CTL.CONS) >> 2;
  const prodAt = (ring.ctl + RB_CTL.PROD) >> 2;
  const mask = size - 1;
  let cons = Atomics.load(words, consAt) >>> 0;
  let stored = cons;
  let prod = cons;
  let count = 0;
  try {
    while (count < max) {
      if (cons === prod && (prod = Atomics.load(words, prodAt) >>> 0) === cons) break;
      const rec = ring.data + (cons & mask);
      const len = Atomics.load(words, rec >> 2);
      if ((len & RB_BUSY) !== 0) break;
      const length = len & ~(RB_BUSY | RB_DISCARD);
      const total = (length + RB_HDR_SIZE + 7) & ~7;
      // Only an unverified program writing over a header can get here: refuse to read past what was produced.
      if (total > ((prod - cons) >>> 0)) {
        throw new MapError('EINVAL', `ring buffer at 0x${ring.header.toString(16)}: the record at position ${cons} claims ${length} bytes, more than were produced`);
      }
      cons = (cons + total) >>> 0;
      if ((len & RB_DISCARD) === 0) {
        count++;
        if (give(rec + RB_HDR_SIZE, length)) break;
      }
      if (((cons - stored) >>> 0) >= size >>> 2) Atomics.store(words, consAt, (stored = cons) | 0);
    }
  } finally {
    if (cons !== stored) Atomics.store(words, consAt, cons | 0);
  }
  return count;
}

/** Hands over up to `max` committed records in order, each a copy; returns how many (see walk). */
export function consumeRecords(ring: RingView, callback: RecordCallback, max = Infinity): number {
  const bytes = ring.mem.bytes;
  return walk(ring, (at, length) => callback(bytes.slice(at, at + length)) === false, max);
}

/** Hands over up to `max` committed records in order, in place (RawRecordCallback); returns how many. */
export function consumeRaw(ring: RingView, callback: RawRecordCallback, max = Infinity): number {
  const bytes = ring.mem.bytes;
  return walk(ring, (at, length) => callback(bytes, at, length) === false, max);
}

/** Whether a record (committed or discarded) is at the consumer position. */
function ready(ring: RingView): boolean {
  const { words } = ring;
  const cons = Atomics.load(words, (ring.ctl + RB_CTL.CONS) >> 2);
  if (cons === Atomics.load(words, (ring.ctl + RB_CTL.PROD) >> 2)) return false;
  return (Atomics.load(words, (ring.data + (cons & (ring.size - 1))) >> 2) & RB_BUSY) === 0;
}

/** Sleeps on the ring's wake word until a commit wakes it (sleepOn); true when woken, false after `timeoutMs`. */
export function waitRecords(ring: RingView, timeoutMs?: number, signal?: AbortSignal): Promise<boolean> {
  return sleepOn(ring.words, (ring.ctl + RB_CTL.WAITING) >> 2, () => ready(ring), timeoutMs, signal);
}

/**
 * Every record, as it is committed, forever (until the loop breaks or the signal aborts): takes one
 * record at a time, so records a loop that stops early never saw stay in the buffer.
 */
export function pollRecords(ring: RingView, options: PollOptions = {}): AsyncGenerator<Uint8Array, void, undefined> {
  return poll(() => {
    let record: Uint8Array | undefined;
    consumeRecords(ring, (r) => { record = r; }, 1);
    return record;
  }, (timeoutMs, signal) => waitRecords(ring, timeoutMs, signal), options);
}

/**
 * A ring buffer (BPF_MAP_TYPE_RINGBUF, maxEntries = its size in bytes): programs reserve, submit,
 * discard and output records (the helpers 130-134, ringbuf-helpers.ts), on any thread sharing the
 * memory; the host consumes them in order with consume() (copies), consumeRaw() (in place), or
 * `for await (const record of ringbuf)`, and sleeps until records come with wait().
 * It has no keys: lookup, update, delete, keys and clear fail with ENOTSUPP, as in the kernel.
 */
export class RingBuf extends StreamMap {
  private readonly ring: RingView;
  protected readonly what = 'a ring buffer has no keys';

  constructor(mem: EngineMemory, spec: ValidSpec, attached?: MapShare) {
    super(mem, spec, attached);
    const ctl = mem.view.getUint32(this.address + H.ELEMS, true);
    this.ring = { mem, header: this.address, ctl, data: this.valueRegion.start, size: spec.maxEntries, words: new Int32Array(mem.buffer) };
  }

  /**
   * Calls `callback` with a copy of each committed record, in order, and frees them; discarded
   * records are skipped, and a record still reserved (not yet submitted or discarded) stops it, as
   * everything after it waits for it. Returns the number of records handed over; a callback
   * returning false stops after its record.
   */
  consume(callback: RecordCallback): number {
    return consumeRecords(this.ring, callback);
  }

  /**
   * As consume, without a copy: the callback gets the engine memory's bytes and the record's offset
   * and length in them, valid until it returns (RawRecordCallback). The fast path: no allocation
   * per record.
   */
  consumeRaw(callback: RawRecordCallback): number {
    return consumeRaw(this.ring, callback);
  }

  /**
   * Resolves once there is a record to consume: at once if there is one, else when a producer's
   * submit wakes the consumer (ops-ringbuf.ts: the commit of the record the consumer waits at, or any
   * under BPF_RB_FORCE_WAKEUP; none under BPF_RB_NO_WAKEUP), with Atomics.waitAsync, no polling.
   * True when woken or records are there; false when `timeoutMs` passed (or the signal aborted).
   */
  wait(timeoutMs?: number, signal?: AbortSignal): Promise<boolean> {
    return waitRecords(this.ring, timeoutMs, signal);
  }

  /** Every record as it is committed, sleeping (wait) while the buffer is empty (PollOptions); see consume. */
  records(options?: PollOptions): AsyncGenerator<Uint8Array, void, undefined> {
    return pollRecords(this.ring, options);
  }

  [Symbol.asyncIterator](): AsyncGenerator<Uint8Array, void, undefined> {
    return this.records();
  }

  /**
   * Records a reserve (NULL) or an output (-EAGAIN) refused for lack of room since creation, modulo
   * 2^32: bpfjit's count; the kernel keeps none. Counted once per failed call, by every thread.
   */
  get dropped(): number {
    return Atomics.load(this.ring.words, (this.ring.ctl + RB_CTL.DROPPED) >> 2) >>> 0;
  }

  /** The ring buffer's size in bytes. */
  get size(): number {
    return this.maxEntries;
  }

  /** Bytes between the consumer and the producer position: records not consumed yet, reserved ones too (bpf_ringbuf_query's BPF_RB_AVAIL_DATA). */
  get availableData(): number {
    return this.query(BPF_RB_AVAIL_DATA);
  }

  /** The consumer position: bytes consumed since creation, modulo 2^32. */
  get consumerPosition(): number {
    return this.query(BPF_RB_CONS_POS);
  }

  /** The producer position: bytes reserved since creation, modulo 2^32. */
  get producerPosition(): number {
    return this.query(BPF_RB_PROD_POS);
  }

  private query(flag: number): number {
    return Number(this.wasm.ringbuf_query(BigInt(this.address), BigInt(flag)));
  }
}
