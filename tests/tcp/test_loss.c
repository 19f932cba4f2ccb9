/*
 * test_loss.c - loss recovery and congestion control (issue 16): CUBIC's
 *               curve against RFC 9438, PRR (RFC 6937), RACK-TLP (RFC 8985),
 *               HyStart++ (RFC 9406); crafted ACKs from the raw port on a fake
 *               clock, and white-box runs of the controllers on a flow
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "tcp_helper.h"
#include "tcp/tcp_conn.h"

#define CTR(h, c) tapir_stack_counter((h)->st, TAPIR_CTR_##c)
#define PORT TH_PORT
#define SPORT TH_SPORT
#define HS_TEST_CSS_ROUNDS 5

static struct tcp_repr segs[RAW_MAX_FRAMES];

/* ---- CUBIC (RFC 9438) ---- */

static double d_abs(double x)
{
	return x < 0 ? -x : x;
}

/* the real cube root by bisection (no libm here) */
static double d_cbrt(double x)
{
	double lo = 0, hi = x > 1 ? x : 1;

	for (int i = 0; i < 200; i++) {
		double m = (lo + hi) / 2;

		if (m * m * m < x)
			lo = m;
		else
			hi = m;
	}
	return lo;
}

/* W_cubic(t) of RFC 9438 eq. 1 and 2, in segments, computed here on its own */
static double rfc_w_cubic(double wmax, double cwnd_epoch, double t)
{
	double k = d_cbrt((wmax - cwnd_epoch) / 0.4);

	return 0.4 * (t - k) * (t - k) * (t - k) + wmax;
}

/* A flow in congestion avoidance for white-box runs of the controller:
 * cwnd-limited (a huge flight), SRTT @rtt_us */
static struct tapir_tcp_flow *ca_flow(struct th_case *t, uint32_t rtt_us)
{
	uint32_t ps;
	struct tapir_tcp_flow *f;

	(void)th_case_open(t, true, &ps);
	f = t->a.flow;
	assert_ptr_equal(tcp_cc_select(f->o.cc), &tcp_cc_cubic);	/* the default */
	f->srtt_us = rtt_us;
	f->rtt_valid = true;
	f->snd_max = f->snd_una + 0x7fffffffu;
	return f;
}

static void ca_flow_done(struct th_case *t, struct tapir_tcp_flow *f, uint64_t now0)
{
	f->snd_max = f->snd_nxt;
	f->st->now = now0;
	tapir_tcp_abort(f);
	th_case_free(t);
}

/* One round trip of ACKs, one per MSS, at @now */
static void ack_window(struct tapir_tcp_flow *f, uint64_t now)
{
	uint32_t n = f->cwnd / f->mss;

	f->st->now = now;
	for (uint32_t i = 0; i < n; i++)
		tcp_cc_on_ack(f, f->mss);
}

/* RTT 100 ms, loss at 100 segments: beta 0.7 (ssthresh 70), W_max 100,
 * K = d_cbrt(30 / 0.4) = 4.22 s; cwnd then follows W_cubic(t + RTT) (concave
 * below W_max, convex above it, the Reno-friendly estimate far below). */
static void test_cubic_w_cubic(void **state)
{
	struct th_case *t = th_case_new(NULL);
	struct tapir_tcp_flow *f = ca_flow(t, 100000);
	uint64_t now0 = f->st->now, start = now0 + SEC;
	uint32_t mss = f->mss;
	int checked = 0;

	(void)state;
	f->cwnd = 100 * mss;
	f->ssthresh = f->cwnd;
	f->ssthresh = tcp_cc_ssthresh(f);
	assert_int_equal(f->ssthresh, 70 * mss);
	assert_int_equal(f->ccs.cubic.wmax, 100 * mss);
	f->cwnd = f->ssthresh;
	for (int r = 0; r <= 80; r++) {
		double tsec = r * 0.1, want = rfc_w_cubic(100, 70, tsec + 0.1);
		double got = (double)f->cwnd / mss;

		if (r > 0 && r % 10 == 0) {
			if (getenv("CUBIC_TRACE"))
				print_message("t %.1f s cwnd %.2f W_cubic(t+RTT) %.2f\n", tsec, got, want);
			assert_true(d_abs(got - want) <= 0.03 * want + 1);
			checked++;
		}
		ack_window(f, start + (uint64_t)r * 100 * MS);
	}
	assert_int_equal(checked, 8);
	assert_true(f->cwnd > 100 * mss);	/* past W_max: convex */
	/* fast convergence (4.7): a loss below the last W_max lowers it */
	f->cwnd = 90 * mss;
	f->ssthresh = tcp_cc_ssthresh(f);
	assert_int_equal(f->ccs.cubic.wmax, (uint32_t)(90 * mss * 1.7 / 2));
	assert_int_equal(f->ssthresh, (uint32_t)(90 * mss * 0.7));
	ca_flow_done(t, f, now0);
}

