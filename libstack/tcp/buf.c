/*
 * buf.c - TCP send and receive buffers: rings that grow by doubling, delivery of
 * in-order data to the application, the memory budget of all flows
 * (max_memory, tapir_tcp_mem_check()), and buffer autotuning
 *
 * Theory of operation (autotuning)
 *
 * A flow's limits are f->o.sndbuf (the most its send ring may hold) and
 * f->o.rcvbuf (the most window it offers, and the most its receive queue may
 * hold).  A flow whose options left them 0 starts at [tcp] sndbuf / rcvbuf
 * and, with [tcp] autotune on, has them grow (snd_auto, rcv_auto); a flow
 * given sizes keeps them (as SO_SNDBUF / SO_RCVBUF turn Linux's autotuning
 * off).  Limits only grow; memory is spent only by what a ring holds, and
 * rings are freed when they drain, so a large limit costs nothing while the
 * application keeps up.
 *
 * Receive (dynamic right-sizing, as Linux's tcp_rcv_space_adjust()): once
 * per receiver RTT (from the timestamp echo of the segment at hand: our
 * clock less the TSecr it carries; else the flow's srtt; at least 1 ms), the
 * bytes the application took during it (RCV.NXT less the queue) are
 * measured.  If twice that plus 16 segments of headroom (reordering, loss)
 * exceeds rcvbuf, rcvbuf becomes that, up to [tcp] rcvbuf_max.  A sender
 * that fills the window each RTT so doubles it each RTT, as slow start
 * does; a reader that does not take the data (paused) measures nothing and
 * the window stays.  The window's right edge never moves back (output.c);
 * growth only lets it move further.  The window scale offered in the SYN is
 * chosen for rcvbuf_max, and the out-of-order bound follows rcvbuf.
 *
 * Send (as Linux's tcp_sndbuf_expand()): on every ACK, sndbuf grows to the
 * larger of 2 x cwnd and what is in flight plus cwnd (the ring must hold
 * the unacknowledged data, SACKed pieces included, and a cwnd more), up to
 * [tcp] sndbuf_max.  The writable() threshold is a quarter of the current
 * limit, so a writer blocked on the old limit is woken when it grows.
 *
 * Memory: no limit grows while max_memory is under pressure (3/4 used);
 * under pressure a ring does not grow past the initial size (or the size it
 * has) either.  Each refusal counts tcp.autotune.refused_mem.
 */
#include <stdlib.h>
#include <string.h>

#include "tcp/tcp_conn.h"

/* ---- memory of all flows ---- */

static size_t pressure_mark(const struct tapir_stack *st)
{
	return st->cfg.tcp.max_memory - st->cfg.tcp.max_memory / 4;
}

/* Account @delta bytes held (negative: released). */
void tcp_mem_add(struct tapir_stack *st, long delta)
{
	struct tcp_stack *t = T(st);

	t->mem = (size_t)((long)t->mem + delta);
	if (!t->mem_pressure && t->mem >= pressure_mark(st)) {
		t->mem_pressure = true;
		CTR_INC(st, TCP_MEM_PRESSURE);
	} else if (t->mem_pressure && t->mem < pressure_mark(st)) {
		t->mem_pressure = false;
	}
}

bool tcp_mem_under_pressure(const struct tapir_stack *st)
{
	return T(st)->mem >= pressure_mark(st);
}

/* Can @f grow a buffer by @delta bytes? */
static bool mem_may_grow(struct tapir_tcp_flow *f, size_t delta)
{
	struct tcp_stack *t = T(f->st);

	if (t->mem + delta <= f->st->cfg.tcp.max_memory)
		return true;
	CTR_INC(f->st, TCP_MEM_WRITE_REFUSED);
	if (!f->mem_wait) {
		f->mem_wait = true;
		t->mem_waiters++;
	}
	return false;
}

