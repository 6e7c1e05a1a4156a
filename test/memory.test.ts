import { describe, expect, it } from 'vitest';
import { EngineMemory, NULL_GUARD, STACK_PER_CPU, WASM_PAGE } from '../src/runtime/memory.js';

describe('EngineMemory', () => {
  it('never hands out the null guard and lays stacks out per CPU', () => {
    const mem = new EngineMemory({ cpus: 2 });
    expect(mem.stackRegion(0)).toEqual({ start: NULL_GUARD, end: NULL_GUARD + STACK_PER_CPU });
    expect(mem.stackRegion(1).start).toBe(NULL_GUARD + STACK_PER_CPU);
    expect(mem.alloc(16)).toBeGreaterThanOrEqual(NULL_GUARD + 2 * STACK_PER_CPU);
    expect(() => mem.stackRegion(2)).toThrow(/cpu 2/);
  });

  it('grows for large allocations and its cached views follow', () => {
    const mem = new EngineMemory({ initialPages: 2 });
    const before = mem.bytes.byteLength;
    const addr = mem.alloc(4 * WASM_PAGE, 8);
    expect(addr % 8).toBe(0);
    expect(mem.bytes.byteLength).toBeGreaterThan(before);
    mem.write(addr + 4 * WASM_PAGE - 3, new Uint8Array([1, 2, 3]));
    expect([...mem.read(addr + 4 * WASM_PAGE - 3, 3)]).toEqual([1, 2, 3]);
  });

  it('sees growth made directly on the WebAssembly.Memory (as another thread would)', () => {
    const mem = new EngineMemory({ initialPages: 2 });
    const end = mem.bytes.byteLength;
    mem.memory.grow(1);
    mem.write(end + 10, new Uint8Array([0xab]));
    expect(mem.read(end + 10, 1)[0]).toBe(0xab);
    expect(new Uint8Array(mem.memory.buffer)[end + 10]).toBe(0xab);
  });
});
