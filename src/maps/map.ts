/**
 * The host API of maps, in the style of libbpf and cilium/ebpf: create a map in an engine memory,
 * then look up, update, delete and iterate with byte keys and values. Every operation copies its
 * key and value into a scratch area of the engine memory and calls the WebAssembly operations
 * (ops.ts): the host never walks the storage itself, so it cannot disagree with the programs that
 * will share the map (docs/architecture.md section 2, "Maps").
 */
import { InputError, MapError } from '../errors.js';
import type { EngineMemory, Region } from '../runtime/memory.js';
import { BPF_ANY, BPF_F, BPF_MAP_TYPE, isArrayType, isPerCpuType, type MapTypeId, type MapTypeName, type PerCpuMapType } from './types.js';
import { allocateMap, type MapLayout } from './layout.js';
import { E2BIG, EEXIST, EINVAL, ENOENT, ERRNO_NAME } from './errno.js';
import { mapOperations, type MapOpsExports } from './ops.js';
import { MAX_KEY_SIZE, mapLabel, validateSpec, type MapSpec, type ValidSpec } from './spec.js';
import { toBigInt, toBytes, type MapBytes } from './values.js';
import { consumeRecords, pollRecords, type PollOptions, type RecordCallback, type RingView } from './ringbuf.js';
import { BPF_RB_AVAIL_DATA, BPF_RB_CONS_POS, BPF_RB_PROD_POS } from './ops-ringbuf.js';

/** The scratch area of each memory: a key, the key next_key writes, then a value (every CPU's copy). */
interface Scratch { readonly addr: number; readonly size: number }
const scratches = new WeakMap<EngineMemory, Scratch>();

function scratchFor(mem: EngineMemory, valueBytes: number): Scratch {
  const have = scratches.get(mem);
  const size = 2 * MAX_KEY_SIZE + valueBytes;
  if (have && have.size >= size) return have;
  // A larger map than any before: a larger area (allocations are never freed; maps are few).
  const scratch = { addr: mem.alloc(size, 64), size };
  scratches.set(mem, scratch);
  return scratch;
}

/** The operations one kind of map uses, as (map, key, ...) over addresses; cpu -1: all copies. */
interface KindOps {
  lookup(map: bigint, key: bigint, cpu: bigint): bigint;
  update(map: bigint, key: bigint, value: bigint, flags: bigint, cpu: bigint): bigint;
  delete(map: bigint, key: bigint): bigint;
  next(map: bigint, key: bigint, out: bigint): bigint;
}

function kindOps(ops: MapOpsExports, type: MapTypeId): KindOps {
  return isArrayType(type)
    ? { lookup: ops.percpu_array_lookup, update: ops.percpu_array_update, delete: ops.array_delete, next: ops.array_next_key }
    : { lookup: ops.hash_lookup_sys, update: ops.percpu_hash_update, delete: ops.hash_delete, next: ops.hash_next_key };
}

export type MapValues = Uint8Array | Uint8Array[];

export class BpfMap<V extends MapValues = MapValues> {
  readonly type: MapTypeName;
  readonly typeId: MapTypeId;
  readonly keySize: number;
  readonly valueSize: number;
  readonly maxEntries: number;
  readonly flags: number;
  readonly name: string;
  /** Per-CPU maps hold one value per CPU of the memory; lookup returns them all. */
  readonly perCpu: boolean;
  /** The address of the map's header in the engine memory: what the map operations take as `map`. */
  readonly address: number;
  private readonly layout: MapLayout;
  private readonly ops: KindOps;
  private readonly scratch: Scratch;
  /** How messages name the map: `map 'counts'`, or `unnamed hash map`. */
  readonly label: string;

  /** Use createMap, which checks the spec. */
  constructor(readonly mem: EngineMemory, spec: ValidSpec) {
    this.type = spec.typeName;
    this.typeId = spec.type;
    this.keySize = spec.keySize;
    this.valueSize = spec.valueSize;
    this.maxEntries = spec.maxEntries;
    this.flags = spec.flags;
    this.name = spec.name;
    this.perCpu = isPerCpuType(spec.type);
    this.label = mapLabel(spec.name, spec.typeName);
    this.layout = allocateMap(mem, spec, (spec.flags & BPF_F.ZERO_SEED) !== 0);
    this.address = this.layout.header;
    this.ops = kindOps(mapOperations(mem), spec.type);
    this.scratch = scratchFor(mem, this.layout.copies * this.layout.stride);
    mapOperations(mem).map_clear(BigInt(this.address));
  }

  /** The bytes programs may point into: the values (docs/architecture.md section 2, "Maps"). */
  get valueRegion(): Region {
    return { start: this.layout.data, end: this.layout.data + this.layout.dataSize };
  }

  /**
   * The address of byte `off` of the value, for `lddw rX, map_value_by_idx(N, off)`: as in the kernel
   * (array_map_direct_value_addr), only an array of one entry has one; undefined otherwise.
   */
  directValue(off: number): number | undefined {
    if (this.typeId !== BPF_MAP_TYPE.ARRAY || this.maxEntries !== 1 || !Number.isInteger(off) || off < 0 || off >= this.valueSize) return undefined;
    return this.layout.data + off;
  }

