/*
 * tcp_server.h - a TCP listener that keeps its connections, for tapird's apps
 *
 * Theory of operation
 *
 * The server listens on a port and answers for every accepted flow, so that
 * stop can close them all.  The app's handlers see each connection as a
 * struct tcp_conn: its server, its flow, and c->app, the app's state.
 *
 * An idle connection costs the app nothing: a flow without app state has no
 * struct tcp_conn of its own.  Its callbacks' context is the server, and a
 * handler called for it gets a stand-in, a struct tcp_conn on the C stack
 * that lives for the call (re-entrant calls for the same flow get the same
 * stand-in).  To keep state across calls, a handler calls tcp_conn_keep(),
 * which allocates the connection's own struct tcp_conn (on s->conns), and
 * sets the returned conn's app; from then on the handlers get that conn.
 * When every handler of a kept conn has returned and its app is NULL, the
 * conn is freed and the flow is idle again.  So echo, discard and source
 * hold state only while data waits (a million idle echo connections are a
 * million flows and nothing else), and an app such as http that keeps state
 * for the connection's life calls tcp_conn_keep() in accepted().
 *
 * A connection ends with tcp_conn_close(), which closes the flow (no callback
 * afterwards), calls freeing() and frees c->app (and the conn once no handler
 * of it runs).  Apps write to c->flow themselves (tapir_tcp_write(), or
 * tapir_tcp_write_reserve()/tapir_tcp_write_commit() into the send ring);
 * when the ring is full, writable() says when there is room, and an app that
 * must not buffer pauses reading (tapir_tcp_read_pause()) until then:
 * nothing is held here.
 */
#ifndef TAPIR_TCP_SERVER_H
#define TAPIR_TCP_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tapir/log.h"
#include "tapir/stack.h"
#include "tapir/tcp.h"

struct tcp_server;

struct tcp_conn {
	struct tcp_server *srv;
	struct tapir_tcp_flow *flow;
	void *app;                 /* the app's per-connection state (a kept conn) */
	struct tcp_conn *prev, *next;  /* s->conns: kept conns */
	struct tcp_conn *kept;     /* stand-in: the kept conn it became, or NULL */
	struct tcp_conn *up;       /* stand-in: the one of an enclosing call */
	unsigned depth;            /* handlers of this conn running */
	bool is_kept;              /* allocated, on s->conns (else a stand-in) */
	bool closed;               /* tcp_conn_close() ran */
};

struct tcp_server_ops {
	/* A connection was accepted (optional). */
	void (*accepted)(struct tcp_conn *c);
	/* Data in order, or len == 0 for the peer's FIN (lent for the call). */
	void (*recv)(struct tcp_conn *c, const uint8_t *data, size_t len);
	/* Room in the send buffer again (optional). */
	void (*writable)(struct tcp_conn *c);
	/* @c is being freed: release what c->app owns besides itself
	 * (optional; c->app is then free()d).  No flow call is allowed. */
	void (*freeing)(struct tcp_conn *c);
};

struct tcp_server {
	struct tapir_stack *st;
	struct tapir_logger *log;
	const char *name;
	uint16_t port;
	const struct tcp_server_ops *ops;
	void *ctx;                 /* the app's state */
	struct tcp_conn *conns;    /* kept conns (with app state) */
	struct tcp_conn *standins; /* stand-ins of the handlers running, innermost first */
	size_t nconns;             /* open connections, idle or kept */
	size_t nkept;              /* of which kept */
	uint64_t accepted, resets;
};

/* Return: 0 or negative errno (logged) */
int tcp_server_start(struct tcp_server *s, struct tapir_stack *st, struct tapir_logger *log,
		     const char *name, uint16_t port, const struct tcp_server_ops *ops, void *ctx);
/* Close every connection and stop listening. */
void tcp_server_stop(struct tcp_server *s);
/* Close the flow (FIN after queued data) and free @c's state (in a handler,
 * @c itself stays readable until the handler returns). */
void tcp_conn_close(struct tcp_conn *c);
/*
 * From a handler of @c: the connection's own conn, allocated if @c is a
 * stand-in (then @c forwards to it for the rest of the call); @c if it is
 * kept already.  Set its app before returning, or it is freed again.
 * Return: the kept conn, or NULL without memory (@c is still usable)
 */
struct tcp_conn *tcp_conn_keep(struct tcp_conn *c);

#endif /* TAPIR_TCP_SERVER_H */
