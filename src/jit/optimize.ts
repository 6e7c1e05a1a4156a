/**
 * The optimizing tier's passes, chosen by measurement (bench/README.md, "Design measurements"):
 *
 * - binaryen's full -O2 pipeline (dozens of passes, each a whole-module walk) costs several times as
 *   much and runs no faster, since V8's optimizing tier already does the scalar work itself.
 * - What V8 does not do is inline across wasm functions or turn short data-dependent branches into
 *   `select`s. `inlining` moves small local-call targets into their callers (the code generator writes
 *   the entry into the event loop itself, module.ts), and simplify-locals followed by
 *   remove-unused-brs makes the selects the code generator's own if-conversion (select.ts) leaves.
 * - optimize-instructions at the end pays on byte loops (memcpy).
 * These passes match -O2's run time on every workload measured, at a fraction of its cost. They
 * read the baseline tier's module, whose blocks come as the stackifier nested them; a first round of
 * merge-blocks, remove-unused-brs and vacuum flattens those before the rest.
 */
import type { OptimizeSettings } from './binaryen.js';

export const JIT_OPTIMIZE: OptimizeSettings = {
  optimizeLevel: 2,
  shrinkLevel: 0,
  inlineFunctionsWithLoops: true,
  passes: [
    // The baseline module's blocks are nested as the stackifier placed them: flatten them first.
    'merge-blocks', 'remove-unused-brs', 'vacuum',
    'inlining', 'remove-unused-brs', 'optimize-instructions', 'simplify-locals-nostructure', 'vacuum',
    'coalesce-locals', 'simplify-locals', 'vacuum', 'coalesce-locals', 'merge-blocks', 'remove-unused-brs',
    'optimize-instructions',
  ],
};

/**
 * Programs above this many instructions skip binaryen's optimizer. simplify-locals folds chains of
 * single-use values into one expression, so a long straight-line block becomes a tree thousands of
 * levels deep: binaryen's recursive walkers then take tens of ms and overflow the stack past ~4,000.
 * V8's optimizing tier still compiles the unoptimized module well (bench/README.md, "Design measurements").
 */
export const OPTIMIZE_MAX_INSNS = 1024;

/** No passes at all: what large programs get, and the fallback when optimizing fails. */
export const JIT_NO_OPTIMIZE: OptimizeSettings = { optimizeLevel: 0, shrinkLevel: 0, passes: [] };

export const optimizeSettingsFor = (insnCount: number): OptimizeSettings =>
  insnCount <= OPTIMIZE_MAX_INSNS ? JIT_OPTIMIZE : JIT_NO_OPTIMIZE;
