/**
 * What a run may be started on. Every entry point of both engines (run, runU32, runBatch) checks its
 * arguments here before anything runs, so a verified program never runs on memory that breaks what
 * the verifier assumed, and no caller can point a run at the stacks or at the JIT's own data
 * (docs/architecture.md, "What the verifier assumed, the runtime guarantees"):
 *
 * - every context lies in the heap (at or above `heapStart`) and inside the memory, or is the empty
 *   context (0, 0) where r1 is allowed to be null;
 * - batch results lie in the heap too;
 * - a verified program gets exactly what its context descriptor promised: r2 equal to the size for
 *   memory(size) and event(size), a region of at least the struct's size otherwise, an 8-aligned
 *   address when it has atomics on the context, and for a packet context `data`/`data_end` fields
 *   with heapStart <= data <= data_end <= the memory's end (and data_meta = data where the struct has it).
 */
import { InputError } from '../errors.js';
import type { EngineMemory } from './memory.js';

/** Where in a context struct the packet's bounds are. */
export interface PacketFields {
  readonly data: number;
  readonly end: number;
  /** data_meta's offset: this runtime supplies no metadata, so it must equal data. */
  readonly meta?: number;
  /** Bytes of each pointer field (little-endian, zero-extended): 8 for packet(), 4 for the kernel's structs. */
  readonly width: 4 | 8;
}

/** What the verifier assumed about r1 and r2 at entry (from the context descriptor it verified against). */
export interface EntryContract {
  /** 'null': r1 = 0 and r2 = 0 (memory(0): nothing to point at); 'object': r1 points at `size` bytes. */
  readonly r1: 'null' | 'object';
  readonly size: number;
  /** 'size': r2 must equal `size`; 'scalar': r2 is the context region's length, at least `size`. */
  readonly r2: 'size' | 'scalar';
  /** Where the fields that hold the packet's start and end are, for packet contexts. */
  readonly packet?: PacketFields;
  /** The context's address must be a multiple of 8: the program has atomics on it (aligned relative to it). */
  readonly aligned?: true;
}

const isU32 = (n: number): boolean => n >>> 0 === n;
const hex = (n: number): string => `0x${n.toString(16)}`;

export class EntryGuard {
  private memEnd: number;
  // The checks as plain numbers, so the common case is a handful of compares on the hot path.
  private readonly lo: number;
  private readonly minLen: number;
  private readonly maxLen: number;
  private readonly alignMask: number;

  /** `contract` undefined: an unverified program (checked mode), which may run on any heap context. */
  constructor(readonly contract: EntryContract | undefined, private readonly mem: EngineMemory) {
    this.memEnd = mem.memory.buffer.byteLength;
    const c = contract;
    // memory(0) promises r1 = 0: no heap address passes the fast test, and the slow one wants (0, 0).
    this.lo = c?.r1 === 'null' ? Infinity : mem.heapStart;
    this.minLen = c ? c.size : 0;
    this.maxLen = c && c.r2 === 'size' ? c.size : 2 ** 32 - 1;
    this.alignMask = c?.aligned ? 7 : 0;
  }

  /** Throws an InputError unless a run on the context [addr, addr + len) may start. */
  check(addr: number, len: number): void {
    if (addr >= this.lo && addr + len <= this.memEnd && len >= this.minLen && len <= this.maxLen
      && (addr & this.alignMask) === 0 && (addr >>> 0) === addr && (len >>> 0) === len) return;
    this.checkSlowly(addr, len);
  }

  /** The rest of check: (0, 0) where r1 may be null, memory that grew, and the error that says what is wrong. */
  private checkSlowly(addr: number, len: number): void {
    const c = this.contract;
    if (addr === 0 && len === 0 && (c === undefined || c.r1 === 'null')) return;
    if (!isU32(addr) || !isU32(len)) {
      throw new InputError(`context ${addr} (+${len}): address and length must be integers in 0..2^32-1`);
    }
    if (c?.r1 === 'null') throw new InputError(`the program was verified for memory(0): its context must be (0, 0), not (${hex(addr)}, ${len})`);
    if (addr < this.mem.heapStart || addr + len > this.end(addr + len)) {
      throw new InputError(`context [${hex(addr)}, +${len}) is not inside the engine heap [${hex(this.mem.heapStart)}, ${hex(this.memEnd)})`);
    }
    if (len < this.minLen || len > this.maxLen) {
      throw new InputError(`context length ${len}: the program was verified for ${c!.r2 === 'size' ? '' : 'at least '}${c!.size} bytes`);
    }
    if (addr % 8 !== 0 && this.alignMask !== 0) throw new InputError(`context ${hex(addr)}: the program's atomics need an 8-byte aligned context`);
  }

  /** For batches: every event's context is aligned when the first is and the stride keeps it so. */
  checkStride(stride: number): void {
    if ((stride & this.alignMask) !== 0) throw new InputError(`runBatch: stride ${stride}: the program's atomics need 8-byte aligned contexts`);
  }

  /** For packet contexts: the packet the struct at `addr` describes lies in the heap (see the module comment). */
  checkPacket(addr: number): void {
    const p = this.contract?.packet;
    if (!p) return;
    const { data, end, meta } = readPacket(this.mem.view, addr, p);
    if (data < BigInt(this.mem.heapStart) || end < data || end > BigInt(this.end(Number(end))) || meta !== data) {
      throw packetError(addr, data, end, meta);
    }
  }

  /** Results of a batch: 8 bytes per event, in the heap. */
  checkResults(addr: number, count: number): void {
    const end = addr + 8 * count;
    if (!isU32(addr) || addr < this.mem.heapStart || end > this.end(end)) {
      throw new InputError(`runBatch: results [${hex(addr)}, +${8 * count}) are not inside the engine heap`);
    }
  }

  /** The memory's end, re-read only when `needed` lies past the cached value (a shared memory only grows). */
  private end(needed: number): number {
    if (needed > this.memEnd) this.memEnd = this.mem.memory.buffer.byteLength;
    return this.memEnd;
  }
}

/** The packet bounds in the context struct at `addr` (data_meta reads as data when the layout has none). */
export function readPacket(view: DataView, addr: number, p: PacketFields): { data: bigint; end: bigint; meta: bigint } {
  const at = (off: number): bigint => (p.width === 8 ? view.getBigUint64(addr + off, true) : BigInt(view.getUint32(addr + off, true)));
  const data = at(p.data);
  return { data, end: at(p.end), meta: p.meta === undefined ? data : at(p.meta) };
}

export function packetError(addr: number, data: bigint, end: bigint, meta: bigint): InputError {
  const metaText = meta === data ? '' : `, data_meta = 0x${meta.toString(16)}`;
  return new InputError(`the packet context at ${hex(addr)} has data = 0x${data.toString(16)}, data_end = 0x${end.toString(16)}${metaText}: ` +
    'the packet must lie in the engine heap with data <= data_end (and data_meta = data: no metadata)');
}
