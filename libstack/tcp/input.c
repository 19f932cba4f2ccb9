/*
 * input.c - TCP segment input: the state machine (RFC 9293 3.10.7), ACK
 * processing, listeners, and ICMP errors
 */
#include <errno.h>
#include <stdlib.h>

#include "tcp/tcp_conn.h"
#include "wire/bytes.h"
#include "wire/icmp.h"
#include "wire/ipv6.h"

/* ---- out-of-order data (the queue itself is ooo.c) ---- */

/* Queue the data of @seg, which is beyond rcv_nxt, and count what happened. */
static void ooo_insert(struct tapir_tcp_flow *f, const struct tcp_repr *seg)
{
	size_t before = f->ooo.bytes;
	enum tcp_ooo_result rc;

	if (tcp_mem_under_pressure(f->st)) {
		CTR_INC(f->st, TCP_DROP_OOO_MEM);	/* under memory pressure: the first to go */
		return;
	}
	rc = tcp_ooo_insert(&f->ooo, seg->seq, seg->payload, (uint32_t)seg->payload_len,
			    tcp_ooo_limit(f));
	tcp_mem_add(f->st, (long)f->ooo.bytes - (long)before);
	switch (rc) {
	case TCP_OOO_QUEUED:
		CTR_INC(f->st, TCP_OOO_QUEUED);
		break;
	case TCP_OOO_DUP:
		CTR_INC(f->st, TCP_DUP_DATA);
		break;
	case TCP_OOO_FULL:
		CTR_INC(f->st, TCP_DROP_OOO_FULL);
		break;
	case TCP_OOO_NOMEM:
		CTR_INC(f->st, TCP_DROP_NOMEM);
		break;
	case TCP_OOO_NOTHING:
		break;
	}
}

/* Move pieces that became in order to the application. */
static void ooo_drain(struct tapir_tcp_flow *f)
{
	struct tcp_ooo *o;

	while (!f->zombie && (o = tcp_ooo_pop(&f->ooo, f->rcv_nxt)) != NULL) {
		uint32_t end = o->seq + o->len;

		tcp_mem_add(f->st, -(long)o->len);
		if (seq_gt(end, f->rcv_nxt)) {
			uint32_t skip = f->rcv_nxt - o->seq;

			f->rcv_nxt = end;
			tcp_deliver_data(f, o->data + skip, o->len - skip);
		}
		free(o);
	}
}

/* ---- input ---- */

/*
 * The receiver's RTT sample of a data segment (RFC 7323 4.1 run from the
 * receiving side, as Linux's tcp_rcv_rtt_measure_ts()): TSecr echoes our
 * clock of the ACK that let the peer send it.  Return: ms (at least 1), or
 * 0 when the segment says nothing (no timestamps, no echo, or a bogus one)
 */
static uint32_t rcv_rtt_sample(const struct tapir_tcp_flow *f, const struct tcp_repr *seg)
{
	uint32_t d;

	if (!f->ts_ok || !seg->has_ts || !seg->ts_ecr)
		return 0;
	d = ts_now(f) - seg->ts_ecr;
	if (d > 60000)
		return 0;	/* from the future, or older than a minute */
	return d ? d : 1;
}

static void take_options(struct tapir_tcp_flow *f, const struct tcp_repr *seg)
{
	if (seg->has_mss && seg->mss)
		f->peer_mss = max32(seg->mss, TCP_MIN_MSS);
	else
		f->peer_mss = TCP_DEFAULT_MSS;
	f->ws_ok = seg->wscale >= 0;
	if (f->ws_ok)
		f->snd_ws = (uint8_t)seg->wscale;
	else
		f->snd_ws = f->rcv_ws = 0;
	f->sack_ok = seg->sack_perm;
	f->ts_ok = seg->has_ts;
	if (f->ts_ok)
		f->ts_recent = seg->ts_val;
}

/*
 * SND.UNA moved to @ack: bring up the marks that lag behind it.  Sequence
 * numbers compare modulo 2^32, so a mark left 2^31 bytes behind SND.UNA turns
 * into one ahead of it: recover (set only by a recovery or a timeout) would
 * then say "still recovering", RACK's lost_end "lost up to here", and a flow
 * that has sent 2 GiB since its last loss (a minute at 300 Mbit/s, a second
 * over the TAP) started a recovery of data that was never lost, retransmitting
 * what the peer had until SND.UNA came round to the stale mark, 2 GiB later.
 * Each mark keeps its meaning: recover one byte below SND.UNA still says
 * "SND.UNA has passed recover" (RFC 6582), the others mean nothing below
 * SND.UNA.
 */
