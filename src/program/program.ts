/**
 * A loaded program: decoded instructions split into functions (the entry plus every local-call
 * target) and basic blocks. The interpreter, the JIT and the verifier all share this structure.
 */
import { ProgramError } from '../errors.js';
import { decodeSlots, toSlots } from '../isa/decode.js';
import { branchTarget, type Insn, type RawSlot } from '../isa/insn.js';
import { checkRegisterUse } from './registers.js';

export interface BasicBlock {
  /** Slot index of the first instruction. */
  readonly start: number;
  /** Slot index just past the last instruction. */
  readonly end: number;
  readonly insns: readonly Insn[];
  /** Start pcs of the blocks control may continue to (not counting local calls, which return). */
  readonly succs: readonly number[];
}

export interface BpfFunction {
  readonly index: number;
  /** Slot range [entry, end). */
  readonly entry: number;
  readonly end: number;
  readonly blocks: readonly BasicBlock[];
}

export interface Program {
  readonly insns: readonly Insn[];
  readonly slotCount: number;
  /** Instruction starting at each slot; undefined for the second slot of an lddw. */
  readonly insnAt: ReadonlyArray<Insn | undefined>;
  readonly functions: readonly BpfFunction[];
  /** Function index containing each slot. */
  readonly functionOf: Int32Array;
}

function indexBySlot(insns: readonly Insn[], slotCount: number): Array<Insn | undefined> {
  const insnAt: Array<Insn | undefined> = new Array(slotCount).fill(undefined);
  for (const insn of insns) insnAt[insn.pc] = insn;
  return insnAt;
}

/** Checks every branch lands on an instruction start inside the program. */
function checkTargets(insns: readonly Insn[], insnAt: ReadonlyArray<Insn | undefined>): void {
  for (const insn of insns) {
    const target = branchTarget(insn);
    if (target === undefined) continue;
    const code = insn.kind === 'call' ? 'E_CALL_TARGET' : 'E_JUMP_OUT_OF_RANGE';
    if (target < 0 || target >= insnAt.length) {
      throw new ProgramError(code, insn.pc, `${insn.kind === 'call' ? 'call' : 'jump'} target ${target} is outside the program (0..${insnAt.length - 1})`);
    }
    if (!insnAt[target]) {
      throw new ProgramError('E_JUMP_INTO_LDDW', insn.pc, `branch target ${target} is the second slot of an lddw`);
    }
  }
}

function functionEntries(insns: readonly Insn[]): number[] {
  const entries = new Set<number>([0]);
  for (const insn of insns) {
    if (insn.kind === 'call' && insn.mode === 'local') entries.add(branchTarget(insn)!);
  }
  return [...entries].sort((a, b) => a - b);
}

const endsBlock = (insn: Insn): boolean => insn.kind === 'jmp' || insn.kind === 'ja' || insn.kind === 'exit';

function buildBlocks(fnInsns: readonly Insn[], entry: number, end: number): BasicBlock[] {
  const leaders = new Set<number>([entry]);
  for (const insn of fnInsns) {
    const target = branchTarget(insn);
    if (insn.kind === 'jmp' || insn.kind === 'ja') {
      if (target! < entry || target! >= end) {
        throw new ProgramError('E_JUMP_OUT_OF_RANGE', insn.pc, `jump target ${target} leaves the function [${entry}, ${end})`);
      }
      leaders.add(target!);
    }
    if (endsBlock(insn)) {
      const next = insn.pc + 1;
      if (next < end) leaders.add(next);
    }
  }
  const blocks: BasicBlock[] = [];
  let current: Insn[] = [];
  const flush = (): void => {
    const first = current[0]!;
    const last = current[current.length - 1]!;
    const fallthrough = last.pc + (last.kind === 'lddw' ? 2 : 1);
    const succs: number[] = [];
    if (last.kind === 'jmp') succs.push(fallthrough, branchTarget(last)!);
    else if (last.kind === 'ja') succs.push(branchTarget(last)!);
    else if (last.kind !== 'exit') succs.push(fallthrough);
    for (const s of succs) {
      if (s >= end) throw new ProgramError('E_FALLS_OFF_END', last.pc, 'control falls off the end of the function without exit');
    }
    blocks.push({ start: first.pc, end: fallthrough, insns: current, succs: [...new Set(succs)] });
    current = [];
  };
  for (const insn of fnInsns) {
    if (current.length > 0 && leaders.has(insn.pc)) flush();
    current.push(insn);
  }
  if (current.length > 0) flush();
  return blocks;
}

function checkNoRecursion(functions: readonly BpfFunction[], functionOf: Int32Array): void {
  const calls = functions.map((fn) => fn.blocks.flatMap((b) => b.insns)
    .filter((i) => i.kind === 'call' && i.mode === 'local')
    .map((i) => ({ pc: i.pc, callee: functionOf[branchTarget(i)!]! })));
  const state = new Uint8Array(functions.length); // 0 new, 1 on path, 2 done
  const visit = (fn: number): void => {
    state[fn] = 1;
    for (const { pc, callee } of calls[fn]!) {
      if (state[callee] === 1) throw new ProgramError('E_RECURSION', pc, `recursive call to the function at pc ${functions[callee]!.entry}`);
      if (state[callee] === 0) visit(callee);
    }
    state[fn] = 2;
  };
  visit(0);
}

/** Builds and checks the program structure: targets, functions, blocks, no recursion, register use. */
export function buildProgram(insns: readonly Insn[]): Program {
  const last = insns[insns.length - 1]!;
  const slotCount = last.pc + (last.kind === 'lddw' ? 2 : 1);
  const insnAt = indexBySlot(insns, slotCount);
  checkTargets(insns, insnAt);
  const entries = functionEntries(insns);
  const functionOf = new Int32Array(slotCount);
  const functions: BpfFunction[] = entries.map((entry, index) => {
    const end = entries[index + 1] ?? slotCount;
    functionOf.fill(index, entry, end);
    const fnInsns = insns.filter((i) => i.pc >= entry && i.pc < end);
    return { index, entry, end, blocks: buildBlocks(fnInsns, entry, end) };
  });
  checkNoRecursion(functions, functionOf);
  const program: Program = { insns, slotCount, insnAt, functions, functionOf };
  checkRegisterUse(program);
  return program;
}

export function loadSlots(slots: readonly RawSlot[]): Program {
  return buildProgram(decodeSlots(slots));
}

/** Decodes little-endian bytecode and builds the program. */
export function loadBytes(bytes: Uint8Array): Program {
  return loadSlots(toSlots(bytes));
}
