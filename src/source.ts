/**
 * Turning what users hand us into a Program: bytecode, assembly text (either syntax), decoded
 * instructions, or a file (.bin bytecode, .s/.asm text, conformance .data, ELF objects later).
 */
import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { assemble } from './asm/index.js';
import { readDataFile } from './conformance/data-file.js';
import { AsmError, InputError } from './errors.js';
import type { Insn } from './isa/insn.js';
import { buildProgram, loadBytes, type Program } from './program/program.js';

export type ProgramSource = Uint8Array | string | readonly Insn[];

function isProgram(source: unknown): source is Program {
  return typeof source === 'object' && source !== null && 'functions' in source && 'insnAt' in source;
}

export function toProgram(source: ProgramSource | Program): Program {
  if (isProgram(source)) return source;
  if (source instanceof Uint8Array) return loadBytes(source);
  if (typeof source === 'string') return buildProgram(assemble(source));
  if (source.length === 0) throw new InputError('program has no instructions');
  return buildProgram(source);
}

export interface ProgramFile {
  readonly program: Program;
  /** Input memory that came with the file (a conformance `.data` file's `-- mem`). */
  readonly mem?: Uint8Array;
  /** Expected r0, when the file states one. */
  readonly result?: bigint;
}

/** Reads a user-named file; a missing or unreadable one is an InputError naming it. */
export function readInputFile(path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new InputError(`cannot read '${path}': ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
}

/** Assembles text from a file; an AsmError names the file and the line in it (`file:line:column`). */
export function assembleIn(text: string, at: { readonly file: string; readonly line: number }): Insn[] {
  try {
    return assemble(text);
  } catch (err) {
    if (err instanceof AsmError && err.file === undefined) throw err.inFile(at.file, at.line);
    throw err;
  }
}

/** Loads a program file; the kind comes from the extension, else from the content. */
export function loadProgramFile(path: string): ProgramFile {
  const ext = extname(path).toLowerCase();
  if (ext === '.data') {
    const file = readDataFile(path);
    const program = file.asm !== undefined ? buildProgram(assembleIn(file.asm, file.asmAt ?? { file: path, line: 1 }))
      : file.raw ? loadBytes(file.raw) : undefined;
    if (!program) throw new InputError(`${path}: no -- asm or -- raw section`);
    return { program, mem: file.mem, ...(file.result !== undefined ? { result: file.result } : {}) };
  }
  const data = readInputFile(path);
  if (ext === '.bin' || ext === '.o' || looksBinary(data)) {
    if (data.subarray(0, 4).toString('latin1') === '\x7fELF') {
      throw new InputError(`${path}: ELF objects are not supported yet; extract .text with llvm-objcopy -O binary`);
    }
    return { program: loadBytes(new Uint8Array(data.buffer, data.byteOffset, data.byteLength)) };
  }
  return { program: buildProgram(assembleIn(data.toString('utf8'), { file: path, line: 1 })) };
}

/** Text never holds control bytes below tab; bytecode almost always does (register fields, zero imms). */
function looksBinary(data: Buffer): boolean {
  return data.subarray(0, 512).some((b) => b < 9);
}
