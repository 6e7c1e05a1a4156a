/**
 * The one memory (docs/architecture.md section 2). Everything a BPF program can point at lives in one shared
 * WebAssembly.Memory: per-CPU stacks, per-CPU context buffers, map storage. A BPF pointer is a byte
 * address in it. The first 64 KiB are never a region any run may touch, so 0 is null and null+small
 * is never valid; the JIT keeps its own data (value tables, a scratch slot) in the upper part of them,
 * where no BPF pointer and no overrun can reach it.
 *
 *   0     4K           64K                                    heapStart
 *   | null | JIT data  | cpu0 stack | cpu1 stack | ... | gap | alloc | gap | alloc | gap | ... -> grows
 *
 * Every heap allocation is preceded by an unused guard gap of GUARD_GAP bytes, so the regions a run
 * may touch (its stack, its context, map storage) never touch each other: an access that strays a
 * little (up to 4 KiB) past a region lands in a gap, not in its neighbour, and checked mode faults on
 * it the same way in both engines (docs/architecture.md, "One memory").
 */
import { BpfError } from '../errors.js';

export const WASM_PAGE = 65536;
export const NULL_GUARD = 65536;
export const STACK_FRAME_BYTES = 512;
export const MAX_CALL_FRAMES = 8;
export const STACK_PER_CPU = STACK_FRAME_BYTES * MAX_CALL_FRAMES;
/** Unused bytes in front of every heap allocation (a page: small next to the 1 GiB address space). */
export const GUARD_GAP = 4096;
/** The JIT's data lives in [INTERNAL_START, NULL_GUARD): inside the null guard, above null + small. */
export const INTERNAL_START = 4096;
/**
 * The allocator's two words (u32: the heap's top, the JIT area's top), at the start of the JIT's
 * area: every thread sharing the memory (worker threads, src/workers) allocates through them with
 * atomics, so no two threads hand out the same bytes.
 */
const ALLOC_WORDS = INTERNAL_START;
const HEAP_TOP = ALLOC_WORDS / 4;
const INTERNAL_TOP = HEAP_TOP + 1;
const DEFAULT_MAX_PAGES = 16384; // 1 GiB of address space, reserved lazily by the engine

export interface MemoryOptions {
  /** Number of CPUs (workers) that get their own stack and scratch regions. */
  cpus?: number;
  /** Initial size in 64 KiB pages. */
  initialPages?: number;
  maximumPages?: number;
  /**
   * An existing engine memory to attach to (another thread's: EngineMemory.share()), in place of a
   * new one: its allocations stay, and both sides allocate from the same words.
   */
  memory?: WebAssembly.Memory;
}

/** What a worker thread needs to attach to an engine memory: postable (the memory is shared). */
export interface MemoryShare {
  readonly memory: WebAssembly.Memory;
  readonly cpus: number;
}

/** A half-open byte range [start, end) of the memory. */
export interface Region {
  readonly start: number;
  readonly end: number;
  /**
   * Programs may read the region but not write it (a BPF_F_RDONLY_PROG map's values): stores,
   * atomics and helpers filling a buffer fault there, since verified code may have been proven
   * against its bytes as constants.
   */
  readonly readOnly?: boolean;
}

export class EngineMemory {
  readonly memory: WebAssembly.Memory;
  readonly cpus: number;
  /** Lowest address a heap allocation may have: contexts and results must lie at or above it. */
  readonly heapStart: number;
  private cachedView: DataView | undefined;
  private cachedBytes: Uint8Array | undefined;

  constructor(options: MemoryOptions = {}) {
    this.cpus = options.cpus ?? 1;
    const minimum = Math.max(options.initialPages ?? 32, Math.ceil((NULL_GUARD + this.cpus * STACK_PER_CPU) / WASM_PAGE) + 1);
    const stacksEnd = NULL_GUARD + this.cpus * STACK_PER_CPU;
    this.heapStart = stacksEnd + GUARD_GAP;
    if (options.memory) {
      this.memory = options.memory;
      return;
    }
    this.memory = new WebAssembly.Memory({ initial: minimum, maximum: options.maximumPages ?? DEFAULT_MAX_PAGES, shared: true });
    const words = this.words();
    words[HEAP_TOP] = stacksEnd;
    words[INTERNAL_TOP] = ALLOC_WORDS + 8;
  }

  /** Another thread's view of this memory (EngineMemory.attach). */
  share(): MemoryShare {
    return { memory: this.memory, cpus: this.cpus };
  }

  /** This thread's EngineMemory over a memory another thread shared. */
  static attach(share: MemoryShare): EngineMemory {
    return new EngineMemory({ cpus: share.cpus, memory: share.memory });
  }

  /** The allocator's words (a view of the first page, which never moves). */
  private words(): Int32Array {
    return new Int32Array(this.memory.buffer, 0, INTERNAL_TOP + 1);
  }

