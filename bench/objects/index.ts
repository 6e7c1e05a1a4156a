/**
 * The object workloads (workloads.ts): each example object loaded per engine (interpreter, JIT in
 * both tiers) in a Vm of its own, checked against its JavaScript over whole passes (every run's r0,
 * then the maps' state and the records sent to the host), then timed per event, in batches, and
 * the JavaScript alone. Records a run sends to the host are drained before every call, untimed.
 */
import { exampleObject, exampleBtf } from '../../examples/host/common.js';
import type { Btf } from '../../src/btf/btf.js';
import { loadObject, type LoadedObject } from '../../src/elf/index.js';
import { InternalError } from '../../src/errors.js';
import { loadOptimizer } from '../../src/jit/index.js';
import type { Executable } from '../../src/runtime/executable.js';
import { Vm, type LoadOptions } from '../../src/vm.js';
import { ENGINES, record, timeOnce, type MapRecord } from '../maps/index.js';
import { timeTask, type Budget } from '../measure.js';
import { freshLoop, sink } from '../tasks.js';
import type { InputSize } from '../workload.js';
import { OBJECT_WORKLOADS, type ObjectInput, type ObjectJs, type ObjectWorkload } from './workloads.js';

export const OBJECT_WORKLOAD_NAMES: readonly string[] = OBJECT_WORKLOADS.map((w) => w.name);

export const OBJECT_TITLE = 'objects from clang (examples/*.bpf.o; ns per op: one I/O completion for biolatency, '
  + 'one open (enter and exit) for opensnoop; the ratio is to the JavaScript row)';

type Mode = 'event' | 'batch' | 'js';

/** One program's part of a timed loop: `call` is what runs event i of a round's span. */
const CALLS: Record<Mode, (k: number) => string> = {
  event: (k) => `for (let i = 0; i < n; i++) acc = (acc + exe${k}.runU32(base${k} + (first + i) * stride${k}, len${k})) | 0;`,
  batch: (k) => `exe${k}.runBatch(base${k} + first * stride${k}, stride${k}, len${k}, n, results);`,
  js: (k) => `for (let i = 0; i < n; i++) acc = (acc + run${k}(view${k}, (first + i) * stride${k})) | 0;`,
};

/** A loop over the rounds, each program's calls written out (a call site per program, as in the other workloads). */
function loopSource(mode: Mode, programs: number): string {
  const parts = Array.from({ length: programs }, (_, k) => `    { const first = round[${k}][0], n = round[${k}][1];\n      ${CALLS[mode](k)} }`);
  return `return () => {\n  let acc = 0;\n  for (const round of rounds) {\n${parts.join('\n')}\n  }\n  sink.value = acc;\n};`;
}

/** The loop's free variables for each program k. */
function loopArgs(input: ObjectInput, per: (k: number) => Record<string, unknown>): Record<string, unknown> {
  const args: Record<string, unknown> = { rounds: input.rounds, sink };
  input.events.forEach((ev, k) => Object.assign(args, { [`stride${k}`]: ev.stride, [`len${k}`]: ev.len }, per(k)));
  return args;
}

interface Loaded {
  readonly vm: Vm;
  readonly obj: LoadedObject;
  readonly exes: readonly Executable[];
  /** Where each program's events lie in the Vm's memory. */
  readonly bases: readonly number[];
  readonly results: number;
}

function loadIn(w: ObjectWorkload, input: ObjectInput, options: LoadOptions): Loaded {
  const vm = new Vm();
  const obj = loadObject(vm, exampleObject(w.object), { ...options, programs: w.programs });
  const bases = input.events.map((ev) => {
    const at = vm.mem.alloc(ev.bytes.length, 64);
    vm.mem.write(at, ev.bytes);
    return at;
  });
  const results = vm.mem.alloc(8 * Math.max(...input.events.map((ev) => ev.count)), 8);
  return { vm, obj, exes: w.programs.map((name) => obj.program(name).exe), bases, results };
}

const compare = (w: ObjectWorkload, label: string, got: readonly string[], want: readonly string[]): void => {
  const i = want.findIndex((line, j) => got[j] !== line);
  if (i >= 0 || got.length !== want.length) {
    throw new InternalError(`${w.name}: ${label} disagrees with JavaScript at line ${i < 0 ? want.length : i}: ${got[i < 0 ? want.length : i] ?? '(none)'} instead of ${want[i < 0 ? got.length : i] ?? '(none)'}`);
  }
};

