/**
 * Data the generated code keeps in engine memory (WebAssembly has no constant arrays outside a
 * memory, and the module's only memory is the engine's). It lives in the engine's internal area
 * inside the null guard (src/runtime/memory.ts), which is never a region of any run: verified code
 * touches only what the verifier proved, checked code only its run's regions, and the host API refuses
 * contexts and results there, so no program and no caller can read or change it.
 *
 * Read-only tables (value-table.ts) are placed at load time, once per content and engine memory:
 * loading the same program again reuses them. The area is small and never freed; when it is full a
 * table is not placed and the JIT emits its switch as a br_table instead.
 */
import { InternalError } from '../errors.js';
import type { EngineMemory } from '../runtime/memory.js';

const placed = new WeakMap<EngineMemory, Map<string, number>>();

/** Address of a copy of `bytes` in the memory's internal area, aligned to 8, or undefined when it is full. */
export function placeConstants(mem: EngineMemory, bytes: Uint8Array): number | undefined {
  let known = placed.get(mem);
  if (!known) placed.set(mem, (known = new Map()));
  const key = bytes.join(','); // tables are small; no Buffer, so this also runs in browsers
  let addr = known.get(key);
  if (addr === undefined) {
    addr = mem.allocInternal(bytes.length, 64); // a table starts a cache line: it spans as few as it can
    if (addr === undefined) return undefined;
    mem.write(addr, bytes);
    known.set(key, addr);
  }
  return addr;
}

const scratch = new WeakMap<EngineMemory, number>();

/**
 * An 8-byte slot where single runs store their result: the event loop stores every event's r0, and
 * a single run returns it instead. Nothing reads the slot, so runs on several CPUs may share it.
 * buildModule asks for it before any table is placed, so the area always has room for it.
 */
export function scratchSlot(mem: EngineMemory): number {
  let addr = scratch.get(mem);
  if (addr === undefined) {
    addr = mem.allocInternal(64, 64); // a cache line of its own: single runs write it
    if (addr === undefined) throw new InternalError('the engine memory has no room for the JIT scratch slot');
    scratch.set(mem, addr);
  }
  return addr;
}
