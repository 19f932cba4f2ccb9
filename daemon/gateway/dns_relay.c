/*
 * dns_relay.c - the gateway's DNS relay: the namespace's queries to the host's resolvers and back
 *
 * Theory of operation
 *
 * UDP: the stack's port 53 takes each datagram; relay_msg_parse() must find a
 * query (QR clear) with one sane question, else it is dropped and counted
 * (bad_queries).  A free slot of the pending table (DNS_RELAY_MAX_PENDING;
 * full: dropped, pending_full) takes the client's address, port and ID, a
 * copy of the question and of the query with a fresh random ID, and a fresh
 * host UDP socket (the kernel's random port; an AF_INET6 dual-stack one when
 * any server is IPv6, IPv4 servers then as ::ffff:a.b.c.d), from which the
 * query goes to the first server.  Clients and servers may be of either
 * family (the stack's port 53 listens on both).  An answer counts only from a server we asked, with the
 * fresh ID and the same question (else bad_answers, and the slot waits on);
 * it goes back to the client with its own ID from port 53.  A truncated
 * answer (TC) goes back as it came (the client retries over TCP, below);
 * one without its question (QDCOUNT 0: some servers) counts with the server
 * and the ID alone and goes back with the question put in.  Every
 * DNS_RELAY_TRY_NS without an answer the query goes to the next server, up
 * to DNS_RELAY_TRIES; then the client gets SERVFAIL (timeouts).
 *
 * TCP (RFC 7766): the stack's port 53 accepts up to DNS_RELAY_MAX_TCP_CLIENTS
 * flows; each reads two-byte-length-framed messages into a buffer of at
 * most 2 + 65535 bytes and handles one query at a time (reading pauses
 * while it is in flight): a pending slot with a host TCP connection to the
 * first server, the framed query with a fresh ID, the framed answer read
 * back (at most 65535 bytes), checked as for UDP, and written to the client
 * with its ID; no answer in DNS_RELAY_TCP_NS: SERVFAIL.  The client's EOF
 * closes the flow once its query is answered.
 *
 * A slot is free again once its host socket's close callback ran.  One
 * timer (every 250 ms while anything is pending) runs the deadlines.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dns_msg.h"
#include "dns_relay.h"
#include "tapir/tcp.h"
#include "tapir/udp.h"

#define DNS_PORT 53

struct tclient;

struct pend {
	struct dns_relay *r;
	enum { P_FREE, P_BUSY, P_CLOSING } state;
	bool tcp;
	union {
		uv_udp_t udp;
		uv_tcp_t tcp;
	} h;
	uv_connect_t conn;
	uv_write_t w;
	struct tapir_addr client;
	uint16_t cport, orig_id, new_id;
	struct tclient *tc;           /* TCP: the client flow */
	uint8_t q[DNS_QUESTION_MAX];
	size_t qlen;
	uint8_t *msg;                 /* the query, fresh ID (TCP: framed) */
	size_t len;
	uint8_t *ans;                 /* TCP: the framed answer read so far */
	size_t ansgot;
	uint64_t deadline;
	unsigned tries;
	struct tapir_addr asked[DNS_RELAY_TRIES];
};

struct tclient {
	struct tclient *next;
	struct dns_relay *r;
	struct tapir_tcp_flow *flow;
	uint8_t in[2 + 65535];
	size_t inlen;
	uint8_t *out;                 /* the framed answer being written */
	size_t outlen, outoff;
	struct pend *busy;            /* the query in flight */
	bool eof;
};

struct dns_relay {
	struct dns_relay_env env;
	struct pend pend[DNS_RELAY_MAX_PENDING];
	struct tclient *clients;
	size_t nclients;
	unsigned next_server;
	uv_timer_t timer;
	size_t handles;               /* the timer and the slots' sockets */
	bool stopping;
	struct dns_relay_stats stats;
	uint8_t buf[65536];
};

static void kick(struct dns_relay *r)
{
	if (r->env.kick && !r->stopping)
		r->env.kick(r->env.ctx);
}

static void handle_gone(struct dns_relay *r)
{
	if (--r->handles == 0 && r->stopping)
		free(r);
}

