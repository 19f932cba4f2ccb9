/*
 * ipv6.h - libstack's IPv6 API: sending, protocols above IPv6, addresses, neighbours
 *
 * Theory of operation
 *
 * IPv6 runs beside IPv4 in the same stack when cfg.ipv6.enabled is set
 * (ipv6_config.h).  Addresses are 16 bytes in network order.  Output:
 * tapir_ipv6_write() picks a source address (RFC 6724) unless given one, a
 * next hop (on-link, a redirect, or the default router), resolves it with NDP
 * (queueing while it does) and fragments above the path MTU.  Input:
 * protocols above IPv6 register a receive function and an ICMPv6 error
 * function with tapir_ipv6_register_proto(), as over IPv4
 * (tapir_ipv4_register_proto()); ICMPv6 and NDP are built in.
 */
#ifndef TAPIR_IPV6_H
#define TAPIR_IPV6_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "stack.h"

#define TAPIR_IP_PROTO_ICMPV6 58

struct tapir_ipv6_write_opts {
	const uint8_t *src;  /* NULL: chosen by RFC 6724; else one of ours (or ::) */
	uint8_t hop_limit;   /* 0 = the stack's */
	uint8_t tclass;
	bool fragment;       /* false: -EMSGSIZE above the path MTU (TCP) */
	bool router_alert;   /* a hop-by-hop header with Router Alert (MLD, RFC 2711) */
	/* TCP segmentation offload, as struct tapir_ipv4_write_opts' gso_size:
	 * nonzero = a TCP super-segment (fragment false, no router alert) sent
	 * as one frame (tapir_stack_set_offload() with TAPIR_NETIF_OFF_TSO6, else
	 * -EMSGSIZE), cut by the device into segments of @gso_size payload bytes */
	uint16_t gso_size;
};

/**
 * tapir_ipv6_write() - Send one IPv6 packet
 * @st:     Stack
 * @opts:   Options, or NULL for { fragment = true, source chosen, the hop limit }
 * @dst:    Destination (unicast or multicast)
 * @proto:  Upper-layer protocol (Next Header)
 * @size:   Bytes of upper-layer header that @fill writes (may be 0)
 * @fill:   Writes that header at offset 0, returns the bytes written; it may be
 *          called more than once (fragments) and must write the same each time
 * @ctx:    Passed to @fill
 * @iov:    Payload pieces copied after it (borrowed for the call)
 * @iovcnt: Number of pieces
 *
 * The checksum of the upper layer is the caller's (tapir_ipv6_csum_pseudo()).
 *
 * Return: 0, -EMSGSIZE, -ENETUNREACH (no route), -EADDRNOTAVAIL (no usable
 *         source), -ENOBUFS (queue full), -ENOTSUP (IPv6 off) or the
 *         device's error
 */
int tapir_ipv6_write(struct tapir_stack *st, const struct tapir_ipv6_write_opts *opts,
		     const uint8_t dst[16], uint8_t proto, size_t size, tapir_netif_fill_fn fill,
		     void *ctx, const struct tapir_stack_iov *iov, int iovcnt);

/* Path MTU towards @dst: 1,280 .. link MTU */
size_t tapir_ipv6_mtu(struct tapir_stack *st, const uint8_t dst[16]);

/* The source address RFC 6724 picks for @dst.  Return: 0 or -EADDRNOTAVAIL */
int tapir_ipv6_select_source(const struct tapir_stack *st, const uint8_t dst[16],
			     uint8_t src[16]);

/* Partial checksum of the pseudo-header, for upper layers (see wire/checksum.h) */
uint64_t tapir_ipv6_csum_pseudo(const uint8_t src[16], const uint8_t dst[16], uint32_t len,
				uint8_t next_header);

/* A packet for a protocol above IPv6; everything is lent for the call */
struct tapir_ipv6_rx_meta {
	const uint8_t *src, *dst;
	uint8_t proto, hop_limit, tclass;
	bool multicast;             /* @dst is a multicast group */
	const uint8_t *packet;      /* the whole packet from its IPv6 header */
	size_t packet_len;
	bool l4_csum_ok;            /* the device vouched for the checksum */
	bool gso;                   /* a received TCP super-segment (TAPIR_NETIF_RX_GSO) */
};
/* Return: 0 if handled, -EPROTONOSUPPORT for a Parameter Problem (code 1) */
typedef int (*tapir_ipv6_proto_fn)(void *ctx, const struct tapir_ipv6_rx_meta *m,
				   const uint8_t *payload, size_t len);

