/**
 * The one door to binaryen (docs/architecture.md section 5): no other file imports 'binaryen'. The rest of the JIT
 * builds expressions through the Module this hands out and asks this module to optimize and emit.
 *
 * binaryen is pinned (package.json) and its JS API drifts between releases (i64.const switched to a single
 * bigint argument, for example, while the bundled typings still show two numbers), so the first use
 * checks every entry point the JIT relies on and fails loudly naming what is missing.
 */
import binaryen from 'binaryen';
import { BpfError, InternalError } from '../errors.js';

export type Module = binaryen.Module;
export type Expr = binaryen.ExpressionRef;
export type WasmType = binaryen.Type;
export type Relooper = binaryen.Relooper;
export type RelooperBlock = binaryen.RelooperBlockRef;

export const PINNED_BINARYEN = '132.0.0';

export const none: WasmType = binaryen.none;
export const i32: WasmType = binaryen.i32;
export const i64: WasmType = binaryen.i64;

/** Features the generated code uses: shared memory and atomics, sign-extension ops, mutable globals. */
const FEATURES = binaryen.Features.Atomics | binaryen.Features.MutableGlobals | binaryen.Features.SignExt;

/** Dotted paths on a Module instance that the code generator calls. */
const MODULE_API = [
  'i32.const', 'i32.add', 'i32.wrap', 'i32.extend8_s', 'i32.extend16_s', 'i32.rotl', 'i32.div_u', 'i32.rem_s',
  'i32.load', 'i32.atomic.rmw.cmpxchg', 'i32.atomic.rmw.xchg', 'i32.atomic.rmw.add',
  'i64.const', 'i64.add', 'i64.extend_u', 'i64.extend_s', 'i64.extend32_s', 'i64.load32_s', 'i64.store32',
  'i64.atomic.rmw.add', 'i64.atomic.rmw.cmpxchg', 'i64.atomic.rmw32_u.add',
  'local.get', 'local.set', 'local.tee', 'global.get', 'global.set', 'block', 'if', 'loop', 'br', 'br_if',
  'call', 'return', 'drop', 'select', 'switch', 'unreachable', 'nop', 'memory.size',
  'addFunction', 'addFunctionImport', 'addFunctionExport', 'addGlobal', 'setMemory', 'addMemoryImport',
  'setFeatures', 'validate', 'optimize', 'runPasses', 'emitBinary', 'emitText', 'dispose',
] as const;

const LIBRARY_API = ['Module', 'Relooper', 'createType', 'setOptimizeLevel', 'setShrinkLevel', 'getOptimizeLevel',
  'getShrinkLevel', 'getAllowInliningFunctionsWithLoops', 'setAllowInliningFunctionsWithLoops', 'emitText'] as const;

/** Relooper methods (binaryen.js sets them on each instance, not on the prototype). */
const RELOOPER_API = ['addBlock', 'addBranch', 'addBlockWithSwitch', 'addBranchForSwitch', 'renderAndDispose'] as const;

let checked = false;

function missingRelooperApi(probe: binaryen.Module): string[] {
  const rl = new binaryen.Relooper(probe);
  const missing = RELOOPER_API.filter((name) => typeof (rl as unknown as Record<string, unknown>)[name] !== 'function');
  if (!missing.includes('renderAndDispose') && !missing.includes('addBlock')) rl.renderAndDispose(rl.addBlock(probe.nop()), 0);
  return missing.map((name) => `Relooper.${name}`);
}

function lookup(root: unknown, path: string): unknown {
  let value: unknown = root;
  for (const part of path.split('.')) {
    if ((typeof value !== 'object' && typeof value !== 'function') || value === null) return undefined;
    value = (value as Record<string, unknown>)[part];
  }
  return value;
}

/** Verifies the binaryen API once; throws a BpfError listing every missing or changed entry point. */
export function checkBinaryenApi(): void {
  if (checked) return;
  const missing: string[] = LIBRARY_API.filter((name) => lookup(binaryen, name) === undefined);
  if (missing.length === 0) {
    const probe = new binaryen.Module();
    try {
      missing.push(...MODULE_API.filter((path) => typeof lookup(probe, path) !== 'function').map((p) => `Module.${p}`));
      missing.push(...missingRelooperApi(probe));
      // The two-number form of i64.const is gone; make sure the bigint form gives back the exact bits.
      const text = binaryen.emitText(probe.i64.const(0x8000000000000001n as unknown as number)).trim();
      if (text !== '(i64.const -9223372036854775807)') missing.push(`i64.const(bigint) gives ${text}`);
    } finally {
      probe.dispose();
    }
  }
  if (missing.length > 0) {
    throw new BpfError('E_INPUT', `binaryen API mismatch (bpfjit is built against binaryen ${PINNED_BINARYEN}): ` +
      `missing or changed: ${missing.join(', ')}`);
  }
  checked = true;
}

/** A new module with the JIT's feature set. */
export function newModule(): Module {
  checkBinaryenApi();
  const m = new binaryen.Module();
  m.setFeatures(FEATURES);
  return m;
}

/** A 64-bit constant from its exact bits (any bigint; taken modulo 2^64). */
export function i64Const(m: Module, value: bigint): Expr {
  return m.i64.const(BigInt.asIntN(64, value) as unknown as number);
}

export function tupleType(types: readonly WasmType[]): WasmType {
  return binaryen.createType(types);
}

export function newRelooper(m: Module): Relooper {
  return new binaryen.Relooper(m);
}

/** Imports the engine's memory as `env.memory`, shared, with the given page limits. */
export function importSharedMemory(m: Module, initialPages: number, maximumPages: number): void {
  m.setMemory(initialPages, maximumPages, null, [], true, false, 'memory');
  m.addMemoryImport('memory', 'env', 'memory', true);
}

export interface OptimizeSettings {
  readonly optimizeLevel: number;
  readonly shrinkLevel: number;
  /** binaryen pass names to run instead of the level's default pipeline. */
  readonly passes?: readonly string[];
  /** Let the inliner move functions that contain loops (binaryen refuses by default). */
  readonly inlineFunctionsWithLoops?: boolean;
}

/**
 * Runs binaryen's optimizer. Its settings are process-wide binaryen state, so they are set for this
 * call and put back afterwards.
 */
export function optimizeModule(m: Module, settings: OptimizeSettings): void {
  const saved = {
    optimize: binaryen.getOptimizeLevel(), shrink: binaryen.getShrinkLevel(),
    loops: binaryen.getAllowInliningFunctionsWithLoops(),
  };
  try {
    binaryen.setOptimizeLevel(settings.optimizeLevel);
    binaryen.setShrinkLevel(settings.shrinkLevel);
    binaryen.setAllowInliningFunctionsWithLoops(settings.inlineFunctionsWithLoops ?? false);
    if (settings.passes) m.runPasses(settings.passes);
    else m.optimize();
  } finally {
    binaryen.setOptimizeLevel(saved.optimize);
    binaryen.setShrinkLevel(saved.shrink);
    binaryen.setAllowInliningFunctionsWithLoops(saved.loops);
  }
}

/** Validates the module; an invalid module is a JIT bug, reported with binaryen's text form. */
export function validateModule(m: Module): void {
  if (!m.validate()) throw new InternalError('binaryen rejected the module the JIT generated');
}

export function emitBinary(m: Module): Uint8Array<ArrayBuffer> {
  return m.emitBinary() as Uint8Array<ArrayBuffer>;
}

export function emitText(m: Module): string {
  return m.emitText();
}
