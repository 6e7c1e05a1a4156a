/**
 * The map benchmarks: each micro-benchmark's operation from JIT code (repeated inside one program
 * run, both tiers), from the interpreter and from the host API; each event workload through the
 * interpreter, the JIT per event and in batches, and its hand-written JavaScript. Every engine's
 * results and final map contents are checked against the JavaScript before anything is timed.
 */
import { InternalError } from '../../src/errors.js';
import { Vm, event, memory, type LoadOptions, type LoadedProgram } from '../../src/index.js';
import { loadOptimizer } from '../../src/jit/index.js';
import type { BpfMap } from '../../src/maps/map.js';
import { timeTask, type Budget } from '../measure.js';
import { engineLoop, freshLoop, sink } from '../tasks.js';
import type { EventSet } from '../workload.js';
import { LOOP } from './programs.js';
import { MAP_EVENTS, MAP_OPS, hostKeys, type JsFilter, type MapEventWorkload, type MapOpWorkload } from './workloads.js';

export const MAP_WORKLOAD_NAMES: readonly string[] = [...new Set([...MAP_OPS, ...MAP_EVENTS].map((w) => w.name))];

export const MAP_TITLE = 'maps (ns per map operation, repeated inside one program run or through the host API; '
  + 'ns per event for pid-filter and latency-hist; the ratio is to the host API or JavaScript row)';

/** One JSON record of a map benchmark: ns per map operation, or per event. */
export interface MapRecord {
  readonly workload: string;
  readonly engine: 'interp' | 'jit' | 'js' | 'host';
  /** program: a loop inside one run; event / batch as in the other workloads; host: the host API. */
  readonly mode: 'program' | 'event' | 'batch' | 'host';
  readonly tier?: 'baseline' | 'optimized';
  /**
   * plain: a JavaScript row that leaves out what makes the work shareable (MapEventWorkload.jsPlain);
   * reserve-submit, output: which of ringbuf-output's programs (MapOpWorkload.variant).
   */
  readonly variant?: 'plain' | 'reserve-submit' | 'output';
  readonly nsPerOp: number;
  readonly opsPerSec: number;
  readonly samples: number;
}

export const ENGINES: ReadonlyArray<{ engine: 'interp' | 'jit'; tier?: 'baseline' | 'optimized'; options: LoadOptions }> = [
  { engine: 'interp', options: { engine: 'interp' } },
  { engine: 'jit', tier: 'baseline', options: { engine: 'jit', tier: 'baseline' } },
  { engine: 'jit', tier: 'optimized', options: { engine: 'jit', tier: 'optimized' } },
];

export function record(w: { name: string; variant?: MapRecord['variant'] }, engine: MapRecord['engine'], mode: MapRecord['mode'], tier: MapRecord['tier'], medianMs: number, ops: number, samples: number): MapRecord {
  const nsPerOp = (medianMs * 1e6) / ops;
  return { workload: w.name, engine, mode, ...(tier ? { tier } : {}), ...(w.variant ? { variant: w.variant } : {}), nsPerOp, opsPerSec: 1e9 / nsPerOp, samples };
}

// Loops compiled per task (bench/tasks.ts, freshLoop): a loop shared by every workload would see
// several hosts' and JavaScript filters' functions and slow down every task after the first.
const HOST_LOOP = `return () => {
  for (let i = 0; i < count; i++) sink.value = host(map, keys, i);
};`;

const JS_EVENT_LOOP = `return () => {
  let acc = 0;
  for (let i = 0; i < count; i++) acc = (acc + run(view, i * stride)) | 0;
  sink.value = acc;
};`;

export function timeOnce(fn: () => unknown): number {
  const t0 = performance.now();
  fn();
  return Math.max(performance.now() - t0, 1e-3);
}

const label = (w: MapOpWorkload): string => `${w.name}${w.variant ? ` (${w.variant})` : ''}`;

/** The workload's program in a fresh Vm, checked to count the successful operations it should. */
function loadOp(w: MapOpWorkload, options: LoadOptions, engine: string): { p: LoadedProgram; before: (() => void) | undefined } {
  const vm = new Vm();
  const map = vm.createMap(w.spec);
  w.setup(map);
  const context = w.context ?? new Uint8Array(0);
  const p = vm.load(w.source, { ...options, context: memory(context.length), maps: [map] });
  const before = w.beforeRun ? (): void => w.beforeRun!(map) : undefined;
  before?.();
  const got = p.runU32(context);
  const want = w.hits ?? LOOP;
  if (got !== want) throw new InternalError(`${label(w)}: ${engine} counted ${got} successful operations of ${LOOP}, not ${want}`);
  before?.();
  return { p, before };
}

/** The call timed once, `before` run first, untimed, as tinybench will. */
function timeAfter(fn: () => unknown, before: (() => void) | undefined): number {
  before?.();
  return timeOnce(fn);
}

async function measureOp(w: MapOpWorkload, budget: Budget, at: (what: string) => void): Promise<MapRecord[]> {
  const out: MapRecord[] = [];
  for (const e of ENGINES) {
    const engine = `${e.engine}${e.tier ? ` ${e.tier}` : ''}`;
    at(`${label(w)}: ${engine}`);
    const { p, before } = loadOp(w, e.options, engine);
    const { addr, len } = p.placeInput(w.context ?? new Uint8Array(0));
    const fn = engineLoop(p.exe, addr, 0, len, 1);
    const { medianMs, samples } = await timeTask(`${label(w)} ${engine}`, fn, timeAfter(fn, before), budget, before);
    out.push(record(w, e.engine, 'program', e.tier, medianMs, LOOP, samples));
  }
  if (!w.host) return out;
  at(`${label(w)}: host API`);
  const vm = new Vm();
  const map = vm.createMap(w.spec);
  w.setup(map);
  const keys = w.keys ? w.keys() : hostKeys(0);
  const before = w.hostBefore?.(map, vm);
  const fn = freshLoop(HOST_LOOP, { host: w.host, map, keys, count: w.hostCalls ?? LOOP, sink });
  const { medianMs, samples } = await timeTask(`${label(w)} host`, fn, timeAfter(fn, before), budget, before);
  out.push(record(w, 'host', 'host', undefined, medianMs, LOOP, samples));
  return out;
}

