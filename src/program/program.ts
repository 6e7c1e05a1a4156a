/**
 * A loaded program: decoded instructions split into functions (the entry plus every local-call
 * target) and basic blocks. The interpreter, the JIT and the verifier all share this structure.
 * Every way in (bytes, raw slots, instructions) goes through the decoder's field checks, and every
 * step here is linear in the program's size: the kernel accepts 1,000,000 instructions, and so do we.
 */
import { InputError, ProgramError } from '../errors.js';
import { MAX_SLOTS, SLOT_BYTES, decode, decodeSlots } from '../isa/decode.js';
import { toRawSlots } from '../isa/encode.js';
import { branchTarget, calleeTarget, type Insn, type RawSlot } from '../isa/insn.js';
import type { MapSpec } from '../maps/spec.js';
import { sortLines, type SourceLine } from './source-lines.js';

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
  /**
   * Maps the program declares (in assembly, later in an ELF object), in the order `lddw rX,
   * map_by_idx(N)` numbers them; a loader creates them or binds maps the host gives it.
   */
  readonly maps: readonly MapSpec[];
  /** The C source lines the instructions came from (`.BTF.ext` line info), sorted by pc; absent without them. */
  readonly lines?: readonly SourceLine[];
  /**
   * Instructions a failed CO-RE relocation poisoned (`call 0xbad2310`), by pc, with what failed: the
   * verifier refuses one it reaches, an unverified run faults there, both naming the relocation.
   */
  readonly coreFailures?: ReadonlyMap<number, string>;
}

export interface BuildOptions {
  /**
   * Largest program accepted, in instruction slots (an lddw takes two). Default 1,000,000, the
   * kernel's limit; a larger program is refused before any work is done on it.
   */
  readonly maxSlots?: number;
  /** The maps the program declares (Program.maps). */
  readonly maps?: readonly MapSpec[];
  /** Program.lines. */
  readonly lines?: readonly SourceLine[];
  /** Program.coreFailures. */
  readonly coreFailures?: ReadonlyMap<number, string>;
}

function maxSlotsOf(options: BuildOptions): number {
  const max = options.maxSlots ?? MAX_SLOTS;
  if (!Number.isSafeInteger(max) || max <= 0) throw new InputError(`maxSlots ${String(max)} must be a positive integer`);
  return max;
}

/** Refuses a program of more than the limit's slots; `pc` is the first slot past the limit. */
export function checkProgramSize(slots: number, options: BuildOptions = {}): void {
  const max = maxSlotsOf(options);
  if (slots <= max) return;
  throw new ProgramError('E_DECODE_PROGRAM_TOO_LARGE', max,
    `program has ${slots} instruction slots, more than the limit of ${max} (raise it with the maxSlots option, or --max-insns on the command line)`);
}

function indexBySlot(insns: readonly Insn[], slotCount: number): Array<Insn | undefined> {
  const insnAt: Array<Insn | undefined> = new Array(slotCount).fill(undefined);
  for (const insn of insns) insnAt[insn.pc] = insn;
  return insnAt;
}

/** Checks every branch lands on an instruction start inside the program. */
function checkTargets(insns: readonly Insn[], insnAt: ReadonlyArray<Insn | undefined>): void {
  for (const insn of insns) {
    const target = branchTarget(insn) ?? calleeTarget(insn);
    if (target === undefined) continue;
    const code = insn.kind === 'jmp' || insn.kind === 'ja' ? 'E_JUMP_OUT_OF_RANGE' : 'E_CALL_TARGET';
    if (target < 0 || target >= insnAt.length) {
      throw new ProgramError(code, insn.pc, `${code === 'E_CALL_TARGET' ? 'call' : 'jump'} target ${target} is outside the program (0..${insnAt.length - 1})`);
    }
    if (!insnAt[target]) {
      throw new ProgramError('E_JUMP_INTO_LDDW', insn.pc, `branch target ${target} is the second slot of an lddw`);
    }
  }
}

