/**
 * The helper registry every Vm starts from: the host's helpers, then the kernel's helpers bpfjit
 * implements under Linux's numbers wherever the host took none of their ids. The CLI's verify and
 * dump-wasm use it too, so they accept what `run` accepts.
 */
import { mapHelpers } from '../maps/helpers.js';
import { kernelHelpers, type KernelHelperOptions } from '../helpers/index.js';
import { ringBufHelpers } from '../maps/ringbuf-helpers.js';
import { perfHelpers } from '../maps/perf-helpers.js';
import { spinLockHelpers } from '../maps/spin-lock-helpers.js';
import { HelperRegistry, type HelperSpec } from './helpers.js';

/** `kernel`: what the helpers of src/helpers need from the Vm (its CPUs, the host's callbacks). */
export function standardRegistry(host: Iterable<HelperSpec> = [], kernel: KernelHelperOptions = { cpus: 1 }): HelperRegistry {
  const registry = new HelperRegistry(host);
  for (const spec of [...mapHelpers(), ...ringBufHelpers(), ...perfHelpers(), ...spinLockHelpers(), ...kernelHelpers(kernel)]) if (!registry.has(spec.id)) registry.register(spec);
  return registry;
}
