/**
 * The map operations of generated programs (map-gen.ts) beyond lookup, update and delete:
 * map_push_elem 87, map_pop_elem 88 and map_peek_elem 89 on a queue, a stack and a bloom filter;
 * the ring buffer helpers, bpf_ringbuf_reserve 131 (with stores and loads in the record, then
 * bpf_ringbuf_submit 132 or bpf_ringbuf_discard 133), bpf_ringbuf_output 130 and
 * bpf_ringbuf_query 134; and loads, stores and atomic adds in global data (an array of one entry)
 * through `lddw map_value_by_idx`. Unverifiable programs may also skip a record's null check or
 * leak it (never submit nor discard), and name a map of a type the helper does not take. A record
 * may be held (in r8) across the ops after it and submitted or discarded at the end.
 */
import fc from 'fast-check';
import {
  BLOOM_MAP, GLOBAL_MAP, MAP_DEFS, QUEUE_MAPS, RING_MAP, VALUE_AT, VALUE_BYTES, access, accessesLines, fold, mapOf, valueLines, weighted, type Access,
} from './map-common.js';

export type KeylessOp =
  | { readonly op: 'push'; readonly map: number; readonly seed: number; readonly flags: bigint }
  /** The value buffer is written from `seed` first: a bloom filter's peek reads it. */
  | { readonly op: 'pop' | 'peek'; readonly map: number; readonly seed: number }
  | {
    readonly op: 'reserve'; readonly map: number; readonly size: number; readonly flags: bigint; readonly check: boolean;
    readonly accesses: readonly Access[]; readonly end: 'submit' | 'discard' | 'leak'; readonly endFlags: bigint;
    /** Held in r8 across the ops after it, submitted or discarded at the program's end (the first held record only). */
    readonly hold: boolean;
  }
  | { readonly op: 'output'; readonly map: number; readonly size: number; readonly seed: number; readonly flags: bigint }
  | { readonly op: 'query'; readonly map: number; readonly flags: bigint }
  /** r6 = the global value + base, then the accesses. */
  | { readonly op: 'global'; readonly base: number; readonly accesses: readonly Access[] };

/** Record sizes: small ones, the largest that fits the 4096-byte buffer (4088) and too large ones (NULL). */
const recordSize = (): fc.Arbitrary<number> => weighted([8, fc.nat(VALUE_BYTES)], [1, fc.constantFrom(4088, 4089, 5000)]);
/** Wake-up flags (0, BPF_RB_NO_WAKEUP, BPF_RB_FORCE_WAKEUP) and, rarely, unknown ones. */
const ringFlags = (): fc.Arbitrary<bigint> => weighted([8, fc.constantFrom(0n, 1n, 2n)], [1, fc.constantFrom(3n, 4n, 0x100000000n)]);

function ringOp(verifiable: boolean): fc.Arbitrary<KeylessOp> {
  const map = mapOf([RING_MAP], verifiable);
  const ends = verifiable ? fc.constantFrom('submit' as const, 'discard' as const) : weighted([8, fc.constantFrom('submit' as const, 'discard' as const)], [1, fc.constant('leak' as const)]);
  return weighted<KeylessOp>(
    [4, fc.record({
      map, size: recordSize(), flags: weighted([9, fc.constant(0n)], [1, fc.constant(1n)]),
      check: verifiable ? fc.constant(true) : weighted([6, fc.constant(true)], [1, fc.constant(false)]),
      accesses: fc.array(access(['load', 'store']), { maxLength: 3 }), end: ends, endFlags: ringFlags(),
      hold: weighted([3, fc.constant(false)], [1, fc.constant(true)]),
    }).map((f) => ({ op: 'reserve', ...f }))],
    [2, fc.record({ map, size: verifiable ? fc.nat(VALUE_BYTES) : weighted([6, fc.nat(VALUE_BYTES)], [1, fc.constantFrom(4089, 5000)]), seed: fc.nat(255), flags: ringFlags() }).map((f) => ({ op: 'output', ...f }))],
    [1, fc.record({ map, flags: weighted([4, fc.nat(3).map(BigInt)], [1, fc.constant(4n)]) }).map((f) => ({ op: 'query', ...f }))],
  );
}

