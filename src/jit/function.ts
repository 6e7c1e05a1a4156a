/**
 * One BPF function becomes wasm code: a local-call target a wasm function (r1..r5, r10: i64) -> r0,
 * the entry the body of the event loop (module.ts). Its basic blocks go to the stackifier
 * (src/wasm/stackify.ts), which structures the jump graph into blocks and loops (or lays it out flat
 * when it cannot). A compare tree over one register ends its root block in a `br_table` instead
 * (jump-table.ts), or, when its arms only set constants, in loads from a table of them
 * (value-table.ts); a short arm that only computes registers becomes selects (select.ts). Code the
 * verifier proved dead becomes `unreachable`.
 */
import { InternalError } from '../errors.js';
import { functionName } from './abi.js';
import { emitAlu, emitEnd, emitRoundDown, isRoundDown } from './alu.js';
import { i32, i64, i64Const, tupleType, type Expr } from '../wasm/builder.js';
import { jumpCondition, narrowCompare } from './branch.js';
import { budgetPlan } from './budget-gates.js';
import { emitCall, emitCallx, emitExit } from './calls.js';
import { placeConstants } from './constants.js';
import { FnEmitter, type Inlined, type ModuleContext } from './emitter.js';
import { findJumpTables, type JumpTable } from './jump-table.js';
import { blockLiveness } from './liveness.js';
import { Stackifier, STRUCTURED_MAX_BLOCKS } from '../wasm/stackify.js';
import { emitMemory } from './memory-access.js';
import { emitLdAbs } from './ld-abs.js';
import { pointerFacts } from './pointer-facts.js';
import { findSelectArms, selectCode } from './select.js';
import { columnBytes, EXIT_JOIN, findValueTables, type ValueColumn, type ValueTable } from './value-table.js';
import { branchTarget, type Insn } from '../isa/insn.js';
import { lddwValue } from '../runtime/executable.js';
import type { BasicBlock, BpfFunction } from '../program/program.js';

function emitLddw(e: FnEmitter, insn: Extract<Insn, { kind: 'lddw' }>): Expr {
  return e.set(insn.dst, i64Const(e.m, lddwValue(insn, e.mc.maps)));
}

/** Code for one instruction; jumps emit nothing here (they become the block's exit). */
function emitInsn(e: FnEmitter, insn: Insn): Expr | undefined {
  switch (insn.kind) {
    case 'alu': return emitAlu(e, insn);
    case 'end': return emitEnd(e, insn);
    case 'lddw': return emitLddw(e, insn);
    case 'ldx': case 'st': case 'stx': case 'atomic': return emitMemory(e, insn);
    case 'call': return emitCall(e, insn);
    case 'callx': return emitCallx(e, insn);
    case 'ldabs': return emitLdAbs(e, insn);
    case 'exit': return emitExit(e);
    case 'jmp': case 'ja': return undefined;
    default: {
      const never: never = insn;
      throw new InternalError(`unhandled instruction ${(never as Insn).kind}`);
    }
  }
}

/** Charges the block's instruction count; the run stops at the block's first pc when fuel runs out. */
function chargeBudget(e: FnEmitter, block: BasicBlock): Expr {
  const m = e.m;
  const left = m.i64.sub(m.local.get(e.fuelLocal, i64), i64Const(m, BigInt(block.insns.length)));
  return m.if(m.i64.lt_s(m.local.tee(e.fuelLocal, left, i64), i64Const(m, 0n)), e.trap('E_RUN_BUDGET', block.start));
}

/**
 * A block's code. With `fastCharge` it is the fast copy's (budget-gates.ts), which only subtracts
 * that much: its gates made sure the fuel suffices.
 */
function blockCode(e: FnEmitter, block: BasicBlock, fastCharge?: number): Expr {
  const m = e.m;
  const stmts: Expr[] = [];
  if (fastCharge !== undefined) {
    if (fastCharge > 0) stmts.push(m.local.set(e.fuelLocal, m.i64.sub(m.local.get(e.fuelLocal, i64), i64Const(m, BigInt(fastCharge)))));
  } else if (e.mc.budgetChecks) {
    stmts.push(chargeBudget(e, block));
  }
  const insns = block.insns;
  for (let i = 0; i < insns.length; i++) {
    const insn = insns[i]!;
    if (e.isDead(insn.pc)) {
      stmts.push(e.m.unreachable());
      break;
    }
    if (isRoundDown(insn, insns[i + 1]) && !e.isDead(insns[i + 1]!.pc)) {
      stmts.push(emitRoundDown(e, insn));
      i++;
      continue;
    }
    const code = emitInsn(e, insn);
    if (code !== undefined) stmts.push(code);
  }
  return e.m.block(null, stmts);
}

