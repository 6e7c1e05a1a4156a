/**
 * Arithmetic involving a pointer. A pointer may only move by a scalar (64-bit += and -=), which
 * changes its fixed offset (constant scalars) or its variable part (anything else); everything else
 * would turn an address into a number the program could leak or forge:
 *
 * - no 32-bit ALU on pointers (it truncates the address), no *, /, &, |, <<, neg, byte swaps;
 * - no pointer + pointer, no scalar - pointer;
 * - pointer - pointer only within the packet (packet/packet_end), giving a scalar length;
 * - no arithmetic on packet_end, map handles, or map values that may still be null (the null check
 *   must see the pointer exactly as the helper returned it).
 */
import type { AluOp, Width } from '../isa/insn.js';
import { MAX_VAR_OFF } from './access-common.js';
import { formatReg, kindName, type Ptr, type RegState } from './reg-state.js';
import { refuse } from './refusal.js';
import { scalarAlu } from './scalar-alu.js';
import { SCALAR_UNKNOWN, constValue, isConstScalar, scalarConst, toS64, unlinked, type Scalar } from './scalar.js';

export interface PtrAluOperands {
  readonly op: AluOp;
  readonly width: Width;
  readonly dst: RegState;
  readonly src: RegState;
  readonly dstReg: number;
  /** undefined for an immediate operand. */
  readonly srcReg: number | undefined;
}

const ARITH_KINDS = new Set(['ctx', 'stack', 'packet', 'mem', 'map_value', 'ringbuf_mem']);

function regsOf(o: PtrAluOperands): number[] {
  return o.srcReg === undefined ? [o.dstReg] : [o.dstReg, o.srcReg];
}

function fail(o: PtrAluOperands, rule: string): never {
  return refuse('E_VERIFY_PTR_ARITH', rule, regsOf(o));
}

/** p ± s. */
function moveBy(o: PtrAluOperands, p: Ptr, s: Scalar, sign: 1 | -1, newId: () => number): Ptr {
  if (!ARITH_KINDS.has(p.kind)) {
    const hint = p.kind === 'map_value_or_null' || p.kind === 'ringbuf_mem_or_null' ? ' (compare it with 0 first; only the checked pointer may move)' : '';
    fail(o, `arithmetic on a ${kindName(p.kind)} is not allowed${hint}`);
  }
  if (isConstScalar(s)) {
    const delta = Number(toS64(constValue(s))) * sign;
    const off = p.off + delta;
    if (Math.abs(delta) > MAX_VAR_OFF || Math.abs(off) > MAX_VAR_OFF) {
      fail(o, `pointer offset ${off} is out of range (at most ±${MAX_VAR_OFF})`);
    }
    return { ...p, off };
  }
  const v = scalarAlu(sign === 1 ? 'add' : 'sub', 64, p.var, s);
  const moved: Ptr = { ...p, var: unlinked(v) };
  // A new variable part: packet ranges proven for the old base do not carry over.
  return p.kind === 'packet' ? { ...moved, id: newId(), range: 0 } : moved;
}

/** packet - packet (or packet_end - packet): a length. */
function difference(o: PtrAluOperands, a: Ptr, b: Ptr): Scalar {
  const family = (p: Ptr): boolean => p.kind === 'packet' || p.kind === 'packet_end';
  if (!family(a) || !family(b)) {
    fail(o, `pointer - pointer is only allowed between packet pointers, not ${formatReg(a)} - ${formatReg(b)}`);
  }
  if (a.kind === 'packet' && b.kind === 'packet' && a.id === b.id && isConstScalar(a.var) && isConstScalar(b.var)) {
    return scalarConst(BigInt(a.off - b.off));
  }
  return SCALAR_UNKNOWN;
}

/** dst = dst op src where at least one of them is a pointer. */
export function ptrAlu(o: PtrAluOperands, newId: () => number): RegState {
  const { op, width, dst, src } = o;
  const dstPtr = dst.t === 'ptr' ? dst : undefined;
  const srcPtr = src.t === 'ptr' ? src : undefined;
  if (op === 'mov' && width === 64) return src;
  if (width === 32) fail(o, '32-bit arithmetic on a pointer is not allowed (it would truncate the address)');
  if (op === 'add') {
    if (dstPtr && srcPtr) fail(o, 'pointer + pointer is not allowed');
    if (dstPtr && src.t === 'scalar') return moveBy(o, dstPtr, src, 1, newId);
    if (srcPtr && dst.t === 'scalar') return moveBy(o, srcPtr, dst, 1, newId);
  }
  if (op === 'sub') {
    if (dstPtr && srcPtr) return difference(o, dstPtr, srcPtr);
    if (dstPtr && src.t === 'scalar') return moveBy(o, dstPtr, src, -1, newId);
    if (srcPtr) fail(o, 'scalar - pointer is not allowed');
  }
  const which = dstPtr ? `r${o.dstReg} is a ${kindName(dstPtr.kind)}` : `r${o.srcReg} is a ${kindName(srcPtr!.kind)}`;
  return fail(o, `${which}: only 64-bit += and -= of a scalar are allowed on pointers`);
}
