// Issue 13: BPF atomics under contention. Every worker of a pool runs the same program on its share of
// the events, all hitting the same map words at once, and the totals must be exact — for every atomic
// operation (add, or, and, xor with and without fetch, xchg, cmpxchg; 64 and 32 bit) in both engines.
// Repeated 20 times (a fresh Vm and pool each time), as the issue asks of CI.
import { describe, expect, it } from 'vitest';
import { Vm, event, type BpfMap, type LoadedProgram, type WorkerPool } from '../src/index.js';

const WORKERS = 2;
const PER_WORKER = 2048;
const TOTAL = WORKERS * PER_WORKER;
const REPEATS = 20;

type Width = 64 | 32;
const ENGINES = ['jit', 'interp'] as const;

/** r0 = the map value of word `key` (the event's index / bits per word); r6 = the event's index. */
function prologue(w: Width): string {
  const shift = w === 64 ? 6 : 5;
  return `
  r6 = *(u32 *)(r1 + 0)
  r7 = r6
  r7 >>= ${shift}
  *(u32 *)(r10 - 4) = r7
  r2 = r10
  r2 += -4
  r1 = map_by_idx(0) ll
  call 1
  if r0 == 0 goto miss
  r8 = r0
  r1 = 1
  r6 &= ${w - 1}
  r1 <<= r6`;
}

const EPILOGUE = `
  exit
miss:
  r0 = -1
  exit`;

const sz = (w: Width): string => (w === 64 ? 'u64' : 'u32');
const reg = (w: Width, r: number): string => (w === 64 ? `r${r}` : `w${r}`);

/** A bitwise op on the event's own bit: each bit is changed by exactly one event. */
function bitOp(w: Width, op: 'or' | 'and' | 'xor', fetch: boolean): string {
  const sym = { or: '|=', and: '&=', xor: '^=' }[op];
  const mask = op === 'and' ? '\n  r1 ^= -1' : ''; // and clears the event's bit: all ones but it
  const body = fetch
    ? `${reg(w, 1)} = atomic_fetch_${op}((${sz(w)} *)(r8 + 0), ${reg(w, 1)})\n  r0 = r1`
    : `lock *(${sz(w)} *)(r8 + 0) ${sym} ${reg(w, 1)}\n  r0 = 0`;
  return `${prologue(w)}${mask}\n  ${body}${EPILOGUE}`;
}

interface Case {
  readonly name: string;
  readonly asm: string;
  /** The words' value before the runs. */
  readonly initial: bigint;
  check(words: bigint[], results: BigUint64Array): void;
}

const ones = (w: Width): bigint => (1n << BigInt(w)) - 1n;
const words = (w: Width): number => TOTAL / w;

function bitCases(w: Width): Case[] {
  const cases: Case[] = [];
  for (const op of ['or', 'and', 'xor'] as const) {
    for (const fetch of [false, true]) {
      const initial = op === 'and' ? ones(w) : 0n;
      const final = op === 'and' ? 0n : ones(w);
      cases.push({
        name: `${fetch ? 'fetch_' : ''}${op}${w}`, asm: bitOp(w, op, fetch), initial,
        check(values, results) {
          expect(values.slice(0, words(w))).toEqual(Array(words(w)).fill(final));
          if (!fetch) return;
          // Each event saw its own bit as it was at the start: nobody else changes it.
          results.forEach((old, i) => expect((old >> BigInt(i % w)) & 1n).toBe(initial & 1n));
        },
      });
    }
  }
  return cases;
}

/** The prologue for word 0, with r6 still the event's index. */
const counterHead = (w: Width): string => prologue(w).replace(/r7 >>= \d+/, 'r7 = 0').replace(/\n {2}r1 = 1\n {2}r6 &= \d+\n {2}r1 <<= r6/, '');

/** Counting ops on word 0: add, fetch_add, xchg, cmpxchg. */
function counterCases(w: Width): Case[] {
  const head = `${counterHead(w)}\n  r1 = 1`;
  const all = Array.from({ length: TOTAL }, (_, i) => BigInt(i));
  return [
    {
      name: `add${w}`, asm: `${head}\n  lock *(${sz(w)} *)(r8 + 0) += ${reg(w, 1)}\n  r0 = 0${EPILOGUE}`, initial: 0n,
      check: (values) => expect(values[0]).toBe(BigInt(TOTAL)),
    },
    {
      name: `fetch_add${w}`, asm: `${head}\n  ${reg(w, 1)} = atomic_fetch_add((${sz(w)} *)(r8 + 0), ${reg(w, 1)})\n  r0 = r1${EPILOGUE}`, initial: 0n,
      check(values, results) {
        expect(values[0]).toBe(BigInt(TOTAL));
        // Every old value 0..TOTAL-1 seen exactly once: no two events incremented the same value.
        expect([...results].sort((a, b) => (a < b ? -1 : 1))).toEqual(all);
      },
    },
    {
      // Swaps the event's index + 1 into word 0 (the prologue's r6 is the index until it masks it).
      name: `xchg${w}`, asm: `${counterHead(w)}\n  r1 = r6\n  r1 += 1\n  ${w === 64 ? 'r1 = xchg_64(r8 + 0, r1)' : 'w1 = xchg32_32(r8 + 0, w1)'}\n  r0 = r1${EPILOGUE}`,
      initial: 0n,
      check(values, results) {
        // The values swapped out, and the one left, are the initial 0 and every event's i + 1, once each.
        const seen = [...results, values[0]!].sort((a, b) => (a < b ? -1 : 1));
        expect(seen).toEqual([0n, ...all.map((i) => i + 1n)]);
      },
    },
    {
      name: `cmpxchg${w}`,
      asm: `${counterHead(w)}\n  r0 = *(${sz(w)} *)(r8 + 0)\n  r2 = r0\n  r3 = r0\n  r3 += 1\n  ${w === 64 ? 'r0 = cmpxchg_64(r8 + 0, r0, r3)' : 'w0 = cmpxchg32_32(r8 + 0, w0, w3)'}\n  if ${reg(w, 0)} == ${reg(w, 2)} goto won\n  r0 = 0\n  exit\nwon:\n  r0 = 1${EPILOGUE}`,
      initial: 0n,
      // Each successful compare-and-exchange added one: the word counts the successes exactly.
      check: (values, results) => expect(values[0]).toBe(results.reduce((a, b) => a + b, 0n)),
    },
  ];
}

