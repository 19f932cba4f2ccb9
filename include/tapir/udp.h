/*
 * udp.h - tapir's public UDP API: listeners, datagrams out, ICMP errors back
 *
 * UDP runs over IPv4 and, when the stack has IPv6 (cfg.ipv6.enabled), over
 * IPv6.  Endpoints are struct tapir_addr in their native family: an IPv4
 * peer is TAPIR_AF_INET, an IPv6 one TAPIR_AF_INET6.  A listener serves both
 * families unless it asks for one (tapir_udp_listen_family()).
 *
 * Ownership: received data and error quotes are lent for the duration of the
 * callback only; data passed to tapir_udp_sendto() is copied before it returns,
 * and so are the addresses.  Callbacks are never called after
 * tapir_udp_unlisten() returns.
 */
#ifndef TAPIR_UDP_H
#define TAPIR_UDP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "stack.h"

/**
 * struct tapir_udp_meta - Where a received datagram came from and went to
 * @src:       The sender
 * @dst:       The address it was sent to: ours, a broadcast, a multicast
 *             group we are in, or (forwarder) a foreign address
 * @src_port:  Its source port
 * @dst_port:  Its destination port
 * @ttl:       Its TTL (IPv4) or hop limit (IPv6)
 * @broadcast: Sent to an IPv4 broadcast address
 * @multicast: Sent to an IPv6 multicast group (all-nodes, ...)
 */
struct tapir_udp_meta {
	struct tapir_addr src, dst;
	uint16_t src_port, dst_port;
	uint8_t ttl;
	bool broadcast;
	bool multicast;
};

/* Datagram received; @data is lent for the call only. */
typedef void (*tapir_udp_recv_fn)(void *ctx, const struct tapir_udp_meta *m, const uint8_t *data,
			    size_t len);

/**
 * struct tapir_udp_err - An ICMP or ICMPv6 error about a datagram sent from a listened port
 * @from:     Who sent the error (a router on the path, or the destination);
 *            its family says which ICMP @type and @code belong to
 * @type:     IPv4: TAPIR_ICMP_DEST_UNREACH, TAPIR_ICMP_TIME_EXCEEDED or
 *            TAPIR_ICMP_PARAM_PROBLEM; IPv6: 1 (destination unreachable),
 *            2 (packet too big), 3 (time exceeded), 4 (parameter problem)
 * @code:     TAPIR_ICMP_UNREACH_PORT ...; for IPv6 as RFC 4443 (4 = port
 *            unreachable)
 * @mtu:      For "fragmentation needed" or "packet too big", the path MTU now
 *            in force (already in the path-MTU cache); else 0
 * @dst:      Destination of the datagram the error is about
 * @src_port: Its source port (the listener's)
 * @dst_port: Its destination port
 * @data:     The quoted UDP payload (often none: IPv4 routers quote 8 bytes,
 *            the UDP header); lent for the call only
 * @data_len: Length of @data
 */
struct tapir_udp_err {
	struct tapir_addr from;
	uint8_t type, code;
	uint32_t mtu;
	struct tapir_addr dst;
	uint16_t src_port, dst_port;
	const uint8_t *data;
	size_t data_len;
};
typedef void (*tapir_udp_err_fn)(void *ctx, const struct tapir_udp_err *e);

/**
 * tapir_udp_err_errno() - What a socket would report for @e
 *
 * Return: -ECONNREFUSED (port unreachable), -EHOSTUNREACH, -ENETUNREACH,
 *         -EACCES (administratively prohibited), -EMSGSIZE (fragmentation
 *         needed, packet too big), -EHOSTUNREACH for time exceeded, -EPROTO
 *         for a parameter problem (as Linux's icmp_err_convert and
 *         icmpv6_err_convert)
 */
int tapir_udp_err_errno(const struct tapir_udp_err *e);

/* Return: 0, -EADDRINUSE, -EINVAL (port 0), -ENOMEM */
int tapir_udp_listen(struct tapir_stack *st, uint16_t port, tapir_udp_recv_fn cb, void *ctx);
/* As tapir_udp_listen(), and @err (may be NULL) receives the ICMP and ICMPv6
 * errors about datagrams sent from @port (RFC 1122 4.1.3.3). */
int tapir_udp_listen_err(struct tapir_stack *st, uint16_t port, tapir_udp_recv_fn cb,
			 tapir_udp_err_fn err, void *ctx);
/**
 * tapir_udp_listen_family() - Listen on @port for one family, or both
 * @st:   Stack
 * @port: Port, not 0
 * @fam:  TAPIR_AF_INET, TAPIR_AF_INET6, or TAPIR_AF_UNSPEC for both (what
 *        tapir_udp_listen() does)
 * @cb:   Receives the datagrams
 * @err:  Receives the ICMP errors (may be NULL)
 * @ctx:  Passed to both
 *
 * A datagram of the other family to @port is treated as to a closed port.
 * Return: 0, -EADDRINUSE (the port is taken, whatever the family), -EINVAL
 *         (port 0, an unknown family), -ENOMEM
 */
int tapir_udp_listen_family(struct tapir_stack *st, uint16_t port, enum tapir_family fam,
			    tapir_udp_recv_fn cb, tapir_udp_err_fn err, void *ctx);
/* Return: 0 or -ENOENT */
int tapir_udp_unlisten(struct tapir_stack *st, uint16_t port);
/* Copy up to @max listening ports into @ports.  Return: number copied */
size_t tapir_udp_list(const struct tapir_stack *st, uint16_t *ports, size_t max);

/* A listener: its port and the family it takes (TAPIR_AF_UNSPEC: both) */
struct tapir_udp_listener_info {
	uint16_t port;
	uint8_t family;
};
/* Copy up to @max listeners into @out, by port.  Return: number copied */
size_t tapir_udp_list_info(const struct tapir_stack *st, struct tapir_udp_listener_info *out,
			   size_t max);

/**
 * tapir_udp_sendto() - Send one UDP datagram
 * @st:       Stack
 * @src_port: Source port, 0 = a random ephemeral port (49152-65535)
 * @dst:      Destination, IPv4 or IPv6 (copied); an IPv4-mapped IPv6
 *            address is sent over IPv4
 * @dst_port: Destination port, not 0
 * @ttl:      TTL or hop limit, 0 = the stack's default
 * @data:     Payload, copied before return
 * @len:      Its length
 *
 * The source address is the stack's IPv4 address, or over IPv6 the one
 * RFC 6724 selects.  Over IPv6 a datagram larger than the path MTU goes out
 * in fragments.
 *
 * Return: 0, -EMSGSIZE if larger than 65,507 bytes (IPv4) or 65,519 (IPv6),
 *         -EINVAL, -EAFNOSUPPORT (IPv6 off), or as tapir_ipv4_write() and
 *         tapir_ipv6_write()
 */
int tapir_udp_sendto(struct tapir_stack *st, uint16_t src_port, const struct tapir_addr *dst,
		     uint16_t dst_port, uint8_t ttl, const uint8_t *data, size_t len);

#endif /* TAPIR_UDP_H */
