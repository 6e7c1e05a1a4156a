// The ways to run a loaded program that tests of programs go through, and a helper to catch a fault.
import { expect } from 'vitest';
import type { LoadOptions } from '../src/index.js';
import { BpfRuntimeError } from '../src/errors.js';

/** Each way to run a program: verified in both engines and both JIT tiers, and checked in both engines. */
export const ENGINES: ReadonlyArray<[string, LoadOptions]> = [
  ['interp', { engine: 'interp' }],
  ['jit baseline', { engine: 'jit', tier: 'baseline' }],
  ['jit optimized', { engine: 'jit', tier: 'optimized' }], // needs loadOptimizer() in beforeAll
  ['interp checked', { engine: 'interp', unverified: true }],
  ['jit checked', { engine: 'jit', tier: 'baseline', unverified: true }],
];

/** The checked ones. */
export const CHECKED = ENGINES.filter(([name]) => name.endsWith('checked'));

/** Runs and returns the runtime error (failing the test when there is none). */
export function fault(run: () => unknown): BpfRuntimeError {
  try {
    run();
  } catch (e) {
    expect(e).toBeInstanceOf(BpfRuntimeError);
    return e as BpfRuntimeError;
  }
  throw new Error('expected a fault');
}