/* RTT 1 ms: W_cubic hardly moves in 50 ms, so the Reno-friendly estimate
 * leads: W_est = 70 + 0.529 per round (alpha = 3 * 0.3 / 1.7), and alpha is
 * 1 once W_est is past W_max (RFC 9438 4.3). */
static void test_cubic_reno_friendly(void **state)
{
	struct th_case *t = th_case_new(NULL);
	struct tapir_tcp_flow *f = ca_flow(t, 1000);
	uint64_t now0 = f->st->now, start = now0 + SEC;
	uint32_t mss = f->mss;
	int r;

	(void)state;
	f->cwnd = 100 * mss;
	f->ssthresh = tcp_cc_ssthresh(f);
	f->cwnd = f->ssthresh;
	for (r = 0; r < 50; r++)
		ack_window(f, start + (uint64_t)r * MS);
	assert_true(d_abs((double)f->cwnd / mss - (70 + 50 * 0.529)) <= 1.5);
	while ((double)f->ccs.cubic.west < 100.0 * mss)
		ack_window(f, start + (uint64_t)r++ * MS);
	{
		double w0 = (double)f->cwnd / mss;

		for (int i = 0; i < 20; i++)
			ack_window(f, start + (uint64_t)r++ * MS);
		/* alpha 1 above W_max: one segment per round */
		assert_true(d_abs((double)f->cwnd / mss - (w0 + 20)) <= 1.5);
	}
	ca_flow_done(t, f, now0);
}

/* ---- RACK-TLP (RFC 8985) ---- */

static uint32_t tsv = 5000;

/* An ACK of @ack from the peer with SACK blocks [l, r) pairs (0 to 3) */
static void sack_ack(struct th_case *t, uint32_t ps, uint32_t ack, unsigned n, const uint32_t *lr)
{
	struct tcp_repr r = th_seg(SPORT, PORT, ps, ack, TCP_ACK, 65535);

	r.has_ts = true;
	r.ts_val = ++tsv;
	r.nsack = n;
	for (unsigned i = 0; i < n; i++)
		r.sack[i] = (struct tcp_sack_block){ lr[2 * i], lr[2 * i + 1] };
	th_send(t->w, t->h, &r);
}

/* Data segments (with payload) the stack sent since the last raw_clear() */
static size_t data_segs(struct th_case *t)
{
	size_t n = th_segs(t->w, segs, RAW_MAX_FRAMES), k = 0;

	for (size_t i = 0; i < n; i++)
		if (segs[i].payload_len)
			segs[k++] = segs[i];
	return k;
}

/* A flow whose RTT is 40 ms (two segments timed and acknowledged);
 * Return: the next sequence number to send, *@ps the peer's */
static uint32_t rtt40_flow(struct th_case *t, uint32_t *ps, const uint8_t *p)
{
	uint32_t iss = th_case_open(t, true, ps), mss = 1448;

	tapir_tcp_write(t->a.flow, p, 2 * mss);
	world_pump(t->w);
	world_advance(t->w, 40 * MSEC);
	sack_ack(t, *ps, iss + 1 + 2 * mss, 0, NULL);
	assert_null(t->a.flow->loss);	/* nothing in flight: no loss state */
	/* SRTT as if every sample said 40 ms (the handshake's said ~0) */
	t->a.flow->srtt_us = 40000;
	t->a.flow->rttvar_us = 10000;
	raw_clear(t->w);
	return iss + 1 + 2 * mss;
}

