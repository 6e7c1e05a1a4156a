/**
 * Programs that call the kernel's map helpers (lookup 1, update 2, delete 3) on a fixed set of small
 * maps of each kind (MAP_DEFS: small maxEntries, so full hashes, LRU eviction and out-of-range array
 * indexes happen), with keys built on the stack from immediates or context bytes, valid and invalid
 * update flags, and reads, writes and atomic adds at generated offsets of looked-up values. Verifiable
 * specs keep to what the verifier accepts (null checks, offsets inside the value, initialized keys);
 * the others may skip the null check, reach outside the value or pass a bad key pointer (checked
 * mode must fault alike). map-run.ts runs them.
 *
 * Registers: r9 keeps the context, r7 folds every result, r6 holds the looked-up value.
 */
import fc from 'fast-check';
import { BPF_F } from '../src/maps/types.js';
import type { MapSpec } from '../src/maps/spec.js';

/** Hash maps use seed 0, so every engine's memory lays them out (and iterates them) alike. */
const ZERO = BPF_F.ZERO_SEED;
export const MAP_DEFS: readonly MapSpec[] = [
  { type: 'array', keySize: 4, valueSize: 16, maxEntries: 4, name: 'arr' },
  { type: 'percpu_array', keySize: 4, valueSize: 8, maxEntries: 3, name: 'pcpu_arr' },
  { type: 'hash', keySize: 4, valueSize: 16, maxEntries: 4, flags: ZERO, name: 'hash' },
  { type: 'lru_hash', keySize: 8, valueSize: 8, maxEntries: 3, flags: ZERO, name: 'lru' },
  // 6-byte keys take the hash's general key compare (4- and 8-byte ones have a fast path).
  { type: 'percpu_hash', keySize: 6, valueSize: 12, maxEntries: 3, flags: ZERO, name: 'pcpu_hash' },
];

export const INPUT_BYTES = 8;
const KEY_AT = -16;
const VALUE_AT = -40;

/** A key: an immediate, or a context byte (folded into the input). */
export type Key = { readonly src: 'imm'; readonly v: number } | { readonly src: 'ctx'; readonly at: number };
/** What the key pointer r2 is: the stack key, or (checked runs only) null or the frame pointer itself. */
export type KeyPtr = 'stack' | 'null' | 'fp';

export interface Access {
  readonly k: 'load' | 'store' | 'add';
  readonly size: 1 | 2 | 4 | 8;
  /** Raw offset; folded into the value (verifiable) or around it. */
  readonly off: number;
  readonly v: number;
}

export type MapOp =
  | { readonly op: 'lookup'; readonly map: number; readonly key: Key; readonly ptr: KeyPtr; readonly check: boolean; readonly accesses: readonly Access[] }
  | { readonly op: 'update'; readonly map: number; readonly key: Key; readonly ptr: KeyPtr; readonly seed: number; readonly flags: bigint }
  | { readonly op: 'delete'; readonly map: number; readonly key: Key; readonly ptr: KeyPtr };

export interface MapProgramSpec {
  readonly input: Uint8Array;
  readonly cpu: 0 | 1;
  readonly verifiable: boolean;
  /** Host updates before the run, in order (failed ones, e.g. out of range, are skipped). */
  readonly prefill: ReadonlyArray<{ readonly map: number; readonly key: number; readonly seed: number }>;
  readonly ops: readonly MapOp[];
}

const weighted = <T>(...pairs: Array<readonly [number, fc.Arbitrary<T>]>): fc.Arbitrary<T> =>
  fc.oneof({ withCrossShrink: true }, ...pairs.map(([weight, arbitrary]) => ({ weight, arbitrary })));

/** Mostly small keys: present, absent, or just past an array's end. */
const keyNumber = (): fc.Arbitrary<number> => weighted([8, fc.nat(6)], [1, fc.integer({ min: -1, max: 0x7fffffff })]);
const mapIndex = (): fc.Arbitrary<number> => fc.nat(MAP_DEFS.length - 1);

const key = (): fc.Arbitrary<Key> => weighted<Key>(
  [3, keyNumber().map((v) => ({ src: 'imm', v }))],
  [1, fc.nat(INPUT_BYTES - 1).map((at) => ({ src: 'ctx', at }))],
);

/** Flags: BPF_ANY, BPF_NOEXIST, BPF_EXIST, and invalid ones (also beyond 32 bits). */
const flags = (): fc.Arbitrary<bigint> => weighted(
  [9, fc.constantFrom(0n, 1n, 2n)],
  [1, fc.constantFrom(3n, 4n, 0x100000000n, 0xffffffffffffffffn)],
);

const access = (): fc.Arbitrary<Access> => weighted<Access>(
  [3, fc.record({ k: fc.constant('load' as const), size: fc.constantFrom(1 as const, 2 as const, 4 as const, 8 as const), off: fc.nat(31), v: fc.constant(0) })],
  [2, fc.record({ k: fc.constant('store' as const), size: fc.constantFrom(1 as const, 2 as const, 4 as const, 8 as const), off: fc.nat(31), v: fc.integer({ min: -100, max: 1000 }) })],
  [2, fc.record({ k: fc.constant('add' as const), size: fc.constantFrom(4 as const, 8 as const), off: fc.nat(31), v: fc.integer({ min: -5, max: 5 }) })],
);

