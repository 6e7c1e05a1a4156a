/**
 * Jump tables recovered from compare trees (docs/architecture.md section 5). BPF has no indirect jump, so clang
 * compiles a C `switch` into a binary-search tree of compares of one register against constants
 * (`if w1 s> 31 goto ...`) ending in `==` tests; binaryen does not turn such a tree back into a
 * `br_table`. This module does, on the BPF side: starting at a block that ends in a compare of a
 * register (the key) with an immediate, it follows every compare of the same key with an immediate,
 * splitting the key's values into intervals, until each interval reaches a block that is not such a
 * compare (a leaf). The result maps every key value to an arm: the leaf block to continue at, plus the
 * instructions of the tree blocks passed on the way (clang puts `r0 = const` in front of some tests),
 * which the JIT then runs on the table's edge, less those whose result is overwritten before it is
 * read (liveness.ts), so that paths differing only in dead values share an arm. A tree becomes a
 * table only where most of its arms are reached by single keys, as a switch's are (layoutTable says
 * why: a tree splitting the keys into a few ranges is cheaper than an indirect jump).
 *
 * Only blocks whose other instructions cannot fail and leave the key alone (ALU, byte swaps, 64-bit
 * immediates) are followed, so running them on the edge is exactly what the tree would have done.
 * The caller uses a table only where the budget is not charged per block (skipping tree blocks would
 * change what a run is charged).
 */
import { InternalError } from '../errors.js';
import { branchTarget, LddwSrc, type Insn, type InsnOf, type JmpCond, type Width } from '../isa/insn.js';
import type { BasicBlock, BpfFunction } from '../program/program.js';
import { blockLiveness, defsOf, usesOf } from './liveness.js';
import { blocksByStart } from '../program/cfg.js';

/** A set of unsigned key values: sorted, disjoint, inclusive intervals. */
type Interval = readonly [bigint, bigint];
type ValueSet = readonly Interval[];

export interface TableArm {
  /** Start pc of the block the arm continues at. */
  readonly target: number;
  /** Instructions of the tree blocks on the way, in order; none of them writes the key. */
  readonly path: readonly Insn[];
}

export interface JumpTable {
  /** The register compared. */
  readonly key: number;
  /** 32: the tree compares the key's low 32 bits (JMP32); 64: the whole register. */
  readonly width: Width;
  /** Key of slot 0. */
  readonly lo: bigint;
  readonly arms: readonly TableArm[];
  /** Arm of key lo + i (modulo 2^width: a table may wrap round from the largest key to 0), for every slot i. */
  readonly slots: readonly number[];
  /** Arm of every key outside the slots. */
  readonly defaultArm: number;
  /** Compares the table replaces, the root's included (a block shared by two paths counts twice). */
  readonly tests: number;
}

/** Fewest compares worth a table (LLVM's minimum for jump tables is 4 cases). */
export const MIN_TESTS = 4;
/** Most slots a table may have. */
export const MAX_SLOTS = 1024;
/** Slots allowed per compare replaced: denser than a tree of this many compares, or no table. */
const SLOTS_PER_TEST = 4;
/** Most tree blocks one walk visits (a tree is walked per path, so shared blocks count each time). */
const MAX_VISITS = 2048;

// ---- value sets ----

function intersect(a: ValueSet, b: ValueSet): Interval[] {
  const out: Interval[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const [alo, ahi] = a[i]!;
    const [blo, bhi] = b[j]!;
    const lo = alo > blo ? alo : blo;
    const hi = ahi < bhi ? ahi : bhi;
    if (lo <= hi) out.push([lo, hi]);
    if (ahi < bhi) i++;
    else j++;
  }
  return out;
}

function complement(a: ValueSet, max: bigint): Interval[] {
  const out: Interval[] = [];
  let next = 0n;
  for (const [lo, hi] of a) {
    if (lo > next) out.push([next, lo - 1n]);
    next = hi + 1n;
  }
  if (next <= max) out.push([next, max]);
  return out;
}

const byStart = (a: Interval, b: Interval): number => (a[0] < b[0] ? -1 : 1);

