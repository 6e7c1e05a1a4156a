/**
 * lddw pseudo sources (RFC 9669 section 5.4) in both syntaxes: `NAME(imm)` or `NAME(imm, next_imm)`,
 * where NAME is the lower-case LddwSrc key, e.g. `map_by_fd(3)`, `map_value_by_idx(0, 16)`.
 * A plain number is source 0 (a 64-bit immediate).
 */
import { LddwSrc, lddwSourceName } from '../isa/insn.js';
import { checkRange, type Cursor } from './cursor.js';

const NAME_BY_SRC: ReadonlyMap<number, string> = new Map(
  Object.values(LddwSrc).filter((src) => src !== LddwSrc.IMM64).map((src) => [src, lddwSourceName(src)!]),
);
const SRC_BY_NAME: ReadonlyMap<string, number> = new Map([...NAME_BY_SRC].map(([src, name]) => [name, src]));

export interface PseudoValue {
  readonly src: number;
  readonly imm: number;
  readonly nextImm: number;
}

export const isPseudoName = (name: string): boolean => SRC_BY_NAME.has(name);

/** Reads `NAME(imm[, next_imm])`; the cursor is on NAME. */
export function readPseudo(c: Cursor): PseudoValue {
  const name = c.expectIdent('an lddw source');
  const src = SRC_BY_NAME.get(name.text);
  if (src === undefined) {
    throw c.error('E_ASM_OPERANDS', `unknown lddw source '${name.text}' (one of ${[...SRC_BY_NAME.keys()].join(', ')})`, name.column);
  }
  c.expect('(');
  const imm = Number(checkRange(c.readNumberText('an immediate'), 'imm32', c.line));
  let nextImm = 0;
  if (c.eat(',')) nextImm = Number(checkRange(c.readNumberText('an immediate'), 'imm32', c.line));
  c.expect(')');
  return { src, imm, nextImm };
}

/** Text of a pseudo source; undefined for source 0 (print the 64-bit value instead). */
export function formatPseudo(src: number, imm: number, nextImm: number): string | undefined {
  const name = NAME_BY_SRC.get(src);
  if (name === undefined) return undefined;
  return nextImm === 0 ? `${name}(${imm})` : `${name}(${imm}, ${nextImm})`;
}
