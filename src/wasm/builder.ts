/**
 * Builds a WebAssembly module as data: functions of expression trees (expr.ts), globals, one imported
 * shared memory, imports and exports. The API has the shape of binaryen's Module (`m.i64.add(a, b)`,
 * `m.local.get(i, type)`, `m.block(label, body)`), so the code generator reads the same whichever
 * writes the bytes; encode.ts writes them, and binaryen only ever sees the finished binary (the
 * optimizing tier, docs/architecture.md section 5).
 */
import { joinTypes, sequenceType, type Expr, type Type, type ValueType } from './expr.js';

/** A function signature: one value type, none, or several (parameters). */
export type Signature = Type | readonly ValueType[];
export type { Expr, Type, ValueType } from './expr.js';

export const none: Type = 'none';
export const i32: ValueType = 'i32';
export const i64: ValueType = 'i64';

/** A 64-bit constant from its exact bits (any bigint; taken modulo 2^64). */
export const i64Const = (m: WasmModule, value: bigint): Expr => m.i64.const(value);

/** Parameter or result types as a list (binaryen's `createType` over a list is the list itself here). */
export const tupleType = (types: readonly ValueType[]): readonly ValueType[] => types;

export interface FunctionDef {
  readonly name: string;
  readonly params: readonly ValueType[];
  readonly result: ValueType | 'none';
  readonly vars: readonly ValueType[];
  readonly body: Expr;
}

export interface GlobalDef {
  readonly name: string;
  readonly type: ValueType;
  readonly mutable: boolean;
  readonly init: Expr;
}

export interface ModuleDef {
  readonly functionImports: ReadonlyArray<{ name: string; module: string; field: string; params: readonly ValueType[]; result: ValueType | 'none' }>;
  readonly memory: { module: string; field: string; initial: number; maximum: number; shared: boolean } | undefined;
  readonly functions: readonly FunctionDef[];
  readonly globals: readonly GlobalDef[];
  readonly exports: ReadonlyArray<{ name: string; function: string }>;
}

const op = (type: Type, code: number, args: readonly Expr[]): Expr => ({ k: 'op', type, code, args });

/** A load or store: the memarg is log2 of the alignment in bytes, and the offset. */
const memOp = (type: Type, code: number, args: readonly Expr[], alignBytes: number, offset: number, sub?: number): Expr =>
  sub === undefined ? { k: 'op', type, code, args, mem: { alignLog2: Math.log2(alignBytes), offset } }
    : { k: 'op', type, code, sub, args, mem: { alignLog2: Math.log2(alignBytes), offset } };

const params = (sig: Signature): ValueType[] => (typeof sig === 'string' ? (sig === 'i32' || sig === 'i64' ? [sig] : []) : [...sig]);
const result = (sig: Signature): ValueType | 'none' => (sig === 'i32' || sig === 'i64' ? sig : 'none');

/** Unary and binary operators of one width, by binaryen's names. */
function arithmetic(t: ValueType, base: number) {
  const un = (code: number, type: Type = t) => (a: Expr): Expr => op(type, code, [a]);
  const bin = (code: number, type: Type = t) => (a: Expr, b: Expr): Expr => op(type, code, [a, b]);
  const cmp = (offset: number): ((a: Expr, b: Expr) => Expr) => bin(base + offset, 'i32');
  const a = t === 'i32' ? 0x67 : 0x79; // clz
  return {
    eqz: un(base, 'i32'), eq: cmp(1), ne: cmp(2), lt_s: cmp(3), lt_u: cmp(4), gt_s: cmp(5), gt_u: cmp(6),
    le_s: cmp(7), le_u: cmp(8), ge_s: cmp(9), ge_u: cmp(10),
    clz: un(a), ctz: un(a + 1), popcnt: un(a + 2), add: bin(a + 3), sub: bin(a + 4), mul: bin(a + 5),
    div_s: bin(a + 6), div_u: bin(a + 7), rem_s: bin(a + 8), rem_u: bin(a + 9), and: bin(a + 10), or: bin(a + 11),
    xor: bin(a + 12), shl: bin(a + 13), shr_s: bin(a + 14), shr_u: bin(a + 15), rotl: bin(a + 16), rotr: bin(a + 17),
  };
}

