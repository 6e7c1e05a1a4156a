/**
 * The newest helpers in generated map programs (map-gen.ts): bpf_loop 181 and
 * bpf_for_each_map_elem 164 with small callback subprograms (appended after the program's exit,
 * loaded with `lddw code_addr`) that fold what they see into a u64 context on the caller's stack,
 * do a map op or two and return 0 or 1; bpf_perf_event_output 25 on a perf_event_array; and
 * bpf_spin_lock 93 / bpf_spin_unlock 94 around a read-modify-write of a value whose map holds a lock.
 * And bpf_tail_call 12 through a prog_array whose slots hold the spec's other programs (a slot past
 * them is empty, one past the array out of range: the call falls through). Unverifiable programs may also leave a lock held (checked mode must stop alike), output to a
 * perf buffer that does not exist or with bad flags, and name maps of the wrong type.
 */
import fc from 'fast-check';
import {
  CB_CTX_AT, FOR_EACH_MAPS, MAP_DEFS, PERF_MAP, PROG_MAP, SPIN_MAPS, VALUE_AT, VALUE_BYTES, access, accessesLines, at, fold, mapOf, valueLines, weighted, type Access,
} from './map-common.js';

/** A map op a callback does with key = its index (or the element's first key word) + `add`. */
export interface CallbackMapOp {
  readonly op: 'lookup' | 'update' | 'delete';
  readonly map: number;
  readonly add: number;
  readonly seed: number;
  readonly flags: number;
  readonly accesses: readonly Access[];
}

/**
 * What a callback returns: always 0, always 1, its fold's low bit, or 1 from the `stop`th call on;
 * unverified, its whole fold (any non-zero value ends the iteration).
 */
export type CallbackRet = 'zero' | 'one' | 'bit' | 'stop' | 'any';

/** Unverified, `fnOff` 1 passes the pc after the callback's entry, which is no function (E_RUN_CALLBACK). */
export type CallbackOp =
  | { readonly op: 'loop'; readonly fnOff: number; readonly n: number; readonly flags: number; readonly ret: CallbackRet; readonly stop: number; readonly mapOps: readonly CallbackMapOp[] }
  | {
    readonly op: 'for_each'; readonly fnOff: number; readonly map: number; readonly ret: CallbackRet; readonly stop: number;
    /** Accesses on the element's value, then, maybe, the element deleted. */
    readonly accesses: readonly Access[]; readonly del: boolean; readonly mapOps: readonly CallbackMapOp[];
  }
  | { readonly op: 'perf'; readonly map: number; readonly flags: bigint; readonly size: number; readonly seed: number }
  | { readonly op: 'spin'; readonly map: number; readonly key: number; readonly delta: number; readonly unlock: boolean }
  | { readonly op: 'tail'; readonly map: number; readonly slot: number };

/** Keyed maps a callback's op takes (no LPM trie: its keys need a prefix length). */
const CB_KEYED = ['arr', 'pcpu_arr', 'hash', 'lru', 'pcpu_hash', 'global', 'spin_hash'].map((n) => MAP_DEFS.findIndex((d) => d.name === n));

function callbackMapOp(verifiable: boolean): fc.Arbitrary<CallbackMapOp> {
  return fc.record({
    op: weighted([3, fc.constant('lookup' as const)], [3, fc.constant('update' as const)], [2, fc.constant('delete' as const)]),
    map: mapOf(CB_KEYED, verifiable),
    add: fc.nat(3),
    seed: fc.nat(255),
    flags: weighted([6, fc.constantFrom(0, 1, 2)], [1, fc.constant(4)]),
    accesses: fc.array(access(), { maxLength: 2 }),
  });
}

const RETS: ReadonlyArray<readonly [number, CallbackRet]> = [[4, 'zero'], [1, 'one'], [2, 'bit'], [3, 'stop'], [1, 'any']];
const ret = (verifiable: boolean): fc.Arbitrary<CallbackRet> =>
  weighted<CallbackRet>(...RETS.filter(([, r]) => !verifiable || r !== 'any').map(([w, r]) => [w, fc.constant(r)] as const));
const fnOff = (verifiable: boolean): fc.Arbitrary<number> => (verifiable ? fc.constant(0) : weighted([12, fc.constant(0)], [1, fc.constant(1)]));

/** Perf flags: a buffer index (2 is past the array: -E2BIG), BPF_F_CURRENT_CPU, and bits the kernel refuses (-EINVAL). */
const perfFlags = (): fc.Arbitrary<bigint> => weighted([6, fc.constantFrom(0n, 1n, 0xffffffffn)], [1, fc.constantFrom(2n, 0x100000000n, 0x1ffffffffn)]);

