/**
 * The `.kconfig` answers libbpf gives without being asked: LINUX_KERNEL_VERSION is the running
 * kernel's version, KERNEL_VERSION(a, b, c) = a << 16 | b << 8 | min(c, 255), read from the host's
 * release string; the host's own answers (loadObject's kconfig) win over it.
 */
import { release } from 'node:os';

/** KERNEL_VERSION of a release string such as '6.1.0-18-amd64'; undefined when it has no a.b.c. */
export function kernelVersionOf(text: string): number | undefined {
  const m = /^(\d+)\.(\d+)(?:\.(\d+))?/.exec(text);
  if (!m) return undefined;
  return (Number(m[1]) << 16) + (Number(m[2]) << 8) + Math.min(Number(m[3] ?? 0), 255);
}

export function defaultKconfig(): Record<string, number> {
  const version = kernelVersionOf(release());
  return version === undefined ? {} : { LINUX_KERNEL_VERSION: version };
}
