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
import { LOOP } from './programs.js';
import { MAP_EVENTS, MAP_OPS, type MapEventWorkload, type MapOpWorkload } from './workloads.js';

export const MAP_WORKLOAD_NAMES: readonly string[] = [...new Set([...MAP_OPS, ...MAP_EVENTS].map((w) => w.name))];

export const MAP_TITLE = 'maps (ns per map operation, repeated inside one program run or through the host API; '
  + 'ns per event for pid-filter and latency-hist; the ratio is to the host API or JavaScript row)';

/** One JSON record of a map benchmark: ns per map operation, or per event. */
export interface MapRecord {
  readonly workload: string;
  /** Which program of the workload, when it has more than one: ringbuf-output's 'reserve-submit' and 'output'. */
  readonly variant?: string;
  readonly engine: 'interp' | 'jit' | 'js' | 'host';
  /** program: a loop inside one run; event / batch as in the other workloads; host: the host API. */
  readonly mode: 'program' | 'event' | 'batch' | 'host';
  readonly tier?: 'baseline' | 'optimized';
  readonly nsPerOp: number;
  readonly opsPerSec: number;
  readonly samples: number;
}

const ENGINES: ReadonlyArray<{ engine: 'interp' | 'jit'; tier?: 'baseline' | 'optimized'; options: LoadOptions }> = [
  { engine: 'interp', options: { engine: 'interp' } },
  { engine: 'jit', tier: 'baseline', options: { engine: 'jit', tier: 'baseline' } },
  { engine: 'jit', tier: 'optimized', options: { engine: 'jit', tier: 'optimized' } },
];

function record(w: { name: string; variant?: string }, engine: MapRecord['engine'], mode: MapRecord['mode'], tier: MapRecord['tier'], medianMs: number, samples: number, ops = LOOP): MapRecord {
  const nsPerOp = (medianMs * 1e6) / ops;
  return { workload: w.name, ...(w.variant ? { variant: w.variant } : {}), engine, mode, ...(tier ? { tier } : {}), nsPerOp, opsPerSec: 1e9 / nsPerOp, samples };
}

function timeOnce(fn: () => unknown): number {
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

/** The callable timed once, with `before` run first, untimed, as tinybench will. */
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
    const fn = (): number => p.exe.runU32(addr, len);
    const { medianMs, samples } = await timeTask(`${label(w)} ${engine}`, fn, timeAfter(fn, before), budget, before);
    out.push(record(w, e.engine, 'program', e.tier, medianMs, samples));
  }
  if (!w.host) return out;
  at(`${label(w)}: host API`);
  const vm = new Vm();
  const map = vm.createMap(w.spec);
  w.setup(map);
  const host = w.host(map, vm);
  const { medianMs, samples } = await timeTask(`${label(w)} host`, host.run, timeAfter(host.run, host.before), budget, host.before);
  out.push(record(w, 'host', 'host', undefined, medianMs, samples));
  return out;
}

const sameState = (a: Map<number, bigint>, b: Map<number, bigint>): boolean =>
  a.size === b.size && [...a].every(([k, v]) => b.get(k) === v);

/** Loads the workload in a fresh Vm, checks one pass over the events against the JavaScript, and returns the program. */
function checkedLoad(w: MapEventWorkload, options: LoadOptions, label: string): { p: LoadedProgram; map: BpfMap; base: number; results: number } {
  const vm = new Vm();
  const map = vm.createMap(w.spec);
  w.setup(map);
  const p = vm.load(w.source, { ...options, context: event(16), maps: [map] });
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
        : (): void => {
          for (let i = 0; i < ev.count; i++) exe.runU32(base + i * ev.stride, ev.len);
        };
      const { medianMs, samples } = await timeTask(`${w.name} ${e.engine} ${mode}`, fn, timeOnce(fn), budget);
      out.push(record(w, e.engine, mode, e.tier, medianMs, samples, ev.count));
    }
  }
  at(`${w.name}: js`);
  const js = w.js();
  const view = new DataView(ev.bytes.buffer);
  const fn = (): void => {
    for (let i = 0; i < ev.count; i++) js.run(view, i * ev.stride);
  };
  const { medianMs, samples } = await timeTask(`${w.name} js`, fn, timeOnce(fn), budget);
  out.push(record(w, 'js', 'event', undefined, medianMs, samples, ev.count));
  return out;
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
  const header = ['workload', 'engine', 'mode', 'tier', 'ns/op', 'vs js/host', 'samples'];
  const rows = records.map((r) => {
    const ref = records.find((x) => x.workload === r.workload && x.variant === r.variant && (x.engine === 'js' || x.engine === 'host'));
    return [r.variant ? `${r.workload} (${r.variant})` : r.workload, r.engine, r.mode, r.tier ?? '-', r.nsPerOp.toPrecision(3), ref ? `${(r.nsPerOp / ref.nsPerOp).toFixed(2)}x` : '-', String(r.samples)];
  });
  return [header, ...rows];
}
