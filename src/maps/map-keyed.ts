/**
 * BpfMap: look up, update, delete and iterate with byte keys and values, as the kernel's syscall
 * commands do (map.ts creates maps). Every operation copies its key and value into a scratch area of
 * the engine memory and calls the WebAssembly operations (ops.ts): the host never walks the storage
 * itself, so it cannot disagree with the programs that share the map (docs/architecture.md section 2,
 * "Maps"). Maps without keys (map-keyless.ts) are BpfMaps too, as every kernel map takes every
 * command: programs and loaders hold any map as a BpfMap.
 */
import { InputError } from '../errors.js';
import type { EngineMemory } from '../runtime/memory.js';
import { BPF_ANY, BPF_EXIST, BPF_MAP_TYPE, isArrayType, isKeylessType, type MapTypeId } from './types.js';
import { E2BIG, EEXIST, EINVAL, ENOENT, ENOSPC } from './errno.js';
import { MapBase, type MapShare } from './map-base.js';
import type { MapOpsExports } from './ops.js';
import type { ValidSpec } from './spec.js';
import { toBigInt, toBytes, type MapBytes } from './values.js';
import { deleteBatch, lookupAndDeleteBatch, lookupBatch, updateBatch, type Batch, type BatchCursor } from './batch.js';

/** The operations one kind of map uses, as (map, key, ...) over addresses; cpu -1: all copies (lookups: map_lookup_copy). */
interface KindOps {
  update(map: bigint, key: bigint, value: bigint, flags: bigint, cpu: bigint): bigint;
  delete(map: bigint, key: bigint): bigint;
  next(map: bigint, key: bigint, out: bigint): bigint;
}

/** A keyless map's subclass answers the keyed commands itself; these only keep a stray call harmless. */
const NO_KEYS: KindOps = { update: () => BigInt(-EINVAL), delete: () => BigInt(-EINVAL), next: () => BigInt(-EINVAL) };

function kindOps(ops: MapOpsExports, type: MapTypeId): KindOps {
  if (isKeylessType(type) || type === BPF_MAP_TYPE.PERF_EVENT_ARRAY) return NO_KEYS;
  if (type === BPF_MAP_TYPE.LPM_TRIE) {
    // One copy of each value: the cpu argument has nothing to pick.
    return {
      update: (map, key, value, flags) => ops.lpm_update(map, key, value, flags),
      delete: ops.lpm_delete,
      next: ops.lpm_next_key,
    };
  }
  return isArrayType(type)
    ? { update: ops.percpu_array_update, delete: ops.array_delete, next: ops.array_next_key }
    : { update: ops.percpu_hash_update, delete: ops.hash_delete, next: ops.hash_next_key };
}

export type MapValues = Uint8Array | Uint8Array[];

/** A map with keys: hash maps and arrays of every kind and LPM tries, used as the kernel's syscall uses them. */
export class BpfMap<V extends MapValues = MapValues> extends MapBase {
  private readonly ops: KindOps;

  /** Use createMap, which checks the spec. */
  constructor(mem: EngineMemory, spec: ValidSpec, attached?: MapShare) {
    super(mem, spec, attached);
    this.ops = kindOps(this.wasm, spec.type);
  }

  /**
   * The address of byte `off` of the value, for `lddw rX, map_value_by_idx(N, off)`: as in the kernel
   * (array_map_direct_value_addr), only an array of one entry has one; undefined otherwise.
   */
  directValue(off: number): number | undefined {
    if (this.typeId !== BPF_MAP_TYPE.ARRAY || this.maxEntries !== 1 || !Number.isInteger(off) || off < 0 || off >= this.valueSize) return undefined;
    return this.layout.data + off;
  }

  private putKey(key: MapBytes): bigint {
    this.mem.write(this.keyAddr, toBytes(key, this.keySize, `${this.label}: key`));
    return BigInt(this.keyAddr);
  }

  /**
   * The value of `key` (a copy), one per CPU for a per-CPU map; undefined when the key is absent. As
   * the kernel's syscall, a host lookup does not count as a use of an LRU map's key, and the bytes
   * of a bpf_spin_lock in the value read as 0 (an update leaves them alone).
   */
  lookup(key: MapBytes): V | undefined {
    const k = this.putKey(key);
    // Copied out under the map's lock (map_lookup_copy): another thread's update is never half seen.
    const copy = (cpu: number): Uint8Array | undefined =>
      this.wasm.map_lookup_copy(BigInt(this.address), k, BigInt(cpu), BigInt(this.valueAddr)) === 0n
        ? this.mem.read(this.valueAddr, this.valueSize) : undefined;
    if (!this.perCpu) {
      const value = copy(0);
      // As the kernel's syscall copy: a bpf_spin_lock reads as 0, whoever holds it.
      if (value && this.spinLockOffset !== undefined) value.fill(0, this.spinLockOffset, this.spinLockOffset + 4);
      return value as V | undefined;
    }
    const values: Uint8Array[] = [];
    for (let cpu = 0; cpu < this.layout.copies; cpu++) {
      const value = copy(cpu);
      if (value === undefined) return undefined;
      values.push(value);
    }
    return values as V;
  }

