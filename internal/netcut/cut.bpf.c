//go:build ignore

// SPDX-License-Identifier: GPL-2.0
//
// The kernel half of a silent partition (package netcut): a cgroup_skb
// egress program on the run's cgroup. Each node of the run has a cgroup of
// its own; a packet is dropped when the cgroup of the socket that sends it
// and the cgroup of the socket it is addressed to (looked up by its
// addresses and ports, in the sender's network namespace) form a pair in
// the cut map. Nothing is sent back: a TCP segment is retransmitted by the
// sender's kernel later (after the heal it arrives), a SYN leaves its
// connect waiting, and a UDP datagram vanishes while its sender sees
// success.
//
// Build: go generate ./internal/netcut (clang, libbpf-dev).

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

char LICENSE[] SEC("license") = "GPL";

struct pair {
	__u64 from, to; /* cgroup ids: sender, receiver */
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, struct pair);
	__type(value, __u8);
} cut SEC(".maps");

/* Return values of a cgroup_skb egress program. A plain drop fails the
 * transmission with EPERM: TCP treats it as a lost segment (it backs off and
 * retransmits) and never tells the application, but udp_sendmsg would return
 * it. Drop with congestion notification makes it ENOBUFS, which a UDP sender
 * without IP_RECVERR does not see, as a datagram lost on the way. */
#define PASS 1
#define DROP 0
#define DROP_CN 2

/* receiver returns the cgroup id of the socket the packet is addressed to,
 * 0 when none is found. */
static __always_inline __u64 receiver(struct __sk_buff *skb, struct bpf_sock_tuple *t, __u32 len, int tcp)
{
	struct bpf_sock *sk;
	__u64 id;

	if (tcp)
		sk = bpf_sk_lookup_tcp(skb, t, len, BPF_F_CURRENT_NETNS, 0);
	else
		sk = bpf_sk_lookup_udp(skb, t, len, BPF_F_CURRENT_NETNS, 0);
	if (!sk)
		return 0;
	id = bpf_sk_cgroup_id(sk);
	bpf_sk_release(sk);
	return id;
}

SEC("cgroup_skb/egress")
int egress(struct __sk_buff *skb)
{
	struct bpf_sock_tuple t = {};
	struct pair p = {};
	__u32 len, off;
	__u8 proto;

	p.from = bpf_skb_cgroup_id(skb);
	if (!p.from)
		return PASS;
	if (skb->protocol == bpf_htons(ETH_P_IP)) {
		struct iphdr ip;
		if (bpf_skb_load_bytes(skb, 0, &ip, sizeof ip) < 0)
			return PASS;
		proto = ip.protocol;
		off = ip.ihl * 4;
		t.ipv4.saddr = ip.saddr;
		t.ipv4.daddr = ip.daddr;
		len = sizeof t.ipv4;
		if (bpf_skb_load_bytes(skb, off, &t.ipv4.sport, 4) < 0)
			return PASS;
	} else if (skb->protocol == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr ip6;
		if (bpf_skb_load_bytes(skb, 0, &ip6, sizeof ip6) < 0)
			return PASS;
		proto = ip6.nexthdr; /* no extension headers on the ways nodes talk */
		off = sizeof ip6;
		__builtin_memcpy(t.ipv6.saddr, &ip6.saddr, 16);
		__builtin_memcpy(t.ipv6.daddr, &ip6.daddr, 16);
		len = sizeof t.ipv6;
		if (bpf_skb_load_bytes(skb, off, &t.ipv6.sport, 4) < 0)
			return PASS;
	} else {
		return PASS;
	}
	if (proto != IPPROTO_TCP && proto != IPPROTO_UDP)
		return PASS;
	p.to = receiver(skb, &t, len, proto == IPPROTO_TCP);
	if (!p.to || !bpf_map_lookup_elem(&cut, &p))
		return PASS;
	return proto == IPPROTO_TCP ? DROP : DROP_CN;
}
