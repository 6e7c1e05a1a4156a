/**
 * Soundness of the scalar domain: for random abstract values with a concrete member, every ALU result
 * and every branch edge must still contain the concrete result. Abstract values are grown by random
 * operation chains, so they cover ranges, known bits and 32-bit bounds in many combinations.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { AluOp, JmpCond, Width } from '../src/isa/insn.js';
import { evalAlu, scalarAlu, scalarEnd } from '../src/verifier/scalar-alu.js';
import { branchScalars } from '../src/verifier/scalar-branch.js';
import {
  SCALAR_UNKNOWN, scalarConst, scalarSRange, scalarURange, toS32, toS64, type Scalar,
} from '../src/verifier/scalar.js';
import { tnumAdd, tnumMul, tnumSub, tnumIn, tnumConst, tnumRange, type Tnum } from '../src/verifier/tnum.js';

const U64 = (1n << 64n) - 1n;
const U32 = (1n << 32n) - 1n;

function contains(s: Scalar, x: bigint): boolean {
  const low = x & U32;
  return s.umin <= x && x <= s.umax && s.smin <= toS64(x) && toS64(x) <= s.smax
    && s.u32min <= low && low <= s.u32max && s.s32min <= toS32(low) && toS32(low) <= s.s32max
    && (x & ~s.tnum.mask & U64) === s.tnum.value;
}

const describeScalar = (s: Scalar): string => JSON.stringify(s, (_, v) => (typeof v === 'bigint' ? v.toString() : v));

/** Interesting 64-bit values: small, near the sign boundaries, random. */
const u64 = fc.oneof(
  fc.bigInt({ min: 0n, max: 300n }),
  fc.bigInt({ min: 0n, max: U64 }),
  fc.constantFrom(0n, 1n, U32, 1n << 31n, (1n << 31n) - 1n, 1n << 63n, (1n << 63n) - 1n, U64, U64 - 1n),
  fc.bigInt({ min: -300n, max: -1n }).map((v) => v & U64),
);

const ALU_OPS: readonly AluOp[] = ['add', 'sub', 'mul', 'div', 'sdiv', 'mod', 'smod', 'or', 'and', 'lsh', 'rsh', 'neg', 'xor', 'mov', 'arsh', 'movsx8', 'movsx16', 'movsx32'];
const CONDS: readonly JmpCond[] = ['jeq', 'jne', 'jgt', 'jge', 'jlt', 'jle', 'jsgt', 'jsge', 'jslt', 'jsle', 'jset'];

interface Tracked {
  readonly s: Scalar;
  readonly x: bigint;
}

/** A base abstraction holding x. */
const base = fc.tuple(u64, u64, fc.integer({ min: 0, max: 3 })).map(([x, y, kind]): Tracked => {
  switch (kind) {
    case 0: return { s: scalarConst(x), x };
    case 1: return { s: SCALAR_UNKNOWN, x };
    case 2: return x <= y ? { s: scalarURange(x, y), x } : { s: scalarURange(y, x), x };
    default: {
      const [a, b] = [toS64(x), toS64(y)];
      return a <= b ? { s: scalarSRange(a, b), x } : { s: scalarSRange(b, a), x: y };
    }
  }
});

const opStep = fc.tuple(fc.constantFrom(...ALU_OPS), fc.constantFrom<Width>(32, 64), base);

function applyOp(a: Tracked, op: AluOp, w: Width, b: Tracked): Tracked | undefined {
  if (op === 'movsx32' && w === 32) return undefined;
  const lim = w === 64 ? U64 : U32;
  const s = scalarAlu(op, w, a.s, b.s);
  const x = evalAlu(op, w, a.x & lim, b.x & lim);
  return { s, x };
}

/** A random chain of operations from a base value: deep abstractions with a concrete witness. */
const tracked = fc.tuple(base, fc.array(opStep, { maxLength: 4 })).map(([start, ops]) => {
  let t = start;
  for (const [op, w, b] of ops) t = applyOp(t, op, w, b) ?? t;
  return t;
});

describe('tnum', () => {
  it('add, sub and mul contain the concrete results', () => {
    fc.assert(fc.property(u64, u64, u64, u64, (a, b, c, d) => {
      const ta: Tnum = tnumRange(a < b ? a : b, a < b ? b : a);
      const tc: Tnum = tnumRange(c < d ? c : d, c < d ? d : c);
      const x = a;
      const y = c;
      expect(tnumIn(tnumAdd(ta, tc), tnumConst(x + y))).toBe(true);
      expect(tnumIn(tnumSub(ta, tc), tnumConst(x - y))).toBe(true);
      expect(tnumIn(tnumMul(ta, tc), tnumConst(x * y))).toBe(true);
    }), { numRuns: 500 });
  });
});