/**
 * struct tapir_ipv6_icmp_err - An ICMPv6 error about a packet we sent
 * @from:      Who sent it
 * @type:      1 unreachable, 2 Packet Too Big, 3 Time Exceeded, 4 Parameter Problem
 * @code:      Its code
 * @info:      Bytes 4..7 (the MTU of a Packet Too Big, the pointer of a
 *             Parameter Problem)
 * @mtu:       Packet Too Big: the path MTU now in force (already applied,
 *             at least 1,280); 0 otherwise
 * @src, @dst: The quoted packet's addresses (@src is ours)
 * @l4:        The quoted upper-layer header and what follows, @l4_len bytes
 *
 * The stack also reports a packet that waited for a neighbour that never
 * answered (RFC 4861 7.2.2) this way: type 1, code 3 (address unreachable),
 * @from our own address, @l4 the whole upper-layer packet.
 */
struct tapir_ipv6_icmp_err {
	const uint8_t *from;
	uint8_t type, code;
	uint32_t info;
	uint32_t mtu;
	const uint8_t *src, *dst;
	const uint8_t *l4;
	size_t l4_len;
};
typedef void (*tapir_ipv6_icmp_err_fn)(void *ctx, const struct tapir_ipv6_icmp_err *e);

/* Register the handler of @proto (not ICMPv6).  Return: 0, -EADDRINUSE, -ENOTSUP */
int tapir_ipv6_register_proto(struct tapir_stack *st, uint8_t proto, tapir_ipv6_proto_fn rx,
			      tapir_ipv6_icmp_err_fn err, void *ctx);

/**
 * tapir_ipv6_send_unreachable() - An ICMPv6 error about a received packet
 * @st:   Stack
 * @m:    The packet's metadata as given to a tapir_ipv6_proto_fn
 * @code: Destination Unreachable code (4 = port unreachable)
 *
 * Subject to the rules and the rate limit of all errors.
 */
void tapir_ipv6_send_unreachable(struct tapir_stack *st, const struct tapir_ipv6_rx_meta *m,
				 uint8_t code);

/* ---- addresses, neighbours, routers: listings ---- */

enum tapir_ipv6_addr_state {
	TAPIR_IPV6_ADDR_TENTATIVE,
	TAPIR_IPV6_ADDR_PREFERRED,
	TAPIR_IPV6_ADDR_DEPRECATED,
	TAPIR_IPV6_ADDR_DUPLICATE,
};

enum tapir_ipv6_addr_origin {
	TAPIR_IPV6_ORIGIN_LINK_LOCAL,
	TAPIR_IPV6_ORIGIN_STATIC,
	TAPIR_IPV6_ORIGIN_SLAAC,
};

struct tapir_ipv6_addr_info {
	uint8_t addr[16];
	uint8_t prefix_len;
	uint8_t state;             /* enum tapir_ipv6_addr_state */
	uint8_t origin;            /* enum tapir_ipv6_addr_origin */
	uint64_t preferred_until;  /* ns, UINT64_MAX = forever */
	uint64_t valid_until;
};
/* Return: entries copied into @out (at most @max) */
size_t tapir_ipv6_addr_list(const struct tapir_stack *st, struct tapir_ipv6_addr_info *out,
			    size_t max);
/* "tentative", "preferred", ... */
const char *tapir_ipv6_addr_state_name(unsigned state);
const char *tapir_ipv6_addr_origin_name(unsigned origin);

enum tapir_ndp_state {
	TAPIR_NDP_INCOMPLETE = 1,
	TAPIR_NDP_REACHABLE,
	TAPIR_NDP_STALE,
	TAPIR_NDP_DELAY,
	TAPIR_NDP_PROBE,
};

struct tapir_ndp_entry {
	uint8_t ip[16];
	uint8_t mac[6];
	uint8_t state;     /* enum tapir_ndp_state */
	bool router;
};
size_t tapir_ndp_list(const struct tapir_stack *st, struct tapir_ndp_entry *out, size_t max);
/* Forget every neighbour (queued packets dropped) */
void tapir_ndp_flush(struct tapir_stack *st);
/* "INCOMPLETE", "REACHABLE", ... (as ip neigh) */
const char *tapir_ndp_state_name(unsigned state);

struct tapir_ipv6_router_info {
	uint8_t addr[16];
	uint64_t expires;          /* ns */
	bool is_default;           /* the one used now */
};
size_t tapir_ipv6_router_list(const struct tapir_stack *st, struct tapir_ipv6_router_info *out,
			      size_t max);

/* ---- ICMPv6 echo ---- */

/* Send an echo request.  Return: 0 or negative errno (as tapir_ipv6_write) */
int tapir_icmpv6_send_echo(struct tapir_stack *st, const uint8_t dst[16], uint16_t id,
			   uint16_t seq, uint8_t hop_limit, const uint8_t *data, size_t len);

#endif /* TAPIR_IPV6_H */
