/**
 * Programs that call the kernel's map helpers on a fixed set of small maps of each kind (MAP_DEFS in
 * map-common.ts: small maxEntries, so full hashes, LRU eviction, full queues and out-of-range array
 * indexes happen): lookup 1, update 2 and delete 3 on keyed maps and the LPM trie, with keys built on
 * the stack from immediates or context bytes, valid and invalid update flags, and reads, writes and
 * atomic adds at generated offsets of looked-up values; and (map-gen-keyless.ts) push, pop and peek
 * on queues, stacks and a bloom filter, ring buffer records and global data; and (map-gen-callbacks.ts)
 * bpf_loop and for_each_map_elem callbacks, perf_event_output, spin locks and tail calls into the
 * spec's tail programs (up to two, in the prog_array's slots). Verifiable specs keep to
 * what the verifier accepts (null checks, offsets inside the value, initialized keys, records
 * submitted or discarded); the others may skip the null check, reach outside the value, pass a bad
 * key pointer, name a map of the wrong type or leak a record (checked mode must fault alike).
 * map-run.ts runs them.
 */
import fc from 'fast-check';
import {
  KEYED_MAPS, KEY_AT, LPM_MAP, MAP_DEFS, INPUT_BYTES, VALUE_AT, access, accessesLines, at, fold, mapOf, valueLines, weighted, type Access,
} from './map-common.js';
import { callbackLines, callbackOp, type CallbackOp } from './map-gen-callbacks.js';
import { heldEndLines, keylessOp, keylessLines, type KeylessOp, type LowerState } from './map-gen-keyless.js';

export { INPUT_BYTES, MAP_DEFS, valueWords } from './map-common.js';

/** A key: an immediate, or a context byte (folded into the input). */
export type Key = { readonly src: 'imm'; readonly v: number } | { readonly src: 'ctx'; readonly at: number };
/** What the key pointer r2 is: the stack key, or (checked runs only) null or the frame pointer itself. */
export type KeyPtr = 'stack' | 'null' | 'fp';

/** `plen` is the prefix length of an LPM trie's key, unused for other maps. */
export type KeyedOp =
  | { readonly op: 'lookup'; readonly map: number; readonly key: Key; readonly plen: number; readonly ptr: KeyPtr; readonly check: boolean; readonly accesses: readonly Access[] }
  | { readonly op: 'update'; readonly map: number; readonly key: Key; readonly plen: number; readonly ptr: KeyPtr; readonly seed: number; readonly flags: bigint }
  | { readonly op: 'delete'; readonly map: number; readonly key: Key; readonly plen: number; readonly ptr: KeyPtr };

export type MapOp = KeyedOp | KeylessOp | CallbackOp;

export interface MapProgramSpec {
  readonly input: Uint8Array;
  readonly cpu: 0 | 1;
  readonly verifiable: boolean;
  /**
   * Host updates (pushes, for queues, stacks and the bloom filter) before the run, in order; failed
   * ones (out of range, full) are skipped. `plen` is an LPM key's prefix length.
   */
  readonly prefill: ReadonlyArray<{ readonly map: number; readonly key: number; readonly plen: number; readonly seed: number }>;
  readonly ops: readonly MapOp[];
  /** Programs (their ops) in the prog_array's slots, lowered as the main one is. */
  readonly tails: ReadonlyArray<readonly MapOp[]>;
}

/** Mostly small keys: present, absent, or just past an array's end. */
const keyNumber = (): fc.Arbitrary<number> => weighted([8, fc.nat(6)], [1, fc.integer({ min: -1, max: 0x7fffffff })]);
/** Prefix lengths: mostly short (so prefixes of the small keys overlap), now and then past 32 (EINVAL). */
const prefixLen = (): fc.Arbitrary<number> => weighted([6, fc.nat(10)], [3, fc.integer({ min: 11, max: 32 })], [1, fc.integer({ min: 33, max: 40 })]);

const key = (): fc.Arbitrary<Key> => weighted<Key>(
  [3, keyNumber().map((v) => ({ src: 'imm', v }))],
  [1, fc.nat(INPUT_BYTES - 1).map((at) => ({ src: 'ctx', at }))],
);

/** Flags: BPF_ANY, BPF_NOEXIST, BPF_EXIST, and invalid ones (also beyond 32 bits). */
const flags = (): fc.Arbitrary<bigint> => weighted(
  [9, fc.constantFrom(0n, 1n, 2n)],
  [1, fc.constantFrom(3n, 4n, 0x100000000n, 0xffffffffffffffffn)],
);

function keyedOp(verifiable: boolean): fc.Arbitrary<KeyedOp> {
  const ptr: fc.Arbitrary<KeyPtr> = verifiable ? fc.constant('stack') : weighted([12, fc.constant('stack' as const)], [1, fc.constantFrom('null' as const, 'fp' as const)]);
  const check = verifiable ? fc.constant(true) : weighted([6, fc.constant(true)], [1, fc.constant(false)]);
  const map = mapOf(KEYED_MAPS, verifiable);
  const plen = prefixLen();
  return weighted<KeyedOp>(
    [4, fc.record({ map, key: key(), plen, ptr, check, accesses: fc.array(access(), { maxLength: 3 }) }).map((f) => ({ op: 'lookup', ...f }))],
    [4, fc.record({ map, key: key(), plen, ptr, seed: fc.nat(255), flags: flags() }).map((f) => ({ op: 'update', ...f }))],
    [2, fc.record({ map, key: key(), plen, ptr }).map((f) => ({ op: 'delete', ...f }))],
  );
}

