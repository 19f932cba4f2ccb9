/*
 * tcp_server.c - a TCP listener that keeps its connections, for tapird's apps
 *
 * (Theory of operation in tcp_server.h.)  A flow's callbacks have one of two
 * contexts: the server (idle: no struct tcp_conn; a stand-in is made on the
 * C stack for each handler call) or its kept conn.  tcp_conn_keep() from a
 * stand-in allocates the kept conn; the flow is pointed at it when the
 * outermost handler returns (until then re-entrant calls for the flow find
 * the stand-in on s->standins, which forwards to it), so no callback reaches
 * a kept conn before the handler that asked for it has set its app.
 */
#include "tcp_server.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

static const struct tapir_tcp_callbacks idle_callbacks, kept_callbacks;

static void unlink_kept(struct tcp_conn *c)
{
	struct tcp_server *s = c->srv;

	if (c->prev)
		c->prev->next = c->next;
	else
		s->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	c->prev = c->next = NULL;
	s->nkept--;
}

/* The conn for a handler of idle flow @f: the stand-in of an enclosing
 * handler of @f (or the conn it was kept as), else @tmp made one */
static struct tcp_conn *enter_idle(struct tcp_server *s, struct tapir_tcp_flow *f,
				   struct tcp_conn *tmp)
{
	for (struct tcp_conn *c = s->standins; c; c = c->up) {
		if (c->flow != f)
			continue;
		if (c->kept)
			c = c->kept;
		c->depth++;
		return c;
	}
	memset(tmp, 0, sizeof(*tmp));
	tmp->srv = s;
	tmp->flow = f;
	tmp->depth = 1;
	tmp->up = s->standins;
	s->standins = tmp;
	return tmp;
}

/* A handler of @c returned: the last one settles @c */
static void conn_leave(struct tcp_conn *c)
{
	struct tcp_server *s = c->srv;

	if (--c->depth)
		return;
	if (!c->is_kept) {
		struct tcp_conn **pp = &s->standins;
		struct tcp_conn *k = c->kept;

		while (*pp != c)
			pp = &(*pp)->up;
		*pp = c->up;
		/* state lives in kept conns only (tcp_conn_keep()) */
		assert(!c->app);
		if (!k)
			return;
		if (!k->closed && k->app)
			tapir_tcp_flow_set_callbacks(k->flow, &kept_callbacks, k);
		conn_leave(k);
		return;
	}
	if (c->closed) {
		free(c);
		return;
	}
	if (c->app)
		return;
	/* no state left: idle again */
	unlink_kept(c);
	tapir_tcp_flow_set_callbacks(c->flow, &idle_callbacks, s);
	free(c);
}

struct tcp_conn *tcp_conn_keep(struct tcp_conn *c)
{
	struct tcp_server *s = c->srv;
	struct tcp_conn *k;

	if (c->is_kept)
		return c;
	if (c->kept)
		return c->kept;
	if (c->closed)
		return NULL;
	k = calloc(1, sizeof(*k));
	if (!k)
		return NULL;
	k->srv = s;
	k->flow = c->flow;
	k->is_kept = true;
	k->depth = 1;                  /* the stand-in's handlers run: left with it */
	k->next = s->conns;
	if (s->conns)
		s->conns->prev = k;
	s->conns = k;
	s->nkept++;
	c->kept = k;
	return k;
}

void tcp_conn_close(struct tcp_conn *c)
{
	struct tcp_server *s = c->srv;

	if (!c->is_kept && c->kept)
		c = c->kept;
	if (c->closed)
		return;
	c->closed = true;
	if (c->flow)
		tapir_tcp_close(c->flow);
	s->nconns--;
	if (s->ops->freeing)
		s->ops->freeing(c);
	free(c->app);
	c->app = NULL;
	if (c->is_kept) {
		unlink_kept(c);
		if (!c->depth)
			free(c);
	}
}

/* ---- flow callbacks: idle (context: the server) ---- */

static void idle_recv(void *ctx, struct tapir_tcp_flow *f, const uint8_t *data, size_t len)
{
	struct tcp_server *s = ctx;
	struct tcp_conn tmp, *c = enter_idle(s, f, &tmp);

	s->ops->recv(c, data, len);
	conn_leave(c);
}

static void idle_writable(void *ctx, struct tapir_tcp_flow *f)
{
	struct tcp_server *s = ctx;
	struct tcp_conn tmp, *c;

	if (!s->ops->writable)
		return;
	c = enter_idle(s, f, &tmp);
	s->ops->writable(c);
	conn_leave(c);
}

static void idle_closed(void *ctx, struct tapir_tcp_flow *f, int err)
{
	struct tcp_server *s = ctx;
	struct tcp_conn tmp, *c = enter_idle(s, f, &tmp);

	if (err)
		s->resets++;
	tcp_conn_close(c);
	conn_leave(c);
}

static const struct tapir_tcp_callbacks idle_callbacks = {
	.recv = idle_recv,
	.writable = idle_writable,
	.closed = idle_closed,
};

/* ---- flow callbacks: kept (context: the conn) ---- */

static void kept_recv(void *ctx, struct tapir_tcp_flow *f, const uint8_t *data, size_t len)
{
	struct tcp_conn *c = ctx;

	(void)f;
	c->depth++;
	c->srv->ops->recv(c, data, len);
	conn_leave(c);
}

static void kept_writable(void *ctx, struct tapir_tcp_flow *f)
{
	struct tcp_conn *c = ctx;

	(void)f;
	if (!c->srv->ops->writable)
		return;
	c->depth++;
	c->srv->ops->writable(c);
	conn_leave(c);
}

static void kept_closed(void *ctx, struct tapir_tcp_flow *f, int err)
{
	struct tcp_conn *c = ctx;

	(void)f;
	if (err)
		c->srv->resets++;
	c->depth++;
	tcp_conn_close(c);
	conn_leave(c);
}

static const struct tapir_tcp_callbacks kept_callbacks = {
	.recv = kept_recv,
	.writable = kept_writable,
	.closed = kept_closed,
};

static void on_accept(void *ctx, struct tapir_tcp_flow *f)
{
	struct tcp_server *s = ctx;
	struct tcp_conn tmp, *c;

	s->nconns++;
	s->accepted++;
	if (s->ops->accepted) {
		/* the flow has no callbacks yet: what arrives meanwhile waits */
		c = enter_idle(s, f, &tmp);
		s->ops->accepted(c);
		conn_leave(c);
		if (tmp.kept || tmp.closed)
			return;     /* pointed at its kept conn, or closed */
	}
	tapir_tcp_flow_set_callbacks(f, &idle_callbacks, s);
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

void tcp_server_stop(struct tcp_server *s)
{
	if (!s->st)
		return;
	tapir_tcp_unlisten(s->st, s->port);
	while (s->conns)
		tcp_conn_close(s->conns);
	/* the idle ones: flows whose context is the server */
	s->nconns -= tapir_tcp_close_ctx(s->st, s);
	s->st = NULL;
}
