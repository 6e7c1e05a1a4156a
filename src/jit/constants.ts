/**
 * Read-only data the generated code reads (value tables, value-table.ts). WebAssembly has no constant
 * arrays outside a memory, and the module's only memory is the engine's, so the data goes there, at
 * load time, placed once per content and engine memory: loading the same program again reuses it.
 * The engine's bump allocator never frees, so each distinct table stays for the memory's lifetime.
 * No program can write it: verified code touches only what the verifier proved, checked code only
 * the run's regions, and the data is in neither (unless the host grants a region over its heap).
 */
import type { EngineMemory } from '../runtime/memory.js';

const placed = new WeakMap<EngineMemory, Map<string, number>>();

/** Address of a copy of `bytes` in `mem`, aligned to 8. */
export function placeConstants(mem: EngineMemory, bytes: Uint8Array): number {
  let known = placed.get(mem);
  if (!known) placed.set(mem, (known = new Map()));
  const key = bytes.join(','); // tables are small; no Buffer, so this also runs in browsers
  let addr = known.get(key);
  if (addr === undefined) {
    addr = mem.alloc(bytes.length, 8);
    mem.write(addr, bytes);
    known.set(key, addr);
  }
  return addr;
}