  private get keyAddr(): number {
    return this.scratch.addr;
  }

  private get outAddr(): number {
    return this.scratch.addr + MAX_KEY_SIZE;
  }

  private get valueAddr(): number {
    return this.scratch.addr + 2 * MAX_KEY_SIZE;
  }

  private putKey(key: MapBytes): bigint {
    this.mem.write(this.keyAddr, toBytes(key, this.keySize, `${this.label}: key`));
    return BigInt(this.keyAddr);
  }

  /**
   * The value of `key` (a copy), one per CPU for a per-CPU map; undefined when the key is absent. As
   * the kernel's syscall, a host lookup does not count as a use of an LRU map's key.
   */
  lookup(key: MapBytes): V | undefined {
    const k = this.putKey(key);
    const at = (cpu: number): number => Number(this.ops.lookup(BigInt(this.address), k, BigInt(cpu)));
    if (!this.perCpu) {
      const addr = at(0);
      return addr === 0 ? undefined : (this.mem.read(addr, this.valueSize) as V);
    }
    const values: Uint8Array[] = [];
    for (let cpu = 0; cpu < this.layout.copies; cpu++) {
      const addr = at(cpu);
      if (addr === 0) return undefined;
      values.push(this.mem.read(addr, this.valueSize));
    }
    return values as V;
  }

  /** A 4- or 8-byte value as an unsigned bigint (per-CPU maps: use lookup). */
  lookupBigInt(key: MapBytes): bigint | undefined {
    if (this.perCpu || (this.valueSize !== 4 && this.valueSize !== 8)) {
      throw new InputError(`${this.label}: lookupBigInt needs a map of 4- or 8-byte values that is not per-CPU`);
    }
    const value = this.lookup(key) as Uint8Array | undefined;
    return value && toBigInt(value);
  }

  /** lookupBigInt as a number; throws when the value exceeds 2^53 - 1. */
  lookupNumber(key: MapBytes): number | undefined {
    const value = this.lookupBigInt(key);
    if (value === undefined) return undefined;
    if (value > BigInt(Number.MAX_SAFE_INTEGER)) throw new InputError(`${this.label}: value ${value} is too large for a number: use lookupBigInt`);
    return Number(value);
  }

  /**
   * Sets the value of `key`; flags BPF_ANY (0), BPF_NOEXIST (1) or BPF_EXIST (2), answered as the
   * kernel does. A per-CPU map takes one value for every CPU, or an array of one per CPU.
   */
  update(key: MapBytes, value: MapBytes | readonly MapBytes[], flags: number = BPF_ANY): void {
    // Flags the wasm's u32 would not hold as given; the rest it judges itself.
    if (!Number.isInteger(flags) || flags < 0 || flags > 0xffffffff) throw this.fail('update', EINVAL, `invalid flags ${flags}`);
    const k = this.putKey(key);
    let cpu = 0;
    if (this.perCpu) {
      const { copies, stride } = this.layout;
      const list = Array.isArray(value) ? value : new Array<MapBytes>(copies).fill(value as MapBytes);
      if (list.length !== copies) throw new InputError(`${this.label}: update needs one value per CPU (${copies}), not ${list.length}`);
      const all = new Uint8Array(copies * stride);
      list.forEach((v, i) => all.set(toBytes(v, this.valueSize, `${this.label}: value for cpu ${i}`), i * stride));
      this.mem.write(this.valueAddr, all);
      cpu = -1;
    } else {
      if (Array.isArray(value)) throw new InputError(`${this.label}: update takes one value: the map is not per-CPU`);
      this.mem.write(this.valueAddr, toBytes(value as MapBytes, this.valueSize, `${this.label}: value`));
    }
    const rc = this.ops.update(BigInt(this.address), k, BigInt(this.valueAddr), BigInt(flags), BigInt(cpu));
    if (rc !== 0n) throw this.fail('update', -Number(rc), this.updateReason(-Number(rc), key, flags));
  }

  /** Removes `key`; a missing key is ENOENT, and an array's elements cannot be deleted (EINVAL), as in the kernel. */
  delete(key: MapBytes): void {
    const rc = this.ops.delete(BigInt(this.address), this.putKey(key));
    if (rc === 0n) return;
    const errno = -Number(rc);
    throw this.fail('delete', errno, errno === EINVAL && isArrayType(this.typeId) ? 'array elements cannot be deleted' : 'no such key');
  }

  /**
   * The keys, in the map's order. Deleting the current key while iterating is safe: the next step
   * then starts over from the first key, as the kernel's get_next_key does.
   */
  *keys(): IterableIterator<Uint8Array> {
    let prev: Uint8Array | undefined;
    for (;;) {
      const k = prev ? this.putKey(prev) : 0n;
      const rc = this.ops.next(BigInt(this.address), k, BigInt(this.outAddr));
      if (rc === BigInt(-ENOENT)) return;
      prev = this.mem.read(this.outAddr, this.keySize);
      yield prev;
    }
  }

