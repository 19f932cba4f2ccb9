/*
 * app_echo.c - UDP echo (RFC 862): every datagram goes back to its sender
 *
 * The reply goes from the listening port to the sender's address and port.
 * Not answered (counted in the debug log): datagrams sent to a broadcast
 * address (no amplification) and datagrams from port 0 (no way to reply).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "apps.h"

struct echo {
	struct stack *st;
	struct logger *log;
	uint16_t port;
	uint64_t echoed, ignored, failed;
};

static void echo_recv(void *ctx, const struct udp_meta *m, const uint8_t *data, size_t len)
{
	struct echo *e = ctx;
	if (m->broadcast || m->src_port == 0) {
		e->ignored++;
		return;
	}
	int rc = udp_sendto(e->st, m->dst_port, m->src, m->src_port, 0, data, len);
	if (rc < 0) {
		char a[16];
		e->failed++;
		log_debug(e->log, "echo %u: reply of %zu bytes to %s:%u failed: %s", e->port, len,
			  ipv4_addr_format(m->src, a), m->src_port, strerror(-rc));
		return;
	}
	e->echoed++;
}

int echo_start(struct stack *st, const struct app_config *cfg, struct logger *log, void **state)
{
	struct echo *e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	e->st = st;
	e->log = log;
	e->port = cfg->params.echo.port;
	int rc = udp_listen(st, e->port, echo_recv, e);
	if (rc < 0) {
		log_err(log, "app %s: cannot listen on UDP port %u: %s", cfg->name, e->port,
			strerror(-rc));
		free(e);
		return rc;
	}
	log_info(log, "app %s: UDP echo on port %u", cfg->name, e->port);
	*state = e;
	return 0;
}

void echo_stop(void *state)
{
	struct echo *e = state;
	if (!e)
		return;
	udp_unlisten(e->st, e->port);
	log_debug(e->log, "echo %u: %llu echoed, %llu ignored, %llu failed", e->port,
		  (unsigned long long)e->echoed, (unsigned long long)e->ignored,
		  (unsigned long long)e->failed);
	free(e);
}
