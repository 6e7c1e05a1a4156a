/**
 * Memory access rules by pointer kind: what `*(rX + off)` may do, and what a load yields.
 *
 * - stack: inside the frame, initialized bytes only (stack-access.ts);
 * - ctx: inside one field of the descriptor (ctx-access.ts);
 * - packet: inside the range a comparison with packet_end proved;
 * - mem / map_value / ringbuf_mem: inside the region (value, record), writes only where writable;
 * - map_value_or_null, ringbuf_mem_or_null: never, until a null check; packet_end, map handles and
 *   records already submitted or discarded: never.
 *
 * Storing a pointer anywhere but the stack is refused: the host reads contexts, memory regions, maps
 * and packets, and must never see a pointer into the engine's memory.
 */
import type { AccessSize } from '../isa/insn.js';
import type { ContextDescriptor } from './context.js';
import { ctxAccess } from './ctx-access.js';
import { MAX_PACKET_OFF, accessSpan, accessText, spanText, type AccessMode } from './access-common.js';
import { formatPtr, formatReg, kindName, type Ptr, type RegState } from './reg-state.js';
import { refuse } from './refusal.js';
import { formatScalar, loadedScalar, type Scalar } from './scalar.js';
import { stackAtomic, stackLoad, stackStore, type DepthSink } from './stack-access.js';
import type { VState } from './state.js';
import type { MapDescriptor } from './helper-call.js';
import { checkLockBytes } from './spin-lock.js';
import { checkMapAccess, constantLoad } from './map-access.js';

export interface AccessEnv {
  readonly ctx: ContextDescriptor;
  readonly depth: DepthSink;
  /** The program's maps: a value's bpf_spin_lock is out of reach of loads and stores. */
  readonly maps?: readonly MapDescriptor[];
}

/** The pointer in register `reg`, refusing anything that cannot be dereferenced. */
export function derefPtr(value: RegState, reg: number): Ptr {
  switch (value.t) {
    case 'uninit': return refuse('E_VERIFY_UNINIT_REGISTER', `r${reg} is not initialized`, [reg]);
    case 'scalar': return refuse('E_VERIFY_INVALID_DEREF', `r${reg} is a scalar, not a pointer: it cannot be dereferenced`, [reg]);
    case 'ptr': break;
  }
  switch (value.kind) {
    case 'map_value_or_null': case 'ringbuf_mem_or_null':
      return refuse('E_VERIFY_NULL_DEREF', `r${reg} may be null: compare it with 0 before dereferencing it`, [reg]);
    case 'released_mem':
      return refuse('E_VERIFY_REF_RELEASED', `r${reg} points to a ring buffer record already submitted or discarded: it cannot be used any more`, [reg]);
    case 'packet_end': case 'map_handle': case 'func':
      return refuse('E_VERIFY_INVALID_DEREF', `r${reg} is a ${kindName(value.kind)}, which cannot be dereferenced`, [reg]);
    default: return value;
  }
}

/** Packet bytes are readable only inside the proven range, from a base that cannot be below data. */
export function checkPacket(p: Ptr, reg: number, insnOff: number, size: number, mode: AccessMode): void {
  const what = accessText(mode, size);
  if (p.var.smin < 0n) {
    refuse('E_VERIFY_PKT_ACCESS', `${what} through r${reg}: the variable packet offset ${formatScalar(p.var)} may be negative`, [reg]);
  }
  if (p.var.umax > BigInt(MAX_PACKET_OFF)) {
    refuse('E_VERIFY_PKT_ACCESS', `${what} through r${reg}: the variable packet offset ${formatScalar(p.var)} is not bounded by ${MAX_PACKET_OFF}`, [reg]);
  }
  const lo = p.off + insnOff;
  if (lo < 0 || lo + size > p.range) {
    const proven = p.range === 0 ? 'no bytes are proven inside the packet' : `only [0, ${p.range}) is proven inside the packet`;
    refuse('E_VERIFY_PKT_ACCESS', `${what} at ${spanText('pkt', { lo, hi: lo })}: ${proven} (check it against data_end first)`, [reg]);
  }
}

/** A region of `p.size` bytes (memory input, map value, ring buffer record): the whole possible access inside it. */
export function checkRegion(p: Ptr, reg: number, insnOff: number, size: number, mode: AccessMode): void {
  const label = p.kind === 'mem' ? 'mem' : p.kind === 'ringbuf_mem' ? 'ringbuf_mem' : 'map_value';
  const span = accessSpan(p, insnOff, 'E_VERIFY_MEM_ACCESS', accessText(mode, size), reg);
  if (span.lo < 0 || span.hi + size > p.size) {
    const region = p.kind === 'mem' ? 'memory region' : p.kind === 'ringbuf_mem' ? 'ring buffer record' : 'map value';
    refuse('E_VERIFY_MEM_ACCESS', `${accessText(mode, size)} at ${spanText(label, span)} is outside the ${p.size}-byte ${region}`, [reg]);
  }
  if (mode !== 'read' && p.readOnly) refuse('E_VERIFY_MEM_ACCESS', `${accessText(mode, size)} at ${spanText(label, span)}: the ${label} is read-only`, [reg]);
}

