// Instruction semantics of the JIT on edge values: the cases where WebAssembly and BPF disagree
// (division, shifts, sign extension, byte order, 32-bit forms) spelled out, then every ALU and jump
// form over a grid of edge values, batch-run and compared with the reference interpreter.
import { beforeAll, describe, expect, it } from 'vitest';
import { assemble } from '../src/asm/index.js';
import { ProgramError } from '../src/errors.js';
import { createInterpreter } from '../src/interp/index.js';
import type { RawSlot } from '../src/isa/insn.js';
import { OPCODE_TABLE } from '../src/isa/table.js';
import { compileJit, jitToWat, loadOptimizer } from '../src/jit/index.js';
import { buildProgram, loadSlots, type Program } from '../src/program/program.js';
import type { Runtime } from '../src/runtime/executable.js';
import { HelperRegistry } from '../src/runtime/helpers.js';
import { EngineMemory } from '../src/runtime/memory.js';

// jitToWat prints through binaryen, the optimizing tier: load it in this thread once.
beforeAll(() => loadOptimizer());

const rt: Runtime = { mem: new EngineMemory(), helpers: new HelperRegistry() };
const U64 = (v: bigint): bigint => BigInt.asUintN(64, v);

/** Runs a uBPF-syntax program once; `input` becomes the context. */
function run(asm: string, input: Uint8Array = new Uint8Array(0)): bigint {
  const exe = compileJit(buildProgram(assemble(asm, 'ubpf')), rt);
  if (input.length === 0) return exe.run(0, 0);
  const at = rt.mem.alloc(input.length, 8);
  rt.mem.write(at, input);
  return exe.run(at, input.length);
}

/** r0 after `mov r0, a; mov r2, b; <op> r0, r2` with 64-bit operands loaded exactly. */
const binop = (op: string, a: bigint, b: bigint): bigint =>
  run(`lddw %r0, ${U64(a)}\nlddw %r2, ${U64(b)}\n${op} %r0, %r2\nexit`);
const immop = (op: string, a: bigint, imm: number): bigint => run(`lddw %r0, ${U64(a)}\n${op} %r0, ${imm}\nexit`);

const INT64_MIN = -(2n ** 63n);

