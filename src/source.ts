/**
 * Turning what users hand us into a Program: bytecode, assembly text (either syntax), decoded
 * instructions, or a file (.bin bytecode, .s/.asm text, conformance .data, ELF objects later).
 */
import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { assembleUnit, type AsmUnit } from './asm/index.js';
import { readDataFile } from './conformance/data-file.js';
import { AsmError, InputError } from './errors.js';
import type { Insn } from './isa/insn.js';
import type { MapSpec } from './maps/spec.js';
import { buildProgram, canonicalInsns, decodeProgram, loadBytes, type BuildOptions, type Program } from './program/program.js';

export type ProgramSource = Uint8Array | string | readonly Insn[];

function isProgram(source: unknown): source is Program {
  return typeof source === 'object' && source !== null && 'functions' in source && 'insnAt' in source;
}

export type { BuildOptions } from './program/program.js';

/**
 * The program of a source. Instructions get the decoder's checks, like bytecode; `options.maxSlots`
 * (default 1,000,000) bounds its size, checked before any work on it (for text, once assembled). A
 * built Program is taken as it is. Text's `.map` declarations become the program's maps.
 */
export function toProgram(source: ProgramSource | Program, options: BuildOptions = {}): Program {
  if (isProgram(source)) return source;
  if (source instanceof Uint8Array) return loadBytes(source, options);
  if (typeof source === 'string') {
    const unit = assembleUnit(source);
    return buildProgram(unit.insns, withMaps(options, unit.maps));
  }
  return buildProgram(source, options);
}

export interface ProgramFile {
  readonly program: Program;
  /** Input memory that came with the file (a conformance `.data` file's `-- mem`). */
  readonly mem?: Uint8Array;
  /** Expected r0, when the file states one. */
  readonly result?: bigint;
}

/** Reads a user-named file; a missing or unreadable one is an InputError naming it. */
export function readInputFile(path: string): Uint8Array {
  try {
    return readFileSync(path);
  } catch (err) {
    const code = typeof err === 'object' && err !== null && 'code' in err ? String(err.code) : String(err);
    throw new InputError(`cannot read '${path}': ${code}`);
  }
}

/** A user-named text file, as UTF-8. */
export const readTextFile = (path: string): string => new TextDecoder().decode(readInputFile(path));

const ELF_MAGIC = [0x7f, 0x45, 0x4c, 0x46];

/** Maps declared in the text join the build options; declared there and given too is ambiguous. */
function withMaps(options: BuildOptions, declared: readonly MapSpec[]): BuildOptions {
  if (declared.length === 0) return options;
  if (options.maps !== undefined && options.maps.length > 0) {
    throw new InputError('the program text declares maps (.map) and the options give maps too: give them one way');
  }
  return { ...options, maps: declared };
}

/** Assembles text from a file, with its maps; an AsmError names the file and the line in it (`file:line:column`). */
export function assembleUnitIn(text: string, at: { readonly file: string; readonly line: number }): AsmUnit {
  try {
    return assembleUnit(text);
  } catch (err) {
    if (err instanceof AsmError && err.file === undefined) throw err.inFile(at.file, at.line);
    throw err;
  }
}

/** assembleUnitIn's instructions. */
export const assembleIn = (text: string, at: { readonly file: string; readonly line: number }): Insn[] => assembleUnitIn(text, at).insns;

/** A program file's content before it is decoded: bytecode, or assembly text and where it starts. */
interface RawProgramFile {
  readonly bytes?: Uint8Array;
  readonly text?: { readonly source: string; readonly at: { readonly file: string; readonly line: number } };
  readonly mem?: Uint8Array;
  readonly result?: bigint;
}

/** Reads a program file; the kind comes from the extension, else from the content. */
function readProgramFile(path: string): RawProgramFile {
  const ext = extname(path).toLowerCase();
  if (ext === '.data') {
    const file = readDataFile(path);
    const extra = { mem: file.mem, ...(file.result !== undefined ? { result: file.result } : {}) };
    if (file.asm !== undefined) return { text: { source: file.asm, at: file.asmAt ?? { file: path, line: 1 } }, ...extra };
    if (file.raw) return { bytes: file.raw, ...extra };
    throw new InputError(`${path}: no -- asm or -- raw section`);
  }
  const data = readInputFile(path);
  if (ext === '.bin' || ext === '.o' || looksBinary(data)) {
    if (ELF_MAGIC.every((b, i) => data[i] === b)) {
      throw new InputError(`${path}: an ELF object holds programs, maps and data: load it with parseObject and loadObject`);
    }
    return { bytes: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
  }
  return { text: { source: new TextDecoder().decode(data), at: { file: path, line: 1 } } };
}

const fileExtras = (file: RawProgramFile): Omit<ProgramFile, 'program'> => ({
  ...(file.mem ? { mem: file.mem } : {}), ...(file.result !== undefined ? { result: file.result } : {}),
});

/** The file's instructions, decoded (every field checked) under the size limit, not built, and its maps (bytecode has none). */
function fileUnit(file: RawProgramFile, options: BuildOptions): AsmUnit {
  if (file.bytes) return { insns: decodeProgram(file.bytes, options), maps: [...(options.maps ?? [])] };
  const unit = assembleUnitIn(file.text!.source, file.text!.at);
  return { insns: canonicalInsns(unit.insns, options), maps: [...(withMaps(options, unit.maps).maps ?? [])] };
}

/** Loads and builds a program file (see toProgram for `options`); text's `.map` declarations become its maps. */
export function loadProgramFile(path: string, options: BuildOptions = {}): ProgramFile {
  const file = readProgramFile(path);
  if (file.bytes) return { program: loadBytes(file.bytes, options), ...fileExtras(file) };
  const unit = assembleUnitIn(file.text!.source, file.text!.at);
  return { program: buildProgram(unit.insns, withMaps(options, unit.maps)), ...fileExtras(file) };
}

/**
 * A program file's instructions, decoded (every field checked) but not built: what `disasm` prints,
 * so it shows programs whose jumps or calls are broken too.
 */
export function decodeProgramFile(path: string, options: BuildOptions = {}): Insn[] {
  return fileUnit(readProgramFile(path), options).insns;
}

/** decodeProgramFile with the maps the file declares (or `options.maps`): a whole listing. */
export function decodeProgramFileUnit(path: string, options: BuildOptions = {}): AsmUnit {
  return fileUnit(readProgramFile(path), options);
}

/** Text never holds control bytes below tab; bytecode almost always does (register fields, zero imms). */
function looksBinary(data: Uint8Array): boolean {
  return data.subarray(0, 512).some((b) => b < 9);
}
