/*
 * forward.c - the gateway's port forwards: host sockets spliced to flows over tapir's stack
 *
 * Theory of operation
 *
 * A TCP forward is a libuv listener on the host port.  Each accepted host
 * connection starts a tapir_tcp_connect() to the namespace (ns_addr:ns_port)
 * and reads nothing until it is established; then both ways are copied:
 *
 *   host -> namespace: one read of at most GW_FWD_UP_BUF bytes at a time;
 *     what tapir_tcp_write() does not take is held and reading stops until
 *     the flow's writable() callback has taken it (so the host's own socket
 *     buffer and TCP window hold the rest: back-pressure, no growth).
 *   namespace -> host: recv() data goes out with uv_try_write(), the rest
 *     is queued as uv_write requests; above GW_FWD_DOWN_MAX queued bytes the
 *     flow is paused (tapir_tcp_read_pause(): its window closes) until the
 *     queue drains below half of that.
 *
 * Half-close is carried across: the host's EOF becomes a FIN on the flow
 * (tapir_tcp_shutdown(wr)) once the held bytes are written, the flow's FIN
 * a shutdown(SHUT_WR) of the host socket after the queued writes.  When both
 * directions are over, both ends are closed.  Resets are mapped both ways:
 * a host ECONNRESET aborts the flow (RST), a flow reset or timeout (closed()
 * with an error) and a refused or failed connect close the host socket with
 * RST (uv_tcp_close_reset()).
 *
 * A UDP forward is a libuv UDP socket on the host port.  Each host peer
 * (address, port) gets a flow: a port of its own on the stack (random,
 * 49152-65535) from which its datagrams go to ns_addr:ns_port, and on which
 * the namespace's answers come back and are sent to that peer from the host
 * port.  A flow idle for GW_FWD_UDP_IDLE_NS ends (swept every second).
 *
 * Limits: GW_FWD_MAX forwards, GW_FWD_MAX_TCP_CONNS connections and
 * GW_FWD_MAX_UDP_FLOWS flows in all; beyond them a connection is reset at
 * once and a datagram dropped, each counted.
 *
 * Lifetimes: a connection is freed when its host handle's close callback
 * has run, its flow is released and no connect is pending (the connect
 * callback always comes: a connection whose host side went away during the
 * connect aborts the new flow there).  A forward is freed in its listener's
 * close callback; connections do not point at their forward.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "forward.h"
#include "tapir/tcp.h"
#include "tapir/udp.h"

struct uflow;

struct fwd {
	struct fwd *next;
	struct gw_fwd *g;
	uint8_t proto;
	uint16_t host_port, ns_port;
	bool from_config;
	bool removed;
	union {
		uv_tcp_t tcp;
		uv_udp_t udp;
	} h;
	struct uflow *flows;
	struct gw_fwd_info st;   /* counters (proto/ports filled at listing) */
};

struct fconn {
	struct fconn *prev, *next;
	struct gw_fwd *g;
	struct fwd *f;           /* NULL once the forward is removed */
	uv_tcp_t h;
	bool h_closing;          /* uv_close() called */
	bool h_closed;           /* its close callback ran */
	struct tapir_tcp_flow *flow;
	bool connecting;
	bool dead;               /* host side gone while connecting */
	/* host -> namespace */
	uint8_t *up;
	size_t up_off, up_len;
	bool reading, host_eof, fin_sent;
	/* namespace -> host */
	size_t down_queued;
	bool paused, flow_eof, shut_sent;
	uv_shutdown_t shut;
};

struct down_req {
	uv_write_t w;
	struct fconn *c;
	size_t len;
	uint8_t data[];
};

struct uflow {
	struct uflow *next;
	struct fwd *f;
	struct sockaddr_in peer;
	uint16_t port;           /* ours on the stack */
	uint64_t last;           /* uv_hrtime() of the last datagram */
};