describe('division and modulo where wasm would trap', () => {
  it('x/0 = 0 and x%0 = x (64-bit), with the upper half cleared for 32-bit', () => {
    expect(binop('div', 0x123456789n, 0n)).toBe(0n);
    expect(binop('mod', 0x123456789n, 0n)).toBe(0x123456789n);
    expect(binop('div32', 0x123456789n, 0x100000000n)).toBe(0n); // divisor's low half is 0
    expect(binop('mod32', 0x123456789n, 0x100000000n)).toBe(0x23456789n);
    expect(immop('div', 77n, 0)).toBe(0n);
    expect(immop('mod', 77n, 0)).toBe(77n);
    expect(immop('mod32', 0xffffffff00000005n, 0)).toBe(5n);
  });
  it('signed division: INT_MIN / -1 = INT_MIN, INT_MIN % -1 = 0, by zero like unsigned', () => {
    expect(binop('sdiv', INT64_MIN, -1n)).toBe(U64(INT64_MIN));
    expect(binop('smod', INT64_MIN, -1n)).toBe(0n);
    expect(immop('sdiv', INT64_MIN, -1)).toBe(U64(INT64_MIN));
    expect(binop('sdiv32', 0x80000000n, 0xffffffffn)).toBe(0x80000000n);
    expect(binop('smod32', 0x80000000n, 0xffffffffn)).toBe(0n);
    expect(binop('sdiv', -7n, 0n)).toBe(0n);
    expect(binop('smod', -7n, 0n)).toBe(U64(-7n));
    expect(binop('smod32', 0xfffffffffffffff9n, 0n)).toBe(0xfffffff9n);
  });
  it('signed results truncate toward zero, the remainder has the dividend\'s sign', () => {
    expect(binop('sdiv', -7n, 2n)).toBe(U64(-3n));
    expect(binop('smod', -7n, 2n)).toBe(U64(-1n));
    expect(binop('smod', 7n, -2n)).toBe(1n);
    expect(immop('sdiv32', 0xfffffff9n, 2)).toBe(0xfffffffdn);
  });
  it('64-bit division by a register: the 32-bit instruction when both operands fit, else the 64-bit one', () => {
    for (const op of ['div', 'mod', 'sdiv', 'smod']) {
      const wat = jitToWat(buildProgram(assemble(`ldxdw %r0, [%r1]\nldxdw %r2, [%r1+8]\n${op} %r0, %r2\nexit`, 'ubpf')), rt);
      expect(wat).toContain(op === 'div' || op === 'sdiv' ? 'i32.div_u' : 'i32.rem_u');
    }
    expect(binop('div', 0xffffffffn, 7n)).toBe(0xffffffffn / 7n);
    expect(binop('div', 0x1_0000_0000n, 7n)).toBe(0x1_0000_0000n / 7n);
    expect(binop('mod', 0xffffffffn, 0x1_0000_0000n)).toBe(0xffffffffn);
    expect(binop('sdiv', -8n, 2n)).toBe(U64(-4n));
    expect(binop('smod', 9n, -4n)).toBe(1n);
  });

  it('clang\'s expansion of %, `t /= b; t *= b; r -= t`, becomes a remainder and keeps BPF\'s results', () => {
    // What clang -target bpf emits for a % b (there is no other way it spells %); t must end as
    // (a / b) * b too, since code after it may read it.
    const edges = [0n, 1n, 2n, 7n, 0xffffffffn, 0x1_0000_0000n, 0x1_0000_0001n, 2n ** 63n, U64(-1n)];
    for (const a of edges) {
      for (const b of edges) {
        const pair = `lddw %r1, ${a}\nlddw %r2, ${b}\nmov %r3, %r1\n`;
        for (const [div, mul, sub, mask] of [['div', 'mul', 'sub', U64(-1n)], ['div32', 'mul32', 'sub32', 0xffffffffn]] as const) {
          const a32 = a & mask;
          const b32 = b & mask;
          const q = b32 === 0n ? 0n : a32 / b32;
          // r3 = (a / b) * b, r0 = r1 - r3 = a % b (a when b is 0).
          expect(run(`${pair}${div} %r3, %r2\n${mul} %r3, %r2\nmov %r0, %r3\nexit`), `${div} ${a} ${b}`).toBe((q * b32) & mask);
          expect(run(`${pair}mov %r0, %r1\n${div} %r3, %r2\n${mul} %r3, %r2\n${sub} %r0, %r3\nexit`), `${div} ${a} ${b}`)
            .toBe(b32 === 0n ? a32 : a32 % b32);
        }
      }
    }
    const wat = jitToWat(buildProgram(assemble('ldxdw %r0, [%r1]\nldxdw %r2, [%r1+8]\nmov %r3, %r0\ndiv %r3, %r2\nmul %r3, %r2\nsub %r0, %r3\nexit', 'ubpf')), rt);
    expect(wat).toContain('i64.rem_u');
    expect(wat).not.toContain('i64.div_u');
    expect(wat).not.toContain('i64.mul');
  });

  it('unsigned division sees a negative immediate as a huge 64-bit (or 32-bit) value', () => {
    expect(immop('div', U64(-1n), -1)).toBe(1n);
    expect(immop('div', 1000n, -1)).toBe(0n);
    expect(immop('div32', 0xfffffffen, -1)).toBe(0n);
  });
});

