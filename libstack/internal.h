/*
 * internal.h - the stack's private state, shared by the layer files of libstack
 *
 * Nothing here is part of the public API (stack.h).  One struct tapir_stack holds
 * every layer's state: there are no globals.
 */
#ifndef TAPIR_INTERNAL_H
#define TAPIR_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tapir/stack.h"
#include "tapir/forward.h"
#include "tapir/udp.h"
#include "ipv4_reasm.h"
#include "siphash.h"

/* ---- ARP ---- */

enum arp_state { ARP_FREE = 0, ARP_PENDING, ARP_RESOLVED };

/* A datagram waiting for its next hop's MAC: the IP payload, copied. */
struct arp_pending {
	struct arp_pending *next;
	struct tapir_ipv4_write_opts opts;    /* opts.options points at @options */
	uint8_t options[40];
	uint32_t dst;
	uint8_t proto;
	size_t len;
	uint8_t data[];
};

struct arp_slot {
	uint32_t ip;
	uint8_t mac[6];
	uint8_t state;           /* enum arp_state */
	uint8_t requests;        /* requests sent while pending */
	int32_t hash_next;       /* next slot in the same bucket, -1 = end */
	uint64_t expires;        /* resolved: end of life */
	uint64_t last_request;   /* last request we sent for this address */
	bool requested_once;
	struct arp_pending *pending;  /* FIFO of queued datagrams */
	size_t npending;
};

struct arp_table {
	struct arp_slot *slots;
	size_t nslots;
	int32_t *buckets;        /* nbuckets heads, -1 = empty */
	size_t nbuckets;         /* power of two */
	size_t used;
	size_t pending_bytes;
	uint64_t deadline;       /* lower bound of the next ARP timer */
};

/* ---- IPv4 ---- */

struct proto_handler {
	tapir_ipv4_proto_fn rx;
	tapir_ipv4_icmp_err_fn err;
	void *ctx;
};

struct pmtu_slot {
	uint32_t dst;
	uint32_t mtu;
	uint64_t expires;
	bool locked;             /* reported below min_pmtu: no DF, no further updates */
};

/* ---- UDP ---- */

struct udp_listener {
	uint16_t port;
	uint8_t family;                /* enum tapir_family; UNSPEC: both */
	tapir_udp_recv_fn cb;
	tapir_udp_err_fn err;          /* may be NULL */
	void *ctx;
};

#define IPV4_ID_BUCKETS 1024

struct tapir_stack {
	struct tapir_stack_config cfg;
	struct tapir_netif nif;
	uint8_t mac[6];
	size_t mtu;
	struct tapir_netif_offload off;  /* tapir_stack_set_offload() */
	bool tso;                /* off takes TCPv4 super-segments */
	bool tso6;               /* off takes TCPv6 super-segments */
	uint64_t now;
	uint64_t ctr[TAPIR_CTR__COUNT];

	/* IPv4 */
	uint32_t netmask;
	uint32_t bcast;          /* subnet broadcast, 0 if the prefix has none */
	/* IP IDs: per-destination counters (ipv4.c, ipv4_next_id) */
	uint64_t ip_id_key[2];
	uint16_t ip_ids[IPV4_ID_BUCKETS];
	uint32_t ip_id_stamp[IPV4_ID_BUCKETS]; /* ms of each counter's last use */
	struct reasm *reasm;
	struct pmtu_slot *pmtu;
	size_t npmtu;
	struct proto_handler protos[256];

	/* ARP */
	struct arp_table arp;

	/* ICMP */
	uint64_t icmp_tokens;    /* in units of 1/rate seconds * 1e9 ... see icmp.c */
	uint64_t icmp_refill;    /* time of the last refill */
	tapir_icmp_echo_reply_fn echo_reply;
	void *echo_reply_ctx;

	/* UDP */
	struct udp_listener *udp;
	size_t nudp, udp_cap;

	/* TCP (tcp/) */
	struct tcp_stack *tcp;

	/* Forwarder mode (tapir/forward.h; tcp/forward.c) */
	bool tcp_fwd;            /* a TCP forwarder is set */
	tapir_udp_recv_fn udp_fwd;
	void *udp_fwd_ctx;
	tapir_icmp_echo_fwd_fn echo_fwd;
	void *echo_fwd_ctx;
	tapir_icmpv6_echo_fwd_fn echo6_fwd;
	void *echo6_fwd_ctx;
	/* DHCP client (dhcp.c), NULL until tapir_dhcp_start() */
	struct dhcp_client *dhcp;
	size_t dev_mtu;          /* the device's MTU; mtu may be lower (DHCP option 26) */
	/* IPv6, ICMPv6, NDP (ipv6_internal.h); NULL when IPv6 is off */
	struct ipv6_state *ip6;
};

struct ipv6_state;

#define CTR_INC(st, c) ((st)->ctr[TAPIR_CTR_##c]++)

