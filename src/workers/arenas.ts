/**
 * Engine memory for the batches a pool places: heap allocations are never freed (memory.ts), so the
 * pool keeps the areas it allocated and reuses a free one large enough for the next batch.
 */
import type { EngineMemory } from '../runtime/memory.js';

export interface Arena {
  readonly addr: number;
  readonly size: number;
}

const MIN_ARENA = 65536;

export class Arenas {
  private readonly free: Arena[] = [];

  constructor(private readonly mem: EngineMemory) {}

  /** An area of at least `bytes`, 8-aligned: the smallest free one that fits, else a new one. */
  acquire(bytes: number): Arena {
    let best = -1;
    this.free.forEach((a, i) => {
      if (a.size >= bytes && (best < 0 || a.size < this.free[best]!.size)) best = i;
    });
    if (best >= 0) return this.free.splice(best, 1)[0]!;
    const size = Math.max(bytes, MIN_ARENA);
    return { addr: this.mem.alloc(size, 8), size };
  }

  release(arena: Arena): void {
    this.free.push(arena);
  }
}
