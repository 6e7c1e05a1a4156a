/**
 * Calls to helpers, checked against their prototypes: each argument register must hold what its
 * ArgKind says, memory arguments must be readable (or writable) for as many bytes as the size
 * argument may say, and afterwards r1-r5 are clobbered and r0 holds what the RetKind says.
 */
import { helperAllowed, type ContextDescriptor } from './context.js';
import type { ArgKind, HelperProto, RetKind } from '../runtime/helper-proto.js';
import { protoProblem } from '../runtime/helper-proto.js';
import { MAX_VAR_OFF } from './access-common.js';
import { checkPacket, checkRegion, derefPtr } from './mem-access.js';
import { UNINIT, constOffset, formatReg, hasConstOffset, kindName, makePtr, type Ptr, type RegState } from './reg-state.js';
import { BPF_MAP_TYPE } from '../maps/types.js';
import { refuse } from './refusal.js';
import { SCALAR_UNKNOWN, constValue, isConstScalar, scalarURange, type Scalar } from './scalar.js';
import { stackBuffer, stackString, type DepthSink } from './stack-access.js';
import { releaseRef, topFrame, type VState } from './state.js';
import { checkLockBytes, refuseWhileLocked, spinLockArg } from './spin-lock.js';
import { checkMapAccess, checkMapHelper } from './map-access.js';

/** A map the program can name with `lddw rX, map_by_idx(N)` (N indexes the verify options' maps). */
export interface MapDescriptor {
  readonly name?: string;
  readonly keySize: number;
  readonly valueSize: number;
  readonly maxEntries?: number;
  /** BPF_MAP_TYPE number (src/maps/types.ts), when known: only an array of one entry has a direct value address. */
  readonly type?: number;
  /** The offset of the values' bpf_spin_lock, when they hold one (spin-lock.ts). */
  readonly spinLockOffset?: number;
  /** BPF_F_* creation flags: BPF_F.RDONLY_PROG and BPF_F.WRONLY_PROG limit what programs do with the values (map-access.ts). */
  readonly flags?: number;
  /** Whether the host froze the map (BpfMap.freeze). */
  readonly frozen?: boolean;
  /**
   * The value's bytes, given only for a frozen BPF_F.RDONLY_PROG array of one entry, which nothing can
   * change any more: loads from it at known offsets are these constants (map-access.ts).
   */
  readonly constantValue?: Uint8Array;
}

export type HelperLookup =
  /** label: how messages name the helper, e.g. `helper memfrob#1`. */
  | { readonly found: true; readonly label: string; readonly proto: HelperProto }
  | { readonly found: false; readonly why: string };

export interface CallEnv {
  readonly ctx: ContextDescriptor;
  readonly maps: readonly MapDescriptor[];
  readonly depth: DepthSink;
  lookupHelper(id: number): HelperLookup;
  newId(): number;
}

interface ArgCheck {
  readonly env: CallEnv;
  readonly state: VState;
  readonly label: string;
  readonly proto: HelperProto;
  /** Map index given by the `map` argument, once seen. */
  map: number | undefined;
  /** The constant of an `alloc_size_or_zero` argument. */
  allocSize: number;
  /** The reference a `ringbuf_record` argument releases. */
  release: number;
  readonly pc: number;
}

function argLabel(c: ArgCheck, i: number): string {
  return `${c.label} argument ${i + 1} (r${i + 1})`;
}

function wantPtr(c: ArgCheck, i: number, value: RegState, what: string): Ptr {
  if (value.t !== 'ptr') refuse('E_VERIFY_HELPER_ARG', `${argLabel(c, i)} must be ${what}, not ${formatReg(value)}`, [i + 1]);
  return derefPtr(value, i + 1);
}

/** The byte count a size argument allows: [min, max]. */
function sizeRange(c: ArgCheck, i: number, kind: ArgKind, value: RegState): [number, number] {
  if (value.t !== 'scalar') refuse('E_VERIFY_HELPER_ARG', `${argLabel(c, i)} is a size and must be a scalar, not ${formatReg(value)}`, [i + 1]);
  if (value.umax > BigInt(MAX_VAR_OFF)) {
    refuse('E_VERIFY_HELPER_ARG', `${argLabel(c, i)}: size ${formatReg(value)} is not bounded (at most ${MAX_VAR_OFF}); check it against a limit first`, [i + 1]);
  }
  if (kind === 'size' && value.umin === 0n) refuse('E_VERIFY_HELPER_ARG', `${argLabel(c, i)}: size ${formatReg(value)} may be 0`, [i + 1]);
  return [Number(value.umin), Number(value.umax)];
}

