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

export type BtfType =
  | Base<'void'>
  | (Base<'int'> & { readonly size: number; readonly signed: boolean; readonly char: boolean; readonly bool: boolean; readonly bits: number; readonly bitOffset: number })
  | (Base<'ptr' | 'typedef' | 'volatile' | 'const' | 'restrict' | 'type_tag'> & { readonly type: number })
  | (Base<'array'> & { readonly type: number; readonly indexType: number; readonly nelems: number })
  | (Base<'struct' | 'union'> & { readonly size: number; readonly members: readonly BtfMember[] })
  | (Base<'enum' | 'enum64'> & { readonly size: number; readonly signed: boolean; readonly values: readonly BtfEnumValue[] })
  | (Base<'fwd'> & { readonly union: boolean })
  | (Base<'func'> & { readonly type: number; readonly linkage: number })
  | (Base<'func_proto'> & { readonly type: number; readonly params: readonly BtfParam[] })
  | (Base<'var'> & { readonly type: number; readonly linkage: number })
  | (Base<'datasec'> & { readonly size: number; readonly vars: readonly BtfVarSecinfo[] })
  | (Base<'float'> & { readonly size: number })
  | (Base<'decl_tag'> & { readonly type: number; readonly componentIdx: number });

/** The types of kind K (an intersection, because several kinds share one shape). */
export type BtfTypeOf<K extends BtfKind> = BtfType & { readonly kind: K };
