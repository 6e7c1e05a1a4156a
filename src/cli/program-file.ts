/** Program files as the commands load them: every error names the file. */
import { BpfError, ProgramError } from '../errors.js';
import { loadProgramFile, type ProgramFile } from '../source.js';

/**
 * loadProgramFile, with decoding and structure errors (`pc 3: ...`) prefixed by the file's path;
 * assembler errors already read `file:line:column`, and input errors name the file themselves.
 */
export function loadProgramNamed(path: string): ProgramFile {
  try {
    return loadProgramFile(path);
  } catch (err) {
    if (err instanceof ProgramError) throw new BpfError(err.code, `${path}: ${err.message}`);
    throw err;
  }
}
