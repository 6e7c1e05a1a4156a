/**
 * The reader side of a perf_event_array (BPF_MAP_TYPE_PERF_EVENT_ARRAY), as libbpf's perf_buffer and
 * cilium/ebpf's perf.Reader read the kernel's per-CPU rings: for each buffer, the records from the
 * tail to the head, samples handed over with the CPU (the buffer's index) they were written for, and
 * lost records (perf's PERF_RECORD_LOST) as a count of samples the producer could not write because
 * the buffer was full. The producer is bpf_perf_event_output in WebAssembly (ops-perf.ts); this is
 * the only code that moves a tail. Producers run on any thread sharing the memory; heads, tails and
 * lost counts are read and written with atomics. Layout: layout.ts and perf-spec.ts.
 */
import { MapError } from '../errors.js';
import type { EngineMemory } from '../runtime/memory.js';
import type { MapShare } from './map-base.js';
import { H } from './layout.js';
import { StreamMap, poll, sleepOn, type PollOptions } from './map-stream.js';
import { PERF_CTL, PERF_CTL_FIRST, PERF_RECORD_LOST, PERF_RECORD_SAMPLE, PERF_SAMPLE_HDR, PERF_WAITING } from './perf-spec.js';
import type { ValidSpec } from './spec.js';

/**
 * One record of a perf buffer (cilium/ebpf's perf.Record): a sample's bytes, or for a lost record
 * no bytes and the number of samples lost since the previous record of that buffer.
 */
export interface PerfRecord {
  /** The buffer's index: the CPU the program ran on, under BPF_F_CURRENT_CPU. */
  readonly cpu: number;
  readonly data: Uint8Array;
  readonly lost: number;
}

export type PerfCallback = (record: PerfRecord) => unknown;

/**
 * A perf_event_array: programs write samples with bpf_perf_event_output (helper 25) into the buffer
 * of an index or of their CPU (BPF_F_CURRENT_CPU); the host reads them with read() or
 * `for await (const record of perfArray)`. Every buffer is open at creation; close(i) makes output to
 * it fail with -ENOENT, as for an entry whose perf event fd was removed.
 */
export class PerfEventArray extends StreamMap {
  protected readonly what = 'a perf_event_array holds perf event buffers, not values';
  protected override readonly errno = 'EOPNOTSUPP';
  private readonly ctl: number;
  private readonly bufs: number;
  /** The memory as i32s, for atomics; made once (it covers the map, allocated before). */
  private readonly words: Int32Array;
  /** Bytes per buffer: a power of 2. */
  readonly bufferSize: number;

  constructor(mem: EngineMemory, spec: ValidSpec, attached?: MapShare) {
    super(mem, spec, attached);
    this.ctl = mem.view.getUint32(this.address + H.ELEMS, true);
    this.bufs = mem.view.getUint32(this.address + H.PERF_BUFS, true);
    this.words = new Int32Array(mem.buffer);
    this.bufferSize = spec.bufferSize!;
  }

  /** The address of a field of buffer `index`'s control block. */
  private word(index: number, field: number): number {
    return this.ctl + PERF_CTL_FIRST + index * PERF_CTL.SIZE + field;
  }

  /** The i32 of buffer `index`'s field, as it stands. */
  private load(index: number, field: number): number {
    return Atomics.load(this.words, this.word(index, field) >> 2);
  }

  /** Lets output to buffer `index` fail with -ENOENT (closed) or succeed again (open). */
  close(index: number): void {
    Atomics.store(this.words, this.word(this.checkIndex(index), PERF_CTL.CLOSED) >> 2, 1);
  }

  open(index: number): void {
    Atomics.store(this.words, this.word(this.checkIndex(index), PERF_CTL.CLOSED) >> 2, 0);
  }

  private checkIndex(index: number): number {
    if (!Number.isInteger(index) || index < 0 || index >= this.maxEntries) {
      throw new MapError('E2BIG', `${this.label}: buffer index ${index} is outside 0..${this.maxEntries - 1} (E2BIG)`);
    }
    return index;
  }

  /** Bytes written to buffer `index` and not read yet. */
  pending(index: number): number {
    return (this.load(this.checkIndex(index), PERF_CTL.HEAD) - this.load(index, PERF_CTL.TAIL)) >>> 0;
  }

