/**
 * Pre-decoding: turns a Program into flat typed arrays the dispatch loop reads, one entry per "code
 * index". Code indices follow the instructions in slot order, plus a CHARGE pseudo-instruction in
 * front of every basic block that is entered by falling through from a non-branch instruction.
 *
 * Budget accounting rides on control transfers: every jump, local call and CHARGE lands on a block
 * start and subtracts that block's instruction count (kept next to its handler id), so straight-line
 * code pays nothing extra.
 */
import { branchTarget, type Insn } from '../isa/insn.js';
import { lddwValue } from '../runtime/executable.js';
import type { BpfMap } from '../maps/map.js';
import { callbackEntries, type Program } from '../program/program.js';
import { staticHelper, type HelperRegistry, type HelperSpec } from '../runtime/helpers.js';
import { OP, opOf } from './ops.js';

/** r0..r10 as (lo, hi) pairs of int32; constant slots follow. */
export const REG_SLOTS = 22;
/** Index of r10's low half. */
export const FP_SLOT = 20;

/** Int32 words per code index in `CodeImage.code`. */
export const STRIDE = 4;

/**
 * One instruction is four int32 words, side by side so a dispatch touches one cache line:
 *   [0] handler id | block cost << 8 (the cost is non-zero only at block starts)
 *   [1] destination (or store base) register, as a slot index (2 * reg)
 *   [2] source register or constant slot index
 *   [3] memory offset, the code index a jump or local call lands on, or LDABS's imm
 */
export interface CodeImage {
  readonly code: Int32Array;
  /** Helper index for CALL; (size 8 ? 0x100 : 0) | atomic code for ATOMIC; size | (indirect ? 0x10 : 0) for LDABS. */
  readonly aux: Int32Array;
  /** Slot pc of each code index (a CHARGE carries the pc of the block it charges). */
  readonly pc: Int32Array;
  /** Initial register file: zeroed registers, then the constant slots. */
  readonly regs: Int32Array;
  readonly helpers: readonly HelperSpec[];
  /** Code index of each callback's entry, by its entry pc (what `lddw code_addr` loads). */
  readonly callbacks: ReadonlyMap<number, number>;
}

/** Budget charged on entering the code index (0 unless it starts a block). */
export const costAt = (img: CodeImage, i: number): number => img.code[i * STRIDE]! >> 8;

const isBranch = (insn: Insn): boolean => insn.kind === 'jmp' || insn.kind === 'ja' || insn.kind === 'exit';

/** Block starts entered by falling through from a non-branch: those need a CHARGE in front. */
function chargePoints(program: Program): Set<number> {
  const starts = new Set<number>();
  for (const fn of program.functions) {
    fn.blocks.forEach((block, k) => {
      const prev = fn.blocks[k - 1];
      const last = prev?.insns[prev.insns.length - 1];
      if (last && !isBranch(last)) starts.add(block.start);
    });
  }
  return starts;
}

function resolveHelper(insn: Insn, registry: HelperRegistry, helpers: HelperSpec[], program: Program): number {
  if (insn.kind !== 'call') return 0;
  const spec = staticHelper(registry, insn, program);
  const known = helpers.indexOf(spec);
  if (known >= 0) return known;
  helpers.push(spec);
  return helpers.length - 1;
}

/** Constant slot contents for an instruction's immediate operand, or undefined when it has none. */
function constantOf(insn: Insn, maps: readonly BpfMap[]): readonly [number, number] | undefined {
  switch (insn.kind) {
    case 'alu': return insn.operand === 'imm' && insn.op !== 'neg' ? [insn.imm, insn.imm >> 31] : undefined;
    case 'jmp': return insn.operand === 'imm' ? [insn.imm, insn.imm >> 31] : undefined;
    case 'st': return [insn.imm, insn.imm >> 31];
    case 'lddw': {
      const value = lddwValue(insn, maps);
      return [Number(BigInt.asIntN(32, value)), Number(BigInt.asIntN(32, value >> 32n))];
    }
    default: return undefined;
  }
}

interface Layout {
  readonly codeOf: Int32Array;
  readonly charges: Set<number>;
  readonly length: number;
}

function layout(program: Program): Layout {
  const charges = chargePoints(program);
  const codeOf = new Int32Array(program.slotCount).fill(-1);
  let next = 0;
  for (const insn of program.insns) {
    if (charges.has(insn.pc)) next++;
    codeOf[insn.pc] = next++;
  }
  return { codeOf, charges, length: next };
}

/** Pre-decodes a program; refuses static calls to helpers the registry does not have. */
export function buildImage(program: Program, registry: HelperRegistry, maps: readonly BpfMap[] = []): CodeImage {
  const { codeOf, charges, length } = layout(program);
  const code = new Int32Array(length * STRIDE);
  const aux = new Int32Array(length);
  const pc = new Int32Array(length);
  const constants: number[] = [];
  const helpers: HelperSpec[] = [];
  const at = (target: number): number => codeOf[target]!;
  for (const insn of program.insns) {
    const i = at(insn.pc), w = i * STRIDE;
    if (charges.has(insn.pc)) {
      code[w - STRIDE] = OP.CHARGE;
      pc[i - 1] = insn.pc;
    }
    code[w] = opOf(insn);
    code[w + 1] = insn.dst * 2;
    const constant = constantOf(insn, maps);
    if (constant) {
      code[w + 2] = REG_SLOTS + constants.length;
      constants.push(constant[0], constant[1]);
    } else {
      code[w + 2] = insn.src * 2;
    }
    const target = branchTarget(insn);
    code[w + 3] = target !== undefined ? at(target) : insn.kind === 'ldabs' ? insn.imm : insn.off;
    if (insn.kind === 'ldabs') aux[i] = insn.size | (insn.indirect ? 0x10 : 0);
    if (target === undefined && insn.kind === 'call') aux[i] = resolveHelper(insn, registry, helpers, program);
    if (insn.kind === 'atomic') aux[i] = (insn.size === 8 ? 0x100 : 0) | insn.imm;
    pc[i] = insn.pc;
  }
  for (const fn of program.functions) {
    for (const block of fn.blocks) {
      const w = at(block.start) * STRIDE;
      code[w] = code[w]! | (block.insns.length << 8);
    }
  }
  const regs = new Int32Array(REG_SLOTS + constants.length);
  regs.set(constants, REG_SLOTS);
  const callbacks = new Map(callbackEntries(program).map((entry) => [entry, at(entry)]));
  return { code, aux, pc, regs, helpers, callbacks };
}
