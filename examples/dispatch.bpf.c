// SPDX-License-Identifier: MIT
/*
 * dispatch: a tail-call dispatcher. The entry program jumps to the handler of the packet's protocol
 * through a prog array filled by the object itself (__array initialisers); each handler counts
 * packets and bytes in .bss, and a protocol without a handler falls through to `other`.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "events.h"

enum { PROTO_TCP = 0, PROTO_UDP = 1, PROTO_ICMP = 2, PROTO_MAX = 4 };

__u64 packets[PROTO_MAX + 1] = {};
__u64 bytes[PROTO_MAX + 1] = {};

static __always_inline int count(__u32 slot, struct pkt_event *e)
{
	__sync_fetch_and_add(&packets[slot], 1);
	__sync_fetch_and_add(&bytes[slot], e->len);
	return slot;
}

SEC("tracepoint/net/tcp")
int handle_tcp(struct pkt_event *e) { return count(PROTO_TCP, e); }

SEC("tracepoint/net/udp")
int handle_udp(struct pkt_event *e) { return count(PROTO_UDP, e); }

SEC("tracepoint/net/icmp")
int handle_icmp(struct pkt_event *e) { return count(PROTO_ICMP, e); }

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, PROTO_MAX);
	__type(key, __u32);
	__array(values, int (void *));
} handlers SEC(".maps") = {
	.values = {
		[PROTO_TCP] = (void *)&handle_tcp,
		[PROTO_UDP] = (void *)&handle_udp,
		[PROTO_ICMP] = (void *)&handle_icmp,
	},
};

SEC("tracepoint/net/packet")
int dispatch(struct pkt_event *e)
{
	bpf_tail_call(e, &handlers, e->proto);
	return count(PROTO_MAX, e);
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
