/**
 * Load time of objects (`--filter load-objects`): each example object (examples/*.bpf.o) and the
 * 1,000-instruction pathstat (bench/programs/objects), from the file's bytes to programs ready to
 * run, as an application loads them: parseObject, then loadObject into a Vm (maps created and filled,
 * CO-RE relocated, every program verified, compiled by the JIT and instantiated), in both JIT tiers.
 * Steady state: rounds of every object in every tier, interleaved, after warm-up rounds; medians.
 *
 * V8 caches compiled WebAssembly modules by their bytes, so each load must compile a module of its
 * own: the Vm gets a different amount of memory allocated before the object, which moves the maps,
 * whose addresses are constants in the JIT's code.
 */
import { readFileSync } from 'node:fs';
import { examplesDir } from '../../examples/host/common.js';
import { loadObject, parseObject } from '../../src/elf/index.js';
import { loadOptimizer } from '../../src/jit/index.js';
import { Vm } from '../../src/vm.js';
import { LOAD_TIERS, type LoadTier } from '../load-phases.js';
import { median } from '../load-time.js';
import { nextTurn } from '../measure.js';
import { programsDir } from '../programs.js';
import { formatMs } from '../report.js';

/** The examples' objects, then the 1,000-instruction one. */
export const LOAD_OBJECTS: readonly string[] = ['biolatency', 'execsnoop', 'opensnoop', 'runqlat', 'dispatch', 'pathstat'];

export function objectFile(name: string): string {
  return name === 'pathstat' ? `${programsDir()}objects/pathstat.bpf.o` : `${examplesDir()}${name}.bpf.o`;
}

/** Median ms of one object's loads in one tier. */
export interface ObjectLoadRow {
  readonly object: string;
  /** Instructions of all its programs. */
  readonly insns: number;
  readonly tier: LoadTier;
  readonly parse: number;
  /** The verifier's own time, over the object's programs. */
  readonly verify: number;
  /** loadObject: everything after parsing (maps, CO-RE, verify, JIT build, compile, instantiate). */
  readonly load: number;
  /** parse + load, measured as one. */
  readonly total: number;
}

interface Sample { parse: number; verify: number; load: number; total: number; insns: number }

/** One load of `bytes` in a fresh Vm whose heap is first moved by `shift` blocks of 64 bytes. */
export function timeObjectLoad(file: string, bytes: Uint8Array, tier: LoadTier, shift: number): Sample {
  const vm = new Vm();
  vm.mem.alloc(64 * shift, 64);
  const t0 = performance.now();
  const spec = parseObject(bytes, { file });
  const t1 = performance.now();
  const obj = loadObject(vm, spec, { engine: 'jit', tier });
  const t2 = performance.now();
  const programs = Object.values(obj.programs);
  const verify = programs.reduce((ms, p) => ms + (p.verification?.stats.timeMs ?? 0), 0);
  return { parse: t1 - t0, verify, load: t2 - t1, total: t2 - t0, insns: programs.reduce((n, p) => n + p.program.insns.length, 0) };
}

export interface LoadObjectsPlan { readonly warmUpRounds: number; readonly rounds: number }
export const FULL_OBJECTS_PLAN: LoadObjectsPlan = { warmUpRounds: 10, rounds: 30 };
export const QUICK_OBJECTS_PLAN: LoadObjectsPlan = { warmUpRounds: 3, rounds: 7 };

export async function measureObjectLoads(plan: LoadObjectsPlan, names: readonly string[] = LOAD_OBJECTS): Promise<ObjectLoadRow[]> {
  await loadOptimizer();
  const files = names.map((name) => ({ name, file: objectFile(name), bytes: new Uint8Array(readFileSync(objectFile(name))) }));
  const samples = new Map<string, Sample[]>();
  let shift = 0;
  for (let round = 0; round < plan.warmUpRounds + plan.rounds; round++) {
    for (const f of files) {
      for (const tier of LOAD_TIERS) {
        const s = timeObjectLoad(f.file, f.bytes, tier, ++shift % 1024);
        if (round >= plan.warmUpRounds) samples.set(`${f.name}/${tier}`, [...(samples.get(`${f.name}/${tier}`) ?? []), s]);
      }
    }
    await nextTurn();
  }
  return files.flatMap((f) => LOAD_TIERS.map((tier) => {
    const ss = samples.get(`${f.name}/${tier}`)!;
    const m = (k: keyof Sample): number => median(ss.map((s) => s[k]));
    return { object: f.name, insns: ss[0]!.insns, tier, parse: m('parse'), verify: m('verify'), load: m('load'), total: m('total') };
  }));
}

export const objectLoadTitle = (plan: LoadObjectsPlan): string =>
  `load time of objects, steady state (ms, medians of ${plan.rounds} after ${plan.warmUpRounds} rounds of warm-up; `
  + 'load = loadObject: maps, CO-RE, verify, JIT, instantiate; total = parse + load)';

export function objectLoadRows(rows: readonly ObjectLoadRow[]): string[][] {
  const head = ['object (insns)', 'tier', 'parse', 'verify', 'load', 'total'];
  return [head, ...rows.map((r) => [`${r.object} (${r.insns})`, r.tier, formatMs(r.parse), formatMs(r.verify), formatMs(r.load), formatMs(r.total)])];
}
