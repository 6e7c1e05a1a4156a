/**
 * BPF_MAP_TYPE_PROG_ARRAY: the slots bpf_tail_call jumps through (src/runtime/tail-call.ts). Each slot
 * is a u32 in the map's metadata (layout.ts): 0 for empty, else the program id of the memory's
 * registry. Programs cannot read or write the slots (no lookup or update helper takes a prog_array,
 * and the map has no value region a checked program could be granted); only the host fills them,
 * with programs loaded in the same memory for the same context, as the kernel ties a prog_array to
 * the program type and owner of the programs that use it.
 */
import { InputError } from '../errors.js';
import type { Executable } from '../runtime/executable.js';
import type { EngineMemory } from '../runtime/memory.js';
import { holdProgram, releaseProgram, type TailRunnable } from '../runtime/tail-call.js';
import type { ContextDescriptor } from '../verifier/context.js';
import { E2BIG, EINVAL, ENOENT } from './errno.js';
import { H } from './layout.js';
import { BpfMap } from './map-keyed.js';
import { BPF_ANY } from './types.js';
import { toBytes, type MapBytes } from './values.js';

/** What a slot takes: a program loaded into a Vm (LoadedProgram has these). */
export interface TailProgram {
  readonly exe: Executable;
  readonly context: ContextDescriptor | undefined;
  readonly mem: EngineMemory;
}

/** Programs share a prog_array only if they run on the same kind of context: its name and layout. */
const contextKey = (ctx: ContextDescriptor | undefined): string =>
  (ctx ? `${ctx.name} ${JSON.stringify(ctx.r1)} ${ctx.r2}` : 'no context');

const isTailProgram = (p: unknown): p is TailProgram =>
  typeof p === 'object' && p !== null && 'exe' in p && 'mem' in p && typeof (p as TailProgram).exe?.run === 'function';

export class ProgArray extends BpfMap<Uint8Array> {
  private readonly programs = new Map<number, TailProgram>();
  /** The context of the first program that used the map (loaded with it, or put into it): every other must match. */
  private owner: { key: string; name: string } | undefined;

  /** Puts `program` into slot `index`; the next tail call through it runs that program. */
  set(index: number, program: TailProgram): void {
    this.checkWritable('set');
    const slot = this.slotIndex(index, 'set');
    if (!isTailProgram(program)) throw new InputError(`${this.label}: slot ${index}: a prog_array holds loaded programs (Vm.load)`);
    if (program.mem !== this.mem) throw new InputError(`${this.label}: slot ${index}: the program was loaded into another Vm (another engine memory)`);
    const runnable = program.exe as Executable & Partial<TailRunnable>;
    if (typeof runnable.runTail !== 'function') throw new InputError(`${this.label}: slot ${index}: this executable cannot be tail-called`);
    this.claim(program.context, `slot ${index}: the program`);
    const id = holdProgram(this.mem, runnable as TailRunnable);
    this.release(slot);
    this.mem.view.setUint32(this.slotAddress(slot), id, true);
    this.programs.set(slot, program);
  }

  /** The program in slot `index`, or undefined when it is empty. */
  get(index: number): TailProgram | undefined {
    return this.programs.get(this.slotIndex(index, 'get'));
  }

  /**
   * Binds the map to programs of `context` (a program loaded with it, or put into it). Throws when an
   * earlier one ran on another kind of context, as the kernel refuses a program of another type.
   */
  claim(context: ContextDescriptor | undefined, who = 'a program loaded with it'): void {
    const key = contextKey(context);
    const name = context?.name ?? 'no context';
    if (!this.owner) this.owner = { key, name };
    else if (this.owner.key !== key) {
      throw new InputError(`${this.label}: ${who} runs on ${name}, but the map serves programs of ${this.owner.name}: a tail call keeps the context`);
    }
  }

  /** As the kernel's prog_array update: flags must be BPF_ANY (0), the value a loaded program. */
  override update(key: MapBytes, value: MapBytes | readonly MapBytes[] | TailProgram, flags: number = BPF_ANY): void {
    if (flags !== BPF_ANY) throw this.fail('update', EINVAL, `invalid flags ${flags} (a prog_array takes only BPF_ANY)`);
    this.set(this.keyIndex(key), value as TailProgram);
  }

  /** Empties a slot: ENOENT when it is empty, E2BIG past the end. */
  override delete(key: MapBytes): void {
    this.checkWritable('delete');
    const index = this.keyIndex(key);
    if (index >= this.maxEntries) throw this.fail('delete', E2BIG, `index ${index} is out of range (maxEntries ${this.maxEntries})`);
    if (!this.programs.delete(index)) throw this.fail('delete', ENOENT, `slot ${index} is empty`);
    this.release(index);
    this.mem.view.setUint32(this.slotAddress(index), 0, true);
  }

  /** The slot's program id (4 bytes), as the kernel's lookup answers a prog id; undefined when empty. */
  override lookup(key: MapBytes): Uint8Array | undefined {
    const index = this.keyIndex(key);
    if (index >= this.maxEntries || !this.programs.has(index)) return undefined;
    return this.mem.read(this.slotAddress(index), 4);
  }

  /** Every index, as an array's keys (empty slots too, as the kernel's next_key). */
  override *keys(): IterableIterator<Uint8Array> {
    for (let i = 0; i < this.maxEntries; i++) yield toBytes(i, 4, 'key');
  }

  override clear(): void {
    this.checkWritable('clear');
    for (const slot of this.programs.keys()) this.release(slot);
    super.clear();
    this.programs.clear();
  }

  /** The registry's count of the program slot `slot` holds (if any) goes down (src/runtime/tail-call.ts). */
  private release(slot: number): void {
    releaseProgram(this.mem, this.mem.view.getUint32(this.slotAddress(slot), true));
  }

  private keyIndex(key: MapBytes): number {
    const bytes = toBytes(key, 4, `${this.label}: key`);
    return new DataView(bytes.buffer, bytes.byteOffset, 4).getUint32(0, true);
  }

  private slotIndex(index: number, op: string): number {
    if (!Number.isInteger(index) || index < 0 || index >= this.maxEntries) {
      throw this.fail(op, E2BIG, `index ${index} is out of range (maxEntries ${this.maxEntries})`);
    }
    return index;
  }

  private slotAddress(index: number): number {
    return this.mem.view.getUint32(this.address + H.ELEMS, true) + 4 * index;
  }
}
