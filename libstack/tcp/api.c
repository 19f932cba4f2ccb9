/*
 * api.c - TCP application calls (tcp.h): listen, connect, write, shutdown,
 * close, flow information
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tcp/tcp_conn.h"

static const uint8_t in6_zero[16];

static const char *const state_names[] = {
	[TAPIR_TCP_STATE_CLOSED] = "CLOSED",
	[TAPIR_TCP_STATE_LISTEN] = "LISTEN",
	[TAPIR_TCP_STATE_SYN_SENT] = "SYN_SENT",
	[TAPIR_TCP_STATE_SYN_RECEIVED] = "SYN_RECEIVED",
	[TAPIR_TCP_STATE_ESTABLISHED] = "ESTABLISHED",
	[TAPIR_TCP_STATE_FIN_WAIT_1] = "FIN_WAIT_1",
	[TAPIR_TCP_STATE_FIN_WAIT_2] = "FIN_WAIT_2",
	[TAPIR_TCP_STATE_CLOSE_WAIT] = "CLOSE_WAIT",
	[TAPIR_TCP_STATE_CLOSING] = "CLOSING",
	[TAPIR_TCP_STATE_LAST_ACK] = "LAST_ACK",
	[TAPIR_TCP_STATE_TIME_WAIT] = "TIME_WAIT",
};
_Static_assert(sizeof(state_names) / sizeof(state_names[0]) == TAPIR_TCP_STATE__COUNT,
	       "every state has a name");

const char *tapir_tcp_state_name(int state)
{
	if (state < 0 || state >= TAPIR_TCP_STATE__COUNT)
		return "?";
	return state_names[state];
}

void tapir_tcp_config_defaults(struct tapir_tcp_config *c)
{
	c->max_connections = 16384;
	c->backlog = 4096;
	c->sndbuf = 256 * 1024;
	c->rcvbuf = 256 * 1024;
	c->sndbuf_max = 1u << 20;
	c->rcvbuf_max = 6u << 20;
	c->autotune = true;
	c->ooo_max_bytes = 256 * 1024;
	c->msl_ns = 30 * SEC;
	c->fin_wait2_ns = 60 * SEC;
	c->max_retries = 15;
	c->syn_retries = 6;
	c->keepalive = false;
	c->keepalive_idle_ns = 7200 * SEC;
	c->keepalive_intvl_ns = 75 * SEC;
	c->keepalive_count = 9;
	c->nodelay = false;
	c->cc = TAPIR_TCP_CC_CUBIC;
	c->syn_cookies = true;
	c->challenge_ack_limit = 10;
	c->delack_ns = 40 * MS;
	c->rto_initial_ns = 1 * SEC;
	c->rto_min_ns = 200 * MS;
	c->rto_max_ns = 120 * SEC;
	c->max_tw = 16384;
	c->max_orphans = 4096;
	c->orphan_retries = 8;
	c->max_memory = 256u << 20;
}

void tapir_tcp_flow_opts_defaults(const struct tapir_stack *st, struct tapir_tcp_flow_opts *o)
{
	const struct tapir_tcp_config *c = &st->cfg.tcp;

	o->keepalive = c->keepalive;
	o->ka_idle_ns = c->keepalive_idle_ns;
	o->ka_intvl_ns = c->keepalive_intvl_ns;
	o->ka_count = c->keepalive_count;
	o->nodelay = c->nodelay;
	o->sndbuf = 0;	/* the stack's [tcp] sndbuf, autotuned */
	o->rcvbuf = 0;
	o->cc = c->cc;
	o->v4mapped = false;
}

/* ---- API ---- */

static void api_enter(struct tapir_stack *st)
{
	T(st)->depth++;
}

static void api_leave(struct tapir_stack *st)
{
	T(st)->depth--;
	tcp_reap(T(st));
}

static int unlisten_one(struct tapir_stack *st, struct tcp_listener *l);

