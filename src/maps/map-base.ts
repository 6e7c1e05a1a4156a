/**
 * What every host-side map has, whatever its kind (map.ts for keyed maps, map-keyless.ts for queue,
 * stack and bloom filter): its description, its storage in the engine memory, a scratch area there
 * to copy keys and values through, and errors in the kernel's words (docs/architecture.md section 2,
 * "Maps").
 */
import { MapError } from '../errors.js';
import type { EngineMemory, Region } from '../runtime/memory.js';
import { BPF_F, isPerCpuType, type MapTypeId, type MapTypeName } from './types.js';
import { allocateMap, type MapLayout } from './layout.js';
import { EBUSY, EPERM, ERRNO_NAME } from './errno.js';
import { mapOperations, type MapOpsExports } from './ops.js';
import { MAX_KEY_SIZE, mapLabel, type ValidSpec } from './spec.js';

/** A map as another thread attaches to it (MapBase.share, attachMap). */
export interface MapShare {
  readonly spec: ValidSpec;
  readonly layout: MapLayout;
  readonly frozen: boolean;
}

/** The scratch area of each memory: a key, the key next_key writes, then a value (every CPU's copy). */
interface Scratch { readonly addr: number; readonly size: number }
const scratches = new WeakMap<EngineMemory, Scratch>();

/** Every map of each memory, by header address: what a worker pool shares with its threads (src/workers). */
const registry = new WeakMap<EngineMemory, Map<number, MapBase>>();

/** The map whose header is at `address` in `mem` (created or attached in this thread), if any. */
export function mapAtAddress(mem: EngineMemory, address: number): MapBase | undefined {
  return registry.get(mem)?.get(address);
}

function scratchFor(mem: EngineMemory, valueBytes: number): Scratch {
  const have = scratches.get(mem);
  const size = 2 * MAX_KEY_SIZE + valueBytes;
  if (have && have.size >= size) return have;
  // A larger map than any before: a larger area (allocations are never freed; maps are few).
  const scratch = { addr: mem.alloc(size, 64), size };
  scratches.set(mem, scratch);
  return scratch;
}

export abstract class MapBase {
  readonly type: MapTypeName;
  readonly typeId: MapTypeId;
  readonly keySize: number;
  readonly valueSize: number;
  readonly maxEntries: number;
  readonly flags: number;
  readonly name: string;
  /** The kernel's map_extra: a bloom filter's number of hash functions (0: the default, 5); else 0. */
  readonly mapExtra: number;
  /** The offset of the values' bpf_spin_lock (spin-lock.ts), when they hold one. */
  readonly spinLockOffset: number | undefined;
  /** Per-CPU maps hold one value per CPU of the memory; lookup returns them all. */
  readonly perCpu: boolean;
  /** The address of the map's header in the engine memory: what the map operations take as `map`. */
  readonly address: number;
  /**
   * The bytes programs may point into, and nothing else: array slots, a hash map's values (every
   * address lookup returns lies in it); empty for a queue, a stack or a bloom filter, whose values are
   * only copied. Granting it to an unverified program cannot break the map: its links, keys and counts
   * lie elsewhere (layout.ts). Read-only (`readOnly`) for a BPF_F.RDONLY_PROG map: checked code may
   * read it but not write it.
   */
  readonly valueRegion: Region;
  protected readonly layout: MapLayout;
  protected readonly wasm: MapOpsExports;
  /** How messages name the map: `map 'counts'`, or `unnamed hash map`. */
  readonly label: string;
  private readonly scratch: Scratch;
  private isFrozen: boolean;

  /**
   * `attached`: a map another thread created in the same memory (share()), which this object then
   * serves without reserving or clearing anything.
   */
  constructor(readonly mem: EngineMemory, private readonly spec: ValidSpec, attached?: MapShare) {
    this.type = spec.typeName;
    this.typeId = spec.type;
    this.keySize = spec.keySize;
    this.valueSize = spec.valueSize;
    this.maxEntries = spec.maxEntries;
    this.flags = spec.flags;
    this.name = spec.name;
    this.mapExtra = spec.mapExtra;
    this.spinLockOffset = spec.spinLockOffset;
    this.perCpu = isPerCpuType(spec.type);
    this.label = mapLabel(spec.name, spec.typeName);
    this.layout = attached?.layout ?? allocateMap(mem, spec, (spec.flags & BPF_F.ZERO_SEED) !== 0);
    this.address = this.layout.header;
    const readOnly = (spec.flags & BPF_F.RDONLY_PROG) !== 0;
    this.valueRegion = { start: this.layout.data, end: this.layout.data + this.layout.dataSize, ...(readOnly ? { readOnly } : {}) };
    this.wasm = mapOperations(mem);
    this.scratch = scratchFor(mem, this.layout.copies * this.layout.stride);
    if (!attached) this.wasm.map_clear(BigInt(this.address));
    this.isFrozen = attached?.frozen ?? false;
    let maps = registry.get(mem);
    if (!maps) registry.set(mem, (maps = new Map()));
    maps.set(this.address, this);
  }

  /** What another thread needs to use this map (attachMap): postable, the storage is in the shared memory. */
  share(): MapShare {
    return { spec: this.spec, layout: this.layout, frozen: this.isFrozen };
  }

  protected get keyAddr(): number {
    return this.scratch.addr;
  }

  protected get outAddr(): number {
    return this.scratch.addr + MAX_KEY_SIZE;
  }

  protected get valueAddr(): number {
    return this.scratch.addr + 2 * MAX_KEY_SIZE;
  }

  /** Empties a hash map, a queue, a stack or a bloom filter; sets every value of an array to zero. */
  clear(): void {
    this.checkWritable('clear');
    this.wasm.map_clear(BigInt(this.address));
  }

  /** True once freeze() was called: the host can no longer change the map. */
  get frozen(): boolean {
    return this.isFrozen;
  }

  /**
   * Makes the map read-only to the host for good, as the kernel's BPF_MAP_FREEZE: every later host
   * write (update, delete, clear, push, pop, batches) fails with EPERM. What programs may do stays
   * as the BPF_F.*_PROG flags say; a frozen map with BPF_F.RDONLY_PROG can no longer change at all,
   * so the verifier reads its value as constants (libbpf freezes `.rodata` before loading programs).
   * Freezing twice is EBUSY, as in the kernel.
   */
  freeze(): void {
    if (this.isFrozen) throw this.fail('freeze', EBUSY, 'the map is already frozen');
    this.isFrozen = true;
  }

  /** Refuses a host write to a frozen map, as the kernel's syscall commands do. */
  protected checkWritable(op: string): void {
    if (this.isFrozen) throw this.fail(op, EPERM, 'the map is frozen: the host cannot change it');
  }

  protected fail(op: string, errno: number, reason: string): MapError {
    const name = ERRNO_NAME[errno] ?? `errno ${errno}`;
    return new MapError(name, `${this.label}: ${op}: ${reason} (${name})`);
  }
}
