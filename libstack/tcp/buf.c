/*
 * buf.c - TCP send and receive buffers: rings that grow by doubling, delivery of
 * in-order data to the application, and the memory budget of all flows
 * (max_memory, tapir_tcp_mem_check())
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
	size_t cap = f->scap, need = f->slen + want;
	uint8_t *n;

	if (need <= cap)
		return true;
	if (cap == f->o.sndbuf)
		return false;
	if (cap == 0)
		cap = minsz(2048, f->o.sndbuf);
	while (cap < need && cap < f->o.sndbuf)
		cap = minsz(cap * 2, f->o.sndbuf);
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
