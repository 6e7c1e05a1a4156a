/* floor(log2(v)), 0 for 0: a halving search whose steps shift by the result of a compare, no branches. */
#ifndef BPFJIT_EXAMPLE_LOG2_H
#define BPFJIT_EXAMPLE_LOG2_H

static __always_inline __u64 log2_u32(__u32 v)
{
	__u32 r, shift;

	r = (v > 0xffff) << 4; v >>= r;
	shift = (v > 0xff) << 3; v >>= shift; r |= shift;
	shift = (v > 0xf) << 2; v >>= shift; r |= shift;
	shift = (v > 0x3) << 1; v >>= shift; r |= shift;
	r |= (v >> 1);
	return r;
}

static __always_inline __u64 log2_u64(__u64 v)
{
	__u32 hi = v >> 32;

	return hi ? log2_u32(hi) + 32 : log2_u32(v);
}

#endif
