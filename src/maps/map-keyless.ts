/**
 * The host API of the maps without keys, as libbpf's bpf_map_update_elem / lookup_elem /
 * lookup_and_delete_elem with a NULL key reach them: queues and stacks (push, pop, peek) and bloom
 * filters (push, has). Values are copied in and out through the scratch area; the WebAssembly
 * operations (ops-queue.ts, ops-bloom.ts) do the work. The kernel's other commands on them have no
 * method here: delete and get_next_key answer EINVAL for a queue or stack and EOPNOTSUPP for a bloom
 * filter, and lookup_and_delete on a bloom filter ENOTSUPP.
 */
import { BPF_ANY } from './types.js';
import { E2BIG, EINVAL, ENOENT } from './errno.js';
import { MapBase } from './map-base.js';
import { toBytes, type MapBytes } from './values.js';

/** A queue (first in, first out) or a stack (last in, first out) of maxEntries values at most. */
export class BpfQueue extends MapBase {
  /**
   * Adds a value; flags BPF_ANY (0): a full map refuses it (E2BIG), BPF_EXIST (2): a full map drops
   * its oldest value to make room, as the kernel does.
   */
  push(value: MapBytes, flags: number = BPF_ANY): void {
    // Flags the wasm's u32 would not hold as given; the rest the operation judges itself.
    if (!Number.isInteger(flags) || flags < 0 || flags > 0xffffffff) throw this.fail('push', EINVAL, `invalid flags ${flags}`);
    this.mem.write(this.valueAddr, toBytes(value, this.valueSize, `${this.label}: value`));
    const rc = -Number(this.wasm.queue_push(BigInt(this.address), BigInt(this.valueAddr), BigInt(flags)));
    if (rc !== 0) throw this.fail('push', rc, rc === E2BIG ? `map is full (maxEntries ${this.maxEntries}); BPF_EXIST would drop the oldest` : `invalid flags ${flags}`);
  }

  /** Takes the next value out (a queue's oldest, a stack's newest); undefined when empty. */
  pop(): Uint8Array | undefined {
    return this.get(this.wasm.queue_pop);
  }

  /** The value pop would take, left in place; undefined when empty. */
  peek(): Uint8Array | undefined {
    return this.get(this.wasm.queue_peek);
  }

  private get(op: (map: bigint, out: bigint) => bigint): Uint8Array | undefined {
    const rc = op(BigInt(this.address), BigInt(this.valueAddr));
    if (rc === BigInt(-ENOENT)) return undefined;
    return this.mem.read(this.valueAddr, this.valueSize);
  }
}

/** A bloom filter: has(value) is false only for values never pushed; true may be a false positive. */
export class BpfBloomFilter extends MapBase {
  push(value: MapBytes): void {
    this.mem.write(this.valueAddr, toBytes(value, this.valueSize, `${this.label}: value`));
    this.wasm.bloom_push(BigInt(this.address), BigInt(this.valueAddr), BigInt(BPF_ANY));
  }

  has(value: MapBytes): boolean {
    this.mem.write(this.valueAddr, toBytes(value, this.valueSize, `${this.label}: value`));
    return this.wasm.bloom_peek(BigInt(this.address), BigInt(this.valueAddr)) === 0n;
  }
}

