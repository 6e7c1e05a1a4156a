/**
 * ELF64 little-endian relocatable files, as clang writes BPF objects (`clang -target bpf -c`): the
 * file header and the section headers with their names. Every read is bounds-checked first, so a
 * malformed file is an ObjectError naming the section and the byte offset, never a RangeError.
 */
import { ObjectError } from '../errors.js';
import { MAX_VALUE_SIZE } from '../maps/spec.js';

export const EM_BPF = 247;
export const ET_REL = 1;
export const SHT = { NULL: 0, PROGBITS: 1, SYMTAB: 2, STRTAB: 3, REL: 9, NOBITS: 8 } as const;
export const SHF = { WRITE: 0x1, ALLOC: 0x2, EXECINSTR: 0x4 } as const;

const EHDR_SIZE = 64;
const SHDR_SIZE = 64;

export interface Section {
  readonly index: number;
  readonly name: string;
  readonly type: number;
  readonly flags: number;
  /** Where its bytes start in the file (meaningless for NOBITS). */
  readonly offset: number;
  readonly size: number;
  readonly link: number;
  readonly info: number;
  readonly entsize: number;
}

/** An ObjectError (E_ELF) at `offset` of `section` ('' for the file header). */
export const elfError = (section: string, offset: number, reason: string): ObjectError =>
  new ObjectError('E_ELF', section, offset, reason);

/** The file's bytes with checked little-endian reads. */
export class ElfBytes {
  private readonly view: DataView;
  readonly bytes: Uint8Array;
  constructor(bytes: Uint8Array) {
    // A copy as a plain Uint8Array: a Node Buffer's slice() shares memory, and sections are sliced out.
    this.bytes = new Uint8Array(bytes);
    this.view = new DataView(this.bytes.buffer);
  }

  /** Throws unless [at, at + size) lies in the file; `where` names what is read for the error. */
  need(at: number, size: number, section: string, offset: number, what: string): void {
    if (at < 0 || size < 0 || at + size > this.bytes.length) {
      throw elfError(section, offset, `${what} (${size} bytes at file offset 0x${at.toString(16)}) lies outside the file of ${this.bytes.length} bytes`);
    }
  }

  u8(at: number): number { return this.view.getUint8(at); }
  u16(at: number): number { return this.view.getUint16(at, true); }
  u32(at: number): number { return this.view.getUint32(at, true); }
  i32(at: number): number { return this.view.getInt32(at, true); }
  /** A 64-bit field that must fit a JavaScript number (offsets and sizes of a file in memory). */
  u64(at: number, section: string, offset: number, what: string): number {
    const v = this.view.getBigUint64(at, true);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw elfError(section, offset, `${what} 0x${v.toString(16)} is too large`);
    return Number(v);
  }
}

function checkIdent(f: ElfBytes): void {
  if (f.bytes.length < EHDR_SIZE) throw elfError('', f.bytes.length, `truncated: ${f.bytes.length} bytes, an ELF64 header needs ${EHDR_SIZE}`);
  if (f.u32(0) !== 0x464c457f) throw elfError('', 0, 'not an ELF file (bad magic)');
  if (f.u8(4) !== 2) throw elfError('', 4, `ELF class ${f.u8(4)}: a BPF object is ELF64 (class 2)`);
  if (f.u8(5) !== 1) throw elfError('', 5, `ELF data encoding ${f.u8(5)}: only little-endian (1) objects are supported`);
  if (f.u8(6) !== 1) throw elfError('', 6, `ELF version ${f.u8(6)}: expected 1`);
  if (f.u16(16) !== ET_REL) throw elfError('', 16, `ELF type ${f.u16(16)}: expected a relocatable object (ET_REL, 1), as clang -c writes`);
  if (f.u16(18) !== EM_BPF) throw elfError('', 18, `machine ${f.u16(18)}: not a BPF object (EM_BPF is ${EM_BPF})`);
  if (f.u32(20) !== 1) throw elfError('', 20, `ELF version ${f.u32(20)}: expected 1`);
}

