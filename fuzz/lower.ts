/**
 * Lowers a ProgramSpec to instructions. Whatever the spec holds, the result passes buildProgram:
 * every function initializes the registers it reads in a prologue, re-initializes r1-r5 after each
 * call, jumps only forward (loops aside, whose back edges are counted on r7), calls only later
 * functions and ends in exit.
 *
 * Layout: the entry function first, then the subprograms in order; each is
 *   mov r6, r1 ; inits ; [zero the top slots] ; r9 = cursor start ; [call next] ; body ; [fold registers into r0] ; exit
 *
 * A `verifiable` spec lowers the same items so that the verifier has a chance to accept the program:
 * pointer registers (r1, r6, r9, r10) read as numbers are replaced by number registers, a register
 * that held a computed address is cleared after the access, pointers get no twist, the cursor is not
 * folded into r0, and stack accesses keep to the top VERIFIABLE_FRAME bytes, which the prologue zeroes.
 */
import { CodeBuffer, aluRow, jmpRow, rowOf, type Label } from './emit.js';
import { LOOP_SHAPES } from './loops.js';
import {
  COUNTER, CTX, CURSOR, FP, type Addr, type CallItem, type FnSpec, type HelperItem, type Init, type Item, type JumpItem,
  type LoopItem, type MemItem, type ProgramSpec, type SwitchItem, type TreeNode,
} from './spec.js';
import type { AccessSize, Insn } from '../src/isa/insn.js';

/** Registers each prologue sets (the entry keeps r2 = context length; a callee gets r2-r5 as arguments). */
export const MAIN_INIT_REGS = [0, 3, 4, 5, 7, 8] as const;
export const SUB_INIT_REGS = [0, 7, 8] as const;
/** Registers a call leaves undefined that the lowering sets again after it (r1 is restored from r6). */
export const ARG_REGS = [2, 3, 4, 5] as const;

const FOLDED_REGS = [2, 3, 4, 5, 7, 8, 9] as const;
const FOLD_FACTOR = -0x61c8864f; // 0x9e3779b1 as a signed 32-bit immediate
const FRAME = 512;
const STACK = 4096;
/** The top of the frame a verifiable spec's stack accesses keep to (zeroed by each prologue). */
const VERIFIABLE_FRAME = 64;
/** In a verifiable spec, the number register that stands in for a pointer register read as a number. */
const NUMBER_FOR: Readonly<Record<number, number>> = { 1: 2, 6: 8, 9: 7, 10: 0 };

/** Largest power of two not above n (n >= 1). */
const floorPow2 = (n: number): number => 2 ** Math.floor(Math.log2(n));

/** One of `count` evenly spaced choices. */
const pick = (slot: number, count: number): number => Math.abs(slot) % Math.max(1, count);

/** Offset into [lo, hi - size] (aligned to size when asked) relative to the base; hi - lo >= size. */
function within(lo: number, hi: number, size: number, slot: number, aligned: boolean): number {
  if (aligned) return lo + size * pick(slot, Math.floor((hi - lo - size) / size) + 1);
  return lo + pick(slot, hi - lo - size + 1);
}

class FnLowering {
  private readonly exitLabel: Label;

  constructor(
    private readonly buf: CodeBuffer,
    private readonly spec: ProgramSpec,
    private readonly index: number,
    private readonly entries: readonly Label[],
  ) {
    this.exitLabel = buf.label();
  }

  private get ctxLen(): number {
    return this.spec.input.length;
  }

  /** Bytes below r10 that plain stack accesses use. */
  private get frame(): number {
    return this.spec.verifiable ? VERIFIABLE_FRAME : FRAME;
  }

  /** A register read as a number: a pointer register is replaced by a number register in a verifiable spec. */
  private num(reg: number): number {
    return this.spec.verifiable ? NUMBER_FOR[reg] ?? reg : reg;
  }