static void marks_follow_una(struct tapir_tcp_flow *f, uint32_t ack)
{
	if (seq_gt(ack, f->recover + 1))
		f->recover = ack - 1;
	if (seq_lt(f->rexmit_nxt, ack))
		f->rexmit_nxt = ack;
	if (seq_lt(f->high_sack, ack))
		f->high_sack = ack;
	if (seq_lt(f->push_seq, ack))
		f->push_seq = ack;
	if (f->loss) {
		unsigned j = 0;

		if (seq_lt(f->loss->lost_end, ack))
			f->loss->lost_end = ack;
		if (f->loss->dsack_end && seq_le(f->loss->dsack_end, ack))
			f->loss->dsack_end = 0;
		for (unsigned i = 0; i < f->loss->nrtx; i++)	/* a recovery's resends */
			if (seq_gt(f->loss->rtx[i].end, ack))
				f->loss->rtx[j++] = f->loss->rtx[i];
		f->loss->nrtx = j;
	}
}

/* A new ACK covering [snd_una, ack). */
static void ack_new(struct tapir_tcp_flow *f, const struct tcp_repr *seg)
{
	struct tapir_stack *st = f->st;
	uint32_t ack = seg->ack, acked = ack - f->snd_una;
	size_t n = 0;

	if (seq_gt(ack, f->sbuf_seq))
		n = minsz(ack - f->sbuf_seq, f->slen);
	if (n) {
		f->shead = (f->shead + n) % f->scap;
		f->slen -= n;
		f->sbuf_seq += (uint32_t)n;
		f->bytes_acked += n;
		if (f->slen == 0 && !f->sres) {
			/* idle flows hold no send buffer (unless the application
			 * holds a reservation in it) */
			tcp_sbuf_free(f);
		}
	}
	f->snd_una = ack;
	marks_follow_una(f, ack);
	if (seq_lt(f->snd_nxt, ack))
		f->snd_nxt = ack;
	/* RTT: timestamps (RFC 7323 4.1), else the timed segment (Karn) */
	if (f->ts_ok && seg->has_ts && seg->ts_ecr) {
		tcp_ts_sample(f, seg->ts_ecr);
	} else if (f->rtt_timing && seq_ge(ack, f->rtt_seq)) {
		f->rtt_timing = false;
		tcp_rtt_sample(f, tcp_us32_since(st, f->rtt_start));
	}
	f->retries = 0;
	f->first_rtx = 0;
	f->probes = 0;
	if (f->sack_ok)
		tcp_sb_prune(f);
	/* congestion control */
	if (f->in_recovery) {
		if (seq_ge(ack, f->recover)) {
			f->in_recovery = false;
			f->dupacks = 0;
			f->cwnd = f->sack_ok ? f->ssthresh
					     : min32(f->ssthresh, max32(flight(f), f->mss) + f->mss);
			tcp_rack_recovery_end(f);
		} else if (!f->sack_ok) {
			/* NewReno partial ACK (RFC 6582 3.2 step 5); the FIN too
			 * when it is all that is left */
			uint32_t data_end = f->sbuf_seq + (uint32_t)f->slen;
			uint32_t len = min32(f->mss, data_end - f->snd_una);

			tcp_xmit_data(f, f->snd_una, len,
				      f->fin_queued && f->snd_max == data_end + 1 &&
				      f->snd_una + len == data_end, true);
			f->cwnd = f->cwnd > acked ? f->cwnd - acked : 0;
			f->cwnd += f->mss;
			f->t_rtx = st->now + f->rto;
		}
	} else {
		f->dupacks = 0;
		tcp_cc_on_ack(f, acked);
	}
	tcp_sndbuf_adjust(f);	/* the send limit follows cwnd (buf.c) */
	/* retransmission timer (RFC 6298 5.2, 5.3) */
	f->tlp_out = false;
	if (f->snd_una == f->snd_max) {
		f->t_rtx = 0;
		f->pto_armed = false;
		f->reo_armed = false;
		f->persist = false;
		tcp_loss_free(f);	/* nothing in flight: no loss state */
	} else if (!f->persist) {
		tcp_arm_rtx(f);
	}
	tcp_timer_update(f);
}

/* Step 5 of RFC 9293 3.10.7.4 for synchronized states, after
 * ack_acceptable(). */