const sizeOf = (a: ValueSet): bigint => a.reduce((n, [lo, hi]) => n + hi - lo + 1n, 0n);

/** The unsigned maximum and the signed range of a width, made once: conditionSet runs per tree node. */
const RANGES = {
  32: { max: 0xffffffffn, smin: -(1n << 31n), smax: (1n << 31n) - 1n },
  64: { max: (1n << 64n) - 1n, smin: -(1n << 63n), smax: (1n << 63n) - 1n },
} as const;

/** The signed values a..b as unsigned intervals below max + 1. */
function signedSet(a: bigint, b: bigint, max: bigint): Interval[] {
  if (a > b) return [];
  if (a >= 0n) return [[a, b]];
  if (b < 0n) return [[a + max + 1n, b + max + 1n]];
  return [[0n, b], [a + max + 1n, max]];
}

/** Key values (unsigned, `width` bits) for which `key cond imm` holds; undefined for jset. */
export function conditionSet(cond: JmpCond, imm: number, width: Width): ValueSet | undefined {
  const { max, smin, smax } = RANGES[width];
  // The immediate is sign-extended to 64 bits for JMP, taken as 32 bits for JMP32.
  const k = BigInt.asUintN(width, BigInt(imm));
  const ks = BigInt.asIntN(width, k);
  switch (cond) {
    case 'jeq': return [[k, k]];
    case 'jne': return complement([[k, k]], max);
    case 'jgt': return k < max ? [[k + 1n, max]] : [];
    case 'jge': return [[k, max]];
    case 'jlt': return k > 0n ? [[0n, k - 1n]] : [];
    case 'jle': return [[0n, k]];
    case 'jsgt': return signedSet(ks + 1n, smax, max);
    case 'jsge': return signedSet(ks, smax, max);
    case 'jslt': return signedSet(smin, ks - 1n, max);
    case 'jsle': return signedSet(smin, ks, max);
    case 'jset': return undefined;
    default: {
      const never: never = cond;
      throw new InternalError(`unhandled jump condition ${String(never)}`);
    }
  }
}

// ---- the walk ----

/** A compare of `key` (at `width`) with an immediate that splits values into intervals. */
function keyTest(insn: Insn | undefined, key: number, width: Width): insn is InsnOf<'jmp'> {
  return insn?.kind === 'jmp' && insn.operand === 'imm' && insn.dst === key && insn.width === width && insn.cond !== 'jset';
}

/** An instruction that may run on a table edge instead of in its tree block: cannot fail, keeps the key. */
function movable(insn: Insn, key: number): boolean {
  switch (insn.kind) {
    case 'alu': case 'end': return insn.dst !== key;
    case 'lddw': return insn.dst !== key && insn.src === LddwSrc.IMM64;
    default: return false;
  }
}

interface Walk {
  readonly blocks: ReadonlyMap<number, BasicBlock>;
  /** Live-in registers of every block. */
  readonly liveIn: ReadonlyMap<number, number>;
  readonly key: number;
  readonly width: Width;
  readonly max: bigint;
  /** Tree blocks entered, and how many of them were compares (the rest bare `goto`s). */
  visits: number;
  compares: number;
  /** Tree blocks passed through (not the root, not the leaves); a block shared by two paths twice. */
  readonly nodes: number[];
  /** The function's first pc, and a flag for every pc (less it) of a block on the walk's current path. */
  readonly base: number;
  readonly onPath: Uint8Array;
  /** Arms by target and path, with the keys reaching each; alone: whether some key reached it alone. */
  readonly arms: Map<string, { arm: TableArm; keys: Interval[]; alone: boolean }>;
}

const armKey = (target: number, path: readonly Insn[]): string => `${target}:${path.map((i) => i.pc).join(',')}`;

/** The path without instructions whose result is overwritten before anything reads it. */
function liveOnly(path: readonly Insn[], liveAtTarget: number): Insn[] {
  const kept: Insn[] = [];
  let live = liveAtTarget;
  for (let i = path.length - 1; i >= 0; i--) {
    const insn = path[i]!;
    if ((defsOf(insn) & live) === 0) continue; // movable instructions have no other effect
    kept.unshift(insn);
    live = (live & ~defsOf(insn)) | usesOf(insn);
  }
  return kept;
}