int tapir_tcp_listen(struct tapir_stack *st, uint16_t port, const struct tapir_tcp_flow_opts *o,
		     tapir_tcp_accept_fn cb, void *ctx)
{
	return tapir_tcp_listen_family(st, port, TAPIR_AF_UNSPEC, o, cb, ctx);
}

int tapir_tcp_listen_family(struct tapir_stack *st, uint16_t port, enum tapir_family fam,
			    const struct tapir_tcp_flow_opts *o, tapir_tcp_accept_fn cb, void *ctx)
{
	struct tcp_stack *t = T(st);
	struct tcp_listener *l;

	if (!t || port == 0 || !cb ||
	    (fam != TAPIR_AF_UNSPEC && fam != TAPIR_AF_INET && fam != TAPIR_AF_INET6))
		return -EINVAL;
	if (fam == TAPIR_AF_INET6 && !st->ip6)
		return -EAFNOSUPPORT;
	if (tcp_listener_find(t, port, (uint8_t)fam))
		return -EADDRINUSE;
	if (t->nlsn == t->lsn_cap) {
		size_t cap = t->lsn_cap ? t->lsn_cap * 2 : 8;
		struct tcp_listener **n = realloc(t->lsn, cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		t->lsn = n;
		t->lsn_cap = cap;
	}
	l = calloc(1, sizeof(*l));
	if (!l)
		return -ENOMEM;
	l->port = port;
	l->family = (uint8_t)fam;
	if (o)
		l->o = *o;
	else
		tapir_tcp_flow_opts_defaults(st, &l->o);
	l->cb = cb;
	l->ctx = ctx;
	t->lsn[t->nlsn++] = l;
	return 0;
}

int tapir_tcp_unlisten(struct tapir_stack *st, uint16_t port)
{
	struct tcp_stack *t = T(st);
	int rc = -ENOENT;

	/* every listener of the port (one per family, or one for both) */
	while (t && tcp_listener_find(t, port, TAPIR_AF_UNSPEC)) {
		rc = unlisten_one(st, tcp_listener_find(t, port, TAPIR_AF_UNSPEC));
		if (rc < 0)
			return rc;
	}
	return rc;
}

static int unlisten_one(struct tapir_stack *st, struct tcp_listener *l)
{
	struct tcp_stack *t = T(st);
	size_t i;

	for (i = 0; i < t->nlsn && t->lsn[i] != l; i++)
		;
	if (t->ndead == t->dead_cap) {
		size_t cap = t->dead_cap ? t->dead_cap * 2 : 8;
		struct tcp_listener **n = realloc(t->dead_lsn, cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		t->dead_lsn = n;
		t->dead_cap = cap;
	}
	t->lsn[i] = t->lsn[--t->nlsn];
	l->dead = true;
	t->dead_lsn[t->ndead++] = l;
	api_enter(st);
	for (struct tapir_tcp_flow *f = t->all, *n; f; f = n) {
		n = f->next;
		if (f->lsn == l && !f->zombie) {
			tcp_send_rst(f);
			f->state = TAPIR_TCP_STATE_CLOSED;
			tcp_flow_maybe_free(f);
		}
	}
	api_leave(st);
	return 0;
}

/* Check @a as a destination and choose our address for it.  Return: 0 or -errno */
static int connect_addrs(struct tapir_stack *st, const struct tapir_addr *a, struct tcp_ip *dst,
			 struct tcp_ip *src)
{
	if (!a || !tcp_ip_from_addr(dst, a))
		return -EINVAL;
	if (tcp_ip_is4(dst)) {
		uint32_t d = tcp_ip_v4(dst);

		if (d == 0 || d == st->cfg.addr || ipv4_addr_is_multicast(d) ||
		    d == IPV4_ADDR_BROADCAST || (st->bcast && d == st->bcast))
			return -EINVAL;
		*src = tcp_ip4(st->cfg.addr);
		return 0;
	}
	if (!st->ip6)
		return -EAFNOSUPPORT;
	/* ::, ::1, multicast, our own address */
	if (dst->b[0] == 0xff || ipv6_is_our_addr(st, dst->b) ||
	    (!memcmp(dst->b, in6_zero, 15) && dst->b[15] <= 1))
		return -EINVAL;
	if (tapir_ipv6_select_source(st, dst->b, src->b) < 0)
		return -EADDRNOTAVAIL;
	return 0;
}

int tapir_tcp_connect(struct tapir_stack *st, const struct tapir_addr *to, uint16_t port,
		      const struct tapir_tcp_flow_opts *o, tapir_tcp_connect_fn cb, void *ctx)
{
	struct tcp_stack *t = T(st);
	struct tapir_tcp_flow_opts def;
	struct tapir_tcp_flow *f;
	struct tcp_ip dst, src;
	uint16_t lport;
	uint32_t iss;
	int rc;

	if (!t || port == 0 || !cb)
		return -EINVAL;
	rc = connect_addrs(st, to, &dst, &src);
	if (rc < 0)
		return rc;
	if (t->nflows >= st->cfg.tcp.max_connections)
		return -ENOBUFS;
	if (!o) {
		tapir_tcp_flow_opts_defaults(st, &def);
		o = &def;
	}
	lport = tcp_ephemeral_port(st, &src, &dst, port, &iss);
	if (!lport)
		return -EAGAIN;
	f = tcp_flow_new(st, &src, &dst, port, lport, o);
	if (!f)
		return -ENOMEM;
	if (iss)
		tcp_flow_set_iss(f, iss);	/* the tuple was in TIME_WAIT */
	CTR_INC(st, TCP_ACTIVE_OPENS);
	f->state = TAPIR_TCP_STATE_SYN_SENT;
	f->on_connect = cb;
	f->connect_ctx = ctx;
	f->rtt_start = tcp_us32(st);
	api_enter(st);
	rc = tcp_send_syn(f);
	if (rc == -ENETUNREACH || rc == -EINVAL || rc == -EADDRNOTAVAIL) {
		/* no route: fail now, without a callback */
		f->on_connect = NULL;
		f->state = TAPIR_TCP_STATE_CLOSED;
		f->t_rtx = 0;
		tcp_flow_maybe_free(f);
	}
	api_leave(st);
	return rc == -ENETUNREACH || rc == -EINVAL || rc == -EADDRNOTAVAIL ? rc : 0;
}

int tapir_tcp_connect_cancel(struct tapir_stack *st, tapir_tcp_connect_fn cb, void *ctx)
{
	struct tcp_stack *t = T(st);
	int n = 0;

	if (!t || !cb)
		return 0;
	api_enter(st);
	for (struct tapir_tcp_flow *f = t->all, *next; f; f = next) {
		next = f->next;
		if (f->known || f->zombie || f->on_connect != cb || f->connect_ctx != ctx)
			continue;
		f->on_connect = NULL;
		f->app_closed = true;
		if (f->state != TAPIR_TCP_STATE_CLOSED)
			tcp_send_rst(f);
		f->state = TAPIR_TCP_STATE_CLOSED;
		f->t_rtx = f->t_delack = f->t_ka = f->t_wait = 0;
		tcp_flow_maybe_free(f);
		n++;
	}
	api_leave(st);
	return n;
}

void tapir_tcp_flow_set_callbacks(struct tapir_tcp_flow *f, const struct tapir_tcp_callbacks *cb,
				  void *ctx)
{
	if (!f || f->app_closed)
		return;
	if (cb)
		f->cb = *cb;
	else
		memset(&f->cb, 0, sizeof(f->cb));
	f->cb_ctx = ctx;
	/* data that arrived before there was a reader */
	if (f->rlen || (f->fin_rcvd && !f->eof_delivered)) {
		api_enter(f->st);
		tcp_deliver_queue(f);
		api_leave(f->st);
	}
}

/* Return: 0 if the application may queue data on @f, else -EPIPE or -ENOTCONN */
static int write_check(const struct tapir_tcp_flow *f)
{
	if (f->app_closed || f->fin_queued)
		return -EPIPE;
	if (f->state == TAPIR_TCP_STATE_CLOSED || f->state == TAPIR_TCP_STATE_TIME_WAIT)
		return -EPIPE;
	if (f->state != TAPIR_TCP_STATE_ESTABLISHED && f->state != TAPIR_TCP_STATE_CLOSE_WAIT)
		return -ENOTCONN;
	return 0;
}

static long write_common(struct tapir_tcp_flow *f, const struct tapir_stack_iov *iov, int iovcnt,
			 bool push)
{
	size_t total = 0, room;
	int rc;

	if (!f || iovcnt < 0)
		return -EINVAL;
	f->sres = 0;	/* a reservation ends: we write where it was */
	rc = write_check(f);
	if (rc < 0)
		return rc;
	for (int i = 0; i < iovcnt; i++)
		total += iov[i].len;
	room = f->o.sndbuf - f->slen;
	if (total > room)
		total = room;
	if (total && !tcp_sbuf_reserve(f, total)) {
		total = f->scap - f->slen;
		if (!total && f->mem_wait) {
			/* the stack's memory is used up (max_memory) */
			f->want_writable = true;
			return -ENOBUFS;
		}
	}
	{
		size_t left = total;

		for (int i = 0; i < iovcnt && left; i++) {
			const uint8_t *p = iov[i].base;
			size_t k = minsz(iov[i].len, left);

			left -= k;
			while (k) {
				size_t pos = (f->shead + f->slen) % f->scap;
				size_t c = minsz(k, f->scap - pos);

				memcpy(f->sbuf + pos, p, c);
				f->slen += c;
				p += c;
				k -= c;
			}
		}
	}
	{
		size_t asked = 0;

		for (int i = 0; i < iovcnt; i++)
			asked += iov[i].len;
		if (total < asked)
			f->want_writable = true;
	}
	if (push)
		f->push_seq = f->sbuf_seq + (uint32_t)f->slen;
	if ((total || push) && !f->in_writable) {	/* corked: tcp_maybe_writable() sends */
		api_enter(f->st);
		tcp_output(f);
		api_leave(f->st);
	}
	return (long)total;
}

long tapir_tcp_write(struct tapir_tcp_flow *f, const void *data, size_t len)
{
	struct tapir_stack_iov iov = { data, len };

	return write_common(f, &iov, 1, false);
}

long tapir_tcp_writev(struct tapir_tcp_flow *f, const struct tapir_stack_iov *iov, int iovcnt)
{
	return write_common(f, iov, iovcnt, false);
}

long tapir_tcp_write_nodelay(struct tapir_tcp_flow *f, const void *data, size_t len)
{
	struct tapir_stack_iov iov = { data, len };

	return write_common(f, &iov, 1, true);
}

void *tapir_tcp_write_reserve(struct tapir_tcp_flow *f, size_t *len, int *err)
{
	size_t want, room, tail, contig;
	int rc;

	if (!len) {
		rc = -EINVAL;
		goto fail;
	}
	want = *len;
	*len = 0;
	if (!f) {
		rc = -EINVAL;
		goto fail;
	}
	f->sres = 0;
	rc = write_check(f);
	if (rc < 0)
		goto fail;
	room = f->o.sndbuf - f->slen;
	if (want == 0 || want > room) {
		if (want > room)
			f->want_writable = true;	/* less than wanted: say when there is more */
		want = room;
	}
	if (want == 0) {
		f->want_writable = true;
		rc = -EAGAIN;
		goto fail;
	}
	if (f->slen == 0)
		f->shead = 0;	/* empty: the whole ring is one piece */
	(void)tcp_sbuf_reserve(f, want);	/* on failure, what the ring has */
	if (f->scap == f->slen) {
		rc = f->mem_wait ? -ENOBUFS : f->scap ? -EAGAIN : -ENOMEM;
		if (rc != -ENOMEM)
			f->want_writable = true;
		goto fail;
	}
	/* free space: [tail, end of ring) when the data does not wrap (then the
	 * part before shead is a second piece), else [tail, shead) */
	tail = (f->shead + f->slen) % f->scap;
	contig = tail >= f->shead ? f->scap - tail : f->shead - tail;
	*len = f->sres = minsz(contig, want);
	if (err)
		*err = 0;
	return f->sbuf + tail;
fail:
	if (err)
		*err = rc;
	return NULL;
}

long tapir_tcp_write_commit(struct tapir_tcp_flow *f, size_t n, bool push)
{
	int rc;

	if (!f)
		return -EINVAL;
	rc = write_check(f);
	if (rc < 0) {
		f->sres = 0;
		return rc;
	}
	if (n > f->sres)
		return -EINVAL;
	f->sres = 0;
	f->slen += n;
	if (f->slen == 0 && f->sbuf) {
		/* nothing written: idle flows hold no send buffer */
		tcp_sbuf_free(f);
	}
	if (push)
		f->push_seq = f->sbuf_seq + (uint32_t)f->slen;
	if ((n || push) && !f->in_writable) {	/* corked: tcp_maybe_writable() sends */
		api_enter(f->st);
		tcp_output(f);
		api_leave(f->st);
	}
	return (long)n;
}

/* Queue our FIN and move to the state that waits for it to be acked. */
static void queue_fin(struct tapir_tcp_flow *f)
{
	if (f->fin_queued)
		return;
	if (f->state == TAPIR_TCP_STATE_ESTABLISHED) {
		f->state = TAPIR_TCP_STATE_FIN_WAIT_1;
	} else if (f->state == TAPIR_TCP_STATE_CLOSE_WAIT) {
		f->state = TAPIR_TCP_STATE_LAST_ACK;
	} else {
		return;
	}
	f->fin_queued = true;
	tcp_output(f);
}

int tapir_tcp_shutdown(struct tapir_tcp_flow *f, bool rd, bool wr)
{
	if (!f || f->app_closed)
		return -EINVAL;
	if (!synchronized(f) || f->state == TAPIR_TCP_STATE_TIME_WAIT)
		return -ENOTCONN;
	f->sres = 0;
	api_enter(f->st);
	if (rd) {
		f->rd_shut = true;
		f->rlen = 0;
		f->rhead = 0;
	}
	if (wr)
		queue_fin(f);
	api_leave(f->st);
	return 0;
}

void tapir_tcp_close(struct tapir_tcp_flow *f)
{
	struct tapir_stack *st;

	if (!f || f->app_closed)
		return;
	st = f->st;
	api_enter(st);
	f->app_closed = true;
	memset(&f->cb, 0, sizeof(f->cb));
	f->cb_ctx = NULL;
	switch (f->state) {
	case TAPIR_TCP_STATE_SYN_SENT:
	case TAPIR_TCP_STATE_SYN_RECEIVED:
		tcp_send_rst(f);
		f->state = TAPIR_TCP_STATE_CLOSED;
		break;
	case TAPIR_TCP_STATE_ESTABLISHED:
	case TAPIR_TCP_STATE_CLOSE_WAIT:
		if (f->rlen || f->ooo.head) {
			tcp_send_rst(f);	/* unread data: RFC 2525 2.17 */
			f->state = TAPIR_TCP_STATE_CLOSED;
			break;
		}
		queue_fin(f);
		break;
	case TAPIR_TCP_STATE_FIN_WAIT_2:
		f->t_wait = st->now + st->cfg.tcp.fin_wait2_ns;
		tcp_timer_update(f);
		break;
	default:
		break;
	}
	if (f->state == TAPIR_TCP_STATE_CLOSED)
		f->t_rtx = f->t_delack = f->t_ka = f->t_wait = 0;
	tcp_flow_maybe_free(f);
	tcp_orphan_add(f);
	tcp_orphans_limit(st);
	api_leave(st);
}

void tapir_tcp_abort(struct tapir_tcp_flow *f)
{
	struct tapir_stack *st;

	if (!f || f->app_closed)
		return;
	st = f->st;
	api_enter(st);
	f->app_closed = true;
	memset(&f->cb, 0, sizeof(f->cb));
	if (f->state != TAPIR_TCP_STATE_CLOSED && f->state != TAPIR_TCP_STATE_TIME_WAIT)
		tcp_send_rst(f);
	f->state = TAPIR_TCP_STATE_CLOSED;
	f->t_rtx = f->t_delack = f->t_ka = f->t_wait = 0;
	tcp_flow_maybe_free(f);
	api_leave(st);
}

void tapir_tcp_read_pause(struct tapir_tcp_flow *f, bool paused)
{
	if (!f || f->app_closed)
		return;
	f->paused = paused;
	if (!paused) {
		api_enter(f->st);
		tcp_deliver_queue(f);
		api_leave(f->st);
	}
}

int tapir_tcp_flow_info(const struct tapir_tcp_flow *f, struct tapir_tcp_flow_info *o)
{
	if (!f || !o)
		return -EINVAL;
	memset(o, 0, sizeof(*o));
	o->local_addr = tcp_ip_to_addr(&f->laddr, f->o.v4mapped);
	o->remote_addr = tcp_ip_to_addr(&f->raddr, f->o.v4mapped);
	o->local_port = f->lport;
	o->remote_port = f->rport;
	o->state = f->in_tw ? TAPIR_TCP_STATE_TIME_WAIT : f->state;
	o->snd_queue = f->slen;
	o->rcv_queue = f->rlen;
	o->ooo_bytes = f->ooo.bytes;
	o->sndbuf = f->o.sndbuf;
	o->rcvbuf = f->o.rcvbuf;
	o->srtt_us = f->srtt_us;
	o->rttvar_us = f->rttvar_us;
	o->rto_ms = (uint32_t)(f->rto / MS);
	o->cwnd = f->cwnd;
	o->ssthresh = f->ssthresh;
	o->mss = f->mss;
	o->snd_wnd = f->snd_wnd;
	o->rcv_wnd = seq_gt(f->rcv_adv, f->rcv_nxt) ? f->rcv_adv - f->rcv_nxt : 0;
	o->wscale = f->ws_ok;
	o->snd_wscale = f->ws_ok ? f->snd_ws : 0;
	o->rcv_wscale = f->ws_ok ? f->rcv_ws : 0;
	o->sack = f->sack_ok;
	o->timestamps = f->ts_ok;
	o->cc = f->o.cc;
	o->bytes_sent = f->bytes_sent;
	o->bytes_acked = f->bytes_acked;
	o->bytes_received = f->bytes_received;
	o->segs_in = f->segs_in;
	o->segs_out = f->segs_out;
	o->retransmits = f->retransmits;
	o->fast_retransmits = f->fast_retransmits;
	o->rto_timeouts = f->rto_timeouts;
	o->dup_acks_in = f->dup_acks_in;
	o->ooo_segs_in = f->ooo_segs_in;
	return 0;
}

size_t tapir_tcp_flow_list(const struct tapir_stack *st, struct tapir_tcp_flow_info *out,
			   size_t max)
{
	size_t n = 0, k;

	if (!T(st))
		return 0;
	for (const struct tapir_tcp_flow *f = T(st)->all; f && n < max; f = f->next)
		if (!f->in_tw)	/* its TIME_WAIT entry is listed below */
			tapir_tcp_flow_info(f, &out[n++]);
	k = tcp_tw_list(T(st), out + n, max - n);
	return n + k;
}

size_t tapir_tcp_flow_count(const struct tapir_stack *st)
{
	return T(st) ? T(st)->nflows + T(st)->ntw : 0;
}

size_t tapir_tcp_time_wait_count(const struct tapir_stack *st)
{
	return T(st) ? T(st)->ntw : 0;
}

size_t tapir_tcp_orphan_count(const struct tapir_stack *st)
{
	return T(st) ? T(st)->lq_n[TCP_LQ_ORPHAN] : 0;
}
