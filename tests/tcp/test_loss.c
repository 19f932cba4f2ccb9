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
	assert_ptr_equal(f->cc, &tcp_cc_cubic);	/* the default */
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cubic_w_cubic),
		cmocka_unit_test(test_cubic_reno_friendly),
	};

	(void)segs;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
