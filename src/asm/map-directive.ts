/**
 * The `.map` directive, the same in both syntaxes, with bpftool's `map create` words:
 *   .map NAME TYPE key SIZE value SIZE entries N [flags F] [buffer BYTES] [spin_lock OFFSET]
 * e.g. `.map counts percpu_array key 4 value 8 entries 1`. `buffer` is a perf_event_array's bytes per
 * output buffer, `spin_lock` the offset of a `struct bpf_spin_lock` in a hash or array map's value. The clauses after TYPE may come in any
 * order. Declarations number the maps in order, the index `map_by_idx(N)` uses.
 */
import { AsmError, InputError } from '../errors.js';
import type { MapSpec } from '../maps/spec.js';
import { validateSpec, type ValidSpec } from '../maps/spec.js';
import type { Cursor } from './cursor.js';

export const MAP_DIRECTIVE = '.map';

/** A map as declared: the spec, validated and in canonical form, and where its name is. */
export interface MapDecl {
  readonly spec: MapSpec;
  readonly line: number;
  readonly column: number;
}

const CLAUSES = {
  key: 'keySize', value: 'valueSize', entries: 'maxEntries', flags: 'flags', buffer: 'bufferSize', spin_lock: 'spinLockOffset',
} as const;
type Clause = keyof typeof CLAUSES;
const isClause = (word: string): word is Clause => Object.hasOwn(CLAUSES, word);

/** Parses a `.map` line; the cursor is on `.map`. */
export function parseMapDirective(c: Cursor): MapDecl {
  const head = c.next()!;
  const name = c.expectIdent('a map name after .map');
  const type = c.expectIdent('a map type (hash, array, percpu_array, ...)');
  const values: Partial<Record<Clause, number>> = {};
  const columns: Partial<Record<Clause, number>> = {};
  while (!c.atEnd()) {
    const word = c.expectIdent(`one of ${Object.keys(CLAUSES).join(', ')}`);
    if (!isClause(word.text)) throw c.error('E_ASM_SYNTAX', `unknown map attribute '${word.text}' (${Object.keys(CLAUSES).join(', ')})`, word.column);
    if (values[word.text] !== undefined) throw c.error('E_ASM_SYNTAX', `'${word.text}' is given twice`, word.column);
    const n = c.readNumberText(`a number after '${word.text}'`);
    const value = BigInt(n.digits);
    if (n.negative || value > 0xffffffffn) throw c.error('E_ASM_RANGE', `${n.negative ? '-' : ''}${n.digits} does not fit in an unsigned 32-bit field`, n.column);
    values[word.text] = Number(value);
    columns[word.text] = word.column;
  }
  const missing = (['key', 'value', 'entries'] as const).filter((k) => values[k] === undefined);
  if (missing.length > 0) throw c.error('E_ASM_MAP', `map '${name.text}' needs ${missing.map((k) => `'${k} N'`).join(', ')}`, c.endColumn);
  const spec: MapSpec = {
    name: name.text, type: type.text, keySize: values.key!, valueSize: values.value!, maxEntries: values.entries!, flags: values.flags ?? 0,
    ...(values.buffer === undefined ? {} : { bufferSize: values.buffer }),
    ...(values.spin_lock === undefined ? {} : { spinLockOffset: values.spin_lock }),
  };
  try {
    return { spec: canonicalSpec(validateSpec(spec)), line: c.line, column: name.column };
  } catch (err) {
    if (!(err instanceof InputError)) throw err;
    throw new AsmError('E_ASM_MAP', c.line, specErrorColumn(err.message, { name: name.column, type: type.column, head: head.column, columns }), inDirectiveWords(err.message));
  }
}

/** A valid spec as a declaration gives it: the optional fields only where they apply. */
function canonicalSpec(v: ValidSpec): MapSpec {
  return {
    name: v.name, type: v.typeName, keySize: v.keySize, valueSize: v.valueSize, maxEntries: v.maxEntries, flags: v.flags,
    ...(v.bufferSize === undefined ? {} : { bufferSize: v.bufferSize }),
    ...(v.spinLockOffset === undefined ? {} : { spinLockOffset: v.spinLockOffset }),
  };
}

/** The column of what validateSpec's message is about: a clause, the type or the name. */
function specErrorColumn(message: string, at: { name: number; type: number; head: number; columns: Partial<Record<Clause, number>> }): number {
  for (const [clause, field] of Object.entries(CLAUSES) as Array<[Clause, string]>) {
    if (message.includes(`: ${field} `)) return at.columns[clause] ?? at.head;
  }
  if (message.startsWith('map name')) return at.name;
  return message.includes('map type') ? at.type : at.head;
}

/** validateSpec speaks of keySize, valueSize and maxEntries; the directive says key, value and entries. */
function inDirectiveWords(message: string): string {
  return message.replace(/\b(keySize|valueSize|maxEntries|bufferSize|spinLockOffset)\b/g, (field) =>
    Object.entries(CLAUSES).find(([, f]) => f === field)![0]);
}

/** A spec as a `.map` line; the caller picks the name (specs may be unnamed). */
export function formatMapDirective(spec: MapSpec, name: string): string {
  const v = validateSpec({ ...spec, name: '' });
  const flags = v.flags === 0 ? '' : ` flags 0x${v.flags.toString(16)}`;
  const buffer = v.bufferSize === undefined ? '' : ` buffer ${v.bufferSize}`;
  const lock = v.spinLockOffset === undefined ? '' : ` spin_lock ${v.spinLockOffset}`;
  return `${MAP_DIRECTIVE} ${name} ${v.typeName} key ${v.keySize} value ${v.valueSize} entries ${v.maxEntries}${flags}${buffer}${lock}`;
}

/** A name the assembler reads back as one token and the spec's name rule accepts. */
const ASM_NAME = /^[A-Za-z_.][A-Za-z0-9_.]{0,14}$/;

/**
 * The names a listing uses for the maps: their own, or `map<index>` for an unnamed map (or one whose
 * name would not read back as a name), made unique.
 */
export function listingMapNames(maps: readonly MapSpec[]): string[] {
  const used = new Set(maps.map((m) => m.name ?? '').filter((n) => ASM_NAME.test(n)));
  const seen = new Set<string>();
  return maps.map((m, i) => {
    let name = m.name ?? '';
    if (!ASM_NAME.test(name) || seen.has(name)) {
      name = `map${i}`;
      while (used.has(name) || seen.has(name)) name += '_';
    }
    seen.add(name);
    return name;
  });
}