  lower(fn: FnSpec): void {
    this.buf.place(this.entries[this.index]!);
    this.buf.emit(aluRow('mov', 64, 'reg'), { dst: CTX, src: 1 });
    const regs = this.index === 0 ? MAIN_INIT_REGS : SUB_INIT_REGS;
    regs.forEach((reg, k) => this.init(reg, fn.inits[k]));
    if (this.spec.verifiable) {
      for (let off = -8; off >= -VERIFIABLE_FRAME; off -= 8) this.buf.emit(rowOf({ kind: 'st', size: 8 }), { dst: FP, off, imm: 0 });
    }
    const { base, k } = fn.cursor;
    this.buf.emit(aluRow('mov', 64, 'reg'), { dst: CURSOR, src: base === 'fp' ? FP : CTX });
    // 8-aligned, inside the frame or the context (when it has 8 bytes): only steps move it out.
    const start = base === 'fp' ? -8 * pick(k, this.frame / 8 + 1) : 8 * pick(k, Math.floor(this.ctxLen / 8));
    this.buf.emit(aluRow('add', 64, 'imm'), { dst: CURSOR, imm: start });
    if (fn.callNext) this.call({ t: 'call', callee: 0, args: [], after: [] });
    this.sequence(fn.body, this.exitLabel);
    this.buf.place(this.exitLabel);
    if (fn.fold) this.fold();
    this.buf.emit(rowOf({ kind: 'exit' }), {});
  }

  /** r0 = r0 * K ^ r for every other data register: any register difference shows in r0. */
  private fold(): void {
    for (const reg of FOLDED_REGS) {
      if (reg === CURSOR && this.spec.verifiable) continue;
      this.buf.emit(aluRow('mul', 64, 'imm'), { dst: 0, imm: FOLD_FACTOR });
      this.buf.emit(aluRow('xor', 64, 'reg'), { dst: 0, src: reg });
    }
  }

  private init(reg: number, init: Init | undefined): void {
    const b = this.buf;
    if (!init) return b.emit(aluRow('mov', 64, 'imm'), { dst: reg, imm: 0 });
    switch (init.k) {
      case 'imm': return b.emit(aluRow('mov', 64, 'imm'), { dst: reg, imm: init.v });
      case 'imm32': return b.emit(aluRow('mov', 32, 'imm'), { dst: reg, imm: init.v });
      case 'wide': return b.emit(rowOf({ kind: 'lddw' }), { dst: reg, wide: init.v });
      case 'ctx': {
        const len = this.ctxLen;
        if (len === 0) return b.emit(aluRow('mov', 64, 'imm'), { dst: reg, imm: init.at });
        const size: AccessSize = len >= 8 ? 8 : 1;
        return b.emit(rowOf({ kind: 'ldx', size, signed: false }), { dst: reg, src: CTX, off: pick(init.at, len - size + 1) });
      }
    }
  }

  /** Lowers items; a jump past the last item goes to `end`. `at` are the labels before each item. */
  private sequence(items: readonly Item[], end: Label, at: Label[] = items.map(() => this.buf.label())): void {
    at.push(end);
    items.forEach((item, i) => {
      this.buf.place(at[i]!);
      this.item(item, (skip) => at[Math.min(i + 1 + skip, items.length)]!);
    });
  }

  private item(item: Item, after: (skip: number) => Label): void {
    switch (item.t) {
      case 'op':
        return this.buf.emit(item.row, { dst: item.dst, src: this.num(item.src), imm: item.imm, wide: item.wide });
      case 'mem': return this.memory(item);
      case 'step': {
        const row = aluRow(item.delta % 2 === 0 ? 'add' : 'sub', item.narrow ? 32 : 64, 'imm');
        return this.buf.emit(row, { dst: CURSOR, imm: item.delta % 2 === 0 ? item.delta : -item.delta });
      }
      case 'jump': return this.jump(item, item.far ? this.exitLabel : after(item.skip));
      case 'switch': return this.switchTree(item, after);
      case 'exit': return this.buf.emit(rowOf({ kind: 'exit' }), {});
      case 'loop': return this.loop(item);
      case 'call': return this.call(item);
      case 'helper': return this.helper(item);
      default: {
        const never: never = item;
        throw new Error(`unknown item ${JSON.stringify(never)}`);
      }
    }
  }

  private jump(item: JumpItem, target: Label): void {
    this.buf.emit(item.row, { dst: this.num(item.dst), src: this.num(item.src), imm: item.imm }, target);
  }

  private switchTree(item: SwitchItem, after: (skip: number) => Label): void {
    if (item.mask !== undefined) this.buf.emit(aluRow('and', 64, 'imm'), { dst: item.key, imm: item.mask });
    this.treeNode(item, item.root, after);
  }

