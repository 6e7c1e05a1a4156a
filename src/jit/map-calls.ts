/**
 * Map helpers without leaving WebAssembly (issue: "fast from JIT code"). Where the program is
 * verified and the verifier pinned the map a call names (facts.callMap), the JIT calls the map
 * operation itself: an array lookup is address arithmetic, as the kernel inlines it
 * (array_map_gen_lookup); the other operations are direct calls of the map operations module's
 * functions (src/maps/ops.ts), imported as WebAssembly functions, so no JavaScript runs. Which
 * operation a call runs comes from src/maps/program-ops.ts, as for the JS helpers the interpreter
 * calls. The ring buffer helpers are direct calls too: reserve, output and query of the pinned ring
 * buffer, submit and discard of the record pointer (the verifier proved it a reserved record). Checked
 * code keeps the JS helpers, which check their pointer arguments against the run's regions.
 */
import { InputError } from '../errors.js';
import type { InsnOf } from '../isa/insn.js';
import { H } from '../maps/layout.js';
import { programOp, type ProgramOp } from '../maps/program-ops.js';
import { BPF_MAP_TYPE } from '../maps/types.js';
import type { BpfMap } from '../maps/map.js';
import type { HelperSpec } from '../runtime/helpers.js';
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

/** A ring buffer helper as a call of its operation: (map, r2..) for the pinned map, (r1, r2) for a record. */
function ringBufCall(e: FnEmitter, insn: InsnOf<'call'>, call: NonNullable<HelperSpec['ringbufCall']>): Expr[] | undefined {
  const m = e.m;
  let args: Expr[];
  if (call === 'submit' || call === 'discard') {
    args = [e.get(1), e.get(2)];
  } else {
    const index = e.facts(insn.pc)?.callMap;
    if (index === undefined) return undefined;
    const map = pinnedMap(e, insn, index);
    if (map.typeId !== BPF_MAP_TYPE.RINGBUF) return undefined;
    const arity = call === 'output' ? 4 : call === 'reserve' ? 3 : 2;
    args = [i64Const(m, BigInt(map.address)), ...[2, 3, 4].slice(0, arity - 1).map((r) => e.get(r))];
  }
  return [e.set(0, m.call(importOp(e, { name: `ringbuf_${call}`, cpu: false }, args.length), args, i64))];
}

/** A helper that is one operation (HelperSpec.wasmOp): perf_event_output of the pinned map, or a spin lock's. */
function opCall(e: FnEmitter, insn: InsnOf<'call'>, name: NonNullable<HelperSpec['wasmOp']>): Expr[] | undefined {
  const m = e.m;
  let args: Expr[];
  if (name === 'perf_event_output') {
    const index = e.facts(insn.pc)?.callMap;
    if (index === undefined) return undefined;
    const map = pinnedMap(e, insn, index);
    if (map.typeId !== BPF_MAP_TYPE.PERF_EVENT_ARRAY) return undefined;
    args = [i64Const(m, BigInt(map.address)), e.get(3), e.get(4), e.get(5), cpuOf(e)];
  } else {
    args = [e.get(1)];
  }
  const call = e.set(0, m.call(importOp(e, { name, cpu: false }, args.length), args, i64));
  // A lock never released (ops-spin-lock.ts): the run stops, as the helper's failure does in the interpreter.
  if (name === 'spin_lock') return [call, m.if(m.i64.ne(e.get(0), i64Const(m, 0n)), e.trap('E_RUN_HELPER', insn.pc))];
  return [call];
}

/** The call's code when the JIT can run the map operation itself; undefined to call the helper. */
export function directMapCall(e: FnEmitter, insn: InsnOf<'call'>, spec: HelperSpec): Expr[] | undefined {
  if (spec.ringbufCall && e.mc.verified && !e.mc.checked) return ringBufCall(e, insn, spec.ringbufCall);
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
