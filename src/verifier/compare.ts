/**
 * State comparison for pruning. `old` subsumes `cur` when every concrete state `cur` stands for is
 * also one `old` stands for, in every respect later instructions can observe: live registers, stack
 * bytes, and the links between copies (ids). Then whatever was proven from `old` holds for `cur`.
 *
 * - An uninitialized register or stack byte in `old` subsumes anything: `old`'s exploration never
 *   read it (it would have been refused), and `cur` can only take paths `old` took.
 * - Scalars: each range and the tnum of `old` contain `cur`'s.
 * - Pointers: same kind and object, fixed plus variable offset contained (a packet pointer: same
 *   fixed offset); a packet pointer in `cur` must have at least the proven range of `old`'s.
 * - Ids: where `old` relies on two values being linked (copies of one map lookup, pointers sharing a
 *   packet offset, copies of a scalar, copies of one ring buffer record), `cur` must link the
 *   corresponding values the same way.
 * - Acquired references (reserved records): the same number, matched one to one in order, their ids
 *   consistent with the records' pointers.
 *
 * The exact mode asks for equality instead of containment (the infinite-loop check).
 */
import { callerMask, type RegisterMasks } from './liveness.js';
import { varAt, type Ptr, type RegState } from './reg-state.js';
import { isUnknownScalar, scalarEquals, scalarSubsumes, type Scalar } from './scalar.js';
import { STACK_SLOTS, byteAt, type FrameStack, type Slot } from './stack.js';
import type { Frame, VState } from './state.js';

export type CompareMode = 'subsume' | 'exact';

/** A consistent renaming of ids between the two states (both ways). */
class IdMap {
  // Made at the first pair of ids: most comparisons meet none.
  private fwd: Map<number, number> | undefined;
  private back: Map<number, number> | undefined;

  match(oldId: number, curId: number): boolean {
    if (oldId === 0 || curId === 0) return oldId === curId;
    if (!this.fwd || !this.back) {
      this.fwd = new Map([[oldId, curId]]);
      this.back = new Map([[curId, oldId]]);
      return true;
    }
    const f = this.fwd.get(oldId);
    const b = this.back.get(curId);
    if (f === undefined && b === undefined) {
      this.fwd.set(oldId, curId);
      this.back.set(curId, oldId);
      return true;
    }
    return f === curId && b === oldId;
  }
}

interface Cmp {
  readonly mode: CompareMode;
  readonly ids: IdMap;
  /** Scalar ids that appear more than once in `old` (only those links matter). */
  readonly linked: ReadonlySet<number>;
}

function scalarOk(c: Cmp, old: Scalar, cur: Scalar): boolean {
  const within = c.mode === 'exact' ? scalarEquals(old, cur) : scalarSubsumes(old, cur);
  if (!within) return false;
  return !c.linked.has(old.id) || (old.delta === cur.delta && c.ids.match(old.id, cur.id));
}

function offsetOk(c: Cmp, old: Ptr, cur: Ptr): boolean {
  if (c.mode === 'exact') return old.off === cur.off && scalarEquals(old.var, cur.var);
  if (old.off === cur.off) return scalarSubsumes(old.var, cur.var);
  // The same addresses split another way between the fixed and the variable part (a pointer a loop
  // moves by a constant while a bounds check narrows its variable part): compare the totals. Not for
  // packet pointers, whose proven range counts from the variable part.
  if (old.kind === 'packet') return false;
  return scalarSubsumes(old.var, varAt(cur, old.off));
}

function ptrOk(c: Cmp, old: Ptr, cur: Ptr): boolean {
  if (old.kind !== cur.kind) return false;
  switch (old.kind) {
    case 'stack': return old.frame === cur.frame && offsetOk(c, old, cur);
    case 'ctx': return offsetOk(c, old, cur);
    case 'mem': case 'map_value':
      return old.region === cur.region && old.size === cur.size && old.readOnly === cur.readOnly && offsetOk(c, old, cur) && c.ids.match(old.ref, cur.ref);
    case 'packet': {
      const range = c.mode === 'exact' ? old.range === cur.range : old.range <= cur.range;
      return range && offsetOk(c, old, cur) && c.ids.match(old.id, cur.id);
    }
    case 'packet_end': return true;
    case 'map_value_or_null':
      return old.region === cur.region && old.size === cur.size && old.off === cur.off && c.ids.match(old.id, cur.id);
    case 'map_handle': case 'func': return old.region === cur.region;
    case 'ringbuf_mem': return old.size === cur.size && offsetOk(c, old, cur) && c.ids.match(old.ref, cur.ref);
    case 'ringbuf_mem_or_null': return old.size === cur.size && c.ids.match(old.ref, cur.ref);
    case 'released_mem': return true;
  }
}