static void process_ack(struct tapir_tcp_flow *f, const struct tcp_repr *seg)
{
	uint32_t ack = seg->ack;
	uint32_t wnd = (uint32_t)seg->window << f->snd_ws;
	uint32_t una0 = f->snd_una, sacked0 = f->sacked;
	int64_t delivered;
	bool dup = false, rack_lost = false, rack = false;

	if (f->sack_ok) {
		bool dsack = tcp_rack_dsack(seg);

		/* RFC 8985 7.4: a DSACK of the probe says the tail was not lost;
		 * an ACK past the probe without one says the probe repaired a
		 * loss, which congestion control answers as a loss */
		if (dsack)
			f->tlp_episode = false;
		else if (f->tlp_episode && seq_gt(ack, f->tlp_end)) {
			f->tlp_episode = false;
			if (!f->in_recovery) {
				CTR_INC(f->st, TCP_TLP_LOSS_REPAIRED);
				f->ssthresh = tcp_cc_ssthresh(f);
				f->cwnd = max32(f->ssthresh, f->mss);
			}
		}
		tcp_rack_on_ack(f, seg, dsack);
	}
	if (f->sack_ok && seg->nsack) {
		for (unsigned i = 0; i < seg->nsack; i++)
			tcp_sb_add(f, seg->sack[i].left, seg->sack[i].right);
	}
	if (seq_gt(ack, f->snd_una)) {
		ack_new(f, seg);
	} else if (ack == f->snd_una && seg->payload_len == 0 &&
		   !(seg->flags & (TCP_SYN | TCP_FIN)) && f->snd_max != f->snd_una &&
		   wnd == f->snd_wnd) {
		dup = true;
		f->dup_acks_in++;
	}
	/* window update (RFC 9293 3.10.7.4): only from an ACK that is not older
	 * than SND.UNA, and the newest by (SND.WL1, SND.WL2) */
	if (seq_ge(ack, f->snd_una) &&
	    (seq_lt(f->snd_wl1, seg->seq) ||
	     (f->snd_wl1 == seg->seq && seq_le(f->snd_wl2, ack)))) {
		bool opened = f->snd_wnd == 0 && wnd > 0;

		f->snd_wnd = wnd;
		f->snd_wl1 = seg->seq;
		f->snd_wl2 = ack;
		if (wnd > f->max_snd_wnd)
			f->max_snd_wnd = wnd;
		if (opened && f->persist) {
			f->persist = false;
			f->t_rtx = 0;
			f->backoff = 0;
			if (f->snd_una != f->snd_max)
				f->t_rtx = f->st->now + f->rto;
			tcp_timer_update(f);
		}
	}
	if (f->persist && seg->flags & TCP_ACK)
		f->probes = 0;	/* the peer answers our probes */
	if (f->in_recovery && f->sack_ok)
		tcp_rtx_check(f);
	if (f->sack_ok && f->loss && f->loss->rack_valid) {
		/* RACK (RFC 8985) decides what is lost for SACK flows */
		rack = true;
		rack_lost = tcp_rack_detect(f);
	}
	if (f->tlp_out && !f->in_recovery && f->sack_ok && seq_ge(f->high_sack, f->tlp_end) &&
	    seq_lt(f->snd_una, f->high_sack) && seq_gt(f->snd_una, f->recover)) {
		f->tlp_out = false;
		tcp_enter_recovery(f);	/* the probe arrived, something before it did not */
	}
	if (rack) {
		if (dup && f->dupacks < UINT8_MAX)
			f->dupacks++;
		if (rack_lost && !f->in_recovery && seq_ge(f->snd_una, f->recover) &&
		    f->snd_una != f->snd_max)
			tcp_enter_recovery(f);
		else
			(void)tcp_rto_recovery(f);	/* a resend after a timeout lost */
	} else if (dup) {
		if (f->dupacks < UINT8_MAX)
			f->dupacks++;
		if (f->in_recovery && !f->sack_ok) {
			if (f->cwnd < TCP_CWND_MAX - f->mss)
				f->cwnd += f->mss;	/* NewReno inflation */
		} else if (!f->in_recovery && seq_gt(f->snd_una, f->recover) &&
			   (f->dupacks >= 3 || (f->sack_ok && f->sacked > 3 * f->mss))) {
			tcp_enter_recovery(f);
		} else if (!f->in_recovery && f->snd_una == f->recover &&
			   (f->dupacks >= 3 || (f->sack_ok && f->sacked > 3 * f->mss))) {
			/* RFC 6582 4.1: recover reached exactly after an RTO */
			tcp_enter_recovery(f);
		}
	} else if (f->sack_ok && !f->in_recovery && f->sacked > 3 * f->mss &&
		   seq_ge(f->snd_una, f->recover) && f->snd_una != f->snd_max) {
		tcp_enter_recovery(f);
	}
	/* PRR (RFC 6937): what this ACK delivered sets the recovery's cwnd */
	delivered = (int64_t)(uint32_t)(f->snd_una - una0) + (int64_t)f->sacked - sacked0;
	if (f->in_recovery && f->sack_ok)
		tcp_prr_ack(f, delivered > 0 ? (uint32_t)delivered : 0);
}

/* Our FIN is acknowledged? */
static bool fin_acked(const struct tapir_tcp_flow *f)
{
	return f->fin_queued && f->snd_una == f->sbuf_seq + (uint32_t)f->slen + 1;
}

static void schedule_ack(struct tapir_tcp_flow *f, bool now)
{
	uint32_t mss2 = 2 * (f->rcv_mss ? f->rcv_mss : f->mss);

	if (now || f->rcv_nxt - f->last_ack_sent >= mss2) {
		f->t_delack = 0;
		f->ack_now = true;
		return;	/* tcp_output() sends it */
	}
	if (!f->t_delack) {
		f->t_delack = f->st->now + f->st->cfg.tcp.delack_ns;
		tcp_timer_update(f);
	}
}

static void flow_input(struct tapir_tcp_flow *f, struct tcp_repr *seg);