export function callbackOp(verifiable: boolean): fc.Arbitrary<CallbackOp> {
  const mapOps = fc.array(callbackMapOp(verifiable), { maxLength: 2 });
  return weighted<CallbackOp>(
    [3, fc.record({
      n: weighted([9, fc.nat(6)], [1, fc.constant((1 << 23) + 1)]), flags: weighted([9, fc.constant(0)], [1, fc.constant(1)]),
      ret: ret(verifiable), stop: fc.nat(5), mapOps, fnOff: fnOff(verifiable),
    }).map((f) => ({ op: 'loop', ...f }))],
    [3, fc.record({
      map: mapOf(FOR_EACH_MAPS, verifiable), ret: ret(verifiable), stop: fc.nat(4), fnOff: fnOff(verifiable),
      accesses: fc.array(access(), { maxLength: 2 }), del: weighted([3, fc.constant(false)], [1, fc.constant(true)]), mapOps,
    }).map((f) => ({ op: 'for_each', ...f }))],
    [2, fc.record({ map: mapOf([PERF_MAP], verifiable), flags: perfFlags(), size: fc.nat(VALUE_BYTES), seed: fc.nat(255) }).map((f) => ({ op: 'perf', ...f }))],
    [2, fc.record({
      map: fc.constantFrom(...SPIN_MAPS), key: fc.nat(3), delta: fc.integer({ min: -3, max: 9 }),
      unlock: verifiable ? fc.constant(true) : weighted([6, fc.constant(true)], [1, fc.constant(false)]),
    }).map((f) => ({ op: 'spin', ...f }))],
    [1, fc.record({ map: mapOf([PROG_MAP], verifiable), slot: fc.nat(2) }).map((f) => ({ op: 'tail', ...f }))],
  );
}

/** Callback registers: r8 the context, r9 the index or key pointer, r6 a value, r7 the fold (stored back to the context at the end). */
function cbKeyLines(map: number, add: number, fromKey: boolean): string[] {
  const keySize = MAP_DEFS[map]!.keySize;
  const out = [fromKey ? 'ldxw %r2, [%r9]' : 'mov %r2, %r9', `add %r2, ${add}`];
  out.push(keySize === 8 ? 'stxdw [%r10-8], %r2' : 'stxw [%r10-8], %r2');
  if (keySize === 6) out.push('sth [%r10-4], 0');
  return [...out, 'mov %r2, %r10', 'add %r2, -8'];
}

function cbMapOpLines(op: CallbackMapOp, label: string, fromKey: boolean, verifiable: boolean): string[] {
  const def = MAP_DEFS[op.map]!;
  const out = [...cbKeyLines(op.map, op.add, fromKey), `lddw %r1, map_by_idx(${op.map})`];
  if (op.op === 'lookup') {
    // A value with a lock: the accesses stay off the lock's word (the verifier refuses them).
    const accesses = def.spinLockOffset === undefined ? op.accesses : [];
    return [...out, 'call 1', 'mov %r6, %r0', 'mul %r7, 3', `jeq %r6, 0, ${label}`, 'add %r7, 1', ...accessesLines(accesses, def.valueSize, verifiable), `${label}:`];
  }
  if (op.op === 'update') {
    const value = Math.max(def.valueSize, 4);
    // The callback's own frame: the value at VALUE_AT below its key at -8.
    return [...out, ...valueLines(op.seed, value), 'mov %r3, %r10', `add %r3, ${VALUE_AT}`, `mov %r4, ${op.flags}`, 'call 2', ...fold('r0')];
  }
  return [...out, 'call 3', ...fold('r0')];
}

/** The callback's end: the fold back to the context, and r0 as `ret` says. */
function cbEnd(name: string, r: CallbackRet, stop: number): string[] {
  const out = ['stxdw [%r8], %r7'];
  switch (r) {
    case 'zero': return [...out, 'mov %r0, 0', 'exit'];
    case 'one': return [...out, 'mov %r0, 1', 'exit'];
    case 'bit': return [...out, 'mov %r0, %r7', 'and %r0, 1', 'exit'];
    case 'any': return [...out, 'mov %r0, %r7', 'exit'];
    case 'stop': return [...out, 'ldxdw %r0, [%r8+8]', 'add %r0, 1', 'stxdw [%r8+8], %r0', 'mov %r0, 0', `jlt %r0, ${stop + 1}, ${name}_go`, 'mov %r0, 1', `${name}_go:`, 'exit'];
  }
}

