/**
 * Runs map programs (map-gen.ts) through every engine, each in a Vm of its own (two CPUs) whose maps
 * are created and pre-filled alike, and compares what they leave: r0, the fault (code and pc) and
 * every map's contents: keyed maps' entries in iteration order (hash maps use seed 0, so their order
 * is the same in every memory unless their states differ), a queue's and a stack's values in pop
 * order, the values a bloom filter says it holds, a ring buffer's positions and committed records,
 * the records a perf_event_array's reader gets. Tail programs are loaded alike into the prog_array's
 * slots before the main program (a refusal of any refuses the case). The reference is the checked
 * interpreter; the checked JIT runs in the tiers of the chosen engines; a program the verifier accepts also runs verified in the
 * interpreter and the JIT (whose direct map calls only verified code uses), and must not fault.
 */
import { ENGINE_KINDS, asRunError, type FuzzEngine, type RunError } from './differential.js';
import { LPM_MAP, PROG_MAP } from './map-common.js';
import { INPUT_BYTES, MAP_DEFS, lowerMapProgram, valueWords, type MapProgramSpec } from './map-gen.js';
import { toHex } from './report.js';
import { assemble, disassemble, formatInsn } from '../src/asm/index.js';
import { MapError } from '../src/errors.js';
import { RingBuf, type BpfMap } from '../src/maps/map.js';
import { PerfEventArray } from '../src/maps/perf.js';
import { ProgArray } from '../src/maps/prog-array.js';
import { BpfBloomFilter, BpfQueue } from '../src/maps/map-keyless.js';
import { buildProgram, type Program } from '../src/program/program.js';
import { memory } from '../src/verifier/index.js';
import { Vm, type LoadOptions, type LoadedProgram } from '../src/vm.js';

const BUDGET = 10_000;

export interface MapOutcome {
  readonly label: string;
  /** Set when the load failed (the verifier's refusal, for verified loads). */
  readonly refused: RunError | undefined;
  readonly r0: bigint | undefined;
  readonly error: RunError | undefined;
  /** Every map's entries after the run, one line per map. */
  readonly maps: string;
}

export interface MapResult {
  readonly text: string;
  readonly program: Program;
  /** The programs put in the prog_array's slots, in order. */
  readonly tails: readonly Program[];
  readonly runs: readonly MapOutcome[];
  /** 'accepted' or the refusal's code; undefined when no verified engine was chosen. */
  readonly verdict: string | undefined;
  readonly difference: string | undefined;
}

/**
 * A key number as the program writes it: sign-extended by stdw; a 6-byte key is stw then sth 0; an
 * LPM key (`plen` given) is stw plen, then stw of the number as its 4 bytes of data.
 */
export function keyBytes(v: number, keySize: number, plen?: number): Uint8Array {
  if (plen !== undefined) return Uint8Array.of(...keyBytes(plen, 4), ...keyBytes(v, 4));
  const x = BigInt.asUintN(64, BigInt(v));
  return Uint8Array.from({ length: keySize }, (_, i) => (i < 4 || keySize === 8 ? Number((x >> BigInt(8 * i)) & 0xffn) : 0));
}

function valueBytes(seed: number, valueSize: number): Uint8Array {
  const out = new Uint8Array(valueSize);
  const view = new DataView(out.buffer);
  valueWords(seed, valueSize).forEach((w, i) => view.setInt32(4 * i, w, true));
  return out;
}

/**
 * The maps, pre-filled as the spec says (update is push for a queue, stack or bloom filter); host
 * updates that fail (out of range, full, a bad prefix length, a ring buffer) are skipped.
 */
function createMaps(vm: Vm, spec: MapProgramSpec): BpfMap[] {
  const maps = MAP_DEFS.map((def) => vm.createMap(def));
  for (const p of spec.prefill) {
    const map = maps[p.map]!;
    if (map instanceof ProgArray) continue; // its slots hold the tail programs

    const value = (cpu: number): Uint8Array => valueBytes(p.seed + 17 * cpu, map.valueSize);
    try {
      map.update(keyBytes(p.key, map.keySize, p.map === LPM_MAP ? p.plen : undefined), map.perCpu ? [value(0), value(1)] : value(0));
    } catch (e) {
      if (!(e instanceof MapError)) throw e;
    }
  }
  return maps;
}

