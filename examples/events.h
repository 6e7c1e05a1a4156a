/*
 * The events the examples' host side generates (examples/host/), one struct per tool. Each struct is
 * read through CO-RE (preserve_access_index): the loader relocates every field access against the
 * target BTF, so a host that moves or widens a field only has to describe its new layout.
 */
#ifndef BPFJIT_EXAMPLE_EVENTS_H
#define BPFJIT_EXAMPLE_EVENTS_H

#include <stdbool.h>
#include <linux/types.h>

#define TASK_COMM_LEN 16
#define ARGS_LEN 64
#define NAME_LEN 64
#define MAX_SLOTS 27

/* biolatency: one block I/O request, at its completion. */
struct io_event {
	__u64 issue_ns;
	__u64 complete_ns;
	__u32 dev;
	__u32 bytes;
} __attribute__((preserve_access_index));

/* execsnoop: the end of an execve, with its result. */
struct exec_event {
	__u32 pid;
	__u32 ppid;
	__u32 uid;
	__s32 ret;
	char comm[TASK_COMM_LEN];
	char args[ARGS_LEN];
} __attribute__((preserve_access_index));

/* execsnoop's ring buffer record. */
struct exec_record {
	__u32 pid;
	__u32 ppid;
	__s32 ret;
	__u32 pad;
	char comm[TASK_COMM_LEN];
	char args[ARGS_LEN];
};

/* opensnoop: the start of an openat and its end. */
struct open_enter {
	__u32 pid;
	__u32 tid;
	__u32 uid;
	__s32 flags;
	char comm[TASK_COMM_LEN];
	char fname[NAME_LEN];
} __attribute__((preserve_access_index));

struct open_exit {
	__u32 pid;
	__u32 tid;
	__s32 ret;
} __attribute__((preserve_access_index));

/* opensnoop's perf record. */
struct open_record {
	__u32 pid;
	__u32 uid;
	__s32 ret;
	__s32 flags;
	char comm[TASK_COMM_LEN];
	char fname[NAME_LEN];
};

/* runqlat: a task woken up (kind 0) or switched in (kind 1). */
enum sched_kind { SCHED_WAKEUP = 0, SCHED_SWITCH = 1 };

struct sched_event {
	__u64 ts;
	__u32 pid;
	__u32 kind;
	char comm[TASK_COMM_LEN];
} __attribute__((preserve_access_index));

struct hist {
	__u32 slots[MAX_SLOTS];
	char comm[TASK_COMM_LEN];
};

/* dispatch: a packet summary, handed to the handler of its protocol by a tail call. */
struct pkt_event {
	__u32 proto;
	__u32 len;
} __attribute__((preserve_access_index));

#endif
