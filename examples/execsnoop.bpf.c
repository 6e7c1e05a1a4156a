// SPDX-License-Identifier: MIT
/*
 * execsnoop: every execve that ends, filtered by uid and by failure, sent to the host through a ring
 * buffer, one record per exec; the host prints PCOMM, PID, PPID, RET and ARGS.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "events.h"

#define INVALID_UID ((__u32)-1)

const volatile __u32 targ_uid = INVALID_UID;
const volatile bool ignore_failed = false;

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 64 * 1024);
} events SEC(".maps");

__u64 dropped = 0;

/* Puts struct exec_record in the BTF, where the host finds the layout of the records it reads. */
const struct exec_record *unused_record __attribute__((unused));

SEC("tracepoint/syscalls/sys_exit_execve")
int handle_exec(struct exec_event *e)
{
	struct exec_record *r;

	if (targ_uid != INVALID_UID && e->uid != targ_uid)
		return 0;
	if (ignore_failed && e->ret < 0)
		return 0;
	r = bpf_ringbuf_reserve(&events, sizeof(*r), 0);
	if (!r) {
		__sync_fetch_and_add(&dropped, 1);
		return 0;
	}
	r->pid = e->pid;
	r->ppid = e->ppid;
	r->ret = e->ret;
	r->pad = 0;
	__builtin_memcpy(r->comm, e->comm, sizeof(r->comm));
	__builtin_memcpy(r->args, e->args, sizeof(r->args));
	bpf_ringbuf_submit(r, 0);
	return 0;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
