// SPDX-License-Identifier: MIT
/*
 * pathstat: the load-time benchmark's object of about 1,000 instructions (bench/README.md, "Load time
 * of objects"). Per opened path, two hashes of it (FNV-1a picks a bucket, djb2 is a fingerprint)
 * and its length, in a loop over the path's bytes that clang unrolls, as a tracing tool written for
 * old kernels (no bounded loops) would; then per bucket a count of opens and the last fingerprint
 * in a hash map, and a count per path length (in 8-byte steps) in an array.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#define PATH_LEN 128
#define BUCKETS 256
#define LENGTHS (PATH_LEN / 8 + 1)

struct path_event {
	__u32 pid;
	__u32 flags;
	char path[PATH_LEN];
};

struct bucket {
	__u64 opens;
	__u32 fingerprint;
	__u32 pid;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, BUCKETS);
	__type(key, __u32);
	__type(value, struct bucket);
} buckets SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, LENGTHS);
	__type(key, __u32);
	__type(value, __u64);
} lengths SEC(".maps");

SEC("tracepoint/syscalls/sys_enter_openat")
int handle_path(struct path_event *e)
{
	__u32 hash = 2166136261u, fingerprint = 5381, len = 0, key;
	struct bucket *b, zero = {};
	__u64 *count;

	/* Counting bytes by value here (slashes, dots) would double the paths the verifier walks per byte. */
#pragma unroll
	for (int i = 0; i < PATH_LEN; i++) {
		__u8 c = e->path[i];

		if (c == 0)
			break;
		hash = (hash ^ c) * 16777619u;
		fingerprint = fingerprint * 33 + c;
		len++;
	}
	key = hash % BUCKETS;
	b = bpf_map_lookup_elem(&buckets, &key);
	if (!b) {
		bpf_map_update_elem(&buckets, &key, &zero, BPF_NOEXIST);
		b = bpf_map_lookup_elem(&buckets, &key);
		if (!b)
			return 0;
	}
	__sync_fetch_and_add(&b->opens, 1);
	b->fingerprint = fingerprint;
	b->pid = e->pid;
	key = len / 8;
	count = bpf_map_lookup_elem(&lengths, &key);
	if (count)
		__sync_fetch_and_add(count, 1);
	return 0;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