static uint16_t random16(void)
{
	uint16_t v = 0;
	uv_random(NULL, NULL, &v, sizeof(v), 0, NULL);
	return v;
}

/* ---- slots ---- */

static void slot_closed(uv_handle_t *h)
{
	struct pend *p = h->data;
	struct dns_relay *r = p->r;
	free(p->msg);
	free(p->ans);
	p->msg = p->ans = NULL;
	p->state = P_FREE;
	handle_gone(r);
}

static void tclient_answer(struct tclient *c, const uint8_t *msg, size_t len);

/* Finish a slot: @answer (fresh ID, @len bytes) or NULL for SERVFAIL */
static void slot_done(struct pend *p, uint8_t *answer, size_t len)
{
	struct dns_relay *r = p->r;
	if (p->state != P_BUSY)
		return;
	p->state = P_CLOSING;
	r->stats.pending--;
	uint8_t fail[DNS_HEADER_LEN + DNS_QUESTION_MAX];
	if (!answer) {
		r->stats.timeouts++;
		struct relay_msg_info qi;
		const uint8_t *q = p->tcp ? p->msg + 2 : p->msg;
		memcpy(fail, q, DNS_HEADER_LEN);
		memcpy(fail + DNS_HEADER_LEN, p->q, p->qlen);
		qi.question_len = p->qlen;
		len = relay_msg_servfail(fail, &qi);
		answer = fail;
	} else {
		r->stats.answers++;
	}
	relay_msg_set_id(answer, p->orig_id);
	if (p->tc) {
		p->tc->busy = NULL;
		tclient_answer(p->tc, answer, len);
		p->tc = NULL;
	} else if (tapir_udp_sendto(r->env.st, DNS_PORT, &p->client, p->cport, 0, answer, len) < 0) {
		r->stats.upstream_errors++;
	}
	uv_close((uv_handle_t *)&p->h, slot_closed);
}

static bool asked(const struct pend *p, const struct tapir_addr *from)
{
	bool yes = false;
	for (unsigned i = 0; i < p->tries && i < DNS_RELAY_TRIES; i++)
		yes |= tapir_addr_eq(&p->asked[i], from);
	return yes;
}

/* An answer from the host: the server, the fresh ID and the question must match */
static bool answer_ok(struct pend *p, const struct tapir_addr *from, const uint8_t *msg,
		      size_t len)
{
	struct relay_msg_info a;
	if (!asked(p, from) || relay_msg_parse(msg, len, &a) || !a.qr || a.id != p->new_id ||
	    !relay_question_eq(a.question, a.question_len, p->q, p->qlen)) {
		p->r->stats.bad_answers++;
		return false;
	}
	return true;
}

static void on_timer(uv_timer_t *t);

static struct pend *slot_new(struct dns_relay *r, const uint8_t *msg, size_t len,
			     const struct relay_msg_info *qi, bool tcp)
{
	struct pend *p = NULL;
	for (size_t i = 0; i < DNS_RELAY_MAX_PENDING && !p; i++)
		if (r->pend[i].state == P_FREE)
			p = &r->pend[i];
	if (!p) {
		r->stats.pending_full++;
		return NULL;
	}
	size_t off = tcp ? 2 : 0;
	p->msg = malloc(len + off);
	if (!p->msg)
		return NULL;
	p->r = r;
	p->tcp = tcp;
	p->tc = NULL;
	p->len = len + off;
	memcpy(p->msg + off, msg, len);
	if (tcp) {
		p->msg[0] = (uint8_t)(len >> 8);
		p->msg[1] = (uint8_t)len;
	}
	p->orig_id = qi->id;
	p->new_id = random16();
	relay_msg_set_id(p->msg + off, p->new_id);
	memcpy(p->q, qi->question, qi->question_len);
	p->qlen = qi->question_len;
	p->ans = NULL;
	p->ansgot = 0;
	p->tries = 0;
	p->state = P_BUSY;
	r->stats.pending++;
	if (!uv_is_active((uv_handle_t *)&r->timer))
		uv_timer_start(&r->timer, on_timer, 250, 250);
	return p;
}

