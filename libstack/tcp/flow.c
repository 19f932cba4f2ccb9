/*
 * flow.c - TCP flow table and lifecycle: lookup, creation (ISNs, window scale),
 * ephemeral ports, teardown, deferred free, the SYN queue and orphan lists and
 * their limits; tcp_init() and tcp_fini()
 */
#include <errno.h>
#include <stdlib.h>

#include "tcp/tcp_conn.h"

/* ---- flow table ---- */

static size_t hash_idx(const struct tcp_stack *t, const struct tcp_ip *laddr,
		       const struct tcp_ip *raddr, uint16_t rport, uint16_t lport)
{
	uint64_t h = tuple_hash(t->hash_key, laddr, raddr, rport, lport);

	return (size_t)(h >> 32) & t->hmask;
}

struct tapir_tcp_flow *tcp_flow_lookup(const struct tcp_stack *t, const struct tcp_ip *laddr,
				       const struct tcp_ip *raddr, uint16_t rport, uint16_t lport)
{
	for (struct tapir_tcp_flow *f = t->hash[hash_idx(t, laddr, raddr, rport, lport)]; f;
	     f = f->hnext)
		if (f->rport == rport && f->lport == lport && tcp_ip_eq(&f->raddr, raddr) &&
		    tcp_ip_eq(&f->laddr, laddr))
			return f;
	return NULL;
}

static void hash_remove(struct tcp_stack *t, struct tapir_tcp_flow *f)
{
	struct tapir_tcp_flow **pp = &t->hash[hash_idx(t, &f->laddr, &f->raddr, f->rport, f->lport)];

	if (!f->in_hash)
		return;
	while (*pp && *pp != f)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = f->hnext;
	f->in_hash = false;
}

struct tcp_listener *tcp_listener_find(const struct tcp_stack *t, uint16_t port, uint8_t family)
{
	for (size_t i = 0; i < t->nlsn; i++)
		if (t->lsn[i]->port == port &&
		    (!family || !t->lsn[i]->family || t->lsn[i]->family == family))
			return t->lsn[i];
	return NULL;
}

/* ---- addresses ---- */

struct tapir_addr tcp_ip_to_addr(const struct tcp_ip *a, bool v4mapped)
{
	struct tapir_addr out = { .family = TAPIR_AF_INET6 };

	if (tcp_ip_is4(a) && !v4mapped)
		return tapir_addr_v4(tcp_ip_v4(a));
	memcpy(out.v6, a->b, 16);
	return out;
}

bool tcp_ip_from_addr(struct tcp_ip *out, const struct tapir_addr *a)
{
	if (a->family == TAPIR_AF_INET) {
		*out = tcp_ip4(a->v4);
		return true;
	}
	if (a->family == TAPIR_AF_INET6) {
		*out = tcp_ip6(a->v6);
		return true;
	}
	return false;
}

size_t tcp_path_mtu(struct tapir_stack *st, const struct tcp_ip *dst)
{
	return tcp_ip_is4(dst) ? tapir_ipv4_mtu(st, tcp_ip_v4(dst)) : tapir_ipv6_mtu(st, dst->b);
}

uint64_t tcp_tuple_sip(const uint64_t key[2], const struct tcp_ip *laddr,
		       const struct tcp_ip *raddr, uint16_t rport, uint16_t lport, uint64_t tag)
{
	uint8_t m[44];

	memcpy(m, raddr->b, 16);
	memcpy(m + 16, laddr->b, 16);
	put_be16(m + 32, rport);
	put_be16(m + 34, lport);
	memcpy(m + 36, &tag, 8);
	return siphash24(key, m, sizeof(m));
}

/* ---- lists kept oldest first: half-open flows, orphans ---- */

static void lq_add(struct tapir_tcp_flow *f, enum tcp_lq q)
{
	struct tcp_stack *t = T(f->st);

	if (f->lq || f->zombie)  /* (a zombie's lnext is its znext) */
		return;
	f->lq = (uint8_t)q;
	f->lnext = NULL;
	f->lprev = t->lq_tail[q];
	if (t->lq_tail[q])
		t->lq_tail[q]->lnext = f;
	else
		t->lq_head[q] = f;
	t->lq_tail[q] = f;
	t->lq_n[q]++;
}

