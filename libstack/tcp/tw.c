/*
 * tw.c - the TIME_WAIT set: compact entries outside the flow table, bounded by
 * max_tw (oldest recycled), RFC 1337, RFC 6191 reuse (see tcp_conn.h)
 */
#include <errno.h>
#include <stdlib.h>

#include "tcp/tcp_conn.h"

#define TW_ACK_INTERVAL (500 * MS)	/* as Linux's tcp_invalid_ratelimit */

/* A TIME_WAIT entry our own connect may take over once this old (tcp_tw_take()) */
#define TW_REUSE_AGE 1000000000ull

static size_t tw_idx(const struct tcp_stack *t, const struct tcp_ip *laddr,
		     const struct tcp_ip *raddr, uint16_t rport, uint16_t lport)
{
	uint64_t h = tuple_hash(t->hash_key, laddr, raddr, rport, lport);

	return (size_t)(h >> 32) & t->tw_hmask;
}

/* Size the hash for @max_tw entries (64 to 1M chains). */
int tcp_tw_init(struct tcp_stack *t, size_t max_tw)
{
	size_t n = 64;

	while (n < max_tw && n < (1u << 20))
		n *= 2;
	t->tw_hash = calloc(n, sizeof(*t->tw_hash));
	if (!t->tw_hash)
		return -ENOMEM;
	t->tw_hmask = n - 1;
	return 0;
}

static void tw_remove(struct tcp_stack *t, struct tcp_tw *tw)
{
	struct tcp_tw **pp = &t->tw_hash[tw_idx(t, &tw->laddr, &tw->raddr, tw->rport, tw->lport)];

	while (*pp && *pp != tw)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = tw->hnext;
	if (tw->prev)
		tw->prev->next = tw->next;
	else
		t->tw_head = tw->next;
	if (tw->next)
		tw->next->prev = tw->prev;
	else
		t->tw_tail = tw->prev;
	t->ntw--;
	free(tw);
}

static void tw_append(struct tcp_stack *t, struct tcp_tw *tw)
{
	tw->next = NULL;
	tw->prev = t->tw_tail;
	if (t->tw_tail)
		t->tw_tail->next = tw;
	else
		t->tw_head = tw;
	t->tw_tail = tw;
}

void tcp_tw_fini(struct tcp_stack *t)
{
	while (t->tw_head)
		tw_remove(t, t->tw_head);
	free(t->tw_hash);
	t->tw_hash = NULL;
}

struct tcp_tw *tcp_tw_lookup(const struct tcp_stack *t, const struct tcp_ip *laddr,
			     const struct tcp_ip *raddr, uint16_t rport, uint16_t lport)
{
	if (!t->ntw)
		return NULL;
	for (struct tcp_tw *tw = t->tw_hash[tw_idx(t, laddr, raddr, rport, lport)]; tw;
	     tw = tw->hnext)
		if (tw->rport == rport && tw->lport == lport && tcp_ip_eq(&tw->raddr, raddr) &&
		    tcp_ip_eq(&tw->laddr, laddr))
			return tw;
	return NULL;
}

/**
 * tcp_tw_add() - Keep the TIME_WAIT of @f in the set for 2 MSL
 * @f: Flow whose FIN exchange just ended (RCV.NXT past the peer's FIN)
 *
 * When the set holds max_tw entries the oldest goes (counted as
 * tcp.tw_recycled); with max_tw 0 nothing is kept (counted the same way).
 */