/** Where control goes at the end of a block: a conditional target, then the unconditional one. */
interface BlockExit {
  readonly cond?: { readonly test: Expr; readonly target: number };
  /** Undefined after `exit`. */
  readonly next?: number;
}

/** How control leaves a block (a jump to the next instruction has one successor: its test is dropped). */
function blockExit(e: FnEmitter, block: BasicBlock): BlockExit {
  const last = block.insns[block.insns.length - 1]!;
  if (last.kind === 'exit' || e.isDead(block.start)) return {};
  if (last.kind === 'ja') return { next: branchTarget(last)! };
  if (last.kind === 'jmp' && branchTarget(last) !== block.end) {
    return { cond: { test: jumpCondition(e, last), target: branchTarget(last)! }, next: block.end };
  }
  return { next: block.end };
}

/**
 * The br_table index of a jump table: key - lo as an i32. A 64-bit key whose table does not fit the
 * 32-bit arithmetic goes through a select that sends every key outside the table to the default.
 */
function tableIndex(e: FnEmitter, table: JumpTable, narrow: boolean): Expr {
  const m = e.m;
  const size = BigInt(table.slots.length);
  if (table.width === 32 || (narrow && table.lo + size <= 1n << 32n)) {
    // Keys below lo wrap around to at least 2^32 - lo > size - 1: the default, like keys above.
    const key = m.i32.wrap(e.get(table.key));
    return table.lo === 0n ? key : m.i32.sub(key, m.i32.const(Number(BigInt.asIntN(32, table.lo))));
  }
  const diff = e.temp(i64);
  // select evaluates its operands in order, so the tee runs before the condition reads it.
  return m.select(
    m.i64.lt_u(m.local.get(diff, i64), i64Const(m, size)),
    m.i32.wrap(m.local.tee(diff, m.i64.sub(e.get(table.key), i64Const(m, table.lo)), i64)),
    m.i32.const(table.slots.length),
  );
}

/**
 * Branches of a jump table's block: one switch branch per arm that some key reaches. An arm whose
 * path has instructions runs them on its edge, on the way to the arm's target.
 */
function addTableBranches(e: FnEmitter, rl: Stackifier, from: number, table: JumpTable, blocks: ReadonlyMap<number, number>): void {
  const m = e.m;
  const slotsOf = table.arms.map((): number[] => []);
  table.slots.forEach((arm, slot) => {
    if (arm !== table.defaultArm) slotsOf[arm]!.push(slot);
  });
  table.arms.forEach((arm, i) => {
    if (i !== table.defaultArm && slotsOf[i]!.length === 0) return; // no key reaches it
    const code = arm.path.length > 0 ? m.block(null, arm.path.map((insn) => emitInsn(e, insn)!)) : undefined;
    rl.addBranchForSwitch(from, blocks.get(arm.target)!, i === table.defaultArm ? [] : slotsOf[i]!, code);
  });
}

/** A function's code and block exits, one per block start. */
interface Blocks {
  readonly code: ReadonlyMap<number, Expr>;
  readonly exits: ReadonlyMap<number, BlockExit>;
}

/** The fast copy's blocks and its gates, each with the fuel it needs (budget-gates.ts). */
interface FastCopy extends Blocks {
  readonly gates: ReadonlyMap<number, number>;
}

function fastCopy(e: FnEmitter, fn: BpfFunction): FastCopy {
  const { gates, charges } = budgetPlan(fn, !e.isEntry);
  return {
    gates,
    code: new Map(fn.blocks.map((block) => [block.start, blockCode(e, block, charges.get(block.start) ?? 0)])),
    exits: new Map(fn.blocks.map((block) => [block.start, blockExit(e, block)])),
  };
}

/**
 * The fast copy of a function charged per block, and its gates (budget-gates.ts): each gate tests the
 * fuel once and sends the run on in the fast copy, or, when it is short, into the exact copy at the
 * gate's block. The exact copy is cold (it runs only while a budget runs out), and entering it in
 * the middle of its loops would make the graph irreducible, so it is not part of this graph: a gate
 * sets `exactLabel` to its block's entry number and leaves the block `EXACT` to the exact copy's
 * dispatch (exactCopy). Returns the entry, and the exact copy's entry blocks in number order.
 */