/* Flows refused memory may write again: below the pressure mark */
bool tcp_mem_wake_pending(const struct tapir_stack *st)
{
	const struct tcp_stack *t = T(st);

	return t->mem_waiters && t->mem < pressure_mark(st);
}

/* Tell the flows refused memory that they may write again, once memory is
 * below the pressure mark (writable() as after a short write). */
void tcp_mem_wake(struct tapir_stack *st)
{
	struct tcp_stack *t = T(st);

	if (!tcp_mem_wake_pending(st))
		return;
	for (struct tapir_tcp_flow *f = t->all, *n; f && t->mem_waiters; f = n) {
		n = f->next;
		if (!f->mem_wait)
			continue;
		f->mem_wait = false;
		t->mem_waiters--;
		tcp_maybe_writable(f);
	}
	t->mem_waiters = 0;	/* every waiter is on the list */
}

static bool can_deliver(const struct tapir_tcp_flow *f);

/**
 * tcp_mem_rcv_space() - The free receive buffer a window may offer
 * @f:     Flow
 * @space: What the receive buffer allows
 *
 * Under memory pressure a flow that queues data (its reader paused or
 * behind) offers only the room left in the ring it already has: the window
 * stops growing (the right edge already offered stays, RFC 9293 3.8.6.2.2).
 * A reader that takes data straight from the frames costs no memory.
 *
 * Return: @space, or less
 */
size_t tcp_mem_rcv_space(struct tapir_tcp_flow *f, size_t space)
{
	size_t avail;

	if (!tcp_mem_under_pressure(f->st) || (f->rlen == 0 && can_deliver(f)))
		return space;
	avail = f->rcap > f->rlen ? f->rcap - f->rlen : 0;
	if (avail >= space)
		return space;
	CTR_INC(f->st, TCP_MEM_WINDOW_CLAMPED);
	return avail;
}

/**
 * tapir_tcp_mem_check() - Recount the memory held by every flow
 * @st: Stack
 *
 * Return: true when the bytes in send rings, receive rings and out-of-order
 *         pieces of all flows (zombies included) equal the accounted total
 *         and every out-of-order queue's byte count is the sum of its pieces
 */
bool tapir_tcp_mem_check(const struct tapir_stack *st)
{
	const struct tcp_stack *t = T(st);
	const struct tapir_tcp_flow *lists[2];
	size_t held = 0;

	if (!t)
		return true;
	lists[0] = t->all;
	lists[1] = t->zombies;
	for (int i = 0; i < 2; i++) {
		for (const struct tapir_tcp_flow *f = lists[i]; f; f = i ? f->znext : f->next) {
			size_t ooo = 0;

			for (const struct tcp_ooo *o = f->ooo.head; o; o = o->next)
				ooo += o->len;
			if (ooo != f->ooo.bytes)
				return false;
			if ((f->sbuf == NULL) != (f->scap == 0) || (f->rbuf == NULL) != (f->rcap == 0))
				return false;
			held += f->scap + f->rcap + ooo;
		}
	}
	return held == t->mem;
}

size_t tapir_tcp_mem_used(const struct tapir_stack *st)
{
	return T(st) ? T(st)->mem : 0;
}

/* ---- receive queue ---- */

/*
 * ring_regrow() - Copy the @len bytes of a ring (@cap bytes, data from @head,
 * wrapping) to the start of a new buffer of @newcap bytes (>= @len)
 *
 * Return: the new buffer (the caller frees the old one), or NULL
 */
