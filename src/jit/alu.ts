/**
 * ALU, byte-swap and sign-extending moves. 64-bit operations work on the i64 register locals; 32-bit
 * ones compute in i32 on the low halves and zero-extend the result (RFC 9669 section 4.1).
 *
 * WebAssembly traps where BPF defines a result, so division gets guards: x/0 = 0, x%0 = x, and signed
 * INT_MIN/-1 = INT_MIN (rem_s already gives INT_MIN%-1 = 0 without trapping), except where the
 * verifier's facts prove a guard useless. 64-bit divisions by a register take the 32-bit instruction
 * when both operands fit (bypassWide). Shift counts need nothing: wasm masks them by 31/63 exactly
 * as BPF does, so the verifier's `shiftInRange` fact has nothing left to remove.
 */
import { InternalError } from '../errors.js';
import { i64, i64Const, type Expr } from '../wasm/builder.js';
import type { FnEmitter } from './emitter.js';
import type { Insn, InsnOf } from '../isa/insn.js';

type Alu = InsnOf<'alu'>;

/** The i32 or i64 operation set of one width, plus how to make its constants. */
interface WidthOps {
  readonly ops: FnEmitter['m']['i32'] | FnEmitter['m']['i64'];
  readonly wide: boolean;
  konst(value: number): Expr;
}

function widthOps(e: FnEmitter, wide: boolean): WidthOps {
  const m = e.m;
  return wide
    ? { ops: m.i64, wide, konst: (v) => i64Const(m, BigInt(v)) }
    : { ops: m.i32, wide, konst: (v) => m.i32.const(v | 0) };
}

/** dst as a value of the operation's width. */
const dstValue = (e: FnEmitter, insn: Alu): Expr => (insn.width === 64 ? e.get(insn.dst) : e.m.i32.wrap(e.get(insn.dst)));

function srcValue(e: FnEmitter, w: WidthOps, insn: Alu): Expr {
  if (insn.operand === 'imm') return w.konst(insn.imm); // imm is sign-extended to 64 bits for ALU64
  return w.wide ? e.get(insn.src) : e.m.i32.wrap(e.get(insn.src));
}

/** Back to a 64-bit register value: 32-bit results are zero-extended. */
const widen = (e: FnEmitter, w: WidthOps, value: Expr): Expr => (w.wide ? value : e.m.i64.extend_u(value));

/**
 * A 64-bit division that takes the 32-bit instruction when both operands fit in 32 bits unsigned, as
 * they mostly do: x86's 64-bit `div` is slower (LLVM's BypassSlowDivision does this on x86-64). Both
 * then are non-negative, so signed and unsigned results agree and INT_MIN / -1 cannot occur.
 */
function bypassWide(e: FnEmitter, op: Alu['op'], a: () => Expr, b: () => Expr, wide: (a: () => Expr, b: () => Expr) => Expr): Expr {
  const m = e.m;
  const ta = e.temp(i64);
  const tb = e.temp(i64);
  const ga = (): Expr => m.local.get(ta, i64);
  const gb = (): Expr => m.local.get(tb, i64);
  const [na, nb] = [m.i32.wrap(ga()), m.i32.wrap(gb())];
  const narrow = op === 'div' || op === 'sdiv' ? m.i32.div_u(na, nb) : m.i32.rem_u(na, nb);
  return m.block(null, [
    m.local.set(ta, a()),
    m.local.set(tb, b()),
    m.if(m.i64.eqz(m.i64.shr_u(m.i64.or(ga(), gb()), i64Const(m, 32n))), m.i64.extend_u(narrow), wide(ga, gb)),
  ], i64);
}

/**
 * Division and modulo with BPF's results where wasm would trap. A guard is left out where the verifier
 * proved it can never fire: a divisor that is never zero, or a signed division that never sees
 * INT_MIN / -1.
 */
function divide(e: FnEmitter, w: WidthOps, insn: Alu): Expr {
  const { ops } = w;
  const a = (): Expr => dstValue(e, insn);
  const b = (): Expr => srcValue(e, w, insn);
  const zero = (): Expr => w.konst(0);
  if (insn.operand === 'imm') {
    if (insn.imm === 0) return insn.op === 'div' || insn.op === 'sdiv' ? zero() : a();
    if (insn.imm === -1 && insn.op === 'sdiv') return ops.sub(zero(), a());
  }
  const facts = e.facts(insn.pc);
  const zeroGuard = insn.operand === 'reg' && facts?.divisorNonZero !== true;
  const overflowGuard = insn.operand === 'reg' && facts?.noSignedOverflow !== true;
  const ifZero = (then: Expr, otherwise: Expr): Expr => (zeroGuard ? e.m.if(ops.eqz(b()), then, otherwise) : otherwise);
  const quotient = (x: () => Expr, y: () => Expr): Expr => {
    switch (insn.op) {
      case 'div': return ops.div_u(x(), y());
      case 'mod': return ops.rem_u(x(), y());
      // rem_s gives INT_MIN % -1 = 0 without trapping, as BPF wants.
      case 'smod': return ops.rem_s(x(), y());
      case 'sdiv': return overflowGuard ? e.m.if(ops.eq(y(), w.konst(-1)), ops.sub(zero(), x()), ops.div_s(x(), y())) : ops.div_s(x(), y());
      default: throw new InternalError(`not a division: ${insn.op}`);
    }
  };
  // Only register divisors (what primes.c measures); a constant one is left to V8 as it is.
  const result = w.wide && insn.operand === 'reg' ? bypassWide(e, insn.op, a, b, quotient) : quotient(a, b);
  switch (insn.op) {
    case 'div': case 'sdiv': return ifZero(zero(), result);
    case 'mod': case 'smod': return ifZero(a(), result);
    default: throw new InternalError(`not a division: ${insn.op}`);
  }
}

