// SPDX-License-Identifier: MIT
/*
 * opensnoop: openat calls, the start remembered per thread in a hash map and matched at the end,
 * filtered by pid and by failure (const volatile settings), sent to the host through a perf event
 * array; the host prints PID, COMM, FD, ERR and PATH.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "events.h"

const volatile __u32 targ_pid = 0;	/* 0: every process */
const volatile bool targ_failed = false;

struct args {
	__s32 flags;
	__u32 uid;
	char comm[TASK_COMM_LEN];
	char fname[NAME_LEN];
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, struct args);
} start SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} events SEC(".maps");

/* Puts struct open_record in the BTF, where the host finds the layout of the records it reads. */
const struct open_record *unused_record __attribute__((unused));

SEC("tracepoint/syscalls/sys_enter_openat")
int handle_enter(struct open_enter *e)
{
	struct args a = {};
	__u32 tid = e->tid;

	if (targ_pid && e->pid != targ_pid)
		return 0;
	a.flags = e->flags;
	a.uid = e->uid;
	__builtin_memcpy(a.comm, e->comm, sizeof(a.comm));
	__builtin_memcpy(a.fname, e->fname, sizeof(a.fname));
	bpf_map_update_elem(&start, &tid, &a, BPF_ANY);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_openat")
int handle_exit(struct open_exit *e)
{
	struct open_record r = {};
	struct args *a;
	__u32 tid = e->tid;

	a = bpf_map_lookup_elem(&start, &tid);
	if (!a)
		return 0;
	r.ret = e->ret;
	if (targ_failed && r.ret >= 0)
		goto cleanup;
	r.pid = e->pid;
	r.uid = a->uid;
	r.flags = a->flags;
	__builtin_memcpy(r.comm, a->comm, sizeof(r.comm));
	__builtin_memcpy(r.fname, a->fname, sizeof(r.fname));
	bpf_perf_event_output(e, &events, BPF_F_CURRENT_CPU, &r, sizeof(r));
cleanup:
	bpf_map_delete_elem(&start, &tid);
	return 0;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
