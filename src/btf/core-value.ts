/**
 * The value a CO-RE relocation stands for, once in the object's own BTF (what clang put in the
 * instruction) and once in the target BTF (what goes there now). A relocation the target cannot
 * satisfy is `poison` (the instruction is poisoned, as libbpf does) unless its kind asks whether
 * something exists, which is then 0. An object that is itself inconsistent throws CoreFault.
 */
import type { Btf } from './btf.js';
import { candidates, localField, targetField, typesCompatible, typesMatch, type FieldSpec } from './core-spec.js';
import type { CoreKind, CoreRelo } from './ext.js';

/** A relocation the object's own BTF cannot explain: a load error, not a poisoned instruction. */
export class CoreFault extends Error {}

export interface Resolution {
  /** The value in the object's own BTF: what the instruction must hold now. */
  readonly local: bigint;
  /** The value in the target BTF, or undefined when the relocation cannot be satisfied there. */
  readonly target: bigint | undefined;
  /** Why the relocation cannot be satisfied. */
  readonly why?: string;
  /** Whether the instruction must hold `local` now (not for what clang computes its own way: bitfield offsets, type ids). */
  readonly validate: boolean;
  /** Memory access sizes in bytes for field offsets (local, target), and whether a load or store may switch between them. */
  readonly access?: { readonly local: number; readonly target: number; readonly adjustable: boolean };
}

interface FieldValue {
  readonly value: bigint;
  /** The bytes a load or store of the field moves (an array's element size). */
  readonly size: number;
  /** Whether clang's value must be what we compute: for a bitfield only its signedness and right shift are unambiguous. */
  readonly validate: boolean;
}

/** The size of one element, looking through (nested) arrays. */
function elementSize(btf: Btf, id: number): number {
  let t = btf.type(btf.skipModifiers(id));
  for (let depth = 0; t.kind === 'array' && depth < 32; depth++) t = btf.type(btf.skipModifiers(t.type));
  return btf.sizeOf(t.id);
}

/** libbpf's rule: a bitfield is read with the smallest aligned load of its type's size or more that holds it. */
function bitfieldLoad(bitOffset: number, bits: number, typeSize: number): { byteOffset: number; byteSize: number } {
  let byteSize = typeSize;
  let byteOffset = Math.floor(bitOffset / 8 / byteSize) * byteSize;
  while (bitOffset + bits - byteOffset * 8 > byteSize * 8) {
    if (byteSize >= 8) throw new CoreFault(`a bitfield of ${bits} bits at bit ${bitOffset} cannot be read with one 8-byte load`);
    byteSize *= 2;
    byteOffset = Math.floor(bitOffset / 8 / byteSize) * byteSize;
  }
  return { byteOffset, byteSize };
}

function fieldValue(btf: Btf, spec: FieldSpec, kind: CoreKind): FieldValue {
  const bitfield = spec.bitfieldSize > 0;
  const mt = btf.type(btf.skipModifiers(spec.fieldType));
  let byteOffset: number, byteSize: number, bits: number;
  if (bitfield) {
    bits = spec.bitfieldSize;
    ({ byteOffset, byteSize } = bitfieldLoad(spec.bitOffset, bits, btf.sizeOf(mt.id)));
  } else {
    if (spec.bitOffset % 8 !== 0) throw new CoreFault(`field at bit ${spec.bitOffset} is not byte-aligned`);
    byteSize = btf.sizeOf(mt.id);
    byteOffset = spec.bitOffset / 8;
    bits = byteSize * 8;
  }
  if (spec.steps[spec.steps.length - 1]?.kind === 'array' && kind !== 'field_byte_offset' && kind !== 'field_byte_size') {
    throw new CoreFault(`${kind} cannot apply to an array element`);
  }
  const lshift = 64 - (spec.bitOffset + bits - byteOffset * 8);
  const signed = (mt.kind === 'int' || mt.kind === 'enum' || mt.kind === 'enum64') && mt.signed;
  const values: Partial<Record<CoreKind, number>> = {
    field_byte_offset: byteOffset, field_byte_size: byteSize, field_exists: 1, field_signed: signed ? 1 : 0,
    field_lshift_u64: lshift, field_rshift_u64: 64 - bits,
  };
  const validate = !bitfield || kind === 'field_signed' || kind === 'field_rshift_u64';
  return { value: BigInt(values[kind]!), size: bitfield ? byteSize : elementSize(btf, mt.id), validate };
}

/** Whether a load or store of the local field may change size to the target's: pointers, or unsigned integers. */
function adjustable(local: Btf, a: number, target: Btf, b: number): boolean {
  const la = local.type(local.skipModifiers(a));
  const tb = target.type(target.skipModifiers(b));
  if (la.kind === 'ptr' && tb.kind === 'ptr') return true;
  return la.kind === 'int' && tb.kind === 'int' && !la.signed && !tb.signed;
}

