/**
 * Writes a module (builder.ts) in the WebAssembly binary format: the type, import, function, global,
 * export and code sections, with branch labels resolved to depths. Expressions are written with an
 * explicit stack rather than by recursion, so a program's deeply nested blocks (the flat layout nests
 * one block per basic block) cannot overflow the JavaScript stack.
 */
import { InternalError } from '../errors.js';
import type { Expr, Type, ValueType } from './expr.js';
import type { FunctionDef, ModuleDef } from './builder.js';
import { putSleb32, putSleb64, putUleb } from './leb.js';

const VALUE_TYPE: Record<ValueType, number> = { i32: 0x7f, i64: 0x7e };
const blockType = (t: Type): number => (t === 'i32' || t === 'i64' ? VALUE_TYPE[t] : 0x40);

const utf8 = new TextEncoder();
/** Names repeat from module to module (exports, globals, imports): encoded once. */
const encodedNames = new Map<string, Uint8Array>();

/**
 * Buffers of the modules written before, for the next one's Bytes: a module is written as a dozen
 * nested buffers (sections, function bodies), and making and growing a typed array for each cost more
 * than writing a small module's bytes. Only a few, and only small ones, are kept.
 */
const spare: Uint8Array[] = [];
const MAX_SPARE = 32;
const MAX_SPARE_BYTES = 1 << 16;
/** The Bytes of the module being written, whose buffers go to `spare` when it is done. */
const writing: Bytes[] = [];

/** A growable byte buffer. */
class Bytes {
  private buf = spare.pop() ?? new Uint8Array(128);
  length = 0;

  constructor() {
    writing.push(this);
  }

  byte(b: number): void {
    if (this.length === this.buf.length) this.grow(1);
    this.buf[this.length++] = b;
  }

  bytes(list: ArrayLike<number>): void {
    if (this.length + list.length > this.buf.length) this.grow(list.length);
    for (let i = 0; i < list.length; i++) this.buf[this.length++] = list[i]!;
  }

  /** LEB128 numbers, written in place (no array per number: modules hold thousands of them). */
  private readonly put = (b: number): void => this.byte(b);

  uleb(value: number): void {
    putUleb(value, this.put);
  }

  sleb32(value: number): void {
    putSleb32(value, this.put);
  }

  sleb64(value: bigint): void {
    putSleb64(value, this.put);
  }

  /** A vector's or section's contents, preceded by their byte length. */
  sized(inner: Bytes): void {
    this.uleb(inner.length);
    this.bytes(inner.view());
  }

  name(text: string): void {
    let bytes = encodedNames.get(text);
    if (!bytes) {
      bytes = utf8.encode(text);
      if (encodedNames.size < 4096) encodedNames.set(text, bytes);
    }
    this.uleb(bytes.length);
    this.bytes(bytes);
  }

  view(): Uint8Array {
    return this.buf.subarray(0, this.length);
  }

  /** Hands the buffer on to the next module's Bytes: this one is not used again. */
  recycle(): void {
    if (spare.length < MAX_SPARE && this.buf.length <= MAX_SPARE_BYTES) spare.push(this.buf);
  }

  private grow(need: number): void {
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.length + need));
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
  }
}

interface Indexes {
  readonly functions: ReadonlyMap<string, number>;
  readonly globals: ReadonlyMap<string, number>;
}

function indexOf(map: ReadonlyMap<string, number>, name: string, what: string): number {
  const index = map.get(name);
  if (index === undefined) throw new InternalError(`the module has no ${what} '${name}'`);
  return index;
}

