/**
 * What a register (or a spilled stack slot) holds: nothing yet, a scalar, or a pointer of a known
 * kind. A pointer is base + off + var: `off` is the fixed byte offset the program added with
 * constants, `var` the variable part added with scalars (a Scalar, constant 0 when there is none).
 * Every state object is immutable, so states are copied by copying references.
 */
import { scalarAlu } from './scalar-alu.js';
import { SCALAR_ZERO, formatScalar, isConstScalar, constValue, scalarConst, toS64, type Scalar } from './scalar.js';

export type PtrKind =
  /** The context struct r1 points to (fields described by the context descriptor). */
  | 'ctx'
  /** A byte in one call frame's 512-byte stack; off is relative to that frame's r10. */
  | 'stack'
  /** Packet data; [base + var, base + var + range) is proven to lie before packet_end. */
  | 'packet'
  /** The end of the packet: comparable with packet pointers, never dereferenced. */
  | 'packet_end'
  /** A plain memory region of `size` bytes (the "memory" context's input). */
  | 'mem'
  /** `size` bytes of a map value. */
  | 'map_value'
  /** A map value or null: must be compared with 0 before any other use. */
  | 'map_value_or_null'
  /** A map itself, only good as a helper argument. */
  | 'map_handle'
  /** A reserved ring buffer record of `size` writable bytes: an acquired reference (`ref`) to release. */
  | 'ringbuf_mem'
  /** A ring buffer record or null (bpf_ringbuf_reserve's result): must be compared with 0 first. */
  | 'ringbuf_mem_or_null'
  /** A copy of a record pointer after its record was submitted or discarded: never usable again. */
  | 'released_mem'
  /** A subprogram's code address (lddw code_addr), only good as a callback argument; region is the function index. */
  | 'func';

export const PTR_KINDS: readonly PtrKind[] = [
  'ctx', 'stack', 'packet', 'packet_end', 'mem', 'map_value', 'map_value_or_null', 'map_handle',
  'ringbuf_mem', 'ringbuf_mem_or_null', 'released_mem', 'func',
];

export interface Ptr {
  readonly t: 'ptr';
  readonly kind: PtrKind;
  readonly off: number;
  readonly var: Scalar;
  /**
   * packet: pointers with the same id share `var` (and so the proven range); a fresh id comes with
   * every variable offset. map_value_or_null: copies share the id, so one null check covers all.
   */
  readonly id: number;
  /** packet only: bytes proven readable from base + var. */
  readonly range: number;
  /** stack only: the frame (0 = entry function) the pointer points into. */
  readonly frame: number;
  /** mem, map and ring buffer kinds: size of the region, value or record, in bytes. */
  readonly size: number;
  /**
   * Ring buffer kinds: the id of the acquired reference (VState.refs) the record is; every copy of
   * the pointer carries it, so releasing the reference reaches them all. Map values of a map with a
   * bpf_spin_lock: the element a lookup returned (spin-lock.ts). 0 otherwise.
   */
  readonly ref: number;
  /** mem: region number (0 = the context input); map kinds: map index, -1 for a helper's unnamed map. */
  readonly region: number;
  readonly readOnly: boolean;
}

export interface Uninit {
  readonly t: 'uninit';
}

export type RegState = Uninit | Scalar | Ptr;

export const UNINIT: Uninit = { t: 'uninit' };

const PTR_DEFAULTS: Omit<Ptr, 'kind'> = {
  t: 'ptr', off: 0, var: SCALAR_ZERO, id: 0, range: 0, frame: 0, size: 0, region: 0, readOnly: false, ref: 0,
};

export function makePtr(kind: PtrKind, fields: Partial<Omit<Ptr, 't' | 'kind'>> = {}): Ptr {
  return { ...PTR_DEFAULTS, kind, ...fields };
}

export const isPtr = (r: RegState): r is Ptr => r.t === 'ptr';
export const isScalar = (r: RegState): r is Scalar => r.t === 'scalar';

/** True when the pointer's offset is exactly known (no variable part). */
export const hasConstOffset = (p: Ptr): boolean => isConstScalar(p.var);

/**
 * The variable part `p` would have with fixed offset `off`, for the same addresses: how two pointers
 * into one object that split their offsets differently (a loop moved one by constants) compare.
 */
export const varAt = (p: Ptr, off: number): Scalar =>
  (p.off === off ? p.var : scalarAlu('add', 64, p.var, scalarConst(BigInt(p.off - off))));

/** The exact offset of a pointer with no variable part. */
export const constOffset = (p: Ptr): number => p.off + Number(toS64(constValue(p.var)));

const offText = (off: number): string => (off < 0 ? `${off}` : `+${off}`);

function varText(p: Ptr): string {
  return hasConstOffset(p) ? '' : `,var=${formatScalar(p.var)}`;
}

/** Kernel-log style, e.g. `fp-8`, `ctx(off=4)`, `pkt(off=14,r=14)`, `map_value_or_null(id=2,size=16)`. */
export function formatPtr(p: Ptr): string {
  switch (p.kind) {
    case 'stack': {
      const base = p.frame === 0 ? 'fp' : `fp[${p.frame}]`;
      if (!hasConstOffset(p)) return `${base}(off=${p.off}${varText(p)})`;
      const off = constOffset(p);
      return off === 0 ? `${base}0` : `${base}${offText(off)}`;
    }
    case 'ctx': return `ctx(off=${p.off}${varText(p)})`;
    case 'packet': return `pkt(off=${p.off},r=${p.range}${p.id ? `,id=${p.id}` : ''}${varText(p)})`;
    case 'packet_end': return 'pkt_end';
    case 'mem': return `mem(size=${p.size},off=${p.off}${varText(p)}${p.readOnly ? ',ro' : ''})`;
    case 'map_value': return `map_value(size=${p.size},off=${p.off}${varText(p)})`;
    case 'map_value_or_null': return `map_value_or_null(id=${p.id},size=${p.size},off=${p.off})`;
    case 'map_handle': return `map_ptr(map=${p.region})`;
    case 'ringbuf_mem': return `ringbuf_mem(ref=${p.ref},size=${p.size},off=${p.off}${varText(p)})`;
    case 'ringbuf_mem_or_null': return `ringbuf_mem_or_null(ref=${p.ref},size=${p.size})`;
    case 'released_mem': return `released_mem(ref=${p.ref})`;
    case 'func': return `func(fn=${p.region})`;
  }
}

export function formatReg(r: RegState): string {
  switch (r.t) {
    case 'uninit': return 'uninit';
    case 'scalar': return formatScalar(r);
    case 'ptr': return formatPtr(r);
  }
}

/** Human name of a pointer kind, for messages. */
export function kindName(kind: PtrKind): string {
  switch (kind) {
    case 'ctx': return 'context pointer';
    case 'stack': return 'stack pointer';
    case 'packet': return 'packet pointer';
    case 'packet_end': return 'packet_end';
    case 'mem': return 'memory pointer';
    case 'map_value': return 'map value pointer';
    case 'map_value_or_null': return 'map value pointer that may be null';
    case 'map_handle': return 'map handle';
    case 'ringbuf_mem': return 'ring buffer record';
    case 'ringbuf_mem_or_null': return 'ring buffer record that may be null';
    case 'released_mem': return 'pointer to a ring buffer record already submitted or discarded';
    case 'func': return 'code address';
  }
}
