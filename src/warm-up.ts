/**
 * JIT warm-up, to call once at start-up: the first load in a process costs about 50 ms, most of it
 * V8 compiling (lazily, on first call) the parts of binaryen the JIT uses, and the next few run them
 * in V8's baseline tier. Measured on 2 cores with the flags of v8-flags.ts (bench, load latency by
 * configuration): 10 warm-up loads take about 170 ms and bring the median of the next 20 loads of a
 * 19-instruction filter from 5.05 ms to 4.36. Without those flags V8's background tier-up of binaryen
 * keeps early loads slow for about half a second, warm-up or not.
 *
 * The warm-up program is a filter of its own (not one the benchmark loads): header checks, a bounded
 * loop over the payload and a local call, so the Relooper, the optimizer passes and the checked mode's
 * bounds and budget code all run.
 */
import { assemble } from './asm/index.js';
import { compileJit } from './jit/index.js';
import { buildProgram } from './program/program.js';
import type { Runtime } from './runtime/executable.js';

const WARM_UP_FILTER = (k: number): string => `
  mov %r0, 0
  jlt %r2, 42, out
  ldxh %r3, [%r1+12]
  jne %r3, ${0x0008 + k}, out
  ldxb %r3, [%r1+23]
  jne %r3, 17, out
  ldxh %r8, [%r1+36]
  be16 %r8
  mov %r6, 0
  mov %r7, %r1
  add %r7, 42
loop:
  jge %r6, %r2, done
  ldxb %r5, [%r7]
  add %r0, %r5
  add %r7, 1
  add %r6, 43
  ja loop
done:
  mov %r1, %r0
  call local fold
  jeq %r8, 53, out
  and %r0, 0xff
out:
  exit
fold:
  mov %r0, %r1
  rsh %r0, 8
  xor %r0, %r1
  exit`;

/** Compiles `loads` variants of a small filter (each a distinct module, so V8 caches none of them). */
export function warmUpJit(rt: Runtime, loads = 10): void {
  for (let k = 0; k < loads; k++) compileJit(buildProgram(assemble(WARM_UP_FILTER(k), 'ubpf')), rt);
}