  /** End of the last heap allocation. */
  get heapEnd(): number {
    return Atomics.load(this.words(), HEAP_TOP);
  }

  /** Current buffer; a new object after the memory grows, so callers re-read it rather than keep it. */
  get buffer(): ArrayBufferLike {
    return this.memory.buffer;
  }

  /**
   * Views of the memory, cached: reading `memory.buffer` of a shared memory makes a new object each
   * time (tens of ns). A shared memory never shrinks or detaches, so a cached view stays valid for the
   * bytes it covers; alloc() refreshes it after growing, and refresh() does for growth from elsewhere.
   */
  get view(): DataView {
    return this.cachedView ?? this.refresh().cachedView!;
  }

  get bytes(): Uint8Array {
    return this.cachedBytes ?? this.refresh().cachedBytes!;
  }

  refresh(): this {
    const buffer = this.memory.buffer;
    if (buffer.byteLength !== this.cachedBytes?.byteLength) {
      this.cachedView = new DataView(buffer);
      this.cachedBytes = new Uint8Array(buffer);
    }
    return this;
  }

  /** A view covering at least [0, end). */
  private bytesTo(end: number): Uint8Array {
    const bytes = this.bytes;
    return end <= bytes.byteLength ? bytes : this.refresh().cachedBytes!;
  }

  /** Region holding all call frames of one CPU's stack. */
  stackRegion(cpu: number): Region {
    this.checkCpu(cpu);
    const start = NULL_GUARD + cpu * STACK_PER_CPU;
    return { start, end: start + STACK_PER_CPU };
  }

  /** Initial r10: the top of the CPU's first frame (the stack grows down). */
  frameTop(cpu: number): number {
    return this.stackRegion(cpu).end;
  }

  /**
   * Reserves `size` bytes, zeroed, aligned to `align`, after a guard gap; grows the memory as needed.
   * Allocations are never freed or moved.
   */
  alloc(size: number, align = 8): number {
    if (!Number.isInteger(size) || size < 0) throw new BpfError('E_INPUT', `cannot allocate ${size} bytes`);
    if (!Number.isInteger(align) || align < 1 || align > WASM_PAGE) throw new BpfError('E_INPUT', `cannot align to ${align} bytes`);
    const words = this.words();
    let top = Atomics.load(words, HEAP_TOP);
    for (;;) {
      const start = Math.ceil((top + GUARD_GAP) / align) * align;
      const end = start + size;
      const seen = Atomics.compareExchange(words, HEAP_TOP, top, end);
      if (seen !== top) {
        top = seen; // another thread allocated meanwhile
        continue;
      }
      this.growTo(end, size);
      return start;
    }
  }

  /** Grows the memory to hold [0, end): threads growing at once may grow it a little more than needed. */
  private growTo(end: number, size: number): void {
    let have = this.memory.buffer.byteLength;
    while (end > have) {
      try {
        this.memory.grow(Math.ceil((end - have) / WASM_PAGE));
      } catch {
        throw new BpfError('E_INPUT', `out of engine memory: cannot allocate ${size} bytes`);
      }
      have = this.memory.buffer.byteLength;
    }
    if (end > (this.cachedBytes?.byteLength ?? 0)) this.refresh();
  }

  /**
   * Reserves `size` bytes of the JIT's own area inside the null guard (never a region of any run), or
   * returns undefined when the area is full: callers then do without (a table becomes code).
   */
  allocInternal(size: number, align = 8): number | undefined {
    const words = this.words();
    let top = Atomics.load(words, INTERNAL_TOP);
    for (;;) {
      const start = Math.ceil(top / align) * align;
      if (start + size > NULL_GUARD) return undefined;
      const seen = Atomics.compareExchange(words, INTERNAL_TOP, top, start + size);
      if (seen === top) return start;
      top = seen;
    }
  }

  /** Copies bytes into the memory at `addr`. */
  write(addr: number, data: Uint8Array): void {
    this.bytesTo(addr + data.length).set(data, addr);
  }

  read(addr: number, length: number): Uint8Array {
    return this.bytesTo(addr + length).slice(addr, addr + length);
  }

  private checkCpu(cpu: number): void {
    if (!Number.isInteger(cpu) || cpu < 0 || cpu >= this.cpus) {
      throw new BpfError('E_INPUT', `cpu ${cpu} is out of range (engine has ${this.cpus})`);
    }
  }
}

/** True when [addr, addr+len) lies in one of the regions (for a write, one that is not read-only). */
export function inRegions(regions: readonly Region[], addr: number, len: number, write = false): boolean {
  for (const r of regions) {
    if (addr >= r.start && addr + len <= r.end && !(write && r.readOnly)) return true;
  }
  return false;
}
