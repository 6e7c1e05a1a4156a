/**
 * A worker thread's side of a pool (worker.ts): the Vm's memory attached, its helpers, and the
 * programs and maps the pool sent, rebuilt over the same memory without compiling anything again.
 */
import { BpfError, InputError } from '../errors.js';
import type { CurrentTaskFn, ProbeReadFn } from '../helpers/index.js';
import { createInterpreter } from '../interp/index.js';
import { jitFromShare } from '../jit/index.js';
import { attachMap, type BpfMap, type MapShare } from '../maps/map.js';
import type { Executable, ExecutableShare, Runtime } from '../runtime/executable.js';
import type { HelperRegistry, HelperSpec } from '../runtime/helpers.js';
import { EngineMemory } from '../runtime/memory.js';
import { standardRegistry } from '../runtime/standard-helpers.js';
import { registerProgram } from '../runtime/tail-call.js';
import type { PlacedBatch } from './events.js';
import type { WorkerInit } from './protocol.js';

/** What a helper module (PoolOptions.helpers) may export: the VmOptions of the same names. */
export interface HelperModule {
  readonly helpers?: Iterable<HelperSpec>;
  readonly current?: CurrentTaskFn;
  readonly probeRead?: ProbeReadFn;
}

/** The helper module's exports, checked against what the Vm has. */
async function importHelpers(init: WorkerInit): Promise<HelperModule> {
  if (init.helperModule === undefined) return {};
  let mod: HelperModule;
  try {
    mod = await import(init.helperModule) as HelperModule;
  } catch (error) {
    throw new InputError(`cannot import the helper module ${init.helperModule}: ${error instanceof Error ? error.message : String(error)}`);
  }
  return mod;
}

function checkSameHelpers(init: WorkerInit, registry: HelperRegistry, mod: HelperModule): void {
  const here = new Map(registry.all().map((s) => [s.id, s.name]));
  const missing = init.helperIds.filter(([id, name]) => here.get(id) !== name);
  const extra = [...here].filter(([id]) => !init.helperIds.some(([other]) => other === id));
  const list = (l: ReadonlyArray<readonly [number, string]>): string => l.map(([id, name]) => `${id} (${name})`).join(', ');
  const hint = 'give vm.pool a helper module (PoolOptions.helpers) that exports the same `helpers` the Vm was created with';
  if (missing.length > 0) throw new InputError(`the workers lack helpers the Vm has: ${list(missing)}; ${hint}`);
  if (extra.length > 0) throw new InputError(`the workers have helpers the Vm lacks: ${list(extra)}; ${hint}`);
  if (init.current && !mod.current) throw new InputError('the Vm has a `current` task callback but the helper module exports none');
  if (init.probeRead && !mod.probeRead) throw new InputError('the Vm has a `probeRead` callback but the helper module exports none');
}

export class Replica {
  private readonly rt: Runtime;
  private readonly maps = new Map<number, BpfMap>();
  private readonly exes = new Map<number, Executable>();
  /** Programs that could not be rebuilt here: their runs fail with this error. */
  private readonly broken = new Map<number, unknown>();

  private constructor(readonly cpu: number, mem: EngineMemory, helpers: HelperRegistry) {
    this.rt = { mem, helpers };
  }

  static async create(init: WorkerInit, printk: (text: string) => void): Promise<Replica> {
    const mem = EngineMemory.attach(init.memory);
    const mod = await importHelpers(init);
    const { current, probeRead } = mod;
    const registry = standardRegistry(mod.helpers, { cpus: mem.cpus, current, probeRead, tracePrintk: init.printk ? printk : undefined });
    checkSameHelpers(init, registry, mod);
    return new Replica(init.cpu, mem, registry);
  }

  addProgram(key: number, share: ExecutableShare, maps: readonly MapShare[]): void {
    try {
      this.build(key, share, maps);
      this.broken.delete(key);
    } catch (error) {
      this.broken.set(key, error);
    }
  }

  private build(key: number, share: ExecutableShare, maps: readonly MapShare[]): void {
    for (const m of maps) if (!this.maps.has(m.layout.header)) this.maps.set(m.layout.header, attachMap(this.rt.mem, m));
    const own = share.maps.map((address) => {
      const map = this.maps.get(address);
      if (!map) throw new BpfError('E_INTERNAL', `internal error: the pool sent a program before its map at 0x${address.toString(16)}`);
      return map;
    });
    this.exes.set(key, share.engine === 'jit'
      ? jitFromShare(share, this.rt, own)
      : createInterpreter(share.program, this.rt, { budget: share.budget, regions: share.regions, maps: own, facts: share.facts }));
  }

  setTails(entries: ReadonlyArray<readonly [number, number]>): void {
    for (const [id, key] of entries) {
      const exe = this.exes.get(key);
      if (exe?.runTail) registerProgram(this.rt.mem, id, exe as Executable & Required<Pick<Executable, 'runTail'>>);
    }
  }

  run(key: number, batch: PlacedBatch): void {
    if (this.broken.has(key)) throw this.broken.get(key);
    const exe = this.exes.get(key);
    if (!exe) throw new BpfError('E_INTERNAL', `internal error: the pool ran program ${key} before sending it`);
    // The pool's thread may have grown the memory (the batch's events) since this thread last looked:
    // views cached here would end short of them (helpers and entry checks read through them).
    this.rt.mem.refresh();
    exe.runBatch(batch.base, batch.stride, batch.len, batch.count, batch.results, this.cpu);
  }
}