/* SYN_SENT (RFC 9293 3.10.7.3). */
static void syn_sent_input(struct tapir_tcp_flow *f, struct tcp_repr *seg)
{
	struct tapir_stack *st = f->st;

	if (seg->flags & TCP_ACK) {
		if (seq_le(seg->ack, f->iss) || seq_gt(seg->ack, f->snd_max)) {
			CTR_INC(st, TCP_DROP_SYN_SENT);
			if (!(seg->flags & TCP_RST))
				tcp_send_reset_for(st, &f->laddr, &f->raddr, seg);
			return;
		}
	}
	if (seg->flags & TCP_RST) {
		CTR_INC(st, TCP_RESETS_RX);
		if (seg->flags & TCP_ACK)
			tcp_flow_drop(f, -ECONNREFUSED);
		else
			CTR_INC(st, TCP_DROP_RST_INVALID);
		return;
	}
	if (!(seg->flags & TCP_SYN)) {
		CTR_INC(st, TCP_DROP_SYN_SENT);
		return;
	}
	f->irs = seg->seq;
	f->rcv_nxt = seg->seq + 1;
	f->rcv_adv = f->rcv_nxt + min32((uint32_t)f->o.rcvbuf, 65535);
	take_options(f, seg);
	f->snd_wl1 = seg->seq;
	f->snd_wl2 = seg->ack;
	if (seg->flags & TCP_ACK) {
		f->snd_una = seg->ack;
		f->snd_wnd = (uint32_t)seg->window << f->snd_ws;
		f->max_snd_wnd = f->snd_wnd;
		if (f->ts_ok && seg->ts_ecr)
			tcp_ts_sample(f, seg->ts_ecr);
		else if (f->retries == 0)
			tcp_rtt_sample(f, tcp_us32_since(st, f->rtt_start));
		f->t_rtx = 0;
		f->retries = 0;
		tcp_flow_established(f);
		if (f->zombie || f->state == TAPIR_TCP_STATE_CLOSED)
			return;
		tcp_send_ack(f);
		tcp_output(f);
		return;
	}
	/* simultaneous open */
	f->state = TAPIR_TCP_STATE_SYN_RECEIVED;
	f->snd_wnd = seg->window;	/* not scaled in a SYN */
	f->max_snd_wnd = f->snd_wnd;
	f->t_rtx = 0;
	f->retries = 0;
	tcp_send_syn(f);
}

/*
 * The acceptability test of RFC 9293 3.10.7.4 (first), on the segment as it
 * arrived.  Return: true if @seg is acceptable.
 */
static bool seq_acceptable(const struct tapir_tcp_flow *f, const struct tcp_repr *seg)
{
	uint32_t wnd = seq_gt(f->rcv_adv, f->rcv_nxt) ? f->rcv_adv - f->rcv_nxt : 0;
	uint32_t slen = (uint32_t)seg->payload_len + !!(seg->flags & TCP_SYN) +
			!!(seg->flags & TCP_FIN);
	uint32_t seq = seg->seq, end = seq + slen;

	if (slen == 0)
		return wnd == 0 ? seq == f->rcv_nxt
				: seq_ge(seq, f->rcv_nxt) && seq_lt(seq, f->rcv_nxt + wnd);
	if (wnd == 0)
		return seq == f->rcv_nxt;	/* ACK, RST, URG only: the data is cut below */
	return (seq_ge(seq, f->rcv_nxt) && seq_lt(seq, f->rcv_nxt + wnd)) ||
	       (seq_ge(end - 1, f->rcv_nxt) && seq_lt(end - 1, f->rcv_nxt + wnd));
}

/* Trim an acceptable @seg (no SYN: the SYN check came first) to the receive
 * window: what we already have on the left, what does not fit on the right. */
static void seq_trim(struct tapir_tcp_flow *f, struct tcp_repr *seg)
{
	uint32_t wnd = seq_gt(f->rcv_adv, f->rcv_nxt) ? f->rcv_adv - f->rcv_nxt : 0;

	if (seq_lt(seg->seq, f->rcv_nxt)) {
		uint32_t d = f->rcv_nxt - seg->seq;

		if (d >= seg->payload_len) {
			d -= (uint32_t)seg->payload_len;
			seg->payload_len = 0;
			if (d && (seg->flags & TCP_FIN))
				seg->flags &= (uint8_t)~TCP_FIN;
		} else {
			seg->payload += d;
			seg->payload_len -= d;
		}
		seg->seq = f->rcv_nxt;
		CTR_INC(f->st, TCP_DUP_DATA);
		f->ack_now = true;	/* our ACK may have been lost */
	}
	if (seq_gt(seg->seq + (uint32_t)seg->payload_len, f->rcv_nxt + wnd)) {
		seg->payload_len = (f->rcv_nxt + wnd) - seg->seq;
		seg->flags &= (uint8_t)~TCP_FIN;
		f->ack_now = true;	/* e.g. a zero-window probe: tell the window */
	}
}

/*
 * The ACK acceptability test of RFC 5961 5.2 for synchronized states:
 * SND.UNA - MAX.SND.WND <= SEG.ACK <= SND.NXT (SND.MAX here: data sent
 * before a retransmission timeout is still acknowledgeable).  Anything else
 * (including blind data injection with a guessed sequence number) gets a
 * rate-limited challenge ACK and is dropped, data and all.
 */
