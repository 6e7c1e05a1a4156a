/*
 * Shared by the benchmark programs. No libc headers: the BPF target has no libc, and the programs
 * must stay self-contained (.text only: no helpers, maps, globals or .rodata).
 */
#ifndef BENCH_BPF_H
#define BENCH_BPF_H

typedef unsigned char uint8_t;
typedef unsigned short uint16_t;
typedef unsigned int uint32_t;
typedef unsigned long long uint64_t;

#define INLINE static inline __attribute__((always_inline))

#endif
