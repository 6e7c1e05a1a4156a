/**
 * Map helpers without leaving WebAssembly (issue: "fast from JIT code"). Where the program is
 * verified and the verifier pinned the map a call names (facts.callMap), the JIT calls the map
 * operation itself: an array lookup is address arithmetic, as the kernel inlines it
 * (array_map_gen_lookup); the other operations are direct calls of the map operations module's
 * functions (src/maps/ops.ts), imported as WebAssembly functions, so no JavaScript runs. Which
 * operation a call runs comes from src/maps/program-ops.ts, as for the JS helpers the interpreter
 * calls. Helpers that are one operation (HelperSpec.wasmOp: the ring buffer's, perf_event_output,
 * the spin lock's) are direct calls too, with the arguments their WasmOp names: the pinned map's
 * address, registers (a ring buffer record the verifier proved reserved, a lock it proved one), the
 * CPU. Checked code keeps the JS helpers, which check their pointer arguments against the run's regions.
 */
import { InputError } from '../errors.js';
import type { InsnOf } from '../isa/insn.js';
import { H } from '../maps/layout.js';
import { programOp, type ProgramOp } from '../maps/program-ops.js';
import { BPF_MAP_TYPE } from '../maps/types.js';
import type { BpfMap } from '../maps/map.js';
import type { HelperSpec, WasmOp } from '../runtime/helpers.js';
import { NULL_GUARD, STACK_PER_CPU } from '../runtime/memory.js';
import { i64, i64Const, type Expr } from '../wasm/builder.js';
import type { FnEmitter } from './emitter.js';

/** The import module of the map operations (the JIT's instance passes mapOperations(mem)). */
export const MAPS_IMPORT_MODULE = 'maps';

/** The run's CPU: its stack's index (src/runtime/memory.ts lays the stacks out from the null guard). */
export function cpuOf(e: FnEmitter): Expr {
  const m = e.m;
  return m.i64.shr_u(m.i64.sub(e.run('stackStart'), i64Const(m, BigInt(NULL_GUARD))), i64Const(m, BigInt(Math.log2(STACK_PER_CPU))));
}

/** r0 = &value[key] or 0: the key is the u32 at r2, which the verifier proved readable. */
function arrayLookup(e: FnEmitter, map: BpfMap): Expr {
  const m = e.m;
  const header = (field: number): bigint => BigInt(map.mem.view.getUint32(map.address + field, true));
  const key = e.temp(i64);
  let base: Expr = i64Const(m, header(H.DATA));
  if (map.typeId === BPF_MAP_TYPE.PERCPU_ARRAY) base = m.i64.add(base, m.i64.mul(cpuOf(e), i64Const(m, header(H.CPU_STRIDE))));
  const at = m.i64.add(base, m.i64.mul(m.local.get(key, i64), i64Const(m, header(H.STRIDE))));
  return m.block(null, [
    m.local.set(key, m.i64.load32_u(0, 4, m.i32.wrap(e.get(2)))),
    e.set(0, m.select(m.i64.lt_u(m.local.get(key, i64), i64Const(m, header(H.MAX_ENTRIES))), at, i64Const(m, 0n))),
  ]);
}

export function importOp(e: FnEmitter, op: ProgramOp, arity: number): string {
  const name = `${MAPS_IMPORT_MODULE}.${op.name}`;
  if (!e.mc.imports.has(name)) {
    e.mc.imports.add(name);
    e.m.addFunctionImport(name, MAPS_IMPORT_MODULE, op.name, new Array(arity).fill(i64), i64);
  }
  return name;
}

function pinnedMap(e: FnEmitter, insn: InsnOf<'call'>, index: number): BpfMap {
  const map = e.mc.maps[index];
  if (!map) throw new InputError(`pc ${insn.pc}: the verifier's facts name map ${index}, but the program was compiled with ${e.mc.maps.length} maps`);
  return map;
}

/** A helper that is one map operation (HelperSpec.wasmOp), called with the arguments its WasmOp says. */
function opCall(e: FnEmitter, insn: InsnOf<'call'>, op: WasmOp): Expr[] | undefined {
  const m = e.m;
  const args: Expr[] = [];
  if (op.pinned !== undefined) {
    const index = e.facts(insn.pc)?.callMap;
    if (index === undefined) return undefined;
    const map = pinnedMap(e, insn, index);
    if (map.typeId !== op.pinned) return undefined;
    args.push(i64Const(m, BigInt(map.address)));
  }
  args.push(...op.regs.map((r) => e.get(r)));
  if (op.cpu) args.push(cpuOf(e));
  const call = e.set(0, m.call(importOp(e, { name: op.name, cpu: false }, args.length), args, i64));
  if (!op.trapsOnFailure) return [call];
  return [call, m.if(m.i64.ne(e.get(0), i64Const(m, 0n)), e.trap('E_RUN_HELPER', insn.pc))];
}

/** The call's code when the JIT can run the map operation itself; undefined to call the helper. */
export function directMapCall(e: FnEmitter, insn: InsnOf<'call'>, spec: HelperSpec): Expr[] | undefined {
  if (spec.wasmOp && e.mc.verified && !e.mc.checked) return opCall(e, insn, spec.wasmOp);
  const index = e.facts(insn.pc)?.callMap;
  if (!spec.mapCall || !e.mc.verified || e.mc.checked || index === undefined) return undefined;
  const map = pinnedMap(e, insn, index);
  const op = programOp(map.typeId, spec.mapCall);
  if (!op) return undefined;
  const m = e.m;
  if (spec.mapCall === 'lookup' && (map.typeId === BPF_MAP_TYPE.ARRAY || map.typeId === BPF_MAP_TYPE.PERCPU_ARRAY)) return [arrayLookup(e, map)];
  const args = [i64Const(m, BigInt(map.address)), e.get(2), ...(spec.mapCall === 'update' ? [e.get(3), e.get(4)] : [])];
  if (op.cpu) args.push(cpuOf(e));
  return [e.set(0, m.call(importOp(e, op, args.length), args, i64))];
}
