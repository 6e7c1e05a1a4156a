/*
 * primes: counts the primes below N (the little-endian u64 at the start of the input) by trial
 * division, a compute-bound loop of 64-bit divisions and compares.
 */
#include "bpf.h"

INLINE int is_prime(uint64_t n)
{
#pragma clang loop unroll(disable)
	for (uint64_t d = 2; d * d <= n; d++)
		if (n % d == 0)
			return 0;
	return 1;
}

uint64_t primes_bench(const uint8_t *mem, uint64_t len)
{
	if (len < 8)
		return 0;
	uint64_t limit = *(const uint64_t *)mem;
	uint64_t count = 0;
#pragma clang loop unroll(disable)
	for (uint64_t n = 2; n < limit; n++)
		count += is_prime(n);
	return count;
}