/* A server's socket address; @v6sock: for an AF_INET6 socket (IPv4 as
 * ::ffff:a.b.c.d, a dual-stack socket) */
static struct sockaddr_storage server_addr(const struct tapir_addr *a, bool v6sock)
{
	struct sockaddr_storage ss;
	memset(&ss, 0, sizeof(ss));
	if (a->family == TAPIR_AF_INET && !v6sock) {
		struct sockaddr_in *s = (struct sockaddr_in *)&ss;
		s->sin_family = AF_INET;
		s->sin_port = htons(DNS_PORT);
		s->sin_addr.s_addr = htonl(a->v4);
		return ss;
	}
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
	s6->sin6_family = AF_INET6;
	s6->sin6_port = htons(DNS_PORT);
	if (a->family == TAPIR_AF_INET) {
		s6->sin6_addr.s6_addr[10] = s6->sin6_addr.s6_addr[11] = 0xff;
		s6->sin6_addr.s6_addr[12] = (uint8_t)(a->v4 >> 24);
		s6->sin6_addr.s6_addr[13] = (uint8_t)(a->v4 >> 16);
		s6->sin6_addr.s6_addr[14] = (uint8_t)(a->v4 >> 8);
		s6->sin6_addr.s6_addr[15] = (uint8_t)a->v4;
	} else {
		memcpy(&s6->sin6_addr, a->v6, 16);
	}
	return ss;
}

/* Where an answer came from, IPv4-mapped IPv6 as IPv4.  Return: false if neither family */
static bool from_addr(const struct sockaddr *sa, struct tapir_addr *out)
{
	if (sa->sa_family == AF_INET) {
		*out = tapir_addr_v4(ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr));
		return true;
	}
	if (sa->sa_family != AF_INET6)
		return false;
	const uint8_t *b = ((const struct sockaddr_in6 *)sa)->sin6_addr.s6_addr;
	if (IN6_IS_ADDR_V4MAPPED(&((const struct sockaddr_in6 *)sa)->sin6_addr)) {
		*out = tapir_addr_v4((uint32_t)b[12] << 24 | (uint32_t)b[13] << 16 |
				     (uint32_t)b[14] << 8 | b[15]);
		return true;
	}
	out->family = TAPIR_AF_INET6;
	memcpy(out->v6, b, 16);
	return true;
}

/* Does the relay need an IPv6 (dual-stack) upstream socket: any IPv6 server? */
static bool servers_v6(const struct dns_relay *r)
{
	for (size_t i = 0; i < r->env.nservers; i++)
		if (r->env.servers[i].family == TAPIR_AF_INET6)
			return true;
	return false;
}

/* ---- UDP ---- */

static void up_alloc(uv_handle_t *h, size_t hint, uv_buf_t *b)
{
	struct pend *p = h->data;
	*b = uv_buf_init((char *)p->r->buf, sizeof(p->r->buf));
}

static void up_udp_recv(uv_udp_t *h, ssize_t n, const uv_buf_t *b, const struct sockaddr *addr,
			unsigned flags)
{
	struct pend *p = h->data;
	struct tapir_addr from;
	if (n <= 0 || !addr || !from_addr(addr, &from) || p->state != P_BUSY ||
	    (flags & UV_UDP_PARTIAL))
		return;
	uint16_t id;
	if (relay_msg_bare_tc((const uint8_t *)b->base, (size_t)n, &id)) {
		/* truncated, without the question: matched by server and ID, and
		 * given back with the question so the client's stub takes it */
		if (!asked(p, &from) || id != p->new_id) {
			p->r->stats.bad_answers++;
			return;
		}
		uint8_t tc[DNS_HEADER_LEN + DNS_QUESTION_MAX];
		slot_done(p, tc, relay_msg_tc_answer(tc, (const uint8_t *)b->base, p->q, p->qlen));
		kick(p->r);
		return;
	}
	if (!answer_ok(p, &from, (const uint8_t *)b->base, (size_t)n))
		return;
	slot_done(p, (uint8_t *)b->base, (size_t)n);
	kick(p->r);
}