struct gw_fwd {
	struct gw_fwd_env env;
	struct fwd *fwds;        /* in the order added */
	size_t nfwds;
	struct fconn *conns;
	size_t nconns, nflows;
	size_t handles;          /* open or closing handles we own */
	bool freeing;
	uv_timer_t sweep;
	struct gw_fwd_stats stats;
	uint8_t udp_buf[65536];
};

static void kick(struct gw_fwd *g)
{
	if (g->env.kick && !g->freeing)
		g->env.kick(g->env.ctx);
}

static void handle_closed(struct gw_fwd *g)
{
	if (--g->handles == 0 && g->freeing)
		free(g);
}

/* ---- TCP ---- */

static void conn_maybe_free(struct fconn *c)
{
	if (!c->h_closed || c->flow || c->connecting)
		return;
	struct gw_fwd *g = c->g;
	if (c->prev)
		c->prev->next = c->next;
	else
		g->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	g->nconns--;
	g->stats.tcp_active = g->nconns;
	if (c->f)
		c->f->st.active--;
	free(c->up);
	free(c);
}

static void conn_handle_closed(uv_handle_t *h)
{
	struct fconn *c = h->data;
	struct gw_fwd *g = c->g;
	c->h_closed = true;
	conn_maybe_free(c);
	handle_closed(g);
}

/* Close the host side: with RST when @reset */
static void conn_close_host(struct fconn *c, bool reset)
{
	if (c->h_closing)
		return;
	c->h_closing = true;
	if (reset) {
		c->g->stats.tcp_resets++;
		if (uv_tcp_close_reset(&c->h, conn_handle_closed) == 0)
			return;
	}
	uv_close((uv_handle_t *)&c->h, conn_handle_closed);
}

static void conn_release_flow(struct fconn *c, bool abort)
{
	if (!c->flow)
		return;
	struct tapir_tcp_flow *f = c->flow;
	c->flow = NULL;
	if (abort)
		tapir_tcp_abort(f);
	else
		tapir_tcp_close(f);
	conn_maybe_free(c);
}

/* Both directions over and everything written: close both ends */
static void conn_check_done(struct fconn *c)
{
	if (c->host_eof && c->fin_sent && c->flow_eof && c->down_queued == 0 && !c->h_closing) {
		conn_close_host(c, false);
		conn_release_flow(c, false);
	}
}

static void host_alloc(uv_handle_t *h, size_t hint, uv_buf_t *b)
{
	struct fconn *c = h->data;
	if (!c->up)
		c->up = malloc(GW_FWD_UP_BUF);
	*b = uv_buf_init((char *)c->up, c->up && c->up_len == 0 ? GW_FWD_UP_BUF : 0);
}

/* Give the held host bytes to the flow.  Return: true when all are taken */
static bool push_up(struct fconn *c)
{
	while (c->up_off < c->up_len) {
		long n = tapir_tcp_write(c->flow, c->up + c->up_off, c->up_len - c->up_off);
		if (n == -ENOBUFS || n == 0)
			return false;  /* writable() follows */
		if (n < 0) {
			conn_release_flow(c, true);
			conn_close_host(c, true);
			return false;
		}
		c->up_off += (size_t)n;
		if (c->f)
			c->f->st.bytes_in += (uint64_t)n;
	}
	c->up_off = c->up_len = 0;
	return true;
}

static void send_fin(struct fconn *c)
{
	if (c->host_eof && !c->fin_sent && c->up_len == 0 && c->flow) {
		c->fin_sent = true;
		tapir_tcp_shutdown(c->flow, false, true);
	}
}

static void host_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
	struct fconn *c = s->data;
	if (n == 0)
		return;
	if (n < 0) {
		uv_read_stop(s);
		c->reading = false;
		if (n == UV_EOF) {
			c->host_eof = true;
			send_fin(c);
			conn_check_done(c);
		} else {  /* ECONNRESET and the like: reset the namespace side */
			conn_release_flow(c, true);
			conn_close_host(c, false);
		}
		kick(c->g);
		return;
	}
	c->up_off = 0;
	c->up_len = (size_t)n;
	if (!push_up(c) && c->reading) {
		uv_read_stop(s);
		c->reading = false;
	}
	kick(c->g);
}

