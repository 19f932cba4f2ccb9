/*
 * timer.c - TCP timers: the min-heap of flows, RTT and RTO (RFC 6298), tail
 * loss probes, retransmission, persist, keepalive, delayed ACK, orphan
 * probes (TIME_WAIT entries are tw.c)
 */
#include <errno.h>
#include <stdlib.h>

#include "tcp/tcp_conn.h"

/* ---- timer heap ---- */

static void heap_swap(struct tcp_stack *t, size_t a, size_t b)
{
	struct tapir_tcp_flow *x = t->heap[a];

	t->heap[a] = t->heap[b];
	t->heap[b] = x;
	t->heap[a]->heap_idx = a;
	t->heap[b]->heap_idx = b;
}

static void heap_up(struct tcp_stack *t, size_t i)
{
	while (i > 0) {
		size_t p = (i - 1) / 2;

		if (t->heap[p]->heap_key <= t->heap[i]->heap_key)
			break;
		heap_swap(t, p, i);
		i = p;
	}
}

static void heap_down(struct tcp_stack *t, size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;

		if (l < t->nheap && t->heap[l]->heap_key < t->heap[m]->heap_key)
			m = l;
		if (r < t->nheap && t->heap[r]->heap_key < t->heap[m]->heap_key)
			m = r;
		if (m == i)
			return;
		heap_swap(t, i, m);
		i = m;
	}
}

void tcp_heap_remove(struct tcp_stack *t, struct tapir_tcp_flow *f)
{
	size_t i = f->heap_idx;

	if (i == TCP_HEAP_NONE)
		return;
	f->heap_idx = TCP_HEAP_NONE;
	t->nheap--;
	if (t->heap_cap > 1024 && t->nheap < t->heap_cap / 4) {
		/* a burst of timers is over: give the array back (idle flows
		 * are not in the heap), keeping twice what is in use */
		struct tapir_tcp_flow **n = realloc(t->heap, t->heap_cap / 2 * sizeof(*n));

		if (n) {
			t->heap = n;
			t->heap_cap /= 2;
		}
	}
	if (i == t->nheap)
		return;
	t->heap[i] = t->heap[t->nheap];
	t->heap[i]->heap_idx = i;
	heap_up(t, i);
	heap_down(t, t->heap[i]->heap_idx);
}

/* The flow's earliest armed timer, UINT64_MAX when none */
uint64_t tcp_flow_deadline(const struct tapir_tcp_flow *f)
{
	uint64_t d = UINT64_MAX;

	if (f->t_rtx && f->t_rtx < d)
		d = f->t_rtx;
	if (f->t_delack && f->t_delack < d)
		d = f->t_delack;
	if (f->t_ka && f->t_ka < d)
		d = f->t_ka;
	if (f->t_wait && f->t_wait < d)
		d = f->t_wait;
	return d;
}

/* Make the heap key no later than the flow's earliest timer (lazy: a later
 * deadline is picked up when the flow pops). */
void tcp_timer_update(struct tapir_tcp_flow *f)
{
	struct tcp_stack *t = T(f->st);
	uint64_t d = tcp_flow_deadline(f);

	if (f->zombie || d == UINT64_MAX)
		return;
	if (f->heap_idx != TCP_HEAP_NONE) {
		if (d < f->heap_key) {
			f->heap_key = d;
			heap_up(t, f->heap_idx);
		}
		return;
	}
	if (t->nheap == t->heap_cap) {
		size_t cap = t->heap_cap ? t->heap_cap * 2 : 64;
		struct tapir_tcp_flow **n = realloc(t->heap, cap * sizeof(*n));

		if (!n)
			return; /* the flow's timers wait for the next update */
		t->heap = n;
		t->heap_cap = cap;
	}
	f->heap_key = d;
	f->heap_idx = t->nheap;
	t->heap[t->nheap++] = f;
	heap_up(t, f->heap_idx);
}

/*
 * Arm the retransmission timer: a tail loss probe timeout (RFC 8985 7.2:
 * 2 SRTT, + 200 ms with one segment in flight, at least 10 ms) when it comes
 * before the RTO and SACK can tell what the probe finds, else the RTO.
 */
