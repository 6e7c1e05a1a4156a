/**
 * Tail calls in JIT code (src/runtime/tail-call.ts has the rules). A static call of bpf_tail_call
 * is inlined: the index, count and slot tests run in WebAssembly on the prog_array's slots, so a tail
 * call that fails never leaves it. One that succeeds records the next program's id in `tail_target`,
 * sets `unwinding` and returns: every frame returns at once (calls.ts), and the event loop (drive,
 * module.ts) stops after the event, leaving how many events are left in `batch_left`. The wrapper
 * (instance.ts) then runs the chain and, in a batch, goes on with the events after it.
 *
 * Only modules of programs that may tail call (mayTailCall) have these globals and exports.
 */
import { EXPORT, GLOBAL } from './abi.js';
import { i32, i64, i64Const, none, tupleType, type Expr } from '../wasm/builder.js';
import type { FnEmitter, ModuleContext } from './emitter.js';
import type { InsnOf } from '../isa/insn.js';
import { H } from '../maps/layout.js';
import { BPF_MAP_TYPE } from '../maps/types.js';
import { MAX_TAIL_CALL_CNT, TAIL_CALL_FAILED } from '../runtime/tail-call.js';

export function addTailGlobals(mc: ModuleContext): void {
  if (!mc.tails) return;
  for (const name of [GLOBAL.tailCount, GLOBAL.tailTarget, GLOBAL.tailStart, GLOBAL.batchLeft]) mc.m.addGlobal(name, i32, true, mc.m.i32.const(0));
}

/** Per event: the chain's count so far (0, or what run_tail was given), and no next program yet. */
export function tailEventSetup(mc: ModuleContext): Expr[] {
  if (!mc.tails) return [];
  const m = mc.m;
  return [m.global.set(GLOBAL.tailCount, m.global.get(GLOBAL.tailStart, i32)), m.global.set(GLOBAL.tailTarget, m.i32.const(0))];
}

/** After an event: a tail call stops the loop, with the events still to run in batch_left. */
export function tailEventEnd(mc: ModuleContext, count: number, r0: number): Expr[] {
  if (!mc.tails) return [];
  const m = mc.m;
  return [m.if(m.global.get(GLOBAL.tailTarget, i32), m.block(null, [
    m.global.set(GLOBAL.batchLeft, m.local.get(count, i32)),
    m.return(m.local.get(r0, i64)),
  ]))];
}

/**
 * The entry with a tail-call count, run_tail(ctx, len, stackStart, count) -> r0: `single` with the
 * count in tail_start (the other entries set it to 0), and the wrapper's look at the chain's globals.
 */
export function addTailExports(mc: ModuleContext, single: () => Expr): void {
  if (!mc.tails) return;
  const m = mc.m;
  const body = m.block(null, [m.global.set(GLOBAL.tailStart, m.local.get(3, i32)), single()], i64);
  m.addFunction(EXPORT.runTail, tupleType([i32, i32, i32, i32]), i64, [], body);
  m.addFunction(EXPORT.tailCount, none, i32, [], m.global.get(GLOBAL.tailCount, i32));
  m.addFunction(EXPORT.batchLeft, none, i32, [], m.global.get(GLOBAL.batchLeft, i32));
  // The JS helper's answer (callx): the count it left, and the next program (0: none) with unwinding.
  const set = m.block(null, [
    m.global.set(GLOBAL.tailCount, m.local.get(1, i32)),
    m.global.set(GLOBAL.tailTarget, m.local.get(0, i32)),
    m.global.set(GLOBAL.unwinding, m.i32.ne(m.local.get(0, i32), m.i32.const(0))),
  ]);
  m.addFunction(EXPORT.setTail, tupleType([i32, i32]), none, [], set);
  // take_tail is a service export (module.ts), next to take_error.
  for (const name of [EXPORT.runTail, EXPORT.takeTail, EXPORT.tailCount, EXPORT.batchLeft, EXPORT.setTail]) m.addFunctionExport(name, name);
}

/** The prog_array r2 names, as an i32 address: the one the verifier pinned, else r2 checked against the program's prog_arrays. */
function progArray(e: FnEmitter, insn: InsnOf<'call'>): { checks: Expr[]; address: () => Expr; header: (field: number) => Expr } {
  const m = e.m;
  const pinned = e.facts(insn.pc)?.callMap;
  const map = pinned === undefined ? undefined : e.mc.maps[pinned];
  if (map && map.typeId === BPF_MAP_TYPE.PROG_ARRAY && !e.mc.checked) {
    const value = (field: number): number => map.mem.view.getUint32(map.address + field, true);
    return { checks: [], address: () => m.i32.const(map.address), header: (field) => m.i32.const(value(field)) };
  }
  const addresses = e.mc.maps.filter((mp) => mp.typeId === BPF_MAP_TYPE.PROG_ARRAY).map((mp) => mp.address);
  // As the JS helper's fault (E_RUN_MEMORY at the call): r2 is not one of the program's prog_arrays.
  const known = addresses.map((a) => m.i64.eq(e.get(2), i64Const(m, BigInt(a)))).reduce<Expr | undefined>((acc, c) => (acc ? m.i32.or(acc, c) : c), undefined);
  const checks = [known ? m.if(m.i32.eqz(known), e.trap('E_RUN_MEMORY', insn.pc)) : e.trap('E_RUN_MEMORY', insn.pc)];
  const address = (): Expr => m.i32.wrap(e.get(2));
  return { checks, address, header: (field) => m.i32.load(field, 4, address()) };
}

/** bpf_tail_call inlined (see the module comment): r0 = -ENOENT when it fails, else the run ends. */
export function emitTailCall(e: FnEmitter, insn: InsnOf<'call'>): Expr[] {
  const m = e.m;
  const { checks, header } = progArray(e, insn);
  const index = e.temp(i32);
  const id = e.temp(i32);
  const count = (): Expr => m.global.get(GLOBAL.tailCount, i32);
  const slot = m.i32.load(0, 4, m.i32.add(header(H.ELEMS), m.i32.shl(m.local.get(index, i32), m.i32.const(2))));
  const tries = m.i32.and(m.i32.lt_u(m.local.get(index, i32), header(H.MAX_ENTRIES)), m.i32.lt_u(count(), m.i32.const(MAX_TAIL_CALL_CNT)));
  return [
    ...checks,
    m.local.set(index, m.i32.wrap(e.get(3))),
    e.set(0, i64Const(m, TAIL_CALL_FAILED)),
    m.if(tries, m.block(null, [
      // The count goes up before the slot is read, as in the kernel: a try on an empty slot counts.
      m.global.set(GLOBAL.tailCount, m.i32.add(count(), m.i32.const(1))),
      m.local.set(id, slot),
      m.if(m.local.get(id, i32), m.block(null, [
        m.global.set(GLOBAL.tailTarget, m.local.get(id, i32)),
        m.global.set(GLOBAL.unwinding, m.i32.const(1)),
        e.ret(i64Const(m, 0n)),
      ])),
    ])),
  ];
}

