/**
 * Context descriptors ("program types"): what r1 and r2 hold when the program starts, which helpers it
 * may call and what it may return. Four kinds:
 *
 * - `memory(size)`: r1 points to a plain readable and writable region of exactly `size` bytes and r2
 *   holds `size` (what the conformance suite uses). With size 0, r1 is 0: nothing to dereference.
 * - `event(size)`: r1 points to a fixed-size record, read-only unless asked otherwise.
 * - `packet()`: r1 points to `struct { u64 data; u64 data_end; }`; loading the fields yields packet
 *   and packet_end pointers, and packet bytes are readable only once a comparison with data_end
 *   proves them inside the packet (like XDP).
 * - `structContext(...)`: a user-defined struct: fields with offsets, sizes, read-only flags and what
 *   a load of each yields.
 *
 * The kernel's own layouts, `xdp()` (struct xdp_md) and `socketFilter()` / `tc()` (struct
 * __sk_buff), are struct contexts too (kernel-contexts.ts): their packet pointers are u32 fields,
 * which a load zero-extends (engine addresses lie below 2^32, docs/architecture.md section 2).
 */
import { InputError } from '../errors.js';
import type { EntryContract, PacketFields } from '../runtime/entry.js';
import { makePtr, type RegState } from './reg-state.js';
import { SCALAR_UNKNOWN, SCALAR_ZERO, scalarConst } from './scalar.js';
import { newFrame, type VState } from './state.js';

/**
 * What loading a whole context field yields. Pointer fields are always read-only, 4 or 8 bytes wide.
 * 'packet_meta' is the start of the packet's metadata: this runtime supplies none, so it always
 * equals data (the runtime checks it at entry) and a load of it yields a packet pointer like data's.
 */
export type CtxLoad = 'scalar' | 'packet' | 'packet_meta' | 'packet_end';

/**
 * Which accesses narrower than a scalar field are allowed: 'any' (default) any bytes inside it;
 * 'aligned' any size at an offset that is a multiple of it; 'read' aligned narrow reads, whole
 * writes (the kernel's __sk_buff fields); 'none' whole accesses only (xdp_md).
 */
export type CtxNarrow = 'any' | 'aligned' | 'read' | 'none';

export interface CtxField {
  readonly name: string;
  readonly offset: number;
  readonly size: number;
  readonly readOnly?: boolean;
  /** Default 'scalar': any part of the field may be read (and written, unless read-only). */
  readonly load?: CtxLoad;
  readonly narrow?: CtxNarrow;
}

/** The layouts the host can build around a packet (src/runtime/build-context.ts). */
export type ContextLayout = 'packet' | 'xdp' | 'socket' | 'tc';

export type EntryR1 =
  | { readonly kind: 'memory'; readonly size: number; readonly readOnly: boolean }
  | { readonly kind: 'struct'; readonly size: number; readonly fields: readonly CtxField[] };

export interface ReturnRange {
  /** Allowed r0 at the entry function's exit, as unsigned 64-bit values, inclusive. */
  readonly min: bigint;
  readonly max: bigint;
}

export interface ContextDescriptor {
  readonly name: string;
  readonly r1: EntryR1;
  /** r2 at entry: the context's size as a known constant, or an unknown scalar. */
  readonly r2: 'size' | 'scalar';
  /** Helper ids the program may call. */
  readonly helpers: 'all' | ReadonlySet<number>;
  /** undefined: any scalar may be returned. */
  readonly ret: ReturnRange | undefined;
  /** Whether stores into packet data are allowed (packet contexts). */
  readonly packetWritable: boolean;
  /**
   * Where the packet's bounds are in the struct, when r1 describes a packet: the runtime checks them
   * at entry, also when no field lets the program read them (a socket filter's LD_ABS reads them).
   */
  readonly packet?: PacketFields;
  /** The legacy packet loads (LD_ABS/LD_IND) are allowed: r6 may hold this __sk_buff context. */
  readonly ldAbs?: boolean;
  /** Built-in layouts only: the struct the host builds in front of a packet. */
  readonly layout?: ContextLayout;
}

export interface ContextOptions {
  /** Helper ids the program may call; default all registered ones. */
  readonly helpers?: 'all' | Iterable<number>;
  readonly ret?: ReturnRange;
}

function common(options: ContextOptions): Pick<ContextDescriptor, 'helpers' | 'ret'> {
  const helpers = options.helpers === undefined || options.helpers === 'all' ? 'all' : new Set(options.helpers);
  if (options.ret && options.ret.min > options.ret.max) {
    throw new InputError(`return range [${options.ret.min}, ${options.ret.max}] is empty`);
  }
  return { helpers, ret: options.ret };
}

function checkSize(size: number, what: string): void {
  if (!Number.isInteger(size) || size < 0 || size > 0x7fffffff) throw new InputError(`${what} size ${size} must be an integer in 0..2^31-1`);
}

/** r1 = a readable+writable region of exactly `size` bytes, r2 = size (conformance-suite style). */
export function memory(size: number, options: ContextOptions & { readonly readOnly?: boolean } = {}): ContextDescriptor {
  checkSize(size, 'memory');
  return {
    name: `memory(${size})`, r1: { kind: 'memory', size, readOnly: options.readOnly ?? false }, r2: 'size',
    packetWritable: false, ...common(options),
  };
}

/** r1 = a fixed-size record (read-only by default), r2 = size. */
export function event(size: number, options: ContextOptions & { readonly readOnly?: boolean } = {}): ContextDescriptor {
  checkSize(size, 'event');
  const fields: CtxField[] = size === 0 ? [] : [{ name: 'record', offset: 0, size, readOnly: options.readOnly ?? true }];
  return { name: `event(${size})`, r1: { kind: 'struct', size, fields }, r2: 'size', packetWritable: false, ...common(options) };
}

