/**
 * BPF Type Format: the types clang describes a BPF object with (the kernel's
 * Documentation/bpf/btf.rst). Type 0 is void; every other type has the id of its position in the
 * `.BTF` section's type list, starting at 1.
 */

export type BtfKind =
  | 'void' | 'int' | 'ptr' | 'array' | 'struct' | 'union' | 'enum' | 'fwd' | 'typedef' | 'volatile'
  | 'const' | 'restrict' | 'func' | 'func_proto' | 'var' | 'datasec' | 'float' | 'decl_tag'
  | 'type_tag' | 'enum64';

/** Kind numbers as `.BTF` encodes them (BTF_KIND_*), by name. */
export const BTF_KIND_NUMBER: Readonly<Record<Exclude<BtfKind, 'void'>, number>> = {
  int: 1, ptr: 2, array: 3, struct: 4, union: 5, enum: 6, fwd: 7, typedef: 8, volatile: 9, const: 10,
  restrict: 11, func: 12, func_proto: 13, var: 14, datasec: 15, float: 16, decl_tag: 17, type_tag: 18, enum64: 19,
};

export interface BtfMember {
  readonly name: string;
  readonly type: number;
  /** Offset from the start of the struct, in bits. */
  readonly bitOffset: number;
  /** 0 for a plain member; the bitfield's width otherwise. */
  readonly bitfieldSize: number;
}

export interface BtfEnumValue {
  readonly name: string;
  readonly value: bigint;
}

export interface BtfParam {
  readonly name: string;
  readonly type: number;
}

export interface BtfVarSecinfo {
  /** A `var` (or `func`) type id. */
  readonly type: number;
  readonly offset: number;
  readonly size: number;
}

interface Base<K extends BtfKind> {
  readonly kind: K;
  readonly id: number;
  /** '' when anonymous. */
  readonly name: string;
}

interface Ref { readonly type: number }
interface Sized { readonly size: number }

/** What each kind carries beside its kind, id and name. */
interface Shapes {
  void: object;
  int: Sized & { readonly signed: boolean; readonly char: boolean; readonly bool: boolean; readonly bits: number; readonly bitOffset: number };
  ptr: Ref; typedef: Ref; volatile: Ref; const: Ref; restrict: Ref; type_tag: Ref;
  array: Ref & { readonly indexType: number; readonly nelems: number };
  struct: Sized & { readonly members: readonly BtfMember[] };
  union: Sized & { readonly members: readonly BtfMember[] };
  enum: Sized & { readonly signed: boolean; readonly values: readonly BtfEnumValue[] };
  enum64: Sized & { readonly signed: boolean; readonly values: readonly BtfEnumValue[] };
  fwd: { readonly union: boolean };
  func: Ref & { readonly linkage: number };
  func_proto: Ref & { readonly params: readonly BtfParam[] };
  var: Ref & { readonly linkage: number };
  datasec: Sized & { readonly vars: readonly BtfVarSecinfo[] };
  float: Sized;
  decl_tag: Ref & { readonly componentIdx: number };
}

export type BtfTypeOf<K extends BtfKind> = Base<K> & Shapes[K];
export type BtfType = { [K in BtfKind]: BtfTypeOf<K> }[BtfKind];