/* Send the query to the next server.  Return: 0 or negative errno */
static int udp_try(struct pend *p)
{
	struct dns_relay *r = p->r;
	const struct tapir_addr *srv =
		&r->env.servers[(r->next_server + p->tries) % r->env.nservers];
	struct sockaddr_storage sa = server_addr(srv, servers_v6(r));
	uv_buf_t b = uv_buf_init((char *)p->msg, (unsigned)p->len);
	p->asked[p->tries++] = *srv;
	p->deadline = uv_hrtime() + DNS_RELAY_TRY_NS;
	int rc = uv_udp_try_send(&p->h.udp, &b, 1, (const struct sockaddr *)&sa);
	return rc < 0 ? rc : 0;
}

static void on_udp_query(void *ctx, const struct tapir_udp_meta *m, const uint8_t *data,
			 size_t len)
{
	struct dns_relay *r = ctx;
	struct relay_msg_info qi;
	if (relay_msg_parse(data, len, &qi) || qi.qr || m->broadcast || m->multicast) {
		r->stats.bad_queries++;
		return;
	}
	struct pend *p = slot_new(r, data, len, &qi, false);
	if (!p)
		return;
	p->client = m->src;
	p->cport = m->src_port;
	uv_udp_init(r->env.loop, &p->h.udp);
	p->h.udp.data = p;
	r->handles++;
	struct sockaddr_in any = { .sin_family = AF_INET };
	struct sockaddr_in6 any6 = { .sin6_family = AF_INET6 };
	int rc = servers_v6(r) ? uv_udp_bind(&p->h.udp, (const struct sockaddr *)&any6, 0)
			       : uv_udp_bind(&p->h.udp, (const struct sockaddr *)&any, 0);
	if (!rc)
		rc = uv_udp_recv_start(&p->h.udp, up_alloc, up_udp_recv);
	if (!rc)
		rc = udp_try(p);
	r->stats.queries_udp++;
	if (rc) {
		r->stats.upstream_errors++;
		slot_done(p, NULL, 0);
	}
	r->next_server++;
}

/* ---- TCP: upstream ---- */

static void up_tcp_alloc(uv_handle_t *h, size_t hint, uv_buf_t *b)
{
	struct pend *p = h->data;
	if (!p->ans)
		p->ans = malloc(2 + 65535);
	*b = uv_buf_init((char *)p->ans + p->ansgot, p->ans ? (unsigned)(2 + 65535 - p->ansgot) : 0);
}

static void up_tcp_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
	struct pend *p = s->data;
	if (p->state != P_BUSY || n == 0)
		return;
	if (n < 0) {
		p->r->stats.upstream_errors++;
		slot_done(p, NULL, 0);
		kick(p->r);
		return;
	}
	p->ansgot += (size_t)n;
	if (p->ansgot < 2)
		return;
	size_t want = (size_t)(p->ans[0] << 8 | p->ans[1]);
	if (p->ansgot < 2 + want)
		return;
	if (!answer_ok(p, &p->asked[0], p->ans + 2, want)) {
		slot_done(p, NULL, 0);
	} else {
		slot_done(p, p->ans + 2, want);
	}
	kick(p->r);
}

static void up_tcp_written(uv_write_t *w, int status)
{
	struct pend *p = w->data;
	if (status < 0 && p->state == P_BUSY) {
		p->r->stats.upstream_errors++;
		slot_done(p, NULL, 0);
		kick(p->r);
	}
}

static void up_tcp_connected(uv_connect_t *c, int status)
{
	struct pend *p = c->data;
	if (p->state != P_BUSY)
		return;
	uv_buf_t b = uv_buf_init((char *)p->msg, (unsigned)p->len);
	p->w.data = p;
	if (status < 0 || uv_write(&p->w, (uv_stream_t *)&p->h.tcp, &b, 1, up_tcp_written) ||
	    uv_read_start((uv_stream_t *)&p->h.tcp, up_tcp_alloc, up_tcp_read)) {
		p->r->stats.upstream_errors++;
		slot_done(p, NULL, 0);
		kick(p->r);
	}
}