/* The loss state costs an idle flow nothing: none for a lone segment (a
 * small response), one while several are in flight, none again once all is
 * acknowledged. */
static void test_loss_state_lifetime(void **state)
{
	struct th_case *t = th_case_new(NULL);
	uint8_t *p = th_pattern(20000, 10);
	uint32_t ps, mss = 1448, base = rtt40_flow(t, &ps, p);

	(void)state;
	tapir_tcp_write(t->a.flow, p, 1000);
	world_pump(t->w);
	assert_null(t->a.flow->loss);
	sack_ack(t, ps, base + 1000, 0, NULL);
	tapir_tcp_write(t->a.flow, p, 3 * mss);
	world_pump(t->w);
	assert_non_null(t->a.flow->loss);
	sack_ack(t, ps, base + 1000 + 3 * mss, 0, NULL);
	assert_null(t->a.flow->loss);
	free(p);
	tapir_tcp_abort(t->a.flow);
	th_case_free(t);
}

/* Five segments, only the last is SACKed (one SACKed segment, below
 * DupThresh): RACK marks the four before it lost once RACK.rtt + reo_wnd
 * (min_RTT / 4 = 10 ms) has passed since they were sent, by its reordering
 * timer, long before the PTO (80 ms) or the RTO; not before the window. */
static void test_rack_reo_timer(void **state)
{
	struct th_case *t = th_case_new(NULL);
	uint8_t *p = th_pattern(20000, 3);
	uint32_t ps, mss = 1448, base = rtt40_flow(t, &ps, p);
	uint32_t lr[2] = { base + 4 * mss, base + 5 * mss };
	size_t n;

	(void)state;
	tapir_tcp_write(t->a.flow, p, 5 * mss);
	world_pump(t->w);
	assert_int_equal(data_segs(t), 5);
	raw_clear(t->w);
	world_advance(t->w, 40 * MSEC);
	sack_ack(t, ps, base, 1, lr);
	assert_int_equal(data_segs(t), 0);	/* within the reordering window */
	world_advance(t->w, 8 * MSEC);
	assert_int_equal(data_segs(t), 0);
	world_advance(t->w, 4 * MSEC);	/* 12 ms after the SACK */
	n = data_segs(t);
	assert_true(n >= 1);
	assert_int_equal(segs[0].seq, base);
	for (size_t i = 0; i < n; i++)
		assert_true(seq_lt(segs[i].seq, base + 4 * mss));	/* never the SACKed one */
	assert_int_equal(CTR(t->h, TCP_RACK_REO_TIMEOUTS), 1);
	assert_true(CTR(t->h, TCP_RACK_LOST) >= 1);
	assert_int_equal(CTR(t->h, TCP_FAST_RETRANSMITS), 1);
	assert_int_equal(CTR(t->h, TCP_TAIL_LOSS_PROBES), 0);
	assert_int_equal(CTR(t->h, TCP_RTO_TIMEOUTS), 0);
	free(p);
	tapir_tcp_abort(t->a.flow);
	th_case_free(t);
}

/* The same, but the four arrive late (reordering): the cumulative ACK
 * inside the window cancels the timer, nothing is retransmitted, and RACK
 * records that the path reorders. */
