/*
 * log2: floor(log2(v)) of the little-endian u64 at the start of the input (0 for v = 0, and for an
 * input shorter than 8 bytes). The classic branchy halving search: BPF has no count-leading-zeros
 * instruction, so this is what a histogram program like biolatency computes per event.
 */
#include "bpf.h"

INLINE uint64_t ilog2(uint64_t v)
{
	uint64_t r = 0;
	if (v >> 32) { v >>= 32; r += 32; }
	if (v >> 16) { v >>= 16; r += 16; }
	if (v >> 8) { v >>= 8; r += 8; }
	if (v >> 4) { v >>= 4; r += 4; }
	if (v >> 2) { v >>= 2; r += 2; }
	if (v >> 1) { r += 1; }
	return r;
}

uint64_t log2_bench(const uint8_t *mem, uint64_t len)
{
	if (len < 8)
		return 0;
	return ilog2(*(const uint64_t *)mem);
}
