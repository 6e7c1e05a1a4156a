/*
 * latency-hist: event { u64 start; u64 end }. Adds 1, atomically, to slot floor(log2(end - start))
 * (0 for 0) of `hist`, a 64-slot per-CPU array of u64 counters, and returns the slot.
 *
 * The log2 is the form histogram tools such as biolatency use: a halving search over a u32 whose
 * steps are shifts by a compared amount, `(v > 0xffff) << 4`, rather than branches, and a branch
 * only on whether the high word is set.
 */
#include "bpf.h"

struct event {
	uint64_t start;
	uint64_t end;
};

extern char hist[];

INLINE uint32_t log2_u32(uint32_t v)
{
	uint32_t r, s;
	r = (v > 0xffff) << 4; v >>= r;
	s = (v > 0xff) << 3; v >>= s; r |= s;
	s = (v > 0xf) << 2; v >>= s; r |= s;
	s = (v > 0x3) << 1; v >>= s; r |= s;
	return r | (v >> 1);
}

INLINE uint32_t log2_u64(uint64_t v)
{
	uint32_t hi = v >> 32;
	return hi ? log2_u32(hi) + 32 : log2_u32(v);
}

uint64_t latency_hist(const struct event *e)
{
	uint32_t slot = log2_u64(e->end - e->start);
	uint64_t *count = bpf_map_lookup_elem(hist, &slot);
	if (count)
		__sync_fetch_and_add(count, 1);
	return slot;
}
