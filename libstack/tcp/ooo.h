/*
 * ooo.h - TCP out-of-order queue: received data held until the hole before it fills
 *
 * A queue is a list of pieces sorted by sequence number that never overlap:
 * an insertion keeps what is already held and queues only the new bytes
 * (trimmed against the pieces on both sides; pieces it covers entirely are
 * replaced).  Memory is bounded by the caller's limit on the charge: each
 * piece costs its length but at least TCP_OOO_MIN_CHARGE bytes, so that many
 * tiny pieces cannot hold much more memory than the limit says.  The queue
 * knows nothing of flows or counters; input.c counts what tcp_ooo_insert()
 * reports and delivers what tcp_ooo_pop() hands back.
 */
#ifndef TAPIR_TCP_OOO_H
#define TAPIR_TCP_OOO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TCP_OOO_MIN_CHARGE 512  /* an out-of-order piece costs at least this */

/* One piece: @len bytes from sequence number @seq */
struct tcp_ooo {
	struct tcp_ooo *next;
	uint32_t seq;
	uint32_t len;
	uint8_t data[];
};

/**
 * struct tcp_ooo_queue - out-of-order data of one flow (all zero: empty)
 * @head:	Pieces, sorted by sequence number, not overlapping
 * @bytes:	Data bytes held
 * @charge:	Bytes charged against the limit (see TCP_OOO_MIN_CHARGE)
 * @last_seq:	Start of the most recent arrival (the first SACK block names it)
 */
struct tcp_ooo_queue {
	struct tcp_ooo *head;
	uint32_t bytes, charge;   /* bounded by ooo_max_bytes (<= rcvbuf) */
	uint32_t last_seq;
	uint32_t fin_seq;         /* the flow's out-of-order FIN, if ooo_fin (not ooo.c's) */
};

/* What tcp_ooo_insert() did */
enum tcp_ooo_result {
	TCP_OOO_QUEUED = 0,     /* new bytes queued */
	TCP_OOO_DUP,            /* all held already (@last_seq still moves to it) */
	TCP_OOO_NOTHING,        /* nothing new after trimming (e.g. len 0) */
	TCP_OOO_FULL,           /* dropped: the charge would pass the limit */
	TCP_OOO_NOMEM,          /* dropped: no memory */
};

/**
 * tcp_ooo_insert() - Queue a received piece, keeping what is already held
 * @q:          Queue
 * @seq:        Sequence number of @data[0]
 * @data:       Bytes (copied)
 * @len:        Length
 * @max_charge: Limit on @q->charge
 *
 * Return: what happened (see enum tcp_ooo_result)
 */
enum tcp_ooo_result tcp_ooo_insert(struct tcp_ooo_queue *q, uint32_t seq, const uint8_t *data,
				   uint32_t len, size_t max_charge);

/**
 * tcp_ooo_pop() - Take the first piece if it starts at or before @rcv_nxt
 * @q:       Queue
 * @rcv_nxt: Next sequence number expected in order
 *
 * The piece may begin below @rcv_nxt (bytes already received), or lie below
 * it entirely: the caller skips what it has.
 *
 * Return: the piece, unlinked and no longer counted: the caller free()s it;
 *         NULL when the queue is empty or its first piece is beyond @rcv_nxt
 */
struct tcp_ooo *tcp_ooo_pop(struct tcp_ooo_queue *q, uint32_t rcv_nxt);

/* Free every piece; the queue is empty afterwards. */
void tcp_ooo_clear(struct tcp_ooo_queue *q);

static inline bool tcp_ooo_empty(const struct tcp_ooo_queue *q)
{
	return q->head == NULL;
}

#endif /* TAPIR_TCP_OOO_H */
