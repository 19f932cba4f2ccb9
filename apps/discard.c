/*
 * discard.c - discard (RFC 863) over UDP and TCP, and source: the bulk
 *             sender (chargen-like, RFC 864 without the line structure)
 *
 * discard: datagrams and bytes are dropped; a TCP peer's FIN is answered
 * with ours.  source: on every TCP connection, sends a repeating printable
 * pattern as fast as the peer takes it, until the peer closes (whatever it
 * sends is discarded); it is the bulk-send benchmark's peer.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "apps.h"
#include "tapir/udp.h"
#include "tcp_server.h"

struct discard {
	struct tapir_stack *st;
	uint16_t port;
	bool udp_listening;
	struct tcp_server tcp;
	uint64_t datagrams, bytes;
};

static void discard_udp(void *ctx, const struct tapir_udp_meta *m, const uint8_t *data, size_t len)
{
	struct discard *d = ctx;

	(void)m;
	(void)data;
	d->datagrams++;
	d->bytes += len;
}

static void discard_tcp_recv(struct tcp_conn *c, const uint8_t *data, size_t len)
{
	struct discard *d = c->srv->ctx;

	(void)data;
	if (len == 0) {
		tapir_tcp_shutdown(c->flow, false, true);
		return;
	}
	d->bytes += len;
}

static const struct tcp_server_ops discard_tcp_ops = { .recv = discard_tcp_recv };

static void discard_stop(void *state);

static int discard_start(struct tapir_app_ctx *ctx, void **state)
{
	struct tapir_stack *st = ctx->st;
	struct tapir_logger *log = ctx->log;
	struct discard *d = calloc(1, sizeof(*d));

	if (!d)
		return -ENOMEM;
	d->st = st;
	const struct app_port_config *pc = ctx->params;
	d->port = pc->port;
	int rc = tapir_udp_listen(st, d->port, discard_udp, d);

	if (rc < 0) {
		tapir_log_err(log, "app %s: cannot listen on UDP port %u: %s", ctx->name, d->port,
			strerror(-rc));
		free(d);
		return rc;
	}
	d->udp_listening = true;
	rc = tcp_server_start(&d->tcp, st, log, ctx->name, d->port, &discard_tcp_ops, d);
	if (rc < 0) {
		discard_stop(d);
		return rc;
	}
	tapir_log_info(log, "app %s: discard on UDP and TCP port %u", ctx->name, d->port);
	*state = d;
	return 0;
}

static void discard_stop(void *state)
{
	struct discard *d = state;

	if (!d)
		return;
	if (d->udp_listening)
		tapir_udp_unlisten(d->st, d->port);
	tcp_server_stop(&d->tcp);
	free(d);
}

/* ---- source ---- */

#define SOURCE_CHUNK 65536

struct source {
	struct tcp_server tcp;
	uint8_t pattern[SOURCE_CHUNK + 95];
};

/* Fill the send buffer; writable() brings us back when there is room. */
static void source_push(struct tcp_conn *c)
{
	struct source *s = c->srv->ctx;
	size_t *off = c->app;

	for (;;) {
		long n = tapir_tcp_write(c->flow, s->pattern + *off, SOURCE_CHUNK);

		if (n < 0) {
			tcp_conn_close(c);
			return;
		}
		if (n == 0)
			return;
		*off = (*off + (size_t)n) % 95;
	}
}

static void source_accepted(struct tcp_conn *c)
{
	struct tcp_conn *k = tcp_conn_keep(c);  /* never idle: state from the start */
	if (!k || !(k->app = calloc(1, sizeof(size_t)))) {
		tcp_conn_close(c);
		return;
	}
	source_push(k);
}

static void source_recv(struct tcp_conn *c, const uint8_t *data, size_t len)
{
	(void)data;
	if (len == 0) /* the peer closed: we are done */
		tcp_conn_close(c);
}

static const struct tcp_server_ops source_tcp_ops = {
	.accepted = source_accepted,
	.recv = source_recv,
	.writable = source_push,
};

static int source_start(struct tapir_app_ctx *ctx, void **state)
{
	struct tapir_stack *st = ctx->st;
	const struct app_port_config *pc = ctx->params;
	struct tapir_logger *log = ctx->log;
	struct source *s = calloc(1, sizeof(*s));

	if (!s)
		return -ENOMEM;
	for (size_t i = 0; i < sizeof(s->pattern); i++)
		s->pattern[i] = (uint8_t)(' ' + i % 95);
	int rc = tcp_server_start(&s->tcp, st, log, ctx->name, pc->port, &source_tcp_ops, s);

	if (rc < 0) {
		free(s);
		return rc;
	}
	tapir_log_info(log, "app %s: source on TCP port %u", ctx->name, pc->port);
	*state = s;
	return 0;
}

static void source_stop(void *state)
{
	struct source *s = state;

	if (!s)
		return;
	tcp_server_stop(&s->tcp);
	free(s);
}

const struct tapir_app_type app_discard_type = {
	.conf = &app_discard_conf,
	.start = discard_start,
	.stop = discard_stop,
};

const struct tapir_app_type app_source_type = {
	.conf = &app_source_conf,
	.start = source_start,
	.stop = source_stop,
};
