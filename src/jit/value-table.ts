/**
 * Value tables: a jump table (jump-table.ts) whose arms only set registers to constants and then meet
 * again, which is what a C `switch` that returns or assigns a constant per case compiles to. Such a
 * tree needs no jump at all: the constants go into a table in engine memory and the root block loads
 * them by the key's index, then continues at the join (LLVM's SimplifyCFG does the same with a
 * switch, "switch to lookup table"). Against the `br_table` it removes an indirect jump that
 * mispredicts whenever the keys vary.
 *
 * An arm's effect is followed from its path (the movable instructions of the tree on the way) through
 * its target block and on through blocks that only set registers to constants and end in `goto` or
 * fall through. Where that stops is the arm's join: a block that does anything else, or `exit` (every
 * `exit` joins the same way, since it only reads r0). All arms must reach the same join, and every
 * register the join may read that some arm sets must be a constant on every arm: set on the way, or
 * set by the root block before its compare. Registers the join never reads before writing them are
 * left alone: their values are dead.
 */
import { branchTarget, LddwSrc, type Insn } from '../isa/insn.js';
import type { BasicBlock, BpfFunction } from '../program/program.js';
import { findJumpTables, type JumpTable } from './jump-table.js';
import { blockLiveness, defsOf } from './liveness.js';
import { blocksByStart } from '../program/cfg.js';

/** The join of an arm that ends in `exit`. */
export const EXIT_JOIN = -1;

/** How each table entry is stored: bytes per entry and whether loading sign-extends it. */
export interface EntryFormat {
  readonly bytes: 1 | 2 | 4 | 8;
  readonly signed: boolean;
}

export interface ValueColumn {
  readonly reg: number;
  /** Value for each slot of the jump table, then one more for every key outside the slots. */
  readonly values: readonly bigint[];
  readonly format: EntryFormat;
}

export interface ValueTable {
  /** Start pc of the block every arm continues at, or EXIT_JOIN. */
  readonly join: number;
  /** One column per register the join reads; a table without columns just jumps to the join. */
  readonly columns: readonly ValueColumn[];
}

/** Most blocks followed from one arm's target (a chain of constant blocks is short in practice). */
const MAX_FOLLOW = 16;
const R0 = 1 << 0;

/** The 64-bit value an instruction sets its register to, if it sets it to a constant. */
function constantOf(insn: Insn): bigint | undefined {
  if (insn.kind === 'lddw') return insn.src === LddwSrc.IMM64 ? insn.value : undefined;
  if (insn.kind !== 'alu' || insn.op !== 'mov' || insn.operand !== 'imm' || insn.off !== 0) return undefined;
  // A 64-bit mov sign-extends the immediate; a 32-bit one zero-extends it.
  return insn.width === 64 ? BigInt.asUintN(64, BigInt(insn.imm)) : BigInt(insn.imm >>> 0);
}

/** Applies constant assignments to `regs`; false at the first instruction that is not one. */
function applyConstants(insns: readonly Insn[], regs: Map<number, bigint>): boolean {
  for (const insn of insns) {
    const value = constantOf(insn);
    if (value === undefined) return false;
    regs.set(insn.dst, value);
  }
  return true;
}

interface ArmEffect {
  readonly join: number;
  readonly regs: ReadonlyMap<number, bigint>;
}

/** Registers holding a known constant when the root block's compare runs (its own code sets them). */
function rootConstants(root: BasicBlock): Map<number, bigint> {
  const regs = new Map<number, bigint>();
  for (const insn of root.insns) {
    const value = constantOf(insn);
    if (value !== undefined) regs.set(insn.dst, value);
    else for (let r = 0; r <= 10; r++) if (defsOf(insn) & (1 << r)) regs.delete(r);
  }
  return regs;
}

/**
 * Where an arm's keys end up and with which constants (starting from those the root set), or
 * undefined when the arm computes more.
 */
