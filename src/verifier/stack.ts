/**
 * One call frame's 512-byte stack, as 64 slots of 8 bytes. A slot is either a spilled register (an
 * aligned 8-byte store of a whole register: its full state survives, so a pointer stored and loaded
 * back is still a pointer, and a bounded scalar stays bounded) or eight bytes each uninitialized,
 * initialized to something unknown ("misc"), or known zero. Bytes are addressed by their index
 * p = 512 + (offset from r10), so p is in [0, 512).
 *
 * These functions only know bytes; the caller turns faults into refusals with the offsets users see.
 */
import type { AccessSize } from '../isa/insn.js';
import type { Ptr, RegState } from './reg-state.js';
import { constValue, isConstScalar, loadedScalar, scalarConst, type Scalar } from './scalar.js';

export type Slot =
  | { readonly kind: 'spill'; readonly reg: Scalar | Ptr }
  /** Byte i's type in bits 2i..2i+1: 0 uninitialized, 1 misc, 2 zero. */
  | { readonly kind: 'bytes'; readonly types: number };

export type FrameStack = Array<Slot | undefined>;

export const STACK_BYTES = 512;
export const STACK_SLOTS = STACK_BYTES / 8;

const INVALID = 0;
const MISC = 1;
const ZERO = 2;
const ALL_MISC = 0x5555;

export type StackFault =
  | { readonly fault: 'uninit'; readonly byte: number }
  | { readonly fault: 'pointer_bytes'; readonly byte: number }
  | { readonly fault: 'partial_pointer_store' }
  | { readonly fault: 'misaligned_pointer_store' }
  | { readonly fault: 'unterminated'; readonly byte: number };

export const isFault = (x: unknown): x is StackFault => typeof x === 'object' && x !== null && 'fault' in x;

export const emptyStack = (): FrameStack => new Array<Slot | undefined>(STACK_SLOTS).fill(undefined);

export interface ByteInfo {
  readonly init: boolean;
  readonly ptr: boolean;
  /** The byte's value when the verifier knows it. */
  readonly known: number | undefined;
}

const UNINIT_BYTE: ByteInfo = { init: false, ptr: false, known: undefined };
const MISC_BYTE: ByteInfo = { init: true, ptr: false, known: undefined };
const ZERO_BYTE: ByteInfo = { init: true, ptr: false, known: 0 };
const PTR_BYTE: ByteInfo = { init: true, ptr: true, known: undefined };

/** What the verifier knows about byte p of a frame. */
export function byteAt(stack: FrameStack, p: number): ByteInfo {
  const slot = stack[p >> 3];
  if (!slot) return UNINIT_BYTE;
  const b = p & 7;
  if (slot.kind === 'spill') {
    if (slot.reg.t === 'ptr') return PTR_BYTE;
    if (!isConstScalar(slot.reg)) return MISC_BYTE;
    return { init: true, ptr: false, known: Number((constValue(slot.reg) >> BigInt(8 * b)) & 0xffn) };
  }
  const type = (slot.types >> (2 * b)) & 3;
  return type === INVALID ? UNINIT_BYTE : type === ZERO ? ZERO_BYTE : MISC_BYTE;
}

/** The slot as per-byte types (a spill loses its register state, keeping what it says about bytes). */
function asBytes(slot: Slot | undefined): number {
  if (!slot) return 0;
  if (slot.kind === 'bytes') return slot.types;
  if (slot.reg.t === 'ptr' || !isConstScalar(slot.reg)) return ALL_MISC;
  const v = constValue(slot.reg);
  let types = 0;
  for (let b = 0; b < 8; b++) types |= (((v >> BigInt(8 * b)) & 0xffn) === 0n ? ZERO : MISC) << (2 * b);
  return types;
}

function setByte(stack: FrameStack, p: number, type: number): void {
  const i = p >> 3;
  const shift = 2 * (p & 7);
  const types = (asBytes(stack[i]) & ~(3 << shift)) | (type << shift);
  stack[i] = types === 0 ? undefined : { kind: 'bytes', types };
}

