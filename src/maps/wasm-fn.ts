/**
 * A little help for writing the map operations with the module builder: named i32 locals and a
 * while loop. Kept apart from ops.ts so that the operations read as the algorithms they are.
 */
import { i32, i64, type Expr, type ValueType, type WasmModule } from '../wasm/builder.js';

export class Fn {
  private readonly index = new Map<string, number>();
  private readonly vars: ValueType[] = [];
  private loops = 0;

  constructor(readonly m: WasmModule, readonly params: readonly string[], locals: readonly string[], paramType: ValueType = i32) {
    params.forEach((p, i) => this.index.set(p, i));
    for (const l of locals) {
      this.index.set(l, params.length + this.vars.length);
      this.vars.push(i32);
    }
    this.paramType = paramType;
  }

  private readonly paramType: ValueType;

  private at(name: string): number {
    const i = this.index.get(name);
    if (i === undefined) throw new Error(`no local '${name}'`);
    return i;
  }

  get(name: string): Expr {
    const i = this.at(name);
    return this.m.local.get(i, i < this.params.length ? this.paramType : i32);
  }

  set(name: string, value: Expr): Expr {
    return this.m.local.set(this.at(name), value);
  }

  /** `while (cond) body`; body may `br(exit)` to leave early (exit is returned to it). */
  while(cond: Expr, body: (exit: string) => Expr[]): Expr {
    const m = this.m;
    const top = `loop${this.loops++}`;
    const exit = `${top}_exit`;
    return m.block(exit, [m.loop(top, m.block(null, [m.br(exit, m.i32.eqz(cond)), ...body(exit), m.br(top)]))], 'none');
  }

  /** Adds the function: body statements, then the result. */
  add(name: string, result: ValueType | 'none', body: readonly Expr[]): void {
    const params = this.params.map(() => this.paramType);
    this.m.addFunction(name, params, result, this.vars, this.m.block(null, [...body], result === 'none' ? 'none' : result));
  }
}

export { i32, i64 };
