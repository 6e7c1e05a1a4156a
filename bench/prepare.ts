/**
 * Puts one workload in place: decodes its program, builds its input, copies the events into the
 * engine memory (for the BPF engines) and into a plain buffer (for the JavaScript function), and
 * computes the expected result of every event with the JavaScript function.
 */
import { loadBytes, type Program } from '../src/program/program.js';
import type { Executable, Runtime } from '../src/runtime/executable.js';
import type { EngineMemory } from '../src/runtime/memory.js';
import type { BpfEngine, Engines } from './engines.js';
import { programBytes } from './programs.js';
import { expected64, type EventSet, type InputSize, type Workload } from './workload.js';

/** Result slots reserved per workload: enough for the events or for repeated single runs. */
export const MAX_REPEAT = 4096;

export interface Prepared {
  readonly workload: Workload;
  readonly program: Program;
  readonly mem: EngineMemory;
  readonly events: EventSet;
  /** Address of event 0 in engine memory. */
  readonly base: number;
  /** Where runBatch writes its u64 results. */
  readonly resultsAddr: number;
  /** A private, non-shared copy of the events for the JavaScript function. */
  readonly jsBytes: Uint8Array;
  readonly jsView: DataView;
  /** Expected r0 of each event. */
  readonly expected: readonly bigint[];
  readonly executables: Partial<Record<BpfEngine, Executable>>;
}

function expectations(w: Workload, bytes: Uint8Array, view: DataView, events: EventSet): bigint[] {
  const out: bigint[] = [];
  for (let i = 0; i < events.count; i++) out.push(expected64(w, bytes, view, i * events.stride, events.len));
  return out;
}

/** Builds each available engine's executable; an engine that refuses the program is reported. */
function buildExecutables(program: Program, rt: Runtime, engines: Engines, errors: string[]): Partial<Record<BpfEngine, Executable>> {
  const exes: Partial<Record<BpfEngine, Executable>> = {};
  for (const name of ['interp', 'jit'] as const) {
    const factory = engines[name];
    if (!factory) continue;
    try {
      exes[name] = factory(program, rt);
    } catch (err) {
      errors.push(`${name} refused the program: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  return exes;
}

export function prepare(w: Workload, size: InputSize, rt: Runtime, engines: Engines, errors: string[]): Prepared {
  const program = loadBytes(programBytes(w.program));
  const events = w.input(size);
  const base = rt.mem.alloc(events.bytes.length, 64);
  rt.mem.write(base, events.bytes);
  const resultsAddr = rt.mem.alloc(8 * Math.max(events.count, MAX_REPEAT), 8);
  const jsBytes = events.bytes.slice();
  const jsView = new DataView(jsBytes.buffer);
  const expected = expectations(w, jsBytes, jsView, events);
  const executables = buildExecutables(program, rt, engines, errors);
  return { workload: w, program, mem: rt.mem, events, base, resultsAddr, jsBytes, jsView, expected, executables };
}