const sameState = (a: Map<number, bigint>, b: Map<number, bigint>): boolean =>
  a.size === b.size && [...a].every(([k, v]) => b.get(k) === v);

/** Loads the workload in a fresh Vm, checks one pass over the events against the JavaScript, and returns the program. */
function checkedLoad(w: MapEventWorkload, options: LoadOptions, label: string): { p: LoadedProgram; map: BpfMap; base: number; results: number } {
  const vm = new Vm();
  const map = vm.createMap(w.spec);
  w.setup(map);
  const p = vm.load(w.source(), { ...options, context: event(16), maps: [map] });
  const ev = w.events();
  const base = vm.mem.alloc(ev.bytes.length, 64);
  vm.mem.write(base, ev.bytes);
  const results = vm.mem.alloc(8 * ev.count, 8);
  const js = w.js();
  const view = new DataView(ev.bytes.buffer);
  for (let i = 0; i < ev.count; i++) {
    const want = js.run(view, i * ev.stride);
    const got = p.exe.runU32(base + i * ev.stride, ev.len);
    if (got !== want) throw new InternalError(`${w.name}: ${label} returned ${got} for event ${i}, JavaScript ${want}`);
  }
  if (!sameState(w.mapState(map), js.state())) throw new InternalError(`${w.name}: ${label} left its map unlike JavaScript's state`);
  return { p, map, base, results };
}

async function measureEvents(w: MapEventWorkload, budget: Budget, at: (what: string) => void): Promise<MapRecord[]> {
  const out: MapRecord[] = [];
  const ev = w.events();
  for (const e of ENGINES) {
    const { p, base, results } = checkedLoad(w, e.options, `${e.engine}${e.tier ? ` ${e.tier}` : ''}`);
    const exe = p.exe;
    const modes = e.engine === 'jit' ? (['event', 'batch'] as const) : (['event'] as const);
    for (const mode of modes) {
      at(`${w.name}: ${e.engine}${e.tier ? ` ${e.tier}` : ''} ${mode}`);
      const fn = mode === 'batch'
        ? (): void => exe.runBatch(base, ev.stride, ev.len, ev.count, results)
        : engineLoop(exe, base, ev.stride, ev.len, ev.count);
      const { medianMs, samples } = await timeTask(`${w.name} ${e.engine} ${mode}`, fn, timeOnce(fn), budget);
      out.push(record(w, e.engine, mode, e.tier, medianMs, ev.count, samples));
    }
  }
  for (const [js, variant] of [[w.js, undefined], [w.jsPlain, 'plain']] as const) {
    if (!js) continue;
    at(`${w.name}: js${variant ? ` ${variant}` : ''}`);
    const view = new DataView(ev.bytes.buffer);
    if (!sameState(jsPass(js, ev), jsPass(w.js, ev))) throw new InternalError(`${w.name}: the ${variant} JavaScript disagrees with the other`);
    const fn = freshLoop(JS_EVENT_LOOP, { run: js().run, view, stride: ev.stride, count: ev.count, sink });
    const { medianMs, samples } = await timeTask(`${w.name} js`, fn, timeOnce(fn), budget);
    out.push(record({ name: w.name, ...(variant ? { variant } : {}) }, 'js', 'event', undefined, medianMs, ev.count, samples));
  }
  return out;
}

/** The state a fresh JavaScript filter leaves after one pass over the events. */
function jsPass(js: () => JsFilter, ev: EventSet): Map<number, bigint> {
  const filter = js();
  const view = new DataView(ev.bytes.buffer);
  for (let i = 0; i < ev.count; i++) filter.run(view, i * ev.stride);
  return filter.state();
}

/** Measures the named map workloads (every one when `names` is undefined). */
export async function measureMaps(names: readonly string[] | undefined, budget: Budget, at: (what: string) => void): Promise<MapRecord[]> {
  await loadOptimizer(); // the optimized tier's rows
  const out: MapRecord[] = [];
  for (const w of MAP_OPS) if (!names || names.includes(w.name)) out.push(...await measureOp(w, budget, at));
  for (const w of MAP_EVENTS) if (!names || names.includes(w.name)) out.push(...await measureEvents(w, budget, at));
  return out;
}

/** The table: ns per operation or event, and the ratio to the JavaScript or host row of the workload. */
export function mapRows(records: readonly MapRecord[]): string[][] {
  const header = ['workload', 'engine', 'mode', 'tier / variant', 'ns/op', 'vs js/host', 'samples'];
  const rows = records.map((r) => {
    // ringbuf-output's programs are told apart in the workload column, each compared with its own host row.
    const program = (x: MapRecord): MapRecord['variant'] => (x.variant === 'plain' ? undefined : x.variant);
    const ref = records.find((x) => x.workload === r.workload && program(x) === program(r) && (x.engine === 'js' || x.engine === 'host') && x.variant !== 'plain');
    return [program(r) ? `${r.workload} (${program(r)})` : r.workload, r.engine, r.mode, r.tier ?? (r.variant === 'plain' ? 'plain' : '-'), r.nsPerOp.toPrecision(3), ref ? `${(r.nsPerOp / ref.nsPerOp).toFixed(2)}x` : '-', String(r.samples)];
  });
  return [header, ...rows];
}