static bool ack_acceptable(struct tapir_tcp_flow *f, const struct tcp_repr *seg)
{
	if (seq_gt(seg->ack, f->snd_max) ||
	    seq_lt(seg->ack, f->snd_una - max32(f->max_snd_wnd, 1))) {
		CTR_INC(f->st, TCP_DROP_BAD_ACK);
		tcp_challenge_ack(f);
		return false;
	}
	return true;
}

/* Process the FIN at rcv_nxt. */
static void fin_input(struct tapir_tcp_flow *f)
{
	f->rcv_nxt++;
	f->fin_rcvd = true;
	switch (f->state) {
	case TAPIR_TCP_STATE_SYN_RECEIVED:
	case TAPIR_TCP_STATE_ESTABLISHED:
		f->state = TAPIR_TCP_STATE_CLOSE_WAIT;
		break;
	case TAPIR_TCP_STATE_FIN_WAIT_1:
		if (fin_acked(f))
			tcp_enter_time_wait(f);
		else
			f->state = TAPIR_TCP_STATE_CLOSING;
		break;
	case TAPIR_TCP_STATE_FIN_WAIT_2:
		f->t_wait = 0;
		tcp_enter_time_wait(f);
		break;
	default:
		break;
	}
	tcp_send_ack(f);
	tcp_deliver_queue(f);
}

