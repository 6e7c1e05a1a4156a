/**
 * The shape of a generated program before it becomes instructions. fast-check generates and shrinks
 * these plain records; `lowerProgram` (lower.ts) turns any of them into a program that buildProgram
 * accepts, so every shrunk case is still a valid program.
 *
 * Register conventions every generated function keeps:
 *   r1  the context pointer, so a callee gets it too (helper calls pass other values in it; every
 *       call is followed by `mov r1, r6`)
 *   r6  a copy of r1 made by the prologue (callee-saved, so it survives calls)
 *   r7  the loop counter (only loop headers and latches write it; callee-saved)
 *   r9  a cursor: a pointer into the frame or the context that only `step` items move, so pointer
 *       walks (also across loop iterations) may drift out of their region
 *   r10 the frame pointer
 *   r0, r2-r5, r8 are free for generated instructions.
 */
import type { JmpCond, Width } from '../src/isa/insn.js';
import type { OpcodeRow } from '../src/isa/table.js';

export const CTX = 6;
export const COUNTER = 7;
export const CURSOR = 9;
export const FP = 10;
/** Registers generated instructions may write. */
export const WRITABLE = [0, 2, 3, 4, 5, 8] as const;
/** Registers generated instructions may read (all of them are initialized on every path). */
export const READABLE = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10] as const;

/** How a register gets a value: a sign-extended or zero-extended 32-bit immediate, lddw, or a context load. */
export type Init =
  | { readonly k: 'imm'; readonly v: number }
  | { readonly k: 'imm32'; readonly v: number }
  | { readonly k: 'wide'; readonly v: bigint }
  | { readonly k: 'ctx'; readonly at: number };

/**
 * Where a memory access goes. `slot` is a raw number the lowering folds into the mode's range (so it
 * stays valid while the input shrinks); `aligned` asks for a naturally aligned offset.
 */
export type Addr =
  /** r10 + [-512, -size]: the current frame. */
  | { readonly m: 'stack'; readonly slot: number; readonly aligned: boolean }
  /** rBase + [0, len - size]: the context, through r1 or r6. */
  | { readonly m: 'ctx'; readonly base: 1 | 6; readonly slot: number; readonly aligned: boolean }
  /** r10 - 512 - [size, 3584]: deeper frames of the CPU stack (valid in the entry function). */
  | { readonly m: 'frames'; readonly slot: number; readonly aligned: boolean }
  /** r10 + [0, 512 - size]: the caller's frame (valid in a subprogram, a fault in the entry). */
  | { readonly m: 'caller'; readonly slot: number; readonly aligned: boolean }
  /** Just outside a region: past or before the context, below the CPU stack. */
  | { readonly m: 'outside'; readonly which: 'ctx-after' | 'ctx-before' | 'stack-below'; readonly slot: number }
  /**
   * tmp = base + k, then [tmp + off] aimed at the same place as the plain stack/ctx modes. A `twist`
   * (any compute row, applied to tmp) may first turn the pointer into something else: the access
   * must then be checked against what tmp really holds.
   */
  | {
    readonly m: 'derived'; readonly base: 'fp' | 'ctx'; readonly tmp: number; readonly k: number; readonly slot: number;
    readonly aligned: boolean; readonly twist: OpItem | undefined;
  }
  /** tmp = (from & mask) + base, then [tmp + off]: an address only known at run time. */
  | { readonly m: 'dynamic'; readonly base: 'fp' | 'ctx'; readonly tmp: number; readonly from: number; readonly aligned: boolean }
  /** [r9 + off]: through the cursor, wherever it has wandered. */
  | { readonly m: 'cursor'; readonly off: number; readonly aligned: boolean }
  /** Any register plus any offset: almost always a fault. */
  | { readonly m: 'wild'; readonly base: number; readonly off: number };

/** An ALU, byte-swap or lddw instruction: fields as the row uses them. */
export interface OpItem {
  readonly t: 'op';
  readonly row: OpcodeRow;
  readonly dst: number;
  readonly src: number;
  readonly imm: number;
  readonly wide: bigint;
}

/** ldx/st/stx/atomic: `reg` is ldx's destination or stx's/atomic's source, `imm` st's value. */
export interface MemItem {
  readonly t: 'mem';
  readonly row: OpcodeRow;
  readonly reg: number;
  readonly imm: number;
  readonly addr: Addr;
}

