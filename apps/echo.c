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
 * TCP: every byte goes back on the same connection, copied once into the
 * flow's send ring (tapir_tcp_write()).  When the ring is full, reading pauses
 * (tapir_tcp_read_pause()) until writable() says there is room: the stack then
 * holds what arrives (up to rcvbuf, closing the window), so a client that
 * does not read cannot make us buffer without bound.  Of the delivery that
 * filled the ring, the part it did not take is kept (struct echo_conn: a
 * delivery is lent for the call only) and written first; with reading
 * paused there is no other.  That is the only state a connection has: it
 * is freed once written (an idle echo connection costs the app nothing,
 * tcp_server.h).  The peer's FIN is answered with ours once
 * everything is echoed (the stack delivers it after the data, so after
 * reading resumes).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "apps.h"
#include "tapir/forward.h"
#include "tapir/udp.h"
#include "tcp_server.h"

struct echo {
	struct tapir_stack *st;
	struct tapir_logger *log;
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
	/* from the address it was sent to (one host may have several IPv6 ones) */
	int rc = tapir_udp_sendto_from(e->st, m->multicast ? NULL : &m->dst, m->dst_port, &m->src,
				       m->src_port, 0, data, len);
	if (rc < 0) {
		char a[TAPIR_ADDR_STRLEN];
		e->failed++;
		tapir_log_debug(e->log, "echo %u: reply of %zu bytes to %s port %u failed: %s", e->port,
			  len, tapir_addr_format(&m->src, a), m->src_port, strerror(-rc));
		return;
	}
	e->echoed++;
}

/* A connection's state while the ring is full: the rest of one delivery
 * (an idle connection has none: tcp_server.h) */
struct echo_conn {
	uint8_t *rest;
	size_t len, off;
	bool fin;                  /* the peer's FIN came meanwhile (the stack holds it back) */
};

static void echo_tcp_recv(struct tcp_conn *c, const uint8_t *data, size_t len)
{
	struct echo_conn *ec = c->app;
	if (len == 0) {
		/* FIN, after the data: ours follows what is still to be echoed. */
		if (ec)
			ec->fin = true;
		else
			tapir_tcp_shutdown(c->flow, false, true);
		return;
	}
	long n = 0;
	if (!ec) {  /* (reading is paused while there is a rest) */
		n = tapir_tcp_write(c->flow, data, len);
		if (n < 0) {
			tcp_conn_close(c);
			return;
		}
		if ((size_t)n == len)
			return;
	}
	/* The ring is full: keep the rest of this delivery, read no more
	 * until writable() has written it. */
	struct tcp_conn *k = tcp_conn_keep(c);
	if (k && !ec)
		k->app = ec = calloc(1, sizeof(*ec));
	size_t keep = ec ? ec->len - ec->off : 0;
	uint8_t *rest = ec ? malloc(keep + len - (size_t)n) : NULL;
	if (!rest) {
		tapir_tcp_abort(c->flow);
		c->flow = NULL;
		if (k)
			k->flow = NULL;
		tcp_conn_close(c);
		return;
	}
	if (keep)
		memcpy(rest, ec->rest + ec->off, keep);
	memcpy(rest + keep, data + n, len - (size_t)n);
	free(ec->rest);
	ec->rest = rest;
	ec->len = keep + len - (size_t)n;
	ec->off = 0;
	tapir_tcp_read_pause(k->flow, true);
}

static void echo_tcp_writable(struct tcp_conn *c)
{
	struct echo_conn *ec = c->app;
	if (!ec)
		return;
	long n = tapir_tcp_write(c->flow, ec->rest + ec->off, ec->len - ec->off);
	if (n < 0) {
		tcp_conn_close(c);
		return;
	}
	ec->off += (size_t)n;
	if (ec->off < ec->len)
		return;
	/* all written: the connection is idle again (no state) */
	bool fin = ec->fin;
	free(ec->rest);
	free(ec);
	c->app = NULL;
	if (fin)
		tapir_tcp_shutdown(c->flow, false, true);
	else
		tapir_tcp_read_pause(c->flow, false);  /* may deliver what the stack held */
}

static void echo_tcp_freeing(struct tcp_conn *c)
{
	struct echo_conn *ec = c->app;
	if (ec)
		free(ec->rest);
}

static const struct tcp_server_ops echo_tcp_ops = {
	.recv = echo_tcp_recv,
	.writable = echo_tcp_writable,
	.freeing = echo_tcp_freeing,
};

static void echo_stop(void *state);

static int echo_start(struct tapir_app_ctx *ctx, void **state)
{
	struct tapir_stack *st = ctx->st;
	struct tapir_logger *log = ctx->log;
	struct echo *e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	e->st = st;
	e->log = log;
	const struct app_port_config *pc = ctx->params;
	e->port = pc->port;
	int rc = tapir_udp_listen(st, e->port, echo_recv, e);
	if (rc < 0) {
		tapir_log_err(log, "app %s: cannot listen on UDP port %u: %s", ctx->name, e->port,
			strerror(-rc));
		free(e);
		return rc;
	}
	e->udp_listening = true;
	rc = tcp_server_start(&e->tcp, st, log, ctx->name, e->port, &echo_tcp_ops, e);
	if (rc < 0) {
		echo_stop(e);
		return rc;
	}
	tapir_log_info(log, "app %s: echo on UDP and TCP port %u", ctx->name, e->port);
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
	tapir_log_debug(e->log, "echo %u: %llu datagrams echoed, %llu ignored, %llu failed; "
		  "%llu TCP connections", e->port, (unsigned long long)e->echoed,
		  (unsigned long long)e->ignored, (unsigned long long)e->failed,
		  (unsigned long long)e->tcp.accepted);
	free(e);
}

const struct tapir_app_type app_echo_type = {
	.conf = &app_echo_conf,
	.start = echo_start,
	.stop = echo_stop,
};