bool tcp_pto_get_ext(const struct tapir_tcp_flow *f, uint32_t sending, uint64_t *out)
{
	uint64_t pto = (uint64_t)f->srtt_us * 2000;

	if (flight(f) + sending <= f->mss)
		pto += 200 * MS;
	if (pto < 10 * MS)
		pto = 10 * MS;
	*out = pto;
	return f->sack_ok && f->rtt_valid && !f->in_recovery && !f->tlp_out && f->retries == 0 &&
	       (f->state == TAPIR_TCP_STATE_ESTABLISHED ||
		f->state == TAPIR_TCP_STATE_CLOSE_WAIT) &&
	       pto < f->rto;
}

static bool pto_get(const struct tapir_tcp_flow *f, uint64_t *out)
{
	return tcp_pto_get_ext(f, 0, out);
}

/* @sending: bytes going out now, not yet in the flight (a TSO super-segment:
 * many segments, so no delayed-ACK allowance for a flight of one) */
void tcp_arm_rtx_ext(struct tapir_tcp_flow *f, uint32_t sending)
{
	uint64_t pto;

	f->pto_armed = tcp_pto_get_ext(f, sending, &pto);
	f->reo_armed = false;
	f->t_rtx = f->st->now + (f->pto_armed ? pto : f->rto);
	tcp_timer_update(f);
}

void tcp_arm_rtx(struct tapir_tcp_flow *f)
{
	uint64_t pto;

	f->pto_armed = pto_get(f, &pto);
	f->reo_armed = false;
	f->t_rtx = f->st->now + (f->pto_armed ? pto : f->rto);
	tcp_timer_update(f);
}

void tcp_arm_persist(struct tapir_tcp_flow *f)
{
	uint64_t iv = f->rto << (f->backoff < 16 ? f->backoff : 16);

	if (iv > TCP_PERSIST_MAX || iv == 0)
		iv = TCP_PERSIST_MAX;
	f->persist = true;
	f->t_rtx = f->st->now + iv;
	tcp_timer_update(f);
}

/* ---- RTT ---- */

void tcp_rtt_sample(struct tapir_tcp_flow *f, uint64_t rtt_ns);

/* An RTT sample from a timestamp echo, if the echo is plausible (RFC 7323
 * 4.1: an echo from the future or from long ago is not used). */
void tcp_ts_sample(struct tapir_tcp_flow *f, uint32_t ecr)
{
	uint32_t d = ts_now(f) - ecr;

	if (ecr && d < 120000)
		tcp_rtt_sample(f, (uint64_t)d * MS);
}

void tcp_rtt_sample(struct tapir_tcp_flow *f, uint64_t rtt_ns)
{
	const struct tapir_tcp_config *c = &f->st->cfg.tcp;
	uint32_t r = (uint32_t)minsz(rtt_ns / 1000, 0xffffffffu);
	uint64_t rto;

	if (r == 0)
		r = 1;
	if (!f->rtt_valid) {
		f->srtt_us = r;
		f->rttvar_us = r / 2;
		f->rtt_valid = true;
	} else {
		uint32_t d = f->srtt_us > r ? f->srtt_us - r : r - f->srtt_us;

		f->rttvar_us = (3 * f->rttvar_us + d) / 4;
		f->srtt_us = (7 * f->srtt_us + r) / 8;
		if (f->srtt_us == 0)
			f->srtt_us = 1;
	}
	rto = ((uint64_t)f->srtt_us + max32(1000, 4 * f->rttvar_us)) * 1000;
	if (rto < c->rto_min_ns)
		rto = c->rto_min_ns;
	if (rto > c->rto_max_ns)
		rto = c->rto_max_ns;
	f->rto = rto;
	f->backoff = 0;
}

/* ---- timers ---- */

static void flow_timeout_abort(struct tapir_tcp_flow *f)
{
	CTR_INC(f->st, TCP_ABORT_TIMEOUT);
	if (f->state != TAPIR_TCP_STATE_SYN_SENT)
		tcp_send_rst(f);
	tcp_flow_drop(f, -ETIMEDOUT);
}

