/**
 * lddw pseudo sources (RFC 9669 section 5.4) in both syntaxes: `NAME(imm)` or `NAME(imm, next_imm)`,
 * where NAME is the lower-case LddwSrc key, e.g. `map_by_fd(3)`, `map_value_by_idx(0, 16)`.
 * The map sources also take a map declared with `.map` by name: `map_by_idx(counts)`; `code_addr`
 * takes a label or a signed offset like a local call (`code_addr(callback)`, `code_addr(+7)`).
 * A plain number is source 0 (a 64-bit immediate).
 */
import { LddwSrc, lddwSourceName } from '../isa/insn.js';
import { LDDW_SOURCE_IMM } from '../isa/table.js';
import { relative } from './format-ubpf.js';
import { checkRange, type Cursor } from './cursor.js';
import type { LabelRef } from './item.js';

const NAME_BY_SRC: ReadonlyMap<number, string> = new Map(
  Object.values(LddwSrc).filter((src) => src !== LddwSrc.IMM64).map((src) => [src, lddwSourceName(src)!]),
);
const SRC_BY_NAME: ReadonlyMap<string, number> = new Map([...NAME_BY_SRC].map(([src, name]) => [name, src]));

/** Sources whose imm indexes the program's maps (the fd forms index the same list in this runtime). */
const isMapSource = (src: number): boolean => LDDW_SOURCE_IMM.get(src) === 'map';
const isCodeSource = (src: number): boolean => LDDW_SOURCE_IMM.get(src) === 'code';

export interface PseudoValue {
  readonly src: number;
  readonly imm: number;
  readonly nextImm: number;
  /** A map named instead of numbered: the assembler puts its index in imm. */
  readonly mapRef?: LabelRef;
  /** A code address written as a label: the assembler puts its relative offset in imm. */
  readonly target?: LabelRef;
}

export const isPseudoName = (name: string): boolean => SRC_BY_NAME.has(name);

/** Reads `NAME(imm[, next_imm])` or `NAME(map[, next_imm])`; the cursor is on NAME. */
export function readPseudo(c: Cursor): PseudoValue {
  const name = c.expectIdent('an lddw source');
  const src = SRC_BY_NAME.get(name.text);
  if (src === undefined) {
    throw c.error('E_ASM_OPERANDS', `unknown lddw source '${name.text}' (one of ${[...SRC_BY_NAME.keys()].join(', ')})`, name.column);
  }
  c.expect('(');
  let imm = 0;
  let ref: LabelRef | undefined;
  const arg = c.peek();
  if (arg?.kind === 'ident' && (isMapSource(src) || isCodeSource(src))) {
    c.next();
    ref = { name: arg.text, column: arg.column };
  } else {
    const what = isMapSource(src) ? 'a map name or index' : isCodeSource(src) ? 'a label or relative offset' : 'an immediate';
    imm = Number(checkRange(c.readNumberText(what), 'imm32', c.line));
  }
  let nextImm = 0;
  if (c.eat(',')) nextImm = Number(checkRange(c.readNumberText('an immediate'), 'imm32', c.line));
  c.expect(')');
  if (!ref) return { src, imm, nextImm };
  return { src, imm, nextImm, ...(isMapSource(src) ? { mapRef: ref } : { target: ref }) };
}

/**
 * Text of a pseudo source; undefined for source 0 (print the 64-bit value instead). `mapNames`
 * names the program's maps: a map source whose index has a name prints the name. A code address
 * prints `label` when given, else its signed relative offset.
 */
export function formatPseudo(src: number, imm: number, nextImm: number, mapNames: readonly string[] = [], label?: string): string | undefined {
  const name = NAME_BY_SRC.get(src);
  if (name === undefined) return undefined;
  const first = isCodeSource(src) ? label ?? relative(imm) : (isMapSource(src) && mapNames[imm]) || String(imm);
  return nextImm === 0 ? `${name}(${first})` : `${name}(${first}, ${nextImm})`;
}
