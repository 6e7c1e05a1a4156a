// Each way to run a program, for tests that run one in all of them: verified in both engines and
// both JIT tiers (the optimized tier needs loadOptimizer() first), and checked in both engines.
import type { LoadOptions } from '../src/index.js';

export const ENGINES: ReadonlyArray<[string, LoadOptions]> = [
  ['interp', { engine: 'interp' }],
  ['jit baseline', { engine: 'jit', tier: 'baseline' }],
  ['jit optimized', { engine: 'jit', tier: 'optimized' }],
  ['interp checked', { engine: 'interp', unverified: true }],
  ['jit checked', { engine: 'jit', tier: 'baseline', unverified: true }],
];
