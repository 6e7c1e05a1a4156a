/**
 * The host API of the maps without keys: queues and stacks (push, pop, peek) and bloom filters (push,
 * has). Values are copied in and out through the scratch area; the WebAssembly operations
 * (ops-queue.ts, ops-bloom.ts) do the work. They are BpfMaps, as every kernel map takes every syscall
 * command, and answer the keyed ones as the kernel does: a queue's or stack's lookup is peek and its
 * update push, with the empty key; delete and iteration are EINVAL (queue_stack_maps.c). A bloom
 * filter's update is push; lookup, delete and iteration are refused (bloom_filter.c: EINVAL for
 * lookup, EOPNOTSUPP for the others), its query being has(value).
 */
import { BPF_ANY } from './types.js';
import { E2BIG, EINVAL, ENOENT, EOPNOTSUPP } from './errno.js';
import { BpfMap } from './map-keyed.js';
import { toBytes, type MapBytes } from './values.js';

/** A queue (first in, first out) or a stack (last in, first out) of maxEntries values at most. */
export class BpfQueue extends BpfMap<Uint8Array> {
  /**
   * Adds a value; flags BPF_ANY (0): a full map refuses it (E2BIG), BPF_EXIST (2): a full map drops
   * its oldest value to make room, as the kernel does.
   */
  push(value: MapBytes, flags: number = BPF_ANY): void {
    this.checkWritable('push');
    // Flags the wasm's u32 would not hold as given; the rest the operation judges itself.
    if (!Number.isInteger(flags) || flags < 0 || flags > 0xffffffff) throw this.fail('push', EINVAL, `invalid flags ${flags}`);
    this.mem.write(this.valueAddr, toBytes(value, this.valueSize, `${this.label}: value`));
    const rc = -Number(this.wasm.queue_push(BigInt(this.address), BigInt(this.valueAddr), BigInt(flags)));
    if (rc !== 0) throw this.fail('push', rc, rc === E2BIG ? `map is full (maxEntries ${this.maxEntries}); BPF_EXIST would drop the oldest` : `invalid flags ${flags}`);
  }

  /** Takes the next value out (a queue's oldest, a stack's newest); undefined when empty. */
  pop(): Uint8Array | undefined {
    this.checkWritable('pop');
    return this.get(this.wasm.queue_pop);
  }

  /** The value pop would take, left in place; undefined when empty. */
  peek(): Uint8Array | undefined {
    return this.get(this.wasm.queue_peek);
  }

  override lookup(key: MapBytes): Uint8Array | undefined {
    toBytes(key, 0, `${this.label}: key`);
    return this.peek();
  }

  override update(key: MapBytes, value: MapBytes | readonly MapBytes[], flags: number = BPF_ANY): void {
    toBytes(key, 0, `${this.label}: key`);
    if (Array.isArray(value)) throw this.fail('update', EINVAL, 'takes one value');
    this.push(value as MapBytes, flags);
  }

  override delete(_key?: MapBytes): void {
    throw this.fail('delete', EINVAL, `a ${this.type} has no keys: use pop`);
  }

  override keys(): IterableIterator<Uint8Array> {
    throw this.fail('keys', EINVAL, `a ${this.type} has no keys: use pop or peek`);
  }

  private get(op: (map: bigint, out: bigint) => bigint): Uint8Array | undefined {
    const rc = op(BigInt(this.address), BigInt(this.valueAddr));
    if (rc === BigInt(-ENOENT)) return undefined;
    return this.mem.read(this.valueAddr, this.valueSize);
  }
}

/** A bloom filter: has(value) is false only for values never pushed; true may be a false positive. */
export class BpfBloomFilter extends BpfMap<Uint8Array> {
  push(value: MapBytes): void {
    this.checkWritable('push');
    this.mem.write(this.valueAddr, toBytes(value, this.valueSize, `${this.label}: value`));
    this.wasm.bloom_push(BigInt(this.address), BigInt(this.valueAddr), BigInt(BPF_ANY));
  }

  has(value: MapBytes): boolean {
    this.mem.write(this.valueAddr, toBytes(value, this.valueSize, `${this.label}: value`));
    return this.wasm.bloom_peek(BigInt(this.address), BigInt(this.valueAddr)) === 0n;
  }

  override lookup(_key?: MapBytes): Uint8Array | undefined {
    throw this.fail('lookup', EINVAL, 'a bloom filter has no keys: use has(value)');
  }

  override update(key: MapBytes, value: MapBytes | readonly MapBytes[], flags: number = BPF_ANY): void {
    toBytes(key, 0, `${this.label}: key`);
    if (flags !== BPF_ANY || Array.isArray(value)) throw this.fail('update', EINVAL, flags !== BPF_ANY ? `invalid flags ${flags}` : 'takes one value');
    this.push(value as MapBytes);
  }

  override delete(_key?: MapBytes): void {
    throw this.fail('delete', EOPNOTSUPP, 'a bloom filter cannot forget a value');
  }

  override keys(): IterableIterator<Uint8Array> {
    throw this.fail('keys', EOPNOTSUPP, 'a bloom filter has no keys');
  }
}