/** A load of `size` bytes at byte index p with a constant offset. */
export function readStack(stack: FrameStack, p: number, size: AccessSize, signed: boolean): RegState | StackFault {
  const slot = stack[p >> 3];
  if (slot?.kind === 'spill' && (p & 7) === 0) {
    if (size === 8) return slot.reg;
    // A narrow load of the low bytes of a spilled scalar that fits them is the same value.
    const reg = slot.reg;
    if (reg.t === 'scalar' && !signed && reg.umax < 1n << BigInt(8 * size)) return reg;
  }
  let value = 0n;
  let allKnown = true;
  for (let i = 0; i < size; i++) {
    const info = byteAt(stack, p + i);
    if (info.ptr) return { fault: 'pointer_bytes', byte: p + i };
    if (!info.init) return { fault: 'uninit', byte: p + i };
    if (info.known === undefined) allKnown = false;
    else value |= BigInt(info.known) << BigInt(8 * i);
  }
  if (!allKnown) return loadedScalar(size, signed);
  return scalarConst(signed ? BigInt.asIntN(8 * size, value) : value);
}

/** A store of `size` bytes at byte index p with a constant offset. */
export function writeStack(stack: FrameStack, p: number, size: AccessSize, value: Scalar | Ptr): StackFault | undefined {
  if (size === 8 && (p & 7) === 0) {
    stack[p >> 3] = { kind: 'spill', reg: value };
    return undefined;
  }
  if (value.t === 'ptr') return { fault: size === 8 ? 'misaligned_pointer_store' : 'partial_pointer_store' };
  const known = isConstScalar(value) ? constValue(value) : undefined;
  for (let i = 0; i < size; i++) {
    const zero = known !== undefined && ((known >> BigInt(8 * i)) & 0xffn) === 0n;
    setByte(stack, p + i, zero ? ZERO : MISC);
  }
  return undefined;
}

/** Every byte in [lo, hi) is initialized (and, unless allowed, not part of a spilled pointer). */
export function checkStackRange(stack: FrameStack, lo: number, hi: number, allowPointers: boolean): StackFault | undefined {
  for (let p = lo; p < hi; p++) {
    const info = byteAt(stack, p);
    if (!info.init) return { fault: 'uninit', byte: p };
    if (info.ptr && !allowPointers) return { fault: 'pointer_bytes', byte: p };
  }
  return undefined;
}

/**
 * A store somewhere in [lo, hi) at an offset the verifier does not know exactly: bytes that were
 * initialized stay initialized but their values are lost; uninitialized ones may still be.
 */
export function smearStack(stack: FrameStack, lo: number, hi: number, storesZero: boolean): void {
  for (let p = lo; p < hi; p++) {
    const info = byteAt(stack, p);
    if (!info.init) setByte(stack, p, INVALID);
    else setByte(stack, p, storesZero && info.known === 0 ? ZERO : MISC);
  }
}

/** A helper wrote every byte of [lo, hi). */
export function fillStack(stack: FrameStack, lo: number, hi: number): void {
  for (let p = lo; p < hi; p++) setByte(stack, p, MISC);
}

/** Finds a known-zero byte at or after p, with every byte before it initialized. */
export function checkStackString(stack: FrameStack, p: number): StackFault | undefined {
  for (let q = p; q < STACK_BYTES; q++) {
    const info = byteAt(stack, q);
    if (!info.init) return { fault: 'uninit', byte: q };
    if (info.known === 0) return undefined;
  }
  return { fault: 'unterminated', byte: p };
}

/** Kernel-log style slot text: `fp-8=ptr`, `fp-16=mmmm0000`. */
export function formatSlot(slot: Slot, fmt: (r: Scalar | Ptr) => string): string {
  if (slot.kind === 'spill') return fmt(slot.reg);
  let s = '';
  for (let b = 7; b >= 0; b--) s += '?m0'[(slot.types >> (2 * b)) & 3];
  return s;
}

/**
 * Each slot's bytes as "initialized, value unknown" or uninitialized (2 bits a byte as in `bytes`
 * slots): what a frame holds once a callback may have run on it any number of times. A spilled
 * pointer becomes unknown bytes: a callback may have stored a scalar over it.
 */
export function havocSlots(stack: FrameStack): number[] {
  return stack.map((slot) => {
    if (!slot) return 0;
    if (slot.kind === 'spill') return ALL_MISC;
    return (slot.types | (slot.types >> 1)) & ALL_MISC;
  });
}

/** Sets a frame's slots to `types` (from havocSlots): 0 is an uninitialized slot. */
export function setSlots(stack: FrameStack, types: readonly number[]): void {
  types.forEach((t, i) => (stack[i] = t === 0 ? undefined : { kind: 'bytes', types: t }));
}
