/**
 * The fuzzer's generators behind one interface for main.ts:
 * - 'programs': random programs from the opcode table (program-gen.ts), each run through the checked
 *   interpreter and the engines of differential.ts (the checked JIT, and the JIT with facts when the
 *   verifier accepts the program, each in the baseline and the optimized tier), all sharing one memory;
 * - 'regions': programs whose pointers cross regions (regions.ts), each run unverified through the
 *   interpreter and the JIT (in the tiers of the chosen engines) in a Vm of its own (layout.ts), and
 *   held to the runtime's region rules;
 * - 'maps': programs that call the map helpers (map-gen.ts), each engine in a Vm of its own with
 *   the same pre-filled maps (map-run.ts), compared on r0, the fault and the maps' entries;
 * - 'packets': programs for the kernel contexts xdp, socket and tc (packet-gen.ts) that read context
 *   fields and packet bytes (behind bounds checks, and with LD_ABS/LD_IND) and write fields, each
 *   run on a few packets by every engine in one Vm (packet-run.ts), compared on r0, the fault and
 *   the context's and packet's bytes.
 */
import fc from 'fast-check';
import { Differential, ENGINE_KINDS, caseOf, type FuzzEngine } from './differential.js';
import { knownIssue } from './known.js';
import { REGION_TIERS, formatRegionCase, runRegionCase, type RegionTier } from './layout.js';
import { mapProgramSpec, type MapProgramSpec } from './map-gen.js';
import { formatMapCase, runMapCase } from './map-run.js';
import { packetSpec, type PacketSpec } from './packet-gen.js';
import { formatPacketCase, runPacketCase } from './packet-run.js';
import { programSpec } from './program-gen.js';
import { regionSpec, type RegionSpec } from './regions.js';
import { formatCounterexample } from './report.js';
import type { ProgramSpec } from './spec.js';

export type Gen = 'programs' | 'regions' | 'maps' | 'packets';
export const GENS: readonly Gen[] = ['programs', 'regions', 'maps', 'packets'];

export type FuzzCase =
  | { readonly gen: 'programs'; readonly spec: ProgramSpec }
  | { readonly gen: 'regions'; readonly spec: RegionSpec }
  | { readonly gen: 'maps'; readonly spec: MapProgramSpec }
  | { readonly gen: 'packets'; readonly spec: PacketSpec };

/** How one case went, for the tally. */
export interface Ran {
  readonly gen: Gen;
  readonly difference: string | undefined;
  /** The id of a known issue that explains the difference (only looked up when asked). */
  readonly known: string | undefined;
  readonly insns: number;
  /** The interpreter's error code, or 'r0' for a normal exit. */
  readonly end: string;
  /** The verifier's verdict, when the JIT with facts could run the case. */
  readonly verdict: string | undefined;
}

/** Weights of the generators in the mix: map cases take some 5 times a region case's time. */
const WEIGHTS: Readonly<Record<Gen, number>> = { programs: 3, regions: 1, maps: 2, packets: 2 };

/**
 * Cases of the chosen generators, mixed by WEIGHTS. A single generator's cases are its own
 * arbitrary's, so a seed replays the same cases as the tests that use it directly.
 */
export function fuzzCases(gens: readonly Gen[]): fc.Arbitrary<FuzzCase> {
  const arbitraries: Record<Gen, fc.Arbitrary<FuzzCase>> = {
    programs: programSpec().map((spec): FuzzCase => ({ gen: 'programs', spec })),
    regions: regionSpec().map((spec): FuzzCase => ({ gen: 'regions', spec })),
    maps: mapProgramSpec().map((spec): FuzzCase => ({ gen: 'maps', spec })),
    packets: packetSpec().map((spec): FuzzCase => ({ gen: 'packets', spec })),
  };
  if (gens.length === 1) return arbitraries[gens[0]!];
  return fc.oneof(...gens.map((gen) => ({ weight: WEIGHTS[gen], arbitrary: arbitraries[gen] })));
}

/** The JIT's tiers that region programs run through: those of the chosen engines. */
export const regionTiers = (engines: readonly FuzzEngine[]): RegionTier[] =>
  REGION_TIERS.filter((tier) => engines.some((e) => ENGINE_KINDS[e].tier === tier));

export class CaseRunner {
  private readonly diff: Differential;
  private readonly tiers: readonly RegionTier[];

  constructor(private readonly engines: readonly FuzzEngine[], private readonly lookUpKnown: boolean) {
    this.diff = new Differential(engines);
    this.tiers = regionTiers(engines);
  }

  run(c: FuzzCase): Ran {
    if (c.gen === 'regions') {
      const r = runRegionCase(c.spec, this.tiers);
      const insns = r.program.text.split('\n').filter((l) => !l.endsWith(':')).length;
      return { gen: c.gen, difference: r.difference, known: undefined, insns, end: r.interp.error?.code ?? 'r0', verdict: undefined };
    }
    if (c.gen === 'maps') {
      const r = runMapCase(c.spec, this.engines);
      return { gen: c.gen, difference: r.difference, known: undefined, insns: r.program.insns.length, end: r.runs[0]!.error?.code ?? 'r0', verdict: r.verdict };
    }
    if (c.gen === 'packets') {
      const r = runPacketCase(c.spec, this.engines);
      const first = r.outcomes[0]!;
      const end = first.refused?.code ?? first.runs.find((x) => x.error)?.error?.code ?? 'r0';
      return { gen: c.gen, difference: r.difference, known: undefined, insns: r.program.insns.length, end, verdict: r.verdict };
    }
    const input = caseOf(c.spec);
    const r = this.diff.runCase(input);
    const known = r.difference !== undefined && this.lookUpKnown ? knownIssue(this.diff, input)?.id : undefined;
    return { gen: c.gen, difference: r.difference, known, insns: r.insns.length, end: r.interp.error?.code ?? 'r0', verdict: r.verdict };
  }

  /** The counterexample report of a case (run again). */
  format(c: FuzzCase): string {
    if (c.gen === 'regions') return formatRegionCase(c.spec, runRegionCase(c.spec, this.tiers));
    if (c.gen === 'maps') return formatMapCase(c.spec, runMapCase(c.spec, this.engines));
    if (c.gen === 'packets') return formatPacketCase(c.spec, runPacketCase(c.spec, this.engines));
    return formatCounterexample(c.spec, this.diff.runSpec(c.spec));
  }
}