function addArm(w: Walk, target: number, fullPath: readonly Insn[], keys: ValueSet): void {
  const path = liveOnly(fullPath, w.liveIn.get(target) ?? -1);
  const id = armKey(target, path);
  const alone = keys.length === 1 && keys[0]![0] === keys[0]![1];
  const known = w.arms.get(id);
  if (known) {
    known.keys.push(...keys);
    known.alone ||= alone;
  } else {
    w.arms.set(id, { arm: { target, path }, keys: [...keys], alone });
  }
}

/** The block's compare of the key (or its bare `goto`) when the walk may pass through it. */
function treeStep(w: Walk, block: BasicBlock | undefined): InsnOf<'jmp'> | InsnOf<'ja'> | undefined {
  if (!block || w.onPath[block.start - w.base]) return undefined;
  const last = block.insns[block.insns.length - 1]!;
  if (last.kind === 'ja') return block.insns.length === 1 ? last : undefined;
  if (!keyTest(last, w.key, w.width)) return undefined;
  for (let i = 0; i < block.insns.length - 1; i++) if (!movable(block.insns[i]!, w.key)) return undefined;
  return last;
}

/** Sends `keys`, having run `path`, through the tree from block `start`; false when the walk is too big. */
function walk(w: Walk, start: number, keys: ValueSet, path: readonly Insn[]): boolean {
  const block = w.blocks.get(start);
  const step = treeStep(w, block);
  if (!block || !step) {
    addArm(w, start, path, keys);
    return true;
  }
  if (++w.visits > MAX_VISITS) return false;
  w.nodes.push(start);
  w.onPath[start - w.base] = 1;
  let ok: boolean;
  if (step.kind === 'ja') {
    ok = walk(w, branchTarget(step)!, keys, path);
  } else {
    w.compares++;
    const test = conditionSet(step.cond, step.imm, w.width)!;
    const taken = intersect(keys, test);
    const fallen = intersect(keys, complement(test, w.max));
    const next = block.insns.length > 1 ? [...path, ...block.insns.slice(0, -1)] : path;
    ok = (taken.length === 0 || walk(w, branchTarget(step)!, taken, next)) &&
      (fallen.length === 0 || walk(w, block.end, fallen, next));
  }
  w.onPath[start - w.base] = 0;
  return ok;
}

/**
 * The shortest run of keys, going round from the largest key to 0, that holds all of `intervals`
 * (sorted): it leaves out the largest gap between them, so -3..60 as u32 is the 64 keys from
 * 2^32 - 3 round to 60. Returns its first key and its length.
 */
function coveringArc(intervals: readonly Interval[], max: bigint): { lo: bigint; size: bigint } {
  const first = intervals[0]!;
  const last = intervals[intervals.length - 1]!;
  // The gap after the last interval, round to the first one.
  let best = { gap: max - last[1] + first[0], lo: first[0], size: last[1] - first[0] + 1n };
  for (let i = 1; i < intervals.length; i++) {
    const gap = intervals[i]![0] - intervals[i - 1]![1] - 1n;
    if (gap > best.gap) best = { gap, lo: intervals[i]![0], size: max + 1n - gap };
  }
  return { lo: best.lo, size: best.size };
}

/**
 * Slot table over the keys that do not go to the default arm, if it is dense enough and it is a
 * branch over single keys.
 *
 * Where a table pays: it replaces the compares on a key's way through the tree by a fixed cost, the
 * index, a bounds check and an indirect jump, which costs about one misprediction when the keys
 * vary, like a couple of the tree's branches. That pays for a tree that picks single keys out of
 * many arms, as clang's switch trees do (a binary search ending in `==` leaves: switch.bin's tree
 * takes 6 or 7 compares to reach each of its 64 arms). It does not pay for a tree that splits the
 * key range into a few wide intervals, like log2.bin's chain of `if (v >> 4) { v >>= 4; r += 4; }`
 * over one value (arms for the keys 0-1, 2-3, 4-15, and 16 and up as the default): a key needs
 * only a couple of compares, and the arms are if-then diamonds that rejoin, which become branch-free
 * `select`s (select.ts); the table put an unpredictable indirect jump in their place and made
 * log2 up to 2.6 times slower. The rule: at least half of the non-default arms must be reached by
 * some key alone, a key the tree narrowed to one value on the way (as an `==` leaf does, or a range
 * test that leaves one value). It counts arms, not slots, because a tree may have copies of its
 * default block (a `return 0` duplicated into the leaves), each an arm over the gap between cases.
 */