/** r1 = `struct { u64 data; u64 data_end; }`; packet data is writable unless `writable: false`. */
export function packet(options: ContextOptions & { readonly writable?: boolean } = {}): ContextDescriptor {
  const fields: CtxField[] = [
    { name: 'data', offset: 0, size: 8, load: 'packet' },
    { name: 'data_end', offset: 8, size: 8, load: 'packet_end' },
  ];
  return {
    name: 'packet', r1: { kind: 'struct', size: 16, fields }, r2: 'scalar', layout: 'packet',
    packetWritable: options.writable ?? true, packet: packetFields(fields)!, ...common(options),
  };
}

/** The packet bounds the fields expose, if they expose both data and data_end. */
export function packetFields(fields: readonly CtxField[]): PacketFields | undefined {
  const data = fields.find((f) => f.load === 'packet');
  const end = fields.find((f) => f.load === 'packet_end');
  const meta = fields.find((f) => f.load === 'packet_meta');
  if (!data || !end) return undefined;
  return { data: data.offset, end: end.offset, width: data.size as 4 | 8, ...(meta ? { meta: meta.offset } : {}) };
}

const POINTER_LOADS: readonly CtxLoad[] = ['packet', 'packet_meta', 'packet_end'];

/** Pointer fields: each kind at most once, all of one width, 4 or 8 bytes. */
function checkPointerFields(name: string, fields: readonly CtxField[]): void {
  const pointers = fields.filter((f) => (f.load ?? 'scalar') !== 'scalar');
  for (const f of pointers) {
    if (f.size !== 4 && f.size !== 8) throw new InputError(`context ${name}: pointer field ${f.name} must be 4 or 8 bytes`);
    if (f.size !== pointers[0]!.size) throw new InputError(`context ${name}: pointer fields ${pointers[0]!.name} and ${f.name} differ in width`);
  }
  for (const load of POINTER_LOADS) {
    if (pointers.filter((f) => f.load === load).length > 1) throw new InputError(`context ${name}: more than one ${load} field`);
  }
}

/** A user-defined context struct; fields must lie inside it and not overlap. */
export function structContext(name: string, size: number, fields: readonly CtxField[], options: ContextOptions = {}): ContextDescriptor {
  checkSize(size, 'context');
  const sorted = [...fields].sort((a, b) => a.offset - b.offset);
  let end = 0;
  for (const f of sorted) {
    if (!Number.isInteger(f.offset) || !Number.isInteger(f.size) || f.offset < 0 || f.size <= 0 || f.offset + f.size > size) {
      throw new InputError(`context ${name}: field ${f.name} [${f.offset}, +${f.size}) is not inside the ${size}-byte struct`);
    }
    if (f.offset < end) throw new InputError(`context ${name}: field ${f.name} overlaps the field before it`);
    end = f.offset + f.size;
  }
  checkPointerFields(name, sorted);
  const packet = packetFields(sorted);
  return { name, r1: { kind: 'struct', size, fields: sorted }, r2: 'scalar', packetWritable: true, ...(packet ? { packet } : {}), ...common(options) };
}

export const helperAllowed = (ctx: ContextDescriptor, id: number): boolean => ctx.helpers === 'all' || ctx.helpers.has(id);

export const contextSize = (ctx: ContextDescriptor): number => ctx.r1.size;

/**
 * What entryState assumes about r1 and r2, as the runtime checks it at every entry (runtime/entry.ts);
 * `atomicsOnContext`: the program has atomics on the context, which it found aligned relative to r1.
 */
export function entryContract(ctx: ContextDescriptor, atomicsOnContext: boolean): EntryContract {
  const { r1 } = ctx;
  if (r1.kind === 'memory' && r1.size === 0) return { r1: 'null', size: 0, r2: 'size' };
  let contract: EntryContract = { r1: 'object', size: r1.size, r2: ctx.r2 };
  if (ctx.packet) contract = { ...contract, packet: ctx.packet };
  return atomicsOnContext ? { ...contract, aligned: true } : contract;
}

/** The state at the entry: r1 and r2 as the descriptor says, r10 the frame pointer, the rest uninitialized. */
export function entryState(ctx: ContextDescriptor): VState {
  const frame = newFrame(0, -1, 0);
  let r1: RegState;
  if (ctx.r1.kind === 'memory') {
    r1 = ctx.r1.size === 0 ? SCALAR_ZERO : makePtr('mem', { size: ctx.r1.size, readOnly: ctx.r1.readOnly });
  } else {
    r1 = makePtr('ctx');
  }
  frame.regs[1] = r1;
  frame.regs[2] = ctx.r2 === 'size' ? scalarConst(BigInt(ctx.r1.size)) : SCALAR_UNKNOWN;
  return { frames: [frame], refs: [] };
}

/** The field holding bytes [lo, hi) of the context, if one does. */
export function fieldAt(ctx: ContextDescriptor, lo: number, hi: number): CtxField | undefined {
  if (ctx.r1.kind !== 'struct') return undefined;
  return ctx.r1.fields.find((f) => f.offset <= lo && hi <= f.offset + f.size);
}

/** Fields overlapping [lo, hi), for messages. */
export function fieldsOverlapping(ctx: ContextDescriptor, lo: number, hi: number): readonly CtxField[] {
  if (ctx.r1.kind !== 'struct') return [];
  return ctx.r1.fields.filter((f) => f.offset < hi && lo < f.offset + f.size);
}