/* RFC 8985 7.3: send one new segment, or the last one again. */
static void tail_loss_probe(struct tapir_tcp_flow *f)
{
	uint32_t data_end = f->sbuf_seq + (uint32_t)f->slen, len, seq;

	uint32_t end = seq_lt(data_end, f->snd_max) ? data_end : f->snd_max;

	f->pto_armed = false;
	f->tlp_out = true;
	f->tlp_episode = true;
	CTR_INC(f->st, TCP_TAIL_LOSS_PROBES);
	/*
	 * The probe resends the last segment sent, even when new data is
	 * waiting (RFC 8985 7.3 prefers new data).  A receiver that delays
	 * ACKs (Linux: 40 ms) acknowledges a duplicate at once but sits on a
	 * lone new segment, so when the ACK that ended the flight was lost, a
	 * new-data probe adds the delayed-ACK time to the PTO: measured over
	 * TAP with 1 % loss each way, that stall was a third of the time.  The
	 * resent segment also repairs a lost tail directly.
	 */
	len = min32(f->mss, end - f->snd_una);
	seq = end - len;
	len = tcp_xmit_data(f, seq, len, f->fin_queued && f->snd_max == data_end + 1, true);
	f->tlp_end = seq + len;
	f->t_rtx = f->st->now + f->rto;
	tcp_timer_update(f);
}

static void rtx_timeout(struct tapir_tcp_flow *f)
{
	struct tapir_stack *st = f->st;
	const struct tapir_tcp_config *c = &st->cfg.tcp;

	f->t_rtx = 0;
	if (f->persist) {
		/* an orphan the peer holds with a zero window while answering
		 * every probe: reset after orphan_retries probes without progress
		 * (Linux's tcp_orphan_retries) */
		if (f->app_closed) {
			if (f->snd_una != f->probe_una) {
				f->probe_una = f->snd_una;
				f->orphan_probes = 0;
			}
			if (f->orphan_probes >= c->orphan_retries) {
				CTR_INC(st, TCP_ORPHAN_PROBES_RESET);
				tcp_send_rst(f);
				tcp_flow_drop(f, -ETIMEDOUT);
				return;
			}
			f->orphan_probes++;
		}
		/* zero-window probe */
		if (f->probes >= (c->max_retries ? c->max_retries : 1)) {
			flow_timeout_abort(f);
			return;
		}
		f->probes++;
		f->backoff++;
		CTR_INC(st, TCP_ZERO_WINDOW_PROBES);
		f->persist = false;
		if (f->snd_wnd > 0) {
			f->sws_override = true;	/* window too small for SWS: override */
			tcp_output(f);
			f->sws_override = false;
		} else {
			struct tcp_repr r;

			tcp_fill_common(f, &r, f->snd_una - 1, TCP_ACK);
			if (tcp_send_repr(st, &f->laddr, &f->raddr, &r) == 0)
				tcp_ack_sent(f, &r);
		}
		if (!f->t_rtx)
			tcp_arm_persist(f);
		return;
	}
	if (f->state == TAPIR_TCP_STATE_SYN_SENT || f->state == TAPIR_TCP_STATE_SYN_RECEIVED) {
		if (f->retries >= (c->syn_retries ? c->syn_retries : 1)) {
			if (f->state == TAPIR_TCP_STATE_SYN_RECEIVED && !f->known) {
				f->state = TAPIR_TCP_STATE_CLOSED;
				tcp_flow_maybe_free(f);
				return;
			}
			flow_timeout_abort(f);
			return;
		}
		f->retries++;
		f->rto = f->rto * 2 > c->rto_max_ns ? c->rto_max_ns : f->rto * 2;
		f->retransmits++;
		CTR_INC(st, TCP_RETRANSMITS);
		tcp_send_syn(f);
		return;
	}
	if (!can_send_data(f) || f->snd_una == f->snd_max) {
		f->reo_armed = false;
		return;
	}
	if (f->reo_armed) {
		tcp_rack_timeout(f);	/* RACK's reordering timer, not the RTO */
		return;
	}
	if (f->pto_armed) {
		tail_loss_probe(f);
		return;
	}
	if (f->snd_wnd == 0) {
		/* the peer closed its window with data in flight: probe it */
		f->snd_nxt = f->snd_una;
		tcp_arm_persist(f);
		return;
	}
	if (!f->first_rtx)
		f->first_rtx = max32(tcp_ms32(st), 1);
	if (f->retries >= c->max_retries && tcp_ms32(st) - f->first_rtx >= TCP_R2_FLOOR / MS) {
		flow_timeout_abort(f);
		return;
	}
	f->retries++;
	f->rto_timeouts++;
	CTR_INC(st, TCP_RTO_TIMEOUTS);
	/* RFC 5681 eq. 4 on the first timeout; loss window */
	if (f->retries == 1)
		f->ssthresh = tcp_cc_ssthresh(f);
	f->cwnd = f->mss;
	f->bytes_acked_ca = 0;
	f->in_recovery = false;
	if (f->loss)
		f->loss->nrtx = 0;
	f->pto_armed = false;
	f->tlp_episode = false;
	tcp_rack_on_rto(f);
	if (f->retries >= 2) {
		/* a second timeout in a row: forget SACK info, in case the
		 * receiver dropped what it SACKed (RFC 2018 8) */
		tcp_sb_clear(f);
		f->sacked = 0;
		f->high_sack = f->snd_una;
	}
	f->dupacks = 0;
	f->recover = f->snd_max;
	f->snd_nxt = f->snd_una;
	f->rtt_timing = false;
	f->rto = f->rto * 2 > c->rto_max_ns ? c->rto_max_ns : f->rto * 2;
	f->backoff++;
	tcp_cc_on_rto(f);
	tcp_output(f);
	if (!f->t_rtx) {
		f->t_rtx = st->now + f->rto;
		tcp_timer_update(f);
	}
}