static void test_rack_reordering(void **state)
{
	struct th_case *t = th_case_new(NULL);
	uint8_t *p = th_pattern(20000, 4);
	uint32_t ps, mss = 1448, base = rtt40_flow(t, &ps, p);
	uint32_t lr[2] = { base + 4 * mss, base + 5 * mss };

	(void)state;
	tapir_tcp_write(t->a.flow, p, 5 * mss);
	world_pump(t->w);
	raw_clear(t->w);
	world_advance(t->w, 40 * MSEC);
	sack_ack(t, ps, base, 1, lr);
	world_advance(t->w, 5 * MSEC);
	sack_ack(t, ps, base + 2 * mss, 1, lr);	/* the first two, late */
	assert_int_equal(CTR(t->h, TCP_RACK_REORDERING), 1);
	world_advance(t->w, 2 * MSEC);
	sack_ack(t, ps, base + 5 * mss, 0, NULL);
	world_advance(t->w, 30 * MSEC);
	assert_int_equal(data_segs(t), 0);
	assert_int_equal(CTR(t->h, TCP_RETRANSMITS), 0);
	assert_int_equal(CTR(t->h, TCP_FAST_RETRANSMITS), 0);
	assert_true(t->a.flow->reord_seen);
	free(p);
	tapir_tcp_abort(t->a.flow);
	th_case_free(t);
}

/* Three segments SACKed above a hole (DupThresh) with no reordering seen:
 * reo_wnd is 0 and the hole is retransmitted at once (RFC 8985 6.2 step 4). */
static void test_rack_dupthresh(void **state)
{
	struct th_case *t = th_case_new(NULL);
	uint8_t *p = th_pattern(20000, 5);
	uint32_t ps, mss = 1448, base = rtt40_flow(t, &ps, p);
	uint32_t lr[2] = { base + mss, base + 4 * mss };

	(void)state;
	tapir_tcp_write(t->a.flow, p, 5 * mss);
	world_pump(t->w);
	raw_clear(t->w);
	world_advance(t->w, 40 * MSEC);
	sack_ack(t, ps, base, 1, lr);
	assert_true(data_segs(t) >= 1);
	assert_int_equal(segs[0].seq, base);
	assert_int_equal(CTR(t->h, TCP_RACK_REO_TIMEOUTS), 0);
	free(p);
	tapir_tcp_abort(t->a.flow);
	th_case_free(t);
}

/* A lost tail: the ACK for the last two segments does not come (the fourth
 * arrived, its ACK was lost; the fifth was lost), and nothing can be SACKed
 * after them: the tail loss probe (2 SRTT = 80 ms) resends the last segment,
 * long before the RTO (SRTT + 4 RTTVAR, at least 200 ms).  The probe's ACK
 * alone does not tell whether the original arrived; an ACK beyond the probe
 * without a DSACK does: the probe repaired a loss and cwnd goes down (RFC 8985
 * 7.4.2).  When the fifth had arrived too (only ACKs were lost), the peer
 * DSACKs the probe and cwnd stays. */
static void tlp_case(bool dsack)
{
	struct th_case *t = th_case_new(NULL);
	uint8_t *p = th_pattern(40000, 6);
	uint32_t ps, mss = 1448, base = rtt40_flow(t, &ps, p), cwnd;
	size_t n;

	tapir_tcp_write(t->a.flow, p, 5 * mss);
	world_pump(t->w);
	raw_clear(t->w);
	world_advance(t->w, 40 * MSEC);
	sack_ack(t, ps, base + 3 * mss, 0, NULL);	/* the last two are not acknowledged */
	world_advance(t->w, 70 * MSEC);
	assert_int_equal(data_segs(t), 0);
	world_advance(t->w, 20 * MSEC);	/* PTO: 2 SRTT after the ACK */
	n = data_segs(t);
	assert_int_equal(n, 1);
	assert_int_equal(segs[0].seq, base + 4 * mss);
	assert_int_equal(CTR(t->h, TCP_TAIL_LOSS_PROBES), 1);
	assert_int_equal(CTR(t->h, TCP_RTO_TIMEOUTS), 0);
	raw_clear(t->w);
	world_advance(t->w, 40 * MSEC);
	cwnd = t->a.flow->cwnd;
	if (dsack) {
		uint32_t d[2] = { base + 4 * mss, base + 5 * mss };

		sack_ack(t, ps, base + 5 * mss, 1, d);
		assert_int_equal(CTR(t->h, TCP_DSACKS), 1);
	} else {
		sack_ack(t, ps, base + 5 * mss, 0, NULL);
	}
	/* more data, acknowledged beyond the probe */
	tapir_tcp_write(t->a.flow, p, 2 * mss);
	world_pump(t->w);
	world_advance(t->w, 40 * MSEC);
	sack_ack(t, ps, base + 6 * mss, 0, NULL);
	if (dsack) {
		assert_int_equal(CTR(t->h, TCP_TLP_LOSS_REPAIRED), 0);
		assert_true(t->a.flow->cwnd >= cwnd);
	} else {
		assert_int_equal(CTR(t->h, TCP_TLP_LOSS_REPAIRED), 1);
		assert_true(t->a.flow->cwnd < cwnd);
		assert_int_equal(t->a.flow->ssthresh, t->a.flow->cwnd);
	}
	free(p);
	tapir_tcp_abort(t->a.flow);
	th_case_free(t);
}

