/*
 * tcp_server.c - a TCP listener that keeps its connections, for tapird's apps
 */
#include "tcp_server.h"

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

static void conn_writable(void *ctx, struct tapir_tcp_flow *f)
{
	struct tcp_conn *c = ctx;

	(void)f;
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

int tcp_server_start(struct tcp_server *s, struct tapir_stack *st, struct tapir_logger *log,
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
		tapir_log_err(log, "app %s: cannot listen on TCP port %u: %s", name, port,
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
