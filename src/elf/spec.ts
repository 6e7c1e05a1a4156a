/**
 * What parseObject makes of a BPF object: inert data (no live maps, no engine), structured-clone-able,
 * so it can be parsed once and loaded into many Vms, or sent to a worker.
 */
import type { CoreRelo } from '../btf/ext.js';
import type { MapSpec } from '../maps/spec.js';
import type { SourceLine } from '../program/source-lines.js';
import type { ContextKind } from './sections.js';

/** user: declared in `.maps` or `maps`; the rest hold global variables of a data section. */
export type ObjectMapKind = 'user' | 'data' | 'rodata' | 'bss' | 'kconfig';

export interface ObjectMapSpec {
  /** The map's symbol, or the data section's name ('.data', '.rodata.str1.1', '.kconfig'). */
  readonly name: string;
  readonly section: string;
  readonly kind: ObjectMapKind;
  /** What the map is created from; `spec.name` is `name` cut to the kernel's 15 characters. */
  readonly spec: MapSpec;
  /** Programs may only read it (.rodata*, .kconfig): BPF_F_RDONLY_PROG, frozen once loaded. */
  readonly readonly: boolean;
  /** A data map's initial value: the section's bytes (zeros for .bss; the host's answers for .kconfig). */
  readonly initial?: Uint8Array;
  /** A prog_array's initialisers (`__array(values, ...)`): slot index and program name. */
  readonly slots?: ReadonlyArray<readonly [number, string]>;
  /** BTF type ids of the key and value, where `.maps` gave them. */
  readonly btfKey?: number;
  readonly btfValue?: number;
  /** LIBBPF_PIN_* as declared (`pinning`); 0 when none. */
  readonly pinning?: number;
}

/** A global variable of a data map, found by name. */
export interface VariableSpec {
  readonly name: string;
  /** Index into ObjectSpec.maps. */
  readonly map: number;
  readonly offset: number;
  readonly size: number;
  /** Its BTF type id (0 when the object has no BTF for it). */
  readonly type: number;
  /** Read as a signed integer (BTF says so). */
  readonly signed: boolean;
}

/** A `.kconfig` extern the host answers at load time (libbpf's __kconfig). */
export interface KconfigExtern {
  readonly name: string;
  readonly offset: number;
  readonly size: number;
  /** Weak: unknown means 0. Strong: unknown is an error. */
  readonly weak: boolean;
  readonly signed: boolean;
  /** bool and char externs take booleans and 'y'/'n'/'m' as libbpf does. */
  readonly form: 'int' | 'bool' | 'char' | 'bytes';
}

/** Slots [programInsn, programInsn + count) of a linked program came from [sectionInsn, ...) of `section`. */
export interface CodeRange {
  readonly section: string;
  readonly sectionInsn: number;
  readonly programInsn: number;
  readonly count: number;
}

export interface ProgramSpec {
  /** The function symbol's name. */
  readonly name: string;
  readonly section: string;
  /** libbpf's program type for the section ('xdp', 'kprobe', ...), undefined when it knows none. */
  readonly type: string | undefined;
  readonly kind: ContextKind | undefined;
  /** What the section name says to attach to (after 'kprobe/', 'tracepoint/', ...), '' when nothing. */
  readonly target: string;
  /** The linked bytecode: the function, then every subprogram it calls, relocations applied. */
  readonly bytes: Uint8Array;
  /** The object maps it uses, in its map_by_idx order (indexes into ObjectSpec.maps). */
  readonly maps: readonly number[];
  /** Where each run of its instructions came from (for .BTF.ext line info and CO-RE relocations). */
  readonly origin: readonly CodeRange[];
  readonly license: string;
  /** The C source lines of its instructions (`.BTF.ext` line info), sorted by pc; absent without them. */
  readonly lines?: readonly SourceLine[];
  /** Its CO-RE relocations at its own pcs, resolved when it is loaded (against the object's BTF or the host's). */
  readonly coreRelos?: readonly ProgramCoreRelo[];
}

/** A CO-RE relocation of a linked program: `insn` is the program's pc; section and sectionInsn say where clang put it. */
export interface ProgramCoreRelo extends CoreRelo {
  readonly section: string;
  readonly sectionInsn: number;
}

export interface ObjectSpec {
  readonly file?: string;
  readonly license: string;
  /** The `version` section's u32, when there is one. */
  readonly version?: number;
  readonly programs: readonly ProgramSpec[];
  readonly maps: readonly ObjectMapSpec[];
  readonly variables: readonly VariableSpec[];
  readonly kconfig: readonly KconfigExtern[];
  /** The raw `.BTF` and `.BTF.ext` sections, when present. */
  readonly btf?: Uint8Array;
  readonly btfExt?: Uint8Array;
}

/** The slot of `program` that instruction `sectionInsn` of `section` became, or undefined when not linked in. */
export function programInsnOf(program: ProgramSpec, section: string, sectionInsn: number): number | undefined {
  const r = program.origin.find((o) => o.section === section && sectionInsn >= o.sectionInsn && sectionInsn < o.sectionInsn + o.count);
  return r && r.programInsn + sectionInsn - r.sectionInsn;
}

/** Where slot `pc` of `program` came from. */
export function sourceOf(program: ProgramSpec, pc: number): { section: string; insn: number } | undefined {
  const r = program.origin.find((o) => pc >= o.programInsn && pc < o.programInsn + o.count);
  return r && { section: r.section, insn: r.sectionInsn + pc - r.programInsn };
}
