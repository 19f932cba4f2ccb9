/*
 * hystart.c - HyStart++ (RFC 9406): leaving slow start before the loss that
 * ends it, for every congestion controller
 *
 * Theory of operation
 *
 * Only the first slow start of a flow (ssthresh still at its initial
 * "infinite" value) runs HyStart++, as RFC 9406 4.3 recommends; slow start
 * after a timeout is the standard one.  The state lives in struct tcp_loss
 * (loss.h), which exists while data is in flight on a SACK flow: a flow
 * without it (no SACK, no memory) uses standard slow start, and a flow that
 * goes idle starts its rounds again.
 *
 * Rounds: a round ends when the data that was outstanding when it began
 * (window_end = SND.MAX then) is acknowledged.  RTT samples come from RACK's
 * per-ACK measurement (rack.c: now - the time the newest delivered segment
 * was sent, to the microsecond; retransmissions give none), the lowest of a
 * round is its min RTT.  With at least N_RTT_SAMPLE (8) samples in the round
 * and the last round's minimum known, an increase of the round's minimum by
 * RttThresh = clamp(lastRoundMinRTT / 8, 4 ms, 16 ms) enters Conservative
 * Slow Start (CSS): the window grows by a quarter of slow start's increase.
 * A round in CSS whose min RTT falls below the baseline (the min RTT that
 * entered CSS) was a false alarm: back to slow start.  After CSS_ROUNDS (5)
 * rounds in CSS, slow start ends: ssthresh = cwnd and congestion avoidance
 * follows.  A loss during slow start or CSS ends it as always (the
 * controller's ssthresh).
 */
#include "tcp/tcp_conn.h"

#define HS_MIN_RTT_THRESH 4000u         /* us */
#define HS_MAX_RTT_THRESH 16000u        /* us */
#define HS_MIN_RTT_DIVISOR 8
#define HS_N_RTT_SAMPLE 8
#define HS_CSS_GROWTH_DIVISOR 4
#define HS_CSS_ROUNDS 5
#define HS_INF UINT32_MAX

static bool hystart_on(const struct tapir_tcp_flow *f)
{
	return f->loss && f->ssthresh == UINT32_MAX && !f->loss->hs_done;
}

/* An RTT sample (us) of newly delivered data */
void tcp_hystart_rtt(struct tapir_tcp_flow *f, uint32_t rtt_us)
{
	struct tcp_loss *l = f->loss;

	if (!hystart_on(f) || l->hs_window_end == 0)
		return;
	if (rtt_us < l->hs_cur_min)
		l->hs_cur_min = rtt_us;
	if (l->hs_samples < 255)
		l->hs_samples++;
}

/* A new round: when the data outstanding at the last one is acknowledged */
static void round_check(struct tapir_tcp_flow *f)
{
	struct tcp_loss *l = f->loss;

	if (l->hs_window_end && seq_lt(f->snd_una, l->hs_window_end))
		return;
	if (l->hs_window_end && l->hs_css) {
		if (++l->hs_css_rounds >= HS_CSS_ROUNDS) {
			/* RFC 9406 4.2: enough rounds in CSS: congestion avoidance */
			l->hs_done = true;
			f->ssthresh = max32(f->cwnd, 2 * f->mss);
			CTR_INC(f->st, TCP_HYSTART_EXIT);
			return;
		}
	}
	l->hs_last_min = l->hs_window_end ? l->hs_cur_min : HS_INF;
	l->hs_cur_min = HS_INF;
	l->hs_samples = 0;
	l->hs_window_end = f->snd_max ? f->snd_max : 1;
}

/*
 * Slow start is about to grow cwnd by @incr (ABC) on an ACK.
 * Return: the increase to apply (a quarter in CSS); 0 once HyStart++ ended
 * slow start (ssthresh = cwnd)
 */
uint32_t tcp_hystart_ss_incr(struct tapir_tcp_flow *f, uint32_t incr)
{
	struct tcp_loss *l = f->loss;

	if (!hystart_on(f))
		return incr;
	round_check(f);
	if (l->hs_done)
		return 0;
	if (l->hs_samples >= HS_N_RTT_SAMPLE && l->hs_cur_min != HS_INF) {
		if (!l->hs_css && l->hs_last_min != HS_INF) {
			uint32_t thresh = l->hs_last_min / HS_MIN_RTT_DIVISOR;

			if (thresh < HS_MIN_RTT_THRESH)
				thresh = HS_MIN_RTT_THRESH;
			if (thresh > HS_MAX_RTT_THRESH)
				thresh = HS_MAX_RTT_THRESH;
			if (l->hs_cur_min >= l->hs_last_min + thresh) {
				l->hs_css = true;
				l->hs_css_rounds = 0;
				l->hs_css_base = l->hs_cur_min;
				CTR_INC(f->st, TCP_HYSTART_CSS);
			}
		} else if (l->hs_css && l->hs_cur_min < l->hs_css_base) {
			/* the RTT went back down: a false alarm, slow start again */
			l->hs_css = false;
			l->hs_css_base = HS_INF;
			CTR_INC(f->st, TCP_HYSTART_CSS_BACK);
		}
	}
	if (l->hs_css)
		incr /= HS_CSS_GROWTH_DIVISOR;
	return incr;
}