function regOk(c: Cmp, old: RegState, cur: RegState, precise = true): boolean {
  if (old.t === 'uninit') return c.mode === 'subsume' || cur.t === 'uninit';
  if (cur.t !== old.t) return false;
  // A scalar whose value cannot matter any more: any scalar will do (see liveness.ts).
  if (!precise && old.t === 'scalar') return true;
  return old.t === 'scalar' ? scalarOk(c, old, cur as Scalar) : ptrOk(c, old, cur as Ptr);
}

function slotBytesOk(old: FrameStack, cur: FrameStack, i: number): boolean {
  for (let p = 8 * i; p < 8 * i + 8; p++) {
    const o = byteAt(old, p);
    if (!o.init) continue;
    const n = byteAt(cur, p);
    if (!n.init || n.ptr || o.ptr) return false;
    if (o.known !== undefined && n.known !== o.known) return false;
  }
  return true;
}

function slotOk(c: Cmp, old: FrameStack, cur: FrameStack, i: number): boolean {
  const o: Slot | undefined = old[i];
  const n: Slot | undefined = cur[i];
  if (o === n) return true;
  if (c.mode === 'exact') {
    if (!o || !n || o.kind !== n.kind) return false;
    if (o.kind === 'bytes') return o.types === (n as typeof o).types;
    return regOk(c, o.reg, (n as typeof o).reg);
  }
  if (!o) return true;
  if (o.kind === 'spill') {
    if (n?.kind === 'spill') return regOk(c, o.reg, n.reg);
    // An unknown spilled scalar says no more than initialized bytes do.
    return o.reg.t === 'scalar' && isUnknownScalar(o.reg) && !c.linked.has(o.reg.id) && slotBytesOk(old, cur, i);
  }
  return slotBytesOk(old, cur, i);
}

/** Scalar ids used more than once in a state: the links a comparison must preserve. */
export function linkedIds(s: VState): Set<number> {
  const seen = new Set<number>();
  const twice = new Set<number>();
  const note = (r: RegState): void => {
    if (r.t !== 'scalar' || r.id === 0) return;
    if (seen.has(r.id)) twice.add(r.id);
    seen.add(r.id);
  };
  for (const f of s.frames) {
    f.regs.forEach(note);
    for (const slot of f.stack) if (slot?.kind === 'spill') note(slot.reg);
  }
  return twice;
}

/** A callback's exit undoes what it found in its context's frame: both must have found the same. */
function sameCallback(a: Frame, b: Frame): boolean {
  const x = a.callback, y = b.callback;
  if (!x || !y) return x === y;
  return x.ctxFrame === y.ctxFrame && x.ctxBefore.every((t, i) => t === y.ctxBefore[i]);
}

/**
 * Compares `old` (stored at this pc) with `cur`, looking only at registers live at `pc` in the top
 * frame and at r6-r9 live after the pending call in each caller frame; scalars that are live but
 * not precise only need to be scalars.
 */
export function compareStates(old: VState, cur: VState, pc: number, masks: RegisterMasks, linked: ReadonlySet<number>, mode: CompareMode): boolean {
  if (old.frames.length !== cur.frames.length) return false;
  // Acquired references must correspond one to one (the kernel's refsafe): a path holding a record
  // another does not must be explored on its own, or a leak on it would go unseen.
  if (old.refs.length !== cur.refs.length) return false;
  if (old.lock?.map !== cur.lock?.map) return false;
  const c: Cmp = { mode, ids: new IdMap(), linked };
  const top = old.frames.length - 1;
  for (let f = top; f >= 0; f--) {
    const of = old.frames[f]!;
    const cf = cur.frames[f]!;
    if (of.fn !== cf.fn || of.callsite !== cf.callsite || !sameCallback(of, cf)) return false;
    const callsite = f === top ? -1 : old.frames[f + 1]!.callsite;
    const live = f === top ? masks.live[pc]! : callerMask(masks.live, callsite);
    const precise = f === top ? masks.precise[pc]! : callerMask(masks.precise, callsite);
    for (let r = 0; r < 10; r++) {
      const bitR = 1 << r;
      if ((live & bitR) !== 0 && !regOk(c, of.regs[r]!, cf.regs[r]!, (precise & bitR) !== 0)) return false;
    }
    for (let i = 0; i < STACK_SLOTS; i++) {
      if (!slotOk(c, of.stack, cf.stack, i)) return false;
    }
  }
  return old.refs.every((r, i) => c.ids.match(r.id, cur.refs[i]!.id)) && (!old.lock || c.ids.match(old.lock.elem, cur.lock!.elem));
}
