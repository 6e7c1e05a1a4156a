/**
 * fast-check arbitraries for random valid programs, built from the opcode table: every ALU, byte-swap
 * and lddw row is a "compute" item, every ldx/st/stx/atomic row a memory item and every conditional
 * jump and ja row a forward jump, so a row added to the table is generated without touching this file.
 * Loops (lower.ts/loops.ts), local calls, helper calls and exits are structured items around them.
 *
 * `programSpec()` generates a ProgramSpec; `lowerProgram` (lower.ts) turns it into instructions.
 */
import fc from 'fast-check';
import { FUZZ_HELPER_IDS } from './helpers.js';
import { ARG_REGS, MAIN_INIT_REGS, SUB_INIT_REGS } from './lower.js';
import {
  READABLE, WRITABLE, type Addr, type CallItem, type FnSpec, type HelperItem, type Init, type Item, type JumpItem,
  type LoopItem, type MemItem, type OpItem, type ProgramSpec, type StepItem, type SwitchItem, type TreeNode,
} from './spec.js';
import type { JmpCond } from '../src/isa/insn.js';
import { OPCODE_TABLE, type OpcodeRow } from '../src/isa/table.js';

/** Budget for ordinary cases: far above any generated program's trip count, so only tiny budgets stop runs. */
export const FUZZ_BUDGET = 1_000_000;
/**
 * Most items per function body and loop body. Compile time grows with program size (binaryen's
 * optimizer dominates), so these favour many small programs.
 */
const MAIN_ITEMS = 16;
const SUB_ITEMS = 6;
const LOOP_ITEMS = 6;
/** Largest generated context. */
export const MAX_INPUT = 96;
/** Most events of a batch run. */
export const MAX_BATCH = 4;

type Category = 'compute' | 'memory' | 'branch' | 'structured' | 'unsupported';

/** What the generator does with a table row; every form kind must be placed (the `never` check). */
export function category(row: OpcodeRow): Category {
  const form = row.form;
  switch (form.kind) {
    case 'alu': case 'end': case 'lddw': return 'compute';
    case 'ldx': case 'st': case 'stx': case 'atomic': return 'memory';
    case 'jmp': case 'ja': return 'branch';
    // Local calls, helper calls, callx and exit are emitted by the lowering around structured items.
    case 'callx': case 'exit': return 'structured';
    case 'call': return form.mode === 'kfunc' ? 'unsupported' : 'structured';
    // Legacy packet loads need an __sk_buff context in r6; the fuzzer's contexts are plain memory.
    case 'ldabs': return 'unsupported';
    default: {
      const never: never = form;
      throw new Error(`the fuzz generator does not know form ${JSON.stringify(never)}`);
    }
  }
}

export const rowsOf = (cat: Category): OpcodeRow[] => OPCODE_TABLE.filter((row) => category(row) === cat);

const INT_MIN = -0x80000000;
const INT_MAX = 0x7fffffff;
const IMM_EDGES = [0, 1, -1, 2, -2, INT_MAX, INT_MIN, 0xff, 0xffff, 0x7fff, -0x8000, 0x80, 7, 8, 15, 16, 31, 32, 33, 63, 64];
const WIDE_EDGES = [
  0n, 1n, 2n ** 64n - 1n, 2n ** 63n, 2n ** 63n - 1n, 0xffffffffn, 0x80000000n, 0x7fffffffn, 0x100000000n,
  0xffffffff00000000n, 0xffffffff80000000n, 0x8000000000000001n, 0xffffn, 0x0123456789abcdefn,
];

/** Weighted choice that shrinks towards the first choice. */
const weighted = <T>(...pairs: Array<readonly [number, fc.Arbitrary<T>]>): fc.Arbitrary<T> =>
  fc.oneof({ withCrossShrink: true }, ...pairs.map(([weight, arbitrary]) => ({ weight, arbitrary })));

/** Interesting 32-bit immediates: edges, small values (shift counts, offsets), anything. */
export const imm32 = (): fc.Arbitrary<number> => weighted(
  [3, fc.constantFrom(...IMM_EDGES)],
  [3, fc.integer({ min: -16, max: 70 })],
  [2, fc.integer({ min: INT_MIN, max: INT_MAX })],
);

export const wide64 = (): fc.Arbitrary<bigint> => weighted(
  [3, fc.constantFrom(...WIDE_EDGES)],
  [2, fc.bigInt({ min: -1000n, max: 1000n })],
  [3, fc.bigInt({ min: 0n, max: 2n ** 64n - 1n })],
);