  /** A test block (fill, compare), then the fall-through subtree, then the taken one; leaves are `ja`. */
  private treeNode(item: SwitchItem, node: TreeNode, after: (skip: number) => Label): void {
    const b = this.buf;
    if (node.leaf) {
      b.emit(rowOf({ kind: 'ja', long: false }), {}, node.far ? this.exitLabel : after(node.skip));
      return;
    }
    for (const op of node.fill) b.emit(op.row, { ...op, src: this.num(op.src) });
    const taken = b.label();
    b.emit(jmpRow(node.cond, item.width), { dst: item.key, imm: node.imm }, taken);
    this.treeNode(item, node.fallen, after);
    b.place(taken);
    this.treeNode(item, node.taken, after);
  }

  private loop(item: LoopItem): void {
    if (!this.spec.loops) {
      const end = this.buf.label();
      this.sequence(item.body, end);
      this.buf.place(end);
      return;
    }
    const shape = LOOP_SHAPES[pick(item.shape, LOOP_SHAPES.length)]!;
    const n = Math.max(item.trips, shape.minTrips);
    const b = this.buf;
    const [stepOp, stepWidth, stepImm] = shape.step;
    const [cond, testWidth, testImm] = shape.test;
    const head = b.label(), latch = b.label();
    const inBody = item.body.map(() => b.label());
    b.emit(aluRow('mov', 64, 'imm'), { dst: COUNTER, imm: shape.init(n) });
    if (item.entry) {
      const k = pick(item.entry.skip, item.body.length + 1);
      this.jump(item.entry, k === 0 ? head : k < item.body.length ? inBody[k]! : latch);
    }
    b.place(head);
    if (!shape.top) {
      this.sequence(item.body, latch, inBody);
      b.place(latch);
      b.emit(aluRow(stepOp, stepWidth, 'imm'), { dst: COUNTER, imm: stepImm });
      b.emit(jmpRow(cond, testWidth), { dst: COUNTER, imm: testImm(n) }, head);
      return;
    }
    const end = b.label();
    b.emit(jmpRow(cond, testWidth), { dst: COUNTER, imm: testImm(n) }, end);
    b.emit(aluRow(stepOp, stepWidth, 'imm'), { dst: COUNTER, imm: stepImm });
    this.sequence(item.body, latch, inBody);
    b.place(latch);
    b.emit(rowOf({ kind: 'ja', long: shape.long ?? false }), {}, head);
    b.place(end);
  }

  /** After any call r1-r5 are undefined: r1 gets the context back, r2-r5 fresh values. */
  private reinit(after: readonly Init[]): void {
    this.buf.emit(aluRow('mov', 64, 'reg'), { dst: 1, src: CTX });
    ARG_REGS.forEach((reg, k) => this.init(reg, after[k]));
  }

  private call(item: CallItem): void {
    const later = this.entries.length - this.index - 1;
    if (later <= 0) return;
    const callee = this.index + 1 + pick(item.callee, later);
    item.args.slice(0, ARG_REGS.length).forEach((init, k) => this.init(ARG_REGS[k]!, init));
    this.buf.emit(rowOf({ kind: 'call', mode: 'local' }), {}, this.entries[callee]);
    this.reinit(item.after);
  }

  private helper(item: HelperItem): void {
    const b = this.buf;
    item.args.slice(0, 5).forEach((init, k) => this.init(k + 1, init));
    if (item.ptr) {
      const { base, off } = this.address(item.ptr, 1);
      b.emit(aluRow('mov', 64, 'reg'), { dst: 1, src: base });
      b.emit(aluRow('add', 64, 'imm'), { dst: 1, imm: off });
      this.clearAddress(item.ptr, 1);
    }
    if (item.indirect) {
      b.emit(rowOf({ kind: 'lddw' }), { dst: 0, wide: BigInt(item.id) });
      b.emit(rowOf({ kind: 'callx' }), { dst: 0 });
    } else {
      b.emit(rowOf({ kind: 'call', mode: 'helper' }), { imm: item.id });
    }
    this.reinit(item.after);
  }

  private memory(item: MemItem): void {
    const form = item.row.form;
    if (form.kind !== 'ldx' && form.kind !== 'st' && form.kind !== 'stx' && form.kind !== 'atomic') {
      throw new Error(`memory item with a ${form.kind} row`);
    }
    const { base, off } = this.address(item.addr, form.size);
    if (form.kind === 'ldx') this.buf.emit(item.row, { dst: item.reg, src: base, off });
    else this.buf.emit(item.row, { dst: base, src: this.num(item.reg), off, imm: item.imm });
    this.clearAddress(item.addr, form.kind === 'ldx' ? item.reg : undefined);
  }

