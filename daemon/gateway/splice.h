/*
 * splice.h - a TCP flow on tapir's stack spliced to a host socket: the gateway's one copy loop
 *
 * Both users of the gateway splice a namespace flow (struct tapir_tcp_flow)
 * to a host TCP socket (uv_tcp_t): splice_tcp.c (the namespace connects out:
 * the host socket connects, the flow is accepted) and forward.c (a host
 * client connects in: the host socket is accepted, the flow connects).  How
 * each pair gets made is theirs; once both ends exist, this copies both ways
 * with back-pressure, carries half-closes and resets across and ends the
 * pair.  splice.c has the theory of operation.
 *
 * The pool is what every splice of a gateway shares: the per-flow and total
 * byte budgets, the count of flows against max_flows (spliced connections,
 * the port forwards' connections and UDP flows, pings), the read buffer and
 * the counters.  The gateway owns it (gateway_pool()).
 *
 * Ownership: a splice lives inside its owner's record.  splice_init() makes
 * its host socket; from then on the record must live until ops->freed ran
 * (the host socket's close callback, after the flow was released).  The
 * pool must outlive its splices.
 */
#ifndef TAPIR_GATEWAY_SPLICE_H
#define TAPIR_GATEWAY_SPLICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "tapir/tcp.h"

struct splice;

struct splice_pool {
	uint64_t flow_max;             /* bytes per splice and direction ([gateway] flow_buffer) */
	uint64_t total_max;            /* bytes held by all splices ([gateway] total_buffer) */
	size_t max_flows;              /* [gateway] max_flows */
	size_t nflows;                 /* flows of every kind now (the owners count) */
	size_t buffered;               /* bytes held by all splices */
	struct tapir_tcp_flow_opts opts; /* the namespace flows' (sndbuf = rcvbuf = flow_max) */
	bool total_paused;             /* some splice is paused for the total budget */
	struct splice *list;           /* every splice not yet freed */
	void (*after)(void *ctx);      /* after a libuv callback that used the stack */
	void *ctx;
	/* counters (gateway.tcp_* in stats) */
	uint64_t rst_to_host, rst_to_ns, ns_paused, host_paused, bytes_to_host, bytes_to_ns;
	uint8_t rbuf[65536];           /* host reads without a flow land here; pings' replies */
};

struct splice_ops {
	/* The splice began to end (once; from splice_end() or from its own
	 * callbacks: an error, or both directions done).  Optional. */
	void (*ending)(struct splice *s);
	/* The host socket is closed and the flow released: the owner may free
	 * the record (this is the last call) */
	void (*freed)(struct splice *s);
};

struct splice {
	struct splice *next, *prev;     /* the pool's list */
	struct splice_pool *pool;
	const struct splice_ops *ops;
	uv_tcp_t sock;                  /* the host side */
	struct tapir_tcp_flow *f;       /* the namespace side, once started */
	uv_shutdown_t shut;
	size_t to_host_queued;          /* bytes in uv_write() requests */
	int reserve_err;                /* of the last tapir_tcp_write_reserve() */
	bool started, ns_paused, paused_total, ns_eof, ns_shut;
	bool host_paused;               /* host reading stopped: the send ring is full */
	bool host_reading, host_eof, host_shut, host_shut_done, host_error, closing;
	uint64_t bytes_to_host, bytes_to_ns;
};

/* Make the host socket (uv_tcp_init() on @loop) and join the pool.  The
 * owner then connects or accepts on s->sock.  Return: 0 or a libuv error
 * (nothing to undo) */
int splice_init(struct splice *s, struct splice_pool *pool, uv_loop_t *loop,
		const struct splice_ops *ops);

/* Both ends are up: take over @f's callbacks, copy both ways */
void splice_start(struct splice *s, struct tapir_tcp_flow *f);

/* End it: the flow released (reset when @rst_ns), the host socket closed
 * (with a RST when @rst_host); ops->freed follows from the loop.  Again:
 * nothing. */
void splice_end(struct splice *s, bool rst_ns, bool rst_host);

/* Resume the splices paused for the total budget once it has room */
void splice_pool_room(struct splice_pool *pool);

#endif /* TAPIR_GATEWAY_SPLICE_H */
