/**
 * An object's parsed `.BTF`, once per section bytes: parseObject reads the maps through it, and
 * loadObject (CO-RE, default contexts), the CLI and the examples' host side need it again. An
 * ObjectSpec stays inert data (structuredClone copies the bytes, and the copy is parsed afresh).
 */
import type { Btf } from '../btf/btf.js';
import { parseBtf } from '../btf/parse.js';
import type { ObjectSpec } from './spec.js';

const parsed = new WeakMap<Uint8Array, Btf>();

/** The BTF of these `.BTF` bytes, parsed on first use. */
export function btfOf(bytes: Uint8Array): Btf {
  let btf = parsed.get(bytes);
  if (!btf) {
    btf = parseBtf(bytes);
    parsed.set(bytes, btf);
  }
  return btf;
}

/** The object's BTF, when it has one. */
export const objectBtf = (spec: Pick<ObjectSpec, 'btf'>): Btf | undefined => (spec.btf ? btfOf(spec.btf) : undefined);
