/**
 * loadObject: an ObjectSpec's maps created in a Vm's memory with their initial contents (global data,
 * `set` overrides of variables as libbpf's skeleton allows before load, `.kconfig` answers), then its
 * programs loaded, every program of the object sharing the same live maps, and prog_array
 * initialisers filled with the loaded programs.
 */
import { InputError, ObjectError } from '../errors.js';
import type { BpfMap } from '../maps/map.js';
import { ProgArray } from '../maps/prog-array.js';
import type { ContextDescriptor } from '../verifier/index.js';
import type { LoadedProgram, LoadOptions, Vm } from '../vm.js';
import type { Btf } from '../btf/btf.js';
import { parseBtf } from '../btf/parse.js';
import { defaultContext } from './contexts.js';
import { liveSpec } from './live-spec.js';
import { objectBtf } from './object-btf.js';
import { defaultKconfig } from './kconfig-defaults.js';
import { buildObjectProgram } from './program-build.js';
import type { ObjectSpec, ProgramSpec } from './spec.js';
import { encodeKconfig, encodeValue, type KconfigValue, type VariableValue } from './values.js';
import { ObjectVariables } from './variables.js';

export interface ObjectLoadOptions extends Omit<LoadOptions, 'maps' | 'context'> {
  /** The programs to load, by name (default: all). */
  readonly programs?: readonly string[];
  /** The context each program is verified against: one for all, or chosen per program (by `kind`). */
  readonly context?: ContextDescriptor | ((program: ProgramSpec) => ContextDescriptor | undefined);
  /** Initial values of global variables (`.rodata` ones too: they are constants once loaded). */
  readonly set?: Readonly<Record<string, VariableValue>>;
  /**
   * Answers to `.kconfig` externs (LINUX_KERNEL_VERSION, CONFIG_*). As with libbpf, LINUX_KERNEL_VERSION
   * defaults to the running kernel's (kconfig-defaults.ts) and unknown weak ones are 0.
   */
  readonly kconfig?: Readonly<Record<string, KconfigValue>>;
  /**
   * The BTF CO-RE relocations are resolved against: a `.BTF` blob (for example of a clang-compiled
   * header describing the host's event structs) or a parsed Btf. Default: the object's own.
   */
  readonly targetBtf?: Uint8Array | Btf;
}

export interface LoadedObject {
  readonly spec: ObjectSpec;
  /** The loaded programs, by name. */
  readonly programs: Readonly<Record<string, LoadedProgram>>;
  /** Every map of the object, by its name ('counts', '.data', '.rodata', '.kconfig', ...). */
  readonly maps: Readonly<Record<string, BpfMap>>;
  /** Global variables of `.data`, `.bss`, `.rodata` and `.kconfig`, read and written by name. */
  readonly variables: ObjectVariables;
  program(name: string): LoadedProgram;
  map(name: string): BpfMap;
}

/** Each data map's first value: its section, with `set` and the kconfig answers written in. */
function initialValues(spec: ObjectSpec, options: ObjectLoadOptions): Map<number, Uint8Array> {
  const values = new Map<number, Uint8Array>();
  spec.maps.forEach((m, i) => { if (m.initial) values.set(i, m.initial.slice()); });
  for (const [name, value] of Object.entries(options.set ?? {})) {
    const v = spec.variables.find((x) => x.name === name && spec.maps[x.map]!.kind !== 'kconfig');
    if (!v) throw new InputError(`set: the object has no global variable '${name}' (its variables: ${spec.variables.map((x) => x.name).join(', ') || 'none'})`);
    values.get(v.map)!.set(encodeValue(v, value), v.offset);
  }
  const kconfigMap = spec.maps.findIndex((m) => m.kind === 'kconfig');
  const answers = { ...defaultKconfig(), ...options.kconfig };
  for (const e of spec.kconfig) {
    const value = answers[e.name];
    if (value === undefined && !e.weak) {
      throw new InputError(`the object needs .kconfig extern '${e.name}' (it is not weak): give it in kconfig: { ${e.name}: ... }`);
    }
    if (value !== undefined) values.get(kconfigMap)!.set(encodeKconfig(e, value), e.offset);
  }
  return values;
}

function contextOf(p: ProgramSpec, options: ObjectLoadOptions, btf: Btf | undefined): ContextDescriptor | undefined {
  const c = options.context;
  return (typeof c === 'function' ? c(p) : c) ?? defaultContext(p, btf);
}

function chosen(spec: ObjectSpec, names: readonly string[] | undefined): ProgramSpec[] {
  if (!names) return [...spec.programs];
  return names.map((n) => {
    const p = spec.programs.find((x) => x.name === n);
    if (!p) throw new InputError(`the object has no program '${n}' (its programs: ${spec.programs.map((x) => x.name).join(', ') || 'none'})`);
    return p;
  });
}

export function loadObject(vm: Vm, spec: ObjectSpec, options: ObjectLoadOptions = {}): LoadedObject {
  const programs = chosen(spec, options.programs);
  for (const p of programs) {
    if (p.type === undefined) throw new ObjectError('E_ELF', p.section, 0, `program '${p.name}': section '${p.section}' names no program type libbpf knows (xdp, socket, tc, kprobe/..., tracepoint/..., ...)`);
  }
  const initial = initialValues(spec, options);
  const live = spec.maps.map((m, i) => {
    // Read-only data is created and frozen as libbpf does, so the verifier reads it as constants.
    const map = vm.createMap(liveSpec(m, vm.mem.cpus));
    const value = initial.get(i);
    if (value) map.update(new Uint8Array(4), value);
    if (m.readonly) map.freeze();
    return map;
  });
  const { programs: _names, context: _context, set: _set, kconfig: _kconfig, targetBtf, ...loadOptions } = options;
  const local = objectBtf(spec);
  const target = targetBtf instanceof Uint8Array ? parseBtf(targetBtf, 'target BTF') : targetBtf;
  const loaded: Record<string, LoadedProgram> = {};
  for (const p of programs) {
    const context = contextOf(p, options, local);
    if (!context && !options.unverified) {
      throw new InputError(`program '${p.name}' (section ${p.section}): no context is known for ${p.type ?? 'its section'}` +
        (p.kind ? ' without BTF for its first argument' : '') + `; give loadObject a context, or load it unverified`);
    }
    const program = buildObjectProgram(p, local, target, vm.maxSlots);
    loaded[p.name] = vm.load(program, { ...loadOptions, ...(context ? { context } : {}), maps: p.maps.map((i) => live[i]!) });
  }
  spec.maps.forEach((m, i) => {
    for (const [slot, name] of m.slots ?? []) {
      const program = loaded[name];
      if (program) (live[i] as ProgArray).set(slot, program);
    }
  });
  const maps = Object.fromEntries(spec.maps.map((m, i) => [m.name, live[i]!]));
  return {
    spec, programs: loaded, maps, variables: new ObjectVariables(spec, live),
    program(name) {
      const p = loaded[name];
      if (!p) throw new InputError(`no program '${name}' was loaded from the object (loaded: ${Object.keys(loaded).join(', ') || 'none'})`);
      return p;
    },
    map(name) {
      const m = maps[name];
      if (!m) throw new InputError(`the object has no map '${name}' (its maps: ${Object.keys(maps).join(', ') || 'none'})`);
      return m;
    },
  };
}