function armEffect(
  path: readonly Insn[], target: number, blocks: ReadonlyMap<number, BasicBlock>, seed: ReadonlyMap<number, bigint>,
): ArmEffect | undefined {
  const regs = new Map(seed);
  if (!applyConstants(path, regs)) return undefined;
  let at = target;
  for (let step = 0; step < MAX_FOLLOW; step++) {
    const block = blocks.get(at);
    if (!block) return undefined;
    const last = block.insns[block.insns.length - 1]!;
    if (last.kind === 'exit') {
      return applyConstants(block.insns.slice(0, -1), regs) ? { join: EXIT_JOIN, regs } : { join: at, regs };
    }
    const body = last.kind === 'ja' ? block.insns.slice(0, -1) : block.insns;
    const next = last.kind === 'ja' ? branchTarget(last)! : block.end;
    // Only a block that is nothing but constants is passed through; the first other block is the join.
    if (last.kind === 'jmp' || !body.every((insn) => constantOf(insn) !== undefined)) return { join: at, regs };
    applyConstants(body, regs);
    at = next;
  }
  return undefined;
}

/** The narrowest entry that holds every value: the load zero- or sign-extends it back to 64 bits. */
export function entryFormat(values: readonly bigint[]): EntryFormat {
  for (const bytes of [1, 2, 4] as const) {
    const bits = 8 * bytes;
    if (values.every((v) => v === BigInt.asUintN(bits, v))) return { bytes, signed: false };
    if (values.every((v) => v === BigInt.asUintN(64, BigInt.asIntN(bits, v)))) return { bytes, signed: true };
  }
  return { bytes: 8, signed: false };
}

/**
 * The value table equivalent to `table`, or undefined when some reachable arm does more than set
 * constants, the arms do not all meet at one join, or a register the join reads is set on some arms
 * only. `liveIn` gives the registers each block may read before writing them.
 */
function valueTableOf(
  table: JumpTable, root: BasicBlock, blocks: ReadonlyMap<number, BasicBlock>, liveIn: ReadonlyMap<number, number>,
): ValueTable | undefined {
  const used = new Set(table.slots).add(table.defaultArm);
  const seed = rootConstants(root);
  const effects = new Map<number, ArmEffect>();
  for (const i of used) {
    const arm = table.arms[i]!;
    const effect = armEffect(arm.path, arm.target, blocks, seed);
    if (!effect) return undefined;
    effects.set(i, effect);
  }
  const joins = new Set([...effects.values()].map((e) => e.join));
  if (joins.size !== 1) return undefined;
  const join = [...joins][0]!;
  const live = join === EXIT_JOIN ? R0 : liveIn.get(join) ?? -1;
  let setSomewhere = 0;
  for (const e of effects.values()) for (const reg of e.regs.keys()) setSomewhere |= 1 << reg;
  const columns: ValueColumn[] = [];
  for (let reg = 0; reg <= 10; reg++) {
    if ((setSomewhere & live & (1 << reg)) === 0) continue;
    if ([...effects.values()].some((e) => !e.regs.has(reg))) return undefined;
    // Every arm leaves the root's constant: nothing to load.
    if (seed.has(reg) && [...effects.values()].every((e) => e.regs.get(reg) === seed.get(reg))) continue;
    const values = [...table.slots, table.defaultArm].map((arm) => effects.get(arm)!.regs.get(reg)!);
    columns.push({ reg, values, format: entryFormat(values) });
  }
  return { join, columns };
}

/** A column's entries as little-endian bytes, in the column's format. */
export function columnBytes(column: ValueColumn): Uint8Array {
  const { bytes } = column.format;
  const out = new Uint8Array(bytes * column.values.length);
  const view = new DataView(out.buffer);
  column.values.forEach((v, i) => {
    const at = i * bytes;
    if (bytes === 1) view.setUint8(at, Number(v & 0xffn));
    else if (bytes === 2) view.setUint16(at, Number(v & 0xffffn), true);
    else if (bytes === 4) view.setUint32(at, Number(v & 0xffffffffn), true);
    else view.setBigUint64(at, v, true);
  });
  return out;
}

/**
 * The jump tables of `fn` (by the start pc of the root's block) that are value tables, as value tables.
 * Without an argument, all of the function's jump tables are considered.
 */
export function findValueTables(
  fn: BpfFunction, tables: ReadonlyMap<number, JumpTable> = findJumpTables(fn), liveIn: ReadonlyMap<number, number> = blockLiveness(fn),
): Map<number, ValueTable> {
  const out = new Map<number, ValueTable>();
  if (tables.size === 0) return out;
  const blocks = blocksByStart(fn);
  for (const [start, table] of tables) {
    const values = valueTableOf(table, blocks.get(start)!, blocks, liveIn);
    if (values) out.set(start, values);
  }
  return out;
}