  /** In a verifiable spec, a register that held a computed address holds a number again (unless a load just wrote it). */
  private clearAddress(a: Addr, loaded: number | undefined): void {
    if (!this.spec.verifiable || (a.m !== 'derived' && a.m !== 'dynamic') || a.tmp === loaded) return;
    this.buf.emit(aluRow('mov', 64, 'imm'), { dst: a.tmp, imm: 0 });
  }

  /** Offset from r10 into the current frame, or from the context start into the context. */
  private target(base: 'fp' | 'ctx', size: number, slot: number, aligned: boolean): number {
    if (base === 'fp') return within(-this.frame, 0, size, slot, aligned);
    if (this.ctxLen < size) return pick(slot, 8); // no room: the access faults

    return within(0, this.ctxLen, size, slot, aligned);
  }

  /**
   * Mask for a run-time offset from r10 - frame or the context start. Aligned masks keep the access
   * inside the frame or context; the unaligned frame mask (frame - 1) may reach past r10.
   */
  private dynamicMask(base: 'fp' | 'ctx', size: number, aligned: boolean): number {
    if (base === 'fp') return aligned ? this.frame - size : this.frame - 1;
    const room = this.ctxLen - size + 1;
    if (room < 1) return 0;
    const mask = floorPow2(room) - 1;
    return aligned ? mask & ~(size - 1) : mask;
  }

  /** Emits any address setup and returns the access's base register and offset. */
  private address(a: Addr, size: number): { base: number; off: number } {
    const b = this.buf;
    switch (a.m) {
      case 'stack': return { base: FP, off: this.target('fp', size, a.slot, a.aligned) };
      case 'ctx': return { base: a.base, off: this.target('ctx', size, a.slot, a.aligned) };
      case 'frames': return { base: FP, off: within(-STACK, -FRAME, size, a.slot, a.aligned) };
      case 'caller': return { base: FP, off: within(0, FRAME, size, a.slot, a.aligned) };
      case 'outside':
        switch (a.which) {
          case 'ctx-after': return { base: CTX, off: Math.max(this.ctxLen - size + 1, 0) + pick(a.slot, 16) };
          case 'ctx-before': return { base: CTX, off: -1 - pick(a.slot, 16) };
          case 'stack-below': return { base: FP, off: -STACK - 1 - pick(a.slot, 32) };
        }
        break;
      case 'derived': {
        const k = Math.trunc(a.k);
        b.emit(aluRow('mov', 64, 'reg'), { dst: a.tmp, src: a.base === 'fp' ? FP : CTX });
        if (k % 2 === 0) b.emit(aluRow('add', 64, 'imm'), { dst: a.tmp, imm: k });
        else b.emit(aluRow('sub', 64, 'imm'), { dst: a.tmp, imm: -k });
        if (a.twist && !this.spec.verifiable) b.emit(a.twist.row, { ...a.twist, dst: a.tmp, src: this.num(a.twist.src) });
        return { base: a.tmp, off: this.target(a.base, size, a.slot, a.aligned) - k };
      }
      case 'dynamic': {
        b.emit(aluRow('mov', 64, 'reg'), { dst: a.tmp, src: this.num(a.from) });
        b.emit(aluRow('and', 64, 'imm'), { dst: a.tmp, imm: this.dynamicMask(a.base, size, a.aligned) });
        b.emit(aluRow('add', 64, 'reg'), { dst: a.tmp, src: a.base === 'fp' ? FP : CTX });
        return { base: a.tmp, off: a.base === 'fp' ? -this.frame : 0 };
      }
      case 'cursor': return { base: CURSOR, off: a.aligned ? a.off - (a.off % size) : a.off };
      case 'wild': return { base: a.base, off: a.off };
    }
    throw new Error(`unknown address mode ${JSON.stringify(a)}`);
  }
}

/** The program's instructions (decoded from the encoded slots, as a loader would see them). */
export function lowerProgram(spec: ProgramSpec): Insn[] {
  const buf = new CodeBuffer();
  const fns = [spec.main, ...spec.subs];
  const entries = fns.map(() => buf.label());
  fns.forEach((fn, index) => new FnLowering(buf, spec, index, entries).lower(fn));
  return buf.finish();
}