const CASES = [64, 32].flatMap((w) => [...bitCases(w as Width), ...counterCases(w as Width)]);

const indexEvents = Array.from({ length: TOTAL }, (_, i) => new Uint8Array(new Uint32Array([i]).buffer));

function readWords(map: BpfMap, n: number, w: Width): bigint[] {
  const out: bigint[] = [];
  for (let k = 0; k < n; k++) {
    const v = new DataView((map.lookup(new Uint8Array(new Uint32Array([k]).buffer)) as Uint8Array).buffer);
    out.push(w === 64 ? v.getBigUint64(0, true) : BigInt(v.getUint32(0, true)));
  }
  return out;
}

async function runCase(pool: WorkerPool, map: BpfMap, c: Case, prog: LoadedProgram): Promise<void> {
  const w: Width = c.name.endsWith('32') ? 32 : 64;
  const init = new Uint8Array(8);
  new DataView(init.buffer).setBigUint64(0, c.initial, true);
  for (let k = 0; k < 256; k++) map.update(new Uint8Array(new Uint32Array([k]).buffer), init);
  const results = await pool.runBatch(prog, indexEvents);
  c.check(readWords(map, 256, w), w === 32 ? results.map((r) => r & 0xffffffffn) : results);
}

describe('BPF atomics from every worker at once (issue 13)', () => {
  it(`gives exact totals for every atomic operation, in both engines, ${REPEATS} times`, async () => {
    // One Vm and pool for all rounds: a worker's first interpreted runs are cold (tens of ms), and
    // every round starts from the same map contents anyway.
    const vm = new Vm({ cpus: WORKERS });
    const map = vm.createMap({ type: 'array', keySize: 4, valueSize: 8, maxEntries: 256, name: 'words' });
    const progs = ENGINES.map((engine) => CASES.map((c) => vm.load(c.asm, { context: event(4), maps: [map], engine })));
    const pool = await vm.pool(WORKERS);
    try {
      for (let round = 0; round < REPEATS; round++) {
        for (const [e] of ENGINES.entries()) for (const [i, c] of CASES.entries()) await runCase(pool, map, c, progs[e]![i]!);
      }
    } finally {
      await pool.close();
    }
  }, 120_000);
});

describe('per-CPU counters from every worker (issue 13)', () => {
  it(`count every event on its own CPU without atomics, summing to the total, ${REPEATS} times`, async () => {
    const vm = new Vm({ cpus: WORKERS });
    const counts = vm.createMap({ type: 'percpu_array', keySize: 4, valueSize: 8, maxEntries: 1, name: 'counts' });
    // A plain load, add and store: safe only because each CPU has its own copy.
    const asm = 'r1 = 0\n*(u32 *)(r10 - 4) = r1\nr2 = r10\nr2 += -4\nr1 = map_by_idx(0) ll\ncall 1\nif r0 == 0 goto +3\nr1 = *(u64 *)(r0 + 0)\nr1 += 1\n*(u64 *)(r0 + 0) = r1\nr0 = 0\nexit';
    const progs = ENGINES.map((engine) => vm.load(asm, { context: event(4), maps: [counts], engine }));
    const pool = await vm.pool(WORKERS);
    try {
      for (let round = 0; round < REPEATS; round++) {
        for (const prog of progs) {
          counts.update(new Uint8Array(4), Array.from({ length: WORKERS }, () => new Uint8Array(8)));
          await pool.runBatch(prog, indexEvents);
          const perCpu = (counts.lookup(new Uint8Array(4)) as Uint8Array[]).map((v) => new DataView(v.buffer).getBigUint64(0, true));
          expect(perCpu).toEqual(Array(WORKERS).fill(BigInt(PER_WORKER)));
        }
      }
    } finally {
      await pool.close();
    }
  }, 60_000);
});
