// Per-instruction semantics of the interpreter against RFC 9669, with BigInt oracles and edge values.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { assemble } from '../src/asm/index.js';
import { createInterpreter } from '../src/interp/index.js';
import { buildProgram } from '../src/program/program.js';
import type { Executable, Runtime } from '../src/runtime/executable.js';
import { HelperRegistry } from '../src/runtime/helpers.js';
import { EngineMemory } from '../src/runtime/memory.js';

const M64 = (1n << 64n) - 1n;
const M32 = 0xffffffffn;
const u64 = (x: bigint): bigint => BigInt.asUintN(64, x);
const s64 = (x: bigint): bigint => BigInt.asIntN(64, x);
const u32 = (x: bigint): bigint => BigInt.asUintN(32, x);
const s32 = (x: bigint): bigint => BigInt.asIntN(32, x);
const hex = (x: bigint): string => '0x' + x.toString(16);

const EDGES = [
  0n, 1n, 2n, 0x7fffffffn, 0x80000000n, 0xffffffffn, 0x100000000n, 0x100000001n, 0x7fffffffffffffffn,
  0x8000000000000000n, 0x8000000000000001n, 0xffffffff00000000n, 0xfffffffffffffffen, M64,
];
const value64 = fc.oneof(fc.constantFrom(...EDGES), fc.bigInt({ min: 0n, max: M64 }), fc.bigInt({ min: 0n, max: 300n }),
  fc.bigInt({ min: -300n, max: -1n }).map(u64));

/** A program over a 16-byte context holding two u64 operands; r0 is the result. */
class Fixture {
  readonly rt: Runtime = { mem: new EngineMemory({ cpus: 1 }), helpers: new HelperRegistry() };
  readonly ctx = this.rt.mem.alloc(64);
  readonly exe: Executable;
  constructor(asm: string) {
    this.exe = createInterpreter(buildProgram(assemble(asm, 'ubpf')), this.rt);
  }
  run(a: bigint, b = 0n): bigint {
    this.rt.mem.view.setBigUint64(this.ctx, a, true);
    this.rt.mem.view.setBigUint64(this.ctx + 8, b, true);
    return this.exe.run(this.ctx, 16);
  }
  word(at: number): bigint {
    return this.rt.mem.view.getBigUint64(this.ctx + at, true);
  }
}

const runText = (asm: string): bigint => new Fixture(asm).run(0n);
const binary = (mnemonic: string): Fixture =>
  new Fixture(`ldxdw %r0, [%r1]\nldxdw %r2, [%r1+8]\n${mnemonic} %r0, %r2\nexit`);

type BinOp = 'add' | 'sub' | 'mul' | 'div' | 'sdiv' | 'mod' | 'smod' | 'or' | 'and' | 'xor' | 'lsh' | 'rsh' | 'arsh';

/** RFC 9669 section 4.1 for ALU64. */
function alu64(op: BinOp, a: bigint, b: bigint): bigint {
  switch (op) {
    case 'add': return u64(a + b);
    case 'sub': return u64(a - b);
    case 'mul': return u64(a * b);
    case 'div': return b === 0n ? 0n : a / b;
    case 'sdiv': return b === 0n ? 0n : u64(s64(a) / s64(b));
    case 'mod': return b === 0n ? a : a % b;
    case 'smod': return b === 0n ? a : u64(s64(a) % s64(b));
    case 'or': return a | b;
    case 'and': return a & b;
    case 'xor': return a ^ b;
    case 'lsh': return u64(a << (b & 63n));
    case 'rsh': return a >> (b & 63n);
    case 'arsh': return u64(s64(a) >> (b & 63n));
  }
}

/** ALU (32-bit): operands are the low 32 bits, the result is zero-extended. */
function alu32(op: BinOp, a64: bigint, b64: bigint): bigint {
  const a = u32(a64), b = u32(b64);
  switch (op) {
    case 'sdiv': return b === 0n ? 0n : u32(s32(a) / s32(b));
    case 'smod': return b === 0n ? a : u32(s32(a) % s32(b));
    case 'lsh': return u32(a << (b & 31n));
    case 'rsh': return a >> (b & 31n);
    case 'arsh': return u32(s32(a) >> (b & 31n));
    default: return u32(alu64(op, a, b));
  }
}