const writable = (): fc.Arbitrary<number> => fc.constantFrom(...WRITABLE);
const readable = (): fc.Arbitrary<number> => fc.constantFrom(...READABLE);
/** True with probability 1 / (1 + odds). */
const rarely = (odds: number): fc.Arbitrary<boolean> => weighted([odds, fc.constant(false)], [1, fc.constant(true)]);

export const init = (): fc.Arbitrary<Init> => weighted<Init>(
  [3, imm32().map((v) => ({ k: 'imm', v }))],
  [1, imm32().map((v) => ({ k: 'imm32', v }))],
  [2, wide64().map((v) => ({ k: 'wide', v }))],
  [2, fc.nat(255).map((at) => ({ k: 'ctx', at }))],
);

const inits = (n: number): fc.Arbitrary<Init[]> => fc.array(init(), { minLength: n, maxLength: n });

function computeItem(row: OpcodeRow): fc.Arbitrary<OpItem> {
  const { fields } = row;
  const shift = row.form.kind === 'alu' && ['lsh', 'rsh', 'arsh'].includes(row.form.op);
  return fc.record({
    dst: writable(),
    src: fields.src === 'reg' ? readable() : fc.constant(0),
    imm: fields.imm !== 'value' ? fc.constant(0) : shift ? weighted([2, fc.nat(70)], [1, imm32()]) : imm32(),
    wide: row.form.kind === 'lddw' ? wide64() : fc.constant(0n),
  }).map((f) => ({ t: 'op', row, ...f }));
}

const slot = (): fc.Arbitrary<number> => fc.nat(4095);

/** Addresses: mostly inside the stack frame or the context, sometimes computed, rarely outside. */
export function addr(atomic: boolean): fc.Arbitrary<Addr> {
  const aligned = atomic ? rarely(40).map((mis) => !mis) : fc.boolean();
  return weighted<Addr>(
    [20, fc.record({ slot: slot(), aligned }).map((a) => ({ m: 'stack', ...a }))],
    [18, fc.record({ base: fc.constantFrom(6 as const, 1 as const), slot: slot(), aligned }).map((a) => ({ m: 'ctx', ...a }))],
    [2, fc.record({ slot: slot(), aligned }).map((a) => ({ m: 'frames', ...a }))],
    [1, fc.record({ slot: slot(), aligned }).map((a) => ({ m: 'caller', ...a }))],
    [7, fc.record({
      base: fc.constantFrom('fp' as const, 'ctx' as const), tmp: writable(), k: fc.integer({ min: -600, max: 600 }), slot: slot(), aligned,
      twist: weighted([6, fc.constant(undefined)], [1, oneRowOf('compute', computeItem)]),
    }).map((a) => ({ m: 'derived', ...a }))],
    [7, fc.record({ base: fc.constantFrom('fp' as const, 'ctx' as const), tmp: writable(), from: readable(), aligned })
      .map((a) => ({ m: 'dynamic', ...a }))],
    [1, fc.record({ which: fc.constantFrom('ctx-after' as const, 'ctx-before' as const, 'stack-below' as const), slot: slot() })
      .map((a) => ({ m: 'outside', ...a }))],
    [8, fc.record({ off: fc.integer({ min: -24, max: 24 }), aligned }).map((a) => ({ m: 'cursor', ...a }))],
    [1, fc.record({ base: readable(), off: fc.integer({ min: -0x8000, max: 0x7fff }) }).map((a) => ({ m: 'wild', ...a }))],
  );
}

function memoryItem(row: OpcodeRow): fc.Arbitrary<MemItem> {
  const form = row.form;
  // The register the instruction writes must be writable: ldx's dst, a fetching atomic's src.
  const writes = form.kind === 'ldx' || (form.kind === 'atomic' && form.fetch && form.op !== 'cmpxchg');
  return fc.record({
    reg: writes ? writable() : readable(),
    imm: row.fields.imm === 'value' ? imm32() : fc.constant(0),
    addr: addr(form.kind === 'atomic'),
  }).map((f) => ({ t: 'mem', row, ...f }));
}

function branchItem(row: OpcodeRow): fc.Arbitrary<JumpItem> {
  const compares = row.form.kind === 'jmp';
  return fc.record({
    dst: compares ? readable() : fc.constant(0),
    src: row.fields.src === 'reg' ? readable() : fc.constant(0),
    imm: compares && row.fields.imm === 'value' ? imm32() : fc.constant(0),
    skip: fc.nat(6),
    far: rarely(10),
  }).map((f) => ({ t: 'jump', row, ...f }));
}

/**
 * One row of a category. Rows are grouped by form kind and a group's weight grows with the square
 * root of its size, so the 20 atomic rows do not crowd out the 4 stores, nor 63 ALU rows lddw.
 */
