/**
 * Opt-in V8 settings that make a process's first JIT loads fast (Node only; this module imports
 * neither binaryen nor the rest of bpfjit, so it can run before they load).
 *
 * binaryen is itself a large WebAssembly module. For its first few hundred milliseconds in a process
 * V8 tiers its hot functions up to the optimizing compiler on background threads (some 200 functions,
 * 0.7 s of CPU), and Node gives V8 four such threads whatever the core count: on a 2-core machine the
 * main thread then waits in the run queue for half of every early load (port80, loads 1-20 after
 * `import('binaryen')`: 15.7 ms, of which 8 ms waiting). Two flags:
 * - one compilation task per spare core leaves a core to the thread that is loading (5.8 ms; the
 *   tier-up then takes longer, so loads 30-160 cost ~4.5 ms instead of ~3.7);
 * - without the generic JS-to-wasm wrapper, the many calls between binaryen's JavaScript glue and its
 *   WebAssembly take specialised wrappers (with both: 5.4 ms).
 *
 * Both change how V8 compiles every WebAssembly module in the process, so the library never sets
 * them itself; the `bpfjit` command does. They act fully only before binaryen is imported: on the
 * node command line, or by calling useLowLatencyV8Flags() before the first import of bpfjit.
 */
import { availableParallelism } from 'node:os';
import { setFlagsFromString } from 'node:v8';

/** The flags, as node command-line arguments. */
export function lowLatencyV8Flags(): string[] {
  return [`--wasm-num-compilation-tasks=${Math.max(1, availableParallelism() - 1)}`, '--no-wasm-generic-wrapper'];
}

let applied = false;

/** Applies lowLatencyV8Flags() to this process. */
export function useLowLatencyV8Flags(): void {
  for (const flag of lowLatencyV8Flags()) setFlagsFromString(flag);
  applied = true;
}

/** Whether useLowLatencyV8Flags() ran in this process (flags given on the command line do not count). */
export const lowLatencyV8FlagsApplied = (): boolean => applied;
