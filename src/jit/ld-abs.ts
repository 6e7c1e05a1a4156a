/**
 * The legacy packet loads LD_ABS / LD_IND (src/isa/insn.ts): the packet is [data, data_end) of the
 * __sk_buff in r6 (its u32 fields, src/runtime/kernel-layout.ts); the offset is imm, or the low 32
 * bits of src + imm, as a signed int (the kernel's bpf_skb_load_helper_*). An offset below 0 or a
 * load reaching past data_end ends the run with r0 = 0, unwinding every frame as a helper that asks
 * to does (calls.ts). Otherwise r0 is the bytes in network order, zero-extended.
 *
 * Verified code reads all of it unchecked: the verifier proved r6 is the context and the entry checks
 * put the packet in the heap. In checked mode the two fields and the packet bytes are checked
 * accesses like any other, faulting (E_RUN_MEMORY) as the interpreter does.
 */
import { GLOBAL } from './abi.js';
import { swap16, swap32 } from './alu.js';
import { i32, i64, i64Const, type Expr } from '../wasm/builder.js';
import type { FnEmitter } from './emitter.js';
import { checkedAddress } from './memory-access.js';
import type { InsnOf } from '../isa/insn.js';
import { SKB_DATA, SKB_DATA_END } from '../runtime/kernel-layout.js';

/** A u32 (or u8, u16) load at `raw` through the run's region checks when checked: statements, then the value. */
function loadAt(e: FnEmitter, pc: number, raw: () => Expr, size: 1 | 2 | 4): { checks: Expr[]; value: Expr } {
  const m = e.m;
  if (!e.mc.checked) return { checks: [], value: sized(e, size, m.i32.wrap(raw())) };
  const { checks, ptr } = checkedAddress(e, pc, raw, size, undefined);
  return { checks, value: sized(e, size, ptr()) };
}

function sized(e: FnEmitter, size: 1 | 2 | 4, ptr: Expr): Expr {
  const m = e.m;
  return size === 1 ? m.i32.load8_u(0, 1, ptr) : size === 2 ? m.i32.load16_u(0, 1, ptr) : m.i32.load(0, 1, ptr);
}

export function emitLdAbs(e: FnEmitter, insn: InsnOf<'ldabs'>): Expr {
  const m = e.m;
  const { pc, size } = insn;
  const [data, end, off] = [e.temp(i64), e.temp(i64), e.temp(i64)];
  const get = (local: number) => (): Expr => m.local.get(local, i64);
  const field = (at: number): () => Expr => () => m.i64.add(e.get(6), i64Const(m, BigInt(at)));
  const dataLoad = loadAt(e, pc, field(SKB_DATA), 4);
  const endLoad = loadAt(e, pc, field(SKB_DATA_END), 4);
  const index = insn.indirect
    ? m.i64.extend_s(m.i32.add(m.i32.wrap(e.get(insn.src)), m.i32.const(insn.imm)))
    : i64Const(m, BigInt(insn.imm));
  // Signed i64 arithmetic: data_end - data is negative for a garbled checked-mode context, so nothing fits.
  const outside = m.i32.or(
    m.i64.lt_s(get(off)(), i64Const(m, 0n)),
    m.i64.gt_s(m.i64.add(get(off)(), i64Const(m, BigInt(size))), m.i64.sub(get(end)(), get(data)())),
  );
  const bytes = loadAt(e, pc, () => m.i64.add(get(data)(), get(off)()), size);
  const loaded = e.temp(i32);
  const raw = (): Expr => m.local.get(loaded, i32);
  const value = size === 1 ? raw() : size === 2 ? swap16(e, raw) : swap32(e, raw);
  const stmts: Expr[] = [
    ...dataLoad.checks, m.local.set(data, m.i64.extend_u(dataLoad.value)),
    ...endLoad.checks, m.local.set(end, m.i64.extend_u(endLoad.value)),
    m.local.set(off, index),
    m.if(outside, m.block(null, [m.global.set(GLOBAL.unwinding, m.i32.const(1)), e.ret(i64Const(m, 0n))])),
    ...bytes.checks,
    m.local.set(loaded, bytes.value),
    e.set(0, m.i64.extend_u(value)),
  ];
  // Verified code never reads r1-r5 after the load; unverified code reads 0 there, as in the interpreter.
  if (!e.mc.verified) stmts.push(...[1, 2, 3, 4, 5].map((r) => e.set(r, i64Const(m, 0n))));
  return m.block(null, stmts);
}
