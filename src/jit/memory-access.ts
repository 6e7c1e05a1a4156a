/**
 * Loads, stores and atomics. A BPF address is an i64; in checked mode the access [ea, ea+size) must lie
 * in one of the run's regions (the stack's frames in use, the context, the engine's extra regions; for
 * a store or an atomic, not a read-only one) or the run stops
 * with E_RUN_MEMORY at the instruction's pc, before any effect. Each region test is one subtraction and
 * one unsigned compare: ea - start <u limit, where limit = max(length - size + 1, 0).
 *
 * Atomics must also be naturally aligned (wasm atomics trap otherwise; BPF requires it): a misaligned
 * atomic is E_RUN_MEMORY too.
 */
import { i64, i64Const, type Expr } from '../wasm/builder.js';
import type { FnEmitter } from './emitter.js';
import type { PointerFact } from './pointer-facts.js';
import type { AccessSize, InsnOf } from '../isa/insn.js';
import { STACK_FRAME_BYTES, type Region } from '../runtime/memory.js';

type MemInsn = InsnOf<'ldx'> | InsnOf<'st'> | InsnOf<'stx'> | InsnOf<'atomic'>;

/** Where an access goes: statements to run first (the checks), then the wasm i32 address. */
export interface Address {
  readonly checks: Expr[];
  readonly ptr: () => Expr;
  /** The access's static offset, added to ptr without wrapping (a wasm load's `offset=`). */
  readonly offset: number;
}

const baseRegister = (insn: MemInsn): number => (insn.kind === 'ldx' ? insn.src : insn.dst);

/** True when the fact puts the whole access inside the current frame's part of the stack. */
function provablyOnStack(fact: PointerFact | undefined, size: number): boolean {
  return fact?.base === 'fp' && fact.k >= -STACK_FRAME_BYTES && fact.k + size <= 0;
}

function inRegion(e: FnEmitter, ea: () => Expr, start: Expr, limit: Expr): Expr {
  return e.m.i64.lt_u(e.m.i64.sub(ea(), start), limit);
}

/**
 * Region tests as a chain of br_if out of a block that ends in the trap: each test is a compare and
 * a well-predicted branch, and the common region (by the pointer fact) comes first.
 */
function regionTests(e: FnEmitter, ea: () => Expr, size: AccessSize, fact: PointerFact | undefined, write: boolean): Expr[] {
  const m = e.m;
  const stack = inRegion(e, ea, e.frameLo(), e.frameLimit(size));
  const ctx = inRegion(e, ea, e.run('ctxStart'), e.run(`ctxLimit${size}`));
  const tests = fact?.base === 'fp' ? [stack, ctx] : [ctx, stack];
  // For context + k, the test reduces to one constant compare.
  if (fact?.base === 'ctx') tests.unshift(m.i64.lt_u(i64Const(m, BigInt(fact.k)), e.run(`ctxLimit${size}`)));
  for (const region of e.mc.regions) {
    const limit = region.end - region.start - size + 1;
    // A store or an atomic into a read-only region (a BPF_F_RDONLY_PROG map's values) finds no region: it faults.
    if (limit <= 0 || (write && region.readOnly)) continue;
    const start = i64Const(m, BigInt(region.start));
    tests.push(inRegion(e, ea, start, region.end <= e.mc.memoryEnd ? i64Const(m, BigInt(limit)) : grownLimit(e, region, size)));
  }
  return tests;
}

/**
 * The limit of a region that reached past the memory when compiling: only the part the memory has
 * grown to cover counts (as in the interpreter), so it is computed from memory.size at the access.
 */
function grownLimit(e: FnEmitter, region: Region, size: AccessSize): Expr {
  const m = e.m;
  const memEnd = (): Expr => m.i64.shl(m.i64.extend_u(m.memory.size('memory')), i64Const(m, 16n));
  const end = (): Expr => m.select(m.i64.lt_u(memEnd(), i64Const(m, BigInt(region.end))), memEnd(), i64Const(m, BigInt(region.end)));
  const spare = (): Expr => m.i64.sub(end(), i64Const(m, BigInt(region.start + size - 1)));
  return m.select(m.i64.gt_s(spare(), i64Const(m, 0n)), spare(), i64Const(m, 0n));
}

function aligned(e: FnEmitter, ea: () => Expr, size: AccessSize): Expr {
  return e.m.i32.eqz(e.m.i32.and(e.m.i32.wrap(ea()), e.m.i32.const(size - 1)));
}

