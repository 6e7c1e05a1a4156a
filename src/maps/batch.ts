/**
 * Batch commands on a map from the host, as the kernel's BPF_MAP_LOOKUP_BATCH,
 * BPF_MAP_LOOKUP_AND_DELETE_BATCH, BPF_MAP_UPDATE_BATCH and BPF_MAP_DELETE_BATCH (and cilium/ebpf's
 * BatchLookup & co): up to `count` entries per call, and a cursor to go on from. The cursor is the
 * last key a batch returned: the next batch starts after it, in the map's key order (next_key). A
 * cursor whose key was deleted meanwhile starts over from the first key, as get_next_key does; for
 * lookupAndDeleteBatch that is exactly right, since every key before it is gone.
 */
import { InputError, MapError } from '../errors.js';
import type { BpfMap, MapValues } from './map-keyed.js';
import type { MapBytes } from './values.js';

/** Where a batch ended; pass it to the next call. */
export interface BatchCursor {
  readonly after: Uint8Array;
}

export interface Batch<V> {
  readonly keys: Uint8Array[];
  /** values[i] is keys[i]'s value, as lookup returns it (one per CPU for a per-CPU map). */
  readonly values: V[];
  /** undefined when the map has no key after the batch (the kernel's ENOENT): the iteration is over. */
  readonly cursor: BatchCursor | undefined;
}

function checkCount(map: BpfMap, count: number, op: string): void {
  if (!Number.isInteger(count) || count < 1) throw new InputError(`${map.label}: ${op}: count ${count} must be a positive integer`);
}

export function lookupBatch<V extends MapValues>(map: BpfMap<V>, count: number, cursor?: BatchCursor): Batch<V> {
  checkCount(map, count, 'lookupBatch');
  const keys: Uint8Array[] = [];
  const values: V[] = [];
  let prev = cursor?.after;
  while (keys.length < count) {
    const key = map.nextKey(prev);
    if (!key) return { keys, values, cursor: undefined };
    prev = key;
    const value = map.lookup(key);
    if (value === undefined) continue; // deleted between next_key and lookup
    keys.push(key);
    values.push(value);
  }
  return { keys, values, cursor: { after: prev! } };
}

export function lookupAndDeleteBatch<V extends MapValues>(map: BpfMap<V>, count: number, cursor?: BatchCursor): Batch<V> {
  checkCount(map, count, 'lookupAndDeleteBatch');
  // As the kernel, whose arrays have no lookup_and_delete_batch: their elements cannot be deleted.
  if (map.type === 'array' || map.type === 'percpu_array') throw new MapError('ENOTSUPP', `${map.label}: lookupAndDeleteBatch: array elements cannot be deleted (ENOTSUPP)`);
  const batch = lookupBatch(map, count, cursor);
  for (const key of batch.keys) map.delete(key);
  return batch;
}

/** Runs `op` on each entry in order; an error names how many entries were done before it. */
function each<T>(map: BpfMap, op: string, items: readonly T[], fn: (item: T) => void): number {
  items.forEach((item, i) => {
    try {
      fn(item);
    } catch (e) {
      if (!(e instanceof MapError)) throw e;
      throw new MapError(e.errno, `${e.message}; ${op} stopped after ${i} of ${items.length} entries`);
    }
  });
  return items.length;
}

export function updateBatch(map: BpfMap, keys: readonly MapBytes[], values: readonly (MapBytes | readonly MapBytes[])[], flags: number): number {
  if (keys.length !== values.length) throw new InputError(`${map.label}: updateBatch: ${keys.length} keys but ${values.length} values`);
  return each(map, 'updateBatch', keys.map((k, i) => [k, values[i]!] as const), ([k, v]) => map.update(k, v, flags));
}

export function deleteBatch(map: BpfMap, keys: readonly MapBytes[]): number {
  return each(map, 'deleteBatch', keys, (k) => map.delete(k));
}
