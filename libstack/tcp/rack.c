/*
 * rack.c - RACK-TLP loss detection (RFC 8985) for SACK flows
 *
 * Theory of operation
 *
 * RACK decides that a segment is lost by time, not by counting duplicate
 * ACKs: once a segment sent after it has been delivered (cumulatively
 * acknowledged or SACKed) and RACK.rtt + reo_wnd has passed since it was sent.
 *
 * Transmission times.  Original transmissions go out in sequence order, so
 * their times are kept as a log of (end, ts) pairs, one per burst (all that
 * is sent at one stack time shares an entry), oldest first, at most
 * TCP_XLOG; when it is full the oldest entry is merged into the next, which
 * makes those bytes look sent later (a loss is found later, never early).
 * Retransmissions during a recovery are sack.c's records (struct
 * tcp_rtx_rec), each with its time and SND.MAX at the time (what was sent
 * after it).  After a timeout the log starts again with the go-back-N
 * retransmissions, which are in sequence order as well.  Times are
 * microseconds of the stack's clock in 32 bits (compared by difference).
 *
 * On each ACK (tcp_rack_on_ack(), before the scoreboard takes the ACK):
 * among the newly delivered data (the highest newly acknowledged byte that
 * was not SACKed before, and each SACK block's new right edge) the one sent
 * last updates RACK.xmit_ts, RACK.end_seq and RACK.rtt = now - xmit_ts
 * (6.2 step 2: a retransmission acknowledged sooner than min_RTT after it was
 * sent was the original's delivery and is skipped).  Data delivered below the
 * highest delivered byte that was never retransmitted means reordering
 * (RACK.reord); a DSACK (RFC 2883: a first block below the cumulative ACK or
 * inside the second) widens the reordering window: reo_wnd_mult + 1 once per
 * round trip, for 16 recoveries (6.2 step 4).
 *
 * Detection (tcp_rack_detect(), after the ACK): reo_wnd is 0 while no
 * reordering was seen and the flow is in recovery or has DupThresh (3)
 * segments SACKed, else min(reo_wnd_mult * min_RTT / 4, SRTT).  Walking the
 * log oldest first, the data sent before RACK's segment whose time
 * ts + RACK.rtt + reo_wnd has come is lost: lost_end moves up to it; the
 * first that is not due yet arms the reordering timer (t_rtx with
 * reo_armed) for when it is, and the walk stops (the rest were sent later).
 * sack.c's tcp_rtx_check() applies the same rule to the retransmissions.
 * Lost data starts fast recovery (input.c); sack.c retransmits the unSACKed
 * holes below lost_end.
 *
 * The tail loss probe (RFC 8985 7) is timer.c's: it resends the last
 * segment after the PTO; its SACK or ACK then lets RACK see the tail's holes.
 * A probe that repairs a loss by itself (the ACK covers it, no DSACK says
 * the original arrived too) counts as a loss for congestion control: cwnd
 * and ssthresh go down as at a fast retransmit (7.4.2).
 */
#include <stdlib.h>
#include <string.h>

#include "tcp/tcp_conn.h"

#define RACK_REO_PERSIST 16     /* recoveries a widened reo_wnd lasts */
#define RACK_DUPTHRESH 3

static uint32_t now_us(const struct tapir_tcp_flow *f)
{
	return (uint32_t)(f->st->now / 1000);
}

/* Return: the flow's loss state, allocated if need be (NULL without SACK or
 * memory) */
struct tcp_loss *tcp_loss_get(struct tapir_tcp_flow *f)
{
	if (!f->loss && f->sack_ok) {
		f->loss = calloc(1, sizeof(*f->loss));
		if (f->loss)
			f->loss->lost_end = f->snd_una;
	}
	return f->loss;
}

/* Everything sent is acknowledged: an idle flow keeps no loss state */
void tcp_loss_free(struct tapir_tcp_flow *f)
{
	free(f->loss);
	f->loss = NULL;
}

static struct tcp_xmit *log_at(struct tcp_loss *l, unsigned i)
{
	return &l->log[(l->lhead + i) % TCP_XLOG];
}

/* Data at or above @seq sent (originals, or go-back-N after a timeout):
 * append to the log */
void tcp_rack_sent(struct tapir_tcp_flow *f, uint32_t seq, uint32_t len, bool rtx)
{
	struct tcp_loss *l;
	uint32_t end = seq + len, ts = now_us(f);
	struct tcp_xmit *last;

	if (!len || !f->sack_ok || (rtx && f->in_recovery))
		return;
	/* a lone segment (a small response) needs no log: the probe timer
	 * covers its loss; a segment sent later finds it in its own entry */
	if (!f->loss && seq_le(seq, f->snd_una) && len <= f->mss)
		return;
	l = tcp_loss_get(f);
	if (!l)
		return;
	last = l->ln ? log_at(l, l->ln - 1) : NULL;
	if (last && seq_le(end, last->end))
		return;	/* a probe or a resend of what the log holds */
	if (last && last->ts == ts) {
		last->end = end;
		return;
	}
	if (l->ln == TCP_XLOG) {
		/* the oldest merges into the next: sent later than it was */
		l->lhead = (l->lhead + 1) % TCP_XLOG;
		l->ln--;
	}
	*log_at(l, l->ln) = (struct tcp_xmit){ end, ts };
	l->ln++;
}