static void test_tlp_repairs_tail(void **state)
{
	(void)state;
	tlp_case(false);
}

static void test_tlp_dsack_no_loss(void **state)
{
	(void)state;
	tlp_case(true);
}

/* ---- after a timeout ---- */

/*
 * The peer of test_rto_resend_lost: which of @n segments from @base it holds;
 * takes the data segments sent (a segment is dropped when @drop says so for
 * its transmission) and answers each with an ACK and SACK blocks (the three
 * highest runs above the cumulative ACK)
 */
static void peer_take(struct th_case *t, uint32_t ps, uint32_t base, bool *have, unsigned n,
		      bool (*drop)(unsigned seg, unsigned nth), unsigned *sends)
{
	uint32_t mss = 1448;
	size_t k = data_segs(t);

	raw_clear(t->w);
	for (size_t i = 0; i < k; i++) {
		unsigned first = (segs[i].seq - base) / mss, last;
		uint32_t lr[6], ack;
		unsigned nb = 0, j;

		bool got = false;

		last = first + (segs[i].payload_len + mss - 1) / mss;
		for (j = first; j < last && j < n; j++)
			if (!drop(j, sends[j]++))
				got = have[j] = true;
		if (!got)
			continue;	/* lost: no ACK */
		for (j = 0; j < n && have[j]; j++)
			;
		ack = base + j * mss;
		for (unsigned e = n; e > j && nb < 3;) {
			unsigned b;

			while (e > j && !have[e - 1])
				e--;
			if (e == j)
				break;
			b = e;
			while (b > j && have[b - 1])
				b--;
			lr[2 * nb] = base + b * mss;
			lr[2 * nb + 1] = base + e * mss;
			nb++;
			e = b;
		}
		sack_ack(t, ps, ack, nb, lr);
	}
}

static unsigned rto_sends[10];
static bool rto_seen;

/* all that is sent before the timeout lost (the probe too); of the resends
 * after it, the fifth segment's first */
static bool drop_all_then_5th(unsigned seg, unsigned nth)
{
	(void)nth;
	if (!rto_seen)
		return true;
	return seg == 4 && rto_sends[seg]++ == 0;
}

/*
 * A timeout, and one of the segments resent after it lost again (5 % loss
 * does it often): once everything is resent, RACK finds the resend lost when
 * later ones are SACKed and RACK.rtt has passed, and it is sent again at
 * once, as in a recovery (tcp_rto_recovery()), without a second timeout
 * (whose backoff doubles the wait and restarts from one segment); cwnd is
 * not cut again.
 */
