/**
 * Runs kernel-context programs (packet-gen.ts) on each of their packets through every engine, all
 * loaded in one Vm whose context sits at one address (so data and data_end read alike everywhere),
 * and compares, per packet: r0, the fault (code and pc) and the context's bytes afterwards (the
 * struct, the packet behind it and a patterned margin on each side). The reference is the checked
 * interpreter; the checked JIT runs in the tiers of the chosen engines; a program the verifier
 * accepts also runs verified in the interpreter and the JIT, and must not fault.
 */
import { ENGINE_KINDS, asRunError, type FuzzEngine, type RunError } from './differential.js';
import { fieldValues, lowerPacketProgram, type PacketSpec } from './packet-gen.js';
import { toHex } from './report.js';
import { assemble, formatInsn } from '../src/asm/index.js';
import { buildProgram, type Program } from '../src/program/program.js';
import { contextBytes, writeContext } from '../src/runtime/build-context.js';
import { kernelContextByName } from '../src/verifier/kernel-contexts.js';
import { Vm, type LoadOptions } from '../src/vm.js';

const BUDGET = 10_000;
const MARGIN = 16;
const MARGIN_FILL = 0xa5;
/** Room for the largest generated packet (packet-gen.ts). */
const MAX_PACKET = 128;

export interface PacketRun {
  readonly r0: bigint | undefined;
  readonly error: RunError | undefined;
  /** The margin, the context struct, the packet, the margin, after the run. */
  readonly bytes: Uint8Array;
}

export interface PacketOutcome {
  readonly label: string;
  /** Set when the load failed (the verifier's refusal, for verified loads). */
  readonly refused: RunError | undefined;
  /** One run per packet of the spec. */
  readonly runs: readonly PacketRun[];
}

export interface PacketResult {
  readonly text: string;
  readonly program: Program;
  readonly outcomes: readonly PacketOutcome[];
  /** 'accepted' or the refusal's code; undefined when no verified engine was chosen. */
  readonly verdict: string | undefined;
  readonly difference: string | undefined;
}

class PacketBench {
  readonly vm = new Vm({ cpus: 2 });
  private readonly addr: number;

  constructor(private readonly spec: PacketSpec, private readonly program: Program) {
    this.addr = this.vm.mem.alloc(MARGIN + contextBytes(spec.ctx, MAX_PACKET) + MARGIN, 8) + MARGIN;
  }

  outcome(label: string, options: LoadOptions): PacketOutcome {
    const context = kernelContextByName(this.spec.ctx)!;
    let loaded;
    try {
      loaded = this.vm.load(this.program, { ...options, context, budget: BUDGET });
    } catch (e) {
      return { label, refused: asRunError(e), runs: [] };
    }
    const runs = this.spec.packets.map((packet): PacketRun => {
      const { mem } = this.vm;
      const span = MARGIN + contextBytes(this.spec.ctx, packet.length) + MARGIN;
      mem.bytes.fill(MARGIN_FILL, this.addr - MARGIN, this.addr - MARGIN + span);
      const len = writeContext(mem, this.addr, this.spec.ctx, packet, fieldValues(this.spec.ctx, this.spec.fieldSeed));
      let r0: bigint | undefined;
      let error: RunError | undefined;
      try {
        r0 = loaded.exe.run(this.addr, len, this.spec.cpu);
      } catch (e) {
        error = asRunError(e);
      }
      return { r0, error, bytes: mem.read(this.addr - MARGIN, span) };
    });
    return { label, refused: undefined, runs };
  }
}

const describeRun = (r: PacketRun): string =>
  (r.error ? `error ${r.error.code} at pc ${r.error.pc} (${r.error.message})` : `r0 = 0x${r.r0!.toString(16)}`);

export function describePacketOutcome(o: PacketOutcome): string {
  if (o.refused) return `refused ${o.refused.code} at pc ${o.refused.pc} (${o.refused.message})`;
  return o.runs.map((r, i) => `packet ${i}: ${describeRun(r)}`).join('; ');
}

/** Where byte `i` of a run's bytes lies. */
function place(i: number, spec: PacketSpec): string {
  const d = i - MARGIN;
  const struct = contextBytes(spec.ctx, 0);
  if (d < 0) return `${-d} bytes before the context`;
  return d < struct ? `context byte ${d}` : `packet byte ${d - struct}`;
}

