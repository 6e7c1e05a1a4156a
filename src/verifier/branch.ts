/**
 * Conditional jumps: which edges are feasible and what each teaches. An Edge is a function applied to
 * the state that continues along it (undefined when the edge cannot be taken), so the exploration
 * copies the state only when both edges are live.
 *
 * Scalars refine by ranges and known bits (scalar-branch.ts), and the refinement reaches every copy
 * of the value (same scalar id, shifted by the constants added since the copy). Pointer comparisons
 * are allowed only in forms that reveal nothing about an address:
 * - a pointer against 0 with == / != (the null check: a map value that may be null becomes a map
 *   value on one edge and 0 on the other, in every copy sharing its id; a ring buffer record that may
 *   be null likewise, its reference dropped on the null edge; other pointers are never null);
 * - packet against packet_end with unsigned or equality conditions, which proves bytes readable;
 * - two pointers into the same object (same stack frame, the context, one packet, one region, one
 *   map's values) with unsigned or equality conditions. When the base is unique and no address can
 *   wrap, the comparison is one of offsets: decided when both are exact, otherwise it bounds the
 *   variable offset of the other (a loop walking a pointer up to an end pointer terminates).
 */
import type { InsnOf, JmpCond } from '../isa/insn.js';
import { formatReg, hasConstOffset, constOffset, type Ptr, type RegState } from './reg-state.js';
import { refuse } from './refusal.js';
import { NEGATE, SWAP, branchScalars, type Cond } from './scalar-branch.js';
import { SCALAR_ZERO, constValue, isConstScalar, scalarConst, immScalar, unlinked, withLink, type Scalar } from './scalar.js';
import { scalarAlu } from './scalar-alu.js';
import { dropRef, mapValues, topFrame, type VState } from './state.js';

export type Edge = ((s: VState) => void) | undefined;

export interface Edges {
  readonly taken: Edge;
  readonly fallthrough: Edge;
}

const NOTHING = (): void => {};
const BOTH: Edges = { taken: NOTHING, fallthrough: NOTHING };

/** A linked copy `delta - value.delta` away from a refined value. */
function shifted(value: Scalar, delta: number): Scalar {
  if (delta === value.delta) return value;
  const moved = scalarAlu('add', 64, unlinked(value), scalarConst(BigInt(delta - value.delta)));
  return withLink(moved, value.id, delta);
}

/** Sets a register and every linked copy of the scalar (same non-zero id) to the refined value. */
function setScalar(s: VState, reg: number | undefined, value: Scalar): void {
  if (reg !== undefined) topFrame(s).regs[reg] = value;
  if (value.id !== 0) mapValues(s, (v) => (v.t === 'scalar' && v.id === value.id ? shifted(value, v.delta) : v));
}

function scalarEdges(insn: InsnOf<'jmp'>, a: Scalar, b: Scalar): Edges {
  const { taken, fallthrough } = branchScalars(insn.cond, insn.width, a, b);
  const srcReg = insn.operand === 'reg' ? insn.src : undefined;
  const edge = (pair: [Scalar, Scalar] | undefined): Edge => pair && ((s: VState): void => {
    setScalar(s, insn.dst, pair[0]);
    if (srcReg !== undefined && srcReg !== insn.dst) setScalar(s, srcReg, pair[1]);
  });
  return { taken: edge(taken), fallthrough: edge(fallthrough) };
}

const isZero = (r: RegState): boolean => r.t === 'scalar' && isConstScalar(r) && constValue(r) === 0n;

/** `ptr == 0` / `ptr != 0`. */
function nullCheck(cond: 'jeq' | 'jne', p: Ptr): Edges {
  let isNull: Edge;
  let notNull: Edge = NOTHING;
  if (p.kind === 'map_value_or_null') {
    const id = p.id;
    isNull = (s) => mapValues(s, (v) => (v.t === 'ptr' && v.kind === 'map_value_or_null' && v.id === id ? SCALAR_ZERO : v));
    notNull = (s) => mapValues(s, (v) => (v.t === 'ptr' && v.kind === 'map_value_or_null' && v.id === id ? { ...v, kind: 'map_value', id: 0 } : v));
  } else if (p.kind === 'ringbuf_mem_or_null') {
    // A null record holds nothing: its reference is dropped (the kernel's mark_ptr_or_null_regs).
    const ref = p.ref;
    isNull = (s) => {
      mapValues(s, (v) => (v.t === 'ptr' && v.kind === 'ringbuf_mem_or_null' && v.ref === ref ? SCALAR_ZERO : v));
      dropRef(s, ref);
    };
    notNull = (s) => mapValues(s, (v) => (v.t === 'ptr' && v.kind === 'ringbuf_mem_or_null' && v.ref === ref ? { ...v, kind: 'ringbuf_mem' } : v));
  }
  return cond === 'jeq' ? { taken: isNull, fallthrough: notNull } : { taken: notNull, fallthrough: isNull };
}

/** What `pkt cond pkt_end` holding proves: bytes [base, base + n) are in the packet. */
function provenBytes(cond: Cond, off: number): number | undefined {
  switch (cond) {
    case 'jle': case 'jeq': return off;
    case 'jlt': return off + 1;
    default: return undefined;
  }
}

function markRange(p: Ptr, bytes: number | undefined): Edge {
  if (bytes === undefined || bytes <= 0 || p.var.smin < 0n || p.var.umax > 0xffffn) return NOTHING;
  const id = p.id;
  return (s) => mapValues(s, (v) => (v.t === 'ptr' && v.kind === 'packet' && v.id === id && v.range < bytes ? { ...v, range: bytes } : v));
}