/** A buffer of lenMin..lenMax bytes at the pointer, read and/or written by the helper. */
function checkBuffer(c: ArgCheck, i: number, p: Ptr, len: [number, number], access: { read: boolean; write: boolean }): void {
  const reg = i + 1;
  const mode = access.write ? 'write' : 'read';
  switch (p.kind) {
    case 'stack': stackBuffer(c.state, p, reg, len[0], len[1], access, c.env.depth); return;
    case 'mem': case 'map_value': case 'ringbuf_mem':
      checkRegion(p, reg, 0, len[1], mode);
      checkLockBytes(c.env.maps, p, reg, 0, len[1]);
      if (access.read) checkMapAccess(c.env.maps, p, reg, len[1], 'read');
      if (access.write) checkMapAccess(c.env.maps, p, reg, len[1], 'write');
      return;
    case 'packet':
      if (access.write && !c.env.ctx.packetWritable) refuse('E_VERIFY_PKT_ACCESS', `the ${c.env.ctx.name} context does not allow writing packet data`, [reg]);
      checkPacket(p, reg, 0, len[1], mode);
      return;
    default:
      refuse('E_VERIFY_HELPER_ARG', `${argLabel(c, i)}: a ${kindName(p.kind)} cannot be passed as a buffer`, [reg]);
  }
}

function checkString(c: ArgCheck, i: number, p: Ptr): void {
  switch (p.kind) {
    case 'stack': stackString(c.state, p, i + 1, c.env.depth); return;
    case 'mem': case 'map_value': case 'ringbuf_mem': checkRegion(p, i + 1, 0, 1, 'read'); checkMapAccess(c.env.maps, p, i + 1, 1, 'read'); return;
    case 'packet': checkPacket(p, i + 1, 0, 1, 'read'); return;
    default: refuse('E_VERIFY_HELPER_ARG', `${argLabel(c, i)}: a ${kindName(p.kind)} cannot hold a string`, [i + 1]);
  }
}

function mapOf(c: ArgCheck, i: number): { keySize: number; valueSize: number } {
  const m = c.map === undefined ? undefined : c.env.maps[c.map];
  if (!m) refuse('E_VERIFY_HELPER_ARG', `${argLabel(c, i)} refers to a map argument that was not given`, [i + 1]);
  return m;
}

/** The kernel's check_map_func_compatibility: a helper that works on some map types only. */
function checkMapType(c: ArgCheck, i: number): void {
  const types = c.proto.mapTypes;
  const type = c.env.maps[c.map!]?.type;
  if (types && (type === undefined || !types.includes(type))) {
    refuse('E_VERIFY_HELPER_ARG', `${argLabel(c, i)}: map ${c.map} (type ${type ?? 'unknown'}) cannot be used with ${c.label}`, [i + 1]);
  }
}