/** A forward jump (conditional or ja): skips `skip` items of its sequence, or to the function's exit when `far`. */
export interface JumpItem {
  readonly t: 'jump';
  readonly row: OpcodeRow;
  readonly dst: number;
  readonly src: number;
  readonly imm: number;
  readonly skip: number;
  readonly far: boolean;
}

/** Moves the cursor: `add r9, delta` (or `sub r9, -delta`; `narrow` uses the 32-bit form). */
export interface StepItem {
  readonly t: 'step';
  readonly delta: number;
  readonly narrow: boolean;
}

/** A node of a compare tree: a leaf jumps forward like a JumpItem; a test sends the key left or right. */
export type TreeNode =
  | { readonly leaf: true; readonly skip: number; readonly far: boolean }
  | {
    readonly leaf: false;
    readonly cond: JmpCond;
    readonly imm: number;
    /** Instructions before the test (clang puts `r0 = const` there); one writing the key ends the tree. */
    readonly fill: readonly OpItem[];
    readonly taken: TreeNode;
    readonly fallen: TreeNode;
  };

/**
 * A compare tree over one register, the shape clang gives a C `switch` (and the JIT may turn into a
 * br_table): `and key, mask` first when a mask is given, then the tree, whose leaves jump forward.
 */
export interface SwitchItem {
  readonly t: 'switch';
  readonly key: number;
  readonly width: Width;
  readonly mask: number | undefined;
  readonly root: TreeNode;
}

export interface ExitItem {
  readonly t: 'exit';
}

/**
 * A counted loop on r7; `shape` picks one of the shapes in loops.ts. `entry` is a jump from just
 * before the loop into its body (before body item `entry.skip`): a second way into the loop, which
 * makes the control flow irreducible, while r7 already holds the count so the loop stays bounded.
 */
export interface LoopItem {
  readonly t: 'loop';
  readonly shape: number;
  readonly trips: number;
  readonly body: readonly Item[];
  readonly entry: JumpItem | undefined;
}

/** A local call to a later function (`callee` is folded into the range of later ones). */
export interface CallItem {
  readonly t: 'call';
  readonly callee: number;
  readonly args: readonly Init[];
  readonly after: readonly Init[];
}

/** A helper call (`call id`, or `callx` through r0); `ptr` makes r1 a pointer argument. */
export interface HelperItem {
  readonly t: 'helper';
  readonly id: number;
  readonly indirect: boolean;
  readonly ptr: Addr | undefined;
  readonly args: readonly Init[];
  readonly after: readonly Init[];
}

export type Item = OpItem | MemItem | StepItem | JumpItem | SwitchItem | ExitItem | LoopItem | CallItem | HelperItem;

export interface FnSpec {
  /** Values for the registers the prologue initializes. */
  readonly inits: readonly Init[];
  /** Where the cursor r9 starts: r10 + k or the context + k, k folded to a multiple of 8 inside the region. */
  readonly cursor: { readonly base: 'fp' | 'ctx'; readonly k: number };
  /** Call the next function first (builds deep call chains). */
  readonly callNext: boolean;
  readonly body: readonly Item[];
  /** Fold every data register into r0 before the final exit, so r0 reflects the whole register state. */
  readonly fold: boolean;
}

export interface ProgramSpec {
  /** The context bytes (r1 points at them, r2 holds their length). */
  readonly input: Uint8Array;
  /** The context starts this many bytes past an 8-aligned address (misaligns "aligned" context atomics). */
  readonly shift: number;
  /** The CPU stack starts filled with bytes from this seed (0: zeros), so stack loads see varied data. */
  readonly stackSeed: number;
  readonly budget: number;
  /** How the JIT structures control flow: its default, or the flat layout it uses for huge functions. */
  readonly structure: 'auto' | 'layout';
  /** CPU the runs use (each has its own stack). */
  readonly cpu: 0 | 1;
  /**
   * False lowers every loop item as one pass over its body: a loop-free program, where the JIT may
   * leave out budget checks and turn compare trees into jump tables.
   */
  readonly loops: boolean;
  /** After the single run, also run this many events (0: none) through runBatch. */
  readonly batch: number;
  /**
   * Lower towards programs the verifier accepts, so the JIT compiled with its facts runs them too
   * (lower.ts): registers that hold pointers are not used as numbers, stack accesses keep to the
   * frame's top slots, which the prologue writes, and pointers are not twisted.
   */
  readonly verifiable: boolean;
  readonly main: FnSpec;
  readonly subs: readonly FnSpec[];
}