function oneRowOf<T>(cat: Category, make: (row: OpcodeRow) => fc.Arbitrary<T>): fc.Arbitrary<T> {
  const groups = new Map<string, OpcodeRow[]>();
  for (const row of rowsOf(cat)) groups.set(row.form.kind, [...(groups.get(row.form.kind) ?? []), row]);
  return weighted(...[...groups.values()].map((rows) => [Math.round(4 * Math.sqrt(rows.length)), fc.oneof(...rows.map(make))] as const));
}

/** Every compare condition of the table's conditional jumps. */
const JMP_CONDS: readonly JmpCond[] = [...new Set(rowsOf('branch').flatMap((row) => (row.form.kind === 'jmp' ? [row.form.cond] : [])))];

const leaf = (): fc.Arbitrary<TreeNode> =>
  fc.record({ skip: fc.nat(6), far: rarely(12) }).map((f) => ({ leaf: true, ...f }));

/** A compare tree of up to 3 levels (7 tests), mostly full; small case values, as in a C switch. */
const tree = (): fc.Arbitrary<TreeNode> => fc.letrec<{ node: TreeNode }>((tie) => ({
  node: fc.oneof(
    { depthIdentifier: 'switch-tree', maxDepth: 3, withCrossShrink: true },
    { weight: 1, arbitrary: leaf() },
    {
      weight: 4,
      arbitrary: fc.record({
        cond: fc.constantFrom(...JMP_CONDS),
        imm: weighted([6, fc.integer({ min: -2, max: 40 })], [1, imm32()]),
        fill: weighted<OpItem[]>([3, fc.constant([])], [1, fc.array(oneRowOf('compute', computeItem), { maxLength: 2 })]),
        taken: tie('node'),
        fallen: tie('node'),
      }).map((f): TreeNode => ({ leaf: false, ...f })),
    },
  ),
})).node;

/** The parts of a clang-style switch: distinct case values, a leaf per case and the default. */
interface SwitchCases {
  readonly values: readonly number[];
  readonly arms: readonly TreeNode[];
  readonly otherwise: TreeNode;
  readonly unsigned: boolean;
  /** Instructions for the test blocks, taken in order (mostly none). */
  readonly fills: ReadonlyArray<readonly OpItem[]>;
}

/**
 * The tree clang emits for a switch: a binary search with `>` splits down to chains of `==` tests.
 * (Case values are small and non-negative, so signed and unsigned splits agree.)
 */
function binarySearch(sw: SwitchCases): TreeNode {
  const values = [...sw.values].sort((a, b) => a - b);
  let nextFill = 0;
  const fill = (): readonly OpItem[] => sw.fills[nextFill++] ?? [];
  const build = (lo: number, hi: number): TreeNode => {
    if (hi - lo <= 2) {
      let node = sw.otherwise;
      for (let i = hi - 1; i >= lo; i--) {
        node = { leaf: false, cond: 'jeq', imm: values[i]!, fill: fill(), taken: sw.arms[i] ?? sw.otherwise, fallen: node };
      }
      return node;
    }
    const mid = (lo + hi) >> 1;
    const cond = sw.unsigned ? 'jgt' : 'jsgt';
    return { leaf: false, cond, imm: values[mid - 1]!, fill: fill(), taken: build(mid, hi), fallen: build(lo, mid) };
  };
  return build(0, values.length);
}

const switchCases = (): fc.Arbitrary<SwitchCases> => fc.record({
  values: fc.uniqueArray(fc.integer({ min: 0, max: 40 }), { minLength: 3, maxLength: 12 }),
  arms: fc.array(leaf(), { minLength: 12, maxLength: 12 }),
  otherwise: leaf(),
  unsigned: fc.boolean(),
  fills: fc.array(weighted<OpItem[]>([2, fc.constant([])], [1, fc.array(oneRowOf('compute', computeItem), { maxLength: 1 })]), { maxLength: 12 }),
});

/** A switch: as clang builds it (jump-table material), or a random compare tree over one key. */
function switchItem(): fc.Arbitrary<SwitchItem> {
  return fc.record({
    key: writable(),
    width: fc.constantFrom(64 as const, 32 as const),
    mask: weighted([1, fc.constant(undefined)], [3, fc.constantFrom(7, 15, 31, 63)]),
    root: weighted([2, switchCases().map(binarySearch)], [1, tree()]),
  }).map((f) => ({ t: 'switch', ...f }));
}