function checkArg(c: ArgCheck, args: readonly ArgKind[], i: number): void {
  const regs = topFrame(c.state).regs;
  const kind = args[i]!;
  const value = regs[i + 1]!;
  if (value.t === 'uninit') refuse('E_VERIFY_UNINIT_REGISTER', `${argLabel(c, i)} is not initialized`, [i + 1]);
  switch (kind) {
    case 'anything': case 'size': case 'size_or_zero': return; // sizes are checked with their buffer
    case 'scalar': case 'const':
      if (value.t !== 'scalar') refuse('E_VERIFY_HELPER_ARG', `${argLabel(c, i)} must be a scalar, not ${formatReg(value)}`, [i + 1]);
      if (kind === 'const' && !isConstScalar(value)) refuse('E_VERIFY_HELPER_ARG', `${argLabel(c, i)} must be a known constant, not ${formatReg(value)}`, [i + 1]);
      return;
    case 'mem_read': case 'mem_write': case 'mem_rw': {
      const p = wantPtr(c, i, value, 'a pointer to memory');
      const len = sizeRange(c, i + 1, args[i + 1]!, regs[i + 2]!);
      checkBuffer(c, i, p, len, { read: kind !== 'mem_write', write: kind !== 'mem_read' });
      return;
    }
    case 'string': checkString(c, i, wantPtr(c, i, value, 'a pointer to a string')); return;
    case 'ctx': {
      const p = wantPtr(c, i, value, 'the context pointer');
      const whole = (p.kind === 'ctx' || (p.kind === 'mem' && p.region === 0)) && p.off === 0 && isConstScalar(p.var) && constValue(p.var) === 0n;
      if (!whole) refuse('E_VERIFY_HELPER_ARG', `${argLabel(c, i)} must be the context pointer as received, not ${formatReg(p)}`, [i + 1]);
      return;
    }
    case 'map': case 'ringbuf_map': case 'prog_array_map': {
      if (value.t !== 'ptr' || value.kind !== 'map_handle') refuse('E_VERIFY_HELPER_ARG', `${argLabel(c, i)} must be a map handle, not ${formatReg(value)}`, [i + 1]);
      const desc = c.env.maps[value.region];
      const ring = desc?.type === BPF_MAP_TYPE.RINGBUF;
      // The kernel's check_map_func_compatibility, both ways.
      if (kind === 'map' && ring) refuse('E_VERIFY_HELPER_ARG', `${argLabel(c, i)}: ${mapText(value.region, desc)} is a ring buffer, which this helper cannot take (only the ring buffer helpers can)`, [i + 1]);
      if (kind === 'ringbuf_map' && !ring) {
        refuse('E_VERIFY_HELPER_ARG', `${argLabel(c, i)} must be a ring buffer, but ${mapText(value.region, desc)} is ${desc?.type === undefined ? 'not known to be one' : `a map of type ${desc.type}`}`, [i + 1]);
      }
      checkProgArray(c, i, kind, value.region, desc);
      // Only the helpers that name it take a perf_event_array (check_map_func_compatibility).
      if (desc?.type === BPF_MAP_TYPE.PERF_EVENT_ARRAY && !c.proto.mapTypes?.includes(desc.type)) {
        refuse('E_VERIFY_HELPER_ARG', `${argLabel(c, i)}: ${mapText(value.region, desc)} is a perf_event_array, which only perf_event_output takes`, [i + 1]);
      }
      c.map = value.region;
      checkMapType(c, i);
      return;
    }
    case 'alloc_size_or_zero': {
      if (value.t !== 'scalar' || !isConstScalar(value)) {
        refuse('E_VERIFY_HELPER_ARG', `${argLabel(c, i)} is the record size and must be a known constant, not ${formatReg(value)}`, [i + 1]);
      }
      const size = constValue(value);
      if (size > BigInt(MAX_VAR_OFF)) refuse('E_VERIFY_HELPER_ARG', `${argLabel(c, i)}: record size ${size} is larger than ${MAX_VAR_OFF}`, [i + 1]);
      c.allocSize = Number(size);
      return;
    }
    case 'ringbuf_record': {
      const what = 'a ring buffer record from ringbuf_reserve, compared with 0';
      if (value.t === 'ptr' && value.kind === 'released_mem') {
        refuse('E_VERIFY_REF_RELEASED', `${argLabel(c, i)}: the ring buffer record was already submitted or discarded`, [i + 1]);
      }
      if (value.t === 'ptr' && value.kind === 'ringbuf_mem_or_null') refuse('E_VERIFY_HELPER_ARG', `${argLabel(c, i)} may be null: compare it with 0 first`, [i + 1]);
      if (value.t !== 'ptr' || value.kind !== 'ringbuf_mem') refuse('E_VERIFY_HELPER_ARG', `${argLabel(c, i)} must be ${what}, not ${formatReg(value)}`, [i + 1]);
      if (!hasConstOffset(value) || constOffset(value) !== 0) {
        refuse('E_VERIFY_HELPER_ARG', `${argLabel(c, i)} must point to the start of the record (offset 0), not ${formatReg(value)}`, [i + 1]);
      }
      if (!c.state.refs.some((r) => r.id === value.ref)) refuse('E_VERIFY_REF_RELEASED', `${argLabel(c, i)}: the ring buffer record is not held`, [i + 1]);
      c.release = value.ref;
      return;
    }
    case 'spin_lock': case 'spin_unlock':
      spinLockArg(c.env.maps, c.state, value, i + 1, kind === 'spin_unlock', c.pc);
      return;
    case 'callback':
      if (value.t !== 'ptr' || value.kind !== 'func') refuse('E_VERIFY_CALLBACK', `${argLabel(c, i)} must be a subprogram's code address (lddw code_addr), not ${formatReg(value)}`, [i + 1]);
      return;
    case 'callback_ctx':
      if (value.t === 'scalar' && isConstScalar(value) && constValue(value) === 0n) return;
      if (value.t !== 'ptr' || value.kind !== 'stack' || !hasConstOffset(value)) {
        refuse('E_VERIFY_HELPER_ARG', `${argLabel(c, i)} is the callback's context and must be a stack pointer with a known offset or 0, not ${formatReg(value)}`, [i + 1]);
      }
      return;
    case 'map_key': case 'map_value': {
      const m = mapOf(c, i);
      const size = kind === 'map_key' ? m.keySize : m.valueSize;
      checkBuffer(c, i, wantPtr(c, i, value, `a pointer to a map ${kind === 'map_key' ? 'key' : 'value'}`), [size, size], { read: true, write: false });
      return;
    }
    case 'map_value_out': {
      const m = mapOf(c, i);
      const bloom = c.env.maps[c.map!]?.type === BPF_MAP_TYPE.BLOOM_FILTER;
      checkBuffer(c, i, wantPtr(c, i, value, 'a pointer to room for a map value'), [m.valueSize, m.valueSize], { read: bloom, write: !bloom });
      return;
    }
  }
}