  /** `length` bytes at position `pos` of buffer `index`, joined where they wrap around its end. */
  private bytesAt(index: number, pos: number, length: number): Uint8Array {
    const mask = this.bufferSize - 1;
    const base = this.bufs + index * this.bufferSize;
    const at = pos & mask;
    const first = Math.min(length, this.bufferSize - at);
    const out = new Uint8Array(length);
    out.set(this.mem.bytes.subarray(base + at, base + at + first));
    out.set(this.mem.bytes.subarray(base, base + length - first), first);
    return out;
  }

  /**
   * Calls `callback` with the records of every buffer in order (buffer 0's first, each buffer's
   * oldest first), freeing each before the call; then, for a buffer whose producer counted records
   * lost that no lost record carries yet, a lost record with that count. Returns the number of
   * records handed over; a callback returning false stops after its record.
   */
  read(callback: PerfCallback, max = Infinity): number {
    let count = 0;
    for (let index = 0; index < this.maxEntries && count < max; index++) {
      const stopped = this.readBuffer(index, (r) => {
        count++;
        return callback(r) === false || count >= max;
      });
      if (stopped) break;
    }
    return count;
  }

  /** Buffer `index`'s records to `give` until it returns true (stop); true when stopped. */
  private readBuffer(index: number, give: (r: PerfRecord) => boolean): boolean {
    const a = this.words;
    const tailWord = this.word(index, PERF_CTL.TAIL) >> 2;
    let tail = a[tailWord]! >>> 0;
    for (;;) {
      const head = Atomics.load(a, this.word(index, PERF_CTL.HEAD) >> 2) >>> 0;
      if (tail === head) break;
      const header = this.bytesAt(index, tail, 16);
      const view = new DataView(header.buffer);
      const type = view.getUint32(0, true);
      const size = view.getUint16(6, true);
      const sample = type === PERF_RECORD_SAMPLE ? view.getUint32(8, true) : 0;
      if (size < 16 || size % 8 !== 0 || size > ((head - tail) >>> 0) || sample > size - PERF_SAMPLE_HDR) {
        throw new MapError('EINVAL', `${this.label}: buffer ${index}: the record at position ${tail} claims ${size} bytes, not a record written there`);
      }
      const record = type === PERF_RECORD_SAMPLE
        ? { cpu: index, data: this.bytesAt(index, tail + PERF_SAMPLE_HDR, sample), lost: 0 }
        : type === PERF_RECORD_LOST ? { cpu: index, data: new Uint8Array(0), lost: Number(this.bytesAtU64(index, tail + 16)) } : undefined;
      tail = (tail + size) >>> 0;
      Atomics.store(a, tailWord, tail | 0);
      if (record && give(record)) return true;
    }
    const lost = Atomics.exchange(a, this.word(index, PERF_CTL.LOST) >> 2, 0) >>> 0;
    return lost > 0 && give({ cpu: index, data: new Uint8Array(0), lost });
  }

  private bytesAtU64(index: number, pos: number): bigint {
    return new DataView(this.bytesAt(index, pos, 8).buffer).getBigUint64(0, true);
  }

  /** Whether a buffer holds a record, or counted one lost, that read would hand over. */
  private ready(): boolean {
    for (let index = 0; index < this.maxEntries; index++) {
      if (this.load(index, PERF_CTL.HEAD) !== this.load(index, PERF_CTL.TAIL) || this.load(index, PERF_CTL.LOST) !== 0) return true;
    }
    return false;
  }

  /**
   * Resolves once a buffer has something to read: at once if one has, else when a producer wakes
   * the reader after a sample or a loss in any buffer (Atomics.waitAsync on the map's wake word, no
   * polling). True when woken or records are there; false when `timeoutMs` passed (or the signal aborted).
   */
  wait(timeoutMs?: number, signal?: AbortSignal): Promise<boolean> {
    return sleepOn(this.words, (this.ctl + PERF_WAITING) >> 2, () => this.ready(), timeoutMs, signal);
  }

  /** Every record as it is written, sleeping (wait) while the buffers are empty (PollOptions); see read. */
  records(options?: PollOptions): AsyncGenerator<PerfRecord, void, undefined> {
    return poll(() => {
      let record: PerfRecord | undefined;
      this.read((r) => { record = r; }, 1);
      return record;
    }, (timeoutMs, signal) => this.wait(timeoutMs, signal), options);
  }

  [Symbol.asyncIterator](): AsyncGenerator<PerfRecord, void, undefined> {
    return this.records();
  }
}
