/*
 * dns_relay.h - the gateway's DNS relay: tapird answers DNS on its address by asking the host's resolvers
 *
 * A relay, not a resolver: each query from the namespace (UDP or TCP port
 * 53 of tapird's address, on tapir's stack) is checked (dns_msg.h), sent on
 * to a host resolver from a fresh host socket with a fresh random ID, and
 * the answer that matches it (the server, the ID, the question) is sent back
 * with the client's ID.  dns_relay.c has the theory of operation.
 *
 * Ownership: the env's pointers must outlive the relay.  dns_relay_stop()
 * closes every handle; the loop must run once more for their close
 * callbacks, the last of which frees the relay.
 */
#ifndef TAPIR_GATEWAY_DNS_RELAY_H
#define TAPIR_GATEWAY_DNS_RELAY_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "tapir/log.h"
#include "tapir/stack.h"

#define DNS_RELAY_MAX_SERVERS 4
#define DNS_RELAY_MAX_PENDING 256        /* queries in flight, UDP and TCP */
#define DNS_RELAY_MAX_TCP_CLIENTS 64
#define DNS_RELAY_TRY_NS (2ull * 1000000000ull)   /* per server tried (UDP) */
#define DNS_RELAY_TRIES 2                /* servers tried per UDP query */
#define DNS_RELAY_TCP_NS (5ull * 1000000000ull)   /* a TCP query, all in */

struct dns_relay_env {
	uv_loop_t *loop;
	struct tapir_stack *st;
	struct tapir_logger *log;
	struct tapir_addr servers[DNS_RELAY_MAX_SERVERS];   /* IPv4 or IPv6 */
	size_t nservers;
	void (*kick)(void *ctx);   /* after work from a libuv callback: flush, re-arm */
	void *ctx;
};

struct dns_relay_stats {
	uint64_t queries_udp, queries_tcp;   /* accepted and sent on */
	uint64_t answers;                    /* matched and relayed back */
	uint64_t bad_queries;                /* not a query with one sane question */
	uint64_t bad_answers;                /* wrong source, ID or question: dropped */
	uint64_t timeouts;                   /* no answer: SERVFAIL sent back */
	uint64_t pending_full;               /* DNS_RELAY_MAX_PENDING in flight: dropped */
	uint64_t tcp_clients_full;           /* DNS_RELAY_MAX_TCP_CLIENTS: reset */
	uint64_t upstream_errors;            /* a host socket failed */
	uint64_t pending;                    /* in flight now */
};

struct dns_relay;

/**
 * dns_relay_start() - Answer DNS on UDP and TCP port 53 of the stack
 * @env: Loop, stack, servers (at least one)
 * @out: The relay
 * @err: Receives a message on failure
 *
 * Return: 0, -EINVAL (no server), -EADDRINUSE (port 53 taken on the stack),
 *         -ENOMEM
 */
int dns_relay_start(const struct dns_relay_env *env, struct dns_relay **out, char *err,
		    size_t errlen);

/* Stop (see the ownership note).  NULL is fine. */
void dns_relay_stop(struct dns_relay *r);

void dns_relay_get_stats(const struct dns_relay *r, struct dns_relay_stats *s);

#endif /* TAPIR_GATEWAY_DNS_RELAY_H */