export function load(env: AccessEnv, state: VState, base: RegState, reg: number, off: number, size: AccessSize, signed: boolean): { value: RegState; ptr: Ptr } {
  const p = derefPtr(base, reg);
  switch (p.kind) {
    case 'stack': return { value: stackLoad(state, p, reg, off, size, signed, env.depth), ptr: p };
    case 'ctx': return { value: ctxAccess(env.ctx, p, reg, off, size, 'read', signed), ptr: p };
    case 'packet': checkPacket(p, reg, off, size, 'read'); break;
    case 'mem': case 'map_value': case 'ringbuf_mem':
      checkRegion(p, reg, off, size, 'read');
      checkLockBytes(env.maps, p, reg, off, size);
      checkMapAccess(env.maps, p, reg, size, 'read');
      break;
    case 'packet_end': case 'map_handle': case 'map_value_or_null': case 'ringbuf_mem_or_null': case 'released_mem': break; // refused by derefPtr
  }
  return { value: constantLoad(env.maps, p, off, size, signed) ?? loadedScalar(size, signed), ptr: p };
}

function noLeak(p: Ptr, value: Scalar | Ptr, valueReg: number | undefined, reg: number): void {
  if (value.t !== 'ptr' || p.kind === 'stack') return;
  const src = valueReg === undefined ? 'a pointer' : `pointer r${valueReg} (${formatPtr(value)})`;
  refuse('E_VERIFY_PTR_LEAK', `storing ${src} through r${reg} (${formatReg(p)}) would leak it where the host can read it`,
    valueReg === undefined ? [reg] : [reg, valueReg]);
}

export function store(
  env: AccessEnv, state: VState, base: RegState, reg: number, off: number, size: AccessSize,
  value: Scalar | Ptr, valueReg: number | undefined,
): Ptr {
  const p = derefPtr(base, reg);
  noLeak(p, value, valueReg, reg);
  switch (p.kind) {
    case 'stack': stackStore(state, p, reg, off, size, value, env.depth); break;
    case 'ctx': ctxAccess(env.ctx, p, reg, off, size, 'write', false); break;
    case 'packet':
      if (!env.ctx.packetWritable) refuse('E_VERIFY_PKT_ACCESS', `the ${env.ctx.name} context does not allow writing packet data`, [reg]);
      checkPacket(p, reg, off, size, 'write');
      break;
    case 'mem': case 'map_value': case 'ringbuf_mem':
      checkRegion(p, reg, off, size, 'write');
      checkLockBytes(env.maps, p, reg, off, size);
      checkMapAccess(env.maps, p, reg, size, 'write');
      break;
    case 'packet_end': case 'map_handle': case 'map_value_or_null': case 'ringbuf_mem_or_null': case 'released_mem': break;
  }
  return p;
}

/** Atomic read-modify-write: stack, memory regions and map values only, scalar operands only. */
export function atomic(env: AccessEnv, state: VState, base: RegState, reg: number, off: number, size: 4 | 8, operand: RegState, operandReg: number): Ptr {
  const p = derefPtr(base, reg);
  if (operand.t !== 'scalar') {
    refuse('E_VERIFY_ATOMIC', `atomic operand r${operandReg} must be a scalar, not ${formatReg(operand)}`, [operandReg]);
  }
  switch (p.kind) {
    case 'stack': stackAtomic(state, p, reg, off, size, env.depth); break;
    case 'mem': case 'map_value': case 'ringbuf_mem':
      checkRegion(p, reg, off, size, 'atomic access');
      checkLockBytes(env.maps, p, reg, off, size);
      checkMapAccess(env.maps, p, reg, size, 'atomic access');
      checkAligned(p, reg, off, size);
      break;
    case 'ctx': case 'packet': case 'packet_end': case 'map_handle': case 'map_value_or_null': case 'ringbuf_mem_or_null': case 'released_mem':
      refuse('E_VERIFY_ATOMIC', `atomic operations are not allowed on a ${kindName(p.kind)}`, [reg]);
  }
  return p;
}

/**
 * Atomics must be naturally aligned (RFC 9669; WebAssembly traps otherwise). Regions start 8-aligned
 * (the runtime checks the context's address, entry.ts), so the offset decides: its fixed part and the
 * bits of its variable part the verifier knows must make a multiple of the size.
 */
function checkAligned(p: Ptr, reg: number, off: number, size: 4 | 8): void {
  const low = BigInt(size - 1);
  const { value, mask } = p.var.tnum;
  if ((mask & low) === 0n && ((value + BigInt(p.off + off)) & low) === 0n) return;
  refuse('E_VERIFY_ATOMIC', `${size}-byte atomic access at ${kindName(p.kind)}${p.off + off >= 0 ? '+' : ''}${p.off + off} ` +
    `(variable part ${formatScalar(p.var)}) is not ${size}-byte aligned`, [reg]);
}