static void test_rto_resend_lost(void **state)
{
	struct th_case *t = th_case_new(NULL);
	uint8_t *p = th_pattern(40000, 11);
	uint32_t ps, mss = 1448, base = rtt40_flow(t, &ps, p);
	struct tapir_tcp_flow *f = t->a.flow;
	bool have[10] = { false };
	unsigned sends[10] = { 0 };
	uint32_t ssthresh = 0;
	int ms;

	(void)state;
	rto_seen = false;
	memset(rto_sends, 0, sizeof(rto_sends));
	f->cwnd = 10 * mss;
	tapir_tcp_write(f, p, 10 * mss);
	world_pump(t->w);
	for (ms = 0; ms < 5000 && !CTR(t->h, TCP_RTO_TIMEOUTS); ms++) {
		peer_take(t, ps, base, have, 10, drop_all_then_5th, sends);
		world_advance(t->w, MSEC);
	}
	assert_int_equal(CTR(t->h, TCP_RTO_TIMEOUTS), 1);
	rto_seen = true;
	ssthresh = f->ssthresh;
	/* the peer answers 20 ms after each resend (RTT 20 ms now) */
	for (ms = 0; ms < 3000 && seq_lt(f->snd_una, base + 10 * mss); ms += 20) {
		world_advance(t->w, 20 * MSEC);
		peer_take(t, ps, base, have, 10, drop_all_then_5th, sends);
	}
	assert_int_equal(f->snd_una, base + 10 * mss);
	assert_int_equal(rto_sends[4], 2);	/* sent again after its resend was lost */
	assert_int_equal(CTR(t->h, TCP_RTO_TIMEOUTS), 1);
	assert_int_equal(CTR(t->h, TCP_RTO_RECOVERIES), 1);
	assert_int_equal(CTR(t->h, TCP_FAST_RETRANSMITS), 0);
	assert_int_equal(f->ssthresh, ssthresh);	/* one reduction */
	assert_true(ms < 400);
	free(p);
	tapir_tcp_abort(f);
	th_case_free(t);
}

/* ---- PRR (RFC 6937) ---- */

/*
 * 20 segments in flight (cwnd 20), the first lost, the peer SACKs the others
 * one by one (the first two also send new data: limited transmit, RFC 3042).
 * Recovery starts at the third SACK (DupThresh); from then on,
 * after every ACK, what the recovery sent in all (the retransmission
 * included) is ceil(prr_delivered * ssthresh / RecoverFS) in whole segments
 * while the pipe is above ssthresh (RFC 6937's proportional part; the fast
 * retransmit itself goes at once whatever the first ACK allows): sending
 * starts at once rather than after the pipe drained to ssthresh (as with
 * cwnd = ssthresh), and never bursts.
 */
static void test_prr_proportional(void **state)
{
	struct th_case *t = th_case_new(NULL);
	uint8_t *p = th_pattern(80000, 8);
	uint32_t ps, mss = 1448, base = rtt40_flow(t, &ps, p);
	struct tapir_tcp_flow *f = t->a.flow;
	uint64_t delivered = 0, sent = 0, ssthresh = 0, rfs = 0;
	bool started = false;
	int checked = 0;

	(void)state;
	f->cwnd = 20 * mss;
	f->ssthresh = 100 * mss;
	tapir_tcp_write(f, p, 40 * mss);
	world_pump(t->w);
	assert_int_equal(data_segs(t), 20);
	raw_clear(t->w);
	world_advance(t->w, 40 * MSEC);
	for (uint32_t k = 1; k < 20; k++) {
		uint32_t lr[2] = { base + mss, base + (k + 1) * mss };
		size_t n;

		sack_ack(t, ps, base, 1, lr);
		n = data_segs(t);
		raw_clear(t->w);
		if (!started && f->in_recovery) {
			started = true;
			ssthresh = f->ssthresh;
			assert_int_equal(ssthresh, 14 * mss);	/* CUBIC: 0.7 * 20 */
			assert_int_equal(CTR(t->h, TCP_PRR_RECOVERIES), 1);
			delivered = mss;	/* this ACK's */
			rfs = f->loss->recover_fs;
			assert_int_equal(rfs, flight(f));
		} else if (started) {
			delivered += mss;
		}
		for (size_t i = 0; started && i < n; i++)
			sent += segs[i].payload_len;
		if (getenv("PRR_TRACE"))
			print_message("k %u rec %d n %zu sent %llu delivered %llu pipe %u cwnd %u ssth %u\n", k,
				      f->in_recovery, n, (unsigned long long)sent,
				      (unsigned long long)delivered, tcp_sack_pipe(f), f->cwnd, f->ssthresh);
		if (started && tcp_sack_pipe(f) > ssthresh) {
			uint64_t want = (delivered * ssthresh + rfs - 1) / rfs;

			/* the fast retransmit goes regardless (as Linux's PRR) */
			assert_true(sent <= (want > mss ? want : mss));
			assert_true(sent + mss > want);
			checked++;
		}
	}
	assert_true(started);
	assert_true(checked >= 7);	/* until the pipe is down to ssthresh */
	free(p);
	tapir_tcp_abort(f);
	th_case_free(t);
}

