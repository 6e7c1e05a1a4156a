// The WebAssembly encoder (src/wasm/encode.ts): what the builder makes must validate and compute what
// WebAssembly says, at the edges of every immediate's encoding and at depths recursion could not reach.
import { describe, expect, it } from 'vitest';
import { WasmModule, i32, i64, tupleType } from '../src/wasm/builder.js';
import { encodeModule } from '../src/wasm/encode.js';
import { sleb32, sleb64, uleb } from '../src/wasm/leb.js';

const memory = (): WebAssembly.Memory => new WebAssembly.Memory({ initial: 1, maximum: 4, shared: true });

function instantiate(m: WasmModule, mem = memory()): Record<string, (...args: never[]) => unknown> {
  const module = new WebAssembly.Module(encodeModule(m.definition()));
  return new WebAssembly.Instance(module, { env: { memory: mem } }).exports as Record<string, (...args: never[]) => unknown>;
}

function withMemory(m: WasmModule): WasmModule {
  m.importMemory('env', 'memory', 1, 4, true);
  return m;
}

describe('LEB128', () => {
  it('encodes the edges of each range as the format defines', () => {
    expect(uleb(0)).toEqual([0]);
    expect(uleb(127)).toEqual([0x7f]);
    expect(uleb(128)).toEqual([0x80, 0x01]);
    expect(uleb(624485)).toEqual([0xe5, 0x8e, 0x26]);
    expect(sleb32(-1)).toEqual([0x7f]);
    expect(sleb32(63)).toEqual([0x3f]);
    expect(sleb32(64)).toEqual([0xc0, 0x00]);
    expect(sleb32(-64)).toEqual([0x40]);
    expect(sleb32(-65)).toEqual([0xbf, 0x7f]);
    expect(sleb32(-123456)).toEqual([0xc0, 0xbb, 0x78]);
    expect(sleb64(-(1n << 63n))).toHaveLength(10);
  });

  it('round-trips constants through WebAssembly', () => {
    const values = [0n, 1n, -1n, 63n, 64n, -64n, -65n, 0x7fffffffn, -0x80000000n, 0xffffffffn, (1n << 63n) - 1n, -(1n << 63n), 0x8000000000000001n];
    const m = withMemory(new WasmModule());
    values.forEach((v, k) => {
      m.addFunction(`c${k}`, 'none', i64, [], m.i64.const(v));
      m.addFunctionExport(`c${k}`, `c${k}`);
    });
    for (const n of [0, -1, 63, 64, -64, -65, 0x7fffffff, -0x80000000]) {
      m.addFunction(`d${n}`, 'none', i32, [], m.i32.const(n));
      m.addFunctionExport(`d${n}`, `d${n}`);
    }
    const x = instantiate(m);
    values.forEach((v, k) => expect(x[`c${k}`]!()).toBe(BigInt.asIntN(64, v)));
    for (const n of [0, -1, 63, 64, -64, -65, 0x7fffffff, -0x80000000]) expect(x[`d${n}`]!()).toBe(n);
  });
});

describe('buffers', () => {
  it('writes the same bytes for a module whatever was written before (buffers are reused)', () => {
    const small = (): WasmModule => {
      const m = withMemory(new WasmModule());
      m.addFunction('f', 'none', i32, [], m.i32.const(7));
      m.addFunctionExport('f', 'f');
      return m;
    };
    const big = withMemory(new WasmModule());
    for (let k = 0; k < 200; k++) {
      big.addFunction(`g${k}`, 'none', i64, [], m64(big, k));
      big.addFunctionExport(`g${k}`, `g${k}`);
    }
    const first = encodeModule(small().definition());
    encodeModule(big.definition());
    const again = encodeModule(small().definition());
    expect(again).toEqual(first);
    expect(new WebAssembly.Instance(new WebAssembly.Module(again), { env: { memory: memory() } }).exports['f']).toBeTypeOf('function');
  });
});

/** A constant long enough that the module's buffers grow. */
const m64 = (m: WasmModule, k: number): ReturnType<WasmModule['i64']['const']> => m.i64.const(BigInt(k) * 0x123456789abcdn);

describe('expressions', () => {
  it('evaluates select as WebAssembly does: ifTrue, ifFalse, then the condition', () => {
    const m = withMemory(new WasmModule());
    // The condition reads the local the ifTrue operand sets.
    m.addFunction('f', tupleType([i64]), i64, [i64], m.select(
      m.i64.eq(m.local.get(1, i64), m.i64.const(7n)), m.local.tee(1, m.local.get(0, i64), i64), m.i64.const(-1n)));
    m.addFunctionExport('f', 'f');
    const f = instantiate(m)['f'] as (a: bigint) => bigint;
    expect(f(7n)).toBe(7n);
    expect(f(8n)).toBe(-1n);
  });

  it('loads, stores and atomics with offsets, and branches to the right depth', () => {
    const m = withMemory(new WasmModule());
    const p = (): ReturnType<WasmModule['i32']['const']> => m.i32.const(64);
    m.addFunction('f', tupleType([i32]), i64, [], m.block(null, [
      m.i64.store(8, 8, p(), m.i64.const(0x1122334455667788n)),
      m.drop(m.i64.atomic.rmw.add(16, p(), m.i64.const(5n))),
      m.drop(m.i32.atomic.rmw.cmpxchg(16, p(), m.i32.const(5), m.i32.const(9))),
      m.block('outer', [
        m.block('inner', [m.br('outer', m.local.get(0, i32)), m.br('inner')]),
        m.i32.store(24, 4, p(), m.i32.const(1)),
      ]),
      m.i64.add(m.i64.load(8, 8, p()), m.i64.add(m.i64.load(16, 8, p()), m.i64.load32_u(24, 4, p()))),
    ]));
    m.addFunctionExport('f', 'f');
    const mem = memory();
    const f = instantiate(m, mem)['f'] as (skip: number) => bigint;
    expect(f(0)).toBe(0x1122334455667788n + 9n + 1n);
    new Uint8Array(mem.buffer).fill(0);
    expect(f(1)).toBe(0x1122334455667788n + 9n);
  });

  it('copies and fills memory (bulk memory), overlapping copies included', () => {
    const m = withMemory(new WasmModule());
    const k = (n: number): ReturnType<WasmModule['i32']['const']> => m.i32.const(n);
    m.addFunction('f', 'none', 'none', [], m.block(null, [
      m.memory.fill(k(100), k(0xab), k(3)),
      m.memory.copy(k(200), k(99), k(5)),
      m.memory.copy(k(301), k(300), k(4)), // overlapping, forwards: as memmove
    ]));
    m.addFunctionExport('f', 'f');
    const mem = memory();
    const bytes = new Uint8Array(mem.buffer);
    bytes.set([1, 2, 3, 4, 5], 300);
    instantiate(m, mem)['f']!();
    expect([...bytes.slice(99, 104)]).toEqual([0, 0xab, 0xab, 0xab, 0]);
    expect([...bytes.slice(200, 206)]).toEqual([0, 0xab, 0xab, 0xab, 0, 0]);
    expect([...bytes.slice(300, 306)]).toEqual([1, 1, 2, 3, 4, 0]);
  });

  it('writes 100,000 nested blocks without running out of stack', () => {
    const m = withMemory(new WasmModule());
    let body = m.br('b0');
    for (let k = 0; k < 100_000; k++) body = m.block(`b${k}`, [body]);
    m.addFunction('f', 'none', i32, [], m.block(null, [body, m.i32.const(42)]));
    m.addFunctionExport('f', 'f');
    expect(instantiate(m)['f']!()).toBe(42);
  });
});
