/*
 * buf.c - TCP send and receive buffers: rings that grow by doubling, delivery of
 * in-order data to the application
 */
#include <stdlib.h>
#include <string.h>

#include "tcp/tcp_conn.h"

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
	n = ring_regrow(f->sbuf, f->scap, f->shead, f->slen, cap);
	if (!n)
		return false;
	free(f->sbuf);
	f->sbuf = n;
	f->scap = cap;
	f->shead = 0;
	f->sres = 0;	/* the ring moved */
	return true;
}
