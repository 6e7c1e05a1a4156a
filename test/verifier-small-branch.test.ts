/**
 * The number-based refinement of branches on small operands (src/verifier/small-branch.ts) must give
 * exactly what the BigInt code (scalar-branch.ts `assume`) gives, at both widths: same bounds, same
 * tnum, same links, and the same operand object back where the branch taught it nothing.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { JmpCond, Width } from '../src/isa/insn.js';
import { scalarAlu } from '../src/verifier/scalar-alu.js';
import { assume, branchScalars } from '../src/verifier/scalar-branch.js';
import { assumeSmall, isSmall } from '../src/verifier/small-branch.js';
import { scalarConst, scalarURange, withLink, type Scalar } from '../src/verifier/scalar.js';

const MAX = 2 ** 31 - 1;
const CONDS = ['jeq', 'jne', 'jgt', 'jge', 'jlt', 'jle', 'jsgt', 'jsge', 'jslt', 'jsle'] as const;

const small = fc.oneof(fc.integer({ min: 0, max: 40 }), fc.integer({ min: 0, max: MAX }), fc.constantFrom(0, 1, MAX - 1, MAX));

/** Small scalars: constants, ranges, ranges with known bits (and, or), some linked with a delta. */
const smallScalar = fc.tuple(small, small, small, fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 2 })).map(
  ([x, y, bits, kind, link]): Scalar => {
    const [lo, hi] = x <= y ? [x, y] : [y, x];
    const range = scalarURange(BigInt(lo), BigInt(hi));
    let s: Scalar;
    switch (kind) {
      case 0: s = scalarConst(BigInt(x)); break;
      case 1: s = range; break;
      case 2: s = scalarAlu('and', 64, range, scalarConst(BigInt(bits))); break;
      default: s = scalarAlu('or', 32, scalarAlu('and', 64, range, scalarConst(BigInt(bits | 0xff))), scalarConst(BigInt(bits & 0x30))); break;
    }
    return link === 0 ? s : withLink(s, link, link === 2 ? 4 : 0);
  },
).filter(isSmall);

/** Pairs of operands, often a constant at an end of the other's range (where != and the strict compares bite). */
const pair = fc.oneof(
  fc.tuple(smallScalar, smallScalar),
  fc.tuple(smallScalar, fc.boolean(), fc.integer({ min: -1, max: 1 })).map(([a, low, d]): [Scalar, Scalar] => {
    const k = (low ? a.umin : a.umax) + BigInt(d);
    return [a, scalarConst(k < 0n ? 0n : k)];
  }),
).filter(([, b]) => isSmall(b));

const show = (s: Scalar | undefined): string =>
  JSON.stringify(s, (_, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v));

describe('branches on small operands', () => {
  it('recognizes small scalars only', () => {
    expect(isSmall(scalarConst(5n))).toBe(true);
    expect(isSmall(scalarURange(0n, 2n ** 31n - 1n))).toBe(true);
    expect(isSmall(scalarURange(0n, 2n ** 31n))).toBe(false);
    expect(isSmall(scalarConst(-1n))).toBe(false);
    expect(isSmall(scalarURange(0n, 2n ** 32n - 1n))).toBe(false);
  });

  it('refine exactly as the BigInt code does, at both widths', () => {
    fc.assert(fc.property(pair, fc.boolean(), fc.constantFrom(...CONDS), fc.constantFrom<Width>(32, 64), ([x, y], swap, cond, w) => {
      const [a, b] = swap ? [y, x] : [x, y];
      const fast = assumeSmall(cond, a, b);
      const slow = assume(cond, w, a, b);
      expect(show(fast?.[0])).toBe(show(slow?.[0]));
      expect(show(fast?.[1])).toBe(show(slow?.[1]));
      if (fast && slow) {
        expect(fast[0] === a).toBe(slow[0] === a);
        expect(fast[1] === b).toBe(slow[1] === b);
      }
    }), { numRuns: Number(process.env.VERIFIER_FUZZ_RUNS ?? 5000) });
  });

  it('branchScalars takes the fast path for small operands and gives both edges', () => {
    const key = scalarURange(32n, 2n ** 31n - 1n);
    const edges = branchScalars('jsgt' as JmpCond, 32, key, scalarConst(47n));
    expect(edges.taken?.[0].umin).toBe(48n);
    expect(edges.taken?.[0].s32max).toBe(2n ** 31n - 1n);
    expect(edges.fallthrough?.[0].umax).toBe(47n);
    expect(edges.fallthrough?.[0].umin).toBe(32n);
    const eq = branchScalars('jeq', 32, key, scalarConst(40n));
    expect(eq.taken?.[0]).toEqual(scalarConst(40n));
    expect(eq.fallthrough?.[0]).toBe(key);
  });
});
