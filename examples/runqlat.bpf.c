// SPDX-License-Identifier: MIT
/*
 * runqlat: how long woken tasks wait for a CPU. A wakeup stores its timestamp per pid in a hash map;
 * the switch that runs the task adds the wait (microseconds) to a log2 histogram, one per pid with
 * targ_per_pid, else one for all.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "events.h"
#include "log2.h"

const volatile bool targ_per_pid = false;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, __u32);
	__type(value, __u64);
} start SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, struct hist);
} hists SEC(".maps");

static struct hist zero;

static __always_inline int record_wait(struct sched_event *e)
{
	__u64 *tsp, delta;
	__u32 key = targ_per_pid ? e->pid : 0;
	__u32 pid = e->pid;
	struct hist *h;
	__u64 slot;

	tsp = bpf_map_lookup_elem(&start, &pid);
	if (!tsp)
		return 0;
	if (e->ts < *tsp)
		goto cleanup;
	delta = (e->ts - *tsp) / 1000U;
	h = bpf_map_lookup_elem(&hists, &key);
	if (!h) {
		bpf_map_update_elem(&hists, &key, &zero, BPF_NOEXIST);
		h = bpf_map_lookup_elem(&hists, &key);
		if (!h)
			goto cleanup;
		if (targ_per_pid)
			__builtin_memcpy(h->comm, e->comm, sizeof(h->comm));
	}
	slot = log2_u64(delta);
	if (slot >= MAX_SLOTS)
		slot = MAX_SLOTS - 1;
	__sync_fetch_and_add(&h->slots[slot], 1);
cleanup:
	bpf_map_delete_elem(&start, &pid);
	return 0;
}

SEC("tracepoint/sched/sched_event")
int handle_sched(struct sched_event *e)
{
	__u32 pid = e->pid;
	__u64 ts = e->ts;

	if (e->kind == SCHED_WAKEUP) {
		bpf_map_update_elem(&start, &pid, &ts, BPF_ANY);
		return 0;
	}
	return record_wait(e);
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
