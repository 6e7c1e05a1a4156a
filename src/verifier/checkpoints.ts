/**
 * Stored states ("checkpoints") at prune points, as in the Linux verifier.
 *
 * Each path carries its latest checkpoint as `parent`; a checkpoint counts the paths still being
 * explored below it (`branches`). When that count drops to 0 every path from the checkpoint has been
 * verified, and a later state it subsumes can be pruned. A checkpoint still being explored is an
 * ancestor of some live path (a loop iteration in progress): pruning against it would accept loops
 * that never end, so when termination must be proven its only use is to spot a state that repeats
 * exactly (an infinite loop). When the budget bounds the run instead (`termination: 'budget'`),
 * pruning against it is sound for safety: the exploration still under way covers every state it
 * subsumes, so a loop whose state at the head stops growing is proven safe after a few rounds,
 * however many times it runs.
 *
 * Lists are kept short the kernel's way: a checkpoint that keeps failing to match (a loop counter that
 * differs every iteration) is dropped, and a pc stores at most MAX_PER_PC of them.
 */
import { compareStates, linkedIds } from './compare.js';
import type { RegisterMasks } from './liveness.js';
import { copyState, type VState } from './state.js';
import { widenState, type Thresholds } from './widen.js';

export interface Checkpoint {
  readonly pc: number;
  readonly state: VState;
  readonly parent: Checkpoint | undefined;
  readonly linked: ReadonlySet<number>;
  branches: number;
  hits: number;
  misses: number;
}

export type Visit =
  | { readonly kind: 'prune' }
  | { readonly kind: 'loop' }
  | { readonly kind: 'stored'; readonly checkpoint: Checkpoint }
  | { readonly kind: 'skipped' };

const MAX_PER_PC = 64;
/** Visits of a loop head followed exactly before widening: short loops keep their precision. */
const WIDEN_AFTER = 8;
const evictable = (cp: Checkpoint): boolean => cp.misses > cp.hits * 3 + 3;

/** Whether loops must be proven to end, or may be left to the run's instruction budget. */
export type Termination = 'prove' | 'budget';

export class StateStore {
  private readonly lists: Array<Checkpoint[] | undefined>;
  /** Times each prune point was reached: where an endless loop spends its budget. */
  readonly visits: Uint32Array;
  stored = 0;
  live = 0;
  peak = 0;
  pruned = 0;
  /** Paths pruned against a checkpoint still being explored: loops not proven to end. */
  loopsClosed = 0;

  constructor(
    slotCount: number,
    private readonly masks: RegisterMasks,
    private readonly termination: Termination = 'prove',
    private readonly thresholds: Thresholds = { unsigned: [], signed: [] },
  ) {
    this.lists = new Array<Checkpoint[] | undefined>(slotCount).fill(undefined);
    this.visits = new Uint32Array(slotCount);
  }

  /**
   * Looks `cur` up at prune point `pc`; stores it when nothing matches and `mayStore` (explore.ts
   * stores only every so often along a path, as the kernel does).
   */
  visit(pc: number, cur: VState, parent: Checkpoint | undefined, mayStore = true): Visit {
    this.visits[pc]!++;
    const list = (this.lists[pc] ??= []);
    for (const cp of list) {
      if (cp.branches > 0 && this.termination === 'budget') {
        if (compareStates(cp.state, cur, pc, this.masks, cp.linked, 'subsume')) {
          cp.hits++;
          this.pruned++;
          this.loopsClosed++;
          return { kind: 'prune' };
        }
        cp.misses++;
      } else if (cp.branches > 0) {
        if (compareStates(cp.state, cur, pc, this.masks, cp.linked, 'exact')) return { kind: 'loop' };
        cp.misses++;
      } else if (compareStates(cp.state, cur, pc, this.masks, cp.linked, 'subsume')) {
        cp.hits++;
        this.pruned++;
        return { kind: 'prune' };
      } else {
        cp.misses++;
      }
    }
    if (this.termination === 'budget' && this.visits[pc]! > WIDEN_AFTER) {
      // Round a loop again with a state the last round's does not hold: go on with a wider one.
      let round: Checkpoint | undefined;
      for (const cp of list) if (cp.branches > 0) round = cp;
      if (round) widenState(round.state, cur, this.thresholds);
    }
    this.evict(list);
    if (!mayStore || list.length >= MAX_PER_PC) return { kind: 'skipped' };
    const state = copyState(cur);
    const checkpoint: Checkpoint = { pc, state, parent, linked: linkedIds(state), branches: 1, hits: 0, misses: 0 };
    list.push(checkpoint);
    this.stored++;
    this.live++;
    if (this.live > this.peak) this.peak = this.live;
    return { kind: 'stored', checkpoint };
  }

  private evict(list: Checkpoint[]): void {
    let kept = 0;
    for (const cp of list) {
      if (evictable(cp)) this.live--;
      else list[kept++] = cp;
    }
    if (kept !== list.length) list.length = kept;
  }
}

/** A path below `cp` ended (returned, was pruned, or died): completes checkpoints with no paths left. */
export function pathDone(cp: Checkpoint | undefined): void {
  for (let p = cp; p; p = p.parent) {
    p.branches--;
    if (p.branches > 0) return;
  }
}