function readSectionHeader(f: ElfBytes, shoff: number, index: number): Omit<Section, 'name'> & { nameOffset: number } {
  const at = shoff + index * SHDR_SIZE;
  const where = `#${index}`;
  const sec = {
    index, nameOffset: f.u32(at), type: f.u32(at + 4), flags: f.u64(at + 8, where, 8, 'flags'),
    offset: f.u64(at + 24, where, 24, 'offset'), size: f.u64(at + 32, where, 32, 'size'),
    link: f.u32(at + 40), info: f.u32(at + 44), entsize: f.u64(at + 56, where, 56, 'entry size'),
  };
  return sec;
}

/** A section's contents must lie in the file (NOBITS has none); `name` is how errors name it. */
function checkContents(f: ElfBytes, s: Omit<Section, 'name'>, name: string): void {
  if (s.type !== SHT.NOBITS && s.type !== SHT.NULL) f.need(s.offset, s.size, name, 24, `section ${s.index}'s contents`);
}

/** A NUL-terminated string at `offset` of a string table section. */
export function stringAt(f: ElfBytes, table: Section, offset: number, user: string, userOffset: number): string {
  if (table.type !== SHT.STRTAB) throw elfError(user, userOffset, `names its strings in section ${table.index} ('${table.name}'), which is not a string table`);
  if (offset >= table.size) {
    throw elfError(user, userOffset, `string index ${offset} is outside ${table.name || 'the string table'} (${table.size} bytes)`);
  }
  const start = table.offset + offset;
  const end = f.bytes.indexOf(0, start);
  if (end < 0 || end >= table.offset + table.size) throw elfError(table.name, offset, 'string not NUL-terminated inside the table');
  return new TextDecoder().decode(f.bytes.subarray(start, end));
}

/** The checked file header and every section header, with names from the section name table. */
export function readSections(f: ElfBytes): Section[] {
  checkIdent(f);
  const shoff = f.u64(40, '', 40, 'section header offset');
  const shentsize = f.u16(58);
  let shnum = f.u16(60);
  const shstrndx = f.u16(62);
  if (shnum === 0 && shoff === 0) return [];
  if (shentsize !== SHDR_SIZE) throw elfError('', 58, `section header size ${shentsize}: ELF64 needs ${SHDR_SIZE}`);
  f.need(shoff, SHDR_SIZE, '', 40, 'the first section header');
  // More than 0xff00 sections put the count in section 0's size (the ELF extension); clang never needs it.
  if (shnum === 0) shnum = f.u64(shoff + 32, '#0', 32, 'section count');
  f.need(shoff, shnum * SHDR_SIZE, '', 60, `${shnum} section headers`);
  const raw = Array.from({ length: shnum }, (_, i) => readSectionHeader(f, shoff, i));
  if (shstrndx === 0 || shstrndx >= shnum) throw elfError('', 62, `section name table index ${shstrndx} is not one of the ${shnum} sections`);
  const names = { ...raw[shstrndx]!, name: '.shstrtab' };
  checkContents(f, names, names.name);
  // Names first, so an error about a section's contents names the section.
  return raw.map(({ nameOffset, ...s }) => {
    const name = stringAt(f, names, nameOffset, `#${s.index}`, 0);
    checkContents(f, s, name || `#${s.index}`);
    return { ...s, name };
  });
}

/** A section's bytes (zeros for NOBITS, which must fit a map value: they become one). */
export function sectionBytes(f: ElfBytes, s: Section): Uint8Array {
  if (s.type === SHT.NOBITS && s.size > MAX_VALUE_SIZE) throw elfError(s.name, 0, `${s.size} bytes of zeros: more than a map value holds (${MAX_VALUE_SIZE})`);
  return s.type === SHT.NOBITS ? new Uint8Array(s.size) : f.bytes.slice(s.offset, s.offset + s.size);
}
