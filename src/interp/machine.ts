/**
 * The mutable state of one interpreter run: the register file, cached views of the engine memory,
 * the regions of this run, the call-frame stack and the remaining budget.
 *
 * Views are cached and only re-read when an access falls past their end: reading
 * `WebAssembly.Memory.buffer` costs ~20 ns, too much to pay on every run. Shared memory never detaches,
 * so a stale view stays valid for the bytes it covers.
 */
import { BpfRuntimeError } from '../errors.js';
import type { HelperEnv } from '../runtime/helpers.js';
import type { BpfMap } from '../maps/map.js';
import type { Region } from '../runtime/memory.js';
import { MAX_CALL_FRAMES, STACK_FRAME_BYTES, inRegions } from '../runtime/memory.js';
import { runRegions, type Runtime } from '../runtime/executable.js';
import type { TailState } from '../runtime/tail-call.js';
import { FP_SLOT, type CodeImage } from './image.js';

/** Per frame: return code index, r6..r9 (lo, hi), r10 (lo, hi). */
export const FRAME_INTS = 11;

export class Machine {
  readonly R: Int32Array;
  readonly frames = new Int32Array(MAX_CALL_FRAMES * FRAME_INTS);
  depth = 0;
  /** True while a helper runs: a run started from inside it needs a machine of its own. */
  inHelper = false;
  /** The run's tail calls: the tail_call helper counts them and names the next program (src/runtime/tail-call.ts). */
  readonly tail: TailState = { count: 0, target: 0 };
  /** Set when a helper asked to end the run at once: nested dispatch loops (callbacks) return too. */
  unwinding = false;
  /** Budget left; a run stops when it goes below zero. */
  left = 0;
  cpu = 0;
  ctxAddr = 0;
  ctxLen = 0;
  /** Fast-path bounds: the context's end, and the stack's frames in use [stackStart, stackEnd). */
  ctxEnd = 0;
  stackStart = 0;
  stackEnd = 0;
  dv: DataView;
  u8: Uint8Array;
  memLen: number;
  private i32: Int32Array | undefined;
  private i64: BigInt64Array | undefined;

  /**
   * `regions`: the host's extra regions (what helpers see); `allowed`: what checked accesses may also
   * touch beyond the context and the stack (the same regions, or all of memory when unchecked).
   */
  constructor(
    readonly rt: Runtime, img: CodeImage, readonly regions: readonly Region[], private readonly allowed: readonly Region[],
    readonly maps: ReadonlyMap<number, BpfMap>,
  ) {
    this.R = img.regs.slice();
    const buffer = rt.mem.buffer;
    this.dv = new DataView(buffer);
    this.u8 = new Uint8Array(buffer);
    this.memLen = buffer.byteLength;
  }

  /** Sets up registers and bounds for a run: r1 = context, r2 = its length, r10 = frame top. */
  begin(ctxAddr: number, ctxLen: number, cpu: number): void {
    const R = this.R;
    // Unrolled: a 22-iteration loop here costs more than the rest of a short run.
    R[0] = R[1] = R[3] = R[5] = R[6] = R[7] = R[8] = R[9] = R[10] = R[11] = 0;
    R[12] = R[13] = R[14] = R[15] = R[16] = R[17] = R[18] = R[19] = R[21] = 0;
    R[2] = ctxAddr;
    R[4] = ctxLen;
    this.cpu = cpu;
    this.ctxAddr = ctxAddr;
    this.ctxLen = ctxLen;
    // The entry checks put the context inside the memory; the cached views may predate its growth.
    if (ctxAddr + ctxLen > this.memLen) this.refresh();
    this.ctxEnd = ctxAddr + ctxLen;
    this.stackEnd = this.rt.mem.frameTop(cpu);
    this.stackStart = this.stackEnd - STACK_FRAME_BYTES;
    R[FP_SLOT] = this.stackEnd;
    this.depth = 0;
    this.unwinding = false;
  }

  /** After a local call or return: the stack region is the frames in use, down to the current r10 - 512. */
  frameChanged(): void {
    this.stackStart = (this.R[FP_SLOT]! >>> 0) - STACK_FRAME_BYTES;
  }

  /** Re-reads the memory's buffer after it grew. */
  refresh(): void {
    const buffer = this.rt.mem.buffer;
    if (buffer.byteLength === this.memLen) return;
    this.dv = new DataView(buffer);
    this.u8 = new Uint8Array(buffer);
    this.memLen = buffer.byteLength;
    this.i32 = undefined;
    this.i64 = undefined;
  }

  get int32(): Int32Array {
    return (this.i32 ??= new Int32Array(this.u8.buffer, 0, this.memLen >>> 2));
  }

  get int64(): BigInt64Array {
    return (this.i64 ??= new BigInt64Array(this.u8.buffer, 0, Math.floor(this.memLen / 8)));
  }

  /** What helpers see: the engine memory, the CPU and this run's regions, with the frames in use now. */
  env(): HelperEnv {
    const fp = this.R[FP_SLOT]! >>> 0;
    return { mem: this.rt.mem, cpu: this.cpu, regions: runRegions(this.rt.mem, this.cpu, fp, this.ctxAddr, this.ctxLen, this.regions), maps: this.maps, tail: this.tail };
  }

  /**
   * The slow path of a bounds check, taken when [a, a+n) is not inside the context or the stack's
   * frames in use: tries the other allowed regions, growing the views if needed.
   * Throws E_RUN_MEMORY at `pc` when the access is outside every region (for a `write`, every
   * region that is not read-only).
   */
  checkSlow(a: number, n: number, pc: number, write = false): void {
    const end = a + n;
    let inside = false;
    for (let k = 0; !inside && k < this.allowed.length; k++) {
      const r = this.allowed[k]!;
      inside = a >= r.start && end <= r.end && !(write && r.readOnly);
    }
    if (inside && end > this.memLen) this.refresh();
    if (!inside || end > this.memLen) throw memoryFault(pc, a, n, write && inRegions(this.allowed, a, n));
  }
}

export function memoryFault(pc: number, a: number, n: number, readOnly = false): BpfRuntimeError {
  const where = Number.isSafeInteger(a) && a >= 0 ? `0x${a.toString(16)}` : 'an address';
  if (readOnly) return new BpfRuntimeError('E_RUN_MEMORY', pc, `${n}-byte write at ${where}: programs may only read this memory (a BPF_F_RDONLY_PROG map's value)`);
  return new BpfRuntimeError('E_RUN_MEMORY', pc, `${n}-byte access at ${where} is outside the program's memory`);
}

export function budgetExceeded(pc: number): BpfRuntimeError {
  return new BpfRuntimeError('E_RUN_BUDGET', pc, 'instruction budget exceeded');
}
