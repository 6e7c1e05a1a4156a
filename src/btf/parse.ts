/**
 * Reads a `.BTF` section (the kernel's Documentation/bpf/btf.rst): a header, a type list and a string
 * table. Every offset, length, string and type reference is checked, so a malformed section gives an
 * ObjectError naming the byte it could not read, and the Btf built from it holds only valid ids.
 */
import { ObjectError } from '../errors.js';
import { Btf } from './btf.js';
import type { BtfEnumValue, BtfKind, BtfMember, BtfParam, BtfType, BtfVarSecinfo } from './types.js';

const MAGIC = 0xeb9f;
const HEADER_MIN = 24;
/** The kind numbers' names, index = BTF_KIND_* number. */
const KINDS: readonly (BtfKind | undefined)[] = [
  undefined, 'int', 'ptr', 'array', 'struct', 'union', 'enum', 'fwd', 'typedef', 'volatile', 'const',
  'restrict', 'func', 'func_proto', 'var', 'datasec', 'float', 'decl_tag', 'type_tag', 'enum64',
];

/** A cursor over the section that turns every out-of-range read into an ObjectError. */
export class Reader {
  constructor(private readonly view: DataView, private readonly section: string, private readonly base: number) {}
  fail(offset: number, reason: string): never {
    throw new ObjectError('E_BTF', this.section, this.base + offset, reason);
  }
  u32(offset: number, what: string): number {
    if (offset < 0 || offset + 4 > this.view.byteLength) this.fail(offset, `${what} lies past the end of the section`);
    return this.view.getUint32(offset, true);
  }
  i32(offset: number, what: string): number {
    return this.u32(offset, what) | 0;
  }
}

interface Layout {
  readonly typeStart: number;
  readonly typeEnd: number;
  readonly strings: Uint8Array;
  readonly stringBase: number;
}

