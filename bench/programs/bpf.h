/*
 * Shared by the benchmark programs. No libc headers: the BPF target has no libc, and the programs
 * must stay self-contained (.text only: no globals or .rodata; maps only as `extern` objects, which
 * build.sh turns into map_by_idx references).
 */
#ifndef BENCH_BPF_H
#define BENCH_BPF_H

typedef unsigned char uint8_t;
typedef unsigned short uint16_t;
typedef unsigned int uint32_t;
typedef unsigned long long uint64_t;

#define INLINE static inline __attribute__((always_inline))

/* Helpers by their Linux numbers: a call through a constant address is `call ID`, no relocation. */
static void *(*const bpf_map_lookup_elem)(void *map, const void *key) = (void *)1;

#endif