function loopCallback(op: Extract<CallbackOp, { op: 'loop' }>, name: string, verifiable: boolean): string[] {
  const out = [`${name}:`, 'mov %r8, %r2', 'mov %r9, %r1', 'ldxdw %r7, [%r8]', ...fold('r9')];
  op.mapOps.forEach((m, j) => out.push(...cbMapOpLines(m, `${name}_${j}`, false, verifiable)));
  return [...out, ...cbEnd(name, op.ret, op.stop)];
}

function forEachCallback(op: Extract<CallbackOp, { op: 'for_each' }>, name: string, verifiable: boolean): string[] {
  const def = MAP_DEFS[op.map]!;
  const out = [`${name}:`, 'mov %r8, %r4', 'mov %r9, %r2', 'mov %r6, %r3', 'ldxdw %r7, [%r8]', 'ldxw %r3, [%r9]', ...fold('r3')];
  out.push(...accessesLines(op.accesses, def.valueSize, verifiable));
  if (op.del) out.push(`lddw %r1, map_by_idx(${op.map})`, 'mov %r2, %r9', 'call 3', ...fold('r0'));
  op.mapOps.forEach((m, j) => out.push(...cbMapOpLines(m, `${name}_${j}`, true, verifiable)));
  return [...out, ...cbEnd(name, op.ret, op.stop)];
}

/** The call: the context { fold so far, call count } at CB_CTX_AT, the helper, then r0 and the context folded. */
function callbackCall(helperArgs: string[], helper: number, name: string, off: number): string[] {
  return [
    `stxdw ${at('r10', CB_CTX_AT)}, %r7`, `stdw ${at('r10', CB_CTX_AT + 8)}, 0`,
    ...helperArgs, `lddw %r2, code_addr(${name})`, ...(off ? [`add %r2, ${off}`] : []), 'mov %r3, %r10', `add %r3, ${CB_CTX_AT}`, `call ${helper}`,
    ...fold('r0'), `ldxdw %r3, ${at('r10', CB_CTX_AT)}`, ...fold('r3'),
  ];
}

function spinLines(op: Extract<CallbackOp, { op: 'spin' }>, i: number): string[] {
  const lock = MAP_DEFS[op.map]!.spinLockOffset!;
  const lockCall = (helper: number): string[] => ['mov %r1, %r6', `add %r1, ${lock}`, `call ${helper}`];
  return [
    `stw ${at('r10', -16)}, ${op.key}`, 'mov %r2, %r10', 'add %r2, -16', `lddw %r1, map_by_idx(${op.map})`, 'call 1', 'mov %r6, %r0', 'mul %r7, 3',
    `jeq %r6, 0, skip${i}`, ...lockCall(93),
    'ldxdw %r3, [%r6+8]', `add %r3, ${op.delta}`, 'stxdw [%r6+8], %r3', ...fold('r3'),
    ...(op.unlock ? lockCall(94) : []), `skip${i}:`,
  ];
}

/** The op's lines; a callback's subprogram goes to `subprogs`, lowered after the program's exit. */
export function callbackLines(op: CallbackOp, i: number, verifiable: boolean, subprogs: string[]): string[] {
  const name = `cb${i}`;
  switch (op.op) {
    case 'loop':
      subprogs.push(...loopCallback(op, name, verifiable));
      return callbackCall([`lddw %r1, ${op.n}`, `mov %r4, ${op.flags}`], 181, name, op.fnOff);
    case 'for_each':
      subprogs.push(...forEachCallback(op, name, verifiable));
      return callbackCall([`lddw %r1, map_by_idx(${op.map})`, 'mov %r4, 0'], 164, name, op.fnOff);
    case 'perf':
      return [
        ...valueLines(op.seed, VALUE_BYTES), 'mov %r1, %r9', `lddw %r2, map_by_idx(${op.map})`,
        op.flags > 0x7fffffffn ? `lddw %r3, 0x${op.flags.toString(16)}` : `mov %r3, ${op.flags}`,
        'mov %r4, %r10', `add %r4, ${VALUE_AT}`, `mov %r5, ${op.size}`, 'call 25', ...fold('r0'),
      ];
    case 'spin':
      return spinLines(op, i);
    case 'tail':
      // A call that falls through leaves r0 unset (the helper returns void): r7 counts the fall-through.
      return ['mov %r1, %r9', `lddw %r2, map_by_idx(${op.map})`, `mov %r3, ${op.slot}`, 'call 12', 'mul %r7, 3', 'add %r7, 1'];
  }
}