/** `pkt cond pkt_end` (cond already oriented with the packet pointer on the left). */
function packetEdges(cond: Cond, pkt: Ptr): Edges {
  return {
    taken: markRange(pkt, provenBytes(cond, pkt.off)),
    fallthrough: markRange(pkt, provenBytes(NEGATE[cond], pkt.off)),
  };
}

function sameObject(a: Ptr, b: Ptr): boolean {
  if (a.kind !== b.kind) return false;
  switch (a.kind) {
    case 'stack': return a.frame === b.frame;
    case 'ctx': case 'packet': case 'packet_end': return true;
    case 'mem': return a.region === b.region;
    // Values of one map: may be two different values, so comparable but never decided.
    case 'map_value': return a.region === b.region && a.region !== -1;
    // One record: the same reference.
    case 'ringbuf_mem': return a.ref === b.ref;
    case 'map_value_or_null': case 'map_handle': case 'ringbuf_mem_or_null': case 'released_mem': case 'func': return false;
  }
}

const RELATIONAL = new Set<Cond>(['jeq', 'jne', 'jgt', 'jge', 'jlt', 'jle']);
const AS_SIGNED: Partial<Record<Cond, JmpCond>> = { jeq: 'jeq', jne: 'jne', jgt: 'jsgt', jge: 'jsge', jlt: 'jslt', jle: 'jsle' };

/**
 * Addresses in one object compare as their offsets do, as long as no address can wrap: bases are
 * at least 64 KiB (the null guard) and below 2^32, so total offsets in [-64 KiB, 2^62] are safe.
 */
const noWrap = (p: Ptr): boolean => BigInt(p.off) + p.var.smin >= -65536n && BigInt(p.off) + p.var.smax <= 1n << 62n;

/** Refines the variable part of the pointer in `reg` from `p.off + p.var cond k`. */
function offsetEdges(cond: JmpCond, p: Ptr, reg: number, k: number): Edges {
  const { taken, fallthrough } = branchScalars(cond, 64, p.var, scalarConst(BigInt(k - p.off)));
  const edge = (pair: [Scalar, Scalar] | undefined): Edge => pair && ((s: VState): void => {
    topFrame(s).regs[reg] = { ...p, var: pair[0] };
  });
  return { taken: edge(taken), fallthrough: edge(fallthrough) };
}

/** Two pointers into one object with a unique base: decide or refine on the offsets. */
function sameBaseEdges(insn: InsnOf<'jmp'>, a: Ptr, b: Ptr): Edges {
  if (a.kind === 'map_value' || !noWrap(a) || !noWrap(b)) return BOTH;
  // Offsets are signed (stack offsets are negative), so the unsigned condition becomes its signed twin.
  const cond = AS_SIGNED[insn.cond]!;
  if (hasConstOffset(b)) return offsetEdges(cond, a, insn.dst, constOffset(b));
  if (hasConstOffset(a)) return offsetEdges(SWAP[cond] as JmpCond, b, insn.src, constOffset(a));
  return BOTH;
}

function pointerPair(insn: InsnOf<'jmp'>, a: Ptr, b: Ptr): Edges {
  const regs = [insn.dst, insn.src];
  if (!RELATIONAL.has(insn.cond)) {
    refuse('E_VERIFY_PTR_COMPARE', `${insn.cond} on pointers is not allowed (only unsigned and equality comparisons)`, regs);
  }
  if (a.kind === 'packet' && b.kind === 'packet_end') return packetEdges(insn.cond, a);
  if (a.kind === 'packet_end' && b.kind === 'packet') return packetEdges(SWAP[insn.cond], b);
  if (!sameObject(a, b)) {
    refuse('E_VERIFY_PTR_COMPARE', `cannot compare ${formatReg(a)} with ${formatReg(b)}: they do not point into the same object`, regs);
  }
  return sameBaseEdges(insn, a, b);
}

/** The feasible edges of a conditional jump and what each implies. */
export function branchEdges(state: VState, insn: InsnOf<'jmp'>): Edges {
  const regs = topFrame(state).regs;
  const a = regs[insn.dst]!;
  const b: RegState = insn.operand === 'reg' ? regs[insn.src]! : immScalar(insn.imm);
  if (a.t === 'uninit' || b.t === 'uninit') {
    const r = a.t === 'uninit' ? insn.dst : insn.src;
    refuse('E_VERIFY_UNINIT_REGISTER', `r${r} is not initialized`, [r]);
  }
  if (a.t === 'scalar' && b.t === 'scalar') return scalarEdges(insn, a, b);
  const involved = insn.operand === 'reg' ? [insn.dst, insn.src] : [insn.dst];
  if (insn.width === 32) refuse('E_VERIFY_PTR_COMPARE', '32-bit comparison of a pointer is not allowed', involved);
  if (a.t === 'ptr' && b.t === 'ptr') return pointerPair(insn, a, b);
  const [p, other] = a.t === 'ptr' ? [a, b] : [b as Ptr, a];
  if ((insn.cond === 'jeq' || insn.cond === 'jne') && isZero(other)) return nullCheck(insn.cond, p);
  return refuse('E_VERIFY_PTR_COMPARE', `comparing ${formatReg(p)} with the scalar ${formatReg(other)} is not allowed (only == 0 and != 0 null checks)`, involved);
}
