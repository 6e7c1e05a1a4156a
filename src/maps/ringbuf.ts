/**
 * The consumer side of a ring buffer (BPF_MAP_TYPE_RINGBUF), as libbpf's ring_buffer__consume reads
 * the kernel's: from the consumer position up to the producer position, record by record, it hands
 * over each committed record, skips discarded ones, stops at one still BUSY (reserved, not yet
 * submitted or discarded), and moves the consumer position past each record it is done with, which
 * frees the space for producers. The producers are the WebAssembly operations (ops-ringbuf.ts), which
 * only ever read the consumer position; this is the only code that writes it. Layout: layout.ts.
 * RingBuf, at the end, is the map's host class (createMap makes one for the type 'ringbuf').
 */
import { MapError } from '../errors.js';
import type { EngineMemory } from '../runtime/memory.js';
import type { MapShare } from './map-base.js';
import { H, RB_BUSY, RB_DISCARD, RB_HDR_SIZE } from './layout.js';
import { StreamMap, poll, type PollOptions } from './map-stream.js';

export type { PollOptions } from './map-stream.js';
import { BPF_RB_AVAIL_DATA, BPF_RB_CONS_POS, BPF_RB_PROD_POS } from './ops-ringbuf.js';
import type { ValidSpec } from './spec.js';

/** Where a ring buffer lives: its header (positions) and its data (2 * size bytes). */
export interface RingView {
  readonly mem: EngineMemory;
  readonly header: number;
  readonly data: number;
  /** The data size in bytes: a power of 2. */
  readonly size: number;
}

/** What a consume callback gets: a copy of the record's bytes. Returning false stops after this record. */
export type RecordCallback = (record: Uint8Array) => unknown;

/**
 * Hands over up to `max` committed records in order; returns how many. Discarded records are skipped
 * (and freed); a BUSY record stops the walk, as everything after it must wait for it.
 */
export function consumeRecords(ring: RingView, callback: RecordCallback, max = Infinity): number {
  const view = ring.mem.view;
  const mask = ring.size - 1;
  let cons = view.getUint32(ring.header + H.RB_CONS, true);
  let count = 0;
  while (count < max) {
    const prod = view.getUint32(ring.header + H.RB_PROD, true);
    if (cons === prod) break;
    const rec = ring.data + (cons & mask);
    const len = view.getUint32(rec, true);
    if ((len & RB_BUSY) !== 0) break;
    const size = len & ~(RB_BUSY | RB_DISCARD);
    const total = (size + RB_HDR_SIZE + 7) & ~7;
    // Only an unverified program writing over a header can get here: refuse to read past what was produced.
    if (total > ((prod - cons) >>> 0)) {
      throw new MapError('EINVAL', `ring buffer at 0x${ring.header.toString(16)}: the record at position ${cons} claims ${size} bytes, more than were produced`);
    }
    const bytes = (len & RB_DISCARD) === 0 ? ring.mem.read(rec + RB_HDR_SIZE, size) : undefined;
    // Free the record before the callback, as libbpf does after it: the bytes are a copy either way.
    cons = (cons + total) >>> 0;
    view.setUint32(ring.header + H.RB_CONS, cons, true);
    if (bytes) {
      count++;
      if (callback(bytes) === false) break;
    }
  }
  return count;
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
  }, options);
}

/**
 * A ring buffer (BPF_MAP_TYPE_RINGBUF, maxEntries = its size in bytes): programs reserve, submit,
 * discard and output records (the helpers 130-134, ringbuf-helpers.ts); the host consumes them in
 * order with consume() or `for await (const record of ringbuf)`. Records are copies.
 * It has no keys: lookup, update, delete, keys and clear fail with ENOTSUPP, as in the kernel.
 */
export class RingBuf extends StreamMap {
  private readonly ring: RingView;
  protected readonly what = 'a ring buffer has no keys';

  constructor(mem: EngineMemory, spec: ValidSpec, attached?: MapShare) {
    super(mem, spec, attached);
    this.ring = { mem, header: this.address, data: this.valueRegion.start, size: spec.maxEntries };
  }

  /**
   * Calls `callback` with each committed record, in order, and frees them; discarded records are
   * skipped, and a record still reserved (not yet submitted or discarded) stops it, as everything
   * after it waits for it. Returns the number of records handed over; a callback returning false
   * stops after its record.
   */
  consume(callback: RecordCallback): number {
    return consumeRecords(this.ring, callback);
  }

  /** Every record as it is committed, polling while the buffer is empty (PollOptions); see consume. */
  records(options?: PollOptions): AsyncGenerator<Uint8Array, void, undefined> {
    return pollRecords(this.ring, options);
  }

  [Symbol.asyncIterator](): AsyncGenerator<Uint8Array, void, undefined> {
    return this.records();
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
