/**
 * Every way a program enters (bytes, raw slots, instructions, text) gets the decoder's field checks,
 * the size limit before any work, and a structure built in time linear in its size.
 */
import { describe, expect, it } from 'vitest';
import { LOAD_1M_SLOTS, mixedProgram } from '../bench/load-1m.js';
import { assemble } from '../src/asm/index.js';
import { InputError, ProgramError } from '../src/errors.js';
import { encode, encodeSlots } from '../src/isa/encode.js';
import type { Insn, RawSlot } from '../src/isa/insn.js';
import { buildProgram, decodeProgram, loadBytes, loadSlots, type Program } from '../src/program/program.js';
import { toProgram } from '../src/source.js';
import { memory, verify } from '../src/verifier/index.js';
import { Vm } from '../src/vm.js';

/** The error `fn` throws, which must be a ProgramError. */
function programError(fn: () => unknown): ProgramError {
  try {
    fn();
  } catch (e) {
    if (e instanceof ProgramError) return e;
    throw e;
  }
  throw new Error('expected a ProgramError');
}

const where = (e: ProgramError): [string, number] => [e.code, e.pc];

/** `r1 = 7; r0 = 5; exit` with one field of one instruction replaced. */
function withField(index: number, field: string, value: unknown): Insn[] {
  const insns = assemble('r1 = 7\nr0 = 5\nexit');
  return insns.map((insn, i) => (i === index ? { ...insn, [field]: value } as Insn : insn));
}

describe('instructions get the decoder\'s checks', () => {
  it('refuses register r12, which the interpreter wrote into its own constant pool', () => {
    const insns = withField(0, 'dst', 12);
    expect(where(programError(() => buildProgram(insns)))).toEqual(['E_DECODE_REGISTER', 0]);
    for (const engine of ['interp', 'jit'] as const) {
      expect(where(programError(() => new Vm().load(insns, { engine, unverified: true })))).toEqual(['E_DECODE_REGISTER', 0]);
      expect(where(programError(() => new Vm().load(insns, { engine, context: memory(0) })))).toEqual(['E_DECODE_REGISTER', 0]);
    }
  });

  it('refuses field values their bits cannot hold, instead of keeping the low bits', () => {
    expect(where(programError(() => buildProgram(withField(1, 'dst', 16))))).toEqual(['E_DECODE_REGISTER', 1]);
    expect(where(programError(() => buildProgram(withField(1, 'src', -1))))).toEqual(['E_DECODE_REGISTER', 1]);
    expect(where(programError(() => buildProgram(withField(1, 'off', 70_000))))).toEqual(['E_DECODE_FIELD', 1]);
    expect(where(programError(() => buildProgram(withField(1, 'imm', 2 ** 31))))).toEqual(['E_DECODE_FIELD', 1]);
    expect(where(programError(() => buildProgram(withField(1, 'imm', 1.5))))).toEqual(['E_DECODE_FIELD', 1]);
    expect(where(programError(() => buildProgram(withField(2, 'opcode', 0x195))))).toEqual(['E_DECODE_OPCODE', 2]);
    expect(where(programError(() => buildProgram([...withField(0, 'dst', 1).slice(0, 2), null as unknown as Insn])))).toEqual(['E_DECODE_FIELD', 2]);
  });

  it('refuses them in raw slots and in encode too', () => {
    expect(where(programError(() => encode(withField(2, 'src', 17))))).toEqual(['E_DECODE_REGISTER', 2]);
    const exit: RawSlot = { opcode: 0x95, dst: 0, src: 0, off: 0, imm: 0 };
    const wide: RawSlot = { opcode: 0xb7, dst: 0, src: 0, off: 0, imm: 2 ** 32 };
    expect(where(programError(() => encodeSlots([exit, wide])))).toEqual(['E_DECODE_FIELD', 1]);
    expect(where(programError(() => loadSlots([wide, exit])))).toEqual(['E_DECODE_FIELD', 0]);
    const lddw: RawSlot = { opcode: 0x18, dst: 1, src: 0, off: 0, imm: 0 };
    expect(where(programError(() => loadSlots([lddw, { ...exit, opcode: 0, imm: -(2 ** 31) - 1 }, exit])))).toEqual(['E_DECODE_FIELD', 1]);
  });

  it('applies the reserved-field and lddw rules of bytecode', () => {
    expect(where(programError(() => buildProgram(withField(2, 'imm', 1))))).toEqual(['E_DECODE_RESERVED', 2]);
    const lddw = assemble('r1 = 0x100000002 ll\nr0 = 0\nexit');
    const noHigh = lddw.map((i) => (i.kind === 'lddw' ? { ...i, nextImm: undefined } as unknown as Insn : i));
    expect(where(programError(() => buildProgram(noHigh)))).toEqual(['E_DECODE_FIELD', 1]);
  });

  it('builds from the raw fields: kind and pc come from the decoder', () => {
    const insns = withField(1, 'kind', 'exit').map((i, k) => ({ ...i, pc: 10 * k }) as Insn);
    const program = buildProgram(insns);
    expect(program.insns.map((i) => [i.kind, i.pc])).toEqual([['alu', 0], ['alu', 1], ['exit', 2]]);
    expect(program.insns[1]).toEqual(assemble('r1 = 7\nr0 = 5\nexit')[1]);
  });

  it('refuses an empty list as an empty program', () => {
    expect(where(programError(() => buildProgram([])))).toEqual(['E_DECODE_EMPTY', 0]);
    expect(where(programError(() => toProgram([])))).toEqual(['E_DECODE_EMPTY', 0]);
    expect(() => toProgram(42 as unknown as Insn[])).toThrow(InputError);
  });

  it('keeps programs that read uninitialized registers: that is for the verifier to refuse', () => {
    const program = buildProgram(assemble('r0 = r5\nexit'));
    expect(program.slotCount).toBe(2);
    const r = verify(program, { context: memory(0), helpers: new Map() });
    expect(r.ok ? 'accepted' : where(r.error)).toEqual(['E_VERIFY_UNINIT_REGISTER', 0]);
  });
});