/** Function entry pcs in ascending order: 0, every local-call target and every code address (callback). */
function functionEntries(insns: readonly Insn[], slotCount: number): number[] {
  const isEntry = new Uint8Array(slotCount);
  isEntry[0] = 1;
  for (const insn of insns) {
    const callee = calleeTarget(insn);
    if (callee !== undefined) isEntry[callee] = 1;
  }
  const entries: number[] = [];
  for (let pc = 0; pc < slotCount; pc++) if (isEntry[pc]) entries.push(pc);
  return entries;
}

const endsBlock = (insn: Insn): boolean => insn.kind === 'jmp' || insn.kind === 'ja' || insn.kind === 'exit';

/** Where control goes after the last instruction of a block, checked to stay inside the function. */
function blockSuccs(last: Insn, end: number): number[] {
  const fallthrough = last.pc + (last.kind === 'lddw' ? 2 : 1);
  const succs: number[] = [];
  if (last.kind === 'jmp') {
    const target = branchTarget(last)!;
    succs.push(fallthrough);
    if (target !== fallthrough) succs.push(target);
  } else if (last.kind === 'ja') succs.push(branchTarget(last)!);
  else if (last.kind !== 'exit') succs.push(fallthrough);
  for (const s of succs) {
    if (s >= end) throw new ProgramError('E_FALLS_OFF_END', last.pc, 'control falls off the end of the function without exit');
  }
  return succs;
}

/** One function: its slots [entry, end) and its instructions insns[from, to). */
interface FnRange {
  readonly entry: number;
  readonly end: number;
  readonly from: number;
  readonly to: number;
}

/** Marks the block leaders of one function in `leader`, one byte per slot of the program (functions never overlap). */
function markLeaders(insns: readonly Insn[], fn: FnRange, leader: Uint8Array): void {
  leader[fn.entry] = 1;
  for (let i = fn.from; i < fn.to; i++) {
    const insn = insns[i]!;
    if (insn.kind === 'jmp' || insn.kind === 'ja') {
      const target = branchTarget(insn)!;
      if (target < fn.entry || target >= fn.end) {
        throw new ProgramError('E_JUMP_OUT_OF_RANGE', insn.pc, `jump target ${target} leaves the function [${fn.entry}, ${fn.end})`);
      }
      leader[target] = 1;
    }
    if (endsBlock(insn) && insn.pc + 1 < fn.end) leader[insn.pc + 1] = 1;
  }
}

function buildBlocks(insns: readonly Insn[], fn: FnRange, leader: Uint8Array): BasicBlock[] {
  markLeaders(insns, fn, leader);
  const blocks: BasicBlock[] = [];
  let first = fn.from;
  for (let i = fn.from; i < fn.to; i++) {
    if (i + 1 < fn.to && !leader[insns[i + 1]!.pc]) continue;
    const last = insns[i]!;
    const end = last.pc + (last.kind === 'lddw' ? 2 : 1);
    blocks.push({ start: insns[first]!.pc, end, insns: insns.slice(first, i + 1), succs: blockSuccs(last, fn.end) });
    first = i + 1;
  }
  return blocks;
}

/**
 * Refuses a cycle in the call graph, a function loading its own or a caller's code address (a
 * callback) included, as the kernel's check_cfg; iterative, so a chain of 100,000 calls cannot
 * overflow the stack.
 */
function checkNoRecursion(insns: readonly Insn[], functions: readonly BpfFunction[], functionOf: Int32Array): void {
  const calls: Array<Array<{ pc: number; callee: number }>> = functions.map(() => []);
  for (const insn of insns) {
    const callee = calleeTarget(insn);
    if (callee !== undefined) calls[functionOf[insn.pc]!]!.push({ pc: insn.pc, callee: functionOf[callee]! });
  }
  const state = new Uint8Array(functions.length); // 0 new, 1 on the current path, 2 done
  const stack: Array<{ fn: number; next: number }> = [{ fn: 0, next: 0 }];
  state[0] = 1;
  while (stack.length > 0) {
    const top = stack[stack.length - 1]!;
    const call = calls[top.fn]![top.next++];
    if (!call) {
      state[top.fn] = 2;
      stack.pop();
    } else if (state[call.callee] === 1) {
      throw new ProgramError('E_RECURSION', call.pc, `recursive call to the function at pc ${functions[call.callee]!.entry}`);
    } else if (state[call.callee] === 0) {
      state[call.callee] = 1;
      stack.push({ fn: call.callee, next: 0 });
    }
  }
}

