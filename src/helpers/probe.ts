/**
 * The kernel's probe reads: bpf_probe_read_kernel (113), bpf_probe_read_user (112) and their _str
 * forms (115, 114), and the old bpf_probe_read (4) and bpf_probe_read_str (45), which read as the
 * kernel forms do here (the kernel picks user or kernel by TASK_SIZE, which has no meaning in an
 * engine memory). A read that cannot complete answers -EFAULT with the destination zeroed.
 *
 * Kernel memory is the run's own regions (its stack, context, maps and the regions the host granted),
 * then whatever the host's VmOptions.probeRead answers; user memory is only the host's answer.
 */
import { checkedAddress, type HelperEnv, type HelperSpec } from '../runtime/helpers.js';
import { EFAULT, negErrno } from './errno.js';
import { regionEnd } from './memory.js';

export const PROBE_READ = 4;
export const PROBE_READ_STR = 45;
export const PROBE_READ_USER = 112;
export const PROBE_READ_KERNEL = 113;
export const PROBE_READ_USER_STR = 114;
export const PROBE_READ_KERNEL_STR = 115;

export type AddressSpace = 'kernel' | 'user';

/**
 * Answers a probe read the run's regions do not: the readable bytes from `addr` on, at most `len`
 * of them; fewer, or undefined, where readable memory ends (the read then fails).
 */
export type ProbeReadFn = (space: AddressSpace, addr: bigint, len: number, cpu: number) => Uint8Array | undefined;

/** The readable bytes from ptr on, at most len. */
function readable(env: HelperEnv, source: ProbeReadFn | undefined, space: AddressSpace, ptr: bigint, len: number): Uint8Array {
  const end = space === 'kernel' ? regionEnd(env, ptr) : undefined;
  if (end !== undefined) return env.mem.read(Number(ptr), Math.min(len, end - Number(ptr)));
  return source?.(space, ptr, len, env.cpu)?.subarray(0, len) ?? new Uint8Array(0);
}

/** The destination buffer (a mem_write argument), checked against the run's regions. */
function destination(env: HelperEnv, ptr: bigint, size: bigint): Uint8Array {
  const len = Number(BigInt.asUintN(32, size)); // the kernel's u32 size
  const at = checkedAddress(env, ptr, len, true);
  return env.mem.bytes.subarray(at, at + len);
}

/** copy_from_kernel_nofault / copy_from_user_nofault: all `size` bytes, or -EFAULT and zeros. */
function probeRead(source: ProbeReadFn | undefined, space: AddressSpace): HelperSpec['impl'] {
  return (r1, r2, r3, _r4, _r5, env) => {
    const dst = destination(env, r1, r2);
    const src = readable(env, source, space, r3, dst.length);
    if (src.length < dst.length) {
      dst.fill(0);
      return negErrno(EFAULT);
    }
    dst.set(src);
    return 0n;
  };
}

/**
 * strncpy_from_*_nofault: the string and its NUL, cut to size - 1 bytes and a NUL; answers the bytes
 * written with the NUL. The rest of the buffer is left as it was, as in the kernel.
 */
function probeReadStr(source: ProbeReadFn | undefined, space: AddressSpace): HelperSpec['impl'] {
  return (r1, r2, r3, _r4, _r5, env) => {
    const dst = destination(env, r1, r2);
    if (dst.length === 0) return 0n;
    const src = readable(env, source, space, r3, dst.length);
    const nul = src.indexOf(0);
    if (nul < 0 && src.length < dst.length) {
      dst.fill(0);
      return negErrno(EFAULT);
    }
    const n = nul < 0 ? dst.length - 1 : nul;
    dst.set(src.subarray(0, n));
    dst[n] = 0;
    return BigInt(n + 1);
  };
}

export function probeHelpers(source: ProbeReadFn | undefined): HelperSpec[] {
  const proto = { args: ['mem_write', 'size_or_zero', 'anything'], ret: 'scalar' } as const;
  const spec = (id: number, name: string, impl: HelperSpec['impl']): HelperSpec => ({ id, name, impl, proto });
  return [
    spec(PROBE_READ, 'probe_read', probeRead(source, 'kernel')),
    spec(PROBE_READ_STR, 'probe_read_str', probeReadStr(source, 'kernel')),
    spec(PROBE_READ_USER, 'probe_read_user', probeRead(source, 'user')),
    spec(PROBE_READ_KERNEL, 'probe_read_kernel', probeRead(source, 'kernel')),
    spec(PROBE_READ_USER_STR, 'probe_read_user_str', probeReadStr(source, 'user')),
    spec(PROBE_READ_KERNEL_STR, 'probe_read_kernel_str', probeReadStr(source, 'kernel')),
  ];
}