export function keylessOp(verifiable: boolean): fc.Arbitrary<KeylessOp> {
  const pushable = mapOf([...QUEUE_MAPS, BLOOM_MAP], verifiable);
  return weighted<KeylessOp>(
    [3, fc.record({ map: pushable, seed: fc.nat(255), flags: weighted([6, fc.constantFrom(0n, 2n)], [1, fc.constantFrom(1n, 4n)]) }).map((f) => ({ op: 'push', ...f }))],
    [2, fc.record({ map: mapOf(QUEUE_MAPS, verifiable), seed: fc.nat(255) }).map((f) => ({ op: 'pop', ...f }))],
    [2, fc.record({ map: pushable, seed: fc.nat(255) }).map((f) => ({ op: 'peek', ...f }))],
    [4, ringOp(verifiable)],
    [2, fc.record({ base: fc.constantFrom(0, 4, 8), accesses: fc.array(access(), { minLength: 1, maxLength: 3 }) }).map((f) => ({ op: 'global', ...f }))],
  );
}

/** The value size a push, pop or peek names: the map's (at least 4: a map of the wrong type may have none). */
const valueSize = (map: number): number => Math.max(4, MAP_DEFS[map]!.valueSize);
const imm64 = (reg: string, v: bigint): string => (v > 0x7fffffffn ? `lddw %${reg}, 0x${v.toString(16)}` : `mov %${reg}, ${v}`);
const valuePtr = ['mov %r2, %r10', `add %r2, ${VALUE_AT}`];
/** r7 folds the value words left in the buffer (what pop and peek wrote, or the seed's when they failed). */
const foldValue = (map: number): string[] => Array.from({ length: valueSize(map) / 4 }, (_, j) => [`ldxw %r3, [%r10${VALUE_AT + 4 * j}]`, ...fold('r3')]).flat();

type Reserve = Extract<KeylessOp, { op: 'reserve' }>;

/** What lowering a program carries from op to op: the record held in r8, if any. */
export interface LowerState {
  held?: Reserve;
}

const endLines = (op: Reserve, reg: string): string[] =>
  (op.end === 'leak' ? [] : [`mov %r1, %${reg}`, imm64('r2', op.endFlags), `call ${op.end === 'submit' ? 132 : 133}`]);

/**
 * Reserve, null check, accesses through r6, and submit or discard; a held record stays in r8 (and
 * r6 for the accesses) until heldEndLines, so the helper calls between see a record still BUSY.
 */
function reserveLines(op: Reserve, i: number, verifiable: boolean, state: LowerState): string[] {
  const hold = op.hold && state.held === undefined;
  if (hold) state.held = op;
  const out = [`lddw %r1, map_by_idx(${op.map})`, `mov %r2, ${op.size}`, imm64('r3', op.flags), 'call 131', 'mov %r6, %r0', 'mul %r7, 3'];
  if (hold) out.push('mov %r8, %r0');
  if (op.check) out.push(`jeq %r6, 0, skip${i}`);
  out.push('add %r7, 1', ...accessesLines(op.accesses, op.size, verifiable));
  if (!hold) out.push(...endLines(op, 'r6'));
  if (op.check) out.push(`skip${i}:`);
  return out;
}

/** The end of the held record, if any: checked for NULL again (unless its reserve was not), then submitted or discarded. */
export function heldEndLines(state: LowerState): string[] {
  const op = state.held;
  if (!op) return [];
  return op.check ? ['jeq %r8, 0, held_end', ...endLines(op, 'r8'), 'held_end:'] : endLines(op, 'r8');
}

export function keylessLines(op: KeylessOp, i: number, verifiable: boolean, state: LowerState): string[] {
  switch (op.op) {
    case 'push':
      return [...valueLines(op.seed, valueSize(op.map)), `lddw %r1, map_by_idx(${op.map})`, ...valuePtr, imm64('r3', op.flags), 'call 87', ...fold('r0')];
    case 'pop': case 'peek':
      return [...valueLines(op.seed, valueSize(op.map)), `lddw %r1, map_by_idx(${op.map})`, ...valuePtr, `call ${op.op === 'pop' ? 88 : 89}`, ...fold('r0'), ...foldValue(op.map)];
    case 'reserve':
      return reserveLines(op, i, verifiable, state);
    case 'output':
      return [...valueLines(op.seed, VALUE_BYTES), `lddw %r1, map_by_idx(${op.map})`, ...valuePtr, `mov %r3, ${op.size}`, imm64('r4', op.flags), 'call 130', ...fold('r0')];
    case 'query':
      return [`lddw %r1, map_by_idx(${op.map})`, imm64('r2', op.flags), 'call 134', ...fold('r0')];
    case 'global':
      return [`lddw %r6, map_value_by_idx(${GLOBAL_MAP}, ${op.base})`, ...accessesLines(op.accesses, MAP_DEFS[GLOBAL_MAP]!.valueSize, verifiable, op.base)];
  }
}
