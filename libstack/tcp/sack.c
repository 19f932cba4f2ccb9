/*
 * sack.c - TCP SACK scoreboard (RFC 2018) and loss recovery (RFC 6675 with
 * SACK, NewReno RFC 6582 without), with lost-retransmission detection
 *
 * What is lost: with RACK (rack.c) the unSACKed data below
 * tcp_rack_lost_end(); without it (no log) every hole below the highest SACK
 * (RFC 6675's IsLost taken early).  The pipe (RFC 6675) counts what is
 * outstanding, neither SACKed nor lost, with retransmitted holes back in it.
 * How much may be sent during recovery is PRR's (prr.c), which sets cwnd to
 * pipe + sndcnt on each ACK.
 */
#include <stdlib.h>
#include <string.h>

#include "tcp/tcp_conn.h"

/* If @seq is inside a SACKed range, return its end, else @seq. */
uint32_t tcp_skip_sacked(const struct tapir_tcp_flow *f, uint32_t seq, uint32_t *limit)
{
	for (unsigned i = 0; i < f->nsb; i++) {
		if (seq_ge(seq, f->sb[i].left) && seq_lt(seq, f->sb[i].right))
			seq = f->sb[i].right;
		else if (seq_lt(seq, f->sb[i].left)) {
			*limit = f->sb[i].left;
			return seq;
		}
	}
	*limit = seq + 0x7fffffff;
	return seq;
}

/* RFC 6675 pipe: outstanding bytes neither SACKed nor deemed lost. */
uint32_t tcp_sack_pipe(const struct tapir_tcp_flow *f)
{
	uint32_t out = f->snd_max - f->snd_una, lost = 0, lost_end = tcp_rack_lost_end(f);
	uint32_t rx = seq_lt(f->rexmit_nxt, f->snd_una) ? f->snd_una : f->rexmit_nxt;

	if (seq_lt(rx, lost_end)) {
		uint32_t above = 0;

		for (unsigned i = 0; i < f->nsb; i++) {
			uint32_t l = f->sb[i].left, r = f->sb[i].right;

			if (seq_le(r, rx) || seq_ge(l, lost_end))
				continue;
			if (seq_lt(l, rx))
				l = rx;
			if (seq_gt(r, lost_end))
				r = lost_end;
			above += r - l;
		}
		lost = (lost_end - rx) - above;
		for (unsigned i = 0; f->loss && i < f->loss->nrtx; i++) {
			uint32_t l = f->loss->rtx[i].seq, r = f->loss->rtx[i].end;

			if (seq_lt(l, rx))
				l = rx;
			if (seq_gt(r, lost_end))
				r = lost_end;
			if (seq_lt(l, r) && lost >= r - l)
				lost -= r - l;
		}
	}
	if (f->sacked + lost >= out)
		return 0;
	return out - f->sacked - lost;
}

/* A live retransmission record holds @seq?  Then *@end is its end (which may
 * be any sequence number, 0 included). */
static bool rtx_covering(const struct tapir_tcp_flow *f, uint32_t seq, uint32_t *end)
{
	for (unsigned i = 0; f->loss && i < f->loss->nrtx; i++)
		if (seq_ge(seq, f->loss->rtx[i].seq) && seq_lt(seq, f->loss->rtx[i].end)) {
			*end = f->loss->rtx[i].end;
			return true;
		}
	return false;
}

/* Our FIN is sent and not acknowledged: it sits at @data_end. */
static bool fin_outstanding(const struct tapir_tcp_flow *f, uint32_t data_end)
{
	return f->fin_queued && f->snd_max == data_end + 1 && seq_le(f->snd_una, data_end);
}

static void rtx_note(struct tapir_tcp_flow *f, uint32_t seq, uint32_t end)
{
	struct tcp_loss *l = tcp_loss_get(f);

	tcp_prr_sent(f, end - seq);
	if (seq == end || !l)
		return;	/* without a record, a lost retransmission waits for the RTO */
	if (l->nrtx == TCP_RTX_REC) {
		memmove(&l->rtx[0], &l->rtx[1], (TCP_RTX_REC - 1) * sizeof(l->rtx[0]));
		l->nrtx--;
	}
	l->rtx[l->nrtx].seq = seq;
	l->rtx[l->nrtx].end = end;
	l->rtx[l->nrtx].mark = f->snd_max;
	l->rtx[l->nrtx].ts = (uint32_t)(f->st->now / 1000);
	l->nrtx++;
}

/*
 * Drop records that are acked or SACKed; a retransmission is lost again when
 * data sent after it was delivered and, with RACK, RACK.rtt + reo_wnd passed
 * since it was sent (RFC 8985 6.2 step 5); without RACK's times, once data
 * sent after it is SACKed more than one MSS beyond (as Linux's
 * lost-retransmit marking).  A lost one is walked back to.
 */