void tcp_tw_add(struct tapir_tcp_flow *f)
{
	struct tapir_stack *st = f->st;
	struct tcp_stack *t = T(st);
	struct tcp_tw *tw;
	size_t h;

	if (st->cfg.tcp.max_tw == 0) {
		CTR_INC(st, TCP_TW_RECYCLED);
		return;
	}
	while (t->ntw && t->ntw >= st->cfg.tcp.max_tw) {
		CTR_INC(st, TCP_TW_RECYCLED);
		tw_remove(t, t->tw_head);
	}
	tw = calloc(1, sizeof(*tw));
	if (!tw) {
		CTR_INC(st, TCP_DROP_NOMEM);
		return;
	}
	tw->laddr = f->laddr;
	tw->raddr = f->raddr;
	tw->rport = f->rport;
	tw->lport = f->lport;
	tw->snd_nxt = f->snd_max;
	tw->rcv_nxt = f->rcv_nxt;
	tw->window = tcp_rcv_window(f);
	tw->ts_ok = f->ts_ok;
	tw->ts_recent = f->ts_recent;
	tw->ts_offset = f->ts_offset;
	tw->expiry = st->now + 2 * st->cfg.tcp.msl_ns;
	h = tw_idx(t, &tw->laddr, &tw->raddr, tw->rport, tw->lport);
	tw->hnext = t->tw_hash[h];
	t->tw_hash[h] = tw;
	tw_append(t, tw);
	t->ntw++;
}

/* An ACK from the entry; @limited: at most one per TW_ACK_INTERVAL */
static void tw_ack(struct tapir_stack *st, struct tcp_tw *tw, bool limited)
{
	struct tcp_repr r;

	/* only the answers to unacceptable segments are limited, and only they
	 * count towards the limit (Linux's tw_last_oow_ack_time) */
	if (limited) {
		if (tw->last_ack && st->now - tw->last_ack < TW_ACK_INTERVAL) {
			CTR_INC(st, TCP_TW_ACKS_LIMITED);
			return;
		}
		tw->last_ack = st->now ? st->now : 1;
	}
	tcp_repr_init(&r);
	r.src_port = tw->lport;
	r.dst_port = tw->rport;
	r.seq = tw->snd_nxt;
	r.ack = tw->rcv_nxt;
	r.flags = TCP_ACK;
	r.window = tw->window;
	if (tw->ts_ok) {
		r.has_ts = true;
		r.ts_val = (uint32_t)(st->now / MS) + tw->ts_offset;
		r.ts_ecr = tw->ts_recent;
	}
	(void)tcp_send_repr(st, &tw->laddr, &tw->raddr, &r);
}

/**
 * tcp_tw_input() - A segment for a tuple in TIME_WAIT (RFC 9293 3.10.7.4)
 * @st:  Stack
 * @tw:  The entry
 * @seg: The segment
 * @isn: Set to the ISS for a new connection when false is returned
 *
 * A SYN (without ACK) above RCV.NXT, or with a timestamp newer than
 * TS.Recent, that PAWS does not reject, and to a port with a listener, may
 * open a new connection (RFC 6191, as Linux's tcp_timewait_state_process):
 * the entry goes and the new ISS is SND.NXT + 65537, above anything the old
 * connection sent.
 *
 * Return: true when the segment was dealt with here; false when it goes to
 *         the listener (the entry is gone)
 */
