/* SPDX-License-Identifier: MIT */
/*
 * Byte order for BPF programs: bpf_htons(0x0800) and friends. The builtins fold constants, so these
 * work in case labels and static initializers too.
 */
#ifndef __BPFJIT_BPF_ENDIAN_H
#define __BPFJIT_BPF_ENDIAN_H

#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define __bpfjit_to_be16(x) __builtin_bswap16(x)
#define __bpfjit_to_be32(x) __builtin_bswap32(x)
#define __bpfjit_to_be64(x) __builtin_bswap64(x)
#elif __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#define __bpfjit_to_be16(x) ((unsigned short)(x))
#define __bpfjit_to_be32(x) ((unsigned int)(x))
#define __bpfjit_to_be64(x) ((unsigned long long)(x))
#else
#error "bpf_endian.h: the compiler does not say the target's byte order"
#endif

#define bpf_htons(x) __bpfjit_to_be16(x)
#define bpf_ntohs(x) __bpfjit_to_be16(x)
#define bpf_htonl(x) __bpfjit_to_be32(x)
#define bpf_ntohl(x) __bpfjit_to_be32(x)
#define bpf_cpu_to_be64(x) __bpfjit_to_be64(x)
#define bpf_be64_to_cpu(x) __bpfjit_to_be64(x)

#endif /* __BPFJIT_BPF_ENDIAN_H */