/**
 * Builds and checks the structure of decoded instructions: targets, functions, blocks, no recursion.
 * Register use (uninitialized reads, writes to r10) is the verifier's business: a program that reads
 * an uninitialized register is well formed, just unsafe, and disasm, cfg and checked runs take it.
 */
function structure(insns: readonly Insn[], options: BuildOptions): Program {
  const last = insns[insns.length - 1]!;
  const slotCount = last.pc + (last.kind === 'lddw' ? 2 : 1);
  const insnAt = indexBySlot(insns, slotCount);
  checkTargets(insns, insnAt);
  const entries = functionEntries(insns, slotCount);
  const functionOf = new Int32Array(slotCount);
  const leader = new Uint8Array(slotCount);
  let from = 0;
  const functions: BpfFunction[] = entries.map((entry, index) => {
    const end = entries[index + 1] ?? slotCount;
    functionOf.fill(index, entry, end);
    let to = from;
    while (to < insns.length && insns[to]!.pc < end) to++;
    const blocks = buildBlocks(insns, { entry, end, from, to }, leader);
    from = to;
    return { index, entry, end, blocks };
  });
  checkNoRecursion(insns, functions, functionOf);
  const program: Program = { insns, slotCount, insnAt, functions, functionOf, maps: options.maps ?? [] };
  const lines = options.lines ? { lines: sortLines(options.lines) } : {};
  const failures = options.coreFailures ? { coreFailures: options.coreFailures } : {};
  return { ...program, ...lines, ...failures };
}

/**
 * Instructions as the decoder makes them from these instructions' raw fields: whatever a caller built
 * by hand passes the same checks as bytecode (register numbers, reserved fields, opcodes), and the
 * program holds only canonical instructions.
 */
export function canonicalInsns(insns: readonly Insn[], options: BuildOptions = {}): Insn[] {
  if (!Array.isArray(insns)) throw new InputError('instructions must be an array');
  checkProgramSize(insns.length, options);
  const slots = toRawSlots(insns);
  checkProgramSize(slots.length, options);
  return decodeSlots(slots);
}

/** Builds a program from instructions, checking them as the decoder checks bytecode. */
export function buildProgram(insns: readonly Insn[], options: BuildOptions = {}): Program {
  return structure(canonicalInsns(insns, options), options);
}

export function loadSlots(slots: readonly RawSlot[], options: BuildOptions = {}): Program {
  checkProgramSize(slots.length, options);
  return structure(decodeSlots(slots), options);
}

/** Decodes bytecode under the size limit, checked on its length first, without building a program (disasm needs no more). */
export function decodeProgram(bytes: Uint8Array, options: BuildOptions = {}): Insn[] {
  checkProgramSize(Math.ceil(bytes.length / SLOT_BYTES), options);
  return decode(bytes);
}

/** Entry pcs of the functions whose code address the program loads (lddw code_addr): its callbacks, in order. */
export function callbackEntries(program: Program): number[] {
  const entries = new Set<number>();
  for (const insn of program.insns) if (insn.kind === 'lddw') entries.add(calleeTarget(insn) ?? -1);
  entries.delete(-1);
  return [...entries].sort((a, b) => a - b);
}

/** Decodes little-endian bytecode and builds the program. */
export function loadBytes(bytes: Uint8Array, options: BuildOptions = {}): Program {
  return structure(decodeProgram(bytes, options), options);
}