describe('shifts, negation and moves', () => {
  it('masks shift counts to 63 and 31', () => {
    expect(binop('lsh', 1n, 65n)).toBe(2n);
    expect(binop('rsh', U64(-1n), 64n)).toBe(U64(-1n));
    expect(binop('lsh32', 0xffffffff00000001n, 33n)).toBe(2n);
    expect(immop('arsh32', 0x80000000n, 31)).toBe(0xffffffffn);
    expect(immop('arsh', INT64_MIN, 63)).toBe(U64(-1n));
    expect(binop('rsh32', 0x1_8000_0000n, 32n)).toBe(0x80000000n);
  });
  it('negates with wrap-around and zero-extends 32-bit results', () => {
    expect(run(`lddw %r0, ${U64(INT64_MIN)}\nneg %r0\nexit`)).toBe(U64(INT64_MIN));
    expect(run('lddw %r0, 0x1234567880000000\nneg32 %r0\nexit')).toBe(0x80000000n);
    expect(run('mov %r0, 1\nneg32 %r0\nexit')).toBe(0xffffffffn);
  });
  it('mov32 zero-extends, mov64 sign-extends its immediate', () => {
    expect(run('mov32 %r0, -1\nexit')).toBe(0xffffffffn);
    expect(run('mov %r0, -1\nexit')).toBe(U64(-1n));
    expect(run('lddw %r1, 0xffffffff80000000\nmov32 %r0, %r1\nexit')).toBe(0x80000000n);
    expect(run('lddw %r0, 0xffffffff00000000\nadd32 %r0, 0\nexit')).toBe(0n);
  });
  it('movsx sign-extends 8, 16 and 32 bits', () => {
    expect(run('mov %r1, 0x180\nmovsx864 %r0, %r1\nexit')).toBe(U64(-128n));
    expect(run('mov %r1, 0x18000\nmovsx1664 %r0, %r1\nexit')).toBe(U64(-0x8000n));
    expect(run('lddw %r1, 0x180000000\nmovsx3264 %r0, %r1\nexit')).toBe(U64(-0x80000000n));
    expect(run('mov %r1, 0x80\nmovsx832 %r0, %r1\nexit')).toBe(0xffffff80n);
    expect(run('mov %r1, 0x7fff\nmovsx1632 %r0, %r1\nexit')).toBe(0x7fffn);
  });
});

describe('byte order', () => {
  const x = '0x0123456789abcdef';
  it('le truncates to the width (the host is little-endian)', () => {
    expect(run(`lddw %r0, ${x}\nle16 %r0\nexit`)).toBe(0xcdefn);
    expect(run(`lddw %r0, ${x}\nle32 %r0\nexit`)).toBe(0x89abcdefn);
    expect(run(`lddw %r0, ${x}\nle64 %r0\nexit`)).toBe(0x0123456789abcdefn);
  });
  it('be and bswap reverse the low bytes and zero-extend', () => {
    expect(run(`lddw %r0, ${x}\nbe16 %r0\nexit`)).toBe(0xefcdn);
    expect(run(`lddw %r0, ${x}\nbe32 %r0\nexit`)).toBe(0xefcdab89n);
    expect(run(`lddw %r0, ${x}\nbe64 %r0\nexit`)).toBe(0xefcdab8967452301n);
    expect(run(`lddw %r0, ${x}\nbswap16 %r0\nexit`)).toBe(0xefcdn);
    expect(run(`lddw %r0, ${x}\nbswap32 %r0\nexit`)).toBe(0xefcdab89n);
    expect(run(`lddw %r0, ${x}\nbswap64 %r0\nexit`)).toBe(0xefcdab8967452301n);
  });
});

