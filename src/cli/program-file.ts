/** Program files as the commands load them: every error names the file. */
import { BpfError, ProgramError } from '../errors.js';
import type { AsmUnit } from '../asm/index.js';
import { decodeProgramFileUnit, loadProgramFile, type BuildOptions, type ProgramFile } from '../source.js';

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
export const loadProgramNamed = (path: string, options: BuildOptions = {}): ProgramFile => named(path, () => loadProgramFile(path, options));

/** decodeProgramFileUnit (no program built: what disasm prints, maps included), its errors naming the file. */
export const decodeProgramNamed = (path: string, options: BuildOptions = {}): AsmUnit => named(path, () => decodeProgramFileUnit(path, options));