static void lq_remove(struct tapir_tcp_flow *f)
{
	struct tcp_stack *t = T(f->st);
	unsigned q = f->lq;

	if (!q)
		return;
	if (f->lprev)
		f->lprev->lnext = f->lnext;
	else
		t->lq_head[q] = f->lnext;
	if (f->lnext)
		f->lnext->lprev = f->lprev;
	else
		t->lq_tail[q] = f->lprev;
	f->lnext = f->lprev = NULL;
	f->lq = TCP_LQ_NONE;
	t->lq_n[q]--;
}

/* A SYN_RECEIVED flow of listener @l (on the SYN queue until established) */
void tcp_flow_set_listener(struct tapir_tcp_flow *f, struct tcp_listener *l)
{
	f->lsn = l;
	l->nsyn++;
	lq_add(f, TCP_LQ_SYN);
}

/**
 * tcp_synq_evict() - Drop the oldest half-open flow of any listener
 * @st: Stack
 *
 * Makes room in a full table for a connection that proved itself with a SYN
 * cookie (counted as tcp.syn_recv_evicted).
 *
 * Return: true if a flow was dropped
 */
bool tcp_synq_evict(struct tapir_stack *st)
{
	struct tapir_tcp_flow *f = T(st)->lq_head[TCP_LQ_SYN];

	if (!f)
		return false;
	CTR_INC(st, TCP_SYN_RECV_EVICTED);
	f->state = TAPIR_TCP_STATE_CLOSED;
	f->t_rtx = f->t_delack = f->t_ka = f->t_wait = 0;
	tcp_flow_maybe_free(f);
	return true;
}

/* @f was closed by the application and is not over: an orphan */
void tcp_orphan_add(struct tapir_tcp_flow *f)
{
	if (f->state == TAPIR_TCP_STATE_CLOSED || f->zombie || f->lq)
		return;
	f->probe_una = f->snd_una;
	f->orphan_probes = 0;
	lq_add(f, TCP_LQ_ORPHAN);
}

/* Reset the oldest orphans while there are more than max_orphans. */
void tcp_orphans_limit(struct tapir_stack *st)
{
	struct tcp_stack *t = T(st);

	while (t->lq_n[TCP_LQ_ORPHAN] > st->cfg.tcp.max_orphans) {
		struct tapir_tcp_flow *f = t->lq_head[TCP_LQ_ORPHAN];

		CTR_INC(st, TCP_ORPHANS_RESET);
		tcp_send_rst(f);
		lq_remove(f);
		tcp_flow_drop(f, -ECONNABORTED);
	}
}

static void flow_free_mem(struct tapir_tcp_flow *f)
{
	tcp_mem_add(f->st, -(long)(f->scap + f->rcap + f->ooo.bytes));
	tcp_ooo_clear(&f->ooo);
	free(f->sbuf);
	free(f->rbuf);
	free(f->loss);
	free(f->sb);
	tcp_pool_free(&T(f->st)->pool, f);
}

void tcp_reap(struct tcp_stack *t)
{
	if (t->depth > 0)
		return;
	while (t->zombies) {
		struct tapir_tcp_flow *f = t->zombies;

		t->zombies = f->znext;
		flow_free_mem(f);
	}
	for (size_t i = 0; i < t->ndead; i++)
		free(t->dead_lsn[i]);
	t->ndead = 0;
}

/* Unlink a flow that is over and, if the application let go, free it later. */
void tcp_flow_maybe_free(struct tapir_tcp_flow *f)
{
	struct tcp_stack *t = T(f->st);

	if (f->zombie)
		return;
	if (f->state == TAPIR_TCP_STATE_CLOSED) {
		/* a closed flow no longer owns its 4-tuple, even while the
		 * application still holds it: segments get the closed-port answer */
		hash_remove(t, f);
		tcp_heap_remove(t, f);
		lq_remove(f);
		if (f->mem_wait) {
			f->mem_wait = false;
			t->mem_waiters--;
		}
	}
	if (f->state != TAPIR_TCP_STATE_CLOSED || (f->known && !f->app_closed))
		return;
	if (f->prev)
		f->prev->next = f->next;
	else
		t->all = f->next;
	if (f->next)
		f->next->prev = f->prev;
	if (f->lsn) {
		f->lsn->nsyn--;
		f->lsn = NULL;
	}
	if (!f->uncounted)
		t->nflows--;
	f->zombie = true;
	f->znext = t->zombies;
	t->zombies = f;
}