const BIN_OPS: BinOp[] = ['add', 'sub', 'mul', 'div', 'sdiv', 'mod', 'smod', 'or', 'and', 'xor', 'lsh', 'rsh', 'arsh'];

describe('ALU with register operands, against a BigInt oracle', () => {
  for (const op of BIN_OPS) {
    for (const width of [64, 32] as const) {
      const mnemonic = width === 64 ? op : op + '32';
      it(mnemonic, () => {
        const f = binary(mnemonic);
        const oracle = width === 64 ? alu64 : alu32;
        for (const a of EDGES) for (const b of EDGES) expect(hex(f.run(a, b)), `${hex(a)} ${hex(b)}`).toBe(hex(oracle(op, a, b)));
        fc.assert(fc.property(value64, value64, (a, b) => f.run(a, b) === oracle(op, a, b)), { numRuns: 300 });
      });
    }
  }
});

describe('division and modulo edge cases (RFC 9669 section 4.1)', () => {
  const INT64_MIN = 0x8000000000000000n;
  it.each([
    ['div', 7n, 0n, 0n], ['mod', 7n, 0n, 7n], ['sdiv', 7n, 0n, 0n], ['smod', u64(-7n), 0n, u64(-7n)],
    ['sdiv', INT64_MIN, M64, INT64_MIN], ['smod', INT64_MIN, M64, 0n],
    ['sdiv', u64(-7n), 2n, u64(-3n)], ['smod', u64(-7n), 2n, u64(-1n)], ['smod', 7n, u64(-2n), 1n],
    ['div', M64, 3n, 0x5555555555555555n], ['mod', M64, 10n, 5n],
    ['div32', 0xffffffff00000010n, 3n, 5n], ['mod32', 0x1234567800000007n, 0n, 7n],
    ['sdiv32', 0x80000000n, 0xffffffffn, 0x80000000n], ['smod32', 0x80000000n, 0xffffffffn, 0n],
    ['sdiv32', 0xfffffff9n, 2n, 0xfffffffdn], ['smod32', 0xfffffff9n, 2n, 0xffffffffn],
    ['smod32', 0xaaaaaaaafffffff9n, 0n, 0xfffffff9n],
  ])('%s %s, %s = %s', (op, a, b, expected) => {
    expect(hex(binary(op).run(a, b))).toBe(hex(expected));
  });
});

describe('shifts mask the count', () => {
  it.each([
    ['lsh', 1n, 63n, 0x8000000000000000n], ['lsh', 0x1234n, 64n, 0x1234n], ['lsh', 1n, 65n, 2n],
    ['rsh', M64, 63n, 1n], ['rsh', M64, 64n, M64], ['arsh', 0x8000000000000000n, 63n, M64],
    ['arsh', 0x8000000000000000n, 32n, 0xffffffff80000000n], ['lsh', 0xffffffffn, 32n, 0xffffffff00000000n],
    ['lsh32', 0x1_0000_0001n, 32n, 1n], ['lsh32', 1n, 31n, 0x80000000n], ['rsh32', 0xffffffff_80000000n, 31n, 1n],
    ['arsh32', 0x80000000n, 31n, 0xffffffffn], ['arsh32', 0x80000000n, 32n, 0x80000000n],
  ])('%s %s by %s = %s', (op, a, b, expected) => {
    expect(hex(binary(op).run(a, b))).toBe(hex(expected));
  });
});