static void flow_input(struct tapir_tcp_flow *f, struct tcp_repr *seg)
{
	struct tapir_stack *st = f->st;
	bool was_ooo = f->ooo.head != NULL;

	f->segs_in++;
	if (f->state == TAPIR_TCP_STATE_SYN_SENT) {
		syn_sent_input(f, seg);
		return;
	}
	/* no flow is in TIME_WAIT: that is the tw set (tw.c) */
	/* a retransmitted SYN while we wait for the handshake's ACK */
	if (f->state == TAPIR_TCP_STATE_SYN_RECEIVED && f->lsn &&
	    (seg->flags & (TCP_SYN | TCP_ACK | TCP_RST)) == TCP_SYN && seg->seq == f->irs) {
		if (f->ts_ok && seg->has_ts && seq_ge(seg->ts_val, f->ts_recent))
			f->ts_recent = seg->ts_val;
		tcp_send_syn(f);
		return;
	}
	/*
	 * The checks of RFC 9293 3.10.7.4 in its order, all on the segment as
	 * it arrived (nothing is trimmed before the data step).  PAWS first
	 * (RFC 7323 5.3 R1): a RST is exempt, a reordered bare ACK is dropped
	 * without an answer.
	 */
	if (f->ts_ok && seg->has_ts && !(seg->flags & TCP_RST) &&
	    seq_lt(seg->ts_val, f->ts_recent)) {
		CTR_INC(st, TCP_DROP_PAWS);
		if (seg->payload_len || (seg->flags & (TCP_SYN | TCP_FIN)))
			tcp_oow_ack(f, seg);
		return;
	}
	/* first: sequence number */
	if (!seq_acceptable(f, seg)) {
		CTR_INC(st, TCP_DROP_OUT_OF_WINDOW);
		if (!(seg->flags & TCP_RST))
			tcp_oow_ack(f, seg);
		return;
	}
	/* second: RST (RFC 5961 3.2): only exactly at RCV.NXT; elsewhere in the
	 * window a rate-limited challenge ACK */
	if (seg->flags & TCP_RST) {
		CTR_INC(st, TCP_RESETS_RX);
		if (seg->seq != f->rcv_nxt) {
			CTR_INC(st, TCP_DROP_RST_INVALID);
			tcp_challenge_ack(f);
			return;
		}
		if (f->state == TAPIR_TCP_STATE_SYN_RECEIVED && f->lsn) {
			tcp_flow_drop(f, 0);	/* passive open: back to LISTEN */
			return;
		}
		tcp_flow_drop(f, f->state == TAPIR_TCP_STATE_SYN_RECEIVED ? -ECONNREFUSED : -ECONNRESET);
		return;
	}
	/*
	 * fourth: SYN.  In SYN-RECEIVED of a passive open the half-open
	 * connection goes back to LISTEN (silently, as Linux drops the
	 * request); otherwise, whatever its sequence number, a challenge ACK
	 * (RFC 5961 4.2) and nothing of the segment is used.  A retransmission
	 * of the SYN itself was answered above.
	 */
	if (seg->flags & TCP_SYN) {
		if (f->state == TAPIR_TCP_STATE_SYN_RECEIVED && f->lsn) {
			CTR_INC(st, TCP_SYN_RECEIVED_ABORTED);
			tcp_flow_drop(f, 0);
			return;
		}
		tcp_challenge_ack(f);
		return;
	}
	if (!(seg->flags & TCP_ACK)) {
		CTR_INC(st, TCP_DROP_NO_ACK);
		return;
	}
	if (f->state == TAPIR_TCP_STATE_SYN_RECEIVED) {
		if (seq_le(seg->ack, f->snd_una) || seq_gt(seg->ack, f->snd_max)) {
			CTR_INC(st, TCP_DROP_BAD_ACK);
			tcp_send_reset_for(st, &f->laddr, &f->raddr, seg);
			return;
		}
	} else if (!ack_acceptable(f, seg)) {
		return;
	}
	/*
	 * The segment is acceptable in sequence and acknowledgment: it may
	 * now move the connection.  TS.Recent (RFC 7323 4.3) only from such a
	 * segment and only if it starts at or below the edge we last
	 * acknowledged, so a blind segment with a huge TSval cannot make PAWS
	 * refuse the peer's later ones.
	 */
	f->last_rcv_ms = tcp_ms32(st);
	f->ka_probes = 0;
	if (f->ts_ok && seg->has_ts && seq_le(seg->seq, f->last_ack_sent) &&
	    seq_ge(seg->ts_val, f->ts_recent))
		f->ts_recent = seg->ts_val;
	seq_trim(f, seg);
	if (f->state == TAPIR_TCP_STATE_SYN_RECEIVED) {
		f->snd_una = seg->ack;
		f->snd_wnd = (uint32_t)seg->window << f->snd_ws;
		f->max_snd_wnd = f->snd_wnd;
		f->snd_wl1 = seg->seq;
		f->snd_wl2 = seg->ack;
		f->t_rtx = 0;
		f->retries = 0;
		if (f->ts_ok && seg->has_ts && seg->ts_ecr)
			tcp_ts_sample(f, seg->ts_ecr);
		tcp_flow_established(f);
		if (f->zombie || f->state == TAPIR_TCP_STATE_CLOSED)
			return;
	} else {
		bool fin_was_acked = fin_acked(f);

		process_ack(f, seg);
		if (!fin_was_acked && fin_acked(f)) {
			switch (f->state) {
			case TAPIR_TCP_STATE_FIN_WAIT_1:
				f->state = TAPIR_TCP_STATE_FIN_WAIT_2;
				f->t_rtx = 0;
				if (f->app_closed) {
					f->t_wait = st->now + st->cfg.tcp.fin_wait2_ns;
					tcp_timer_update(f);
				}
				break;
			case TAPIR_TCP_STATE_CLOSING:
				tcp_enter_time_wait(f);
				return;
			case TAPIR_TCP_STATE_LAST_ACK:
				tcp_flow_drop(f, 0);
				return;
			default:
				break;
			}
		}
		tcp_maybe_writable(f);
		if (f->zombie || f->state == TAPIR_TCP_STATE_CLOSED)
			return;
	}
	/* data (step 7) */
	if (seg->payload_len &&
	    (f->state == TAPIR_TCP_STATE_ESTABLISHED || f->state == TAPIR_TCP_STATE_FIN_WAIT_1 ||
	     f->state == TAPIR_TCP_STATE_FIN_WAIT_2)) {
		if (f->app_closed) {
			/* nobody will read it: reset (as Linux) */
			CTR_INC(st, TCP_DROP_AFTER_CLOSE);
			tcp_send_rst(f);
			tcp_flow_drop(f, -ECONNABORTED);
			return;
		}
		if (seg->payload_len > f->rcv_mss && !seg->coalesced)
			f->rcv_mss = (uint32_t)minsz(seg->payload_len, 65535);
		if (seg->seq == f->rcv_nxt) {
			f->rcv_nxt += (uint32_t)seg->payload_len;
			tcp_deliver_data(f, seg->payload, seg->payload_len);
			if (f->zombie || f->state == TAPIR_TCP_STATE_CLOSED)
				return;
			if (f->ooo.head) {
				ooo_drain(f);
				if (f->zombie || f->state == TAPIR_TCP_STATE_CLOSED)
					return;
			}
			if (f->ooo_fin && f->rcv_nxt == f->ooo.fin_seq && !f->ooo.head) {
				f->ooo_fin = false;
				fin_input(f);
				if (f->zombie || f->state == TAPIR_TCP_STATE_CLOSED)
					return;
			}
			tcp_rcv_space_adjust(f, rcv_rtt_sample(f, seg));
			schedule_ack(f, was_ooo || f->ooo.head || f->rlen);
		} else {
			f->ooo_segs_in++;
			ooo_insert(f, seg);
			if ((seg->flags & TCP_FIN) && !f->ooo_fin) {
				f->ooo_fin = true;
				f->ooo.fin_seq = seg->seq + (uint32_t)seg->payload_len;
			}
			schedule_ack(f, true);
			tcp_output(f);
			return;
		}
	} else if (seg->payload_len && synchronized(f)) {
		CTR_INC(st, TCP_DROP_AFTER_FIN);	/* data after the peer's FIN */
	}
	/* FIN (step 8) */
	if ((seg->flags & TCP_FIN) && seg->seq + (uint32_t)seg->payload_len == f->rcv_nxt &&
	    !f->fin_rcvd) {
		fin_input(f);
		if (f->zombie || f->state == TAPIR_TCP_STATE_CLOSED)
			return;
	}
	tcp_output(f);
}

/* @isn: the ISS to use (a TIME_WAIT reuse), or NULL */
void tcp_listen_input(struct tapir_stack *st, struct tcp_listener *l, const struct tcp_rx *m,
		      struct tcp_repr *seg, const uint32_t *isn)
{
	struct tapir_tcp_flow *f;