/*
 * A burst loss: 14 of 20 segments lost, the pipe falls far below ssthresh,
 * and PRR-SSRB grows it back by at most what each ACK delivered plus one MSS
 * (slow start), up to ssthresh, never beyond it.
 */
static void test_prr_ssrb(void **state)
{
	struct th_case *t = th_case_new(NULL);
	uint8_t *p = th_pattern(80000, 9);
	uint32_t ps, mss = 1448, base = rtt40_flow(t, &ps, p);
	struct tapir_tcp_flow *f = t->a.flow;
	uint32_t lr[2] = { base + 14 * mss, 0 };
	int ssrb_acks = 0;

	(void)state;
	f->cwnd = 20 * mss;
	f->ssthresh = 100 * mss;
	tapir_tcp_write(f, p, 50 * mss);
	world_pump(t->w);
	assert_int_equal(data_segs(t), 20);
	raw_clear(t->w);
	world_advance(t->w, 40 * MSEC);
	/* segments 0-13 lost; 14..19 SACKed one per ACK, then the
	 * retransmissions of 0.. acknowledged one per ACK */
	for (uint32_t k = 14; k < 30; k++) {
		uint32_t pipe_before = tcp_sack_pipe(f), ack = base;
		uint64_t sent = 0;
		size_t n;

		lr[1] = base + (k < 20 ? k + 1 : 20) * mss;
		if (k >= 20)
			ack = base + (k - 19) * mss;
		sack_ack(t, ps, ack, 1, lr);
		n = data_segs(t);
		raw_clear(t->w);
		for (size_t i = 0; i < n; i++)
			sent += segs[i].payload_len;
		if (getenv("PRR_TRACE"))
			print_message("k %u rec %d n %zu sent %llu pipe %u -> %u cwnd %u ssth %u\n", k,
				      f->in_recovery, n, (unsigned long long)sent, pipe_before,
				      tcp_sack_pipe(f), f->cwnd, f->ssthresh);
		if (f->in_recovery && k > 16) {
			/* one segment delivered: at most two sent, never past ssthresh */
			assert_true(sent <= 2 * mss);
			assert_true(tcp_sack_pipe(f) <= f->ssthresh);
			if (pipe_before + 2 * mss <= f->ssthresh) {
				assert_int_equal(sent, 2 * mss);	/* slow start */
				ssrb_acks++;
			}
		}
	}
	assert_true(f->in_recovery);
	assert_true(ssrb_acks >= 3);
	assert_true(CTR(t->h, TCP_PRR_SSRB) >= 3);
	free(p);
	tapir_tcp_abort(f);
	th_case_free(t);
}

/* ---- HyStart++ (RFC 9406) ---- */

/* ACK every second data segment the stack sent since the last call */
static void ack_all(struct th_case *t, uint32_t ps)
{
	size_t n = data_segs(t), k = 0;
	static uint32_t acks[RAW_MAX_FRAMES];

	for (size_t i = 0; i < n; i++)
		if (i % 2 == 1 || i + 1 == n)
			acks[k++] = segs[i].seq + (uint32_t)segs[i].payload_len;
	raw_clear(t->w);
	for (size_t i = 0; i < k; i++)
		sack_ack(t, ps, acks[i], 0, NULL);
}

/*
 * Slow start with rounds of 10 ms; from round @rise on the RTT is 16 ms
 * (a queue builds).  Return: the flow's ssthresh after 12 rounds, and the
 * round at which slow start ended in *@exit_round (-1: never)
 */