static uint8_t *ring_regrow(const uint8_t *buf, size_t cap, size_t head, size_t len,
			    size_t newcap)
{
	uint8_t *n = malloc(newcap);

	if (!n)
		return NULL;
	for (size_t i = 0; i < len;) {
		size_t pos = (head + i) % cap, k = minsz(len - i, cap - pos);

		memcpy(n + i, buf + pos, k);
		i += k;
	}
	return n;
}
static bool rq_push(struct tapir_tcp_flow *f, const uint8_t *data, size_t len)
{
	if (f->rlen + len > f->rcap) {
		size_t cap = f->rcap ? f->rcap : 4096;
		uint8_t *n;

		while (cap < f->rlen + len)
			cap *= 2;
		n = ring_regrow(f->rbuf, f->rcap, f->rhead, f->rlen, cap);
		if (!n)
			return false;
		free(f->rbuf);
		tcp_mem_add(f->st, (long)(cap - f->rcap));
		f->rbuf = n;
		f->rcap = cap;
		f->rhead = 0;
	}
	for (size_t i = 0; i < len;) {
		size_t pos = (f->rhead + f->rlen) % f->rcap, k = minsz(len - i, f->rcap - pos);

		memcpy(f->rbuf + pos, data + i, k);
		f->rlen += k;
		i += k;
	}
	return true;
}

static bool can_deliver(const struct tapir_tcp_flow *f)
{
	return !f->paused && f->cb.recv && !f->app_closed && !f->zombie;
}

/* Deliver queued data then a pending end of stream, while allowed. */
void tcp_deliver_queue(struct tapir_tcp_flow *f)
{
	size_t before = f->rlen;

	if (f->in_deliver)
		return;	/* called again from a recv callback: the outer loop goes on */
	f->in_deliver = true;
	while (f->rlen && can_deliver(f)) {
		size_t k = minsz(f->rlen, f->rcap - f->rhead);
		const uint8_t *p = f->rbuf + f->rhead;

		f->rhead = (f->rhead + k) % f->rcap;
		f->rlen -= k;
		f->cb.recv(f->cb_ctx, f, p, k);
	}
	if (f->rlen == 0 && f->rbuf) {
		tcp_mem_add(f->st, -(long)f->rcap);
		free(f->rbuf);
		f->rbuf = NULL;
		f->rcap = f->rhead = 0;
	}
	if (!f->rlen && f->fin_rcvd && !f->eof_delivered && can_deliver(f)) {
		f->eof_delivered = true;
		f->cb.recv(f->cb_ctx, f, NULL, 0);
	}
	f->in_deliver = false;
	if (before && f->rlen < before && !f->zombie)
		tcp_rcv_space_adjust(f, 0);
	if (before && !f->zombie && synchronized(f) && f->state != TAPIR_TCP_STATE_TIME_WAIT &&
	    f->rlen < before) {
		/* the window opened: tell the peer if it moved enough */
		uint32_t old = f->rcv_adv;

		(void)tcp_rcv_window(f);
		if (f->rcv_adv != old || before >= f->o.rcvbuf / 2)
			tcp_send_ack(f);
	}
}

/* In-order data: straight to the application, or into the queue. */
void tcp_deliver_data(struct tapir_tcp_flow *f, const uint8_t *data, size_t len)
{
	f->bytes_received += len;
	if (f->rd_shut) {
		CTR_INC(f->st, TCP_DROP_SHUT_RD);
		return;
	}
	if (f->rlen == 0 && can_deliver(f)) {
		f->cb.recv(f->cb_ctx, f, data, len);
		return;
	}
	if (!rq_push(f, data, len))
		CTR_INC(f->st, TCP_DROP_NOMEM);
}

bool tcp_sbuf_reserve(struct tapir_tcp_flow *f, size_t want)
{
	size_t cap = f->scap, need = f->slen + want, lim = f->o.sndbuf;
	uint8_t *n;

	if (need <= cap)
		return true;
	if (f->snd_auto && lim > f->st->cfg.tcp.sndbuf && tcp_mem_under_pressure(f->st)) {
		/* a limit that grew: not past the initial size under pressure */
		size_t floor = f->scap > f->st->cfg.tcp.sndbuf ? f->scap : f->st->cfg.tcp.sndbuf;

		if (floor < lim) {
			if (need > floor)
				CTR_INC(f->st, TCP_AUTOTUNE_REFUSED);
			lim = floor;
		}
	}
	if (cap >= lim)
		return false;
	if (cap == 0)
		cap = minsz(2048, lim);
	while (cap < need && cap < lim)
		cap = minsz(cap * 2, lim);
	if (!mem_may_grow(f, cap - f->scap))
		return false;
	n = ring_regrow(f->sbuf, f->scap, f->shead, f->slen, cap);
	if (!n)
		return false;
	free(f->sbuf);
	tcp_mem_add(f->st, (long)(cap - f->scap));
	f->sbuf = n;
	f->scap = cap;
	f->shead = 0;
	f->sres = 0;	/* the ring moved */
	return true;
}

