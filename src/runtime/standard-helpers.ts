/**
 * The helper registry every Vm starts from: the host's helpers, then the kernel's helpers bpfjit
 * implements under Linux's numbers wherever the host took none of their ids. The CLI's verify and
 * dump-wasm use it too, so they accept what `run` accepts.
 */
import { mapHelpers } from '../maps/helpers.js';
import { HelperRegistry, type HelperSpec } from './helpers.js';

export function standardRegistry(host: Iterable<HelperSpec> = []): HelperRegistry {
  const registry = new HelperRegistry(host);
  for (const spec of mapHelpers()) if (!registry.has(spec.id)) registry.register(spec);
  return registry;
}