function readHeader(bytes: Uint8Array, r: Reader): Layout {
  if (bytes.length < HEADER_MIN) r.fail(0, `${bytes.length} bytes cannot hold the ${HEADER_MIN}-byte BTF header`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = view.getUint16(0, true);
  if (magic !== MAGIC) r.fail(0, `magic 0x${magic.toString(16)} is not BTF's 0xeb9f (a big-endian object is not supported)`);
  if (bytes[2] !== 1) r.fail(2, `BTF version ${bytes[2]} is not 1`);
  const hdrLen = r.u32(4, 'header length');
  if (hdrLen < HEADER_MIN || hdrLen > bytes.length) r.fail(4, `header length ${hdrLen} is outside ${HEADER_MIN}..${bytes.length}`);
  const [typeOff, typeLen, strOff, strLen] = [8, 12, 16, 20].map((o) => r.u32(o, 'header field'));
  const area = (off: number, len: number, at: number, what: string): number => {
    const start = hdrLen + off;
    if (start + len > bytes.length) r.fail(at, `${what} [${off}, +${len}) after the header lies past the section's ${bytes.length} bytes`);
    return start;
  };
  const typeStart = area(typeOff!, typeLen!, 8, 'type section');
  const stringBase = area(strOff!, strLen!, 16, 'string section');
  if (typeLen! % 4 !== 0) r.fail(12, `type section length ${typeLen} is not a multiple of 4`);
  const strings = bytes.subarray(stringBase, stringBase + strLen!);
  if (strLen! === 0 || strings[0] !== 0) r.fail(16, 'the string section must start with the empty string');
  if (strings[strLen! - 1] !== 0) r.fail(20, 'the string section does not end with a NUL byte');
  return { typeStart, typeEnd: typeStart + typeLen!, strings, stringBase };
}

/** Parses `.BTF` bytes; `section` names the section in errors. */
export function parseBtf(bytes: Uint8Array, section = '.BTF'): Btf {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const r = new Reader(view, section, 0);
  const layout = readHeader(bytes, r);
  const decoder = new TextDecoder('utf-8', { fatal: false });
  const name = (off: number, at: number): string => {
    if (off >= layout.strings.length) r.fail(at, `string offset ${off} is past the string section's ${layout.strings.length} bytes`);
    const end = layout.strings.indexOf(0, off);
    return decoder.decode(layout.strings.subarray(off, end));
  };
  const types: BtfType[] = [{ kind: 'void', id: 0, name: '' }];
  for (let at = layout.typeStart; at < layout.typeEnd;) {
    const [type, next] = readType(r, name, types.length, at, layout.typeEnd);
    types.push(type);
    at = next;
  }
  const btf = new Btf(types, layout.strings, section);
  checkReferences(btf, r, layout.typeStart);
  return btf;
}

type NameOf = (off: number, at: number) => string;

/** One type record at `at`; returns it and where the next one starts. */
function readType(r: Reader, name: NameOf, id: number, at: number, end: number): [BtfType, number] {
  if (at + 12 > end) r.fail(at, `type ${id}: its 12-byte record runs past the type section`);
  const info = r.u32(at + 4, 'type info');
  const vlen = info & 0xffff;
  const kindNo = (info >>> 24) & 0x1f;
  const kindFlag = info >>> 31 === 1;
  const kind = KINDS[kindNo];
  if (kind === undefined) r.fail(at + 4, `type ${id}: unknown kind ${kindNo}`);
  const base = { id, name: name(r.u32(at, 'name'), at) };
  const sizeOrType = r.u32(at + 8, 'size/type');
  const body = at + 12;
  const need = (bytes: number): number => {
    if (body + bytes > end) r.fail(body, `type ${id} (${kind}): its ${bytes} bytes of data run past the type section`);
    return body + bytes;
  };
  switch (kind) {
    case 'int': {
      const enc = r.u32(need(4) - 4, 'int encoding');
      const bits = enc & 0xff;
      const bitOffset = (enc >>> 16) & 0xff;
      const flags = (enc >>> 24) & 0xf;
      if (sizeOrType > 16 || bits > sizeOrType * 8 || bits + bitOffset > sizeOrType * 8) {
        r.fail(body, `type ${id} (int ${base.name}): ${bits} bits at ${bitOffset} do not fit its ${sizeOrType} bytes`);
      }
      return [{ ...base, kind, size: sizeOrType, signed: (flags & 1) !== 0, char: (flags & 2) !== 0, bool: (flags & 4) !== 0, bits, bitOffset }, body + 4];
    }
    case 'ptr': case 'typedef': case 'volatile': case 'const': case 'restrict': case 'type_tag':
      return [{ ...base, kind, type: sizeOrType }, body];
    case 'fwd':
      return [{ ...base, kind, union: kindFlag }, body];
    case 'func':
      return [{ ...base, kind, type: sizeOrType, linkage: vlen }, body];
    case 'float':
      return [{ ...base, kind, size: sizeOrType }, body];
    case 'array': {
      const next = need(12);
      return [{ ...base, kind, type: r.u32(body, 'array type'), indexType: r.u32(body + 4, 'index type'), nelems: r.u32(body + 8, 'nelems') }, next];
    }
    case 'struct': case 'union': {
      const next = need(12 * vlen);
      const members: BtfMember[] = [];
      for (let i = 0, m = body; i < vlen; i++, m += 12) {
        const off = r.u32(m + 8, 'member offset');
        members.push({
          name: name(r.u32(m, 'member name'), m), type: r.u32(m + 4, 'member type'),
          bitOffset: kindFlag ? off & 0xffffff : off, bitfieldSize: kindFlag ? off >>> 24 : 0,
        });
      }
      return [{ ...base, kind, size: sizeOrType, members }, next];
    }
    case 'enum': case 'enum64': {
      const width = kind === 'enum' ? 8 : 12;
      const next = need(width * vlen);
      const values: BtfEnumValue[] = [];
      for (let i = 0, m = body; i < vlen; i++, m += width) {
        const lo = r.u32(m + 4, 'enum value');
        const value = kind === 'enum'
          ? (kindFlag ? BigInt(lo | 0) : BigInt(lo))
          : BigInt.asIntN(64, (BigInt(r.u32(m + 8, 'enum value')) << 32n) | BigInt(lo));
        values.push({ name: name(r.u32(m, 'enumerator name'), m), value: kind === 'enum64' && !kindFlag ? BigInt.asUintN(64, value) : value });
      }
      return [{ ...base, kind, size: sizeOrType, signed: kindFlag, values }, next];
    }
    case 'func_proto': {
      const next = need(8 * vlen);
      const params: BtfParam[] = [];
      for (let i = 0, m = body; i < vlen; i++, m += 8) params.push({ name: name(r.u32(m, 'param name'), m), type: r.u32(m + 4, 'param type') });
      return [{ ...base, kind, type: sizeOrType, params }, next];
    }
    case 'var':
      return [{ ...base, kind, type: sizeOrType, linkage: r.u32(need(4) - 4, 'var linkage') }, body + 4];
    case 'datasec': {
      const next = need(12 * vlen);
      const vars: BtfVarSecinfo[] = [];
      for (let i = 0, m = body; i < vlen; i++, m += 12) {
        vars.push({ type: r.u32(m, 'datasec var'), offset: r.u32(m + 4, 'datasec offset'), size: r.u32(m + 8, 'datasec size') });
      }
      return [{ ...base, kind, size: sizeOrType, vars }, next];
    }
    case 'decl_tag':
      return [{ ...base, kind, type: sizeOrType, componentIdx: r.i32(need(4) - 4, 'component index') }, body + 4];
    default:
      return r.fail(at + 4, `type ${id}: kind ${kind} cannot appear in .BTF`);
  }
}

/** Every type id a type names must exist, so users of a Btf never meet a dangling id. */
function checkReferences(btf: Btf, r: Reader, typeStart: number): void {
  const count = btf.types.length;
  for (const t of btf.types) {
    const refs: number[] = [];
    if ('type' in t) refs.push(t.type);
    if (t.kind === 'array') refs.push(t.indexType);
    if (t.kind === 'struct' || t.kind === 'union') for (const m of t.members) refs.push(m.type);
    if (t.kind === 'func_proto') for (const p of t.params) refs.push(p.type);
    if (t.kind === 'datasec') for (const v of t.vars) refs.push(v.type);
    for (const ref of refs) {
      if (ref >= count) r.fail(typeStart, `type ${t.id} (${t.kind} ${t.name || '(anon)'}) refers to type ${ref}, but there are only ${count - 1}`);
    }
  }
}