describe('jumps', () => {
  const branch = (cond: string, a: bigint, b: string): bigint =>
    run(`lddw %r1, ${U64(a)}\nmov %r0, 0\n${cond} %r1, ${b}, yes\nexit\nyes:\nmov %r0, 1\nexit`);
  it('compare unsigned or signed with the immediate sign-extended to 64 bits', () => {
    expect(branch('jgt', 5n, '-1')).toBe(0n);
    expect(branch('jsgt', 5n, '-1')).toBe(1n);
    expect(branch('jeq', U64(-1n), '-1')).toBe(1n);
    expect(branch('jeq', 0xffffffffn, '-1')).toBe(0n);
    expect(branch('jset', 0x100n, '0x101')).toBe(1n);
    expect(branch('jset', 0x100n, '0x11')).toBe(0n);
  });
  it('JMP32 compares only the low 32 bits', () => {
    expect(branch('jeq32', 0xffffffffn, '-1')).toBe(1n);
    expect(branch('jeq32', 0x500000007n, '7')).toBe(1n);
    expect(branch('jslt32', 0x80000000n, '0')).toBe(1n);
    expect(branch('jlt32', 0x100000000n, '1')).toBe(1n);
  });
  it('gotol jumps by its 32-bit immediate', () => {
    expect(run('mov %r0, 1\nja32 skip\nmov %r0, 2\nskip:\nexit')).toBe(1n);
  });
  it('runs loops', () => {
    expect(run('mov %r0, 0\nmov %r1, 100\nl:\nadd %r0, %r1\nsub %r1, 1\njne %r1, 0, l\nexit')).toBe(5050n);
  });
});

describe('memory', () => {
  const input = Uint8Array.of(0x81, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88);
  it('loads zero-extend and ldxs* sign-extend', () => {
    expect(run('ldxb %r0, [%r1]\nexit', input)).toBe(0x81n);
    expect(run('ldxsb %r0, [%r1]\nexit', input)).toBe(U64(-0x7fn));
    expect(run('ldxsh %r0, [%r1+2]\nexit', input)).toBe(U64(BigInt.asIntN(16, 0x8483n)));
    expect(run('ldxsw %r0, [%r1+4]\nexit', input)).toBe(U64(BigInt.asIntN(32, 0x88878685n)));
    expect(run('ldxw %r0, [%r1+4]\nexit', input)).toBe(0x88878685n);
    expect(run('ldxdw %r0, [%r1]\nexit', input)).toBe(0x8887868584838281n);
  });
  it('stores truncate, st sign-extends its immediate to the access size', () => {
    expect(run('stdw [%r10-8], -2\nldxdw %r0, [%r10-8]\nexit')).toBe(U64(-2n));
    expect(run('stdw [%r10-8], 0\nstw [%r10-8], -1\nldxdw %r0, [%r10-8]\nexit')).toBe(0xffffffffn);
    expect(run('stdw [%r10-8], 0\nsth [%r10-7], 0x1234\nldxdw %r0, [%r10-8]\nexit')).toBe(0x123400n);
    expect(run('lddw %r1, 0x1122334455667788\nstdw [%r10-8], 0\nstxb [%r10-8], %r1\nldxdw %r0, [%r10-8]\nexit')).toBe(0x88n);
  });
  it('lddw loads a 64-bit value; a map the program was not given is refused, variable addresses too', () => {
    expect(run('lddw %r0, 0x8000000000000001\nexit')).toBe(0x8000000000000001n);
    const slots: RawSlot[] = [
      { opcode: 0x18, dst: 1, src: 1, off: 0, imm: 3 }, { opcode: 0, dst: 0, src: 0, off: 0, imm: 0 },
      { opcode: 0xb7, dst: 0, src: 0, off: 0, imm: 0 }, { opcode: 0x95, dst: 0, src: 0, off: 0, imm: 0 },
    ];
    expect(() => compileJit(loadSlots(slots), rt)).toThrow(expect.objectContaining({ code: 'E_PROGRAM_MAP', pc: 0 }));
    const variable = slots.map((s, i) => (i === 0 ? { ...s, src: 3 } : s));
    expect(() => compileJit(loadSlots(variable), rt)).toThrow(expect.objectContaining({ code: 'E_DECODE_RESERVED', pc: 0 }));
  });
  it('refuses kfunc calls', () => {
    const slots: RawSlot[] = [{ opcode: 0x85, dst: 0, src: 2, off: 0, imm: 7 }, { opcode: 0x95, dst: 0, src: 0, off: 0, imm: 0 }];
    expect(() => compileJit(loadSlots(slots), rt)).toThrow(ProgramError);
  });
});

