/*
 * echo.c - echo (RFC 862) over UDP and TCP on one port
 *
 * UDP: every datagram goes back to its sender, from the listening port.  Not
 * answered (counted in the debug log): datagrams sent to a broadcast address
 * (no amplification), datagrams from port 0 (no way to reply), and, as
 * inetd does, datagrams from the ports of the other small services that
 * answer every datagram (echo 7, daytime 13, qotd 17, chargen 19, time 37):
 * a forged one would start two of them answering each other for ever (the
 * echo-chargen loop, CVE-1999-0103).
 *
 * TCP: every byte goes back on the same connection.  When the send buffer is
 * full, the rest is held and reading paused until it has gone out, so a
 * client that does not read cannot make us buffer without bound.  The
 * peer's FIN is answered with ours once everything is echoed.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "apps.h"
#include "tapir/udp.h"
#include "tcp_server.h"

struct echo {
	struct tapir_stack *st;
	struct logger *log;
	uint16_t port;
	bool udp_listening;
	struct tcp_server tcp;
	uint64_t echoed, ignored, failed;
};

/* A source port whose service answers every datagram (see the top) */
static bool loop_port(uint16_t p)
{
	return p == 7 || p == 13 || p == 17 || p == 19 || p == 37;
}

static void echo_recv(void *ctx, const struct tapir_udp_meta *m, const uint8_t *data, size_t len)
{
	struct echo *e = ctx;
	if (m->broadcast || m->src_port == 0 || loop_port(m->src_port)) {
		e->ignored++;
		return;
	}
	int rc = tapir_udp_sendto(e->st, m->dst_port, m->src, m->src_port, 0, data, len);
	if (rc < 0) {
		char a[16];
		e->failed++;
		log_debug(e->log, "echo %u: reply of %zu bytes to %s:%u failed: %s", e->port, len,
			  tapir_ipv4_addr_format(m->src, a), m->src_port, strerror(-rc));
		return;
	}
	e->echoed++;
}

static void echo_tcp_recv(struct tcp_conn *c, const uint8_t *data, size_t len)
{
	if (len == 0) {
		/* FIN: ours follows what is still to be echoed (see tcp_server.c). */
		if (!c->pending_len)
			tapir_tcp_shutdown(c->flow, false, true);
		return;
	}
	tcp_conn_write_all(c, data, len);
}

static const struct tcp_server_ops echo_tcp_ops = { .recv = echo_tcp_recv };

static void echo_stop(void *state);

static int echo_start(struct tapir_app_ctx *ctx, void **state)
{
	struct tapir_stack *st = ctx->st;
	const struct app_config *cfg = ctx->cfg;
	struct logger *log = ctx->log;
	struct echo *e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	e->st = st;
	e->log = log;
	e->port = cfg->params.echo.port;
	int rc = tapir_udp_listen(st, e->port, echo_recv, e);
	if (rc < 0) {
		log_err(log, "app %s: cannot listen on UDP port %u: %s", cfg->name, e->port,
			strerror(-rc));
		free(e);
		return rc;
	}
	e->udp_listening = true;
	rc = tcp_server_start(&e->tcp, st, log, cfg->name, e->port, &echo_tcp_ops, e);
	if (rc < 0) {
		echo_stop(e);
		return rc;
	}
	log_info(log, "app %s: echo on UDP and TCP port %u", cfg->name, e->port);
	*state = e;
	return 0;
}

static void echo_stop(void *state)
{
	struct echo *e = state;
	if (!e)
		return;
	if (e->udp_listening)
		tapir_udp_unlisten(e->st, e->port);
	tcp_server_stop(&e->tcp);
	log_debug(e->log, "echo %u: %llu datagrams echoed, %llu ignored, %llu failed; "
		  "%llu TCP connections", e->port, (unsigned long long)e->echoed,
		  (unsigned long long)e->ignored, (unsigned long long)e->failed,
		  (unsigned long long)e->tcp.accepted);
	free(e);
}

const struct tapir_app_type app_echo_type = {
	.name = "echo",
	.start = echo_start,
	.stop = echo_stop,
};