/** Loads and stores: (offset, align in bytes, pointer[, value]). */
function access(type: ValueType, code: number, bytes: number) {
  return {
    load: (offset: number, align: number, ptr: Expr): Expr => memOp(type, code, [ptr], align || bytes, offset),
    store: (offset: number, align: number, ptr: Expr, value: Expr): Expr => memOp('none', code, [ptr, value], align || bytes, offset),
  };
}

/** Atomic read-modify-write (threads proposal, prefix 0xfe): add, sub, and, or, xor, xchg, cmpxchg. */
function rmw(type: ValueType, first: number, bytes: number) {
  const binary = (k: number) => (offset: number, ptr: Expr, value: Expr): Expr => memOp(type, 0xfe, [ptr, value], bytes, offset, first + k);
  return {
    add: binary(0), sub: binary(7), and: binary(14), or: binary(21), xor: binary(28), xchg: binary(35),
    cmpxchg: (offset: number, ptr: Expr, expected: Expr, replacement: Expr): Expr =>
      memOp(type, 0xfe, [ptr, expected, replacement], bytes, offset, first + 42),
  };
}

function i32Ops() {
  const ld = (code: number, bytes: number) => access('i32', code, bytes).load;
  return {
    ...arithmetic('i32', 0x45),
    const: (value: number): Expr => ({ k: 'i32.const', type: 'i32', value: value | 0 }),
    wrap: (a: Expr): Expr => op('i32', 0xa7, [a]),
    extend8_s: (a: Expr): Expr => op('i32', 0xc0, [a]),
    extend16_s: (a: Expr): Expr => op('i32', 0xc1, [a]),
    load: ld(0x28, 4), load8_s: ld(0x2c, 1), load8_u: ld(0x2d, 1), load16_s: ld(0x2e, 2), load16_u: ld(0x2f, 2),
    store: access('i32', 0x36, 4).store, store8: access('i32', 0x3a, 1).store, store16: access('i32', 0x3b, 2).store,
    atomic: {
      rmw: rmw('i32', 0x1e, 4),
      /** Sequentially consistent load and store (threads proposal 0xfe 0x10, 0xfe 0x17): (offset, pointer[, value]). */
      load: (offset: number, ptr: Expr): Expr => memOp('i32', 0xfe, [ptr], 4, offset, 0x10),
      store: (offset: number, ptr: Expr, value: Expr): Expr => memOp('none', 0xfe, [ptr, value], 4, offset, 0x17),
    },
  };
}

function i64Ops() {
  const ld = (code: number, bytes: number) => access('i64', code, bytes).load;
  const st = (code: number, bytes: number) => access('i64', code, bytes).store;
  return {
    ...arithmetic('i64', 0x50),
    const: (value: bigint): Expr => ({ k: 'i64.const', type: 'i64', value: BigInt.asIntN(64, value) }),
    extend_s: (a: Expr): Expr => op('i64', 0xac, [a]),
    extend_u: (a: Expr): Expr => op('i64', 0xad, [a]),
    extend8_s: (a: Expr): Expr => op('i64', 0xc2, [a]),
    extend16_s: (a: Expr): Expr => op('i64', 0xc3, [a]),
    extend32_s: (a: Expr): Expr => op('i64', 0xc4, [a]),
    load: ld(0x29, 8), load8_s: ld(0x30, 1), load8_u: ld(0x31, 1), load16_s: ld(0x32, 2), load16_u: ld(0x33, 2),
    load32_s: ld(0x34, 4), load32_u: ld(0x35, 4),
    store: st(0x37, 8), store8: st(0x3c, 1), store16: st(0x3d, 2), store32: st(0x3e, 4),
    atomic: { rmw: rmw('i64', 0x1f, 8) },
  };
}

/** The operators depend on no module: one set serves them all (a module is built per program load). */
const I32_OPS = i32Ops();
const I64_OPS = i64Ops();

export class WasmModule {
  readonly i32 = I32_OPS;
  readonly i64 = I64_OPS;
  private readonly functions: FunctionDef[] = [];
  private readonly globals: GlobalDef[] = [];
  private readonly functionImports: Array<ModuleDef['functionImports'][number]> = [];
  private readonly exports: Array<{ name: string; function: string }> = [];
  private memoryImport: ModuleDef['memory'];

  readonly local = {
    get: (index: number, type: ValueType): Expr => ({ k: 'local.get', type, index }),
    set: (index: number, value: Expr): Expr => ({ k: 'local.set', type: 'none', index, value, tee: false }),
    tee: (index: number, value: Expr, type: ValueType): Expr => ({ k: 'local.set', type, index, value, tee: true }),
  };

