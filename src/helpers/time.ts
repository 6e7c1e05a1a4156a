/**
 * The kernel's clocks: bpf_ktime_get_ns (5), bpf_ktime_get_boot_ns (125) and
 * bpf_ktime_get_coarse_ns (160). All three read process.hrtime.bigint(), a monotonic clock in
 * nanoseconds from an arbitrary origin: a process is never suspended apart from its host, so the
 * boot clock (which counts suspend) is the same clock, and "coarse" is simply not coarser.
 */
import type { HelperSpec } from '../runtime/helpers.js';

export const KTIME_GET_NS = 5;
export const KTIME_GET_BOOT_NS = 125;
export const KTIME_GET_COARSE_NS = 160;

const now = (): bigint => process.hrtime.bigint();

export function timeHelpers(): HelperSpec[] {
  const clock = (id: number, name: string): HelperSpec => ({ id, name, impl: now, proto: { args: [], ret: 'scalar' } });
  return [clock(KTIME_GET_NS, 'ktime_get_ns'), clock(KTIME_GET_BOOT_NS, 'ktime_get_boot_ns'), clock(KTIME_GET_COARSE_NS, 'ktime_get_coarse_ns')];
}