static void start_reading(struct fconn *c)
{
	if (!c->reading && !c->host_eof && !c->h_closing && c->flow &&
	    uv_read_start((uv_stream_t *)&c->h, host_alloc, host_read) == 0)
		c->reading = true;
}

static void down_written(uv_write_t *w, int status)
{
	struct down_req *r = (struct down_req *)w;
	struct fconn *c = r->c;
	c->down_queued -= r->len;
	free(r);
	if (status < 0) {
		if (status != UV_ECANCELED) {
			conn_release_flow(c, true);
			conn_close_host(c, false);
		}
		conn_check_done(c);
		kick(c->g);
		return;
	}
	if (c->paused && c->down_queued < GW_FWD_DOWN_MAX / 2 && c->flow) {
		c->paused = false;
		tapir_tcp_read_pause(c->flow, false);
	}
	conn_check_done(c);
	kick(c->g);
}

static void host_shut_done(uv_shutdown_t *s, int status)
{
	struct fconn *c = s->data;
	c->down_queued--;  /* the shutdown counted as one byte queued */
	conn_check_done(c);
	kick(c->g);
}

static void flow_recv(void *ctx, struct tapir_tcp_flow *f, const uint8_t *data, size_t len)
{
	struct fconn *c = ctx;
	if (c->h_closing)
		return;
	if (len == 0) {
		c->flow_eof = true;
		c->shut.data = c;
		if (uv_shutdown(&c->shut, (uv_stream_t *)&c->h, host_shut_done) == 0) {
			c->shut_sent = true;
			c->down_queued++;
		}
		conn_check_done(c);
		return;
	}
	if (c->f)
		c->f->st.bytes_out += len;
	size_t off = 0;
	if (c->down_queued == 0) {
		uv_buf_t b = uv_buf_init((char *)data, (unsigned)len);
		int n = uv_try_write((uv_stream_t *)&c->h, &b, 1);
		if (n > 0)
			off = (size_t)n;
		else if (n < 0 && n != UV_EAGAIN) {
			conn_release_flow(c, true);
			conn_close_host(c, false);
			return;
		}
	}
	if (off == len)
		return;
	struct down_req *r = malloc(sizeof(*r) + (len - off));
	if (!r) {
		conn_release_flow(c, true);
		conn_close_host(c, true);
		return;
	}
	r->c = c;
	r->len = len - off;
	memcpy(r->data, data + off, r->len);
	uv_buf_t b = uv_buf_init((char *)r->data, (unsigned)r->len);
	if (uv_write(&r->w, (uv_stream_t *)&c->h, &b, 1, down_written)) {
		free(r);
		conn_release_flow(c, true);
		conn_close_host(c, true);
		return;
	}
	c->down_queued += r->len;
	if (c->down_queued >= GW_FWD_DOWN_MAX && !c->paused) {
		c->paused = true;
		tapir_tcp_read_pause(f, true);
	}
}

static void flow_writable(void *ctx, struct tapir_tcp_flow *f)
{
	struct fconn *c = ctx;
	if (c->up_len && !push_up(c))
		return;
	send_fin(c);
	start_reading(c);
	conn_check_done(c);
}

static void flow_closed(void *ctx, struct tapir_tcp_flow *f, int err)
{
	struct fconn *c = ctx;
	if (err < 0) {  /* reset, timeout, aborted: reset the host side */
		conn_release_flow(c, false);
		conn_close_host(c, true);
		return;
	}
	c->flow_eof = true;
	conn_check_done(c);
}

static const struct tapir_tcp_callbacks flow_cbs = {
	.recv = flow_recv,
	.writable = flow_writable,
	.closed = flow_closed,
};

