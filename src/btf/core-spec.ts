/**
 * CO-RE access specs: what a relocation's access string names in the object's own BTF (a field path,
 * a type, an enumerator), and the same thing found again in a target BTF. The rules are libbpf's
 * (relo_core.c), rewritten: candidates share the root's "essential name" (the name without a
 * `___flavour` suffix) and kind, fields are found by member name (through anonymous structs and
 * unions), array indexes must fit, and the types met along the way must be compatible.
 */
import type { Btf } from './btf.js';
import type { BtfType } from './types.js';

/** How deep type comparisons go before giving up (libbpf's limit for the same walk). */
const MAX_DEPTH = 32;

/** One step of a field path: a named member, or an array element. */
export type Step =
  | { readonly kind: 'member'; readonly name: string; readonly type: number }
  | { readonly kind: 'array'; readonly index: number; readonly type: number };

/** A field found by walking an access path from a root type. */
export interface FieldSpec {
  readonly root: number;
  /** Named members and array elements along the way (anonymous members are not steps: they are looked through). */
  readonly steps: readonly Step[];
  /** Offset of the field from the start of the root, in bits. */
  readonly bitOffset: number;
  readonly fieldType: number;
  /** 0 unless the field is a bitfield. */
  readonly bitfieldSize: number;
}

/** `task_struct___v1` → `task_struct`. */
export function essentialName(name: string): string {
  const cut = name.indexOf('___');
  return cut < 0 ? name : name.slice(0, cut);
}

const isEnum = (t: BtfType): boolean => t.kind === 'enum' || t.kind === 'enum64';
const isComposite = (t: BtfType): boolean => t.kind === 'struct' || t.kind === 'union';

/** Whether a target type can stand for a local one of this kind (enum and enum64 are one family). */
export function sameKind(a: BtfType, b: BtfType): boolean {
  return a.kind === b.kind || (isEnum(a) && isEnum(b));
}

const candidateIndex = new WeakMap<Btf, Map<string, BtfType[]>>();

/** Target types a local root may be relocated to: same essential name, same kind. */
export function candidates(local: BtfType, target: Btf): BtfType[] {
  let index = candidateIndex.get(target);
  if (!index) {
    index = new Map();
    for (const t of target.types) {
      if (t.name === '') continue;
      const key = essentialName(t.name);
      index.set(key, [...(index.get(key) ?? []), t]);
    }
    candidateIndex.set(target, index);
  }
  return (index.get(essentialName(local.name)) ?? []).filter((t) => sameKind(local, t));
}

/**
 * The field an access path names inside the local root, or a string saying why the path is not
 * valid there (the object itself is broken then).
 */
export function localField(btf: Btf, root: number, path: readonly number[]): FieldSpec | string {
  let type = root;
  let bitOffset = path[0]! * btf.sizeOf(root) * 8;
  let bitfieldSize = 0;
  const steps: Step[] = [];
  for (const index of path.slice(1)) {
    const t = btf.type(btf.skipModifiers(type));
    if (t.kind === 'struct' || t.kind === 'union') {
      const m = t.members[index];
      if (!m) return `${btf.typeName(t.id)} has no member #${index}`;
      bitOffset += m.bitOffset;
      bitfieldSize = m.bitfieldSize;
      type = m.type;
      if (m.name !== '') steps.push({ kind: 'member', name: m.name, type });
    } else if (t.kind === 'array') {
      if (index >= t.nelems && t.nelems !== 0) return `index ${index} is past the end of ${btf.typeName(t.id)}`;
      bitOffset += index * btf.sizeOf(t.type) * 8;
      bitfieldSize = 0;
      type = t.type;
      steps.push({ kind: 'array', index, type });
    } else {
      return `${btf.typeName(t.id)} has no members or elements to access`;
    }
  }
  return { root, steps, bitOffset, fieldType: type, bitfieldSize };
}

interface Found { readonly bitOffset: number; readonly type: number; readonly bitfieldSize: number }

/** A member by name, looking through anonymous struct and union members. */
function findMember(btf: Btf, id: number, name: string, depth = 0): Found | undefined {
  const t = btf.type(btf.skipModifiers(id));
  if ((t.kind !== 'struct' && t.kind !== 'union') || depth > MAX_DEPTH) return undefined;
  for (const m of t.members) {
    if (m.name === name) return { bitOffset: m.bitOffset, type: m.type, bitfieldSize: m.bitfieldSize };
    if (m.name !== '') continue;
    const inner = findMember(btf, m.type, name, depth + 1);
    if (inner) return { ...inner, bitOffset: m.bitOffset + inner.bitOffset };
  }
  return undefined;
}

