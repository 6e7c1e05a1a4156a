/** Program files as the commands load them: every error names the file. */
import { BpfError, InputError, ProgramError } from '../errors.js';
import type { AsmUnit } from '../asm/index.js';
import { decodeProgramFileUnit, loadProgramFile, type BuildOptions, type ProgramFile } from '../source.js';
import { isObjectFile } from './object-args.js';

/** What the commands pass: the build options, and the program of an ELF object to take (--section). */
export interface ProgramFileOptions extends BuildOptions {
  readonly section?: string;
}

/**
 * Decoding and structure errors (`pc 3: ...`) prefixed by the file's path; assembler errors already
 * read `file:line:column`, and input errors name the file themselves.
 */
function named<T>(path: string, load: () => T): T {
  try {
    return load();
  } catch (err) {
    if (err instanceof ProgramError) throw new BpfError(err.code, `${path}: ${err.message}`);
    throw err;
  }
}

/** loadProgramFile, its errors naming the file. */
export function loadProgramNamed(path: string, options: ProgramFileOptions = {}): ProgramFile {
  if (options.section !== undefined) throw new InputError(`--section: ${path} is not an ELF object`);
  return named(path, () => loadProgramFile(path, options));
}

/**
 * loadProgramNamed, or for an ELF object (told by its magic, whatever its name) the program
 * `section` chooses, built as loadObject builds it, with its maps' specs; the ELF code is loaded
 * only then, so the commands start no slower.
 */
export async function loadAnyProgram(path: string, options: ProgramFileOptions = {}): Promise<ProgramFile> {
  if (!isObjectFile(path)) return loadProgramNamed(path, options);
  const { objectProgram } = await import('./object-file.js');
  return { program: named(path, () => objectProgram(path, options.section, options.maxSlots)) };
}

/** decodeProgramFileUnit (no program built: what disasm prints, maps included), its errors naming the file. */
export const decodeProgramNamed = (path: string, options: BuildOptions = {}): AsmUnit => named(path, () => decodeProgramFileUnit(path, options));