const valueText = (v: Uint8Array | Uint8Array[]): string => (Array.isArray(v) ? v.map(toHex).join(' | ') : toHex(v));

/** Bloom filter values a program or prefill may push: those of seeds 0..255. */
const SEEDS = 256;

/**
 * A map's contents, destructively for keyless maps: a queue's or stack's values as pop takes them,
 * the pushable values a bloom filter says it has, a ring buffer's positions and committed records.
 */
function contents(m: BpfMap): string {
  if (m instanceof BpfQueue) return Array.from({ length: m.maxEntries }, () => m.pop()).filter((v) => v !== undefined).map((v) => `[${toHex(v)}]`).join(' ');
  if (m instanceof BpfBloomFilter) return `seeds ${Array.from({ length: SEEDS }, (_, s) => s).filter((s) => m.has(valueBytes(s, m.valueSize))).join(',')}`;
  // Slots hold the same programs in every run; their ids are the memory's.
  if (m instanceof ProgArray) return Array.from({ length: m.maxEntries }, (_, i) => (m.get(i) ? `slot ${i}` : '')).filter(Boolean).join(' ');
  if (m instanceof PerfEventArray) {
    const records: string[] = [];
    m.read((r) => void records.push(`cpu ${r.cpu} [${toHex(r.data)}]${r.lost ? ` lost ${r.lost}` : ''}`));
    return records.join(' ');
  }
  if (m instanceof RingBuf) {
    const positions = `prod ${m.producerPosition} cons ${m.consumerPosition}`;
    const records: string[] = [];
    try {
      m.consume((r) => void records.push(`[${toHex(r)}]`));
    } catch (e) {
      // An unverified program wrote over a record's header: what the consumer says of it is compared too.
      if (!(e instanceof MapError)) throw e;
      records.push(`(${e.code})`);
    }
    return [positions, ...records].join(' ');
  }
  return [...m.entries()].map(([k, v]) => `{${toHex(k)}: ${valueText(v)}}`).join(' ');
}

export function dumpMaps(maps: readonly BpfMap[]): string {
  return maps.map((m) => `${m.name}: ${contents(m) || '(empty)'}`).join('\n');
}

interface Programs {
  readonly main: Program;
  readonly tails: readonly Program[];
}

function runOne(label: string, spec: MapProgramSpec, programs: Programs, options: LoadOptions): MapOutcome {
  const vm = new Vm({ cpus: 2 });
  const maps = createMaps(vm, spec);
  let r0: bigint | undefined;
  let error: RunError | undefined;
  try {
    const load = (p: Program): LoadedProgram => vm.load(p, { ...options, context: memory(INPUT_BYTES), maps, budget: BUDGET });
    const progs = maps[PROG_MAP] as ProgArray;
    // Tail programs first: a refusal of any is the case's refusal.
    programs.tails.forEach((p, i) => progs.set(i, load(p)));
    const loaded = load(programs.main);
    try {
      r0 = loaded.run(spec.input, spec.cpu);
    } catch (e) {
      error = asRunError(e);
    }
  } catch (e) {
    return { label, refused: asRunError(e), r0: undefined, error: undefined, maps: dumpMaps(maps) };
  }
  return { label, refused: undefined, r0, error, maps: dumpMaps(maps) };
}

export function describeMapOutcome(o: MapOutcome): string {
  if (o.refused) return `refused ${o.refused.code} at pc ${o.refused.pc} (${o.refused.message})`;
  return o.error ? `error ${o.error.code} at pc ${o.error.pc} (${o.error.message})` : `r0 = 0x${o.r0!.toString(16)}`;
}

function compare(a: MapOutcome, b: MapOutcome): string | undefined {
  const ae = a.error, be = b.error;
  const differ = a.refused || b.refused || ((ae || be) ? !ae || !be || ae.code !== be.code || ae.pc !== be.pc : a.r0 !== b.r0);
  if (differ) return `outcomes differ: ${a.label} ${describeMapOutcome(a)}; ${b.label} ${describeMapOutcome(b)}`;
  if (a.maps !== b.maps) return `maps differ after the run: ${a.label}\n${a.maps}\n${b.label}\n${b.maps}`;
  return undefined;
}