static void on_ns_connected(void *ctx, struct tapir_tcp_flow *f, int err)
{
	struct fconn *c = ctx;
	c->connecting = false;
	if (err < 0 || !f) {
		c->g->stats.tcp_ns_refused++;
		if (c->f)
			c->f->st.refused++;
		conn_close_host(c, true);  /* refused or unreachable: the host sees a reset */
		conn_maybe_free(c);
		return;
	}
	c->flow = f;
	if (c->dead) {
		conn_release_flow(c, true);
		return;
	}
	tapir_tcp_flow_set_callbacks(f, &flow_cbs, c);
	start_reading(c);
}

static void on_tcp_connection(uv_stream_t *l, int status)
{
	struct fwd *fw = l->data;
	struct gw_fwd *g = fw->g;
	if (status < 0)
		return;
	struct fconn *c = calloc(1, sizeof(*c));
	if (!c)
		return;
	c->g = g;
	uv_tcp_init(g->env.loop, &c->h);
	c->h.data = c;
	g->handles++;
	/* Linked first: the close callback unlinks it */
	c->next = g->conns;
	if (g->conns)
		g->conns->prev = c;
	g->conns = c;
	g->nconns++;
	g->stats.tcp_active = g->nconns;
	c->f = fw;
	fw->st.active++;
	if (uv_accept(l, (uv_stream_t *)&c->h)) {
		conn_close_host(c, false);
		return;
	}
	uv_tcp_nodelay(&c->h, 1);
	if (g->nconns > GW_FWD_MAX_TCP_CONNS) {
		g->stats.tcp_limit++;
		fw->st.refused++;
		conn_close_host(c, true);
		return;
	}
	g->stats.tcp_accepted++;
	fw->st.total++;
	c->connecting = true;
	struct tapir_addr ns = tapir_addr_v4(g->env.ns_addr);
	int rc = tapir_tcp_connect(g->env.st, &ns, fw->ns_port, NULL, on_ns_connected, c);
	if (rc) {
		c->connecting = false;
		g->stats.tcp_limit++;
		fw->st.refused++;
		conn_close_host(c, true);
	}
	kick(g);
}

/* ---- UDP ---- */

static void uflow_free(struct uflow *u)
{
	struct fwd *fw = u->f;
	struct gw_fwd *g = fw->g;
	tapir_udp_unlisten(g->env.st, u->port);
	for (struct uflow **p = &fw->flows; *p; p = &(*p)->next)
		if (*p == u) {
			*p = u->next;
			break;
		}
	fw->st.active--;
	g->nflows--;
	g->stats.udp_active = g->nflows;
	free(u);
}

/* From the namespace to a flow's port */
static void uflow_rx(void *ctx, const struct tapir_udp_meta *m, const uint8_t *data, size_t len)
{
	struct uflow *u = ctx;
	struct fwd *fw = u->f;
	struct gw_fwd *g = fw->g;
	if (m->src.family != TAPIR_AF_INET || m->src.v4 != g->env.ns_addr ||
	    m->src_port != fw->ns_port) {
		g->stats.udp_foreign++;
		return;
	}
	u->last = uv_hrtime();
	uv_buf_t b = uv_buf_init((char *)data, (unsigned)len);
	if (uv_udp_try_send(&fw->h.udp, &b, 1, (const struct sockaddr *)&u->peer) < 0)
		g->stats.udp_send_errors++;
	else
		fw->st.bytes_out += len;
}

static void udp_alloc(uv_handle_t *h, size_t hint, uv_buf_t *b)
{
	struct fwd *fw = h->data;
	*b = uv_buf_init((char *)fw->g->udp_buf, sizeof(fw->g->udp_buf));
}