/**
 * tcp_ephemeral_port() - Pick a free local port for a connection to @dst:@port
 * @st:   Stack
 * @dst:  Remote address
 * @port: Remote port
 *
 * @iss:  Set to the ISS to start from when the port's tuple was taken over
 *        from a TIME_WAIT entry (tcp_tw_take()), else 0
 *
 * A random start in 49152-65535, then linear probing; a port a listener
 * holds is never picked (its peers' SYNs would otherwise meet our flow).
 * A port whose tuple is in TIME_WAIT is taken when tcp_tw_take() allows
 * (as Linux's tcp_tw_reuse), the first such or free port ending the search.
 *
 * Return: the port, or 0 when every one is taken for this remote end
 */
uint16_t tcp_ephemeral_port(struct tapir_stack *st, const struct tcp_ip *laddr,
			    const struct tcp_ip *dst, uint16_t port, uint32_t *iss)
{
	uint32_t start = stack_random32(st);

	*iss = 0;
	for (uint32_t i = 0; i < TCP_EPHEMERAL_N; i++) {
		uint16_t p = (uint16_t)(TCP_EPHEMERAL_LO + (start + i) % TCP_EPHEMERAL_N);
		struct tcp_tw *tw;

		if (tcp_flow_lookup(T(st), laddr, dst, port, p) ||
		    tcp_listener_find(T(st), p, TAPIR_AF_UNSPEC))
			continue;
		tw = tcp_tw_lookup(T(st), laddr, dst, port, p);
		if (!tw || (*iss = tcp_tw_take(st, tw)))
			return p;
	}
	return 0;
}

static uint32_t make_isn(struct tapir_stack *st, const struct tcp_ip *laddr,
			 const struct tcp_ip *raddr, uint16_t rport, uint16_t lport)
{
	struct tcp_stack *t = T(st);
	uint64_t h = tcp_tuple_sip(t->isn_key, laddr, raddr, rport, lport, 0);

	return (uint32_t)h + (uint32_t)(st->now / 4000);
}

/* Start the send sequence space at @iss instead (a TIME_WAIT reuse) */
void tcp_flow_set_iss(struct tapir_tcp_flow *f, uint32_t iss)
{
	f->iss = iss;
	f->snd_una = f->snd_nxt = f->snd_max = iss;
	f->sbuf_seq = f->push_seq = iss + 1;
	f->recover = f->high_sack = f->rexmit_nxt = iss;
}

uint8_t tcp_pick_wscale(size_t rcvbuf)
{
	uint8_t ws = 0;

	while (ws < TCP_MAX_WSCALE && (rcvbuf >> ws) > 65535)
		ws++;
	return ws;
}

struct tapir_tcp_flow *tcp_flow_new(struct tapir_stack *st, const struct tcp_ip *laddr,
				    const struct tcp_ip *raddr, uint16_t rport, uint16_t lport,
				    const struct tapir_tcp_flow_opts *o)
{
	struct tcp_stack *t = T(st);
	struct tapir_tcp_flow *f;
	size_t h;

	if (t->nflows >= st->cfg.tcp.max_connections) {
		CTR_INC(st, TCP_DROP_CONN_LIMIT);
		return NULL;
	}
	f = tcp_pool_alloc(&t->pool);
	if (!f) {
		CTR_INC(st, TCP_DROP_NOMEM);
		return NULL;
	}
	f->st = st;
	f->laddr = *laddr;
	f->raddr = *raddr;
	f->rport = rport;
	f->lport = lport;
	tcp_buf_opts(f, o);	/* f->o, the buffer sizes, autotuning, rcv_ws */
	f->heap_idx = TCP_HEAP_NONE;
	f->rto = st->cfg.tcp.rto_initial_ns;
	f->iss = make_isn(st, laddr, raddr, rport, lport);
	f->snd_una = f->snd_nxt = f->snd_max = f->iss;
	f->sbuf_seq = f->iss + 1;
	f->push_seq = f->iss + 1;
	f->recover = f->iss;
	f->high_sack = f->rexmit_nxt = f->iss;
	f->peer_mss = TCP_DEFAULT_MSS;
	f->mss = TCP_DEFAULT_MSS;
	f->ssthresh = UINT32_MAX;
	f->ts_offset = (uint32_t)tcp_tuple_sip(t->isn_key, laddr, raddr, rport, lport, 1);
	f->last_rcv_ms = tcp_ms32(st);
	h = hash_idx(t, laddr, raddr, rport, lport);
	f->hnext = t->hash[h];
	t->hash[h] = f;
	f->in_hash = true;
	f->next = t->all;
	if (t->all)
		t->all->prev = f;
	t->all = f;
	t->nflows++;
	return f;
}