function addFastCopy(e: FnEmitter, rl: Stackifier, fn: BpfFunction, fast: FastCopy, exactLabel: number): { entry: number; entries: number[] } {
  const m = e.m;
  const copy = new Map(fn.blocks.map((block) => [block.start, rl.addBlock(fast.code.get(block.start)!)]));
  const gates = new Map<number, number>();
  const entries: number[] = [];
  for (const [start, need] of fast.gates) {
    const gate = rl.addBlock(m.nop());
    const toExact = rl.addBlock(m.block(null, [m.local.set(exactLabel, m.i32.const(entries.push(start) - 1)), m.br(EXACT)]));
    rl.addBranch(gate, toExact, m.i64.lt_s(m.local.get(e.fuelLocal, i64), i64Const(m, BigInt(need))));
    rl.addBranch(gate, copy.get(start)!);
    gates.set(start, gate);
  }
  const to = (pc: number): number => gates.get(pc) ?? copy.get(pc)!;
  for (const block of fn.blocks) {
    const exit = fast.exits.get(block.start)!;
    if (exit.cond) rl.addBranch(copy.get(block.start)!, to(exit.cond.target), exit.cond.test);
    if (exit.next !== undefined) rl.addBranch(copy.get(block.start)!, to(exit.next));
  }
  return { entry: gates.get(fn.entry)!, entries };
}

const EXACT = 'exact';

/** The exact copy as a flat layout entered at the gates' blocks: after the end of the block `EXACT`. */
function exactCopy(e: FnEmitter, graph: Stackifier, blocks: ReadonlyMap<number, number>, entries: readonly number[], exactLabel: number): Expr {
  return graph.renderDispatch(entries.map((start) => blocks.get(start)!), exactLabel);
}

/** The function's body: its blocks (and the fast copy's) as a graph, structured by the stackifier. */
function structuredBody(
  e: FnEmitter, fn: BpfFunction, code: ReadonlyMap<number, Expr>, exits: ReadonlyMap<number, BlockExit>, tables: ReadonlyMap<number, JumpTable>,
  fast: FastCopy | undefined,
): Expr {
  const rl = new Stackifier(e.m);
  const blocks = new Map<number, number>();
  for (const block of fn.blocks) {
    const table = tables.get(block.start);
    const body = code.get(block.start)!;
    const last = block.insns[block.insns.length - 1]!;
    const narrow = last.kind === 'jmp' && narrowCompare(e, last);
    blocks.set(block.start, table ? rl.addBlockWithSwitch(body, tableIndex(e, table, narrow)) : rl.addBlock(body));
  }
  for (const block of fn.blocks) {
    const from = blocks.get(block.start)!;
    const table = tables.get(block.start);
    if (table) {
      addTableBranches(e, rl, from, table, blocks);
      continue;
    }
    const exit = exits.get(block.start)!;
    if (exit.cond) rl.addBranch(from, blocks.get(exit.cond.target)!, exit.cond.test);
    if (exit.next !== undefined) rl.addBranch(from, blocks.get(exit.next)!);
  }
  if (!fast) return rl.render(blocks.get(fn.entry)!, e.labelLocal, { flat: e.mc.structure === 'layout' });
  const exactLabel = e.temp(i32);
  const fastGraph = new Stackifier(e.m);
  const { entry, entries } = addFastCopy(e, fastGraph, fn, fast, exactLabel);
  const fastBody = fastGraph.render(entry, e.labelLocal);
  return e.m.block(null, [e.m.block(EXACT, [fastBody]), exactCopy(e, rl, blocks, entries, exactLabel)]);
}

interface Tables {
  /** Trees rendered as a br_table, by the start pc of the root's block. */
  readonly branch: Map<number, JumpTable>;
  /** Trees rendered as table loads, with the jump table they replace and each column's address. */
  readonly value: Map<number, { table: JumpTable; values: ValueTable; addrs: readonly number[] }>;
}

/** Each column placed in the engine's internal area, or undefined when one does not fit. */
function placeColumns(e: FnEmitter, values: ValueTable): number[] | undefined {
  const addrs: number[] = [];
  for (const column of values.columns) {
    const addr = placeConstants(e.mc.mem, columnBytes(column));
    if (addr === undefined) return undefined;
    addrs.push(addr);
  }
  return addrs;
}

/**
 * Tables for the function's compare trees. Not where the budget is charged per block: a table skips
 * the tree's blocks, so a run would be charged less than the interpreter charges.
 */
function findTables(e: FnEmitter, fn: BpfFunction): Tables {
  const tables: Tables = { branch: new Map(), value: new Map() };
  if (!e.mc.jumpTables || e.mc.budgetChecks) return tables;
  const liveIn = blockLiveness(fn); // both searches ask which registers each block reads
  for (const [start, table] of findJumpTables(fn, liveIn)) if (!e.isDead(start)) tables.branch.set(start, table);
  if (!e.mc.valueTables) return tables;
  for (const [start, values] of findValueTables(fn, tables.branch, liveIn)) {
    const addrs = placeColumns(e, values);
    if (!addrs) continue;
    tables.value.set(start, { table: tables.branch.get(start)!, values, addrs });
    tables.branch.delete(start);
  }
  return tables;
}