function mapOp(verifiable: boolean): fc.Arbitrary<MapOp> {
  const ptr: fc.Arbitrary<KeyPtr> = verifiable ? fc.constant('stack') : weighted([12, fc.constant('stack' as const)], [1, fc.constantFrom('null' as const, 'fp' as const)]);
  const check = verifiable ? fc.constant(true) : weighted([6, fc.constant(true)], [1, fc.constant(false)]);
  return weighted<MapOp>(
    [4, fc.record({ map: mapIndex(), key: key(), ptr, check, accesses: fc.array(access(), { maxLength: 3 }) }).map((f) => ({ op: 'lookup', ...f }))],
    [4, fc.record({ map: mapIndex(), key: key(), ptr, seed: fc.nat(255), flags: flags() }).map((f) => ({ op: 'update', ...f }))],
    [2, fc.record({ map: mapIndex(), key: key(), ptr }).map((f) => ({ op: 'delete', ...f }))],
  );
}

export function mapProgramSpec(): fc.Arbitrary<MapProgramSpec> {
  return fc.boolean().chain((verifiable) => fc.record({
    input: fc.uint8Array({ minLength: INPUT_BYTES, maxLength: INPUT_BYTES, max: 7 }),
    cpu: weighted([2, fc.constant(0 as const)], [1, fc.constant(1 as const)]),
    verifiable: fc.constant(verifiable),
    prefill: fc.array(fc.record({ map: mapIndex(), key: keyNumber(), seed: fc.nat(255) }), { maxLength: 10 }),
    ops: fc.array(mapOp(verifiable), { minLength: 1, maxLength: 8 }),
  }));
}

/**
 * The offset an access uses: inside the value (naturally aligned for atomics), or, unverified, 8
 * bytes before to 24 past it: into a neighbouring value, or outside the map's values (a fault; a hash
 * map's links and keys lie apart from its values, so no write can break the map).
 */
export function accessOffset(a: Access, def: MapSpec, verifiable: boolean): number {
  const align = a.k === 'add' ? a.size : 1;
  const valueSize = def.valueSize;
  if (verifiable) return Math.floor((a.off % (valueSize - a.size + 1)) / align) * align;
  return Math.floor((a.off - 8) / align) * align + (a.off % 11 === 0 ? valueSize : 0);
}

const width = { 1: 'b', 2: 'h', 4: 'w', 8: 'dw' } as const;
const at = (reg: string, off: number): string => `[%${reg}${off < 0 ? '' : '+'}${off}]`;

/** Writes the key at r10-16 and points r2 at it (or at what `ptr` says). */
function keyLines(k: Key, keySize: number, ptr: KeyPtr): string[] {
  const out: string[] = [];
  const whole = keySize === 8 ? 'dw' : 'w';
  if (k.src === 'imm') out.push(`st${whole} ${at('r10', KEY_AT)}, ${k.v}`);
  else out.push(`ldxb %r2, ${at('r9', k.at)}`, `stx${whole} ${at('r10', KEY_AT)}, %r2`);
  if (keySize === 6) out.push(`sth ${at('r10', KEY_AT + 4)}, 0`);
  if (ptr === 'stack') out.push('mov %r2, %r10', `add %r2, ${KEY_AT}`);
  else out.push(ptr === 'null' ? 'mov %r2, 0' : 'mov %r2, %r10');
  return out;
}

/** Value bytes of an update, 4 at a time from the seed (every value size is a multiple of 4). */
export function valueWords(seed: number, valueSize: number): number[] {
  return Array.from({ length: valueSize / 4 }, (_, i) => ((seed * 0x01010101) ^ (i * 0x9e3779b1)) | 0);
}

const fold = (reg: string): string[] => ['mul %r7, 31', `add %r7, %${reg}`];

function accessLines(a: Access, off: number): string[] {
  switch (a.k) {
    case 'load': return [`ldx${width[a.size]} %r3, ${at('r6', off)}`, ...fold('r3')];
    case 'store': return [`st${width[a.size]} ${at('r6', off)}, ${a.v}`];
    case 'add': return [`mov %r3, ${a.v}`, `lock add${a.size === 4 ? '32' : ''} ${at('r6', off)}, %r3`];
  }
}

/** The program as uBPF assembly text. */
export function lowerMapProgram(spec: MapProgramSpec): string {
  const out = ['mov %r9, %r1', 'mov %r7, 0'];
  spec.ops.forEach((op, i) => {
    const def = MAP_DEFS[op.map]!;
    out.push(...keyLines(op.key, def.keySize, op.ptr), `lddw %r1, map_by_idx(${op.map})`);
    if (op.op === 'lookup') {
      out.push('call 1', 'mov %r6, %r0', 'mul %r7, 3');
      if (op.check) out.push(`jeq %r6, 0, skip${i}`);
      out.push('add %r7, 1');
      for (const a of op.accesses) out.push(...accessLines(a, accessOffset(a, def, spec.verifiable)));
      if (op.check) out.push(`skip${i}:`);
      return;
    }
    if (op.op === 'update') {
      valueWords(op.seed, def.valueSize).forEach((w, j) => out.push(`stw ${at('r10', VALUE_AT + 4 * j)}, ${w}`));
      out.push('mov %r3, %r10', `add %r3, ${VALUE_AT}`, op.flags > 0x7fffffffn ? `lddw %r4, 0x${op.flags.toString(16)}` : `mov %r4, ${op.flags}`, 'call 2');
    } else {
      out.push('call 3');
    }
    out.push(...fold('r0'));
  });
  out.push('mov %r0, %r7', 'exit');
  return out.join('\n');
}
