// SPDX-License-Identifier: MIT
/*
 * biolatency: block I/O latency as a log2 histogram. Each completion adds one to the slot of its
 * latency (microseconds, or milliseconds with targ_ms) in a per-CPU array; the host sums the CPUs
 * and prints the histogram.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "events.h"
#include "log2.h"

const volatile bool targ_ms = false;
const volatile __u32 targ_dev = 0;	/* 0: every device */

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, MAX_SLOTS);
	__type(key, __u32);
	__type(value, __u64);
} hists SEC(".maps");

SEC("tracepoint/block/block_rq_complete")
int handle_complete(struct io_event *e)
{
	__u64 delta;
	__u32 slot;
	__u64 *count;

	if (targ_dev && e->dev != targ_dev)
		return 0;
	if (e->complete_ns < e->issue_ns)
		return 0;
	delta = e->complete_ns - e->issue_ns;
	delta /= targ_ms ? 1000000U : 1000U;
	slot = log2_u64(delta);
	if (slot >= MAX_SLOTS)
		slot = MAX_SLOTS - 1;
	count = bpf_map_lookup_elem(&hists, &slot);
	if (count)
		*count += 1;
	return 0;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
