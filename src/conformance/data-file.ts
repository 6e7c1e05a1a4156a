/**
 * Parser for the conformance suite's `.data` files: sections start with `-- NAME`, `#` lines are
 * comments (see ../shared/conformance/README.md).
 */
import { InputError } from '../errors.js';

export interface DataFile {
  /** The `-- asm` text, comments kept (the assembler strips them). */
  readonly asm?: string;
  /** The `-- raw` program as bytes. */
  readonly raw?: Uint8Array;
  readonly mem: Uint8Array;
  /** Expected r0, as an unsigned 64-bit value. */
  readonly result?: bigint;
  /** True when the file says the program must be refused (`-- error`). */
  readonly expectError: boolean;
  readonly errorText?: string;
}

function sections(text: string): Map<string, string[]> {
  const map = new Map<string, string[]>();
  let current: string[] | undefined;
  for (const line of text.split(/\r?\n/)) {
    const header = /^-- (.*)$/.exec(line);
    if (header) {
      current = [];
      map.set(header[1]!.trim(), current);
    } else if (current) {
      current.push(line);
    }
  }
  return map;
}

const dataLines = (lines: readonly string[]): string[] =>
  lines.map((l) => l.replace(/#.*/, '').trim()).filter((l) => l.length > 0);

function parseHexBytes(lines: readonly string[], what: string, file: string): number[] {
  const bytes: number[] = [];
  for (const token of dataLines(lines).join(' ').split(/\s+/).filter(Boolean)) {
    if (!/^[0-9a-fA-F]{1,2}$/.test(token)) throw new InputError(`${file}: ${what}: '${token}' is not a hex byte`);
    bytes.push(parseInt(token, 16));
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

export function parseDataFile(text: string, file = '<data>'): DataFile {
  const s = sections(text);
  const asm = s.get('asm');
  const raw = s.get('raw');
  const mem = s.get('mem');
  const result = s.get('result');
  const error = s.get('error');
  return {
    ...(asm ? { asm: asm.join('\n') } : {}),
    ...(raw ? { raw: parseRaw(raw, file) } : {}),
    mem: new Uint8Array(mem ? parseHexBytes(mem, 'mem', file) : []),
    ...(result ? { result: parseResult(result, file) } : {}),
    expectError: error !== undefined,
    ...(error ? { errorText: error.join('\n').trim() } : {}),
  };
}
