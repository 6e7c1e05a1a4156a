/** The errno values these helpers answer with, negated and as a u64 register, as the kernel's do. */
export const EFAULT = 14;
export const EINVAL = 22;

/** -errno as the 64-bit register value a helper returns. */
export const negErrno = (errno: number): bigint => BigInt.asUintN(64, BigInt(-errno));
