/**
 * The object workloads (bench/README.md, "Objects from clang"): the examples' committed objects
 * (examples/NAME.bpf.o, loaded with parseObject + loadObject) run on the examples' own synthetic
 * events (examples/host/events.ts), laid out through the object's BTF (examples/host/structs.ts), and
 * the hand-written JavaScript each is checked and compared against.
 */
import type { Btf } from '../../src/btf/btf.js';
import type { LoadedObject } from '../../src/elf/index.js';
import { InternalError } from '../../src/errors.js';
import type { PerfEventArray } from '../../src/maps/perf.js';
import { key32, sumPerCpu } from '../../examples/host/common.js';
import { ioEvents, openEvents, type OpenEnter, type OpenExit } from '../../examples/host/events.js';
import { StructLayout } from '../../examples/host/structs.js';
import type { EventSet, InputSize } from '../workload.js';

/**
 * One timed call's events: each program's events back to back in `events[k]`, run in rounds; round r
 * runs `rounds[r][k]` = [first, count] of program k's events, program after program.
 */
export interface ObjectInput {
  readonly events: readonly EventSet[];
  readonly rounds: ReadonlyArray<ReadonlyArray<readonly [number, number]>>;
  /** Units of work in one call (the `ns/op` divisor): I/O completions, opens. */
  readonly ops: number;
}

/** The JavaScript version: one handler per program (the program's r0 for the event at `at`), and what it produced. */
export interface ObjectJs {
  readonly run: ReadonlyArray<(view: DataView, at: number) => number>;
  /** The state or output so far, as comparable lines; drains what a host would drain (records). */
  readonly collect: () => string[];
}

export interface ObjectWorkload {
  readonly name: string;
  readonly summary: string;
  /** examples/NAME.bpf.o */
  readonly object: string;
  /** The object's programs, in the order each round runs them. */
  readonly programs: readonly string[];
  readonly input: (btf: Btf, size: InputSize) => ObjectInput;
  readonly js: (btf: Btf) => ObjectJs;
  /**
   * Whether runs send records to the host: then `collect`'s lines but the last are the records, one
   * per op, drained before every timed call.
   */
  readonly sendsRecords?: boolean;
  /** The loaded object's state or output in the JavaScript's form; drains its records. */
  readonly collect: (obj: LoadedObject, btf: Btf) => string[];
}

/** Byte offsets of a BTF struct's members, by name. */
function offsets(btf: Btf, struct: string): Record<string, number> {
  const t = btf.byName(struct, 'struct');
  if (t?.kind !== 'struct') throw new InternalError(`the object's BTF has no struct ${struct}`);
  return Object.fromEntries(t.members.map((m) => [m.name, m.bitOffset / 8]));
}

/** `values` laid out through `layout`, back to back. */
function encodeAll<T extends object>(layout: StructLayout, values: readonly T[]): EventSet {
  const stride = layout.size;
  const bytes = new Uint8Array(values.length * stride);
  values.forEach((v, i) => layout.encode(v as Record<string, string | number | bigint>, bytes.subarray(i * stride, (i + 1) * stride)));
  return { bytes, stride, len: stride, count: values.length };
}

const MAX_SLOTS = 27;
const TWO_32 = 2 ** 32;

/** floor(log2(v)), 0 for 0, for an integer v < 2^53: Math.clz32 on the halves. */
const log2 = (v: number): number => (v >= TWO_32 ? 63 - Math.clz32(Math.floor(v / TWO_32)) : v === 0 ? 0 : 31 - Math.clz32(v));

const histLines = (counts: ArrayLike<number | bigint>): string[] => Array.from(counts, (n, slot) => `slot ${slot}: ${n}`);

/** biolatency in JavaScript (targ_ms and targ_dev at their defaults): latency in µs, log2 slot, count. */
function biolatencyJs(btf: Btf): ObjectJs {
  const o = offsets(btf, 'io_event');
  const counts = new Float64Array(MAX_SLOTS);
  return {
    run: [(view, at) => {
      // The u64s as doubles, exact below 2^53 (the events' timestamps are near 1e9 ns).
      const issue = view.getUint32(at + o.issue_ns!, true) + view.getUint32(at + o.issue_ns! + 4, true) * TWO_32;
      const complete = view.getUint32(at + o.complete_ns!, true) + view.getUint32(at + o.complete_ns! + 4, true) * TWO_32;
      if (complete < issue) return 0;
      counts[Math.min(log2(Math.floor((complete - issue) / 1000)), MAX_SLOTS - 1)]!++;
      return 0;
    }],
    collect: () => histLines(counts),
  };
}

const BIO_EVENTS = { full: 4096, small: 64 } as const;

export const BIOLATENCY: ObjectWorkload = {
  name: 'biolatency',
  summary: 'examples/biolatency.bpf.o: block I/O completions, log2 of the latency into a per-CPU array (one op: one completion)',
  object: 'biolatency',
  programs: ['handle_complete'],
  input: (btf, size) => {
    const events = encodeAll(new StructLayout(btf, 'io_event'), ioEvents(BIO_EVENTS[size], 0xb10));
    return { events: [events], rounds: [[[0, events.count]]], ops: events.count };
  },
  js: biolatencyJs,
  collect: (obj) => histLines(Array.from({ length: MAX_SLOTS }, (_, slot) => sumPerCpu(obj.map('hists').lookup(key32(slot)) as Uint8Array[]))),
};

