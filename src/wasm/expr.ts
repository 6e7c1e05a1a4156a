/**
 * The JIT's WebAssembly expressions: a small tree IR that the code generator builds (builder.ts) and
 * the encoder writes as bytes (encode.ts). Each node knows its result type, so blocks and ifs can take
 * the type of what they end with, and labels are names that the encoder turns into branch depths.
 *
 * Types follow WebAssembly's, plus 'unreachable' for code that never falls through (a `br`, a
 * `return`, `unreachable`), which fits wherever a value or nothing is expected.
 */

export type ValueType = 'i32' | 'i64';
export type Type = ValueType | 'none' | 'unreachable';

/** An instruction with fixed immediates: its operands, then its opcode and immediates. */
interface Op {
  readonly k: 'op';
  readonly type: Type;
  /** The opcode byte (0xfe for the threads prefix). */
  readonly code: number;
  /** After the prefix, the atomic operation; for memory.size, the memory index. */
  readonly sub?: number;
  readonly args: readonly Expr[];
  /** A load's, store's or atomic's memarg: log2 of the alignment, and the offset. */
  readonly mem?: { readonly alignLog2: number; readonly offset: number };
  /** Raw immediate bytes written last (bulk memory's memory indexes). */
  readonly imm?: readonly number[];
}

interface ConstI32 { readonly k: 'i32.const'; readonly type: 'i32'; readonly value: number }
interface ConstI64 { readonly k: 'i64.const'; readonly type: 'i64'; readonly value: bigint }
interface LocalGet { readonly k: 'local.get'; readonly type: ValueType; readonly index: number }
interface LocalSet { readonly k: 'local.set'; readonly type: Type; readonly index: number; readonly value: Expr; readonly tee: boolean }
interface GlobalGet { readonly k: 'global.get'; readonly type: ValueType; readonly name: string }
interface GlobalSet { readonly k: 'global.set'; readonly type: 'none'; readonly name: string; readonly value: Expr }
interface Block { readonly k: 'block'; readonly type: Type; readonly label: string | null; readonly body: readonly Expr[] }
interface Loop { readonly k: 'loop'; readonly type: Type; readonly label: string; readonly body: Expr }
interface If { readonly k: 'if'; readonly type: Type; readonly cond: Expr; readonly then: Expr; readonly else: Expr | undefined }
interface Br { readonly k: 'br'; readonly type: Type; readonly label: string; readonly cond: Expr | undefined }
interface BrTable { readonly k: 'br_table'; readonly type: 'unreachable'; readonly labels: readonly string[]; readonly fallback: string; readonly index: Expr }
interface Call { readonly k: 'call'; readonly type: Type; readonly name: string; readonly args: readonly Expr[] }
interface Return { readonly k: 'return'; readonly type: 'unreachable'; readonly value: Expr | undefined }
interface Select { readonly k: 'select'; readonly type: Type; readonly cond: Expr; readonly ifTrue: Expr; readonly ifFalse: Expr }

export type Expr = Op | ConstI32 | ConstI64 | LocalGet | LocalSet | GlobalGet | GlobalSet | Block | Loop | If | Br | BrTable
  | Call | Return | Select;

/** The type of a sequence: its last expression's (what is left on the stack at its end). */
export function sequenceType(body: readonly Expr[]): Type {
  return body.length === 0 ? 'none' : body[body.length - 1]!.type;
}

/** The type of an if with both arms: the arms' type, or the other arm's where one never falls through. */
export function joinTypes(a: Type, b: Type): Type {
  if (a === 'unreachable') return b;
  if (b === 'unreachable') return a;
  return a;
}
