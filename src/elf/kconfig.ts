/**
 * `.kconfig` externs (libbpf's __kconfig: LINUX_KERNEL_VERSION, CONFIG_*): the BTF DATASEC `.kconfig`
 * lists them; they share one read-only map whose value the host answers at load time (load-kconfig.ts).
 * clang leaves their offsets to the loader: each is placed at its natural alignment, in BTF order.
 */
import type { Btf } from '../btf/btf.js';
import { elfError } from './header.js';
import type { KconfigExtern, ObjectMapSpec } from './spec.js';
import { STB, SHN_UNDEF, type ElfSymbol } from './symbols.js';

export const KCONFIG = '.kconfig';

function formOf(btf: Btf, typeId: number, fail: (r: string) => never): Pick<KconfigExtern, 'form' | 'signed' | 'size'> & { align: number } {
  const t = btf.type(btf.skipModifiers(typeId));
  if (t.kind === 'int') {
    const form = t.bool ? 'bool' : t.char && t.size === 1 ? 'char' : 'int';
    return { form, signed: t.signed, size: t.size, align: t.size };
  }
  if (t.kind === 'enum' || t.kind === 'enum64') return { form: 'int', signed: t.signed, size: t.size, align: t.size };
  if (t.kind === 'array') {
    const elem = btf.type(btf.skipModifiers(t.type));
    if (elem.kind === 'int' && elem.size === 1) return { form: 'bytes', signed: false, size: t.nelems, align: 1 };
  }
  return fail(`type ${btf.typeName(typeId)}: a kconfig extern is a bool, a char, an integer, an enum or a char array`);
}

/** The `.kconfig` externs and their map, or none when the object declares none. */
export function kconfigExterns(btf: Btf | undefined, symbols: readonly ElfSymbol[]): { externs: KconfigExtern[]; map?: ObjectMapSpec } {
  const sec = btf?.byName(KCONFIG, 'datasec');
  if (!btf || sec?.kind !== 'datasec') return { externs: [] };
  let end = 0;
  const externs = sec.vars.map((entry): KconfigExtern => {
    const v = btf.type(entry.type);
    const fail = (reason: string): never => { throw elfError('.BTF', 0, `.kconfig extern '${v.name}': ${reason}`); };
    if (v.kind !== 'var') return fail(`DATASEC .kconfig entry is a ${v.kind}, not a variable`);
    const { align, ...form } = formOf(btf, v.type, fail);
    const offset = Math.ceil(end / align) * align;
    end = offset + form.size;
    const sym = symbols.find((s) => s.name === v.name && s.shndx === SHN_UNDEF);
    return { name: v.name, offset, ...form, weak: sym?.bind === STB.WEAK };
  });
  const size = Math.max(8, Math.ceil(end / 8) * 8);
  const map: ObjectMapSpec = {
    name: KCONFIG, section: KCONFIG, kind: 'kconfig', readonly: true, initial: new Uint8Array(size),
    spec: { type: 'array', keySize: 4, valueSize: size, maxEntries: 1, name: KCONFIG },
  };
  return { externs, map };
}