static uint32_t hystart_run(int rise, int *exit_round, uint32_t *cwnd_at_exit, uint64_t *css,
			    uint64_t *exits)
{
	struct th_case *t = th_case_new(NULL);
	struct tapir_tcp_flow_opts o;
	static uint8_t junk[65536];
	uint32_t ps, ssthresh;

	tapir_tcp_flow_opts_defaults(t->h->st, &o);
	o.sndbuf = 32 << 20;
	app_listen(&t->a, t->h, PORT, &o);
	(void)th_handshake(t->w, t->h, SPORT, PORT, 1000, true, &ps);
	raw_clear(t->w);
	/* SRTT as if the handshake had taken 10 ms (it took ~0) */
	t->a.flow->srtt_us = 10000;
	t->a.flow->rttvar_us = 5000;
	*exit_round = -1;
	for (int r = 0; r < 12; r++) {
		while (tapir_tcp_write(t->a.flow, junk, sizeof(junk)) > 0)
			;
		world_pump(t->w);
		world_advance(t->w, (r >= rise ? 16 : 10) * MSEC);
		ack_all(t, ps);
		if (*exit_round < 0 && t->a.flow->ssthresh != UINT32_MAX) {
			*exit_round = r;
			*cwnd_at_exit = t->a.flow->cwnd;
		}
	}
	ssthresh = t->a.flow->ssthresh;
	*css = CTR(t->h, TCP_HYSTART_CSS);
	*exits = CTR(t->h, TCP_HYSTART_EXIT);
	if (getenv("HS_TRACE"))
		print_message("rise %d: exit round %d cwnd %u ssthresh %u css %llu exits %llu fr %llu rto %llu tlp %llu\n", rise, *exit_round,
			      *cwnd_at_exit, ssthresh, (unsigned long long)*css, (unsigned long long)*exits, (unsigned long long)CTR(t->h, TCP_FAST_RETRANSMITS), (unsigned long long)CTR(t->h, TCP_RTO_TIMEOUTS), (unsigned long long)CTR(t->h, TCP_TAIL_LOSS_PROBES));
	tapir_tcp_abort(t->a.flow);
	th_case_free(t);
	return ssthresh;
}

/* The RTT rises from 10 to 16 ms at round 4: HyStart++ enters CSS on the
 * first round that sees it (16 >= 10 + max(10/8, 4) ms), and after 5 rounds
 * in CSS ends slow start (ssthresh = cwnd) with no loss at all.  A steady
 * RTT never leaves slow start. */
static void test_hystart_rtt_rise(void **state)
{
	int exit_round;
	uint32_t cwnd = 0, ssthresh;
	uint64_t css, exits;

	(void)state;
	ssthresh = hystart_run(4, &exit_round, &cwnd, &css, &exits);
	assert_int_equal(css, 1);
	assert_int_equal(exits, 1);
	assert_true(exit_round >= 4 + HS_TEST_CSS_ROUNDS - 1 && exit_round <= 4 + HS_TEST_CSS_ROUNDS + 1);
	assert_true(ssthresh <= cwnd && ssthresh >= cwnd / 2);	/* cwnd when it ended */
	ssthresh = hystart_run(100, &exit_round, &cwnd, &css, &exits);
	assert_int_equal(exit_round, -1);
	assert_int_equal(ssthresh, UINT32_MAX);
	assert_int_equal(css, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cubic_w_cubic),
		cmocka_unit_test(test_cubic_reno_friendly),
		cmocka_unit_test(test_loss_state_lifetime),
		cmocka_unit_test(test_rack_reo_timer),
		cmocka_unit_test(test_rack_reordering),
		cmocka_unit_test(test_rack_dupthresh),
		cmocka_unit_test(test_tlp_repairs_tail),
		cmocka_unit_test(test_tlp_dsack_no_loss),
		cmocka_unit_test(test_rto_resend_lost),
		cmocka_unit_test(test_prr_proportional),
		cmocka_unit_test(test_prr_ssrb),
		cmocka_unit_test(test_hystart_rtt_rise),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