const mapOp = (verifiable: boolean): fc.Arbitrary<MapOp> => weighted<MapOp>([3, keyedOp(verifiable)], [2, keylessOp(verifiable)], [2, callbackOp(verifiable)]);

export function mapProgramSpec(): fc.Arbitrary<MapProgramSpec> {
  return fc.boolean().chain((verifiable) => fc.record({
    input: fc.uint8Array({ minLength: INPUT_BYTES, maxLength: INPUT_BYTES, max: 7 }),
    cpu: weighted([2, fc.constant(0 as const)], [1, fc.constant(1 as const)]),
    verifiable: fc.constant(verifiable),
    prefill: fc.array(fc.record({ map: fc.nat(MAP_DEFS.length - 1), key: keyNumber(), plen: prefixLen(), seed: fc.nat(255) }), { maxLength: 10 }),
    ops: fc.array(mapOp(verifiable), { minLength: 1, maxLength: 8 }),
    tails: weighted<MapOp[][]>([1, fc.constant([])], [2, fc.array(fc.array(mapOp(verifiable), { minLength: 1, maxLength: 4 }), { minLength: 1, maxLength: 2 })]),
  }));
}

/** Writes the key at r10-16 and points r2 at it (or at what `ptr` says); an LPM key is { plen, the key as data }. */
function keyLines(k: Key, map: number, plen: number, ptr: KeyPtr): string[] {
  const out: string[] = [];
  const keySize = MAP_DEFS[map]!.keySize;
  const lpm = map === LPM_MAP;
  const keyAt = lpm ? KEY_AT + 4 : KEY_AT;
  const whole = keySize === 8 && !lpm ? 'dw' : 'w';
  if (lpm) out.push(`stw ${at('r10', KEY_AT)}, ${plen}`);
  if (k.src === 'imm') out.push(`st${whole} ${at('r10', keyAt)}, ${k.v}`);
  else out.push(`ldxb %r2, ${at('r9', k.at)}`, `stx${whole} ${at('r10', keyAt)}, %r2`);
  if (keySize === 6) out.push(`sth ${at('r10', KEY_AT + 4)}, 0`);
  // A keyless map (named only by unverifiable programs) reads no key: still a pointer to the stack.
  if (ptr === 'stack') out.push('mov %r2, %r10', `add %r2, ${KEY_AT}`);
  else out.push(ptr === 'null' ? 'mov %r2, 0' : 'mov %r2, %r10');
  return out;
}

function keyedLines(op: KeyedOp, i: number, verifiable: boolean): string[] {
  const def = MAP_DEFS[op.map]!;
  const out = [...keyLines(op.key, op.map, op.plen, op.ptr), `lddw %r1, map_by_idx(${op.map})`];
  if (op.op === 'lookup') {
    out.push('call 1', 'mov %r6, %r0', 'mul %r7, 3');
    if (op.check) out.push(`jeq %r6, 0, skip${i}`);
    out.push('add %r7, 1', ...accessesLines(op.accesses, def.valueSize, verifiable));
    if (op.check) out.push(`skip${i}:`);
    return out;
  }
  if (op.op === 'update') {
    // The value on the stack, as big as any map's (a keyless map's 0-byte value reads none).
    out.push(...valueLines(op.seed, Math.max(def.valueSize, 4)), 'mov %r3, %r10', `add %r3, ${VALUE_AT}`);
    out.push(op.flags > 0x7fffffffn ? `lddw %r4, 0x${op.flags.toString(16)}` : `mov %r4, ${op.flags}`, 'call 2');
  } else {
    out.push('call 3');
  }
  return [...out, ...fold('r0')];
}

const CALLBACK_OPS: ReadonlySet<string> = new Set<CallbackOp['op']>(['loop', 'for_each', 'perf', 'spin', 'tail']);
const isCallbackOp = (op: MapOp): op is CallbackOp => CALLBACK_OPS.has(op.op);

/** The program of `ops` (the spec's main one, or a tail program) as uBPF assembly text. */
export function lowerMapProgram(ops: readonly MapOp[], verifiable: boolean): string {
  const out = ['mov %r9, %r1', 'mov %r7, 0'];
  const state: LowerState = {};
  const subprogs: string[] = [];
  ops.forEach((op, i) => {
    // The kernel refuses a tail call while a ring buffer record is held (it would leak).
    if (op.op === 'tail' && verifiable && state.held) return;
    if (isCallbackOp(op)) out.push(...callbackLines(op, i, verifiable, subprogs));
    else out.push(...('key' in op ? keyedLines(op, i, verifiable) : keylessLines(op, i, verifiable, state)));
  });
  out.push(...heldEndLines(state), 'mov %r0, %r7', 'exit', ...subprogs);
  return out.join('\n');
}