static void flow_timers(struct tapir_tcp_flow *f)
{
	struct tapir_stack *st = f->st;
	uint64_t now = st->now;

	if (f->t_wait && f->t_wait <= now) {
		f->t_wait = 0;
		if (f->state == TAPIR_TCP_STATE_FIN_WAIT_2)
			CTR_INC(st, TCP_FIN_WAIT2_TIMEOUTS);
		if (f->state == TAPIR_TCP_STATE_TIME_WAIT || f->state == TAPIR_TCP_STATE_FIN_WAIT_2) {
			tcp_flow_drop(f, 0);
			return;
		}
	}
	if (f->t_delack && f->t_delack <= now) {
		f->t_delack = 0;
		if (seq_gt(f->rcv_nxt, f->last_ack_sent)) {
			CTR_INC(st, TCP_DELAYED_ACKS);
			tcp_send_ack(f);
		}
	}
	if (f->t_rtx && f->t_rtx <= now) {
		rtx_timeout(f);
		if (f->zombie || f->state == TAPIR_TCP_STATE_CLOSED)
			return;
	}
	if (f->t_ka && f->t_ka <= now) {
		f->t_ka = 0;
		if (f->o.keepalive && (f->state == TAPIR_TCP_STATE_ESTABLISHED ||
				       f->state == TAPIR_TCP_STATE_CLOSE_WAIT)) {
			/* idle since the last segment (ms clock, 49-day wrap) */
			uint64_t idle = (uint64_t)(uint32_t)(tcp_ms32(f->st) - f->last_rcv_ms) * 1000000;
			uint64_t idle_end = now + (idle < f->o.ka_idle_ns ? f->o.ka_idle_ns - idle : 0);

			if (f->ka_probes == 0 && idle_end > now) {
				f->t_ka = idle_end;
			} else if (f->snd_una != f->snd_max || f->persist) {
				/* data in flight: retransmissions or probes watch the peer */
				f->ka_probes = 0;
				f->t_ka = now + f->o.ka_idle_ns;
			} else if (f->ka_probes >= f->o.ka_count) {
				flow_timeout_abort(f);
				return;
			} else {
				struct tcp_repr r;

				f->ka_probes++;
				CTR_INC(st, TCP_KEEPALIVE_PROBES);
				tcp_fill_common(f, &r, f->snd_una - 1, TCP_ACK);
				if (tcp_send_repr(st, &f->laddr, &f->raddr, &r) == 0)
					tcp_ack_sent(f, &r);
				f->t_ka = now + f->o.ka_intvl_ns;
			}
		}
	}
}

void tcp_poll(struct tapir_stack *st)
{
	struct tcp_stack *t = T(st);

	if (!t)
		return;
	t->depth++;
	while (t->nheap && t->heap[0]->heap_key <= st->now) {
		struct tapir_tcp_flow *f = t->heap[0];

		tcp_heap_remove(t, f);
		flow_timers(f);
		if (!f->zombie)
			tcp_timer_update(f);
	}
	tcp_tw_expire(st);
	tcp_mem_wake(st);
	t->depth--;
	tcp_reap(t);
}

uint64_t tcp_next_deadline(const struct tapir_stack *st)
{
	const struct tcp_stack *t = T(st);
	uint64_t d;

	if (!t)
		return TAPIR_STACK_NO_DEADLINE;
	if (tcp_mem_wake_pending(st))
		return st->now;	/* memory came back: writable() for the refused */
	d = tcp_tw_deadline(t);
	if (t->nheap && t->heap[0]->heap_key < d)
		d = t->heap[0]->heap_key;
	return d;
}