function stepItem(): fc.Arbitrary<StepItem> {
  return fc.record({
    delta: weighted([8, fc.integer({ min: -8, max: 8 }).map((n) => 8 * n)], [1, fc.integer({ min: -80, max: 80 })]),
    narrow: rarely(15),
  }).map((f) => ({ t: 'step', ...f }));
}

function callItem(): fc.Arbitrary<CallItem> {
  return fc.record({ callee: fc.nat(3), args: fc.array(init(), { maxLength: ARG_REGS.length }), after: inits(ARG_REGS.length) })
    .map((f) => ({ t: 'call', ...f }));
}

function helperItem(): fc.Arbitrary<HelperItem> {
  return fc.record({
    indirect: fc.boolean(),
    id: weighted([8, fc.constantFrom(...FUZZ_HELPER_IDS)], [1, fc.constantFrom(99, 0x80000000, 2 ** 32 + 1)]),
    ptr: fc.option(addr(false), { nil: undefined }),
    args: fc.array(init(), { maxLength: 5 }),
    after: inits(ARG_REGS.length),
  }).map(({ indirect, id, ...f }) => ({
    t: 'helper', indirect: indirect || !FUZZ_HELPER_IDS.includes(id), id, ...f,
  }));
}

/** Items of a function body; loop bodies hold no further loops (r7 is the one counter). */
function item(allowLoop: boolean): fc.Arbitrary<Item> {
  const choices: Array<readonly [number, fc.Arbitrary<Item>]> = [
    [24, oneRowOf('compute', computeItem)],
    [16, oneRowOf('memory', memoryItem)],
    [8, oneRowOf('branch', branchItem)],
    [5, switchItem()],
    [6, stepItem()],
    [4, callItem()],
    [2, helperItem()],
    [1, fc.constant({ t: 'exit' } as const)],
  ];
  if (allowLoop) {
    const loop: fc.Arbitrary<LoopItem> = fc.record({
      shape: fc.nat(63),
      trips: fc.nat(6),
      body: fc.array(item(false), { maxLength: LOOP_ITEMS, size: 'max' }),
      entry: weighted([4, fc.constant(undefined)], [1, oneRowOf('branch', branchItem)]),
    }).map((f) => ({ t: 'loop', ...f }));
    choices.push([6, loop]);
  }
  return weighted(...choices);
}

function fnSpec(initCount: number, maxItems: number, callNext: fc.Arbitrary<boolean>): fc.Arbitrary<FnSpec> {
  return fc.record({
    inits: inits(initCount),
    cursor: fc.record({ base: fc.constantFrom('fp' as const, 'ctx' as const), k: fc.nat(1023) }),
    callNext,
    body: fc.array(item(true), { maxLength: maxItems, size: 'max' }),
    fold: weighted([1, fc.constant(false)], [9, fc.constant(true)]),
  });
}

/** A whole program: entry, up to three subprograms (or, rarely, a chain deep enough to overflow the stack). */
export function programSpec(): fc.Arbitrary<ProgramSpec> {
  const sub = fnSpec(SUB_INIT_REGS.length, SUB_ITEMS, rarely(8));
  const chainLink = fnSpec(SUB_INIT_REGS.length, 2, fc.constant(true));
  return fc.record({
    // Mostly room for 8-byte accesses; sometimes short (where wide accesses fault) or empty.
    input: weighted([1, fc.uint8Array({ maxLength: 12 })], [6, fc.uint8Array({ minLength: 8, maxLength: MAX_INPUT, size: 'max' })]),
    shift: weighted([30, fc.constant(0)], [1, fc.integer({ min: 1, max: 7 })]),
    stackSeed: weighted([1, fc.constant(0)], [3, fc.integer({ min: 1, max: 0x7fffffff })]),
    budget: weighted([24, fc.constant(FUZZ_BUDGET)], [1, fc.nat(80)], [1, fc.integer({ min: 80, max: 3000 })]),
    cpu: weighted([3, fc.constant(0 as const)], [1, fc.constant(1 as const)]),
    loops: weighted([2, fc.constant(true)], [1, fc.constant(false)]),
    batch: weighted([3, fc.constant(0)], [1, fc.integer({ min: 2, max: MAX_BATCH })]),
    verifiable: weighted([1, fc.constant(false)], [1, fc.constant(true)]),
    structure: weighted([3, fc.constant('auto' as const)], [1, fc.constant('layout' as const)]),
    main: fnSpec(MAIN_INIT_REGS.length, MAIN_ITEMS, rarely(12)),
    subs: weighted([14, fc.array(sub, { maxLength: 3 })], [1, fc.array(chainLink, { minLength: 6, maxLength: 9 })]),
  });
}
