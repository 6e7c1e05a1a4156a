/*
 * memcpy: copies the first half of the input to the second half one byte at a time and returns
 * the sum of the bytes copied. The sum keeps the loop honest: clang may not turn it into a call to
 * memcpy (there is no libc to call), and every byte is both read and written.
 */
#include "bpf.h"

uint64_t memcpy_bench(uint8_t *mem, uint64_t len)
{
	uint64_t half = len / 2;
	const uint8_t *src = mem;
	uint8_t *dst = mem + half;
	uint64_t sum = 0;
#pragma clang loop unroll(disable) vectorize(disable)
	for (uint64_t i = 0; i < half; i++) {
		uint8_t b = src[i];
		dst[i] = b;
		sum += b;
	}
	return sum;
}