/* Free the send ring (everything in it is acked, or nothing was written). */
void tcp_sbuf_free(struct tapir_tcp_flow *f)
{
	tcp_mem_add(f->st, -(long)f->scap);
	free(f->sbuf);
	f->sbuf = NULL;
	f->scap = f->shead = 0;
}

/* ---- autotuning (see the theory above) ---- */

#define TCP_RCV_RTT_FLOOR_MS 1          /* the timestamp clock's tick */
#define TCP_RCV_RTT_MAX_MS 30000        /* the 16-bit rcvq_time spans 65 s */
#define TCP_RCV_HEADROOM_SEGS 16        /* Linux: 16 * advmss */

static size_t clamp_rcvbuf(size_t b)
{
	if (b < TCP_RCVBUF_MIN)
		return TCP_RCVBUF_MIN;
	return minsz(b, (size_t)65535 << TCP_MAX_WSCALE);
}

/* The send ring's length is 32 bits: keep well below */
static size_t clamp_sndbuf(size_t b)
{
	if (b < TCP_SNDBUF_MIN)
		return TCP_SNDBUF_MIN;
	return minsz(b, (size_t)1 << 30);
}

/* Does a flow with options @o autotune its receive buffer? */
static bool opts_rcv_auto(const struct tapir_stack *st, const struct tapir_tcp_flow_opts *o)
{
	const struct tapir_tcp_config *c = &st->cfg.tcp;

	return !o->rcvbuf && c->autotune && clamp_rcvbuf(c->rcvbuf_max) > clamp_rcvbuf(c->rcvbuf);
}

/**
 * tcp_opts_rcvbuf() - The receive buffer a flow with options @o starts with
 * @st: Stack
 * @o:  Options (rcvbuf 0: the stack's [tcp] rcvbuf)
 *
 * Return: bytes, within what window scaling can offer
 */
size_t tcp_opts_rcvbuf(const struct tapir_stack *st, const struct tapir_tcp_flow_opts *o)
{
	return clamp_rcvbuf(o->rcvbuf ? o->rcvbuf : st->cfg.tcp.rcvbuf);
}

/**
 * tcp_opts_wscale() - The window scale a flow with options @o offers
 * @st: Stack
 * @o:  Options
 *
 * Return: the shift that lets the window reach rcvbuf_max for an autotuned
 *         flow, else rcvbuf
 */
uint8_t tcp_opts_wscale(const struct tapir_stack *st, const struct tapir_tcp_flow_opts *o)
{
	if (opts_rcv_auto(st, o))
		return tcp_pick_wscale(clamp_rcvbuf(st->cfg.tcp.rcvbuf_max));
	return tcp_pick_wscale(tcp_opts_rcvbuf(st, o));
}

/**
 * tcp_buf_opts() - Take a new flow's buffer options
 * @f: Flow (f->o not yet set)
 * @o: Options: sndbuf / rcvbuf 0 for the stack's sizes, autotuned
 */
void tcp_buf_opts(struct tapir_tcp_flow *f, const struct tapir_tcp_flow_opts *o)
{
	const struct tapir_tcp_config *c = &f->st->cfg.tcp;

	f->o = *o;
	f->o.sndbuf = clamp_sndbuf(o->sndbuf ? o->sndbuf : c->sndbuf);
	f->o.rcvbuf = tcp_opts_rcvbuf(f->st, o);
	f->snd_auto = !o->sndbuf && c->autotune && clamp_sndbuf(c->sndbuf_max) > f->o.sndbuf;
	f->rcv_auto = opts_rcv_auto(f->st, o);
	f->rcv_ws = tcp_opts_wscale(f->st, o);
}