void stack_log(struct tapir_stack *st, enum tapir_stack_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
uint32_t stack_random32(struct tapir_stack *st);

/* Is @ip on our link? */
static inline bool stack_on_link(const struct tapir_stack *st, uint32_t ip)
{
	return (ip & st->netmask) == (st->cfg.addr & st->netmask);
}

/* eth.c */
void eth_input(struct tapir_stack *st, const uint8_t *frame, size_t len, unsigned flags);
/* A TCP/IPv4 or TCP/IPv6 super-segment (@g->type) of @size bytes after the
 * Ethernet header (netif_gso) */
int eth_write_gso(struct tapir_stack *st, const uint8_t dst[6], size_t size,
		  const struct tapir_netif_gso *g, tapir_netif_fill_fn fill, void *ctx);
/* Copy @len bytes starting @off bytes into the gathered @pieces (ipv4.c, ipv6.c) */
void ip_gather(uint8_t *dst, const struct tapir_stack_iov *pieces, int npieces, size_t off,
	       size_t len);
/* The TSO descriptor of a TCP segment in @pieces (@total bytes after an IP header of
 * @iphl bytes) cut into @gso_size payloads, each within @mtu.  Return: 0 or -EMSGSIZE */
int ip_tcp_gso(struct tapir_netif_gso *g, int type, const struct tapir_stack_iov *pieces,
	       int npieces, size_t total, size_t iphl, size_t mtu, uint16_t gso_size);

/* arp.c */
int arp_init(struct tapir_stack *st);
void arp_free(struct tapir_stack *st);
void arp_input(struct tapir_stack *st, const uint8_t *payload, size_t len);
/* A unicast IPv4 datagram @ip (@len bytes) arrived from @sha: completes a
 * pending resolution of its on-link source (arp.c) */
void arp_ip_seen(struct tapir_stack *st, const uint8_t sha[6], const uint8_t *ip, size_t len);
void arp_poll(struct tapir_stack *st);
void arp_announce(struct tapir_stack *st);
/*
 * Resolve @ip for sending.  Return: 0 with @mac set; -EAGAIN when the caller
 * should queue with arp_queue(); other negative errno on failure.
 */
int arp_resolve(struct tapir_stack *st, uint32_t ip, uint8_t mac[6]);
/* Queue a datagram for @nexthop (copied from @pieces).  Return: 0 or -ENOBUFS */
int arp_queue(struct tapir_stack *st, uint32_t nexthop, const struct tapir_ipv4_write_opts *opts,
	      uint32_t dst, uint8_t proto, const struct tapir_stack_iov *pieces, int npieces,
	      size_t len);

/* ipv4.c */
int ipv4_init(struct tapir_stack *st);
void ipv4_free(struct tapir_stack *st);
void ipv4_input(struct tapir_stack *st, const uint8_t *pkt, size_t len, bool link_broadcast,
		unsigned flags);
void ipv4_poll(struct tapir_stack *st);
uint64_t ipv4_next_deadline(const struct tapir_stack *st);
/* Record a smaller path MTU for @dst: below cfg.min_pmtu it is min_pmtu and
 * the entry is locked (DF off); never raises the MTU.  No checks of a quote:
 * transports call ipv4_pmtu_frag_needed(). */
void ipv4_pmtu_update(struct tapir_stack *st, uint32_t dst, uint32_t mtu);
/*
 * ipv4_pmtu_frag_needed() - Apply an ICMP "fragmentation needed" whose quote
 * the transport has validated against its own state (RFC 5927).  Ignored
 * (and counted) when @e is another error, when the quoted datagram had no DF
 * or was not larger than the reported MTU.
 * Return: the path MTU to the quoted destination now, 0 if ignored
 */
uint32_t ipv4_pmtu_frag_needed(struct tapir_stack *st, const struct tapir_ipv4_icmp_err *e);
/* The RFC 1191 plateau below a datagram of @total_len bytes (68 at least),
 * for routers that send "fragmentation needed" with a next-hop MTU of 0 */
uint32_t ipv4_pmtu_plateau(uint32_t total_len);

/* icmp.c */
void icmp_input(struct tapir_stack *st, const struct tapir_ipv4_rx_meta *m, const uint8_t *data,
		size_t len);
/*
 * Send an ICMP error about the datagram whose IP header is @ip_hdr (with
 * @ip_hdr_len bytes) followed by @payload_len bytes at @payload, unless the
 * rules forbid it (error about an error, broadcast, non-first fragment) or
 * the rate limit says no.
 */
void icmp_send_error(struct tapir_stack *st, uint8_t type, uint8_t code, uint32_t rest,
		     const uint8_t *ip_hdr, size_t ip_hdr_len, const uint8_t *payload,
		     size_t payload_len, bool broadcast);

/* tcp/: set up and tear down st->tcp (flow.c), run its timers (timer.c) */
int tcp_init(struct tapir_stack *st);
void tcp_fini(struct tapir_stack *st);
void tcp_poll(struct tapir_stack *st);
uint64_t tcp_next_deadline(const struct tapir_stack *st);

/* tcp/flow.c: reset every flow bound to @addr (tapir_stack_set_addr()), or
 * to the IPv6 address @addr (its valid lifetime ended: ipv6_addr.c) */
void tcp_reset_laddr(struct tapir_stack *st, uint32_t addr);
void tcp_reset_laddr6(struct tapir_stack *st, const uint8_t addr[16]);

/* arp.c: an RFC 5227 probe for @target (sender address 0.0.0.0) */
void arp_probe(struct tapir_stack *st, uint32_t target);

/* dhcp.c: timers, an ARP packet seen (conflict detection while probing), free */
void dhcp_poll(struct tapir_stack *st);
uint64_t dhcp_next_deadline(const struct tapir_stack *st);
void dhcp_arp_input(struct tapir_stack *st, uint16_t op, const uint8_t sha[6], uint32_t spa,
		    uint32_t tpa);
void dhcp_free(struct tapir_stack *st);

/* udp.c: register with IPv4, free the listeners */
int udp_init(struct tapir_stack *st);
void udp_free_all(struct tapir_stack *st);

#endif /* TAPIR_INTERNAL_H */