describe('atomics', () => {
  const atomic = (op: string, init: bigint, src: bigint, r0 = 0n): [bigint, bigint, bigint] => {
    const asm = `lddw %r1, ${U64(init)}\nstxdw [%r10-8], %r1\nlddw %r2, ${U64(src)}\nlddw %r0, ${U64(r0)}\n` +
      `${op} [%r10-8], %r2\nstxdw [%r10-16], %r0\nstxdw [%r10-24], %r2\nldxdw %r0, [%r10-8]\nexit`;
    const mem = run(asm);
    const regs = run(asm.replace('ldxdw %r0, [%r10-8]', 'ldxdw %r0, [%r10-16]'));
    const srcAfter = run(asm.replace('ldxdw %r0, [%r10-8]', 'ldxdw %r0, [%r10-24]'));
    return [mem, regs, srcAfter];
  };
  it('add/or/and/xor with and without fetch, 64 and 32 bit', () => {
    expect(atomic('lock add', 5n, 7n)).toEqual([12n, 0n, 7n]);
    expect(atomic('lock fetch add', 5n, 7n)).toEqual([12n, 0n, 5n]);
    expect(atomic('lock fetch or', 0xf0n, 0x0fn)).toEqual([0xffn, 0n, 0xf0n]);
    expect(atomic('lock and', 0xf0n, 0x3cn)).toEqual([0x30n, 0n, 0x3cn]);
    expect(atomic('lock fetch xor', 0xffn, 0x0fn)).toEqual([0xf0n, 0n, 0xffn]);
    // 32-bit forms touch only the low word and zero-extend what they fetch
    expect(atomic('lock add32', 0x1_ffffffffn, 1n)).toEqual([0x1_00000000n, 0n, 1n]);
    expect(atomic('lock fetch add32', 0x5_80000000n, 1n)).toEqual([0x5_80000001n, 0n, 0x80000000n]);
  });
  it('xchg and cmpxchg', () => {
    expect(atomic('lock xchg', 5n, 9n)).toEqual([9n, 0n, 5n]);
    expect(atomic('lock xchg32', 0x7_00000005n, 0x1_00000009n)).toEqual([0x7_00000009n, 0n, 5n]);
    expect(atomic('lock cmpxchg', 5n, 9n, 5n)).toEqual([9n, 5n, 9n]);
    expect(atomic('lock cmpxchg', 5n, 9n, 6n)).toEqual([5n, 5n, 9n]);
    // 32-bit: compares the low halves only, loads the old low half zero-extended into r0
    expect(atomic('lock cmpxchg32', 0x3_00000005n, 9n, 0xff_00000005n)).toEqual([0x3_00000009n, 5n, 9n]);
  });
});

/** Operand values where wasm and BPF edge behaviour lives. */
const EDGES: readonly bigint[] = [
  0n, 1n, 2n, 7n, 31n, 32n, 33n, 63n, 64n, 0x7fn, 0x80n, 0xffn, 0x7fffn, 0x8000n, 0xffffn, 0x7fffffffn,
  0x80000000n, 0xffffffffn, 0x100000000n, 0x1_80000000n, 0x7fffffffffffffffn, 0x8000000000000000n,
  0xfffffffffffffffen, 0xffffffffffffffffn, 0x123456789abcdef0n,
].map(U64);
const IMMEDIATES = [0, 1, -1, 2, -2, 31, 32, 63, 64, 0x7fffffff, -0x80000000, 0xff, 0x8000];