bool tcp_tw_input(struct tapir_stack *st, struct tcp_tw *tw, const struct tcp_repr *seg,
		  uint32_t *isn)
{
	struct tcp_stack *t = T(st);
	bool paws = tw->ts_ok && seg->has_ts && seq_lt(seg->ts_val, tw->ts_recent);
	uint32_t slen = (uint32_t)seg->payload_len + !!(seg->flags & TCP_FIN);

	if (seg->flags & TCP_RST) {
		CTR_INC(st, TCP_DROP_RST_INVALID);
		return true;	/* RFC 1337: no assassination */
	}
	if ((seg->flags & (TCP_SYN | TCP_ACK)) == TCP_SYN) {
		if (!paws && !(seg->flags & TCP_FIN) &&
		    (seq_gt(seg->seq, tw->rcv_nxt) ||
		     (tw->ts_ok && seg->has_ts && seq_gt(seg->ts_val, tw->ts_recent))) &&
		    tcp_listener_find(t, seg->dst_port,
				      tcp_ip_is4(&tw->laddr) ? TAPIR_AF_INET : TAPIR_AF_INET6)) {
			uint32_t n = tw->snd_nxt + 65535 + 2;

			*isn = n ? n : 1;
			CTR_INC(st, TCP_TIME_WAIT_REUSED);
			tw_remove(t, tw);
			return false;
		}
		CTR_INC(st, TCP_CHALLENGE_ACKS);
		tw_ack(st, tw, true);
		return true;
	}
	if (paws) {
		CTR_INC(st, TCP_DROP_PAWS);
		if (slen || (seg->flags & TCP_SYN))
			tw_ack(st, tw, true);
		return true;
	}
	if ((seg->flags & TCP_FIN) && !(seg->flags & TCP_SYN) && seg->seq + slen == tw->rcv_nxt) {
		/* the peer's FIN again: our ACK was lost; 2 MSL from now */
		if (tw->ts_ok && seg->has_ts)
			tw->ts_recent = seg->ts_val;
		tw->expiry = st->now + 2 * st->cfg.tcp.msl_ns;
		if (t->tw_tail != tw) {
			if (tw->prev)
				tw->prev->next = tw->next;
			else
				t->tw_head = tw->next;
			tw->next->prev = tw->prev;
			tw_append(t, tw);
		}
		tw_ack(st, tw, false);
		return true;
	}
	/* anything else occupying sequence space is unacceptable here (counted)
	 * and gets an ACK, at most one per TW_ACK_INTERVAL (RFC 5961 7; Linux's
	 * tcp_invalid_ratelimit); a bare ACK is not answered (no ACK loops) */
	if (slen || (seg->flags & TCP_SYN)) {
		CTR_INC(st, TCP_DROP_OUT_OF_WINDOW);
		tw_ack(st, tw, true);
	}
	return true;
}

/**
 * tcp_tw_take() - Let a connection we open take the tuple of @tw
 * @st: Stack
 * @tw: The entry (found by tcp_ephemeral_port())
 *
 * As Linux's tcp_tw_reuse, so that a client opening connections faster
 * than 16,384 per 2 MSL to one address and port (the gateway's forwards)
 * does not run out of ports: only when the old connection used timestamps
 * (our timestamps for a tuple only grow, the offset being keyed by the
 * tuple, so the peer's PAWS rejects the old connection's segments) and the
 * entry is at least a second old.  The entry goes (tcp.time_wait_reused).
 *
 * Return: the ISS for the new connection, past the old one's sequence
 * space, or 0 when @tw may not be taken.
 */
uint32_t tcp_tw_take(struct tapir_stack *st, struct tcp_tw *tw)
{
	uint32_t n;

	if (!tw->ts_ok || st->now + 2 * st->cfg.tcp.msl_ns < tw->expiry + TW_REUSE_AGE)
		return 0;
	n = tw->snd_nxt + 65535 + 2;
	CTR_INC(st, TCP_TIME_WAIT_REUSED);
	tw_remove(T(st), tw);
	return n ? n : 1;
}

/* Drop the entries whose 2 MSL are over (the list is in expiry order, as
 * long as msl does not change under it). */
void tcp_tw_expire(struct tapir_stack *st)
{
	struct tcp_stack *t = T(st);

	while (t->tw_head && t->tw_head->expiry <= st->now) {
		CTR_INC(st, TCP_TW_EXPIRED);
		tw_remove(t, t->tw_head);
	}
}

uint64_t tcp_tw_deadline(const struct tcp_stack *t)
{
	return t->tw_head ? t->tw_head->expiry : TAPIR_STACK_NO_DEADLINE;
}

size_t tcp_tw_list(const struct tcp_stack *t, struct tapir_tcp_flow_info *out, size_t max)
{
	size_t n = 0;

	for (const struct tcp_tw *tw = t->tw_head; tw && n < max; tw = tw->next, n++) {
		struct tapir_tcp_flow_info *o = &out[n];

		*o = (struct tapir_tcp_flow_info){ 0 };
		o->local_addr = tcp_ip_to_addr(&tw->laddr, false);
		o->remote_addr = tcp_ip_to_addr(&tw->raddr, false);
		o->local_port = tw->lport;
		o->remote_port = tw->rport;
		o->state = TAPIR_TCP_STATE_TIME_WAIT;
		o->timestamps = tw->ts_ok;
	}
	return n;
}
