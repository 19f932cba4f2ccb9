/*
 * ooo.c - TCP out-of-order queue (see ooo.h)
 */
#include <stdlib.h>
#include <string.h>

#include "tcp/ooo.h"
#include "wire/tcp.h"

static size_t ooo_cost(uint32_t len)
{
	return len < TCP_OOO_MIN_CHARGE ? TCP_OOO_MIN_CHARGE : len;
}

enum tcp_ooo_result tcp_ooo_insert(struct tcp_ooo_queue *q, uint32_t seq, const uint8_t *data,
				   uint32_t len, size_t max_charge)
{
	struct tcp_ooo **pp = &q->head, *n;
	uint32_t end = seq + len;

	/* skip pieces that end before us; trim against the one before */
	while (*pp && seq_le((*pp)->seq + (*pp)->len, seq))
		pp = &(*pp)->next;
	if (*pp && seq_le((*pp)->seq, seq)) {
		/* starts inside an existing piece */
		uint32_t pend = (*pp)->seq + (*pp)->len;

		if (seq_ge(pend, end)) {
			q->last_seq = seq;
			return TCP_OOO_DUP;
		}
		data += pend - seq;
		seq = pend;
		pp = &(*pp)->next;
	}
	/* drop pieces we cover entirely; trim our end against the next one */
	while (*pp && seq_le((*pp)->seq + (*pp)->len, end) && seq_ge((*pp)->seq, seq)) {
		struct tcp_ooo *d = *pp;

		*pp = d->next;
		q->bytes -= d->len;
		q->charge -= ooo_cost(d->len);
		free(d);
	}
	if (*pp && seq_lt((*pp)->seq, end))
		end = (*pp)->seq;
	len = end - seq;
	if (len == 0)
		return TCP_OOO_NOTHING;
	if (q->charge + ooo_cost(len) > max_charge)
		return TCP_OOO_FULL;
	n = malloc(sizeof(*n) + len);
	if (!n)
		return TCP_OOO_NOMEM;
	n->seq = seq;
	n->len = len;
	memcpy(n->data, data, len);
	n->next = *pp;
	*pp = n;
	q->bytes += len;
	q->charge += ooo_cost(len);
	q->last_seq = seq;
	return TCP_OOO_QUEUED;
}

struct tcp_ooo *tcp_ooo_pop(struct tcp_ooo_queue *q, uint32_t rcv_nxt)
{
	struct tcp_ooo *o = q->head;

	if (!o || !seq_le(o->seq, rcv_nxt))
		return NULL;
	q->head = o->next;
	q->bytes -= o->len;
	q->charge -= ooo_cost(o->len);
	o->next = NULL;
	return o;
}

void tcp_ooo_clear(struct tcp_ooo_queue *q)
{
	struct tcp_ooo *o = q->head;

	while (o) {
		struct tcp_ooo *n = o->next;

		free(o);
		o = n;
	}
	q->head = NULL;
	q->bytes = q->charge = 0;
}