  /**
   * The sum of a per-CPU map's copies of a 4- or 8-byte unsigned counter (each CPU counting in its
   * own copy, as per-CPU maps are for); undefined when the key is absent.
   */
  sum(key: MapBytes): bigint | undefined {
    if (!this.perCpu || (this.valueSize !== 4 && this.valueSize !== 8)) {
      throw new InputError(`${this.label}: sum needs a per-CPU map of 4- or 8-byte values, not ${this.valueSize}-byte values`);
    }
    const copies = this.lookup(key) as Uint8Array[] | undefined;
    return copies?.reduce((total, v) => total + toBigInt(v), 0n);
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
    this.checkWritable('update');
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
    this.checkWritable('delete');
    const rc = this.ops.delete(BigInt(this.address), this.putKey(key));
    if (rc === 0n) return;
    const errno = -Number(rc);
    const reason = errno !== EINVAL ? 'no such key' : isArrayType(this.typeId) ? 'array elements cannot be deleted' : this.prefixReason(key);
    throw this.fail('delete', errno, reason);
  }

  /**
   * The keys, in the map's order. Deleting the current key while iterating is safe: the next step
   * then starts over from the first key, as the kernel's get_next_key does.
   */
  *keys(): IterableIterator<Uint8Array> {
    let prev: Uint8Array | undefined;
    while ((prev = this.nextKey(prev)) !== undefined) yield prev;
  }

  /**
   * The key after `key` in the map's order, or the first without one (a key not in the map also
   * gives the first, as the kernel's BPF_MAP_GET_NEXT_KEY); undefined after the last.
   */
  nextKey(key?: MapBytes): Uint8Array | undefined {
    const rc = this.ops.next(BigInt(this.address), key === undefined ? 0n : this.putKey(key), BigInt(this.outAddr));
    if (rc === BigInt(-ENOENT)) return undefined;
    if (rc !== 0n) throw this.fail('next key', -Number(rc), 'the map has no keys');
    return this.mem.read(this.outAddr, this.keySize);
  }

  /** Up to `count` entries after the cursor (from the first without one): BPF_MAP_LOOKUP_BATCH (batch.ts). */
  lookupBatch(count: number, cursor?: BatchCursor): Batch<V> {
    return lookupBatch(this, count, cursor);
  }

  /** lookupBatch, deleting the entries it returns: BPF_MAP_LOOKUP_AND_DELETE_BATCH (not for arrays). */
  lookupAndDeleteBatch(count: number, cursor?: BatchCursor): Batch<V> {
    this.checkWritable('lookupAndDeleteBatch');
    return lookupAndDeleteBatch(this, count, cursor);
  }

  /** update of each key with its value, in order; returns how many (BPF_MAP_UPDATE_BATCH). */
  updateBatch(keys: readonly MapBytes[], values: readonly (MapBytes | readonly MapBytes[])[], flags: number = BPF_ANY): number {
    return updateBatch(this, keys, values, flags);
  }

  /** delete of each key, in order; returns how many (BPF_MAP_DELETE_BATCH). */
  deleteBatch(keys: readonly MapBytes[]): number {
    return deleteBatch(this, keys);
  }

  /** Each key with its value (as lookup returns it); keys deleted meanwhile are skipped. */
  *entries(): IterableIterator<[Uint8Array, V]> {
    for (const key of this.keys()) {
      const value = this.lookup(key);
      if (value !== undefined) yield [key, value];
    }
  }

  private updateReason(errno: number, key: MapBytes, flags: number): string {
    switch (errno) {
      case EEXIST: return isArrayType(this.typeId) ? 'an array element always exists' : 'key exists';
      case ENOENT: return 'no such key';
      case E2BIG: return isArrayType(this.typeId)
        ? `index ${toBigInt(toBytes(key, 4, 'key'))} is out of range (maxEntries ${this.maxEntries})`
        : `map is full (maxEntries ${this.maxEntries})`;
      case ENOSPC: return `trie is full (maxEntries ${this.maxEntries})`;
      default: return flags > BPF_EXIST || this.typeId !== BPF_MAP_TYPE.LPM_TRIE ? `invalid flags ${flags}` : this.prefixReason(key);
    }
  }

  /** Why an LPM trie refused a key with EINVAL: its prefix length is longer than its data. */
  private prefixReason(key: MapBytes): string {
    const bytes = toBytes(key, this.keySize, 'key');
    const prefixLen = new DataView(bytes.buffer, bytes.byteOffset).getUint32(0, true);
    return `prefix length ${prefixLen} is more than the key's ${(this.keySize - 4) * 8} bits of data`;
  }
}
