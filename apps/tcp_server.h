/*
 * tcp_server.h - a TCP listener that keeps its connections, for tapird's apps
 *
 * The server listens on a port and tracks every accepted flow so that stop
 * can close them all.  Each connection gets a struct tcp_conn; the app's
 * handlers see it and may keep per-connection state in conn->app.  A
 * connection ends with tcp_conn_close(), which closes the flow (no callback
 * afterwards), unlinks and frees the conn.  Apps write to conn->flow
 * themselves (tapir_tcp_write(), or tapir_tcp_write_reserve()/tapir_tcp_write_commit() into
 * the send ring); when the ring is full, writable() says when there is
 * room, and an app that must not buffer pauses reading (tapir_tcp_read_pause())
 * until then: nothing is held here.
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
	struct tcp_conn *prev, *next;
	void *app;                 /* the app's per-connection state */
	bool eof;                  /* the peer sent FIN */
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
	struct tcp_conn *conns;
	size_t nconns;
	uint64_t accepted, resets;
};

/* Return: 0 or negative errno (logged) */
int tcp_server_start(struct tcp_server *s, struct tapir_stack *st, struct tapir_logger *log,
		     const char *name, uint16_t port, const struct tcp_server_ops *ops, void *ctx);
/* Close every connection and stop listening. */
void tcp_server_stop(struct tcp_server *s);
/* Close the flow (FIN after queued data) and free @c. */
void tcp_conn_close(struct tcp_conn *c);

#endif /* TAPIR_TCP_SERVER_H */
