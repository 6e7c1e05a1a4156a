/**
 * The one memory (DESIGN.md section 2). Everything a BPF program can point at lives in one shared
 * WebAssembly.Memory: per-CPU stacks, per-CPU context buffers, map storage. A BPF pointer is a byte
 * address in it. The first 64 KiB are never handed out, so 0 is null and null+small is never valid.
 *
 *   0        64K                      64K + cpus*STACK_PER_CPU
 *   | guard  | cpu0 stack | cpu1 stack | ... | heap (context buffers, maps, ...) -> grows
 */
import { BpfError } from '../errors.js';

export const WASM_PAGE = 65536;
export const NULL_GUARD = 65536;
export const STACK_FRAME_BYTES = 512;
export const MAX_CALL_FRAMES = 8;
export const STACK_PER_CPU = STACK_FRAME_BYTES * MAX_CALL_FRAMES;
const DEFAULT_MAX_PAGES = 16384; // 1 GiB of address space, reserved lazily by the engine

export interface MemoryOptions {
  /** Number of CPUs (workers) that get their own stack and scratch regions. */
  cpus?: number;
  /** Initial size in 64 KiB pages. */
  initialPages?: number;
  maximumPages?: number;
}

/** A half-open byte range [start, end) of the memory. */
export interface Region {
  readonly start: number;
  readonly end: number;
}

export class EngineMemory {
  readonly memory: WebAssembly.Memory;
  readonly cpus: number;
  private heapTop: number;
  private cachedView: DataView | undefined;
  private cachedBytes: Uint8Array | undefined;

  constructor(options: MemoryOptions = {}) {
    this.cpus = options.cpus ?? 1;
    const minimum = Math.max(options.initialPages ?? 32, Math.ceil((NULL_GUARD + this.cpus * STACK_PER_CPU) / WASM_PAGE) + 1);
    this.memory = new WebAssembly.Memory({ initial: minimum, maximum: options.maximumPages ?? DEFAULT_MAX_PAGES, shared: true });
    this.heapTop = NULL_GUARD + this.cpus * STACK_PER_CPU;
  }

  get heapEnd(): number {
    return this.heapTop;
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

  /** Reserves `size` bytes, zeroed, aligned to `align`; grows the memory as needed. */
  alloc(size: number, align = 8): number {
    if (!Number.isInteger(size) || size < 0) throw new BpfError('E_INPUT', `cannot allocate ${size} bytes`);
    const start = Math.ceil(this.heapTop / align) * align;
    const end = start + size;
    const have = this.memory.buffer.byteLength;
    if (end > have) {
      try {
        this.memory.grow(Math.ceil((end - have) / WASM_PAGE));
      } catch {
        throw new BpfError('E_INPUT', `out of engine memory: cannot allocate ${size} bytes`);
      }
    }
    this.heapTop = end;
    if (end > (this.cachedBytes?.byteLength ?? 0)) this.refresh();
    return start;
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

/** True when [addr, addr+len) lies in one of the regions. */
export function inRegions(regions: readonly Region[], addr: number, len: number): boolean {
  for (const r of regions) {
    if (addr >= r.start && addr + len <= r.end) return true;
  }
  return false;
}