describe('immediates', () => {
  it('are sign-extended to 64 bits for ALU64', () => {
    expect(hex(runText('mov %r0, -1\nexit'))).toBe(hex(M64));
    expect(hex(runText('mov %r0, 0\nadd %r0, -1\nexit'))).toBe(hex(M64));
    expect(hex(runText('mov %r0, -1\nand %r0, 0x80000000\nexit'))).toBe(hex(0xffffffff80000000n));
    expect(hex(runText('lddw %r0, 0x100000000\nsub %r0, 1\nexit'))).toBe(hex(0xffffffffn));
  });
  it('are used as 32 bits for ALU32, and the result is zero-extended', () => {
    expect(hex(runText('mov32 %r0, -1\nexit'))).toBe(hex(0xffffffffn));
    expect(hex(runText('mov %r0, -1\nadd32 %r0, 1\nexit'))).toBe('0x0');
    expect(hex(runText('lddw %r0, 0xffffffff00000005\nmul32 %r0, -1\nexit'))).toBe(hex(0xfffffffbn));
    expect(hex(runText('mov %r0, -1\nmov32 %r0, %r0\nexit'))).toBe(hex(0xffffffffn));
  });
  it('lddw loads all 64 bits', () => {
    expect(hex(runText('lddw %r0, 0x123456789abcdef0\nexit'))).toBe('0x123456789abcdef0');
  });
});

describe('unary operations', () => {
  it.each([
    ['neg', 0n, 0n], ['neg', 1n, M64], ['neg', 0x8000000000000000n, 0x8000000000000000n], ['neg', 0x100000000n, 0xffffffff00000000n],
    ['neg32', 1n, 0xffffffffn], ['neg32', 0x1_0000_0000n, 0n], ['neg32', 0x80000000n, 0x80000000n],
  ])('%s %s = %s', (op, a, expected) => {
    expect(hex(new Fixture(`ldxdw %r0, [%r1]\n${op} %r0\nexit`).run(a))).toBe(hex(expected));
  });
  it.each([
    ['movsx864', 0x80n, 0xffffffffffffff80n], ['movsx864', 0x17fn, 0x7fn], ['movsx1664', 0x8000n, 0xffffffffffff8000n],
    ['movsx3264', 0x80000000n, 0xffffffff80000000n], ['movsx3264', 0xffffffff7fffffffn, 0x7fffffffn],
    ['movsx832', 0xff80n, 0xffffff80n], ['movsx1632', 0xffffffff8000n, 0xffff8000n],
  ])('%s %s = %s', (op, a, expected) => {
    expect(hex(new Fixture(`ldxdw %r1, [%r1]\n${op} %r0, %r1\nexit`).run(a))).toBe(hex(expected));
  });
});

describe('byte order (the machine is little-endian)', () => {
  const X = 0x1122334455667788n;
  it.each([
    ['le16', 0x7788n], ['le32', 0x55667788n], ['le64', X],
    ['be16', 0x8877n], ['be32', 0x88776655n], ['be64', 0x8877665544332211n],
    ['bswap16', 0x8877n], ['bswap32', 0x88776655n], ['bswap64', 0x8877665544332211n],
  ])('%s', (op, expected) => {
    expect(hex(new Fixture(`ldxdw %r0, [%r1]\n${op} %r0\nexit`).run(X))).toBe(hex(expected));
  });
});

type Cond = 'jeq' | 'jne' | 'jgt' | 'jge' | 'jlt' | 'jle' | 'jsgt' | 'jsge' | 'jslt' | 'jsle' | 'jset';
const CONDS: Cond[] = ['jeq', 'jne', 'jgt', 'jge', 'jlt', 'jle', 'jsgt', 'jsge', 'jslt', 'jsle', 'jset'];

function taken(cond: Cond, width: 32 | 64, a64: bigint, b64: bigint): boolean {
  const a = BigInt.asUintN(width, a64), b = BigInt.asUintN(width, b64);
  const sa = BigInt.asIntN(width, a64), sb = BigInt.asIntN(width, b64);
  switch (cond) {
    case 'jeq': return a === b;
    case 'jne': return a !== b;
    case 'jgt': return a > b;
    case 'jge': return a >= b;
    case 'jlt': return a < b;
    case 'jle': return a <= b;
    case 'jsgt': return sa > sb;
    case 'jsge': return sa >= sb;
    case 'jslt': return sa < sb;
    case 'jsle': return sa <= sb;
    case 'jset': return (a & b) !== 0n;
  }
}

