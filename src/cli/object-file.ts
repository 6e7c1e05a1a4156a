/**
 * ELF objects on the command line: told from other program files by their magic, one program chosen
 * by `--section` (a section or a program name), `--set NAME=VALUE` settings for their globals, and the
 * program built as loadObject builds it (CO-RE applied, source lines kept) for the commands that only
 * look at it (disasm, cfg, dump-wasm).
 */
import { objectBtf, parseObject, type ObjectSpec, type ProgramSpec } from '../elf/index.js';
import { buildObjectProgram } from '../elf/program-build.js';
import { BpfError, InputError, ObjectError } from '../errors.js';
import type { Program } from '../program/program.js';
import { readInputFile } from '../source.js';

/** The parsed object; a malformed one is an error naming the file, then the section and offset (exit 2). */
export function readObject(path: string): ObjectSpec {
  const bytes = new Uint8Array(readInputFile(path));
  try {
    return parseObject(bytes, { file: path });
  } catch (err) {
    if (err instanceof ObjectError) throw new BpfError(err.code, `${path}: ${err.message}`);
    throw err;
  }
}


const programList = (spec: ObjectSpec): string =>
  spec.programs.map((p) => `${p.name} (${p.section})`).join(', ') || 'none';

/** `--section NAME`: a program by its section or its own name; without one, the object's only program. */
export function chooseProgram(spec: ObjectSpec, section: string | undefined, file: string): ProgramSpec {
  if (section === undefined) {
    if (spec.programs.length === 1) return spec.programs[0]!;
    const why = spec.programs.length === 0 ? 'has no programs' : `has ${spec.programs.length} programs: choose one with --section`;
    throw new InputError(`${file} ${why} (its programs: ${programList(spec)})`);
  }
  const byName = spec.programs.find((p) => p.name === section);
  if (byName) return byName;
  const inSection = spec.programs.filter((p) => p.section === section);
  if (inSection.length === 1) return inSection[0]!;
  if (inSection.length > 1) throw new InputError(`--section ${section}: ${file} has ${inSection.length} programs in it: give a program name (${programList(spec)})`);
  throw new InputError(`--section ${section}: ${file} has no such section or program (its programs: ${programList(spec)})`);
}

/** The program as loadObject builds it, with the specs of the maps it names (by map_by_idx). */
export function objectProgram(path: string, section: string | undefined, maxSlots?: number): Program {
  const spec = readObject(path);
  const p = chooseProgram(spec, section, path);
  const program = buildObjectProgram(p, objectBtf(spec), undefined, maxSlots);
  return { ...program, maps: p.maps.map((i) => spec.maps[i]!.spec) };
}
