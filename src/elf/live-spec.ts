/**
 * What an object's map is created from in a Vm, as libbpf adjusts it: read-only data gets
 * BPF_F_RDONLY_PROG, and a perf event array of no declared size gets one buffer per CPU. parseObject
 * checks declared maps against it (with one CPU) so a map the kernel would refuse fails at parse.
 */
import type { MapSpec } from '../maps/spec.js';
import { BPF_F, BPF_MAP_TYPE, mapTypeId } from '../maps/types.js';
import type { ObjectMapSpec } from './spec.js';

export function liveSpec(m: ObjectMapSpec, cpus: number): MapSpec {
  let spec = m.spec;
  if (m.readonly) spec = { ...spec, flags: (spec.flags ?? 0) | BPF_F.RDONLY_PROG };
  if (spec.maxEntries === 0 && mapTypeId(spec.type) === BPF_MAP_TYPE.PERF_EVENT_ARRAY) spec = { ...spec, maxEntries: cpus };
  return spec;
}