  /** Each key with its value (as lookup returns it); keys deleted meanwhile are skipped. */
  *entries(): IterableIterator<[Uint8Array, V]> {
    for (const key of this.keys()) {
      const value = this.lookup(key);
      if (value !== undefined) yield [key, value];
    }
  }

  /** Empties a hash map; sets every value of an array to zero. */
  clear(): void {
    mapOperations(this.mem).map_clear(BigInt(this.address));
  }

  private updateReason(errno: number, key: MapBytes, flags: number): string {
    switch (errno) {
      case EEXIST: return isArrayType(this.typeId) ? 'an array element always exists' : 'key exists';
      case ENOENT: return 'no such key';
      case E2BIG: return isArrayType(this.typeId)
        ? `index ${toBigInt(toBytes(key, 4, 'key'))} is out of range (maxEntries ${this.maxEntries})`
        : `map is full (maxEntries ${this.maxEntries})`;
      default: return `invalid flags ${flags}`;
    }
  }

  private fail(op: string, errno: number, reason: string): MapError {
    const name = ERRNO_NAME[errno] ?? `errno ${errno}`;
    return new MapError(name, `${this.label}: ${op}: ${reason} (${name})`);
  }
}

/** The kernel's ENOTSUPP (524): what a ring buffer answers to lookup, update, delete and next key. */
const ENOTSUPP = 'ENOTSUPP';

/**
 * A ring buffer (BPF_MAP_TYPE_RINGBUF, maxEntries = its size in bytes): programs reserve, submit,
 * discard and output records (the helpers 130-134, ringbuf-helpers.ts); the host consumes them in
 * order with consume() or `for await (const record of ringbuf)` (ringbuf.ts). Records are copies.
 * It has no keys: lookup, update, delete, keys and clear fail with ENOTSUPP, as in the kernel.
 */
export class RingBuf extends BpfMap<never> {
  private readonly ring: RingView;

  constructor(mem: EngineMemory, spec: ValidSpec) {
    super(mem, spec);
    this.ring = { mem, header: this.address, data: this.valueRegion.start, size: spec.maxEntries };
  }

  /**
   * Calls `callback` with each committed record, in order, and frees them; discarded records are
   * skipped, and a record still reserved (not yet submitted or discarded) stops it, as everything
   * after it waits for it. Returns the number of records handed over; a callback returning false
   * stops after its record.
   */
  consume(callback: RecordCallback): number {
    return consumeRecords(this.ring, callback);
  }

  /** Every record as it is committed, polling while the buffer is empty (PollOptions); see consume. */
  records(options?: PollOptions): AsyncGenerator<Uint8Array, void, undefined> {
    return pollRecords(this.ring, options);
  }

  [Symbol.asyncIterator](): AsyncGenerator<Uint8Array, void, undefined> {
    return this.records();
  }

  /** The ring buffer's size in bytes. */
  get size(): number {
    return this.maxEntries;
  }

  /** Bytes between the consumer and the producer position: records not consumed yet, reserved ones too (bpf_ringbuf_query's BPF_RB_AVAIL_DATA). */
  get availableData(): number {
    return this.query(BPF_RB_AVAIL_DATA);
  }

  /** The consumer position: bytes consumed since creation, modulo 2^32. */
  get consumerPosition(): number {
    return this.query(BPF_RB_CONS_POS);
  }

  /** The producer position: bytes reserved since creation, modulo 2^32. */
  get producerPosition(): number {
    return this.query(BPF_RB_PROD_POS);
  }

  private query(flag: number): number {
    return Number(mapOperations(this.mem).ringbuf_query(BigInt(this.address), BigInt(flag)));
  }

  private unsupported(op: string): MapError {
    return new MapError(ENOTSUPP, `${this.label}: ${op}: a ring buffer has no keys (${ENOTSUPP})`);
  }

  override lookup(): undefined {
    throw this.unsupported('lookup');
  }

  override update(): void {
    throw this.unsupported('update');
  }

  override delete(): void {
    throw this.unsupported('delete');
  }

  // eslint-disable-next-line require-yield
  override *keys(): IterableIterator<Uint8Array> {
    throw this.unsupported('keys');
  }

  override clear(): void {
    throw this.unsupported('clear');
  }
}

type SingleMapType = 'hash' | 'array' | 'lru_hash' | 1 | 2 | 9;

/** Creates a map in the engine memory, with the kernel's checks (spec.ts); its storage is reserved now and never grows. */
export function createMap(mem: EngineMemory, spec: MapSpec & { type: PerCpuMapType }): BpfMap<Uint8Array[]>;
export function createMap(mem: EngineMemory, spec: MapSpec & { type: SingleMapType }): BpfMap<Uint8Array>;
export function createMap(mem: EngineMemory, spec: MapSpec & { type: 'ringbuf' | 27 }): RingBuf;
export function createMap(mem: EngineMemory, spec: MapSpec): BpfMap;
export function createMap(mem: EngineMemory, spec: MapSpec): BpfMap {
  const valid = validateSpec(spec);
  return valid.type === BPF_MAP_TYPE.RINGBUF ? new RingBuf(mem, valid) : new BpfMap(mem, valid);
}
