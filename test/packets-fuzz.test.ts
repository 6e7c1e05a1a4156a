// Generated programs for the kernel contexts (fuzz/packet-gen.ts): xdp, socket filter and tc programs
// that read context fields, read (and write) packet bytes behind bounds checks against data_end,
// use LD_ABS/LD_IND, and write cb[] and mark, each run on a few random packets. The checked
// interpreter, the checked JIT and, for the programs the verifier accepts, the verified interpreter
// and JIT must agree on r0, the fault and the context's and packet's bytes (fuzz/packet-run.ts). The
// baseline tier runs most cases here, both tiers a few; `npm run fuzz -- --gen packets --runs N`
// runs as many as asked in every tier.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FUZZ_ENGINES, type FuzzEngine } from '../fuzz/differential.js';
import { packetSpec, type PacketSpec } from '../fuzz/packet-gen.js';
import { formatPacketCase, runPacketCase, type PacketResult } from '../fuzz/packet-run.js';
import { fromHex } from '../fuzz/report.js';
import { loadOptimizer } from '../src/jit/index.js';

// The optimized tier runs binaryen in this thread.
await loadOptimizer();

/** Fixed, so a failure reproduces with `npm run fuzz -- --gen packets --runs 500 --seed 20261207 --engines jit,jit-facts`. */
const SEED = 20261207;
const RUNS = 500;
/** Cases run in both tiers (every engine), with seed SEED + 1. */
const ALL_TIER_RUNS = 80;

const verdicts = new Map<string, number>();
const ends = new Map<string, number>();
const bump = (m: Map<string, number>, k: string): void => void m.set(k, (m.get(k) ?? 0) + 1);

function tally(spec: PacketSpec, result: PacketResult): void {
  bump(verdicts, `${spec.ctx} ${result.verdict}`);
  const legacy = spec.ops.some((op) => op.op === 'ldabs' || op.op === 'ldind') ? 'legacy' : 'direct';
  for (const run of result.outcomes[0]!.runs) bump(ends, `${legacy} ${run.error?.code ?? (run.r0 === 0n ? 'zero' : 'r0')}`);
}

const property = (engines: readonly FuzzEngine[]) => fc.property(packetSpec(), (spec) => {
  const result = runPacketCase(spec, engines);
  tally(spec, result);
  if (result.difference !== undefined) throw new Error(`${result.difference}\n${formatPacketCase(spec, result)}`);
});

describe('generated kernel-context programs', () => {
  it(`${RUNS} programs, seed ${SEED}, baseline tier: every engine leaves the same r0, fault and context bytes`, () => {
    fc.assert(property(['jit', 'jit-facts']), { seed: SEED, numRuns: RUNS });
  }, 60_000);

  it(`${ALL_TIER_RUNS} programs, seed ${SEED + 1}, both tiers`, () => {
    fc.assert(property(FUZZ_ENGINES), { seed: SEED + 1, numRuns: ALL_TIER_RUNS });
  }, 60_000);

  it('reaches acceptance and refusal in every context, and every way a run ends', () => {
    for (const ctx of ['xdp', 'socket', 'tc']) expect(verdicts.get(`${ctx} accepted`), ctx).toBeGreaterThan(10);
    for (const code of ['E_VERIFY_CTX_ACCESS', 'E_VERIFY_PKT_ACCESS', 'E_VERIFY_LD_ABS']) {
      expect([...verdicts].some(([k, n]) => k.endsWith(code) && n > 3), code).toBe(true);
    }
    // LD_ABS/LD_IND out of the packet end with r0 = 0; in range they return what they read.
    for (const end of ['legacy r0', 'legacy zero', 'legacy E_RUN_MEMORY', 'direct r0', 'direct E_RUN_MEMORY']) {
      expect(ends.get(end), end).toBeGreaterThan(10);
    }
  });
});

describe('hand-made kernel-context cases', () => {
  const packet = Uint8Array.from({ length: 50 }, (_, i) => i + 1);
  const run = (spec: Omit<PacketSpec, 'cpu' | 'fieldSeed'>): PacketResult => runPacketCase({ cpu: 0, fieldSeed: 1, ...spec }, FUZZ_ENGINES);

  it('LD_ABS and LD_IND read big-endian bytes, and r0 = 0 ends a load past the end', () => {
    const r = run({ ctx: 'socket', packets: [packet, fromHex('01 02')], ops: [{ op: 'ldind', size: 'h', reg: 2, imm: 1 }] });
    expect(r.difference).toBeUndefined();
    expect(r.verdict).toBe('accepted');
    // Bytes 3 and 4 of the packet (4, 5) xor-ed into r7's start value; the 2-byte packet has no byte 3.
    expect(r.outcomes.map((o) => o.runs.map((x) => x.r0))).toEqual(r.outcomes.map(() => [0x1234567n ^ 0x0405n, 0n]));
  });

  it('a packet read without a bounds check is refused, and faults alike in checked mode past the end', () => {
    const r = run({ ctx: 'xdp', packets: [fromHex('aa bb')], ops: [{ op: 'packet', off: 4, size: 'w', check: 'none', write: false }] });
    expect(r.verdict).toBe('E_VERIFY_PKT_ACCESS');
    expect(r.difference).toBeUndefined();
    expect(r.outcomes.map((o) => o.runs[0]!.error?.code)).toEqual(r.outcomes.map(() => 'E_RUN_MEMORY'));
  });

  it('stores to cb[] and mark show in the context bytes of every engine', () => {
    const r = run({ ctx: 'tc', packets: [packet], ops: [{ op: 'store', off: 8, size: 'w', imm: 77 }, { op: 'store', off: 52, size: 'w' }] });
    expect(r.verdict).toBe('accepted');
    expect(r.difference).toBeUndefined();
    for (const o of r.outcomes) {
      const view = new DataView(o.runs[0]!.bytes.buffer, o.runs[0]!.bytes.byteOffset);
      expect([view.getUint32(16 + 8, true), view.getUint32(16 + 52, true)]).toEqual([77, 0x1234567]);
    }
  });
});
