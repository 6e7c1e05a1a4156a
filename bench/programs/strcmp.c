/*
 * strcmp: compares two NUL-terminated strings laid out in the input memory.
 * Layout: u32 offset of string A, u32 offset of string B, then the strings. A string that runs
 * past the end of the memory compares as if the memory ended in NUL, so a bad input cannot read
 * out of bounds. Returns the C strcmp result as a 32-bit value (negative numbers wrap).
 * Used by the workloads strcmp-match (equal 1 MiB strings) and strcmp-mismatch (early difference).
 */
#include "bpf.h"

INLINE uint32_t bounded_strcmp(const uint8_t *a, const uint8_t *b, const uint8_t *end)
{
#pragma clang loop unroll(disable)
	for (;;) {
		uint8_t ca = a < end ? *a : 0;
		uint8_t cb = b < end ? *b : 0;
		if (ca != cb || ca == 0)
			return (uint32_t)((int)ca - (int)cb);
		a++;
		b++;
	}
}

uint64_t strcmp_bench(const uint8_t *mem, uint64_t len)
{
	if (len < 8)
		return 0;
	uint32_t off_a = *(const uint32_t *)mem;
	uint32_t off_b = *(const uint32_t *)(mem + 4);
	return bounded_strcmp(mem + off_a, mem + off_b, mem + len);
}
