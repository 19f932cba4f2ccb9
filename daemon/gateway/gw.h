/*
 * gw.h - what the gateway's parts share: the gateway, its counters, the flow
 * records of each kind (gateway.c, splice_tcp.c, udp_flow.c, icmp_echo.c)
 */
#ifndef TAPIR_GW_H
#define TAPIR_GW_H

#include <jansson.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "config.h"
#include "gateway.h"
#include "splice.h"
#include "tapir/forward.h"
#include "tapir/log.h"
#include "tapir/stack.h"

/* Counters: one X-macro, "gateway.NAME" in stats (with the splice pool's
 * tcp_rst_to_host, tcp_rst_to_ns, tcp_ns_paused, tcp_host_paused,
 * tcp_bytes_to_host and tcp_bytes_to_ns: splice.h) */
#define GW_COUNTERS(X)                                                                     \
	X(TCP_OPENED, "tcp_opened")             /* spliced connections established */    \
	X(TCP_CLOSED, "tcp_closed")                                                         \
	X(TCP_REFUSED_LIMIT, "tcp_refused_limit") /* max_flows: RST to the SYN */         \
	X(TCP_REFUSED_LOOPBACK, "tcp_refused_loopback") /* the host's loopback, no host_loopback */ \
	X(TCP_HOST_REFUSED, "tcp_host_refused") /* host ECONNREFUSED: RST */               \
	X(TCP_HOST_UNREACH, "tcp_host_unreach") /* host unreachable: ICMP */               \
	X(TCP_HOST_TIMEOUT, "tcp_host_timeout") /* connect_timeout: no answer */           \
	X(TCP_HOST_ERRORS, "tcp_host_errors")   /* other connect errors */                 \
	X(TCP_ACCEPT_FAILED, "tcp_accept_failed") /* the stack could not take it */        \
	X(UDP_OPENED, "udp_opened")                                                         \
	X(UDP_EXPIRED, "udp_expired")                                                       \
	X(UDP_REFUSED_LIMIT, "udp_refused_limit")                                           \
	X(UDP_REFUSED_LOOPBACK, "udp_refused_loopback")                                     \
	X(UDP_TO_HOST, "udp_to_host")                                                       \
	X(UDP_TO_NS, "udp_to_ns")                                                           \
	X(UDP_DROP_SEND, "udp_drop_send")       /* host send failed (full, or an error) */ \
	X(UDP_PORT_UNREACH, "udp_port_unreach") /* host ECONNREFUSED: ICMP to the ns */    \
	X(ICMP_ECHO_SENT, "icmp_echo_sent")                                                 \
	X(ICMP_ECHO_REPLIES, "icmp_echo_replies")                                           \
	X(ICMP_REFUSED, "icmp_refused") /* no ping socket (ping_group_range, icmp_echo off) */ \
	X(ICMP_REFUSED_LIMIT, "icmp_refused_limit")                                         \
	X(ICMP_DROP_SEND, "icmp_drop_send")

enum gw_counter {
#define X(id, name) GW_##id,
	GW_COUNTERS(X)
#undef X
	GW__COUNT
};

#define GW_INC(gw, c) ((gw)->ctr[GW_##c]++)

struct gw_tcp;
struct gw_udp;
struct gw_ping;

struct gateway {
	uv_loop_t *loop;
	struct tapir_stack *st;
	struct gateway_config cfg;
	struct tapir_logger *log;
	void (*after)(void *ctx);
	void *after_ctx;
	uv_timer_t sweep;              /* once a second: connect timeouts, idle UDP and pings */
	bool stopping;
	uint64_t ctr[GW__COUNT];
	struct splice_pool pool;       /* budgets, flows against max_flows (TCP with pending
					* connects, UDP, pings, the forwards'), read buffer */
	size_t handles;                /* open handles; gateway_free() waits for 0 */
	struct gw_tcp *tcp;            /* every TCP flow (list) */
	struct gw_udp *udp;
	struct gw_ping *ping;
};

/* The host address for a namespace destination: host_loopback -> 127.0.0.1.
 * Return: false when the destination must be refused (the host's loopback) */
bool gw_host_addr(const struct gateway *gw, uint32_t dst, struct sockaddr_in *out);
/* The host socket address for a namespace destination of either family at
 * @port: IPv4 as gw_host_addr(); IPv6 as it is, but the loopback (::1),
 * unspecified, IPv4-mapped and link-local addresses are refused (false) */
bool gw_host_sockaddr(const struct gateway *gw, const struct tapir_addr *dst, uint16_t port,
		      struct sockaddr_storage *out);
/* Addresses as JSON strings (tapir_addr_format()'s text) and a sockaddr's port */
json_t *gw_taddr_json(const struct tapir_addr *a);
json_t *gw_sockaddr_json(const struct sockaddr_storage *ss);
uint16_t gw_sockaddr_port(const struct sockaddr_storage *ss);
void gw_after(struct gateway *gw);
/* An IPv4 address (host order) as a JSON string */
json_t *gw_addr_json(uint32_t a);
/* An ICMP destination unreachable to the namespace about a datagram of @proto
 * from @src:@sport to @dst:@dport (the header quoted is rebuilt) */
void gw_send_unreach(struct gateway *gw, uint8_t code, uint8_t proto, uint32_t src,
		     uint16_t sport, uint32_t dst, uint16_t dport);
/* The same for either family: over IPv6 an ICMPv6 destination unreachable
 * (TAPIR_ICMP_UNREACH_PORT: port unreachable, _HOST: address unreachable,
 * else no route) from the router's own address */
void gw_send_unreach_addr(struct gateway *gw, uint8_t code, uint8_t proto,
			  const struct tapir_addr *src, uint16_t sport,
			  const struct tapir_addr *dst, uint16_t dport);
void gw_handle_closed(uv_handle_t *h);   /* counts a handle gone; frees handle->data */

/* splice_tcp.c */
int gw_tcp_start(struct gateway *gw);
void gw_tcp_stop(struct gateway *gw);
void gw_tcp_sweep(struct gateway *gw, uint64_t now);
void gw_tcp_json(const struct gateway *gw, void *arr);

/* udp_flow.c */
int gw_udp_start(struct gateway *gw);
void gw_udp_stop(struct gateway *gw);
void gw_udp_sweep(struct gateway *gw, uint64_t now);
void gw_udp_json(const struct gateway *gw, void *arr);

/* icmp_echo.c */
int gw_ping_start(struct gateway *gw);
void gw_ping_stop(struct gateway *gw);
void gw_ping_sweep(struct gateway *gw, uint64_t now);
void gw_ping_json(const struct gateway *gw, void *arr);

#endif /* TAPIR_GW_H */