/* ---- application notification ---- */

static void report_closed(struct tapir_tcp_flow *f, int err)
{
	if (f->closed_reported || !f->known || f->app_closed)
		return;
	f->closed_reported = true;
	if (f->cb.closed)
		f->cb.closed(f->cb_ctx, f, err);
}

/* Tear the connection down: CLOSED, tell the application, maybe free. */
void tcp_flow_drop(struct tapir_tcp_flow *f, int err)
{
	f->state = TAPIR_TCP_STATE_CLOSED;
	f->t_rtx = f->t_delack = f->t_ka = f->t_wait = 0;
	hash_remove(T(f->st), f);	/* before the callbacks: the tuple is free */
	if (!f->known && f->on_connect) {
		tapir_tcp_connect_fn cb = f->on_connect;

		f->on_connect = NULL;
		cb(f->connect_ctx, NULL, err ? err : -ECONNABORTED);
	} else {
		report_closed(f, err);
	}
	tcp_flow_maybe_free(f);
}

/*
 * The FIN exchange is over: the TIME_WAIT goes to the tw set (tw.c) and the
 * flow leaves the table; one the application holds stays as a CLOSED shell
 * (shown as TIME_WAIT) until tapir_tcp_close().
 */
void tcp_enter_time_wait(struct tapir_tcp_flow *f)
{
	struct tcp_stack *t = T(f->st);

	tcp_tw_add(f);
	f->state = TAPIR_TCP_STATE_CLOSED;
	f->in_tw = true;
	f->t_rtx = f->t_ka = f->t_delack = f->t_wait = 0;
	f->persist = false;
	if (!f->uncounted) {
		f->uncounted = true;
		t->nflows--;
	}
	hash_remove(t, f);
	report_closed(f, 0);
	tcp_flow_maybe_free(f);
}

void tcp_flow_established(struct tapir_tcp_flow *f)
{
	struct tapir_stack *st = f->st;

	f->state = TAPIR_TCP_STATE_ESTABLISHED;
	CTR_INC(st, TAPIR_TCP_STATE_ESTABLISHED);
	tcp_update_mss(f);
	/* RFC 6928 initial window */
	f->cwnd = min32(10 * f->mss, max32(2 * f->mss, 14600));
	tcp_cc_init(f);
	tcp_autotune_init(f);
	f->last_rcv_ms = tcp_ms32(st);
	if (f->o.keepalive) {
		f->t_ka = st->now + f->o.ka_idle_ns;
		tcp_timer_update(f);
	}
	if (f->lsn) {
		struct tcp_listener *l = f->lsn;

		l->nsyn--;
		f->lsn = NULL;
		lq_remove(f);
		f->known = true;
		if (l->dead) {
			tcp_send_rst(f);
			tcp_flow_drop(f, -ECONNABORTED);
			return;
		}
		l->cb(l->ctx, f);
	} else if (f->on_connect) {
		tapir_tcp_connect_fn cb = f->on_connect;

		f->on_connect = NULL;
		f->known = true;
		cb(f->connect_ctx, f, 0);
	}
}

void tcp_maybe_writable(struct tapir_tcp_flow *f)
{
	if (!f->want_writable || f->app_closed || f->fin_queued)
		return;
	if (f->o.sndbuf - f->slen < f->o.sndbuf / 4)
		return;
	f->want_writable = false;
	if (!f->cb.writable)
		return;
	/*
	 * Autocork (as Linux's tcp_autocorking, for the same reason): the
	 * writes the callback makes only fill the ring, and what they wrote
	 * goes out once it returns.  An application that refills its buffer in
	 * 64 KiB writes otherwise sent each write's sub-MSS tail as a frame of
	 * its own (Nagle lets pushed data go): a third of tapird's frames in
	 * bulk, and over IPv6, whose MSS leaves a 1,276-byte tail of 64 KiB,
	 * 11 % less throughput than over IPv4.
	 */
	struct tcp_stack *t = T(f->st);

	t->depth++;	/* (callers hold it too: @f outlives the callback) */
	f->in_writable = true;
	f->cb.writable(f->cb_ctx, f);
	if (!f->zombie) {
		f->in_writable = false;
		if (f->state != TAPIR_TCP_STATE_CLOSED)
			tcp_output(f);
	}
	t->depth--;
	tcp_reap(t);
}