/** One pass of the JavaScript over the input; returns every handler's results in order. */
function jsPass(js: ObjectJs, input: ObjectInput): number[] {
  const out: number[] = [];
  const views = input.events.map((ev) => new DataView(ev.bytes.buffer, ev.bytes.byteOffset));
  for (const round of input.rounds) {
    round.forEach(([first, n], k) => {
      for (let i = 0; i < n; i++) out.push(js.run[k]!(views[k]!, (first + i) * input.events[k]!.stride) >>> 0);
    });
  }
  return out;
}

/**
 * Loads the workload and checks one pass per event and one batch pass against the JavaScript: every
 * r0, then the state and records after each pass.
 */
export function checkedLoad(w: ObjectWorkload, btf: Btf, input: ObjectInput, options: LoadOptions, label: string): Loaded {
  const l = loadIn(w, input, options);
  const js = w.js(btf);
  for (const batch of [false, true]) {
    const want = jsPass(js, input);
    const got: number[] = [];
    for (const round of input.rounds) {
      round.forEach(([first, n], k) => {
        const ev = input.events[k]!;
        const at = l.bases[k]! + first * ev.stride;
        if (batch) l.exes[k]!.runBatch(at, ev.stride, ev.len, n, l.results);
        for (let i = 0; i < n; i++) {
          got.push(batch ? l.vm.mem.view.getUint32(l.results + 8 * i, true) : l.exes[k]!.runU32(at + i * ev.stride, ev.len));
        }
      });
    }
    compare(w, `${label} ${batch ? 'batch' : 'event'} (r0)`, got.map(String), want.map(String));
    compare(w, `${label} ${batch ? 'batch' : 'event'}`, w.collect(l.obj, btf), js.collect());
  }
  return l;
}

/**
 * Before each call, untimed, for a workload that sends records: drains those of the last call, which
 * must be one per op (or none, before the first).
 */
function drainer(collect: () => string[], w: ObjectWorkload, input: ObjectInput): (() => void) | undefined {
  if (!w.sendsRecords) return undefined;
  return () => {
    const records = collect().length - 1;
    if (records !== 0 && records !== input.ops) throw new InternalError(`${w.name}: a call sent ${records} records, not ${input.ops}`);
  };
}

async function timeMode(w: ObjectWorkload, fn: () => void, before: (() => void) | undefined, budget: Budget): Promise<{ medianMs: number; samples: number }> {
  before?.();
  const callMs = timeOnce(fn);
  return timeTask(w.name, fn, callMs, budget, before);
}

async function measureObject(w: ObjectWorkload, size: InputSize, budget: Budget, at: (what: string) => void): Promise<MapRecord[]> {
  const btf = exampleBtf(exampleObject(w.object));
  const input = w.input(btf, size);
  const out: MapRecord[] = [];
  for (const e of ENGINES) {
    const label = `${e.engine}${e.tier ? ` ${e.tier}` : ''}`;
    const l = checkedLoad(w, btf, input, e.options, label);
    const before = drainer(() => w.collect(l.obj, btf), w, input);
    for (const mode of e.engine === 'jit' ? (['event', 'batch'] as const) : (['event'] as const)) {
      at(`${w.name}: ${label} ${mode}`);
      const fn = freshLoop(loopSource(mode, w.programs.length), loopArgs(input, (k) => ({ [`exe${k}`]: l.exes[k], [`base${k}`]: l.bases[k], results: l.results })));
      const { medianMs, samples } = await timeMode(w, fn, before, budget);
      out.push(record(w, e.engine, mode, e.tier, medianMs, input.ops, samples));
    }
  }
  at(`${w.name}: js`);
  const js = w.js(btf);
  const views = input.events.map((ev) => new DataView(ev.bytes.buffer, ev.bytes.byteOffset));
  const fn = freshLoop(loopSource('js', w.programs.length), loopArgs(input, (k) => ({ [`run${k}`]: js.run[k], [`view${k}`]: views[k] })));
  const { medianMs, samples } = await timeMode(w, fn, drainer(js.collect, w, input), budget);
  out.push(record(w, 'js', 'event', undefined, medianMs, input.ops, samples));
  return out;
}

/** Measures the named object workloads; `size` small is for tests. */
export async function measureObjects(names: readonly string[], budget: Budget, at: (what: string) => void, size: InputSize = 'full'): Promise<MapRecord[]> {
  await loadOptimizer(); // the optimized tier's rows
  const out: MapRecord[] = [];
  for (const w of OBJECT_WORKLOADS) if (names.includes(w.name)) out.push(...await measureObject(w, size, budget, at));
  return out;
}
