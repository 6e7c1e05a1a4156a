/**
 * What every example's host side shares: finding and parsing its object (committed next to its C
 * source in examples/), loading it into a Vm, and the settings and event counts a run takes.
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Btf } from '../../src/btf/btf.js';
import { loadObject, objectBtf, parseObject, type LoadedObject, type ObjectSpec, type VariableValue } from '../../src/elf/index.js';
import { InputError } from '../../src/errors.js';
import { Vm, type EngineName } from '../../src/vm.js';

export interface ExampleOptions {
  readonly engine?: EngineName;
  /** Events to generate (each example has its default). */
  readonly events?: number;
  /** Seed of the event generator. */
  readonly seed?: number;
  /** `.rodata` settings, as `bpfjit run --set` gives them. */
  readonly set?: Readonly<Record<string, VariableValue>>;
}

export interface Example {
  readonly name: string;
  /** One line: what the tool shows. */
  readonly summary: string;
  /** Runs the example on its synthetic events and returns what the tool prints. */
  run(options?: ExampleOptions): string;
}

/** examples/ beside this module's source or its build (dist/examples/host, or the bundle's chunks). */
export function examplesDir(): string {
  for (const rel of ['../', '../../../examples/', '../../examples/']) {
    const dir = fileURLToPath(new URL(rel, import.meta.url));
    if (existsSync(`${dir}build.sh`) && existsSync(`${dir}events.h`)) return dir;
  }
  throw new InputError('cannot find the examples directory (examples/build.sh) next to the code or in the package root');
}

const specs = new Map<string, ObjectSpec>();

/** The parsed object of examples/NAME.bpf.o. */
export function exampleObject(name: string): ObjectSpec {
  let spec = specs.get(name);
  if (!spec) {
    const file = `${examplesDir()}${name}.bpf.o`;
    spec = parseObject(new Uint8Array(readFileSync(file)), { file });
    specs.set(name, spec);
  }
  return spec;
}

/** The example object's BTF, which lays out its events. */
export function exampleBtf(spec: ObjectSpec): Btf {
  const btf = objectBtf(spec);
  if (!btf) throw new InputError(`${spec.file ?? 'the object'} has no BTF`);
  return btf;
}

/** A Vm of two CPUs with the example's object loaded in the chosen engine. */
export function loadExample(name: string, options: ExampleOptions): { vm: Vm; obj: LoadedObject; btf: Btf } {
  const spec = exampleObject(name);
  const vm = new Vm({ cpus: 2 });
  const obj = loadObject(vm, spec, { engine: options.engine ?? 'jit', ...(options.set ? { set: options.set } : {}) });
  return { vm, obj, btf: exampleBtf(spec) };
}

/** A map value's bytes summed over CPUs as little-endian u64 counters. */
export function sumPerCpu(values: readonly Uint8Array[]): bigint {
  let sum = 0n;
  for (const v of values) sum += new DataView(v.buffer, v.byteOffset, v.byteLength).getBigUint64(0, true);
  return sum;
}

export const key32 = (k: number): Uint8Array => new Uint8Array(new Uint32Array([k]).buffer);