/* When was @seq (not SACKed, not acknowledged) last sent?  *@rtx: by a
 * recorded retransmission */
static uint32_t xmit_ts_of(const struct tapir_tcp_flow *f, uint32_t seq, bool *rtx)
{
	struct tcp_loss *l = f->loss;

	*rtx = false;
	for (unsigned i = l->nrtx; i-- > 0;)
		if (seq_ge(seq, l->rtx[i].seq) && seq_lt(seq, l->rtx[i].end)) {
			*rtx = true;
			return l->rtx[i].ts;
		}
	for (unsigned i = 0; i < l->ln; i++) {
		const struct tcp_xmit *e = &l->log[(l->lhead + i) % TCP_XLOG];

		if (seq_lt(seq, e->end))
			return e->ts;
	}
	return l->base_ts;
}

static bool sent_after(uint32_t t1, uint32_t s1, uint32_t t2, uint32_t s2)
{
	return (int32_t)(t1 - t2) > 0 || (t1 == t2 && seq_gt(s1, s2));
}

/* RFC 8985 6.2 step 2: the delivered byte @seq (its segment ends at @end) */
static void rack_update(struct tapir_tcp_flow *f, uint32_t seq, uint32_t end, uint32_t fack)
{
	struct tcp_loss *l = f->loss;
	bool rtx;
	uint32_t ts = xmit_ts_of(f, seq, &rtx), rtt = now_us(f) - ts;

	if ((int32_t)rtt < 0)
		return;
	if (rtx && l->min_rtt_us && rtt < l->min_rtt_us)
		return;	/* the original's delivery, not the retransmission's */
	if (!rtx && seq_lt(seq, fack) && !f->reord_seen && seq_ge(seq, f->recover)) {
		f->reord_seen = true;	/* delivered below what was delivered before */
		CTR_INC(f->st, TCP_RACK_REORDERING);
	}
	if (!rtx && (!l->min_rtt_us || rtt < l->min_rtt_us))
		l->min_rtt_us = rtt ? rtt : 1;
	if (!rtx)
		tcp_hystart_rtt(f, rtt);
	if (!l->rack_valid || sent_after(ts, end, l->xmit_ts, l->end_seq)) {
		l->rack_valid = true;
		l->xmit_ts = ts;
		l->end_seq = end;
		l->rtt_us = rtt;
	}
}

static void dsack_seen(struct tapir_tcp_flow *f)
{
	struct tcp_loss *l = f->loss;

	CTR_INC(f->st, TCP_DSACKS);
	if (l->dsack_end && seq_lt(f->snd_una, l->dsack_end))
		return;	/* one widening per round trip */
	l->dsack_end = f->snd_max;
	if (f->reo_wnd_mult < 64)
		f->reo_wnd_mult++;
	f->reo_persist = RACK_REO_PERSIST;
}

/* Is the first SACK block of @seg a DSACK (RFC 2883 4: below the
 * cumulative ACK, or inside the second block)? */
bool tcp_rack_dsack(const struct tcp_repr *seg)
{
	return seg->nsack && (seq_le(seg->sack[0].right, seg->ack) ||
			      (seg->nsack > 1 && seq_ge(seg->sack[0].left, seg->sack[1].left) &&
			       seq_le(seg->sack[0].right, seg->sack[1].right)));
}

/* An acceptable ACK, before the scoreboard and SND.UNA take it */
void tcp_rack_on_ack(struct tapir_tcp_flow *f, const struct tcp_repr *seg, bool dsack)
{
	struct tcp_loss *l = f->loss;
	uint32_t fack = seq_gt(f->high_sack, f->snd_una) ? f->high_sack : f->snd_una;
	unsigned first = 0;

	if (!l || !f->sack_ok)
		return;
	if (dsack) {
		dsack_seen(f);
		first = 1;
	}
	if (seq_gt(seg->ack, f->snd_una) && seq_le(seg->ack, f->snd_max)) {
		/* the highest newly acknowledged byte that was not SACKed */
		uint32_t h = seg->ack;

		for (unsigned i = 0; i < f->nsb; i++)
			if (seq_lt(f->sb[i].left, h) && seq_ge(f->sb[i].right, h))
				h = f->sb[i].left;
		if (seq_gt(h, f->snd_una))
			rack_update(f, h - 1, h, fack);
	}
	for (unsigned i = first; i < seg->nsack; i++) {
		uint32_t r = seg->sack[i].right, lim;

		if (seq_le(r, f->snd_una) || seq_gt(r, f->snd_max) ||
		    seq_ge(seg->sack[i].left, r))
			continue;
		if (tcp_skip_sacked(f, r - 1, &lim) != r - 1)
			continue;	/* SACKed before */
		rack_update(f, r - 1, r, fack);
	}
}

