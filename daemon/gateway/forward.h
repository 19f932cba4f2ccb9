/*
 * forward.h - the gateway's port forwards: host ports into the namespace
 *
 * A forward listens on a host port (TCP or UDP, in tapird's own network
 * namespace, on [gateway] forward_address) and carries what arrives there
 * over tapir's stack to the namespace's kernel side ([ipv4] gateway) at
 * NSPORT.  forward.c has the theory of operation.
 *
 * Ownership: the table owns every listener, connection and flow; the env's
 * pointers must outlive it.  gw_fwd_free() closes every handle; the loop must
 * run once more (uv_run) for their close callbacks, after which the memory is
 * freed by those callbacks (the table itself is freed when the last one ran).
 */
#ifndef TAPIR_GATEWAY_FORWARD_H
#define TAPIR_GATEWAY_FORWARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "tapir/log.h"
#include "tapir/stack.h"

#define GW_FWD_MAX 64                    /* forwards at once */

enum { GW_FWD_TCP = 6, GW_FWD_UDP = 17 };

struct splice_pool;

struct gw_fwd_env {
	uv_loop_t *loop;
	struct splice_pool *pool;  /* the gateway's: budgets, max_flows, counters (splice.h) */
	uint64_t udp_idle_ns;      /* a UDP flow idle this long ends ([gateway] udp_idle_timeout) */
	struct tapir_stack *st;
	struct tapir_logger *log;
	bool v4, v6;             /* listen on bind_addr, on bind_addr6 */
	uint32_t bind_addr;      /* host order: where host ports listen (IPv4) */
	uint32_t ns_addr;        /* host order: the namespace's kernel side */
	uint8_t bind_addr6[16];  /* where host ports listen (IPv6) */
	uint8_t ns_addr6[16];    /* the namespace's kernel side over IPv6 */
	/* After work done from a libuv callback: flush the stack, re-arm its timer */
	void (*kick)(void *ctx);
	void *ctx;
};

struct gw_fwd_info {
	uint8_t proto;
	uint16_t host_port, ns_port;
	bool from_config;
	bool v4, v6;             /* listening on the env's bind_addr, bind_addr6 */
	uint64_t active;         /* TCP connections or UDP flows now */
	uint64_t total;          /* accepted connections or UDP flows made */
	uint64_t refused;        /* over max_flows, or the namespace refused */
	uint64_t bytes_in;       /* host -> namespace */
	uint64_t bytes_out;      /* namespace -> host */
};

/* One spliced connection of a TCP forward (gw_fwd_each_conn()) */
struct gw_fwd_conn_info {
	uint16_t host_port, ns_port;     /* the forward's */
	bool v6;                         /* on the IPv6 listener (to ns_addr6) */
	struct sockaddr_storage peer;    /* the host client (family 0: unknown) */
	const char *state;               /* "CONNECTING" (to the namespace), "OPEN", "CLOSING" */
	uint64_t bytes_to_ns, bytes_to_host;
};

struct gw_fwd_stats {
	uint64_t tcp_accepted, tcp_active, tcp_limit, tcp_ns_refused;
	uint64_t udp_flows, udp_active, udp_limit, udp_expired, udp_foreign, udp_send_errors;
};

struct gw_fwd;

/* Return: a new, empty table, or NULL (out of memory) */
struct gw_fwd *gw_fwd_new(const struct gw_fwd_env *env);

/**
 * gw_fwd_add() - Forward a host port
 * @proto:       GW_FWD_TCP or GW_FWD_UDP
 * @host_port:   The port to listen on (not 0)
 * @ns_port:     The namespace's port (not 0)
 * @from_config: Shown by the listing
 * @err:         Receives a message on failure
 *
 * The forward listens on each family of the env; an IPv6 address the host
 * lacks (EADDRNOTAVAIL, EAFNOSUPPORT) is skipped with a warning when IPv4
 * listens, any other failure fails the forward.
 *
 * Return: 0, -EEXIST (already forwarded), -ENOSPC (GW_FWD_MAX), -EINVAL, or
 *         the negative errno of the host socket (-EADDRINUSE, -EACCES...)
 */
int gw_fwd_add(struct gw_fwd *g, uint8_t proto, uint16_t host_port, uint16_t ns_port,
	       bool from_config, char *err, size_t errlen);

/* Stop forwarding: the listener closes at once (new connections are refused),
 * connections already spliced go on; UDP flows end.  Return: 0 or -ENOENT */
int gw_fwd_rm(struct gw_fwd *g, uint8_t proto, uint16_t host_port);

/* Copy up to @max forwards, in the order added.  Return: the number copied */
size_t gw_fwd_list(const struct gw_fwd *g, struct gw_fwd_info *out, size_t max);

void gw_fwd_get_stats(const struct gw_fwd *g, struct gw_fwd_stats *s);

/* Call @fn for each TCP connection of the forwards (the info lent for the call) */
void gw_fwd_each_conn(const struct gw_fwd *g,
		      void (*fn)(void *ctx, const struct gw_fwd_conn_info *ci), void *ctx);

/* Close everything (see the ownership note above).  NULL is fine. */
void gw_fwd_free(struct gw_fwd *g);

#endif /* TAPIR_GATEWAY_FORWARD_H */