/** The local field found again in a target candidate, or why it is not there. */
export function targetField(local: Btf, spec: FieldSpec, target: Btf, root: number, first: number): FieldSpec | string {
  let type = root;
  let bitOffset = first * target.sizeOf(root) * 8;
  let bitfieldSize = 0;
  const steps: Step[] = [];
  for (const step of spec.steps) {
    const t = target.type(target.skipModifiers(type));
    if (step.kind === 'member') {
      const m = findMember(target, t.id, step.name);
      if (!m) return `${target.typeName(t.id)} has no field '${step.name}'`;
      if (!fieldsCompatible(local, step.type, target, m.type)) {
        return `field '${step.name}' is ${local.typeName(step.type)} here but ${target.typeName(m.type)} in ${target.typeName(t.id)}`;
      }
      ({ type, bitfieldSize } = m);
      bitOffset += m.bitOffset;
      steps.push({ kind: 'member', name: step.name, type });
    } else {
      if (t.kind !== 'array') return `${target.typeName(t.id)} is not an array`;
      if (step.index >= t.nelems && t.nelems !== 0) return `index ${step.index} is past the end of ${target.typeName(t.id)}`;
      bitOffset += step.index * target.sizeOf(t.type) * 8;
      bitfieldSize = 0;
      type = t.type;
      steps.push({ kind: 'array', index: step.index, type });
    }
  }
  return { root, steps, bitOffset, fieldType: type, bitfieldSize };
}

/**
 * Whether a field of type `a` (local) may be read as one of type `b` (target): structs and unions
 * go by name (already matched), scalars by kind, arrays by their elements.
 */
export function fieldsCompatible(local: Btf, a: number, target: Btf, b: number, depth = 0): boolean {
  const la = local.type(local.skipModifiers(a));
  const tb = target.type(target.skipModifiers(b));
  if (isComposite(la) && isComposite(tb)) return true;
  if (!sameKind(la, tb) || depth > MAX_DEPTH) return false;
  switch (la.kind) {
    case 'int': return la.bitOffset === 0 && tb.kind === 'int' && tb.bitOffset === 0;
    case 'array': return tb.kind === 'array' && fieldsCompatible(local, la.type, target, tb.type, depth + 1);
    case 'fwd': case 'ptr': case 'float': case 'enum': case 'enum64': return true;
    default: return false;
  }
}

/** libbpf's type compatibility for type-based relocations: kinds agree, pointers and arrays recursively, functions by signature. */
export function typesCompatible(local: Btf, a: number, target: Btf, b: number, depth = 0): boolean {
  const la = local.type(local.skipModifiers(a));
  const tb = target.type(target.skipModifiers(b));
  if (!sameKind(la, tb) || depth > MAX_DEPTH) return false;
  switch (la.kind) {
    case 'int': return tb.kind === 'int' && la.bitOffset === 0 && tb.bitOffset === 0;
    case 'ptr': return tb.kind === 'ptr' && typesCompatible(local, la.type, target, tb.type, depth + 1);
    case 'array': return tb.kind === 'array' && typesCompatible(local, la.type, target, tb.type, depth + 1);
    case 'func_proto': {
      if (tb.kind !== 'func_proto' || la.params.length !== tb.params.length) return false;
      return la.params.every((p, i) => typesCompatible(local, p.type, target, tb.params[i]!.type, depth + 1))
        && typesCompatible(local, la.type, target, tb.type, depth + 1);
    }
    default: return true;
  }
}

/**
 * A simple form of libbpf's "type matches": the same shape, member by member. Named structs, unions
 * and enums must agree on names; every local member or enumerator must exist in the target with a
 * matching type; integers agree on size and signedness.
 */
export function typesMatch(local: Btf, a: number, target: Btf, b: number, depth = 0): boolean {
  const la = local.type(local.skipModifiers(a));
  const tb = target.type(target.skipModifiers(b));
  if (!sameKind(la, tb) || depth > MAX_DEPTH) return false;
  if (la.name !== '' && essentialName(la.name) !== essentialName(tb.name) && la.kind !== 'int' && la.kind !== 'ptr') return false;
  switch (la.kind) {
    case 'int': return tb.kind === 'int' && la.size === tb.size && la.signed === tb.signed;
    case 'float': return tb.kind === 'float' && la.size === tb.size;
    case 'ptr': return tb.kind === 'ptr' && typesMatch(local, la.type, target, tb.type, depth + 1);
    case 'array': return tb.kind === 'array' && la.nelems === tb.nelems && typesMatch(local, la.type, target, tb.type, depth + 1);
    case 'enum': case 'enum64': {
      const names = new Set(tb.kind === 'enum' || tb.kind === 'enum64' ? tb.values.map((v) => v.name) : []);
      return la.size === target.sizeOf(tb.id) && la.values.every((v) => names.has(v.name));
    }
    case 'struct': case 'union': {
      if (tb.kind !== la.kind) return false;
      return la.members.every((m) => {
        const found = tb.members.find((n) => n.name === m.name);
        return found !== undefined && found.bitfieldSize === m.bitfieldSize && typesMatch(local, m.type, target, found.type, depth + 1);
      });
    }
    case 'func_proto': return typesCompatible(local, la.id, target, tb.id, depth);
    default: return true;
  }
}