void tcp_rtx_check(struct tapir_tcp_flow *f)
{
	struct tcp_loss *l = f->loss;
	unsigned j = 0;
	uint32_t now_us = (uint32_t)(f->st->now / 1000), reo = 0;

	if (!l)
		return;
	if (l->rack_valid)
		reo = tcp_rack_reo_wnd(f);
	for (unsigned i = 0; i < l->nrtx; i++) {
		struct tcp_rtx_rec *r = &l->rtx[i];
		uint32_t lim, s = r->seq;
		bool lost;

		if (seq_le(r->end, f->snd_una))
			continue;
		if (seq_lt(s, f->snd_una))
			s = f->snd_una;
		s = tcp_skip_sacked(f, s, &lim);
		if (seq_ge(s, r->end))
			continue;
		if (l->rack_valid) {
			bool after = (int32_t)(l->xmit_ts - r->ts) > 0 ||
				     (l->xmit_ts == r->ts && seq_gt(l->end_seq, r->mark));

			lost = after && (int64_t)r->ts + l->rtt_us + reo - now_us <= 0;
		} else {
			lost = seq_gt(f->high_sack, r->mark + f->mss);
		}
		if (lost) {
			if (seq_lt(s, f->rexmit_nxt))
				f->rexmit_nxt = s;
			if (seq_lt(l->lost_end, r->end))
				l->lost_end = r->end;
			CTR_INC(f->st, TCP_LOST_RETRANSMITS);
			continue;
		}
		l->rtx[j++] = *r;
	}
	l->nrtx = j;
}

void tcp_output_recovery(struct tapir_tcp_flow *f)
{
	uint32_t data_end = f->sbuf_seq + (uint32_t)f->slen;

	for (int guard = 0; guard < 1024; guard++) {
		uint32_t pipe = tcp_sack_pipe(f), limit, s, len, sent;
		bool fin;

		if (pipe + f->mss > f->cwnd)
			break;
		if (seq_lt(f->rexmit_nxt, f->snd_una))
			f->rexmit_nxt = f->snd_una;
		s = tcp_skip_sacked(f, f->rexmit_nxt, &limit);
		/*
		 * A hole below the highest SACK is lost (RFC 6675 IsLost); so
		 * is the FIN alone at snd_una once everything before it is
		 * acknowledged (a rescue retransmission, RFC 6675 NextSeg rule
		 * 4: nothing can be SACKed above a FIN, so it would otherwise
		 * wait for the RTO).  The last hole carries the FIN along.
		 */
		if ((seq_lt(s, tcp_rack_lost_end(f)) && seq_lt(s, data_end)) ||
		    (s == data_end && s == f->snd_una && fin_outstanding(f, data_end))) {
			uint32_t in_flight;

			if (rtx_covering(f, s, &in_flight)) {
				f->rexmit_nxt = in_flight;	/* retransmitted, not lost */
				continue;
			}
			len = min32(f->mss, min32(limit - s, data_end - s));
			fin = s + len == data_end && fin_outstanding(f, data_end);
			sent = tcp_xmit_data(f, s, len, fin, true);
			sent += fin && sent == len;
			rtx_note(f, s, s + sent);
			f->rexmit_nxt = s + sent;
			continue;
		}
		f->rexmit_nxt = s;
		/* new data */
		if (seq_lt(f->snd_max, data_end)) {
			uint32_t wnd_end = f->snd_una + f->snd_wnd;

			len = min32(f->mss, data_end - f->snd_max);
			if (seq_lt(wnd_end, f->snd_max + len))
				break;
			f->snd_nxt = f->snd_max;
			fin = f->fin_queued && f->snd_nxt + len == data_end;
			sent = tcp_xmit_data(f, f->snd_nxt, len, fin, false);
			tcp_prr_sent(f, sent);
			f->snd_nxt += sent + (fin && sent == len);
			f->snd_max = f->snd_nxt;
			continue;
		}
		break;
	}
}

/*
 * After a timeout (RFC 8985 6.3, RFC 6298 5.4) everything outstanding was
 * resent in order from SND.UNA as the loss window allowed, and RACK keeps
 * timing those resends (rack.c's log starts again at the timeout).  Once all
 * is resent (SND.NXT back at SND.MAX) and RACK finds one of them lost again,
 * repair it as a recovery does (the unSACKed holes below lost_end, at PRR's
 * pace) rather than by a second timeout, with its doubled RTO and cwnd of one
 * segment: the lost retransmission detection of RFC 8985 6.2 applies to the
 * resends of a timeout as to those of a fast recovery (Linux's CA_Loss
 * retransmits what RACK marks).  No second reduction: the timeout set
 * ssthresh for this window of data (RFC 5681 4.3, RFC 6675 5), and the
 * recovery ends where the timeout's would have, at recover (SND.MAX at the
 * timeout).
 * Return: true if such a recovery started
 */
bool tcp_rto_recovery(struct tapir_tcp_flow *f)
{
	uint32_t lim;

	if (!f->sack_ok || f->in_recovery || !f->loss || !f->loss->rack_valid ||
	    !seq_lt(f->snd_una, f->recover) || f->snd_nxt != f->snd_max ||
	    !seq_lt(tcp_skip_sacked(f, f->snd_una, &lim), tcp_rack_lost_end(f)))
		return false;
	f->in_recovery = true;
	f->loss->nrtx = 0;
	f->rexmit_nxt = f->snd_una;
	tcp_prr_start(f);
	CTR_INC(f->st, TCP_RTO_RECOVERIES);
	return true;
}