/**
 * Opens paired up (each enter with its thread's next exit) and put in rounds: round r holds the r-th
 * open of every thread, so no thread has two opens in flight within a round, and a round can run
 * as one batch of enters, then one batch of exits.
 */
function openRounds(count: number, seed: number): Array<Array<{ enter: OpenEnter; exit: OpenExit }>> {
  const pending = new Map<number, OpenEnter>();
  const seen = new Map<number, number>();
  const rounds: Array<Array<{ enter: OpenEnter; exit: OpenExit }>> = [];
  for (const e of openEvents(count, seed)) {
    if (e.kind === 'enter') { pending.set(e.tid, e); continue; }
    const enter = pending.get(e.tid)!;
    pending.delete(e.tid);
    const r = seen.get(e.tid) ?? 0;
    seen.set(e.tid, r + 1);
    (rounds[r] ??= []).push({ enter, exit: e });
  }
  return rounds;
}

/** Opens per call: one call's records (96 bytes and a header each) fit the perf buffer of 64 KiB. */
const OPENS = { full: 512, small: 48 } as const;

function opensnoopInput(btf: Btf, size: InputSize): ObjectInput {
  const rounds = openRounds(OPENS[size], 0x0be9);
  const pairs = rounds.flat();
  const strip = <T extends { kind: string }>({ kind: _kind, ...fields }: T): Omit<T, 'kind'> => fields;
  const enters = encodeAll(new StructLayout(btf, 'open_enter'), pairs.map((p) => strip(p.enter)));
  const exits = encodeAll(new StructLayout(btf, 'open_exit'), pairs.map((p) => strip(p.exit)));
  let first = 0;
  const spans = rounds.map((round) => {
    const span = [first, round.length] as const;
    first += round.length;
    return [span, span];
  });
  return { events: [enters, exits], rounds: spans, ops: pairs.length };
}

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');

/** opensnoop in JavaScript (targ_pid and targ_failed at their defaults): a Map of thread to its open's arguments. */
function opensnoopJs(btf: Btf): ObjectJs {
  const e = offsets(btf, 'open_enter');
  const x = offsets(btf, 'open_exit');
  const r = offsets(btf, 'open_record');
  const recordSize = new StructLayout(btf, 'open_record').size;
  const started = new Map<number, { flags: number; uid: number; comm: Uint8Array; fname: Uint8Array }>();
  let records: Uint8Array[] = [];
  const bytes = (view: DataView, at: number, n: number): Uint8Array => new Uint8Array(view.buffer, view.byteOffset + at, n).slice();
  return {
    run: [
      (view, at) => {
        started.set(view.getUint32(at + e.tid!, true), {
          flags: view.getInt32(at + e.flags!, true), uid: view.getUint32(at + e.uid!, true),
          comm: bytes(view, at + e.comm!, 16), fname: bytes(view, at + e.fname!, 64),
        });
        return 0;
      },
      (view, at) => {
        const tid = view.getUint32(at + x.tid!, true);
        const a = started.get(tid);
        if (!a) return 0;
        const rec = new Uint8Array(recordSize);
        const out = new DataView(rec.buffer);
        out.setUint32(r.pid!, view.getUint32(at + x.pid!, true), true);
        out.setUint32(r.uid!, a.uid, true);
        out.setInt32(r.ret!, view.getInt32(at + x.ret!, true), true);
        out.setInt32(r.flags!, a.flags, true);
        rec.set(a.comm, r.comm!);
        rec.set(a.fname, r.fname!);
        records.push(rec);
        started.delete(tid);
        return 0;
      },
    ],
    collect: () => {
      const lines = records.map(hex);
      records = [];
      return [...lines, `in flight: ${started.size}`];
    },
  };
}

/** The perf buffer's records, drained; a lost record (a full buffer) stops the benchmark. */
function perfRecords(obj: LoadedObject, size: number): string[] {
  const lines: string[] = [];
  (obj.map('events') as unknown as PerfEventArray).read((rec) => {
    if (rec.lost > 0) throw new InternalError(`opensnoop: the perf buffer lost ${rec.lost} records (it filled within one call)`);
    lines.push(hex(rec.data.subarray(0, size)));
  });
  return lines;
}

export const OPENSNOOP: ObjectWorkload = {
  name: 'opensnoop',
  summary: 'examples/opensnoop.bpf.o: openat enter (args into a hash map) and exit (lookup, perf record, delete) (one op: an enter and its exit)',
  object: 'opensnoop',
  programs: ['handle_enter', 'handle_exit'],
  input: opensnoopInput,
  js: opensnoopJs,
  sendsRecords: true,
  collect: (obj, btf) => [...perfRecords(obj, new StructLayout(btf, 'open_record').size), `in flight: ${[...obj.map('start').entries()].length}`],
};

export const OBJECT_WORKLOADS: readonly ObjectWorkload[] = [BIOLATENCY, OPENSNOOP];
