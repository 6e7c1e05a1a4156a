/* SPDX-License-Identifier: MIT */
/*
 * What a BPF program written for libbpf includes: section and map-definition macros, attributes,
 * and (through bpf_helper_defs.h) every kernel helper under its Linux number. Written for bpfjit in
 * libbpf's conventions, so such sources compile unchanged with `-I include`:
 *
 *   clang -O2 -g -target bpf -I include -c prog.bpf.c -o prog.bpf.o
 *
 * A program states its license in a "license" section, as the kernel asks:
 *   char LICENSE[] SEC("license") = "GPL";
 */
#ifndef __BPFJIT_BPF_HELPERS_H
#define __BPFJIT_BPF_HELPERS_H

#include "bpf_types.h"
#include "bpf_helper_defs.h"

/* Where a function (a program: SEC("xdp")), a map (SEC(".maps")) or a variable goes in the object. */
#define SEC(name) __attribute__((section(name), used))

/*
 * BTF map definitions: the fields of a struct in SEC(".maps") say what the map is by their types,
 * which BTF records (libbpf reads them back):
 *   struct { __uint(type, BPF_MAP_TYPE_HASH); __uint(max_entries, 1024); __type(key, __u32); __type(value, __u64); } counts SEC(".maps");
 * __uint's number is an array's length; __type's type is what the pointer points to.
 */
#define __uint(name, val) int (*name)[val]
#define __type(name, val) typeof(val) *name
#define __array(name, val) typeof(val) *name[]
#define __BPFJIT_CONCAT2(a, b) a##b
#define __BPFJIT_CONCAT(a, b) __BPFJIT_CONCAT2(a, b)
/* A value too large for __uint (map_extra): an enumerator of an enum of its own. */
#define __ulong(name, val) enum { __BPFJIT_CONCAT(__bpfjit_ulong_, __COUNTER__) = (val) } name

/* The map definition of old (SEC("maps")), before BTF: libbpf still reads it. */
struct bpf_map_def {
	unsigned int type;
	unsigned int key_size;
	unsigned int value_size;
	unsigned int max_entries;
	unsigned int map_flags;
};

/* libbpf's `pinning` values for a BTF map definition. */
enum libbpf_pin_type {
	LIBBPF_PIN_NONE,
	LIBBPF_PIN_BY_NAME,
};

/* What a __kconfig tristate (CONFIG_X=y/m/n) reads as. */
enum libbpf_tristate {
	TRI_NO = 0,
	TRI_YES = 1,
	TRI_MODULE = 2,
};

#ifndef __always_inline
#define __always_inline inline __attribute__((always_inline))
#endif
#ifndef __noinline
#define __noinline __attribute__((noinline))
#endif
#ifndef __weak
#define __weak __attribute__((weak))
#endif
#define __hidden __attribute__((visibility("hidden")))
/* Externs the loader resolves: kernel symbols, and the kernel's configuration (CONFIG_*). */
#define __ksym __attribute__((section(".ksyms")))
#define __kconfig __attribute__((section(".kconfig"), weak))
/* BTF type tags for kernel pointers kept in map values. */
#define __kptr_untrusted __attribute__((btf_type_tag("kptr_untrusted")))
#define __kptr __attribute__((btf_type_tag("kptr")))
#define __percpu_kptr __attribute__((btf_type_tag("percpu_kptr")))

#ifndef likely
#define likely(x) __builtin_expect(!!(x), 1)
#endif
#ifndef unlikely
#define unlikely(x) __builtin_expect(!!(x), 0)
#endif
#ifndef barrier
#define barrier() asm volatile("" ::: "memory")
#endif
/* Makes the compiler forget what it knows of var's value (to keep a bounds check it would drop). */
#ifndef barrier_var
#define barrier_var(var) asm volatile("" : "+r"(var))
#endif
#ifndef offsetof
#define offsetof(type, member) __builtin_offsetof(type, member)
#endif
#ifndef container_of
#define container_of(ptr, type, member) \
	({ void *__bpfjit_mptr = (void *)(ptr); ((type *)(__bpfjit_mptr - offsetof(type, member))); })
#endif
#ifndef NULL
#define NULL ((void *)0)
#endif

#define KERNEL_VERSION(a, b, c) (((a) << 16) + ((b) << 8) + ((c) > 255 ? 255 : (c)))

/* printf to the trace pipe: the format string is built on the stack, its size passed along. */
#define bpf_printk(fmt, ...) \
	({ char __bpfjit_fmt[] = fmt; bpf_trace_printk(__bpfjit_fmt, sizeof(__bpfjit_fmt), ##__VA_ARGS__); })

#endif /* __BPFJIT_BPF_HELPERS_H */