/** Writes one expression tree (iteratively: each node is visited once per phase). */
function writeExpr(out: Bytes, root: Expr, ix: Indexes): void {
  const labels: Array<string | null> = [];
  const depth = (label: string): number => {
    const at = labels.lastIndexOf(label);
    if (at < 0) throw new InternalError(`branch to label '${label}' outside its block`);
    return labels.length - 1 - at;
  };
  const nodes: Expr[] = [root];
  const phases: number[] = [0];
  const push = (e: Expr, phase: number): void => {
    nodes.push(e);
    phases.push(phase);
  };
  const pushAll = (list: readonly Expr[]): void => {
    for (let i = list.length - 1; i >= 0; i--) push(list[i]!, 0);
  };
  while (nodes.length > 0) {
    const e = nodes.pop()!;
    const phase = phases.pop()!;
    switch (e.k) {
      case 'op':
        if (phase === 0 && e.args.length > 0) {
          push(e, 1);
          pushAll(e.args);
        } else {
          out.byte(e.code);
          if (e.sub !== undefined) out.uleb(e.sub);
          if (e.mem) {
            out.uleb(e.mem.alignLog2);
            out.uleb(e.mem.offset);
          }
          if (e.imm) out.bytes(e.imm);
        }
        break;
      case 'i32.const': out.byte(0x41); out.sleb32(e.value); break;
      case 'i64.const': out.byte(0x42); out.sleb64(e.value); break;
      case 'local.get': out.byte(0x20); out.uleb(e.index); break;
      case 'local.set':
        if (phase === 0) { push(e, 1); push(e.value, 0); } else { out.byte(e.tee ? 0x22 : 0x21); out.uleb(e.index); }
        break;
      case 'global.get': out.byte(0x23); out.uleb(indexOf(ix.globals, e.name, 'global')); break;
      case 'global.set':
        if (phase === 0) { push(e, 1); push(e.value, 0); } else { out.byte(0x24); out.uleb(indexOf(ix.globals, e.name, 'global')); }
        break;
      case 'block': case 'loop':
        if (phase === 0) {
          out.byte(e.k === 'block' ? 0x02 : 0x03);
          out.byte(blockType(e.type));
          labels.push(e.label);
          push(e, 1);
          if (e.k === 'block') pushAll(e.body);
          else push(e.body, 0);
        } else {
          out.byte(0x0b);
          labels.pop();
        }
        break;
      case 'if':
        writeIf(out, e, phase, labels, push);
        break;
      case 'br':
        if (phase === 0 && e.cond) { push(e, 1); push(e.cond, 0); } else { out.byte(e.cond ? 0x0d : 0x0c); out.uleb(depth(e.label)); }
        break;
      case 'br_table':
        if (phase === 0) { push(e, 1); push(e.index, 0); break; }
        out.byte(0x0e);
        out.uleb(e.labels.length);
        for (const label of e.labels) out.uleb(depth(label));
        out.uleb(depth(e.fallback));
        break;
      case 'call':
        if (phase === 0 && e.args.length > 0) { push(e, 1); pushAll(e.args); } else { out.byte(0x10); out.uleb(indexOf(ix.functions, e.name, 'function')); }
        break;
      case 'return':
        if (phase === 0 && e.value) { push(e, 1); push(e.value, 0); } else out.byte(0x0f);
        break;
      case 'select':
        if (phase === 0) { push(e, 1); pushAll([e.ifTrue, e.ifFalse, e.cond]); } else out.byte(0x1b);
        break;
    }
  }
}

type IfExpr = Extract<Expr, { k: 'if' }>;

/** if: the condition (phase 0), `if` and the then-arm (1), `else` and its arm (2), `end` (3). */
function writeIf(out: Bytes, e: IfExpr, phase: number, labels: Array<string | null>, push: (e: Expr, phase: number) => void): void {
  switch (phase) {
    case 0: push(e, 1); push(e.cond, 0); return;
    case 1:
      out.byte(0x04);
      out.byte(blockType(e.type));
      labels.push(null);
      push(e, 2);
      push(e.then, 0);
      return;
    case 2:
      push(e, 3);
      if (e.else) {
        out.byte(0x05);
        push(e.else, 0);
      }
      return;
    default:
      out.byte(0x0b);
      labels.pop();
  }
}

/** Local declarations: runs of one type as (count, type). */
function writeLocals(out: Bytes, vars: readonly ValueType[]): void {
  const runs: Array<[number, ValueType]> = [];
  for (const t of vars) {
    const last = runs[runs.length - 1];
    if (last && last[1] === t) last[0]++;
    else runs.push([1, t]);
  }
  out.uleb(runs.length);
  for (const [count, t] of runs) {
    out.uleb(count);
    out.byte(VALUE_TYPE[t]);
  }
}

function writeFunction(fn: FunctionDef, ix: Indexes): Bytes {
  const body = new Bytes();
  writeLocals(body, fn.vars);
  writeExpr(body, fn.body, ix);
  // A body that never falls through (it returns from inside blocks) leaves nothing on the stack at
  // its end: `unreachable` there tells the validator so, as binaryen's IR does by typing.
  if (fn.result !== 'none' && fn.body.type !== fn.result) body.byte(0x00);
  body.byte(0x0b);
  return body;
}