/** As the kernel: only tail_call takes a prog_array, and it takes nothing else. */
function checkProgArray(c: ArgCheck, i: number, kind: ArgKind, index: number, desc: MapDescriptor | undefined): void {
  const progs = desc?.type === BPF_MAP_TYPE.PROG_ARRAY;
  if (kind !== 'prog_array_map' && progs) refuse('E_VERIFY_HELPER_ARG', `${argLabel(c, i)}: ${mapText(index, desc)} is a prog_array, which only tail_call can take`, [i + 1]);
  if (kind === 'prog_array_map' && !progs) {
    refuse('E_VERIFY_HELPER_ARG', `${argLabel(c, i)} must be a prog_array, but ${mapText(index, desc)} is ${desc?.type === undefined ? 'not known to be one' : `a map of type ${desc.type}`}`, [i + 1]);
  }
}

/**
 * The kernel's rules for a tail call (check_helper_call, check_max_stack_depth): the next program
 * could not release a reference this one holds, and a tail call replaces the whole run here, where
 * from a subprogram the kernel returns into its caller: this runtime refuses it in subprograms.
 */
function checkTailCall(state: VState, label: string): void {
  const held = state.refs[0];
  if (held) refuse('E_VERIFY_REF_LEAK', `${label} would leak the ring buffer record reserved at pc ${held.pc}: submit or discard it first`);
  if (state.frames.length > 1) refuse('E_VERIFY_TAIL_CALL', `${label} in a subprogram: tail calls are allowed in the main program only`);
}

const mapText = (index: number, desc: MapDescriptor | undefined): string => `map ${index}${desc?.name ? ` ('${desc.name}')` : ''}`;

function returned(c: ArgCheck, ret: RetKind, pc: number): RegState {
  if (ret === 'scalar') return SCALAR_UNKNOWN;
  if (ret === 'ringbuf_mem_or_null') {
    // An acquired reference: every path from here must submit or discard the record (exit.ts).
    const id = c.env.newId();
    c.state.refs.push({ id, pc });
    return makePtr('ringbuf_mem_or_null', { id, ref: id, size: c.allocSize, region: c.map ?? -1 });
  }
  if (ret === 'void') return UNINIT;
  if (ret === 'map_value_or_null') {
    const m = c.env.maps[c.map!]!;
    const id = c.env.newId();
    // The element, for a map whose values hold a lock: unlock must name the one locked (spin-lock.ts).
    return makePtr('map_value_or_null', { id, size: m.valueSize, region: c.map!, ref: m.spinLockOffset === undefined ? 0 : id });
  }
  if (ret.kind === 'scalar') return scalarURange(ret.min, ret.max) as Scalar;
  return makePtr('map_value_or_null', { id: c.env.newId(), size: ret.valueSize, region: -1 });
}

/**
 * Checks `call id` against the helper's prototype and applies its effect on the state; returns the
 * index of the map its `map` argument names, if it has one.
 */
export function callHelper(env: CallEnv, state: VState, id: number, pc: number): number | undefined {
  if (!helperAllowed(env.ctx, id)) refuse('E_VERIFY_HELPER', `helper ${id} is not allowed in the ${env.ctx.name} context`);
  const found = env.lookupHelper(id);
  if (!found.found) refuse('E_VERIFY_HELPER', found.why);
  const problem = protoProblem(found.proto);
  if (problem) refuse('E_VERIFY_HELPER', `${found.label} has a malformed prototype: ${problem}`);
  const check: ArgCheck = { env, state, label: found.label, proto: found.proto, map: undefined, allocSize: 0, release: 0, pc };
  const { args, ret } = found.proto;
  if (!args.includes('spin_unlock')) refuseWhileLocked(state, `a call of ${found.label}`);
  // Where a tail call may be made at all, before what it is given.
  if (args.includes('prog_array_map')) checkTailCall(state, found.label);
  for (let i = 0; i < args.length; i++) checkArg(check, args, i);
  checkMapHelper(env.maps, check.map, id, found.label);
  if (check.release !== 0) releaseRef(state, check.release);
  const regs = topFrame(state).regs;
  regs[0] = returned(check, ret, pc);
  for (let r = 1; r <= 5; r++) regs[r] = UNINIT;
  return check.map;
}