function compare(spec: PacketSpec, a: PacketOutcome, b: PacketOutcome): string | undefined {
  if (a.refused || b.refused) return `a load failed: ${a.label} ${describePacketOutcome(a)}; ${b.label} ${describePacketOutcome(b)}`;
  for (let i = 0; i < a.runs.length; i++) {
    const x = a.runs[i]!, y = b.runs[i]!;
    const differ = x.error || y.error ? !x.error || !y.error || x.error.code !== y.error.code || x.error.pc !== y.error.pc : x.r0 !== y.r0;
    if (differ) return `packet ${i}: outcomes differ: ${a.label} ${describeRun(x)}; ${b.label} ${describeRun(y)}`;
    const m = x.bytes.findIndex((v, k) => v !== y.bytes[k]);
    if (m >= 0) return `packet ${i}: bytes differ at ${place(m, spec)}: ${a.label} 0x${x.bytes[m]!.toString(16)}, ${b.label} 0x${y.bytes[m]!.toString(16)}`;
  }
  return undefined;
}

/** Runs a kernel-context program through the checked interpreter and the chosen engines, and compares them. */
export function runPacketCase(spec: PacketSpec, engines: readonly FuzzEngine[]): PacketResult {
  const text = lowerPacketProgram(spec);
  const program = buildProgram(assemble(text, 'ubpf'));
  const bench = new PacketBench(spec, program);
  const jit = (e: FuzzEngine, unverified: boolean): PacketOutcome =>
    bench.outcome(ENGINE_KINDS[e].label, { engine: 'jit', tier: ENGINE_KINDS[e].tier, unverified });
  const reference = bench.outcome('interpreter', { engine: 'interp', unverified: true });
  const outcomes = [reference, ...engines.filter((e) => !ENGINE_KINDS[e].verified).map((e) => jit(e, true))];
  let difference = outcomes.slice(1).map((o) => compare(spec, reference, o)).find((d) => d !== undefined);
  const verifiedEngines = engines.filter((e) => ENGINE_KINDS[e].verified);
  if (verifiedEngines.length === 0) return { text, program, outcomes, verdict: undefined, difference };
  const interp = bench.outcome('verified interpreter', { engine: 'interp' });
  const verdict = interp.refused ? interp.refused.code : 'accepted';
  if (interp.refused) return { text, program, outcomes, verdict, difference };
  const verified = [interp, ...verifiedEngines.map((e) => jit(e, false))];
  outcomes.push(...verified);
  const stopped = reference.runs.find((r) => r.error);
  if (difference === undefined && stopped) {
    difference = `the verifier accepted a program that the checked interpreter stops: ${describeRun(stopped)}`;
  }
  difference ??= verified.map((o) => compare(spec, reference, o)).find((d) => d !== undefined);
  return { text, program, outcomes, verdict, difference };
}

/** The spec as TypeScript, for a regression test (fromHex from fuzz/report.ts). */
export function packetSpecSource(spec: PacketSpec): string {
  const packets = spec.packets.map((p) => `fromHex('${toHex(p)}')`).join(', ');
  return `{ ctx: '${spec.ctx}', cpu: ${spec.cpu}, fieldSeed: ${spec.fieldSeed}, packets: [${packets}], ops: ${JSON.stringify(spec.ops)} }`;
}

/** A counterexample: outcomes, packets, the program, and a test to paste. */
export function formatPacketCase(spec: PacketSpec, result: PacketResult): string {
  const at = (o: PacketOutcome): string => {
    const e = o.refused ?? o.runs.find((r) => r.error)?.error;
    const insn = e && e.pc >= 0 ? result.program.insnAt[e.pc] : undefined;
    return insn ? `, at \`${formatInsn(insn, 'ubpf')}\`` : '';
  };
  return [
    `difference:  ${result.difference ?? '(none on replay)'}`,
    ...result.outcomes.map((o) => `${`${o.label}:`.padEnd(26)} ${describePacketOutcome(o)}${at(o)}`),
    `verifier:    ${result.verdict ?? 'not asked'} under ${spec.ctx}`,
    `run:         cpu ${spec.cpu}, fields ${JSON.stringify(fieldValues(spec.ctx, spec.fieldSeed))}`,
    ...spec.packets.map((p, i) => `packet ${i}:    ${p.length} bytes: ${toHex(p) || '(empty)'}`),
    `program (uBPF syntax, r6 = the ${spec.ctx} context):`,
    result.text,
    '',
    'as a regression test (test/packets-fuzz.test.ts):',
    `it('<describe the difference>', () => {`,
    `  expect(runPacketCase(${packetSpecSource(spec)}, FUZZ_ENGINES).difference).toBeUndefined();`,
    `});`,
  ].join('\n');
}
