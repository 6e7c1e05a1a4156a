/**
 * A long straight-line program for load-time figures: loads r0, r3-r5 from the input (r2 is its
 * length), sets r1 to a constant, runs random 64- and 32-bit ALU operations on r0-r5 (no division,
 * so no guards), folds every register into r0 and exits. Every operation reads its destination, and
 * the values come from the input, so an optimizer can neither fold the program to a constant nor
 * drop an instruction as dead: the compiled module really has ~1,000 operations.
 */
import { encodeSlots } from '../src/isa/encode.js';
import type { RawSlot } from '../src/isa/insn.js';
import { AluCode, Cls, JmpCode, Mode, Size, Src } from '../src/isa/opcode.js';
import { Prng } from './prng.js';

const OPS = [AluCode.ADD, AluCode.SUB, AluCode.MUL, AluCode.OR, AluCode.AND, AluCode.XOR, AluCode.LSH, AluCode.RSH, AluCode.ARSH];
const SHIFTS: readonly number[] = [AluCode.LSH, AluCode.RSH, AluCode.ARSH];
const REGS = 6;
/** Bytes of input the program reads. */
export const ALU_INPUT_BYTES = 32;

const slot = (opcode: number, dst: number, src: number, off: number, imm: number): RawSlot => ({ opcode, dst, src, off, imm });

function randomAlu(rng: Prng): RawSlot {
  const op = OPS[rng.below(OPS.length)]!;
  const cls = rng.chance(0.75) ? Cls.ALU64 : Cls.ALU;
  const dst = rng.below(REGS);
  if (rng.chance(0.5) && !SHIFTS.includes(op)) return slot(op | Src.X | cls, dst, rng.below(REGS), 0, 0);
  const imm = SHIFTS.includes(op) ? rng.below(cls === Cls.ALU64 ? 64 : 32) : rng.u32() | 1; // odd: never 0
  return slot(op | Src.K | cls, dst, 0, 0, imm);
}

function prologue(rng: Prng): RawSlot[] {
  const ldxdw = Cls.LDX | Size.DW | Mode.MEM;
  return [
    ...[0, 3, 4, 5].map((reg, i) => slot(ldxdw, reg, 1, 8 * i, 0)),
    slot(AluCode.MOV | Src.K | Cls.ALU64, 1, 0, 0, rng.u32() | 0),
  ];
}

function epilogue(): RawSlot[] {
  const fold = [1, 2, 3, 4, 5].map((reg) => slot(AluCode.XOR | Src.X | Cls.ALU64, 0, reg, 0, 0));
  return [...fold, slot(JmpCode.EXIT | Cls.JMP, 0, 0, 0, 0)];
}

/** A program of exactly `slots` instructions (at least 12); reads ALU_INPUT_BYTES of input. */
export function aluProgram(slots: number, seed = 1): Uint8Array {
  const rng = new Prng(seed);
  const head = prologue(rng);
  const tail = epilogue();
  const body = Array.from({ length: slots - head.length - tail.length }, () => randomAlu(rng));
  return encodeSlots([...head, ...body, ...tail]);
}
