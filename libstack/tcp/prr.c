/*
 * prr.c - Proportional Rate Reduction (RFC 6937) during SACK fast recovery
 *
 * Theory of operation
 *
 * At the start of a recovery (tcp_prr_start(), after the controller set
 * ssthresh) RecoverFS is the flight, and prr_delivered and prr_out are 0.  On
 * each ACK in the recovery (tcp_prr_ack()), DeliveredData (what the ACK newly
 * acknowledged or SACKed) is added to prr_delivered, and:
 *
 *   pipe > ssthresh (proportional part):
 *     sndcnt = ceil(prr_delivered * ssthresh / RecoverFS) - prr_out
 *   else (slow-start reduction bound, PRR-SSRB):
 *     sndcnt = min(ssthresh - pipe, max(prr_delivered - prr_out, DeliveredData) + MSS)
 *
 * sndcnt is at least 0, and cwnd = pipe + sndcnt (at least one MSS): the
 * recovery's sender (sack.c) sends while pipe + MSS fits in cwnd, so it
 * sends sndcnt bytes in whole segments, and what a small sndcnt leaves over
 * comes with the next ACK (prr_delivered keeps growing).  Every byte sent in
 * the recovery (retransmissions and new data, tcp_prr_sent()) counts in
 * prr_out.  Over the recovery the flow thus sends ssthresh/RecoverFS of what
 * was delivered while the pipe is above ssthresh, and grows the pipe back to
 * ssthresh in slow start when losses took it below; when the recovery ends
 * cwnd = ssthresh (input.c).
 */
#include "tcp/tcp_conn.h"

void tcp_prr_start(struct tapir_tcp_flow *f)
{
	struct tcp_loss *l = f->loss;

	if (!l)
		return;
	l->prr_delivered = 0;
	l->prr_out = 0;
	l->recover_fs = max32(flight(f), f->mss);
	CTR_INC(f->st, TCP_PRR_RECOVERIES);
}

void tcp_prr_sent(struct tapir_tcp_flow *f, uint32_t bytes)
{
	if (f->loss && f->in_recovery)
		f->loss->prr_out += bytes;
}

/* An ACK in the recovery that delivered @delivered bytes: set cwnd */
void tcp_prr_ack(struct tapir_tcp_flow *f, uint32_t delivered)
{
	struct tcp_loss *l = f->loss;
	uint32_t pipe, ssthresh = f->ssthresh;
	int64_t sndcnt;

	if (!l || !f->in_recovery)
		return;
	l->prr_delivered += delivered;
	pipe = tcp_sack_pipe(f);
	if (pipe > ssthresh) {
		uint64_t want = ((uint64_t)l->prr_delivered * ssthresh + l->recover_fs - 1) /
				l->recover_fs;

		sndcnt = (int64_t)want - l->prr_out;
	} else {
		int64_t lim = (int64_t)l->prr_delivered - l->prr_out;

		if (lim < delivered)
			lim = delivered;
		lim += f->mss;
		sndcnt = (int64_t)ssthresh - pipe;
		if (sndcnt > lim)
			sndcnt = lim;
		CTR_INC(f->st, TCP_PRR_SSRB);
	}
	if (sndcnt < 0)
		sndcnt = 0;
	sndcnt += pipe;
	if (sndcnt > TCP_CWND_MAX)
		sndcnt = TCP_CWND_MAX;
	f->cwnd = sndcnt < f->mss ? f->mss : (uint32_t)sndcnt;
}