describe('conditional jumps at boundary values', () => {
  for (const cond of CONDS) {
    for (const width of [64, 32] as const) {
      const mnemonic = width === 64 ? cond : cond + '32';
      it(mnemonic, () => {
        const f = new Fixture(`ldxdw %r2, [%r1]\nldxdw %r3, [%r1+8]\nmov %r0, 1\n${mnemonic} %r2, %r3, yes\nmov %r0, 0\nyes:\nexit`);
        for (const a of EDGES) {
          for (const b of EDGES) expect(f.run(a, b), `${hex(a)} ${hex(b)}`).toBe(taken(cond, width, a, b) ? 1n : 0n);
        }
      });
    }
  }
  it('sign-extends a JMP immediate and truncates a JMP32 operand to 32 bits', () => {
    const jeq = new Fixture('ldxdw %r2, [%r1]\nmov %r0, 1\njeq %r2, -1, yes\nmov %r0, 0\nyes:\nexit');
    expect(jeq.run(M64)).toBe(1n);
    expect(jeq.run(0xffffffffn)).toBe(0n);
    const jeq32 = new Fixture('ldxdw %r2, [%r1]\nmov %r0, 1\njeq32 %r2, -1, yes\nmov %r0, 0\nyes:\nexit');
    expect(jeq32.run(0xffffffffn)).toBe(1n);
    expect(jeq32.run(0x12345678ffffffffn)).toBe(1n);
    const jsgt32 = new Fixture('ldxdw %r2, [%r1]\nmov %r0, 1\njsgt32 %r2, -2, yes\nmov %r0, 0\nyes:\nexit');
    expect(jsgt32.run(0xffffffffn)).toBe(1n);
    expect(jsgt32.run(0x1_fffffffen)).toBe(0n);
  });
  it('ja and gotol (ja32, offset in imm) jump unconditionally', () => {
    expect(runText('mov %r0, 1\nja skip\nmov %r0, 2\nskip:\nexit')).toBe(1n);
    expect(runText('mov %r0, 1\nja32 skip\nmov %r0, 2\nskip:\nexit')).toBe(1n);
  });
});

describe('loads and stores', () => {
  const bytes = 0x0807060504030201n;
  it('loads little-endian values of every size, unaligned', () => {
    const f = (insn: string): bigint => new Fixture(`${insn}\nexit`).run(bytes, 0x100f0e0d0c0b0a09n);
    expect(hex(f('ldxb %r0, [%r1+1]'))).toBe('0x2');
    expect(hex(f('ldxh %r0, [%r1+1]'))).toBe('0x302');
    expect(hex(f('ldxw %r0, [%r1+1]'))).toBe('0x5040302');
    expect(hex(f('ldxdw %r0, [%r1+3]'))).toBe('0xb0a090807060504');
  });
  it('sign-extends ldxsb, ldxsh, ldxsw', () => {
    const f = (insn: string, v: bigint): bigint => new Fixture(`${insn}\nexit`).run(v);
    expect(hex(f('ldxsb %r0, [%r1]', 0x80n))).toBe(hex(0xffffffffffffff80n));
    expect(hex(f('ldxsb %r0, [%r1]', 0x7fn))).toBe('0x7f');
    expect(hex(f('ldxsh %r0, [%r1]', 0x8001n))).toBe(hex(0xffffffffffff8001n));
    expect(hex(f('ldxsw %r0, [%r1]', 0x80000000n))).toBe(hex(0xffffffff80000000n));
    expect(hex(f('ldxsw %r0, [%r1]', 0xffffffff7fffffffn))).toBe('0x7fffffff');
  });
  it('stores only the low bytes of a register', () => {
    for (const [insn, expected] of [['stxb', 0xaaaaaaaaaaaaaa88n], ['stxh', 0xaaaaaaaaaaaa7788n],
      ['stxw', 0xaaaaaaaa55667788n], ['stxdw', 0x1122334455667788n]] as const) {
      const f = new Fixture(`lddw %r2, 0x1122334455667788\n${insn} [%r1+8], %r2\nmov %r0, 0\nexit`);
      f.run(0n, 0xaaaaaaaaaaaaaaaan);
      expect(hex(f.word(8)), insn).toBe(hex(expected));
    }
  });
  it('stores immediates; stdw sign-extends the 32-bit immediate', () => {
    const f = new Fixture('stdw [%r1], -2\nstw [%r1+8], -1\nsth [%r1+12], 0x1234\nstb [%r1+14], 0x1ff\nmov %r0, 0\nexit');
    f.run(0n, 0n);
    expect(hex(f.word(0))).toBe(hex(0xfffffffffffffffen));
    expect(hex(f.word(8))).toBe(hex(0x00ff1234ffffffffn));
  });
  it('uses the stack below r10', () => {
    expect(hex(runText('lddw %r1, 0xdeadbeefcafe\nstxdw [%r10-8], %r1\nldxdw %r0, [%r10-8]\nexit'))).toBe('0xdeadbeefcafe');
  });
});

