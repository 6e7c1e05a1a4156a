/* a-plus-b: the sum of the two little-endian u64 at the start of the input (mod 2^64). */
#include "bpf.h"

uint64_t a_plus_b(const uint8_t *mem, uint64_t len)
{
	if (len < 16)
		return 0;
	return *(const uint64_t *)mem + *(const uint64_t *)(mem + 8);
}
