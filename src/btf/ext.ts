/**
 * Reads a `.BTF.ext` section (the kernel's Documentation/bpf/btf.rst, "BTF.ext"): per program section,
 * the function info (which BTF func starts where), the line info (which C line each instruction came
 * from) and the CO-RE relocations. Names and source text are offsets into the `.BTF` string table, so
 * parsing needs the Btf. Every offset, length, string and record is checked: a malformed section is an
 * ObjectError ('E_BTF', '.BTF.ext', the byte offset of what could not be read).
 */
import { Reader } from './parse.js';
import type { Btf } from './btf.js';
import type { SourceLine } from '../program/source-lines.js';

const MAGIC = 0xeb9f;
/** The header without the CO-RE fields (older objects) and with them. */
const HEADER_BASE = 24;
const HEADER_CORE = 32;
const INSN_BYTES = 8;

/** CO-RE relocation kinds, index = `enum bpf_core_relo_kind` number. */
export const CORE_KINDS = [
  'field_byte_offset', 'field_byte_size', 'field_exists', 'field_signed', 'field_lshift_u64',
  'field_rshift_u64', 'type_id_local', 'type_id_target', 'type_exists', 'type_size', 'enumval_exists',
  'enumval_value', 'type_matches',
] as const;
export type CoreKind = (typeof CORE_KINDS)[number];

export interface FuncInfo {
  /** Instruction (slot) index inside the section. */
  readonly insn: number;
  readonly typeId: number;
}

export interface LineInfo {
  readonly insn: number;
  readonly file: string;
  /** The source line's text ('' when clang left it out). */
  readonly text: string;
  readonly line: number;
  readonly column: number;
}

export interface CoreRelo {
  readonly insn: number;
  /** The root type, in the object's BTF. */
  readonly typeId: number;
  /** The access string as clang wrote it: `0:1:2` (indexes), or an enumerator's index. */
  readonly access: string;
  /** The access string's numbers. */
  readonly path: readonly number[];
  readonly kind: CoreKind;
}

/** Records by program section name. */
export interface BtfExt {
  readonly funcInfo: ReadonlyMap<string, readonly FuncInfo[]>;
  readonly lineInfo: ReadonlyMap<string, readonly LineInfo[]>;
  readonly coreRelos: ReadonlyMap<string, readonly CoreRelo[]>;
}

/** What one record kind needs: its smallest size and how to read one at a byte offset. */
interface RecordKind<T> {
  readonly what: string;
  readonly minSize: number;
  read(r: ExtReader, at: number): T;
}

/** A Reader that also resolves `.BTF` strings and checks type ids and instruction offsets. */
class ExtReader extends Reader {
  constructor(view: DataView, private readonly btf: Btf, section: string) {
    super(view, section, 0);
  }

  string(at: number, what: string): string {
    const off = this.u32(at, what);
    const s = this.btf.stringAt(off);
    if (s === undefined) this.fail(at, `${what}: string offset ${off} is outside the .BTF string table`);
    return s;
  }

  typeId(at: number, what: string): number {
    const id = this.u32(at, what);
    if (id >= this.btf.types.length) this.fail(at, `${what}: type ${id} does not exist (the .BTF has ${this.btf.types.length - 1} types)`);
    return id;
  }

  insn(at: number): number {
    const off = this.u32(at, 'instruction offset');
    if (off % INSN_BYTES !== 0) this.fail(at, `instruction offset ${off} is not a multiple of ${INSN_BYTES}`);
    return off / INSN_BYTES;
  }
}

const FUNC_INFO: RecordKind<FuncInfo> = {
  what: 'func info', minSize: 8,
  read: (r, at) => ({ insn: r.insn(at), typeId: r.typeId(at + 4, 'func info type') }),
};

const LINE_INFO: RecordKind<LineInfo> = {
  what: 'line info', minSize: 16,
  read: (r, at) => {
    const lineCol = r.u32(at + 12, 'line/column');
    return {
      insn: r.insn(at), file: r.string(at + 4, 'file name'), text: r.string(at + 8, 'source line'),
      line: lineCol >>> 10, column: lineCol & 0x3ff,
    };
  },
};