/* ---- TCP: the namespace's clients ---- */

static void tclient_free(struct tclient *c)
{
	struct dns_relay *r = c->r;
	for (struct tclient **pp = &r->clients; *pp; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	r->nclients--;
	if (c->busy)
		c->busy->tc = NULL;
	if (c->flow)
		tapir_tcp_close(c->flow);
	free(c->out);
	free(c);
}

static void tclient_next(struct tclient *c);

static void tclient_flush(struct tclient *c)
{
	while (c->out && c->outoff < c->outlen) {
		long n = tapir_tcp_write(c->flow, c->out + c->outoff, c->outlen - c->outoff);
		if (n == 0 || n == -ENOBUFS)
			return;
		if (n < 0) {
			tclient_free(c);
			return;
		}
		c->outoff += (size_t)n;
	}
	free(c->out);
	c->out = NULL;
	tclient_next(c);
}

static void tclient_answer(struct tclient *c, const uint8_t *msg, size_t len)
{
	c->out = malloc(len + 2);
	if (!c->out) {
		tclient_free(c);
		return;
	}
	c->out[0] = (uint8_t)(len >> 8);
	c->out[1] = (uint8_t)len;
	memcpy(c->out + 2, msg, len);
	c->outlen = len + 2;
	c->outoff = 0;
	tclient_flush(c);
}

/* The next framed query, if one is whole and nothing is in flight */
static void tclient_next(struct tclient *c)
{
	struct dns_relay *r = c->r;
	while (!c->busy && !c->out) {
		if (c->inlen < 2 || c->inlen < 2 + (size_t)(c->in[0] << 8 | c->in[1])) {
			if (c->eof) {
				tclient_free(c);
				return;
			}
			tapir_tcp_read_pause(c->flow, false);
			return;
		}
		size_t len = (size_t)(c->in[0] << 8 | c->in[1]);
		struct relay_msg_info qi;
		struct pend *p = NULL;
		bool bad = relay_msg_parse(c->in + 2, len, &qi) || qi.qr;
		if (bad)
			r->stats.bad_queries++;
		else
			p = slot_new(r, c->in + 2, len, &qi, true);  /* copies the query */
		memmove(c->in, c->in + 2 + len, c->inlen - 2 - len);
		c->inlen -= 2 + len;
		if (bad)
			continue;
		if (!p) {  /* no slot: close, as a busy server does (RFC 7766 6.2.3) */
			tclient_free(c);
			return;
		}
		r->stats.queries_tcp++;
		p->tc = c;
		c->busy = p;
		uv_tcp_init(r->env.loop, &p->h.tcp);
		p->h.tcp.data = p;
		r->handles++;
		const struct tapir_addr *srv = &r->env.servers[r->next_server++ % r->env.nservers];
		struct sockaddr_storage sa = server_addr(srv, false);
		p->asked[0] = *srv;
		p->tries = 1;
		p->deadline = uv_hrtime() + DNS_RELAY_TCP_NS;
		p->conn.data = p;
		if (uv_tcp_connect(&p->conn, &p->h.tcp, (const struct sockaddr *)&sa,
				   up_tcp_connected)) {
			r->stats.upstream_errors++;
			slot_done(p, NULL, 0);  /* answers (SERVFAIL); may free @c */
			return;
		}
	}
	if (c->busy)
		tapir_tcp_read_pause(c->flow, true);
}

static void tc_recv(void *ctx, struct tapir_tcp_flow *f, const uint8_t *data, size_t len)
{
	struct tclient *c = ctx;
	if (len == 0) {
		c->eof = true;
		if (!c->busy && !c->out)
			tclient_next(c);
		return;
	}
	if (len > sizeof(c->in) - c->inlen) {  /* more than a whole message ahead: a bad client */
		c->r->stats.bad_queries++;
		tapir_tcp_abort(c->flow);
		c->flow = NULL;
		tclient_free(c);
		return;
	}
	memcpy(c->in + c->inlen, data, len);
	c->inlen += len;
	if (!c->busy && !c->out)
		tclient_next(c);
	else
		tapir_tcp_read_pause(f, true);
}

static void tc_writable(void *ctx, struct tapir_tcp_flow *f)
{
	struct tclient *c = ctx;
	if (c->out)
		tclient_flush(c);
}

static void tc_closed(void *ctx, struct tapir_tcp_flow *f, int err)
{
	struct tclient *c = ctx;
	if (err < 0 || !c->busy)
		tclient_free(c);
	else
		c->eof = true;
}

static const struct tapir_tcp_callbacks tc_cbs = {
	.recv = tc_recv, .writable = tc_writable, .closed = tc_closed,
};

static void on_tcp_client(void *ctx, struct tapir_tcp_flow *f)
{
	struct dns_relay *r = ctx;
	if (r->nclients >= DNS_RELAY_MAX_TCP_CLIENTS) {
		r->stats.tcp_clients_full++;
		tapir_tcp_abort(f);
		return;
	}
	struct tclient *c = calloc(1, sizeof(*c));
	if (!c) {
		tapir_tcp_abort(f);
		return;
	}
	c->r = r;
	c->flow = f;
	c->next = r->clients;
	r->clients = c;
	r->nclients++;
	tapir_tcp_flow_set_callbacks(f, &tc_cbs, c);
}

/* ---- deadlines ---- */

static void on_timer(uv_timer_t *t)
{
	struct dns_relay *r = t->data;
	uint64_t now = uv_hrtime();
	bool any = false;
	for (size_t i = 0; i < DNS_RELAY_MAX_PENDING; i++) {
		struct pend *p = &r->pend[i];
		if (p->state != P_BUSY)
			continue;
		if (now >= p->deadline) {
			if (!p->tcp && p->tries < DNS_RELAY_TRIES && r->env.nservers > 1 &&
			    udp_try(p) == 0) {
				any = true;
				continue;
			}
			slot_done(p, NULL, 0);
			continue;
		}
		any = true;
	}
	if (!any)
		uv_timer_stop(t);
	kick(r);
}

/* ---- start, stop ---- */

static void timer_gone(uv_handle_t *h)
{
	handle_gone(h->data);
}

int dns_relay_start(const struct dns_relay_env *env, struct dns_relay **out, char *err,
		    size_t errlen)
{
	if (!env->nservers || env->nservers > DNS_RELAY_MAX_SERVERS) {
		snprintf(err, errlen, "no DNS server to relay to ([gateway] dns, resolv.conf)");
		return -EINVAL;
	}
	struct dns_relay *r = calloc(1, sizeof(*r));
	if (!r) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	r->env = *env;
	int rc = tapir_udp_listen(env->st, DNS_PORT, on_udp_query, r);
	if (!rc) {
		rc = tapir_tcp_listen(env->st, DNS_PORT, NULL, on_tcp_client, r);
		if (rc)
			tapir_udp_unlisten(env->st, DNS_PORT);
	}
	if (rc) {
		snprintf(err, errlen, "port 53 on the stack: %s", strerror(-rc));
		free(r);
		return rc;
	}
	uv_timer_init(env->loop, &r->timer);
	r->timer.data = r;
	r->handles = 1;
	*out = r;
	return 0;
}

void dns_relay_stop(struct dns_relay *r)
{
	if (!r)
		return;
	tapir_udp_unlisten(r->env.st, DNS_PORT);
	tapir_tcp_unlisten(r->env.st, DNS_PORT);
	while (r->clients) {
		struct tclient *c = r->clients;
		if (c->busy) {
			c->busy->tc = NULL;
			c->busy = NULL;
		}
		tclient_free(c);
	}
	r->stopping = true;
	for (size_t i = 0; i < DNS_RELAY_MAX_PENDING; i++)
		if (r->pend[i].state == P_BUSY) {
			r->pend[i].state = P_CLOSING;
			uv_close((uv_handle_t *)&r->pend[i].h, slot_closed);
		}
	uv_close((uv_handle_t *)&r->timer, timer_gone);
}

void dns_relay_get_stats(const struct dns_relay *r, struct dns_relay_stats *s)
{
	*s = r->stats;
}