/** Loads one column's entry `index` (an i32 local) from its table at `addr`. */
function loadEntry(e: FnEmitter, column: ValueColumn, addr: number, index: number): Expr {
  const m = e.m;
  const { bytes, signed } = column.format;
  const at = bytes === 1 ? m.local.get(index, i32) : m.i32.shl(m.local.get(index, i32), m.i32.const(Math.log2(bytes)));
  if (bytes === 1) return signed ? m.i64.load8_s(addr, 1, at) : m.i64.load8_u(addr, 1, at);
  if (bytes === 2) return signed ? m.i64.load16_s(addr, 2, at) : m.i64.load16_u(addr, 2, at);
  if (bytes === 4) return signed ? m.i64.load32_s(addr, 4, at) : m.i64.load32_u(addr, 4, at);
  return m.i64.load(addr, 8, at);
}

/**
 * What replaces the tree after the root block's own code: the key's slot, or the extra entry after
 * the slots for every key outside them, then each register's constant from its column, then the
 * join's `exit` when the arms end there (a join block is the block's successor instead, see blockExit).
 */
function valueTableCode(e: FnEmitter, block: BasicBlock, table: JumpTable, values: ValueTable, addrs: readonly number[]): Expr[] {
  const m = e.m;
  const last = block.insns[block.insns.length - 1]!;
  const narrow = last.kind === 'jmp' && narrowCompare(e, last);
  const index = e.temp(i32);
  const size = (): Expr => m.i32.const(table.slots.length);
  const stmts = [
    m.local.set(index, tableIndex(e, table, narrow)),
    m.local.set(index, m.select(m.i32.lt_u(m.local.get(index, i32), size()), m.local.get(index, i32), size())),
    ...values.columns.map((column, k) => e.set(column.reg, loadEntry(e, column, addrs[k]!, index))),
  ];
  if (values.join === EXIT_JOIN) stmts.push(emitExit(e));
  return stmts;
}

/** A function charged per block gets a fast copy (budget-gates.ts) while both copies can be structured. */
const wantsFastCopy = (mc: ModuleContext, fn: BpfFunction): boolean => mc.budgetChecks && 2 * fn.blocks.length <= STRUCTURED_MAX_BLOCKS;

/** A function's code, as statements: the prologue, then its structured blocks. */
export function functionBody(e: FnEmitter): Expr[] {
  const { mc, fn, m } = e;
  const tables = findTables(e, fn);
  const code = new Map<number, Expr>();
  const exits = new Map<number, BlockExit>();
  for (const block of fn.blocks) {
    code.set(block.start, blockCode(e, block));
    exits.set(block.start, blockExit(e, block));
  }
  for (const [start, { table, values, addrs }] of tables.value) {
    const block = fn.blocks.find((b) => b.start === start)!;
    code.set(start, m.block(null, [code.get(start)!, ...valueTableCode(e, block, table, values, addrs)]));
    exits.set(start, values.join === EXIT_JOIN ? {} : { next: values.join });
  }
  // Not where blocks are charged one by one: an arm turned into selects is no block of its own.
  if (!mc.budgetChecks) {
    const skip = (start: number): boolean => tables.branch.has(start) || tables.value.has(start) || e.isDead(start);
    for (const arm of findSelectArms(fn, skip).values()) {
      code.set(arm.from, m.block(null, [code.get(arm.from)!, ...selectCode(e, arm, (insn) => emitInsn(e, insn))]));
      exits.set(arm.from, { next: arm.join });
    }
  }
  const fast = mc.structure !== 'layout' && wantsFastCopy(mc, fn) ? fastCopy(e, fn) : undefined;
  const body = structuredBody(e, fn, code, exits, tables.branch, fast);
  return [...e.prologue(), body];
}

export const emitterFor = (mc: ModuleContext, fn: BpfFunction, inlined?: Inlined): FnEmitter =>
  new FnEmitter(mc, fn, mc.checked ? pointerFacts(fn, fn.index === 0) : new Map(), inlined);

/** A local-call target as a wasm function of its own: (r1..r5, r10) -> r0. */
export function compileFunction(mc: ModuleContext, fn: BpfFunction): void {
  const m = mc.m;
  const e = emitterFor(mc, fn);
  const body = functionBody(e);
  const params = tupleType(new Array(e.params).fill(i64));
  // Every path ends in `return`; the trailing unreachable only tells the validator so.
  m.addFunction(functionName(fn.index), params, i64, e.localTypes(), m.block(null, [...body, m.unreachable()]));
}
