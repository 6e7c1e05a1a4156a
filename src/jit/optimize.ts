/**
 * The optimizer settings every JIT module gets, chosen by measurement (A/B in one process, port80,
 * log2, switch, strcmp, primes, memcpy from bench/, and load time of the 19-slot port80):
 *
 * - binaryen's full -O2 pipeline costs 6-25 ms per small module (dozens of passes, each a whole-module
 *   walk), over the 5 ms load budget, while V8's optimizing tier already does the scalar work itself.
 * - What V8 does not do is inline across wasm functions or turn short data-dependent branches into
 *   `select`s. `inlining` moves the entry function into the event loop (its only caller; see
 *   module.ts), and simplify-locals followed by remove-unused-brs makes the selects: log2 runs in
 *   3.7 ns instead of 18, port80 batch in 2.1 ns instead of 5.3 (no optimization at all).
 * - optimize-instructions at the end is worth 12% on byte loops (memcpy).
 * These 12 passes run in about 2 ms on port80 and match -O2's run time on every workload measured.
 */
import type { OptimizeSettings } from './binaryen.js';

export const JIT_OPTIMIZE: OptimizeSettings = {
  optimizeLevel: 2,
  shrinkLevel: 0,
  inlineFunctionsWithLoops: true,
  passes: [
    'inlining', 'remove-unused-brs', 'optimize-instructions', 'simplify-locals-nostructure', 'vacuum',
    'coalesce-locals', 'simplify-locals', 'vacuum', 'coalesce-locals', 'merge-blocks', 'remove-unused-brs',
    'optimize-instructions',
  ],
};

/**
 * Programs above this many instructions skip binaryen's optimizer. simplify-locals folds chains of
 * single-use values into one expression, so a long straight-line block becomes a tree thousands of
 * levels deep: binaryen's recursive walkers then take tens of ms (33 ms for 1,000 ALU instructions)
 * and overflow the stack past ~4,000. V8's optimizing tier still compiles the unoptimized module well
 * (a 1,000-instruction ALU program runs 92 ns instead of 65).
 */
export const OPTIMIZE_MAX_INSNS = 1024;

/** No passes at all: what large programs get, and the fallback when optimizing fails. */
export const JIT_NO_OPTIMIZE: OptimizeSettings = { optimizeLevel: 0, shrinkLevel: 0, passes: [] };

export const optimizeSettingsFor = (insnCount: number): OptimizeSettings =>
  insnCount <= OPTIMIZE_MAX_INSNS ? JIT_OPTIMIZE : JIT_NO_OPTIMIZE;
