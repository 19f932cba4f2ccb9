/*
 * forward.c - the gateway's port forwards: host sockets spliced to flows over tapir's stack
 *
 * Theory of operation
 *
 * A forward listens on the host port once per family of the env: on
 * bind_addr, whose connections and datagrams go to ns_addr, and on
 * bind_addr6 (::1 by default), whose go to ns_addr6 (as pasta does).  A host
 * without that IPv6 address gets the IPv4 listener alone (a warning).
 *
 * A TCP forward is a libuv listener on the host port.  Each accepted host
 * connection starts a tapir_tcp_connect() to the namespace (ns_addr:ns_port)
 * and reads nothing until it is established; then splice.c copies both ways,
 * as for the connections the namespace opens (back-pressure with the pool's
 * flow_buffer and total_buffer, half-closes, resets both ways).  A connect
 * the namespace refuses, or that fails, closes the host socket with a RST.
 *
 * A UDP forward is a libuv UDP socket on the host port.  Each host peer
 * (address, port) gets a flow: a port of its own on the stack (random,
 * 49152-65535) from which its datagrams go to ns_addr:ns_port, and on which
 * the namespace's answers come back and are sent to that peer from the host
 * port.  A flow idle for the env's udp_idle_ns ([gateway] udp_idle_timeout)
 * ends (swept every second).
 *
 * Limits: GW_FWD_MAX forwards; connections and UDP flows count in the
 * pool's flows, against [gateway] max_flows with the gateway's own; beyond
 * it a connection is reset at once and a datagram of a new peer dropped,
 * each counted (fwd_tcp_limit, fwd_udp_limit and the forward's refused).
 *
 * Lifetimes: a connection is freed when its splice is freed (the host
 * socket's close callback) and no connect is pending; gw_fwd_free() cancels
 * pending connects.  A forward is freed in its listener's close callback;
 * a connection whose forward was removed keeps going without it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "forward.h"
#include "splice.h"
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
	int nh;                  /* handles open or closing: 1 or 2 */
	bool has[2];             /* h[0] (IPv4), h[1] (IPv6) listening */
	union {
		uv_tcp_t tcp;
		uv_udp_t udp;
	} h[2];
	struct uflow *flows;
	struct gw_fwd_info st;   /* counters (proto/ports filled at listing) */
};

struct fconn {
	struct splice sp;        /* first: the splice's ops get the record back */
	struct fconn *prev, *next;
	struct gw_fwd *g;
	struct fwd *f;           /* NULL once the forward is removed */
	uint16_t host_port, ns_port;  /* the forward's */
	bool v6;                 /* accepted on the IPv6 listener */
	bool connecting;         /* tapir_tcp_connect() under way */
	bool freed;              /* the splice is freed (host socket closed) */
};

