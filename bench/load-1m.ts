/**
 * Loading at the kernel's size limit: 1,000,000 instruction slots. Times (medians over a few rounds,
 * one call each: every call takes long enough to time alone) decoding and building a generated
 * program of ALU operations, forward jumps and lddw; verifying a straight-line one of the same size;
 * loading and refusing one that never sets r0; and disassembling the first. Each result is checked
 * before its time counts, so a regression that refuses or mis-decodes cannot pass as fast.
 */
import { disassembleChunks } from '../src/asm/index.js';
import { encodeSlots } from '../src/isa/encode.js';
import type { RawSlot } from '../src/isa/insn.js';
import { AluCode, Cls, JmpCode, Mode, Size, Src } from '../src/isa/opcode.js';
import { decodeProgram, loadBytes } from '../src/program/program.js';
import { memory, verify } from '../src/verifier/index.js';
import { ALU_INPUT_BYTES, aluProgram } from './alu-program.js';
import { median } from './load-time.js';
import { Prng } from './prng.js';
import { formatMs } from './report.js';

export const LOAD_1M_SLOTS = 1_000_000;

const ALU_OPS = [AluCode.ADD, AluCode.SUB, AluCode.XOR, AluCode.OR, AluCode.AND, AluCode.MUL];
const slot = (opcode: number, dst: number, src: number, off: number, imm: number): RawSlot => ({ opcode, dst, src, off, imm });

/** One piece of the body: an ALU operation, an lddw, or a conditional jump over 1-3 ALU operations. */
function unit(rng: Prng, reg: () => number, room: number): RawSlot[] {
  const pick = rng.below(10);
  if (pick === 0 && room >= 2) {
    return [slot(Cls.LD | Mode.IMM | Size.DW, reg(), 0, 0, rng.u32() | 0), slot(0, 0, 0, 0, rng.u32() | 0)];
  }
  if (pick === 1 && room >= 4) {
    const skip = 1 + rng.below(3);
    const over = Array.from({ length: skip }, () => slot(AluCode.ADD | Src.K | Cls.ALU64, reg(), 0, 0, 1));
    return [slot(JmpCode.JEQ | Src.K | Cls.JMP, reg(), 0, skip, rng.below(4)), ...over];
  }
  const op = ALU_OPS[rng.below(ALU_OPS.length)]!;
  const cls = rng.chance(0.75) ? Cls.ALU64 : Cls.ALU;
  return [rng.chance(0.5) ? slot(op | Src.X | cls, reg(), reg(), 0, 0) : slot(op | Src.K | cls, reg(), 0, 0, rng.u32() | 0)];
}

/**
 * A program of exactly `slots` slots: r0-r5 set to constants, then ALU operations, lddw and forward
 * jumps on them, then exit. Without r0 (`setsR0: false`) nothing ever writes r0, so the exit reads it
 * uninitialized: the verifier must refuse the program at its last slot.
 */
export function mixedProgram(slots: number, options: { readonly setsR0?: boolean; readonly seed?: number } = {}): Uint8Array {
  const rng = new Prng(options.seed ?? 1);
  const low = options.setsR0 === false ? 1 : 0;
  const reg = (): number => low + rng.below(6 - low);
  const out: RawSlot[] = [];
  for (let r = low; r <= 5; r++) out.push(slot(AluCode.MOV | Src.K | Cls.ALU64, r, 0, 0, r));
  while (out.length < slots - 1) {
    for (const s of unit(rng, reg, slots - 1 - out.length)) out.push(s);
  }
  out.push(slot(JmpCode.EXIT | Cls.JMP, 0, 0, 0, 0));
  return encodeSlots(out);
}

export interface Load1mTimes {
  readonly slots: number;
  readonly rounds: number;
  /** Median milliseconds of each phase. */
  readonly phases: ReadonlyArray<{ readonly phase: string; readonly ms: number }>;
}

function check(ok: boolean, what: string): void {
  if (!ok) throw new Error(`load-1m: ${what}`);
}

/** Each phase as a function that does the work once and checks its result. */
function phases(slots: number): Array<[string, () => void]> {
  const mixed = mixedProgram(slots);
  const noR0 = mixedProgram(slots, { setsR0: false });
  const straight = loadBytes(aluProgram(slots));
  return [
    ['decode + build (loadBytes), ALU, jumps and lddw', () => check(loadBytes(mixed).slotCount === slots, 'the program lost slots')],
    ['verify(), straight-line ALU program', () => {
      const r = verify(straight, { context: memory(ALU_INPUT_BYTES), helpers: new Map() });
      check(r.ok, `the straight-line program was refused: ${r.ok ? '' : r.error.message}`);
    }],
    ['load + refuse a program that never sets r0', () => {
      const r = verify(loadBytes(noR0), { context: memory(0), helpers: new Map() });
      check(!r.ok && r.error.code === 'E_VERIFY_UNINIT_REGISTER' && r.error.pc === slots - 1, 'the program that never sets r0 was not refused at its exit');
    }],
    ['disasm: decode + format (llvm syntax)', () => {
      const insns = decodeProgram(mixed);
      let lines = 0;
      for (const chunk of disassembleChunks(insns, 'llvm')) lines += chunk.split('\n').length - 1;
      check(lines === insns.length, 'disasm printed a line count other than the instruction count');
    }],
  ];
}

/** Runs every phase `rounds` times, the phases interleaved so a slow spell of the machine spreads over all of them. */
export function measureLoad1m(rounds: number, slots = LOAD_1M_SLOTS): Load1mTimes {
  const work = phases(slots);
  const samples = work.map(() => [] as number[]);
  for (let k = 0; k < rounds; k++) {
    work.forEach(([, run], i) => {
      const t0 = performance.now();
      run();
      samples[i]!.push(performance.now() - t0);
    });
  }
  return { slots, rounds, phases: work.map(([phase], i) => ({ phase, ms: median(samples[i]!) })) };
}

export const load1mTitle = (t: Load1mTimes): string =>
  `load-1m: programs of ${t.slots.toLocaleString('en-US')} instruction slots (${t.rounds > 1 ? `median of ${t.rounds} rounds` : 'one round'})`;

export function load1mRows(t: Load1mTimes): string[][] {
  return [['phase', 'ms'], ...t.phases.map((p) => [p.phase, formatMs(p.ms)])];
}
