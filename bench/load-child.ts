/**
 * One fresh process of the load-latency measurement (load-time.ts starts it): the first load of one
 * program in one JIT tier, with every import inside the time. It imports nothing statically, so the
 * first line runs right after node's own start-up; then bpfjit's package entry (and binaryen, for the
 * optimized tier), then one load (load-phases.ts). Prints one JSON object (ChildResult), times in ms
 * from process start (`performance.now()` counts from it).
 * Usage: node dist/bench/load-child.js PROGRAM TIER ALU_SLOTS
 */
import type { ChildResult } from './load-phases.js';

/** dist/bundle/NAME: this file runs as dist/bench/load-child.js. */
const bundled = (name: string): string => new URL(`../bundle/${name}`, import.meta.url).href;

const nodeStartMs = performance.now();
const [name, tier, aluSlots] = process.argv.slice(2);
// The package entry as users load it (the bundle, scripts/bundle.mjs); compileJitTimed is not in it, but
// its own small entry shares the bundle's chunks.
const lib = (await import(bundled('index.js'))) as typeof import('../src/index.js');
const { compileJitTimed } = (await import(bundled('jit/index.js'))) as typeof import('../src/jit/index.js');
if (tier === 'optimized') await lib.loadOptimizer();
const importsDoneMs = performance.now();

// The bench's own code, and reading (or generating) the program's bytes: not counted.
const prepare0 = performance.now();
const { loadProgram, timeLoad } = await import('./load-phases.js');
const program = loadProgram(name ?? '', Number(aluSlots));
const prepareMs = performance.now() - prepare0;

const rt = { mem: new lib.EngineMemory({ cpus: 1 }), helpers: new lib.HelperRegistry() };
const ctx = rt.mem.alloc(program.ctxLen, 64);
const api = { loadBytes: lib.loadBytes, verify: lib.verify, memory: lib.memory, compileJitTimed };
const sample = timeLoad(api, rt, program.bytes, program.ctxLen, ctx, tier === 'optimized' ? 'optimized' : 'baseline');
const result: ChildResult = {
  nodeStartMs, importMs: importsDoneMs - nodeStartMs, sample, firstResultMs: performance.now() - prepareMs,
};
process.stdout.write(JSON.stringify(result));