/*
 * The address @addr is going away: reset every flow bound to it and tell its
 * owner (closed callback, or connect callback, with -EADDRNOTAVAIL).  A
 * callback may close other flows, so the walk starts over after each drop;
 * a dropped flow is CLOSED and skipped.
 */
static void reset_laddr(struct tapir_stack *st, const struct tcp_ip *a);

void tcp_reset_laddr(struct tapir_stack *st, uint32_t addr)
{
	struct tcp_ip a = tcp_ip4(addr);

	reset_laddr(st, &a);
}

void tcp_reset_laddr6(struct tapir_stack *st, const uint8_t addr[16])
{
	struct tcp_ip a = tcp_ip6(addr);

	if (T(st))
		reset_laddr(st, &a);
}

static void reset_laddr(struct tapir_stack *st, const struct tcp_ip *a)
{
	struct tcp_stack *t = T(st);
	bool again = true;

	t->depth++;
	while (again) {
		again = false;
		for (struct tapir_tcp_flow *f = t->all; f; f = f->next) {
			if (!tcp_ip_eq(&f->laddr, a) || f->state == TAPIR_TCP_STATE_CLOSED ||
			    f->state == TAPIR_TCP_STATE_TIME_WAIT)
				continue;
			if (f->state != TAPIR_TCP_STATE_LISTEN)
				tcp_send_rst(f);
			tcp_flow_drop(f, -EADDRNOTAVAIL);
			again = true;
			break;
		}
	}
	t->depth--;
	tcp_reap(t);
}

/* ---- lifetime ---- */

int tcp_init(struct tapir_stack *st)
{
	struct tcp_stack *t = calloc(1, sizeof(*t));
	size_t n = 64;

	if (!t)
		return -ENOMEM;
	while (n < st->cfg.tcp.max_connections && n < (1u << 20))
		n *= 2;
	t->hash = calloc(n, sizeof(*t->hash));
	if (!t->hash) {
		free(t);
		return -ENOMEM;
	}
	t->hmask = n - 1;
	tcp_pool_init(&t->pool, sizeof(struct tapir_tcp_flow));
	if (tcp_tw_init(t, st->cfg.tcp.max_tw) < 0) {
		free(t->hash);
		free(t);
		return -ENOMEM;
	}
	st->cfg.random(st->cfg.random_ctx, t->isn_key, sizeof(t->isn_key));
	st->cfg.random(st->cfg.random_ctx, t->cookie_key, sizeof(t->cookie_key));
	st->cfg.random(st->cfg.random_ctx, &t->hash_key, sizeof(t->hash_key));
	st->tcp = t;
	if (tapir_ipv4_register_proto(st, TAPIR_IP_PROTO_TCP, tcp_rx, tcp_icmp_err, st) < 0 ||
	    (st->ip6 && tapir_ipv6_register_proto(st, TAPIR_IP_PROTO_TCP, tcp_rx6, tcp_icmp6_err,
						  st) < 0)) {
		tcp_tw_fini(t);
		free(t->hash);
		free(t);
		st->tcp = NULL;
		return -EINVAL;
	}
	return 0;
}

void tcp_fini(struct tapir_stack *st)
{
	struct tcp_stack *t = T(st);

	if (!t)
		return;
	while (t->all) {
		struct tapir_tcp_flow *f = t->all;

		t->all = f->next;
		flow_free_mem(f);
	}
	t->depth = 0;
	tcp_reap(t);
	tcp_pool_fini(&t->pool);
	tcp_tw_fini(t);
	tcp_fwd_fini(t);
	for (size_t i = 0; i < t->nlsn; i++)
		free(t->lsn[i]);
	free(t->lsn);
	free(t->dead_lsn);
	free(t->heap);
	free(t->hash);
	free(t);
	st->tcp = NULL;
}

size_t tapir_tcp_close_ctx(struct tapir_stack *st, void *ctx)
{
	struct tcp_stack *t = T(st);
	size_t n = 0;

	if (!t || !ctx)
		return 0;
	/* nothing is freed before the walk ends (a closed flow, or an orphan
	 * the limit drops, becomes a zombie and keeps its next pointer) */
	t->depth++;
	for (struct tapir_tcp_flow *f = t->all, *next; f; f = next) {
		next = f->next;
		if (f->zombie || f->app_closed || !f->known || f->cb_ctx != ctx)
			continue;
		tapir_tcp_close(f);
		n++;
	}
	t->depth--;
	tcp_reap(t);
	return n;
}