static struct uflow *uflow_new(struct fwd *fw, const struct sockaddr_in *peer)
{
	struct gw_fwd *g = fw->g;
	if (g->nflows >= GW_FWD_MAX_UDP_FLOWS) {
		g->stats.udp_limit++;
		fw->st.refused++;
		return NULL;
	}
	struct uflow *u = calloc(1, sizeof(*u));
	if (!u)
		return NULL;
	u->f = fw;
	u->peer = *peer;
	for (int i = 0; i < 32; i++) {
		uint16_t r;
		uv_random(NULL, NULL, &r, sizeof(r), 0, NULL);
		u->port = (uint16_t)(49152 + r % 16384);
		if (tapir_udp_listen(g->env.st, u->port, uflow_rx, u) == 0) {
			u->next = fw->flows;
			fw->flows = u;
			fw->st.active++;
			fw->st.total++;
			g->nflows++;
			g->stats.udp_flows++;
			g->stats.udp_active = g->nflows;
			return u;
		}
	}
	g->stats.udp_limit++;
	fw->st.refused++;
	free(u);
	return NULL;
}

static void udp_recv(uv_udp_t *h, ssize_t n, const uv_buf_t *b, const struct sockaddr *addr,
		     unsigned flags)
{
	struct fwd *fw = h->data;
	struct gw_fwd *g = fw->g;
	if (n < 0 || !addr || addr->sa_family != AF_INET || (flags & UV_UDP_PARTIAL))
		return;
	const struct sockaddr_in *sin = (const struct sockaddr_in *)addr;
	struct uflow *u = fw->flows;
	while (u && (u->peer.sin_addr.s_addr != sin->sin_addr.s_addr ||
		     u->peer.sin_port != sin->sin_port))
		u = u->next;
	if (!u && !(u = uflow_new(fw, sin)))
		return;
	u->last = uv_hrtime();
	struct tapir_addr ns = tapir_addr_v4(g->env.ns_addr);
	if (tapir_udp_sendto(g->env.st, u->port, &ns, fw->ns_port, 0,
			     (const uint8_t *)b->base, (size_t)n) < 0)
		g->stats.udp_send_errors++;
	else
		fw->st.bytes_in += (uint64_t)n;
	kick(g);
}

static void on_sweep(uv_timer_t *t)
{
	struct gw_fwd *g = t->data;
	uint64_t now = uv_hrtime();
	for (struct fwd *fw = g->fwds; fw; fw = fw->next) {
		struct uflow *u = fw->flows;
		while (u) {
			struct uflow *next = u->next;
			if (now - u->last > GW_FWD_UDP_IDLE_NS) {
				g->stats.udp_expired++;
				uflow_free(u);
			}
			u = next;
		}
	}
}

/* ---- the table ---- */

static void sweep_closed(uv_handle_t *h)
{
	handle_closed(h->data);
}

struct gw_fwd *gw_fwd_new(const struct gw_fwd_env *env)
{
	struct gw_fwd *g = calloc(1, sizeof(*g));
	if (!g)
		return NULL;
	g->env = *env;
	uv_timer_init(env->loop, &g->sweep);
	g->sweep.data = g;
	g->handles = 1;
	uv_timer_start(&g->sweep, on_sweep, 1000, 1000);
	uv_unref((uv_handle_t *)&g->sweep);
	return g;
}

static void fwd_closed(uv_handle_t *h)
{
	struct fwd *fw = h->data;
	struct gw_fwd *g = fw->g;
	free(fw);
	handle_closed(g);
}

static struct fwd **find(struct gw_fwd *g, uint8_t proto, uint16_t host_port)
{
	struct fwd **p = &g->fwds;
	while (*p && ((*p)->proto != proto || (*p)->host_port != host_port))
		p = &(*p)->next;
	return p;
}