/** Every candidate that satisfies the relocation must agree on the value (libbpf's ambiguity check). */
function agree<T extends { value: bigint }>(found: readonly T[], describe: (t: T) => string): T | undefined {
  const first = found[0];
  const other = found.find((f) => f.value !== first?.value);
  if (first && other) {
    throw new CoreFault(`ambiguous: ${describe(first)} gives ${first.value} but ${describe(other)} gives ${other.value}`);
  }
  return first;
}

function resolveField(relo: CoreRelo, local: Btf, target: Btf): Resolution {
  const spec = localField(local, relo.typeId, relo.path);
  if (typeof spec === 'string') throw new CoreFault(spec);
  const mine = fieldValue(local, spec, relo.kind);
  const why: string[] = [];
  const found = candidates(local.type(relo.typeId), target).flatMap((c) => {
    const there = targetField(local, spec, target, c.id, relo.path[0]!);
    if (typeof there === 'string') return (why.push(there), []);
    return [{ ...fieldValue(target, there, relo.kind), id: c.id, spec: there }];
  });
  const best = agree(found, (f) => target.typeName(f.id));
  const validate = mine.validate;
  if (!best) {
    const reason = why.length > 0 ? why.join('; ') : noCandidate(local, relo.typeId);
    return relo.kind === 'field_exists' ? { local: 1n, target: 0n, validate } : { local: mine.value, target: undefined, why: reason, validate };
  }
  const access = { local: mine.size, target: best.size, adjustable: adjustable(local, spec.fieldType, target, best.spec.fieldType) };
  return { local: mine.value, target: best.value, validate, access };
}

function noCandidate(local: Btf, id: number): string {
  return `the target has no type like ${local.typeName(id)}`;
}

function resolveType(relo: CoreRelo, local: Btf, target: Btf): Resolution {
  if (relo.access !== '0') throw new CoreFault(`access string '${relo.access}' of a type relocation must be '0'`);
  const root = local.type(relo.typeId);
  const mine: Partial<Record<CoreKind, bigint>> = {
    type_id_local: BigInt(root.id), type_id_target: BigInt(root.id), type_exists: 1n, type_matches: 1n,
    type_size: BigInt(local.sizeOf(root.id)),
  };
  if (relo.kind === 'type_id_local') return { local: mine.type_id_local!, target: mine.type_id_local!, validate: true };
  // A type id may change when objects are linked, so clang's is not checked (as libbpf).
  const validate = relo.kind !== 'type_id_target';
  const fits = relo.kind === 'type_matches' ? typesMatch : typesCompatible;
  const found = candidates(root, target).filter((c) => fits(local, root.id, target, c.id)).map((c) => {
    const value: Partial<Record<CoreKind, bigint>> = {
      type_id_target: BigInt(c.id), type_exists: 1n, type_matches: 1n, type_size: BigInt(target.sizeOf(c.id)),
    };
    return { id: c.id, value: value[relo.kind]! };
  });
  // Several matching target types are fine for existence; their ids always differ, so only the first counts.
  const best = relo.kind === 'type_id_target' ? found[0] : agree(found, (f) => target.typeName(f.id));
  // Type relocations never poison: without a target type every kind is 0 (libbpf's rule).
  return { local: mine[relo.kind]!, target: best?.value ?? 0n, validate };
}

function resolveEnum(relo: CoreRelo, local: Btf, target: Btf): Resolution {
  const root = local.type(local.skipModifiers(relo.typeId));
  if (root.kind !== 'enum' && root.kind !== 'enum64') throw new CoreFault(`${local.typeName(root.id)} is not an enum`);
  const enumerator = relo.path.length === 1 ? root.values[relo.path[0]!] : undefined;
  if (!enumerator) throw new CoreFault(`access string '${relo.access}' names no enumerator of ${local.typeName(root.id)}`);
  const mine = relo.kind === 'enumval_exists' ? 1n : enumerator.value;
  const found = candidates(root, target).flatMap((c) => {
    const v = (c.kind === 'enum' || c.kind === 'enum64') ? c.values.find((e) => e.name === enumerator.name) : undefined;
    return v ? [{ id: c.id, value: relo.kind === 'enumval_exists' ? 1n : v.value }] : [];
  });
  const best = agree(found, (f) => target.typeName(f.id));
  if (best) return { local: mine, target: best.value, validate: true };
  if (relo.kind === 'enumval_exists') return { local: 1n, target: 0n, validate: true };
  return { local: mine, target: undefined, why: `no enumerator ${enumerator.name} in the target's ${local.typeName(root.id)}`, validate: true };
}

/** What the relocation's instruction holds now and must hold against `target`. */
export function resolveRelocation(relo: CoreRelo, local: Btf, target: Btf): Resolution {
  const root = local.type(relo.typeId);
  if (root.name === '' && relo.kind !== 'type_id_local') throw new CoreFault(`the relocation's root type ${relo.typeId} has no name to look up`);
  if (relo.kind.startsWith('field_')) return resolveField(relo, local, target);
  if (relo.kind.startsWith('enumval_')) return resolveEnum(relo, local, target);
  return resolveType(relo, local, target);
}