/** Every (a, b) pair, 16 bytes per event, for runBatch. */
const pairs = (() => {
  const bytes = new Uint8Array(EDGES.length * EDGES.length * 16);
  const view = new DataView(bytes.buffer);
  EDGES.forEach((a, i) => EDGES.forEach((b, j) => {
    const at = (i * EDGES.length + j) * 16;
    view.setBigUint64(at, a, true);
    view.setBigUint64(at + 8, b, true);
  }));
  return bytes;
})();
const pairsAt = rt.mem.alloc(pairs.length, 8);
rt.mem.write(pairsAt, pairs);
const count = pairs.length / 16;
const jitResults = rt.mem.alloc(8 * count, 8);
const interpResults = rt.mem.alloc(8 * count, 8);

/** Batch-runs the program over every pair in both engines; returns the results that differ. */
function differences(program: Program): string[] {
  compileJit(program, rt).runBatch(pairsAt, 16, 16, count, jitResults);
  createInterpreter(program, rt).runBatch(pairsAt, 16, 16, count, interpResults);
  const view = rt.mem.view;
  const out: string[] = [];
  for (let k = 0; k < count; k++) {
    const got = view.getBigUint64(jitResults + 8 * k, true), want = view.getBigUint64(interpResults + 8 * k, true);
    if (got !== want) out.push(`a=${EDGES[Math.floor(k / EDGES.length)]} b=${EDGES[k % EDGES.length]}: jit ${got}, interp ${want}`);
  }
  return out;
}

const load = 'ldxdw %r0, [%r1]\nldxdw %r2, [%r1+8]\n';
const aluRows = OPCODE_TABLE.filter((row) => row.form.kind === 'alu');

describe('every ALU form over edge values agrees with the interpreter', () => {
  it('the grid holds what it should (a + b in every event)', () => {
    expect(differences(buildProgram(assemble(`${load}add %r0, %r2\nexit`, 'ubpf')))).toEqual([]);
    for (let k = 0; k < count; k++) {
      const sum = U64(EDGES[Math.floor(k / EDGES.length)]! + EDGES[k % EDGES.length]!);
      expect(rt.mem.view.getBigUint64(jitResults + 8 * k, true)).toBe(sum);
    }
  });
  const regRows = aluRows.filter((row) => row.form.kind === 'alu' && (row.form.operand === 'reg' || row.form.op === 'neg'));
  it.each(regRows.map((row) => [row.mnemonic, row] as const))('%s (register)', (mnemonic, row) => {
    const operand = row.form.kind === 'alu' && row.form.op === 'neg' ? '' : ', %r2';
    expect(differences(buildProgram(assemble(`${load}${mnemonic} %r0${operand}\nexit`, 'ubpf')))).toEqual([]);
  });
  const immRows = aluRows.filter((row) => row.form.kind === 'alu' && row.form.operand === 'imm' && row.form.op !== 'neg');
  it.each(immRows.map((row) => [row.mnemonic, row] as const))('%s (immediates)', (mnemonic) => {
    for (const imm of IMMEDIATES) {
      expect(differences(buildProgram(assemble(`${load}${mnemonic} %r0, ${imm}\nexit`, 'ubpf')))).toEqual([]);
    }
  });
  it.each(OPCODE_TABLE.filter((row) => row.form.kind === 'end').map((row) => row.mnemonic))('%s', (mnemonic) => {
    expect(differences(buildProgram(assemble(`${load}${mnemonic} %r0\nexit`, 'ubpf')))).toEqual([]);
  });
});

describe('every conditional jump over edge values agrees with the interpreter', () => {
  const jumps = [...new Set(OPCODE_TABLE.filter((row) => row.form.kind === 'jmp').map((row) => row.mnemonic))];
  it.each(jumps)('%s', (mnemonic) => {
    const asm = (b: string): string => `${load}mov %r3, %r0\nmov %r0, 0\n${mnemonic} %r3, ${b}, yes\nexit\nyes:\nmov %r0, 1\nexit`;
    expect(differences(buildProgram(assemble(asm('%r2'), 'ubpf')))).toEqual([]);
    for (const imm of IMMEDIATES) expect(differences(buildProgram(assemble(asm(String(imm)), 'ubpf')))).toEqual([]);
  });
});