describe('scalar domain', () => {
  it('base abstractions contain their witness', () => {
    fc.assert(fc.property(base, (t) => contains(t.s, t.x)), { numRuns: 500 });
  });

  it('every ALU op contains the concrete result', () => {
    fc.assert(fc.property(tracked, fc.constantFrom(...ALU_OPS), fc.constantFrom<Width>(32, 64), tracked, (a, op, w, b) => {
      const r = applyOp(a, op, w, b);
      if (!r) return;
      if (!contains(r.s, r.x)) {
        throw new Error(`${op}${w}: ${a.x} op ${b.x} = ${r.x} not in ${describeScalar(r.s)}\n a=${describeScalar(a.s)}\n b=${describeScalar(b.s)}`);
      }
    }), { numRuns: Number(process.env.VERIFIER_FUZZ_RUNS ?? 3000) });
  });

  it('byte swaps contain the concrete result', () => {
    fc.assert(fc.property(tracked, fc.constantFrom('le', 'be', 'swap' as const), fc.constantFrom(16, 32, 64 as const), (a, order, bits) => {
      const s = scalarEnd(order as 'le' | 'be' | 'swap', bits as 16 | 32 | 64, a.s);
      const mask = (1n << BigInt(bits)) - 1n;
      let x = a.x & mask;
      if (order !== 'le') {
        let out = 0n;
        for (let i = 0; i < bits / 8; i++) out = (out << 8n) | ((x >> BigInt(8 * i)) & 0xffn);
        x = out;
      }
      expect(contains(s, x)).toBe(true);
    }), { numRuns: 1000 });
  });

  it('the edge a branch really takes is feasible and contains both operands', () => {
    fc.assert(fc.property(tracked, fc.constantFrom(...CONDS), fc.constantFrom<Width>(32, 64), tracked, (a, cond, w, b) => {
      const lim = w === 64 ? U64 : U32;
      const [x, y] = [a.x & lim, b.x & lim];
      const sx = w === 64 ? toS64(x) : toS32(x);
      const sy = w === 64 ? toS64(y) : toS32(y);
      const truth: Record<JmpCond, boolean> = {
        jeq: x === y, jne: x !== y, jgt: x > y, jge: x >= y, jlt: x < y, jle: x <= y,
        jsgt: sx > sy, jsge: sx >= sy, jslt: sx < sy, jsle: sx <= sy, jset: (x & y) !== 0n,
      };
      const edges = branchScalars(cond, w, a.s, b.s);
      const edge = truth[cond] ? edges.taken : edges.fallthrough;
      if (!edge) throw new Error(`${cond}${w} ${a.x} ${b.x}: real edge marked infeasible\n a=${describeScalar(a.s)}\n b=${describeScalar(b.s)}`);
      expect(contains(edge[0], a.x)).toBe(true);
      expect(contains(edge[1], b.x)).toBe(true);
    }), { numRuns: Number(process.env.VERIFIER_FUZZ_RUNS ?? 3000) });
  });

  it('branches on constants decide the edge', () => {
    const five = scalarConst(5n);
    const r = scalarURange(0n, 10n);
    expect(branchScalars('jgt', 64, five, scalarConst(3n)).fallthrough).toBeUndefined();
    expect(branchScalars('jeq', 64, five, scalarConst(3n)).taken).toBeUndefined();
    const lt = branchScalars('jlt', 64, r, scalarConst(4n));
    expect(lt.taken![0].umax).toBe(3n);
    expect(lt.fallthrough![0].umin).toBe(4n);
    const set = branchScalars('jset', 64, r, scalarConst(1n));
    expect(set.taken![0].tnum.value & 1n).toBe(1n);
  });

  it('tracks known bits through and/or/shifts', () => {
    const x = scalarAlu('and', 64, SCALAR_UNKNOWN, scalarConst(0xf0n));
    expect(x.umax).toBe(0xf0n);
    expect(x.tnum).toEqual({ value: 0n, mask: 0xf0n });
    const y = scalarAlu('rsh', 64, x, scalarConst(4n));
    expect([y.umin, y.umax]).toEqual([0n, 0xfn]);
    const z = scalarAlu('add', 32, scalarConst(0xffffffffn), scalarConst(1n));
    expect(z.umax).toBe(0n);
  });
});
