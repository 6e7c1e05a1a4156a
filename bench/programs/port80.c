/*
 * port80: is this Ethernet frame IPv4 + TCP with destination port 80?
 * r1 = frame, r2 = its length. Every read is preceded by a length check, the way the kernel
 * verifier would demand for a packet; the IP header length (IHL) is honoured.
 */
#include "bpf.h"

#define ETH_HLEN 14

uint64_t port80(const uint8_t *frame, uint64_t len)
{
	if (len < ETH_HLEN + 20)
		return 0;
	/* ethertype and port are big-endian: compare against byte-swapped constants */
	if (*(const uint16_t *)(frame + 12) != __builtin_bswap16(0x0800))
		return 0;
	if (frame[ETH_HLEN + 9] != 6) /* IPPROTO_TCP */
		return 0;
	uint64_t l4 = ETH_HLEN + (uint64_t)(frame[ETH_HLEN] & 0x0f) * 4;
	if (len < l4 + 4)
		return 0;
	return *(const uint16_t *)(frame + l4 + 2) == __builtin_bswap16(80);
}