int gw_fwd_add(struct gw_fwd *g, uint8_t proto, uint16_t host_port, uint16_t ns_port,
	       bool from_config, char *err, size_t errlen)
{
	const char *pn = proto == GW_FWD_TCP ? "tcp" : "udp";
	if ((proto != GW_FWD_TCP && proto != GW_FWD_UDP) || !host_port || !ns_port) {
		snprintf(err, errlen, "a forward is tcp or udp, ports 1 to 65535");
		return -EINVAL;
	}
	if (*find(g, proto, host_port)) {
		snprintf(err, errlen, "%s/%u is already forwarded", pn, host_port);
		return -EEXIST;
	}
	if (g->nfwds >= GW_FWD_MAX) {
		snprintf(err, errlen, "at most %d forwards", GW_FWD_MAX);
		return -ENOSPC;
	}
	struct fwd *fw = calloc(1, sizeof(*fw));
	if (!fw) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	fw->g = g;
	fw->proto = proto;
	fw->host_port = host_port;
	fw->ns_port = ns_port;
	fw->from_config = from_config;
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(host_port),
				 .sin_addr.s_addr = htonl(g->env.bind_addr) };
	int rc;
	if (proto == GW_FWD_TCP) {
		uv_tcp_init(g->env.loop, &fw->h.tcp);
		fw->h.tcp.data = fw;
		rc = uv_tcp_bind(&fw->h.tcp, (const struct sockaddr *)&a, 0);
		if (!rc)
			rc = uv_listen((uv_stream_t *)&fw->h.tcp, 128, on_tcp_connection);
	} else {
		uv_udp_init(g->env.loop, &fw->h.udp);
		fw->h.udp.data = fw;
		rc = uv_udp_bind(&fw->h.udp, (const struct sockaddr *)&a, 0);
		if (!rc)
			rc = uv_udp_recv_start(&fw->h.udp, udp_alloc, udp_recv);
	}
	g->handles++;
	if (rc) {
		char ab[INET_ADDRSTRLEN];
		uv_ip4_name(&a, ab, sizeof(ab));
		snprintf(err, errlen, "%s %s:%u: %s", pn, ab, host_port, uv_strerror(rc));
		uv_close((uv_handle_t *)&fw->h, fwd_closed);
		return rc;
	}
	*find(g, proto, host_port) = fw;  /* at the end: the order added */
	g->nfwds++;
	tapir_log_info(g->env.log, "gateway: forward %s/%u -> namespace port %u", pn, host_port,
		       ns_port);
	return 0;
}

static void fwd_remove(struct gw_fwd *g, struct fwd **p)
{
	struct fwd *fw = *p;
	*p = fw->next;
	g->nfwds--;
	fw->removed = true;
	while (fw->flows)
		uflow_free(fw->flows);
	for (struct fconn *c = g->conns; c; c = c->next)
		if (c->f == fw)
			c->f = NULL;
	uv_close((uv_handle_t *)&fw->h, fwd_closed);
}

int gw_fwd_rm(struct gw_fwd *g, uint8_t proto, uint16_t host_port)
{
	struct fwd **p = find(g, proto, host_port);
	if (!*p)
		return -ENOENT;
	tapir_log_info(g->env.log, "gateway: forward %s/%u removed",
		       proto == GW_FWD_TCP ? "tcp" : "udp", host_port);
	fwd_remove(g, p);
	return 0;
}

size_t gw_fwd_list(const struct gw_fwd *g, struct gw_fwd_info *out, size_t max)
{
	size_t n = 0;
	for (const struct fwd *fw = g->fwds; fw && n < max; fw = fw->next) {
		out[n] = fw->st;
		out[n].proto = fw->proto;
		out[n].host_port = fw->host_port;
		out[n].ns_port = fw->ns_port;
		out[n].from_config = fw->from_config;
		n++;
	}
	return n;
}

void gw_fwd_get_stats(const struct gw_fwd *g, struct gw_fwd_stats *s)
{
	*s = g->stats;
}

void gw_fwd_free(struct gw_fwd *g)
{
	if (!g)
		return;
	while (g->fwds)
		fwd_remove(g, &g->fwds);
	for (struct fconn *c = g->conns; c; c = c->next) {
		/* A connect still pending ends with the stack, freed after us */
		c->dead = true;
		c->connecting = false;
		if (c->flow) {
			struct tapir_tcp_flow *f = c->flow;
			c->flow = NULL;
			tapir_tcp_abort(f);
		}
		conn_close_host(c, true);
	}
	g->freeing = true;
	uv_close((uv_handle_t *)&g->sweep, sweep_closed);
}
