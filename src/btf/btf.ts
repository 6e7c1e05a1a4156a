/**
 * A parsed `.BTF` section (src/btf/parse.ts): the types by id and the string table that `.BTF.ext`
 * records point into. Every id a type refers to exists, so lookups here fail only on cycles and on
 * types that have no size, each with an ObjectError naming the type.
 */
import { ObjectError } from '../errors.js';
import type { BtfKind, BtfType, BtfTypeOf } from './types.js';

/** How deep a chain of typedefs and qualifiers may go (the kernel's MAX_RESOLVE_DEPTH). */
const MAX_DEPTH = 32;

const MODIFIERS: ReadonlySet<BtfKind> = new Set(['typedef', 'volatile', 'const', 'restrict', 'type_tag']);

export class Btf {
  private byNameIndex: Map<string, BtfType[]> | undefined;

  constructor(
    /** Index = type id; 0 is void. */
    readonly types: readonly BtfType[],
    private readonly strings: Uint8Array,
    readonly section = '.BTF',
  ) {}

  private fail(reason: string): never {
    throw new ObjectError('E_BTF', this.section, 0, reason);
  }

  type(id: number): BtfType {
    const t = this.types[id];
    if (t === undefined) this.fail(`type id ${id} does not exist (there are ${this.types.length - 1} types)`);
    return t;
  }

  /** The type as `kind`, or an error saying what it is instead. */
  typeOf<K extends BtfKind>(id: number, kind: K, what: string): BtfTypeOf<K> {
    const t = this.type(id);
    if (t.kind !== kind) this.fail(`${what}: type ${id} is ${describe(t)}, not a ${kind}`);
    return t as BtfTypeOf<K>;
  }

  /** The id past typedefs and qualifiers (const, volatile, restrict, type tags). */
  skipModifiers(id: number): number {
    for (let depth = 0; depth <= MAX_DEPTH; depth++) {
      const t = this.type(id);
      if (!MODIFIERS.has(t.kind)) return id;
      id = (t as BtfTypeOf<'typedef'>).type;
    }
    return this.fail(`type ${id}: more than ${MAX_DEPTH} typedefs and qualifiers in a row (a cycle?)`);
  }

  /** The size in bytes of a value of type `id`. */
  sizeOf(id: number, depth = 0): number {
    if (depth > MAX_DEPTH) this.fail(`type ${id}: nested more than ${MAX_DEPTH} deep (a cycle?)`);
    const t = this.type(this.skipModifiers(id));
    switch (t.kind) {
      case 'int': case 'enum': case 'enum64': case 'struct': case 'union': case 'float': case 'datasec':
        return t.size;
      case 'ptr':
        return 8;
      case 'array':
        return t.nelems * this.sizeOf(t.type, depth + 1);
      case 'var':
        return this.sizeOf(t.type, depth + 1);
      default:
        return this.fail(`type ${t.id} is ${describe(t)}, which has no size`);
    }
  }

  /** The first type named `name` (of `kind`, when given). */
  byName(name: string, kind?: BtfKind): BtfType | undefined {
    this.byNameIndex ??= indexByName(this.types);
    return this.byNameIndex.get(name)?.find((t) => kind === undefined || t.kind === kind);
  }

  /** Every type named `name`. */
  allByName(name: string): readonly BtfType[] {
    this.byNameIndex ??= indexByName(this.types);
    return this.byNameIndex.get(name) ?? [];
  }

  /** The string at `offset` in the string table (`.BTF.ext` names file and source lines this way). */
  stringAt(offset: number): string | undefined {
    if (!Number.isInteger(offset) || offset < 0 || offset >= this.strings.length) return undefined;
    return new TextDecoder().decode(this.strings.subarray(offset, this.strings.indexOf(0, offset)));
  }

  /** A C-like spelling of the type, for messages and listings: `struct event`, `u32 *`, `char[16]`. */
  typeName(id: number, depth = 0): string {
    const t = this.type(id);
    if (depth > MAX_DEPTH) return '...';
    switch (t.kind) {
      case 'void': return 'void';
      case 'ptr': return `${this.typeName(t.type, depth + 1)} *`;
      case 'const': case 'volatile': case 'restrict': return `${t.kind} ${this.typeName(t.type, depth + 1)}`;
      case 'type_tag': return this.typeName(t.type, depth + 1);
      case 'array': return `${this.typeName(t.type, depth + 1)}[${t.nelems}]`;
      case 'struct': case 'union': case 'fwd': return `${t.kind === 'fwd' ? (t.union ? 'union' : 'struct') : t.kind} ${t.name || '(anon)'}`;
      case 'enum': case 'enum64': return `enum ${t.name || '(anon)'}`;
      case 'func_proto': return `${this.typeName(t.type, depth + 1)} (*)(${t.params.map((p) => this.typeName(p.type, depth + 1)).join(', ')})`;
      default: return t.name || `(anon ${t.kind})`;
    }
  }
}

function describe(t: BtfType): string {
  return `${t.kind === 'int' || t.kind === 'enum' ? 'an' : 'a'} ${t.kind}${t.name ? ` '${t.name}'` : ''}`;
}

function indexByName(types: readonly BtfType[]): Map<string, BtfType[]> {
  const index = new Map<string, BtfType[]>();
  for (const t of types) {
    if (t.name === '') continue;
    let list = index.get(t.name);
    if (!list) index.set(t.name, (list = []));
    list.push(t);
  }
  return index;
}