/** Sign-extending move: the low 8/16/32 bits of src, sign-extended to the operation width. */
function movsx(e: FnEmitter, w: WidthOps, insn: Alu): Expr {
  const m = e.m;
  const src = e.get(insn.src);
  if (w.wide) {
    if (insn.op === 'movsx8') return m.i64.extend8_s(src);
    if (insn.op === 'movsx16') return m.i64.extend16_s(src);
    return m.i64.extend32_s(src);
  }
  return insn.op === 'movsx8' ? m.i32.extend8_s(m.i32.wrap(src)) : m.i32.extend16_s(m.i32.wrap(src));
}

/** The operation's result in its own width. */
function compute(e: FnEmitter, w: WidthOps, insn: Alu): Expr {
  const { ops } = w;
  const a = (): Expr => dstValue(e, insn);
  const b = (): Expr => srcValue(e, w, insn);
  switch (insn.op) {
    case 'add': return ops.add(a(), b());
    case 'sub': return ops.sub(a(), b());
    case 'mul': return ops.mul(a(), b());
    case 'or': return ops.or(a(), b());
    case 'and': return ops.and(a(), b());
    case 'xor': return ops.xor(a(), b());
    case 'lsh': return ops.shl(a(), b());
    case 'rsh': return ops.shr_u(a(), b());
    case 'arsh': return ops.shr_s(a(), b());
    case 'neg': return ops.sub(w.konst(0), a());
    case 'mov': return b();
    case 'div': case 'sdiv': case 'mod': case 'smod': return divide(e, w, insn);
    case 'movsx8': case 'movsx16': case 'movsx32': return movsx(e, w, insn);
    default: {
      const never: never = insn.op;
      throw new InternalError(`unhandled ALU operation ${String(never)}`);
    }
  }
}

/**
 * `t /= b` then `t *= b` (unsigned, b another register): t rounded down to a multiple of b, which is
 * t - t % b, for b = 0 too (BPF: t / 0 = 0, and t % 0 = t). clang expands every `%` on BPF into div,
 * mul and sub; a remainder and a subtraction make the shorter chain than a division and a multiply.
 */
export function isRoundDown(div: Insn, mul: Insn | undefined): div is Alu {
  return div.kind === 'alu' && div.op === 'div' && div.operand === 'reg' && div.src !== div.dst
    && mul?.kind === 'alu' && mul.op === 'mul' && mul.operand === 'reg' && mul.width === div.width && mul.dst === div.dst && mul.src === div.src;
}

export function emitRoundDown(e: FnEmitter, div: Alu): Expr {
  const w = widthOps(e, div.width === 64);
  return e.set(div.dst, widen(e, w, w.ops.sub(dstValue(e, div), divide(e, w, { ...div, op: 'mod' }))));
}

export function emitAlu(e: FnEmitter, insn: Alu): Expr {
  const w = widthOps(e, insn.width === 64);
  // A 32-bit mov of an immediate is its unsigned value; everything else goes through `compute`.
  if (!w.wide && insn.op === 'mov' && insn.operand === 'imm') return e.set(insn.dst, i64Const(e.m, BigInt(insn.imm >>> 0)));
  return e.set(insn.dst, widen(e, w, compute(e, w, insn)));
}

/** Reverses the two low bytes of an i32 (the rest must be zero on input). */
export function swap16(e: FnEmitter, x: () => Expr): Expr {
  const m = e.m;
  return m.i32.or(m.i32.and(m.i32.shl(x(), m.i32.const(8)), m.i32.const(0xff00)), m.i32.and(m.i32.shr_u(x(), m.i32.const(8)), m.i32.const(0xff)));
}

export function swap32(e: FnEmitter, x: () => Expr): Expr {
  const m = e.m;
  return m.i32.or(
    m.i32.and(m.i32.rotl(x(), m.i32.const(8)), m.i32.const(0x00ff00ff)),
    m.i32.and(m.i32.rotr(x(), m.i32.const(8)), m.i32.const(0xff00ff00 | 0)),
  );
}

function swap64(e: FnEmitter, x: () => Expr): Expr {
  const m = e.m;
  const low = swap32(e, () => m.i32.wrap(x()));
  const high = swap32(e, () => m.i32.wrap(m.i64.shr_u(x(), i64Const(m, 32n))));
  return m.i64.or(m.i64.shl(m.i64.extend_u(low), i64Const(m, 32n)), m.i64.extend_u(high));
}

/**
 * le/be/bswap. The host (WebAssembly) is little-endian, so `le` only truncates to the width and `be`
 * and `bswap` reverse the bytes of the low `bits` bits, zero-extended.
 */
export function emitEnd(e: FnEmitter, insn: InsnOf<'end'>): Expr {
  const m = e.m;
  const x = (): Expr => e.get(insn.dst);
  const low32 = (): Expr => m.i32.wrap(x());
  let value: Expr;
  if (insn.order === 'le') {
    if (insn.bits === 64) return m.nop();
    value = m.i64.and(x(), i64Const(m, insn.bits === 16 ? 0xffffn : 0xffffffffn));
  } else if (insn.bits === 16) {
    value = m.i64.extend_u(swap16(e, () => m.i32.and(low32(), m.i32.const(0xffff))));
  } else if (insn.bits === 32) {
    value = m.i64.extend_u(swap32(e, low32));
  } else {
    value = swap64(e, x);
  }
  return e.set(insn.dst, value);
}