/* ---- SACK scoreboard ---- */

/* The scoreboard's array exists only while it holds a range (an idle flow
 * pays the pointer) */
void tcp_sb_clear(struct tapir_tcp_flow *f)
{
	free(f->sb);
	f->sb = NULL;
	f->nsb = 0;
}

void tcp_sb_prune(struct tapir_tcp_flow *f)
{
	unsigned j = 0;

	f->sacked = 0;
	for (unsigned i = 0; i < f->nsb; i++) {
		struct tcp_sack_block b = f->sb[i];

		if (seq_le(b.right, f->snd_una))
			continue;
		if (seq_lt(b.left, f->snd_una))
			b.left = f->snd_una;
		f->sb[j++] = b;
		f->sacked += b.right - b.left;
	}
	f->nsb = j;
	if (j == 0)
		tcp_sb_clear(f);
	if (seq_lt(f->high_sack, f->snd_una))
		f->high_sack = f->snd_una;
}

void tcp_sb_add(struct tapir_tcp_flow *f, uint32_t l, uint32_t r)
{
	unsigned i = 0, j;

	if (seq_le(r, f->snd_una) || seq_gt(r, f->snd_max) || seq_ge(l, r) ||
	    seq_lt(l, f->snd_una - 0x40000000u))
		return;
	if (seq_lt(l, f->snd_una))
		l = f->snd_una;
	while (i < f->nsb && seq_lt(f->sb[i].right, l))
		i++;
	/* merge with every range that touches [l, r) */
	j = i;
	while (j < f->nsb && seq_le(f->sb[j].left, r)) {
		if (seq_lt(f->sb[j].left, l))
			l = f->sb[j].left;
		if (seq_gt(f->sb[j].right, r))
			r = f->sb[j].right;
		j++;
	}
	if (j == i) {
		if (f->nsb == TCP_SB_MAX)
			return;	/* full: ignore (conservative) */
		if (!f->sb && !(f->sb = malloc(TCP_SB_MAX * sizeof(f->sb[0]))))
			return;	/* no memory: ignore, as a full scoreboard */
		memmove(&f->sb[i + 1], &f->sb[i], (f->nsb - i) * sizeof(f->sb[0]));
		f->nsb++;
	} else if (j > i + 1) {
		memmove(&f->sb[i + 1], &f->sb[j], (f->nsb - j) * sizeof(f->sb[0]));
		f->nsb -= j - i - 1;
	}
	f->sb[i].left = l;
	f->sb[i].right = r;
	if (seq_gt(r, f->high_sack))
		f->high_sack = r;
	f->sacked = 0;
	for (i = 0; i < f->nsb; i++)
		f->sacked += f->sb[i].right - f->sb[i].left;
}

void tcp_enter_recovery(struct tapir_tcp_flow *f)
{
	struct tapir_stack *st = f->st;
	uint32_t data_end = f->sbuf_seq + (uint32_t)f->slen;

	f->ssthresh = tcp_cc_ssthresh(f);
	f->recover = f->snd_max;
	f->in_recovery = true;
	f->fast_retransmits++;
	CTR_INC(st, TCP_FAST_RETRANSMITS);
	if (f->loss)
		f->loss->nrtx = 0;
	if (f->sack_ok) {
		struct tcp_loss *l = tcp_loss_get(f);

		/* PRR sets cwnd on each ACK of the recovery; without its state,
		 * RFC 6675's cwnd = ssthresh */
		if (l)
			tcp_prr_start(f);
		else
			f->cwnd = f->ssthresh;
		f->rexmit_nxt = f->snd_una;
		if (seq_lt(f->high_sack, f->snd_una + 1))
			f->high_sack = f->snd_una + 1; /* snd_una's segment is lost */
		if (l && seq_lt(l->lost_end, f->snd_una + 1))
			l->lost_end = f->snd_una + 1;
		/* retransmit the first segment at once (RFC 6675 step 4.3) */
		if (seq_lt(f->snd_una, data_end) || fin_outstanding(f, data_end)) {
			uint32_t limit, len, sent;
			bool fin;

			(void)tcp_skip_sacked(f, f->snd_una, &limit);
			len = min32(f->mss, min32(data_end - f->snd_una, limit - f->snd_una));
			fin = f->snd_una + len == data_end && fin_outstanding(f, data_end);
			sent = tcp_xmit_data(f, f->snd_una, len, fin, true);
			sent += fin && sent == len;
			rtx_note(f, f->snd_una, f->snd_una + sent);
			f->rexmit_nxt = f->snd_una + sent;
		}
	} else {
		f->cwnd = f->ssthresh + 3 * f->mss;
		if (seq_lt(f->snd_una, data_end))
			tcp_xmit_data(f, f->snd_una, min32(f->mss, data_end - f->snd_una), false,
				      true);
		else if (f->fin_queued)
			tcp_xmit_data(f, f->snd_una, 0, true, true);
	}
}
