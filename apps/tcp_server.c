/*
 * tcp_server.c - a TCP listener that keeps its connections, for tapird's apps
 */
#include "tcp_server.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static void conn_recv(void *ctx, struct tapir_tcp_flow *f, const uint8_t *data, size_t len)
{
	struct tcp_conn *c = ctx;

	(void)f;
	if (len == 0)
		c->eof = true;
	c->srv->ops->recv(c, data, len);
}

/* Push what echo could not write before; resume reading once it is out. */
static void conn_writable(void *ctx, struct tapir_tcp_flow *f)
{
	struct tcp_conn *c = ctx;

	(void)f;
	if (c->pending_len) {
		long n = tapir_tcp_write(c->flow, c->pending, c->pending_len);

		if (n < 0) {
			tcp_conn_close(c);
			return;
		}
		memmove(c->pending, c->pending + n, c->pending_len - (size_t)n);
		c->pending_len -= (size_t)n;
		if (c->pending_len)
			return;
		if (c->eof) {
			tapir_tcp_shutdown(c->flow, false, true);
			return;
		}
		tapir_tcp_read_pause(c->flow, false);
	}
	if (c->srv->ops->writable)
		c->srv->ops->writable(c);
}

static void conn_closed(void *ctx, struct tapir_tcp_flow *f, int err)
{
	struct tcp_conn *c = ctx;

	(void)f;
	if (err)
		c->srv->resets++;
	tcp_conn_close(c);
}

static const struct tapir_tcp_callbacks conn_callbacks = {
	.recv = conn_recv,
	.writable = conn_writable,
	.closed = conn_closed,
};

static void on_accept(void *ctx, struct tapir_tcp_flow *f)
{
	struct tcp_server *s = ctx;
	struct tcp_conn *c = calloc(1, sizeof(*c));

	if (!c) {
		tapir_tcp_abort(f);
		return;
	}
	c->srv = s;
	c->flow = f;
	c->next = s->conns;
	if (s->conns)
		s->conns->prev = c;
	s->conns = c;
	s->nconns++;
	s->accepted++;
	tapir_tcp_flow_set_callbacks(f, &conn_callbacks, c);
	if (s->ops->accepted)
		s->ops->accepted(c);
}

int tcp_server_start(struct tcp_server *s, struct tapir_stack *st, struct logger *log,
		     const char *name, uint16_t port, const struct tcp_server_ops *ops, void *ctx)
{
	int rc;

	memset(s, 0, sizeof(*s));
	s->st = st;
	s->log = log;
	s->name = name;
	s->port = port;
	s->ops = ops;
	s->ctx = ctx;
	rc = tapir_tcp_listen(st, port, NULL, on_accept, s);
	if (rc < 0)
		log_err(log, "app %s: cannot listen on TCP port %u: %s", name, port,
			strerror(-rc));
	return rc;
}

void tcp_conn_close(struct tcp_conn *c)
{
	struct tcp_server *s = c->srv;

	if (c->flow)
		tapir_tcp_close(c->flow);
	if (c->prev)
		c->prev->next = c->next;
	else
		s->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	s->nconns--;
	if (s->ops->freeing)
		s->ops->freeing(c);
	free(c->pending);
	free(c->app);
	free(c);
}

void tcp_server_stop(struct tcp_server *s)
{
	if (!s->st)
		return;
	tapir_tcp_unlisten(s->st, s->port);
	while (s->conns)
		tcp_conn_close(s->conns);
	s->st = NULL;
}

int tcp_conn_write_all(struct tcp_conn *c, const uint8_t *data, size_t len)
{
	long n = 0;

	if (!c->pending_len) {
		n = tapir_tcp_write(c->flow, data, len);
		if (n < 0) {
			tcp_conn_close(c);
			return (int)n;
		}
	}
	if ((size_t)n == len)
		return 0;
	/* Keep the rest and stop reading until it is written. */
	uint8_t *p = realloc(c->pending, c->pending_len + len - (size_t)n);

	if (!p) {
		tapir_tcp_abort(c->flow);
		c->flow = NULL;
		tcp_conn_close(c);
		return -ENOMEM;
	}
	memcpy(p + c->pending_len, data + n, len - (size_t)n);
	c->pending = p;
	c->pending_len += len - (size_t)n;
	tapir_tcp_read_pause(c->flow, true);
	return 0;
}