const CORE_RELO: RecordKind<CoreRelo> = {
  what: 'CO-RE relocation', minSize: 16,
  read: (r, at) => {
    const access = r.string(at + 8, 'access string');
    if (!/^\d+(:\d+)*$/.test(access)) r.fail(at + 8, `access string '${access}' is not numbers separated by ':'`);
    const kindNo = r.u32(at + 12, 'relocation kind');
    const kind = CORE_KINDS[kindNo];
    if (kind === undefined) return r.fail(at + 12, `unknown CO-RE relocation kind ${kindNo}`);
    const path = access.split(':').map(Number);
    if (path.some((n) => !Number.isSafeInteger(n))) r.fail(at + 8, `access string '${access}' has a number too large`);
    return { insn: r.insn(at), typeId: r.typeId(at + 4, 'relocation type'), access, path, kind };
  },
};

/**
 * One info area: `u32 rec_size`, then per section `{u32 name_off, u32 count, records}`. A record may
 * be larger than the fields we know (a newer clang); rec_size says how far to step.
 */
function readArea<T>(r: ExtReader, start: number, len: number, kind: RecordKind<T>): Map<string, T[]> {
  const out = new Map<string, T[]>();
  if (len === 0) return out;
  const end = start + len;
  const recSize = r.u32(start, `${kind.what} record size`);
  if (recSize < kind.minSize || recSize % 4 !== 0) {
    r.fail(start, `${kind.what} record size ${recSize} is smaller than ${kind.minSize} or not a multiple of 4`);
  }
  for (let at = start + 4; at < end;) {
    if (at + 8 > end) r.fail(at, `${kind.what}: a section header runs past the area's end`);
    const name = r.string(at, `${kind.what} section name`);
    const count = r.u32(at + 4, `${kind.what} record count`);
    if (count === 0) r.fail(at + 4, `${kind.what} for section '${name}' has no records`);
    if (count > (end - at - 8) / recSize) r.fail(at + 4, `${count} ${kind.what} records of ${recSize} bytes for section '${name}' run past the area's end`);
    const list = out.get(name) ?? [];
    out.set(name, list);
    at += 8;
    for (let i = 0; i < count; i++, at += recSize) list.push(kind.read(r, at));
  }
  return out;
}

/** Parses `.BTF.ext` bytes against the object's `.BTF`; `section` names the section in errors. */
export function parseBtfExt(bytes: Uint8Array, btf: Btf, section = '.BTF.ext'): BtfExt {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const r = new ExtReader(view, btf, section);
  if (bytes.length < HEADER_BASE) r.fail(0, `${bytes.length} bytes cannot hold the ${HEADER_BASE}-byte .BTF.ext header`);
  const magic = view.getUint16(0, true);
  if (magic !== MAGIC) r.fail(0, `magic 0x${magic.toString(16)} is not BTF's 0xeb9f (a big-endian object is not supported)`);
  if (bytes[2] !== 1) r.fail(2, `.BTF.ext version ${bytes[2]} is not 1`);
  const hdrLen = r.u32(4, 'header length');
  if (hdrLen < HEADER_BASE || hdrLen > bytes.length || hdrLen % 4 !== 0) {
    r.fail(4, `header length ${hdrLen} is not a multiple of 4 in ${HEADER_BASE}..${bytes.length}`);
  }
  const area = <T>(at: number, kind: RecordKind<T>): Map<string, T[]> => {
    if (at + 8 > hdrLen) return new Map(); // an older header without this area
    const off = r.u32(at, `${kind.what} offset`);
    const len = r.u32(at + 4, `${kind.what} length`);
    if (hdrLen + off + len > bytes.length) r.fail(at, `${kind.what} area [${off}, +${len}) after the header lies past the section's ${bytes.length} bytes`);
    if (off % 4 !== 0) r.fail(at, `${kind.what} area offset ${off} is not a multiple of 4`);
    return readArea(r, hdrLen + off, len, kind);
  };
  return {
    funcInfo: area(8, FUNC_INFO),
    lineInfo: area(16, LINE_INFO),
    coreRelos: hdrLen >= HEADER_CORE ? area(24, CORE_RELO) : new Map(),
  };
}

/** One section's line info as a program's source lines (Program.lines); `firstPc` is where the section's code starts in the program. */
export function sourceLines(infos: readonly LineInfo[], firstPc = 0): SourceLine[] {
  return infos.map(({ insn, file, text, line, column }) => ({ pc: firstPc + insn, file, text, line, column }));
}
