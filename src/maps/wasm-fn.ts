/**
 * A little help for writing the map operations with the module builder: locals by name and a while
 * loop, so that ops-hash.ts and ops-array.ts read as the algorithms they implement. Every parameter
 * and local is i32.
 */
import { i32, type Expr, type ValueType, type WasmModule } from '../wasm/builder.js';
import { InternalError } from '../errors.js';
import { H } from './layout.js';

export class Fn {
  private readonly index = new Map<string, number>();
  private readonly locals: ValueType[];
  private loops = 0;

  constructor(readonly m: WasmModule, private readonly params: readonly string[], locals: readonly string[]) {
    [...params, ...locals].forEach((name, i) => this.index.set(name, i));
    this.locals = locals.map(() => i32);
  }

  private at(name: string): number {
    const i = this.index.get(name);
    if (i === undefined) throw new InternalError(`map operations: no local '${name}'`);
    return i;
  }

  get(name: string): Expr {
    return this.m.local.get(this.at(name), i32);
  }

  set(name: string, value: Expr): Expr {
    return this.m.local.set(this.at(name), value);
  }

  /** A u32 field of the header of the map in local `map`. */
  hdr(field: number): Expr {
    return this.m.i32.load(field, 4, this.get('map'));
  }

  setHdr(field: number, value: Expr): Expr {
    return this.m.i32.store(field, 4, this.get('map'), value);
  }

  /** `while (cond) body`; the body may `br(exit)` to leave the loop (exit is the label it is given). */
  while(cond: Expr, body: (exit: string) => Expr[]): Expr {
    const m = this.m;
    const top = `loop${this.loops++}`;
    const exit = `${top}_exit`;
    return m.block(exit, [m.loop(top, m.block(null, [m.br(exit, m.i32.eqz(cond)), ...body(exit), m.br(top)]))], 'none');
  }

  /** Adds the function: its statements, the last one giving the result. */
  add(name: string, result: ValueType | 'none', body: readonly Expr[]): void {
    this.m.addFunction(name, this.params.map(() => i32), result, this.locals, this.m.block(null, body, result));
  }
}

/** A cpu argument that names no copy: -1 means all copies for updates; anything else past the copies is refused. */
export const badCpu = (f: Fn, allowAll: boolean): Expr => {
  const I = f.m.i32;
  const out = I.ge_u(f.get('cpu'), f.hdr(H.COPIES));
  return allowAll ? I.and(out, I.ne(f.get('cpu'), I.const(-1))) : out;
};

/** A hash map's element pool, in elements: maxEntries + 1 (layout.ts). */
export const poolSize = (f: Fn): Expr => f.m.i32.div_u(f.hdr(H.ELEMS_SIZE), f.hdr(H.ELEM_SIZE));