struct uflow {
	struct uflow *next;
	struct fwd *f;
	union {
		struct sockaddr sa;
		struct sockaddr_in in;
		struct sockaddr_in6 in6;
	} peer;
	bool v6;                 /* the peer came on the IPv6 socket */
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

/* The namespace's end for a host socket of the family */
static struct tapir_addr ns_of(const struct gw_fwd *g, bool v6)
{
	if (!v6)
		return tapir_addr_v4(g->env.ns_addr);
	struct tapir_addr a = { .family = TAPIR_AF_INET6 };
	memcpy(a.v6, g->env.ns_addr6, 16);
	return a;
}

/* ---- TCP ---- */

static void conn_maybe_free(struct fconn *c)
{
	if (!c->freed || c->connecting)
		return;
	struct gw_fwd *g = c->g;
	if (c->prev)
		c->prev->next = c->next;
	else
		g->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	g->nconns--;
	g->env.pool->nflows--;
	g->stats.tcp_active = g->nconns;
	if (c->f) {
		c->f->st.active--;
		c->f->st.bytes_in += c->sp.bytes_to_ns;
		c->f->st.bytes_out += c->sp.bytes_to_host;
	}
	free(c);
	handle_closed(g);
}

static void conn_freed(struct splice *s)
{
	struct fconn *c = (struct fconn *)s;
	c->freed = true;
	conn_maybe_free(c);
}

static const struct splice_ops conn_ops = { .freed = conn_freed };

static void on_ns_connected(void *ctx, struct tapir_tcp_flow *f, int err)
{
	struct fconn *c = ctx;
	c->connecting = false;
	if (c->sp.closing) {  /* the host side was given up meanwhile */
		if (f)
			tapir_tcp_abort(f);
		conn_maybe_free(c);
		return;
	}
	if (err < 0 || !f) {
		tapir_log_debug(c->g->env.log, "gateway: forward %s/%u: namespace port %u: %s",
				c->v6 ? "tcp6" : "tcp", c->host_port, c->ns_port,
				strerror(err < 0 ? -err : ECONNABORTED));
		c->g->stats.tcp_ns_refused++;
		if (c->f)
			c->f->st.refused++;
		splice_end(&c->sp, false, true);  /* refused or unreachable: the host sees a reset */
		return;
	}
	splice_start(&c->sp, f);
}

static void on_tcp_connection(uv_stream_t *l, int status)
{
	struct fwd *fw = l->data;
	struct gw_fwd *g = fw->g;
	struct splice_pool *pool = g->env.pool;
	bool v6 = l == (uv_stream_t *)&fw->h[1].tcp;
	if (status < 0)
		return;
	struct fconn *c = calloc(1, sizeof(*c));
	if (!c)
		return;
	if (splice_init(&c->sp, pool, g->env.loop, &conn_ops) < 0) {
		free(c);
		return;
	}
	c->g = g;
	g->handles++;
	/* Linked first: conn_maybe_free() unlinks it */
	c->next = g->conns;
	if (g->conns)
		g->conns->prev = c;
	g->conns = c;
	g->nconns++;
	pool->nflows++;
	g->stats.tcp_active = g->nconns;
	c->f = fw;
	c->v6 = v6;
	c->host_port = fw->host_port;
	c->ns_port = fw->ns_port;
	fw->st.active++;
	if (uv_accept(l, (uv_stream_t *)&c->sp.sock)) {
		splice_end(&c->sp, false, false);
		return;
	}
	uv_tcp_nodelay(&c->sp.sock, 1);
	if (pool->nflows > pool->max_flows) {
		g->stats.tcp_limit++;
		fw->st.refused++;
		splice_end(&c->sp, false, true);
		return;
	}
	g->stats.tcp_accepted++;
	fw->st.total++;
	c->connecting = true;
	struct tapir_addr ns = ns_of(g, v6);
	int rc = tapir_tcp_connect(g->env.st, &ns, fw->ns_port, &pool->opts, on_ns_connected, c);
	if (rc) {
		c->connecting = false;
		g->stats.tcp_limit++;
		fw->st.refused++;
		splice_end(&c->sp, false, true);
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
	g->env.pool->nflows--;
	g->stats.udp_active = g->nflows;
	free(u);
}

/* From the namespace to a flow's port */
static void uflow_rx(void *ctx, const struct tapir_udp_meta *m, const uint8_t *data, size_t len)
{
	struct uflow *u = ctx;
	struct fwd *fw = u->f;
	struct gw_fwd *g = fw->g;
	struct tapir_addr ns = ns_of(g, u->v6);
	if (!tapir_addr_eq(&m->src, &ns) || m->src_port != fw->ns_port) {
		g->stats.udp_foreign++;
		return;
	}
	u->last = uv_hrtime();
	uv_buf_t b = uv_buf_init((char *)data, (unsigned)len);
	if (uv_udp_try_send(&fw->h[u->v6].udp, &b, 1, &u->peer.sa) < 0)
		g->stats.udp_send_errors++;
	else
		fw->st.bytes_out += len;
}

static void udp_alloc(uv_handle_t *h, size_t hint, uv_buf_t *b)
{
	struct fwd *fw = h->data;
	*b = uv_buf_init((char *)fw->g->udp_buf, sizeof(fw->g->udp_buf));
}

static struct uflow *uflow_new(struct fwd *fw, const struct sockaddr *peer)
{
	struct gw_fwd *g = fw->g;
	if (g->env.pool->nflows >= g->env.pool->max_flows) {
		g->stats.udp_limit++;
		fw->st.refused++;
		return NULL;
	}
	struct uflow *u = calloc(1, sizeof(*u));
	if (!u)
		return NULL;
	u->f = fw;
	u->v6 = peer->sa_family == AF_INET6;
	if (u->v6)
		u->peer.in6 = *(const struct sockaddr_in6 *)peer;
	else
		u->peer.in = *(const struct sockaddr_in *)peer;
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
			g->env.pool->nflows++;
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
	bool v6 = h == &fw->h[1].udp;
	if (n < 0 || !addr || addr->sa_family != (v6 ? AF_INET6 : AF_INET) ||
	    (flags & UV_UDP_PARTIAL))
		return;
	struct uflow *u = fw->flows;
	if (v6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)addr;
		while (u && (!u->v6 || u->peer.in6.sin6_port != s6->sin6_port ||
			     memcmp(&u->peer.in6.sin6_addr, &s6->sin6_addr, 16)))
			u = u->next;
	} else {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)addr;
		while (u && (u->v6 || u->peer.in.sin_addr.s_addr != sin->sin_addr.s_addr ||
			     u->peer.in.sin_port != sin->sin_port))
			u = u->next;
	}
	if (!u && !(u = uflow_new(fw, addr)))
		return;
	u->last = uv_hrtime();
	struct tapir_addr ns = ns_of(g, v6);
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
			if (now - u->last > g->env.udp_idle_ns) {
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
	if (--fw->nh == 0)
		free(fw);
	handle_closed(g);
}

static void fwd_close(struct fwd *fw)
{
	for (int i = 0; i < 2; i++)
		if (fw->has[i])
			uv_close((uv_handle_t *)&fw->h[i], fwd_closed);
}

/* Listen on one family's address (@i: 0 IPv4, 1 IPv6).  Return: 0 or a libuv
 * error (the handle is then closing) */
static int fwd_listen(struct fwd *fw, int i, char *err, size_t errlen)
{
	struct gw_fwd *g = fw->g;
	union {
		struct sockaddr sa;
		struct sockaddr_in in;
		struct sockaddr_in6 in6;
	} a = { 0 };
	if (i == 0) {
		a.in.sin_family = AF_INET;
		a.in.sin_port = htons(fw->host_port);
		a.in.sin_addr.s_addr = htonl(g->env.bind_addr);
	} else {
		a.in6.sin6_family = AF_INET6;
		a.in6.sin6_port = htons(fw->host_port);
		memcpy(&a.in6.sin6_addr, g->env.bind_addr6, 16);
	}
	int rc;
	if (fw->proto == GW_FWD_TCP) {
		uv_tcp_init(g->env.loop, &fw->h[i].tcp);
		fw->h[i].tcp.data = fw;
		rc = uv_tcp_bind(&fw->h[i].tcp, &a.sa, i ? UV_TCP_IPV6ONLY : 0);
		if (!rc)
			rc = uv_listen((uv_stream_t *)&fw->h[i].tcp, 128, on_tcp_connection);
	} else {
		uv_udp_init(g->env.loop, &fw->h[i].udp);
		fw->h[i].udp.data = fw;
		rc = uv_udp_bind(&fw->h[i].udp, &a.sa, i ? UV_UDP_IPV6ONLY : 0);
		if (!rc)
			rc = uv_udp_recv_start(&fw->h[i].udp, udp_alloc, udp_recv);
	}
	g->handles++;
	fw->nh++;
	if (rc) {
		char ab[INET6_ADDRSTRLEN];
		if (i == 0)
			uv_ip4_name(&a.in, ab, sizeof(ab));
		else
			uv_ip6_name(&a.in6, ab, sizeof(ab));
		snprintf(err, errlen, i ? "%s [%s]:%u: %s" : "%s %s:%u: %s",
			 fw->proto == GW_FWD_TCP ? "tcp" : "udp", ab, fw->host_port,
			 uv_strerror(rc));
		uv_close((uv_handle_t *)&fw->h[i], fwd_closed);
		return rc;
	}
	fw->has[i] = true;
	return 0;
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
	int rc = 0;
	if (g->env.v4 && (rc = fwd_listen(fw, 0, err, errlen))) {
		/* fwd_closed() frees it */
		return rc;
	}
	if (g->env.v6) {
		char e6[160];
		int rc6 = fwd_listen(fw, 1, e6, sizeof(e6));
		if (rc6 && g->env.v4 && (rc6 == UV_EADDRNOTAVAIL || rc6 == UV_EAFNOSUPPORT)) {
			tapir_log_warn(g->env.log, "gateway: forward %s: no IPv6 listener", e6);
		} else if (rc6) {
			snprintf(err, errlen, "%s", e6);
			if (fw->has[0]) {
				fw->has[0] = false;
				uv_close((uv_handle_t *)&fw->h[0], fwd_closed);
			}
			return rc6;
		}
	}
	if (!fw->has[0] && !fw->has[1]) {
		snprintf(err, errlen, "%s/%u: no address to listen on", pn, host_port);
		free(fw);
		return -EINVAL;
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
	fwd_close(fw);
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
		for (const struct fconn *c = g->conns; c; c = c->next)
			if (c->f == fw) {
				out[n].bytes_in += c->sp.bytes_to_ns;
				out[n].bytes_out += c->sp.bytes_to_host;
			}
		out[n].proto = fw->proto;
		out[n].host_port = fw->host_port;
		out[n].ns_port = fw->ns_port;
		out[n].from_config = fw->from_config;
		out[n].v4 = fw->has[0];
		out[n].v6 = fw->has[1];
		n++;
	}
	return n;
}

void gw_fwd_get_stats(const struct gw_fwd *g, struct gw_fwd_stats *s)
{
	*s = g->stats;
}

void gw_fwd_each_conn(const struct gw_fwd *g,
		      void (*fn)(void *ctx, const struct gw_fwd_conn_info *ci), void *ctx)
{
	for (const struct fconn *c = g->conns; c; c = c->next) {
		struct gw_fwd_conn_info ci = { .host_port = c->host_port, .ns_port = c->ns_port,
					       .v6 = c->v6,
					       .bytes_to_ns = c->sp.bytes_to_ns,
					       .bytes_to_host = c->sp.bytes_to_host };
		int len = sizeof(ci.peer);
		if (c->sp.closing || uv_tcp_getpeername(&c->sp.sock, (struct sockaddr *)&ci.peer,
							&len))
			ci.peer.ss_family = 0;
		ci.state = c->sp.closing ? "CLOSING" : c->connecting ? "CONNECTING" : "OPEN";
		fn(ctx, &ci);
	}
}

void gw_fwd_free(struct gw_fwd *g)
{
	if (!g)
		return;
	while (g->fwds)
		fwd_remove(g, &g->fwds);
	g->freeing = true;
	for (struct fconn *c = g->conns, *next; c; c = next) {
		next = c->next;
		if (c->connecting) {
			tapir_tcp_connect_cancel(g->env.st, on_ns_connected, c);
			c->connecting = false;
		}
		if (c->sp.closing)
			conn_maybe_free(c);
		else
			splice_end(&c->sp, true, true);
	}
	uv_close((uv_handle_t *)&g->sweep, sweep_closed);
}
