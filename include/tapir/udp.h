/*
 * udp.h - tapir's public UDP API: listeners, datagrams out, ICMP errors back
 *
 * Ownership: received data and error quotes are lent for the duration of the
 * callback only; data passed to tapir_udp_sendto() is copied before it returns.
 * Callbacks are never called after tapir_udp_unlisten() returns.
 */
#ifndef TAPIR_UDP_H
#define TAPIR_UDP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "stack.h"

struct tapir_udp_meta {
	uint32_t src, dst;
	uint16_t src_port, dst_port;
	uint8_t ttl;
	bool broadcast;  /* sent to a broadcast address */
};

/* Datagram received; @data is lent for the call only. */
typedef void (*tapir_udp_recv_fn)(void *ctx, const struct tapir_udp_meta *m, const uint8_t *data,
			    size_t len);

/**
 * struct tapir_udp_err - An ICMP error about a datagram sent from a listened port
 * @from:     Who sent the error (a router on the path, or the destination)
 * @type:     TAPIR_ICMP_DEST_UNREACH, TAPIR_ICMP_TIME_EXCEEDED or TAPIR_ICMP_PARAM_PROBLEM
 * @code:     TAPIR_ICMP_UNREACH_PORT ...
 * @mtu:      For "fragmentation needed", the next-hop MTU (already in the
 *            path-MTU cache); else 0
 * @dst:      Destination of the datagram the error is about
 * @src_port: Its source port (the listener's)
 * @dst_port: Its destination port
 * @data:     The quoted UDP payload (often none: routers quote 8 bytes, the
 *            UDP header); lent for the call only
 * @data_len: Length of @data
 */
struct tapir_udp_err {
	uint32_t from;
	uint8_t type, code;
	uint32_t mtu;
	uint32_t dst;
	uint16_t src_port, dst_port;
	const uint8_t *data;
	size_t data_len;
};
typedef void (*tapir_udp_err_fn)(void *ctx, const struct tapir_udp_err *e);

/* Return: 0, -EADDRINUSE, -EINVAL (port 0), -ENOMEM */
int tapir_udp_listen(struct tapir_stack *st, uint16_t port, tapir_udp_recv_fn cb, void *ctx);
/* As tapir_udp_listen(), and @err (may be NULL) receives the ICMP errors about
 * datagrams sent from @port (RFC 1122 4.1.3.3). */
int tapir_udp_listen_err(struct tapir_stack *st, uint16_t port, tapir_udp_recv_fn cb,
			 tapir_udp_err_fn err, void *ctx);
/* Return: 0 or -ENOENT */
int tapir_udp_unlisten(struct tapir_stack *st, uint16_t port);
/* Copy up to @max listening ports into @ports.  Return: number copied */
size_t tapir_udp_list(const struct tapir_stack *st, uint16_t *ports, size_t max);

/**
 * tapir_udp_sendto() - Send one UDP datagram
 * @src_port: Source port, 0 = a random ephemeral port (49152-65535)
 * @ttl:      0 = the default TTL
 * @data:     Payload, copied before return
 *
 * Return: 0, -EMSGSIZE if larger than 65,507 bytes, or as tapir_ipv4_write()
 */
int tapir_udp_sendto(struct tapir_stack *st, uint16_t src_port, uint32_t dst, uint16_t dst_port,
		     uint8_t ttl, const uint8_t *data, size_t len);

#endif /* TAPIR_UDP_H */
