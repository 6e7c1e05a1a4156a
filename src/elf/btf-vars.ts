/** Global variables typed by the BTF DATASEC of their section: their type id and signedness. */
import type { Btf } from '../btf/btf.js';
import type { VariableSpec } from './spec.js';

function signedness(btf: Btf, id: number): boolean {
  const t = btf.type(btf.skipModifiers(id));
  return (t.kind === 'int' || t.kind === 'enum' || t.kind === 'enum64') && t.signed;
}

/** `vars` of data section `section`, with the types BTF gives them (unchanged where it gives none). */
export function typeVariables(btf: Btf | undefined, section: string, vars: readonly VariableSpec[]): VariableSpec[] {
  const sec = btf?.byName(section, 'datasec');
  if (!btf || sec?.kind !== 'datasec') return [...vars];
  const byName = new Map<string, number>();
  for (const e of sec.vars) {
    const v = btf.type(e.type);
    if (v.kind === 'var') byName.set(v.name, v.type);
  }
  return vars.map((v) => {
    const type = byName.get(v.name);
    return type === undefined ? v : { ...v, type, signed: signedness(btf, type) };
  });
}