function layoutTable(w: Walk, root: InsnOf<'jmp'>, tests: number): JumpTable | undefined {
  const entries = [...w.arms.values()].filter((e) => e.keys.length > 0);
  if (entries.length < 3) return undefined;
  const sizes = entries.map((e) => sizeOf(e.keys));
  let defaultArm = 0;
  sizes.forEach((n, i) => {
    if (n > sizes[defaultArm]!) defaultArm = i;
  });
  const cases: Interval[] = [];
  entries.forEach((e, i) => {
    if (i !== defaultArm) for (const k of e.keys) cases.push(k);
  });
  cases.sort(byStart);
  const { lo, size } = coveringArc(cases, w.max);
  if (size > BigInt(Math.min(MAX_SLOTS, SLOTS_PER_TEST * tests))) return undefined;
  const singled = entries.filter((e, i) => i !== defaultArm && e.alone).length;
  if (2 * singled < entries.length - 1) return undefined;
  const slots: number[] = new Array<number>(Number(size)).fill(defaultArm);
  entries.forEach((e, i) => {
    if (i === defaultArm) return;
    // Every case key lies in the arc: its offset from lo, round the key space, is below size.
    for (const [a, b] of e.keys) slots.fill(i, Number((a - lo) & w.max), Number((b - lo) & w.max) + 1);
  });
  return { key: root.dst, width: root.width, lo, arms: entries.map((e) => e.arm), slots, defaultArm, tests };
}

/** The jump table replacing the compare tree rooted at `block` and the tree's other blocks, or undefined. */
export function treeTable(
  fn: BpfFunction, liveIn: ReadonlyMap<number, number>, block: BasicBlock,
): { table: JumpTable; nodes: readonly number[] } | undefined {
  const root = block.insns[block.insns.length - 1];
  if (root?.kind !== 'jmp' || !keyTest(root, root.dst, root.width)) return undefined;
  const max = RANGES[root.width].max;
  const w: Walk = {
    blocks: blocksByStart(fn), liveIn, key: root.dst, width: root.width, max, visits: 0, compares: 0, nodes: [],
    base: fn.entry, onPath: new Uint8Array(fn.end - fn.entry), arms: new Map(),
  };
  // The root's own body stays in its block: the walk starts at its compare.
  const test = conditionSet(root.cond, root.imm, root.width)!;
  w.onPath[block.start - w.base] = 1;
  const fallen = complement(test, max);
  const ok = (test.length === 0 || walk(w, branchTarget(root)!, test, [])) && (fallen.length === 0 || walk(w, block.end, fallen, []));
  const tests = w.compares + 1;
  if (!ok || tests < MIN_TESTS) return undefined;
  for (const entry of w.arms.values()) entry.keys.sort(byStart);
  const table = layoutTable(w, root, tests);
  return table && { table, nodes: w.nodes };
}

/**
 * Jump tables of one function, by the start pc of the block ending in the tree's root compare.
 * Blocks go in pc order; a block inside an earlier table's tree does not start another one.
 */
export function findJumpTables(fn: BpfFunction, liveIn: ReadonlyMap<number, number> = blockLiveness(fn)): Map<number, JumpTable> {
  const tables = new Map<number, JumpTable>();
  const inTree = new Uint8Array(fn.end - fn.entry);
  for (const block of fn.blocks) {
    if (inTree[block.start - fn.entry]) continue;
    const found = treeTable(fn, liveIn, block);
    if (!found) continue;
    tables.set(block.start, found.table);
    for (const b of found.nodes) inTree[b - fn.entry] = 1;
  }
  return tables;
}