  readonly global = {
    get: (name: string, type: ValueType): Expr => ({ k: 'global.get', type, name }),
    set: (name: string, value: Expr): Expr => ({ k: 'global.set', type: 'none', name, value }),
  };

  /**
   * `m.memory.size()` in pages (a name, as binaryen takes one, is ignored: there is one memory),
   * bulk memory's copy and fill (prefix 0xfc, then memory index bytes), and the threads proposal's
   * futex pair: wait32(ptr, expected, timeout ns as i64, -1 for none) -> 0 woken | 1 not equal |
   * 2 timed out, and notify(ptr, count) -> how many woke.
   */
  readonly memory = {
    atomic: {
      wait32: (ptr: Expr, expected: Expr, timeout: Expr): Expr => memOp('i32', 0xfe, [ptr, expected, timeout], 4, 0, 0x01),
      notify: (ptr: Expr, count: Expr): Expr => memOp('i32', 0xfe, [ptr, count], 4, 0, 0x00),
    },
    size: (_name?: string): Expr => ({ k: 'op', type: 'i32', code: 0x3f, sub: 0, args: [] }),
    copy: (dest: Expr, source: Expr, size: Expr): Expr => ({ k: 'op', type: 'none', code: 0xfc, sub: 10, args: [dest, source, size], imm: [0, 0] }),
    fill: (dest: Expr, value: Expr, size: Expr): Expr => ({ k: 'op', type: 'none', code: 0xfc, sub: 11, args: [dest, value, size], imm: [0] }),
  };

  block(label: string | null, body: readonly Expr[], type?: Type): Expr {
    return { k: 'block', type: type ?? sequenceType(body), label, body };
  }

  loop(label: string, body: Expr): Expr {
    return { k: 'loop', type: body.type, label, body };
  }

  if(cond: Expr, then: Expr, otherwise?: Expr): Expr {
    return { k: 'if', type: otherwise ? joinTypes(then.type, otherwise.type) : 'none', cond, then, else: otherwise };
  }

  /** br, or br_if when a condition is given (binaryen's `br(label, condition)`). */
  br(label: string, cond?: Expr): Expr {
    return { k: 'br', type: cond ? 'none' : 'unreachable', label, cond };
  }

  /** br_table (binaryen's `switch`). */
  switch(labels: readonly string[], fallback: string, index: Expr): Expr {
    return { k: 'br_table', type: 'unreachable', labels, fallback, index };
  }

  call(name: string, args: readonly Expr[], type: Type): Expr {
    return { k: 'call', type, name, args };
  }

  return(value?: Expr): Expr {
    return { k: 'return', type: 'unreachable', value };
  }

  drop(value: Expr): Expr {
    return op('none', 0x1a, [value]);
  }

  /** Evaluates ifTrue, ifFalse, then the condition, as WebAssembly's select does. */
  select(cond: Expr, ifTrue: Expr, ifFalse: Expr): Expr {
    return { k: 'select', type: joinTypes(ifTrue.type, ifFalse.type), cond, ifTrue, ifFalse };
  }

  unreachable(): Expr {
    return op('unreachable', 0x00, []);
  }

  nop(): Expr {
    return op('none', 0x01, []);
  }

  addFunction(name: string, paramTypes: Signature, resultType: Signature, vars: readonly ValueType[], body: Expr): void {
    this.functions.push({ name, params: params(paramTypes), result: result(resultType), vars: [...vars], body });
  }

  addFunctionImport(name: string, module: string, field: string, paramTypes: Signature, resultType: Signature): void {
    this.functionImports.push({ name, module, field, params: params(paramTypes), result: result(resultType) });
  }

  addFunctionExport(internal: string, external: string): void {
    this.exports.push({ name: external, function: internal });
  }

  addGlobal(name: string, type: ValueType, mutable: boolean, init: Expr): void {
    this.globals.push({ name, type, mutable, init });
  }

  /** The module's one memory: imported as `module.field`, shared or not. */
  importMemory(module: string, field: string, initial: number, maximum: number, shared: boolean): void {
    this.memoryImport = { module, field, initial, maximum, shared };
  }

  /** What the encoder writes. */
  definition(): ModuleDef {
    return { functionImports: this.functionImports, memory: this.memoryImport, functions: this.functions, globals: this.globals, exports: this.exports };
  }
}
