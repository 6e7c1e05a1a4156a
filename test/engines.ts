/** Shared by the tests of programs with maps: every way to run a program. */
import type { LoadOptions } from '../src/index.js';

/** Each way to run a program: verified in both engines and both JIT tiers, and checked in both engines. */
export const ENGINES: ReadonlyArray<[string, LoadOptions]> = [
  ['interp', { engine: 'interp' }],
  ['jit baseline', { engine: 'jit', tier: 'baseline' }],
  ['jit optimized', { engine: 'jit', tier: 'optimized' }],
  ['interp checked', { engine: 'interp', unverified: true }],
  ['jit checked', { engine: 'jit', tier: 'baseline', unverified: true }],
];
