/**
 * The one door to binaryen (docs/architecture.md section 5), the optimizing tier: it reads the bytes
 * the JIT's own code generator wrote, runs its passes and writes them back, or prints them as text.
 * No other file imports 'binaryen', and only the optimizer module (optimizer.ts, in the calling
 * thread or a worker) imports this one: loading a program never does.
 *
 * binaryen is pinned (package.json) and its JS API drifts between releases, so the first use checks
 * every entry point this module relies on and fails loudly naming what is missing.
 */
import binaryen from 'binaryen';
import { BpfError, InternalError } from '../errors.js';

export const PINNED_BINARYEN = '132.0.0';

/** Features the generated code uses: shared memory and atomics, sign-extension ops, mutable globals. */
const FEATURES = binaryen.Features.Atomics | binaryen.Features.MutableGlobals | binaryen.Features.SignExt;

const LIBRARY_API = ['readBinary', 'setOptimizeLevel', 'setShrinkLevel', 'getOptimizeLevel', 'getShrinkLevel',
  'getAllowInliningFunctionsWithLoops', 'setAllowInliningFunctionsWithLoops'] as const;
const MODULE_API = ['runPasses', 'optimize', 'validate', 'emitBinary', 'emitText', 'dispose'] as const;

export interface OptimizeSettings {
  readonly optimizeLevel: number;
  readonly shrinkLevel: number;
  /** binaryen pass names to run instead of the level's default pipeline. */
  readonly passes?: readonly string[];
  /** Let the inliner move functions that contain loops (binaryen refuses by default). */
  readonly inlineFunctionsWithLoops?: boolean;
}

let checked = false;

/** Verifies the binaryen API once; throws a BpfError listing every missing or changed entry point. */
export function checkBinaryenApi(): void {
  if (checked) return;
  const api = binaryen as unknown as Record<string, unknown>;
  const missing: string[] = LIBRARY_API.filter((name) => typeof api[name] !== 'function');
  if (missing.length === 0) {
    // The smallest valid module: magic and version.
    const probe = readBinary(Uint8Array.of(0, 0x61, 0x73, 0x6d, 1, 0, 0, 0));
    const methods = probe as unknown as Record<string, unknown>;
    missing.push(...MODULE_API.filter((name) => typeof methods[name] !== 'function').map((name) => `Module.${name}`));
    probe.dispose();
  }
  if (missing.length > 0) {
    throw new BpfError('E_INPUT', `binaryen API mismatch (bpfjit is built against binaryen ${PINNED_BINARYEN}): ` +
      `missing or changed: ${missing.join(', ')}`);
  }
  checked = true;
}

/** binaryen.readBinary with the JIT's features (its second parameter, which the bundled typings omit). */
const readBinary = (binary: Uint8Array): binaryen.Module =>
  (binaryen.readBinary as unknown as (data: Uint8Array, features: binaryen.Features) => binaryen.Module)(binary, FEATURES);

function withModule<T>(binary: Uint8Array, use: (m: binaryen.Module) => T): T {
  checkBinaryenApi();
  const m = readBinary(binary);
  try {
    if (!m.validate()) throw new InternalError('binaryen rejected the module the JIT generated');
    return use(m);
  } finally {
    m.dispose();
  }
}

/**
 * binaryen's optimizer over a module. Its settings are process-wide binaryen state, so they are set
 * for this call and put back afterwards.
 */
function runOptimizer(m: binaryen.Module, settings: OptimizeSettings): void {
  const saved = {
    optimize: binaryen.getOptimizeLevel(), shrink: binaryen.getShrinkLevel(),
    loops: binaryen.getAllowInliningFunctionsWithLoops(),
  };
  try {
    binaryen.setOptimizeLevel(settings.optimizeLevel);
    binaryen.setShrinkLevel(settings.shrinkLevel);
    binaryen.setAllowInliningFunctionsWithLoops(settings.inlineFunctionsWithLoops ?? false);
    if (settings.passes) m.runPasses([...settings.passes]);
    else m.optimize();
  } finally {
    binaryen.setOptimizeLevel(saved.optimize);
    binaryen.setShrinkLevel(saved.shrink);
    binaryen.setAllowInliningFunctionsWithLoops(saved.loops);
  }
}

/** A module's bytes through binaryen's optimizer. */
export function optimizeBinary(binary: Uint8Array, settings: OptimizeSettings): Uint8Array<ArrayBuffer> {
  return withModule(binary, (m) => {
    runOptimizer(m, settings);
    return m.emitBinary() as Uint8Array<ArrayBuffer>;
  });
}

/** A module's bytes as WebAssembly text (for dump-wasm), optimized first when `settings` are given. */
export function binaryText(binary: Uint8Array, settings?: OptimizeSettings): string {
  return withModule(binary, (m) => {
    if (settings) runOptimizer(m, settings);
    return m.emitText();
  });
}