	if (seg->flags & TCP_RST) {
		CTR_INC(st, TCP_DROP_LISTEN);
		return;
	}
	if (seg->flags & TCP_ACK) {
		if (!(seg->flags & TCP_SYN) && st->cfg.tcp.syn_cookies) {
			f = tcp_syncookie_check(st, l, &m->dst, &m->src, seg);
			if (f) {
				tcp_flow_established(f);
				if (!f->zombie && f->state != TAPIR_TCP_STATE_CLOSED) {
					seg->flags &= (uint8_t)~TCP_SYN;
					flow_input(f, seg);
				}
				return;
			}
		}
		CTR_INC(st, TCP_DROP_LISTEN);
		tcp_send_reset_for(st, &m->dst, &m->src, seg);
		return;
	}
	/* RFC 9293 3.10.7.2: without SYN, drop.  SYN+FIN opens nothing real (a
	 * scanner's probe, or an attempt to slip past filters): drop it, as
	 * Linux does (tcp_rcv_state_process, TAPIR_TCP_STATE_LISTEN). */
	if (!(seg->flags & TCP_SYN) || (seg->flags & TCP_FIN)) {
		CTR_INC(st, TCP_DROP_LISTEN);
		return;
	}
	if (l->nsyn >= st->cfg.tcp.backlog) {
		if (st->cfg.tcp.syn_cookies) {
			tcp_syncookie_send(st, l, &m->dst, &m->src, seg);
			return;
		}
		CTR_INC(st, TCP_DROP_BACKLOG);
		return;
	}
	if (T(st)->nflows >= st->cfg.tcp.max_connections && st->cfg.tcp.syn_cookies) {
		/* a full table: the cookie's ACK finds room (tcp_syncookie_check) */
		CTR_INC(st, TCP_SYNCOOKIES_TABLE_FULL);
		tcp_syncookie_send(st, l, &m->dst, &m->src, seg);
		return;
	}
	f = tcp_flow_new(st, &m->dst, &m->src, seg->src_port, seg->dst_port, &l->o);
	if (!f)
		return;
	CTR_INC(st, TCP_PASSIVE_OPENS);
	if (isn)
		tcp_flow_set_iss(f, *isn);
	tcp_flow_set_listener(f, l);
	f->state = TAPIR_TCP_STATE_SYN_RECEIVED;
	f->irs = seg->seq;
	f->rcv_nxt = seg->seq + 1;
	f->rcv_adv = f->rcv_nxt;
	take_options(f, seg);
	f->snd_wnd = seg->window;
	f->max_snd_wnd = f->snd_wnd;
	f->snd_wl1 = seg->seq;
	f->rtt_start = tcp_us32(st);
	tcp_send_syn(f);
}

/* ---- entry points from IPv4 and IPv6 ---- */

/* A parsed segment from either family: a flow, TIME_WAIT, a listener or a RST */
static void segment_input(struct tapir_stack *st, const struct tcp_rx *m, struct tcp_repr *seg,
			  int rc)
{
	struct tcp_stack *t = T(st);
	struct tapir_tcp_flow *f;
	struct tcp_listener *l;
	struct tcp_tw *tw;
	uint32_t isn;
	bool reuse = false, local = true;

	if (seg->coalesced)
		CTR_INC(st, TCP_RX_COALESCED);
	if (rc == -EILSEQ) {
		CTR_INC(st, TCP_DROP_CHECKSUM);
		return;
	}
	if (rc < 0 || seg->src_port == 0 || seg->dst_port == 0) {
		CTR_INC(st, TCP_DROP_MALFORMED);
		return;
	}
	t->depth++;
	f = tcp_flow_lookup(t, &m->dst, &m->src, seg->src_port, seg->dst_port);
	if (!f && (tw = tcp_tw_lookup(t, &m->dst, &m->src, seg->src_port, seg->dst_port)) != NULL) {
		if (tcp_tw_input(st, tw, seg, &isn))
			goto out;
		reuse = true;	/* a new connection takes the tuple */
	}
	if (!f)	/* (a flow's segment needs no address check) */
		local = m->v6 ? ipv6_is_our_addr(st, m->dst.b) : tcp_ip_v4(&m->dst) == st->cfg.addr;
	if (f) {
		flow_input(f, seg);
	} else if (!local) {
		tcp_fwd_input(st, m, seg, reuse ? &isn : NULL);
	} else if ((l = tcp_listener_find(t, seg->dst_port,
					  m->v6 ? TAPIR_AF_INET6 : TAPIR_AF_INET)) != NULL) {
		tcp_listen_input(st, l, m, seg, reuse ? &isn : NULL);
	} else {
		CTR_INC(st, TCP_DROP_NO_LISTENER);
		tcp_send_reset_for(st, &m->dst, &m->src, seg);
	}
out:
	tcp_mem_wake(st);
	t->depth--;
	tcp_reap(t);
}