uint32_t tcp_rack_reo_wnd(const struct tapir_tcp_flow *f)
{
	uint32_t min_rtt = f->loss && f->loss->min_rtt_us ? f->loss->min_rtt_us : f->srtt_us, w;

	if (!f->reord_seen && f->reo_wnd_mult <= 1 &&
	    (f->in_recovery || f->sacked >= RACK_DUPTHRESH * f->mss))
		return 0;
	w = (f->reo_wnd_mult ? f->reo_wnd_mult : 1) * (min_rtt / 4);
	return f->rtt_valid && w > f->srtt_us ? f->srtt_us : w;
}

/* Where the lost data ends: RACK's mark, or without RACK the highest SACK */
uint32_t tcp_rack_lost_end(const struct tapir_tcp_flow *f)
{
	const struct tcp_loss *l = f->loss;

	if (l && l->rack_valid)
		return seq_gt(l->lost_end, f->snd_una) ? l->lost_end : f->snd_una;
	return f->high_sack;
}

static void arm_reo(struct tapir_tcp_flow *f, uint32_t wait_us)
{
	uint64_t at = f->st->now + (uint64_t)wait_us * 1000 + 1000;

	if (f->t_rtx && f->t_rtx <= at && !f->reo_armed)
		return;	/* an earlier RTO or probe looks again anyway */
	f->t_rtx = at;
	f->reo_armed = true;
	f->pto_armed = false;
	tcp_timer_update(f);
}

/*
 * RFC 8985 6.2 step 5 over the log: move lost_end over the data sent before
 * RACK's segment and due; arm the reordering timer for the first not due.
 * Return: true if lost_end moved (new losses)
 */
bool tcp_rack_detect(struct tapir_tcp_flow *f)
{
	struct tcp_loss *l = f->loss;
	uint32_t now = now_us(f), reo, lost_end, wait = 0;

	if (!l || !l->rack_valid)
		return false;
	reo = tcp_rack_reo_wnd(f);
	lost_end = tcp_rack_lost_end(f);
	while (l->ln && seq_le(log_at(l, 0)->end, f->snd_una)) {
		l->lhead = (l->lhead + 1) % TCP_XLOG;
		l->ln--;
	}
	for (unsigned i = 0; i < l->ln; i++) {
		const struct tcp_xmit *e = log_at(l, i);
		uint32_t limit = e->end;
		int64_t remaining;

		if (seq_le(e->end, lost_end))
			continue;
		if ((int32_t)(e->ts - l->xmit_ts) > 0)
			break;	/* sent after RACK's segment */
		if (e->ts == l->xmit_ts && seq_lt(l->end_seq, limit)) {
			limit = l->end_seq;	/* the same burst: only what came before */
			if (seq_le(limit, lost_end))
				break;
		}
		remaining = (int64_t)(int32_t)(e->ts - now) + l->rtt_us + reo;
		if (remaining > 0) {
			wait = (uint32_t)remaining;
			break;
		}
		if (seq_gt(limit, lost_end))
			lost_end = limit;
		if (limit != e->end)
			break;
	}
	if (l->rtt_us && wait)
		arm_reo(f, wait);
	if (seq_gt(lost_end, tcp_rack_lost_end(f))) {
		uint32_t lim, s = tcp_skip_sacked(f, tcp_rack_lost_end(f), &lim);

		l->lost_end = lost_end;
		if (seq_lt(s, lost_end)) {
			CTR_INC(f->st, TCP_RACK_LOST);
			return true;
		}
	}
	return false;
}

/* A timeout: everything outstanding is lost (6.3); the log starts again */
void tcp_rack_on_rto(struct tapir_tcp_flow *f)
{
	struct tcp_loss *l = f->loss;

	f->reo_armed = false;
	if (!l)
		return;
	l->ln = 0;
	l->lhead = 0;
	l->base_ts = now_us(f);
	l->rack_valid = false;
	l->lost_end = f->snd_una;
}

/* The reordering timer fired (t_rtx with reo_armed) */
void tcp_rack_timeout(struct tapir_tcp_flow *f)
{
	f->reo_armed = false;
	CTR_INC(f->st, TCP_RACK_REO_TIMEOUTS);
	if (f->in_recovery)
		tcp_rtx_check(f);
	if (tcp_rack_detect(f) && !f->in_recovery && seq_ge(f->snd_una, f->recover))
		tcp_enter_recovery(f);
	else
		(void)tcp_rto_recovery(f);
	tcp_output(f);
	if (!f->t_rtx && f->snd_una != f->snd_max)
		tcp_arm_rtx(f);
}

/* A recovery ended: a widened reordering window lasts 16 of them */
void tcp_rack_recovery_end(struct tapir_tcp_flow *f)
{
	if (f->reo_persist && --f->reo_persist == 0)
		f->reo_wnd_mult = 1;
}
