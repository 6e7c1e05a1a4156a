/**
 * Data the generated code keeps in engine memory (WebAssembly has no constant arrays outside a
 * memory, and the module's only memory is the engine's).
 *
 * Read-only tables (value-table.ts) are placed at load time, once per content and engine memory:
 * loading the same program again reuses them. The engine's bump allocator never frees, so each
 * distinct table stays for the memory's lifetime. No program can write one: verified code touches
 * only what the verifier proved, checked code only the run's regions, and the tables are in neither
 * (unless the host grants a region over its heap).
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

const scratch = new WeakMap<EngineMemory, number>();

/**
 * An 8-byte slot where single runs store their result: the event loop stores every event's r0, and
 * a single run returns it instead. Nothing reads the slot, so runs on several CPUs may share it.
 */
export function scratchSlot(mem: EngineMemory): number {
  let addr = scratch.get(mem);
  if (addr === undefined) scratch.set(mem, (addr = mem.alloc(8, 8)));
  return addr;
}