/** Runs a map program through the checked interpreter and the chosen engines, and compares them. */
export function runMapCase(spec: MapProgramSpec, engines: readonly FuzzEngine[]): MapResult {
  const text = lowerMapProgram(spec.ops, spec.verifiable);
  const program = buildProgram(assemble(text, 'ubpf'));
  const tails = spec.tails.map((ops) => buildProgram(assemble(lowerMapProgram(ops, spec.verifiable), 'ubpf')));
  const programs = { main: program, tails };
  const reference = runOne('interpreter', spec, programs, { engine: 'interp', unverified: true });
  const jit = (e: FuzzEngine, unverified: boolean): MapOutcome =>
    runOne(ENGINE_KINDS[e].label, spec, programs, { engine: 'jit', tier: ENGINE_KINDS[e].tier, unverified });
  const runs = [reference, ...engines.filter((e) => !ENGINE_KINDS[e].verified).map((e) => jit(e, true))];
  let difference = runs.slice(1).map((o) => compare(reference, o)).find((d) => d !== undefined);
  const verifiedEngines = engines.filter((e) => ENGINE_KINDS[e].verified);
  if (verifiedEngines.length === 0) return { text, program, tails, runs, verdict: undefined, difference };
  const interp = runOne('verified interpreter', spec, programs, { engine: 'interp' });
  const verdict = interp.refused ? interp.refused.code : 'accepted';
  if (interp.refused) return { text, program, tails, runs, verdict, difference };
  const verified = [interp, ...verifiedEngines.map((e) => jit(e, false))];
  runs.push(...verified);
  if (difference === undefined && reference.error) {
    difference = `the verifier accepted a program that the checked interpreter stops: ${describeMapOutcome(reference)}`;
  }
  difference ??= verified.map((o) => compare(reference, o)).find((d) => d !== undefined);
  return { text, program, tails, runs, verdict, difference };
}

/** The spec as TypeScript, for a regression test. */
export function mapSpecSource(spec: MapProgramSpec): string {
  const json = JSON.stringify({ ...spec, input: `@fromHex('${toHex(spec.input)}')@` }, (_k, v: unknown) => (typeof v === 'bigint' ? `@${v}n@` : v));
  return json.replace(/"@(.*?)@"/g, '$1');
}

/** A counterexample: outcomes, the maps before and after, the program, and a test to paste. */
export function formatMapCase(spec: MapProgramSpec, result: MapResult): string {
  const at = (o: MapOutcome): string => {
    const e = o.error ?? o.refused;
    const insn = e && e.pc >= 0 ? result.program.insnAt[e.pc] : undefined;
    return insn ? `, at \`${formatInsn(insn, 'ubpf')}\`` : '';
  };
  return [
    `difference:  ${result.difference ?? '(none on replay)'}`,
    ...result.runs.map((o) => `${`${o.label}:`.padEnd(26)} ${describeMapOutcome(o)}${at(o)}`),
    `verifier:    ${result.verdict ?? 'not asked'}`,
    `run:         cpu ${spec.cpu}, input ${toHex(spec.input)}`,
    `prefill:     ${spec.prefill.map((p) => `${MAP_DEFS[p.map]!.name}[${p.key}${p.map === LPM_MAP ? `/${p.plen}` : ''}] = seed ${p.seed}`).join(', ') || '(none)'}`,
    `maps after the interpreter's run:\n${result.runs[0]!.maps}`,
    `program (uBPF syntax, map_by_idx(N) is ${MAP_DEFS.map((d, i) => `${i}: ${d.name}`).join(', ')}):`,
    disassemble(result.program.insns, 'ubpf', { labels: true }),
    ...result.tails.flatMap((t, i) => [`tail program in slot ${i}:`, disassemble(t.insns, 'ubpf', { labels: true })]),
    '',
    'as a regression test (test/maps-fuzz.test.ts):',
    `it('<describe the difference>', () => {`,
    `  expect(runMapCase(${mapSpecSource(spec)}, FUZZ_ENGINES).difference).toBeUndefined();`,
    `});`,
  ].join('\n');
}