type AtomicOp = 'add' | 'or' | 'and' | 'xor';
const atomicOracle = (op: AtomicOp, a: bigint, b: bigint): bigint =>
  op === 'add' ? a + b : op === 'or' ? a | b : op === 'and' ? a & b : a ^ b;

describe('atomics', () => {
  const old = 0x123456789abcdef0n, operand = 0x0fedcba987654321n;
  for (const op of ['add', 'or', 'and', 'xor'] as const) {
    for (const width of [64, 32] as const) {
      for (const fetch of [false, true]) {
        const name = `lock ${fetch ? 'fetch ' : ''}${op}${width === 32 ? '32' : ''}`;
        it(name, () => {
          const f = new Fixture(`ldxdw %r2, [%r1+8]\n${name} [%r1], %r2\nmov %r0, %r2\nexit`);
          const r0 = f.run(old, operand);
          const after = width === 64 ? u64(atomicOracle(op, old, operand))
            : (old & ~M32) | u32(atomicOracle(op, old & M32, operand & M32));
          expect(hex(f.word(0))).toBe(hex(after));
          expect(hex(r0)).toBe(hex(fetch ? (width === 64 ? old : old & M32) : operand));
        });
      }
    }
  }
  it('xchg returns the old value (32-bit zero-extended) and stores src', () => {
    const f64 = new Fixture('ldxdw %r2, [%r1+8]\nlock xchg [%r1], %r2\nmov %r0, %r2\nexit');
    expect(hex(f64.run(old, operand))).toBe(hex(old));
    expect(hex(f64.word(0))).toBe(hex(operand));
    const f32 = new Fixture('ldxdw %r2, [%r1+8]\nlock xchg32 [%r1], %r2\nmov %r0, %r2\nexit');
    expect(hex(f32.run(old, operand))).toBe(hex(old & M32));
    expect(hex(f32.word(0))).toBe(hex((old & ~M32) | (operand & M32)));
  });
  it('cmpxchg writes src only when memory equals r0, and always loads the old value into r0', () => {
    const prog = (w: string, expect0: string): Fixture =>
      new Fixture(`ldxdw %r2, [%r1+8]\n${expect0}\nlock cmpxchg${w} [%r1], %r2\nexit`);
    const miss = prog('', 'mov %r0, 5');
    expect(hex(miss.run(old, operand))).toBe(hex(old));
    expect(hex(miss.word(0))).toBe(hex(old));
    const hit = prog('', 'ldxdw %r0, [%r1]');
    expect(hex(hit.run(old, operand))).toBe(hex(old));
    expect(hex(hit.word(0))).toBe(hex(operand));
    const hit32 = prog('32', 'lddw %r0, 0xffffffff9abcdef0');
    expect(hex(hit32.run(old, operand))).toBe(hex(old & M32));
    expect(hex(hit32.word(0))).toBe(hex((old & ~M32) | (operand & M32)));
  });
});