/* Start the first receive measurement (the flow is established). */
void tcp_autotune_init(struct tapir_tcp_flow *f)
{
	f->rcvq_seq = f->rcv_nxt - f->rlen;
	f->rcvq_time = (uint16_t)tcp_ms32(f->st);
}

/* The out-of-order data @f may hold: [tcp] ooo_max_bytes, plus what
 * autotuning added to its window */
size_t tcp_ooo_limit(const struct tapir_tcp_flow *f)
{
	const struct tapir_tcp_config *c = &f->st->cfg.tcp;
	size_t lim = c->ooo_max_bytes, init = clamp_rcvbuf(c->rcvbuf);

	return f->rcv_auto && f->o.rcvbuf > init ? lim + (f->o.rcvbuf - init) : lim;
}

/**
 * tcp_rcv_space_adjust() - Measure what the application took; grow rcvbuf
 * @f:          Flow
 * @ts_rtt_ms:  The receiver's RTT sample from the segment at hand's
 *              timestamp echo, ms (at least 1), or 0 for none
 *
 * Dynamic right-sizing: see the theory above.
 */
void tcp_rcv_space_adjust(struct tapir_tcp_flow *f, uint32_t ts_rtt_ms)
{
	const struct tapir_tcp_config *c = &f->st->cfg.tcp;
	uint32_t taken = f->rcv_nxt - f->rlen, copied, rtt_ms;
	uint16_t now = (uint16_t)tcp_ms32(f->st);
	uint32_t seg = f->rcv_mss ? f->rcv_mss : f->mss;
	size_t want, max;

	if (!f->rcv_auto)
		return;
	if (ts_rtt_ms)
		rtt_ms = ts_rtt_ms;
	else if (f->srtt_us)
		rtt_ms = (f->srtt_us + 999) / 1000;
	else
		return;	/* no estimate yet */
	rtt_ms = min32(max32(rtt_ms, TCP_RCV_RTT_FLOOR_MS), TCP_RCV_RTT_MAX_MS);
	if ((uint16_t)(now - f->rcvq_time) < rtt_ms)
		return;
	copied = taken - f->rcvq_seq;
	f->rcvq_seq = taken;
	f->rcvq_time = now;
	want = 2 * (size_t)copied + (size_t)TCP_RCV_HEADROOM_SEGS * seg;
	max = clamp_rcvbuf(c->rcvbuf_max);
	if (want <= f->o.rcvbuf || f->o.rcvbuf >= max)
		return;
	if (tcp_mem_under_pressure(f->st)) {
		CTR_INC(f->st, TCP_AUTOTUNE_REFUSED);
		return;
	}
	f->o.rcvbuf = minsz(want, max);
	CTR_INC(f->st, TCP_RCVBUF_GROWN);
}

/**
 * tcp_sndbuf_adjust() - Let the send limit follow cwnd (after an ACK)
 * @f: Flow
 */
void tcp_sndbuf_adjust(struct tapir_tcp_flow *f)
{
	size_t want, max;

	if (!f->snd_auto)
		return;
	max = clamp_sndbuf(f->st->cfg.tcp.sndbuf_max);
	if (f->o.sndbuf >= max)
		return;
	want = 2 * (size_t)f->cwnd;
	if ((size_t)flight(f) + f->cwnd > want)
		want = (size_t)flight(f) + f->cwnd;
	if (want <= f->o.sndbuf)
		return;
	if (tcp_mem_under_pressure(f->st)) {
		CTR_INC(f->st, TCP_AUTOTUNE_REFUSED);
		return;
	}
	f->o.sndbuf = minsz(want, max);
	CTR_INC(f->st, TCP_SNDBUF_GROWN);
}
