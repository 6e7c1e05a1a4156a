/**
 * One fresh process of the load-latency-by-configuration measurement (load-time.ts starts it with
 * the V8 flags under test): imports the JIT (which starts binaryen), optionally warms it up, then
 * loads `count` variants of port80 and prints `{ warmUpMs, loadMs: [...] }` as JSON.
 * Usage: node [v8 flags] dist/bench/load-child.js WARMUP_LOADS COUNT
 */
import { loadBytes } from '../src/program/program.js';
import type { Runtime } from '../src/runtime/executable.js';
import { HelperRegistry } from '../src/runtime/helpers.js';
import { EngineMemory } from '../src/runtime/memory.js';
import { variant } from './load-variant.js';
import { programBytes } from './programs.js';

const [warmUp, count] = process.argv.slice(2).map(Number);
const { compileJit } = await import('../src/jit/index.js');
const { warmUpJit } = await import('../src/warm-up.js');
const rt: Runtime = { mem: new EngineMemory({ cpus: 1 }), helpers: new HelperRegistry() };
const ctx = rt.mem.alloc(64, 64);
const w0 = performance.now();
warmUpJit(rt, warmUp ?? 0);
const warmUpMs = performance.now() - w0;
const bytes = programBytes('port80');
const ms: number[] = [];
for (let k = 0; k < (count ?? 0); k++) {
  const t0 = performance.now();
  const exe = compileJit(loadBytes(variant(bytes, k)), rt);
  ms.push(performance.now() - t0);
  exe.run(ctx, 64);
}
process.stdout.write(JSON.stringify({ warmUpMs, loadMs: ms }));
