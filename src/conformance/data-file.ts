/**
 * Parser for the conformance suite's `.data` files: sections start with `-- NAME`, `#` lines are
 * comments (see ../shared/conformance/README.md). uBPF's tests also write `-- NAME @ PATH`: the
 * section's text is the file PATH, relative to the .data file (`-- asm @ tcp-sack.asm`), and give
 * `-- mem` as a hexdump (`0x0010:  0040 a8de ...`); both are read here.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { InputError } from '../errors.js';

export interface DataFile {
  /** The `-- asm` text, comments kept (the assembler strips them). */
  readonly asm?: string;
  /** Where the `-- asm` text is: its file (the .data file or the one it includes) and first line. */
  readonly asmAt?: { readonly file: string; readonly line: number };
  /** The `-- raw` program as bytes. */
  readonly raw?: Uint8Array;
  readonly mem: Uint8Array;
  /** Expected r0, as an unsigned 64-bit value. */
  readonly result?: bigint;
  /** True when the file says the program must be refused (`-- error`). */
  readonly expectError: boolean;
  readonly errorText?: string;
}

/** Reads the file an `@` section names (a path relative to the .data file). */
export type IncludeReader = (path: string) => string;

interface Section {
  readonly lines: string[];
  /** The file the lines are from, and the line number of the first one. */
  readonly file: string;
  readonly line: number;
}

const HEADER = /^-- (.*)$/;
const INCLUDE = /^(.*?)\s*@\s*(.+)$/;

function included(name: string, path: string, file: string, read: IncludeReader | undefined): Section {
  if (!read) throw new InputError(`${file}: -- ${name} @ ${path}: included files can only be read from a .data file on disk`);
  return { lines: read(path).split(/\r?\n/), file: join(dirname(file), path), line: 1 };
}

function sections(text: string, file: string, read: IncludeReader | undefined): Map<string, Section> {
  const map = new Map<string, Section>();
  let current: Section | undefined;
  let includeName: string | undefined;
  text.split(/\r?\n/).forEach((line, index) => {
    const header = HEADER.exec(line);
    if (!header) {
      if (includeName === undefined) current?.lines.push(line);
      else if (dataLines([line]).length > 0) {
        throw new InputError(`${file}:${index + 1}: -- ${includeName} takes its text from a file, so this line belongs to no section`);
      }
      return;
    }
    const [, rawName, path] = INCLUDE.exec(header[1]!.trim()) ?? [undefined, header[1]!.trim(), undefined];
    const name = rawName!;
    if (map.has(name)) throw new InputError(`${file}:${index + 1}: a second -- ${name} section`);
    current = path === undefined ? { lines: [], file, line: index + 2 } : included(name, path, file, read);
    includeName = path === undefined ? undefined : name;
    map.set(name, current);
  });
  return map;
}

const dataLines = (lines: readonly string[]): string[] =>
  lines.map((l) => l.replace(/#.*/, '').trim()).filter((l) => l.length > 0);

/**
 * Hex bytes separated by spaces; a token of more than two digits is several bytes in the order
 * written (`0026` is 00 26), and a leading `OFFSET:` is dropped, so hexdumps read as they are.
 */
function parseHexBytes(lines: readonly string[], what: string, file: string): number[] {
  const bytes: number[] = [];
  const text = dataLines(lines).map((l) => l.replace(/^(0x)?[0-9a-fA-F]+:\s/, '')).join(' ');
  for (const token of text.split(/\s+/).filter(Boolean)) {
    if (!/^[0-9a-fA-F]{1,2}$/.test(token) && !/^([0-9a-fA-F]{2})+$/.test(token)) {
      throw new InputError(`${file}: ${what}: '${token}' is not a hex byte`);
    }
    if (token.length <= 2) bytes.push(parseInt(token, 16));
    else for (let i = 0; i < token.length; i += 2) bytes.push(parseInt(token.slice(i, i + 2), 16));
  }
  return bytes;
}

/** `-- raw` is either one 0x-prefixed 64-bit word per line or 8 hex bytes per line. */
function parseRaw(lines: readonly string[], file: string): Uint8Array {
  const bytes: number[] = [];
  for (const line of dataLines(lines)) {
    if (/^0x[0-9a-fA-F]{1,16}$/.test(line)) {
      let word = BigInt(line);
      for (let i = 0; i < 8; i++, word >>= 8n) bytes.push(Number(word & 0xffn));
    } else {
      bytes.push(...parseHexBytes([line], 'raw', file));
    }
  }
  return new Uint8Array(bytes);
}

function parseResult(lines: readonly string[], file: string): bigint {
  const text = dataLines(lines)[0];
  if (text === undefined) throw new InputError(`${file}: empty -- result section`);
  try {
    return BigInt.asUintN(64, BigInt(text));
  } catch {
    throw new InputError(`${file}: result '${text}' is not a number`);
  }
}

/** Parses a .data file's text; `read` resolves `-- NAME @ PATH` sections (readDataFile passes one). */
export function parseDataFile(text: string, file = '<data>', read?: IncludeReader): DataFile {
  const s = sections(text, file, read);
  const { asm, raw, mem, result, error } = Object.fromEntries(s) as Partial<Record<string, Section>>;
  return {
    ...(asm ? { asm: asm.lines.join('\n'), asmAt: { file: asm.file, line: asm.line } } : {}),
    ...(raw ? { raw: parseRaw(raw.lines, raw.file) } : {}),
    mem: new Uint8Array(mem ? parseHexBytes(mem.lines, 'mem', mem.file) : []),
    ...(result ? { result: parseResult(result.lines, result.file) } : {}),
    expectError: error !== undefined,
    ...(error ? { errorText: error.lines.join('\n').trim() } : {}),
  };
}

/** Reads and parses a .data file, with its `@` includes, naming the file in every error. */
export function readDataFile(path: string): DataFile {
  const readOrFail = (p: string, what: string): string => {
    try {
      return readFileSync(p, 'utf8');
    } catch (err) {
      throw new InputError(`${what} '${p}': ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
    }
  };
  const text = readOrFail(path, 'cannot read');
  return parseDataFile(text, path, (inc) => readOrFail(join(dirname(path), inc), `${path}: cannot read the included file`));
}