/** Function types, deduplicated: each signature's index. */
class TypeTable {
  readonly entries: Array<{ params: readonly ValueType[]; result: ValueType | 'none' }> = [];
  private readonly byKey = new Map<string, number>();

  index(params: readonly ValueType[], result: ValueType | 'none'): number {
    const key = `${params.join(',')}->${result}`;
    let index = this.byKey.get(key);
    if (index === undefined) {
      index = this.entries.length;
      this.entries.push({ params, result });
      this.byKey.set(key, index);
    }
    return index;
  }

  write(out: Bytes): void {
    out.uleb(this.entries.length);
    for (const { params, result } of this.entries) {
      out.byte(0x60);
      out.uleb(params.length);
      for (const p of params) out.byte(VALUE_TYPE[p]);
      if (result === 'none') out.byte(0);
      else out.bytes([1, VALUE_TYPE[result]]);
    }
  }
}

function section(out: Bytes, id: number, content: Bytes): void {
  out.byte(id);
  out.sized(content);
}

function importSection(def: ModuleDef, types: TypeTable): Bytes {
  const s = new Bytes();
  s.uleb(def.functionImports.length + (def.memory ? 1 : 0));
  for (const imp of def.functionImports) {
    s.name(imp.module);
    s.name(imp.field);
    s.byte(0x00);
    s.uleb(types.index(imp.params, imp.result));
  }
  if (def.memory) {
    const mem = def.memory;
    s.name(mem.module);
    s.name(mem.field);
    s.byte(0x02);
    s.byte(mem.shared ? 0x03 : 0x01);
    s.uleb(mem.initial);
    s.uleb(mem.maximum);
  }
  return s;
}

function globalSection(def: ModuleDef, ix: Indexes): Bytes {
  const s = new Bytes();
  s.uleb(def.globals.length);
  for (const g of def.globals) {
    s.byte(VALUE_TYPE[g.type]);
    s.byte(g.mutable ? 1 : 0);
    writeExpr(s, g.init, ix);
    s.byte(0x0b);
  }
  return s;
}

function exportSection(def: ModuleDef, ix: Indexes): Bytes {
  const s = new Bytes();
  s.uleb(def.exports.length);
  for (const exp of def.exports) {
    s.name(exp.name);
    s.byte(0x00);
    s.uleb(indexOf(ix.functions, exp.function, 'function'));
  }
  return s;
}

/** The custom "name" section: function names (subsection 1) and global names (7), for text dumps and stack traces. */
function nameSection(def: ModuleDef): Bytes {
  const s = new Bytes();
  s.name('name');
  const names = (id: number, list: readonly string[]): void => {
    const sub = new Bytes();
    sub.uleb(list.length);
    list.forEach((name, i) => {
      sub.uleb(i);
      sub.name(name);
    });
    s.byte(id);
    s.sized(sub);
  };
  names(1, [...def.functionImports, ...def.functions].map((f) => f.name));
  if (def.globals.length > 0) names(7, def.globals.map((g) => g.name));
  return s;
}

/** The module's bytes, ready for `new WebAssembly.Module`. */
export function encodeModule(def: ModuleDef): Uint8Array<ArrayBuffer> {
  writing.length = 0; // those of a module whose writing failed are dropped
  const functions = new Map<string, number>();
  [...def.functionImports, ...def.functions].forEach((f, i) => functions.set(f.name, i));
  const ix: Indexes = { functions, globals: new Map(def.globals.map((g, i) => [g.name, i])) };
  const types = new TypeTable();
  const imports = importSection(def, types);
  const funcs = new Bytes();
  funcs.uleb(def.functions.length);
  for (const fn of def.functions) funcs.uleb(types.index(fn.params, fn.result));
  const code = new Bytes();
  code.uleb(def.functions.length);
  for (const fn of def.functions) code.sized(writeFunction(fn, ix));
  const typeSection = new Bytes();
  types.write(typeSection);
  const out = new Bytes();
  out.bytes([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]);
  section(out, 1, typeSection);
  section(out, 2, imports);
  section(out, 3, funcs);
  if (def.globals.length > 0) section(out, 6, globalSection(def, ix));
  section(out, 7, exportSection(def, ix));
  section(out, 10, code);
  section(out, 0, nameSection(def));
  const bytes = out.view().slice() as Uint8Array<ArrayBuffer>;
  for (const b of writing) b.recycle();
  writing.length = 0;
  return bytes;
}