describe('the size limit', () => {
  const exitSlot: RawSlot = { opcode: 0x95, dst: 0, src: 0, off: 0, imm: 0 };

  it('refuses bytecode over the limit on its length, before decoding it', () => {
    // 0xff is no opcode: decoding would fail at pc 0, so the size must have been checked first.
    const garbage = new Uint8Array(8 * 11).fill(0xff);
    expect(where(programError(() => loadBytes(garbage, { maxSlots: 10 })))).toEqual(['E_DECODE_PROGRAM_TOO_LARGE', 10]);
    expect(where(programError(() => decodeProgram(garbage.subarray(1), { maxSlots: 10 })))).toEqual(['E_DECODE_PROGRAM_TOO_LARGE', 10]);
    expect(where(programError(() => loadBytes(garbage, { maxSlots: 11 })))).toEqual(['E_DECODE_OPCODE', 0]);
  });

  it('defaults to the kernel\'s 1,000,000 slots', () => {
    const e = programError(() => loadBytes(new Uint8Array(8 * (LOAD_1M_SLOTS + 1)).fill(0xff)));
    expect(where(e)).toEqual(['E_DECODE_PROGRAM_TOO_LARGE', LOAD_1M_SLOTS]);
    expect(e.message).toContain('1000001');
    expect(e.message).toContain('maxSlots');
  });

  it('applies to raw slots, instructions and text', () => {
    const slots = Array.from({ length: 5 }, () => exitSlot);
    expect(where(programError(() => loadSlots(slots, { maxSlots: 4 })))).toEqual(['E_DECODE_PROGRAM_TOO_LARGE', 4]);
    expect(loadSlots(slots, { maxSlots: 5 }).slotCount).toBe(5);
    // Two instructions, three slots: the limit counts slots.
    const lddw = assemble('r0 = 0x100000002 ll\nexit');
    expect(where(programError(() => buildProgram(lddw, { maxSlots: 2 })))).toEqual(['E_DECODE_PROGRAM_TOO_LARGE', 2]);
    expect(where(programError(() => toProgram('r0 = 0\nexit', { maxSlots: 1 })))).toEqual(['E_DECODE_PROGRAM_TOO_LARGE', 1]);
  });

  it('takes only a positive integer as the limit', () => {
    for (const maxSlots of [0, -1, 1.5, Number.NaN]) expect(() => toProgram('exit', { maxSlots })).toThrow(InputError);
  });
});

describe('programs of 1,000,000 slots', () => {
  it('decode and build, with every slot, block and jump in place', () => {
    const program = loadBytes(mixedProgram(LOAD_1M_SLOTS));
    expect(program.slotCount).toBe(LOAD_1M_SLOTS);
    expect(program.functions).toHaveLength(1);
    const blocks = program.functions[0]!.blocks;
    expect(blocks.reduce((n, b) => n + b.insns.length, 0)).toBe(program.insns.length);
    const jumps = program.insns.filter((i) => i.kind === 'jmp').length;
    expect(jumps).toBeGreaterThan(50_000);
    // Each jump ends a block and starts its target's.
    expect(blocks.length).toBeGreaterThanOrEqual(jumps);
  });

  it('that never set r0 are refused by the verifier at the exit', () => {
    const r = verify(loadBytes(mixedProgram(LOAD_1M_SLOTS, { setsR0: false })), { context: memory(0), helpers: new Map() });
    expect(r.ok ? 'accepted' : where(r.error)).toEqual(['E_VERIFY_UNINIT_REGISTER', LOAD_1M_SLOTS - 1]);
  });
});

/** `count` functions, each calling the next (the last just returns); `back` makes the last call the first. */
function callChain(count: number, back = false): Program {
  const lines: string[] = [];
  for (let f = 0; f < count - 1; f++) lines.push('call pc+1', 'exit');
  lines.push(back ? `call pc-${2 * count - 1}` : 'r0 = 0', 'exit');
  return buildProgram(assemble(lines.join('\n'), 'llvm'));
}

describe('functions', () => {
  it('builds a chain of 50,000 calls without recursing once per call', () => {
    const program = callChain(50_000);
    expect(program.functions).toHaveLength(50_000);
    expect(program.functionOf[program.slotCount - 1]).toBe(49_999);
  });

  it('still refuses recursion at the end of a long chain', () => {
    expect(where(programError(() => callChain(20_000, true)))).toEqual(['E_RECURSION', 2 * 20_000 - 2]);
  });
});
