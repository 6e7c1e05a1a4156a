/**
 * Tail calls (bpf_tail_call, helper 12) as both engines run them (docs/architecture.md, "Tail
 * calls"). A program ends its run by naming a program in a prog_array slot; the engine that ran it
 * stops at once, and `finishChain` runs the named program from its start on the same context, CPU and
 * stack top, in whichever engine that program was compiled for, until a program of the chain ends
 * without a tail call: its r0 is the run's result.
 *
 * A prog_array slot holds a program id of the engine memory's registry (`holdProgram`), so JIT code can
 * test a slot without leaving WebAssembly; only a tail call that succeeds returns to JavaScript, since
 * the next program is another module (or the interpreter).
 *
 * The rules both engines follow, as the kernel's (kernel/bpf/core.c, JMP_TAIL_CALL): the index is the
 * u32 in r3; index >= max_entries fails; then a run that already made MAX_TAIL_CALL_CNT tail calls
 * fails; then the count goes up, and only then an empty slot fails (so a try on an empty slot counts,
 * as in the kernel). A failed tail call leaves r0 = -ENOENT and the program goes on. Each program of a
 * chain starts with the entry registers (r1 = context, r2 = its length, r10 = the stack's top, the
 * rest 0) and, where it is charged a budget, a full budget of its own.
 */
import { InputError, InternalError } from '../errors.js';
import type { Program } from '../program/program.js';
import type { HelperRegistry } from './helpers.js';
import type { EngineMemory } from './memory.js';

/** The kernel's MAX_TAIL_CALL_CNT: a run makes at most 33 tail calls; the 34th fails. */
export const MAX_TAIL_CALL_CNT = 33;
/** r0 after a tail call that failed (-ENOENT, as an unsigned 64-bit register). */
export const TAIL_CALL_FAILED = BigInt.asUintN(64, -2n);
export const TAIL_CALL_HELPER = 12;

/** A run's tail calls: how many it made, and the program it goes on with (0: none, the run ends). */
export interface TailState {
  count: number;
  target: number;
}

/** What a prog_array slot can hold: an executable that runs as a chain's next program. */
export interface TailRunnable {
  /**
   * Runs the program once as a tail call's target, with the chain's count in `state.count`; leaves in
   * `state` the count and the target of its own tail call (0: none). Returns its r0.
   */
  runTail(ctxAddr: number, ctxLen: number, cpu: number, state: TailState): bigint;
}

/**
 * Per memory: the executables prog_array slots hold, by id, each with the number of slots holding
 * it; one no slot holds any more leaves the registry (its id is not used again). Strong references:
 * a WeakRef keeps its target alive until the current job ends, so a host making many Vms in one
 * synchronous loop kept every Vm's memory reserved. The registry still goes with its memory (the
 * WeakMap holds it only while the memory lives).
 */
interface Registry {
  readonly ids: Map<TailRunnable, number>;
  readonly byId: Map<number, { readonly exe: TailRunnable; holders: number }>;
  next: number;
}
const registries = new WeakMap<EngineMemory, Registry>();

function registryOf(mem: EngineMemory): Registry {
  let registry = registries.get(mem);
  if (!registry) registries.set(mem, (registry = { ids: new Map(), byId: new Map(), next: 1 }));
  return registry;
}

/** The id a prog_array slot stores for `exe` (from 1), counting one more slot that holds it. */
export function holdProgram(mem: EngineMemory, exe: TailRunnable): number {
  const registry = registryOf(mem);
  let id = registry.ids.get(exe);
  if (id === undefined) {
    id = registry.next++;
    registry.ids.set(exe, id);
    registry.byId.set(id, { exe, holders: 0 });
  }
  registry.byId.get(id)!.holders++;
  return id;
}

/** A slot no longer holds program `id` (0: the slot was empty). */
export function releaseProgram(mem: EngineMemory, id: number): void {
  if (id === 0) return;
  const registry = registryOf(mem);
  const entry = registry.byId.get(id);
  if (!entry) throw new InternalError(`prog_array slot held program id ${id}, which the registry does not know`);
  if (--entry.holders > 0) return;
  registry.byId.delete(id);
  registry.ids.delete(entry.exe);
}

/** The programs prog_array slots of this memory hold now, by id: what a worker thread must register too. */
export function heldPrograms(mem: EngineMemory): ReadonlyMap<number, TailRunnable> {
  return new Map([...registryOf(mem).byId].map(([id, entry]) => [id, entry.exe]));
}

/**
 * In a worker thread (src/workers): `exe` serves program `id` of the sharing thread's registry, whose
 * ids the slots in the shared memory hold. A later call for the same id replaces it.
 */
export function registerProgram(mem: EngineMemory, id: number, exe: TailRunnable): void {
  const registry = registryOf(mem);
  const old = registry.byId.get(id);
  if (old) registry.ids.delete(old.exe);
  registry.byId.set(id, { exe, holders: 1 });
  registry.ids.set(exe, id);
}

/** The executable with this id; only ids of programs a slot holds can be in a slot. */
function programById(mem: EngineMemory, id: number): TailRunnable {
  const exe = registries.get(mem)?.byId.get(id)?.exe;
  if (!exe) throw new InternalError(`tail call to program id ${id}, which no prog_array slot of this memory holds`);
  return exe;
}

/**
 * Runs the rest of a chain after a program asked for a tail call (`state.target` set); returns the
 * r0 of the last program. Every program sees the same context and CPU.
 */
export function finishChain(mem: EngineMemory, ctxAddr: number, ctxLen: number, cpu: number, state: TailState): bigint {
  let r0 = 0n;
  while (state.target !== 0) {
    const exe = programById(mem, state.target);
    state.target = 0;
    r0 = exe.runTail(ctxAddr, ctxLen, cpu, state);
  }
  return r0;
}

/**
 * Whether a run of `program` may make a tail call: a static call of the registry's tail_call helper,
 * or a callx (which may name it). Engines keep the chain's bookkeeping only for such programs.
 */
export function mayTailCall(program: Program, helpers: HelperRegistry): boolean {
  return program.insns.some((insn) => insn.kind === 'callx'
    || (insn.kind === 'call' && insn.mode === 'helper' && helpers.get(insn.imm)?.tailCall === true));
}

/** The start of a tail-called run: `count` tail calls made so far, a u32 in 0..MAX_TAIL_CALL_CNT. */
export function checkTailCount(count: number): number {
  if (!Number.isInteger(count) || count < 0 || count > MAX_TAIL_CALL_CNT) throw new InputError(`tail call count ${count} must be in 0..${MAX_TAIL_CALL_CNT}`);
  return count;
}