function address(e: FnEmitter, insn: MemInsn, size: AccessSize): Address {
  const m = e.m;
  const { pc, off } = insn;
  const atomic = insn.kind === 'atomic';
  const fact = e.pointers.get(pc);
  const raw = (): Expr => m.i64.add(e.get(baseRegister(insn)), i64Const(m, BigInt(off)));
  if (!e.mc.checked) {
    // Verified: the verifier proved base + off inside the memory, so with off >= 0 the base is below
    // 2^32 as well and the offset can go in the instruction, where V8 folds it into the address.
    if (e.mc.verified && off >= 0) return { checks: [], ptr: () => m.i32.wrap(e.get(baseRegister(insn))), offset: off };
    return { checks: [], ptr: () => m.i32.wrap(raw()), offset: 0 };
  }
  if (provablyOnStack(fact, size)) {
    // The frame pointer is 8-aligned, so the offset alone decides an atomic's alignment.
    const misaligned = atomic && fact!.k % size !== 0;
    return { checks: misaligned ? [e.trap('E_RUN_MEMORY', pc)] : [], ptr: () => m.i32.wrap(raw()), offset: 0 };
  }
  return checkedAddress(e, pc, raw, size, fact, insn.kind === 'ldx' ? 'load' : atomic ? 'atomic' : 'store');
}

/**
 * Checked mode: [raw, raw + size) must lie in one of the run's regions (for a store or an atomic, one
 * that is not read-only), else E_RUN_MEMORY at `pc`.
 */
export function checkedAddress(e: FnEmitter, pc: number, raw: () => Expr, size: AccessSize, fact: PointerFact | undefined, mode: 'load' | 'store' | 'atomic' = 'load'): Address {
  const m = e.m;
  const eaLocal = e.temp(i64);
  const ea = (): Expr => m.local.get(eaLocal, i64);
  const label = `inside${pc}`;
  const checks = [
    m.local.set(eaLocal, raw()),
    m.block(label, [...regionTests(e, ea, size, fact, mode !== 'load').map((test) => m.br(label, test)), e.trap('E_RUN_MEMORY', pc)]),
  ];
  if (mode === 'atomic') checks.push(m.if(m.i32.eqz(aligned(e, ea, size)), e.trap('E_RUN_MEMORY', pc)));
  return { checks, ptr: () => m.i32.wrap(ea()), offset: 0 };
}

function load(e: FnEmitter, insn: InsnOf<'ldx'>, at: number, ptr: Expr): Expr {
  const m = e.m;
  switch (insn.size) {
    case 1: return insn.signed ? m.i64.load8_s(at, 1, ptr) : m.i64.load8_u(at, 1, ptr);
    case 2: return insn.signed ? m.i64.load16_s(at, 2, ptr) : m.i64.load16_u(at, 2, ptr);
    case 4: return insn.signed ? m.i64.load32_s(at, 4, ptr) : m.i64.load32_u(at, 4, ptr);
    case 8: return m.i64.load(at, 8, ptr);
  }
}

function store(e: FnEmitter, size: AccessSize, at: number, ptr: Expr, value: Expr): Expr {
  const m = e.m;
  switch (size) {
    case 1: return m.i64.store8(at, 1, ptr, value);
    case 2: return m.i64.store16(at, 2, ptr, value);
    case 4: return m.i64.store32(at, 4, ptr, value);
    case 8: return m.i64.store(at, 8, ptr, value);
  }
}

/** The atomic read-modify-write, returning the old value zero-extended to i64. */
function atomicRmw(e: FnEmitter, insn: InsnOf<'atomic'>, at: number, ptr: Expr): Expr {
  const m = e.m;
  const src = e.get(insn.src);
  if (insn.size === 4) {
    const rmw = m.i32.atomic.rmw;
    const value = m.i32.wrap(src);
    const old = insn.op === 'cmpxchg'
      ? rmw.cmpxchg(at, ptr, m.i32.wrap(e.get(0)), value)
      : rmw[insn.op](at, ptr, value);
    return m.i64.extend_u(old);
  }
  const rmw = m.i64.atomic.rmw;
  return insn.op === 'cmpxchg' ? rmw.cmpxchg(at, ptr, e.get(0), src) : rmw[insn.op](at, ptr, src);
}

export function emitMemory(e: FnEmitter, insn: MemInsn): Expr {
  const m = e.m;
  const { checks, ptr, offset } = address(e, insn, insn.size);
  let access: Expr;
  switch (insn.kind) {
    case 'ldx': access = e.set(insn.dst, load(e, insn, offset, ptr())); break;
    case 'st': access = store(e, insn.size, offset, ptr(), i64Const(m, BigInt(insn.imm))); break;
    case 'stx': access = store(e, insn.size, offset, ptr(), e.get(insn.src)); break;
    case 'atomic': {
      const old = atomicRmw(e, insn, offset, ptr());
      if (insn.op === 'cmpxchg') access = e.set(0, old);
      else access = insn.fetch ? e.set(insn.src, old) : m.drop(old);
      break;
    }
  }
  return checks.length === 0 ? access : m.block(null, [...checks, access]);
}