int tcp_rx(void *ctx, const struct tapir_ipv4_rx_meta *m, const uint8_t *payload, size_t len)
{
	struct tapir_stack *st = ctx;
	struct tcp_rx rx = { .src = tcp_ip4(m->src), .dst = tcp_ip4(m->dst), .m4 = m };
	struct tcp_repr seg;
	int rc;

	CTR_INC(st, TCP_RX);
	if (m->link_broadcast || m->ip_broadcast) {
		CTR_INC(st, TCP_DROP_BROADCAST);
		return 0;
	}
	rc = tcp_repr_parse(&seg, payload, len, m->src, m->dst, !m->l4_csum_ok);
	seg.coalesced = m->gso;
	segment_input(st, &rx, &seg, rc);
	return 0;
}

int tcp_rx6(void *ctx, const struct tapir_ipv6_rx_meta *m, const uint8_t *payload, size_t len)
{
	struct tapir_stack *st = ctx;
	struct tcp_rx rx = { .src = tcp_ip6(m->src), .dst = tcp_ip6(m->dst), .v6 = true, .m6 = m };
	struct tcp_repr seg;
	int rc;

	CTR_INC(st, TCP_RX);
	if (m->multicast) {
		CTR_INC(st, TCP_DROP_BROADCAST);
		return 0;
	}
	rc = tcp_repr_parse_sum(&seg, payload, len,
				ipv6_csum_pseudo(m->src, m->dst, 0, TAPIR_IP_PROTO_TCP),
				!m->l4_csum_ok);
	seg.coalesced = m->gso;
	segment_input(st, &rx, &seg, rc);
	return 0;
}

/* A Packet Too Big / fragmentation needed for @f was applied: send again
 * what no longer fits (RFC 1191, RFC 8201: no congestion response) */
static void pmtu_lowered(struct tapir_stack *st, struct tapir_tcp_flow *f)
{
	struct tcp_stack *t = T(st);
	uint32_t old = f->mss;

	CTR_INC(st, TCP_PMTU_UPDATES);
	t->depth++;
	tcp_update_mss(f);
	if (f->mss < old && synchronized(f)) {
		f->snd_nxt = f->snd_una;
		f->rtt_timing = false;
		tcp_output(f);
	}
	t->depth--;
	tcp_reap(t);
}

/* The flow an ICMP error quotes, if the quoted sequence number is in flight */
static struct tapir_tcp_flow *icmp_flow(struct tapir_stack *st, const struct tcp_ip *src,
					const struct tcp_ip *dst, uint16_t sport,
					uint16_t dport, uint32_t seq)
{
	struct tapir_tcp_flow *f = tcp_flow_lookup(T(st), src, dst, dport, sport);

	if (!f || f->state == TAPIR_TCP_STATE_TIME_WAIT || seq_lt(seq, f->snd_una) ||
	    seq_ge(seq, f->snd_max)) {
		CTR_INC(st, TCP_DROP_ICMP_INVALID);
		return NULL;
	}
	return f;
}

void tcp_icmp_err(void *ctx, const struct tapir_ipv4_icmp_err *e)
{
	struct tapir_stack *st = ctx;
	const struct tapir_icmp_quote *q = e->quote;
	struct tcp_ip src = tcp_ip4(q->src), dst = tcp_ip4(q->dst);
	struct tapir_tcp_flow *f;

	if (!q->have_seq) {
		CTR_INC(st, TCP_DROP_ICMP_INVALID);
		return;
	}
	f = icmp_flow(st, &src, &dst, q->src_port, q->dst_port, q->tcp_seq);
	if (!f)
		return;
	if (e->type != TAPIR_ICMP_DEST_UNREACH || e->code != TAPIR_ICMP_UNREACH_FRAG_NEEDED)
		return;	/* soft errors (RFC 1122 4.2.3.9) */
	/* The quote is one of ours: the path MTU may go down, to min_pmtu at the
	 * lowest, and not for a datagram that fit (ipv4_pmtu_frag_needed()). */
	if (!ipv4_pmtu_frag_needed(st, e))
		return;
	pmtu_lowered(st, f);
}

/*
 * ICMPv6 errors (RFC 4443): the IPv6 layer has matched the quote to a packet
 * of ours and, for a Packet Too Big, already lowered the path MTU (RFC 8201:
 * never below 1,280); here the quoted TCP header must name a flow and a
 * sequence number in flight (RFC 5927), else the error is dropped.  Other
 * errors are soft (RFC 1122 4.2.3.9, RFC 4443 3.1): the retransmission timer
 * decides.
 */
void tcp_icmp6_err(void *ctx, const struct tapir_ipv6_icmp_err *e)
{
	struct tapir_stack *st = ctx;
	struct tcp_ip src, dst;
	struct tapir_tcp_flow *f;

	if (e->l4_len < 8) {
		CTR_INC(st, TCP_DROP_ICMP_INVALID);
		return;
	}
	src = tcp_ip6(e->src);
	dst = tcp_ip6(e->dst);
	f = icmp_flow(st, &src, &dst, get_be16(e->l4), get_be16(e->l4 + 2), get_be32(e->l4 + 4));
	if (!f || e->type != 2 || !e->mtu)
		return;
	pmtu_lowered(st, f);
}
