/*
 * cc_cubic.c - CUBIC congestion control (RFC 9438), the default controller
 *
 * Windows are kept in bytes; the curve is computed in segments of the flow's
 * MSS, as the RFC writes it:
 *
 *   W_cubic(t) = C * (t - K)^3 + W_max,   K = cbrt((W_max - cwnd_epoch) / C)
 *
 * with C = 0.4 and t the time since the congestion-avoidance epoch began (the
 * first ACK in congestion avoidance after a loss or after slow start).  On
 * each ACK in congestion avoidance (RFC 9438 4.2-4.5):
 *   - the Reno-friendly estimate W_est grows by alpha segments per window
 *     acknowledged, alpha = 3(1 - beta)/(1 + beta) until W_est reaches W_max
 *     and 1 after it (4.3);
 *   - if W_cubic(t) < W_est the flow is in the Reno-friendly region and
 *     cwnd = W_est;
 *   - else target = W_cubic(t + RTT), clamped to [cwnd, 1.5 cwnd], and cwnd
 *     grows by (target - cwnd) / cwnd per segment acknowledged (concave below
 *     W_max, convex above it).
 * At a loss (4.6, 4.7): ssthresh = cwnd * beta (beta = 0.7, at least
 * 2 MSS), and with fast convergence W_max = cwnd * (1 + beta) / 2 when cwnd
 * did not regain the previous W_max, else W_max = cwnd; the epoch ends.  A
 * timeout (4.8) ends the epoch too: the curve restarts from the cwnd that
 * slow start reaches.  Slow start itself (with HyStart++) is cc.c's.
 */
#include "tcp/tcp_conn.h"

#define CUBIC_C 0.4
#define CUBIC_BETA 0.7

static double cubic_cbrt(double x)
{
	double y = x > 1 ? x / 3 : 1;

	if (x <= 0)
		return 0;
	for (int i = 0; i < 60; i++) {
		double n = (2 * y + x / (y * y)) / 3;

		if (n == y)
			break;
		y = n;
	}
	return y;
}

/**
 * tcp_cubic_w() - RFC 9438 eq. 1, W_cubic(t), in segments
 * @c:		The flow's CUBIC state (W_max in bytes, K)
 * @mss:	The segment size the windows are counted in
 * @t:		Seconds since the epoch began
 *
 * Return: C * (t - K)^3 + W_max, in segments (may be below 0 for t << K)
 */
double tcp_cubic_w(const struct tcp_cubic *c, uint32_t mss, double t)
{
	double d = t - c->k_us / 1e6;

	return CUBIC_C * d * d * d + (double)c->wmax / mss;
}

static void cubic_cong_avoid(struct tapir_tcp_flow *f, uint32_t acked)
{
	struct tcp_cubic *c = &f->ccs.cubic;
	uint32_t mss = f->mss, cw = f->cwnd;
	double t, rtt, wc, target, alpha;

	if (!c->epoch) {
		/* a new epoch (4.2): K from W_max and the window now */
		c->epoch = max32(tcp_us32(f->st), 1);
		if (cw < c->wmax)
			c->k_us = (uint32_t)(cubic_cbrt(((double)(c->wmax - cw) / mss) / CUBIC_C) *
					     1e6);
		else {
			c->k_us = 0;
			c->wmax = cw;
		}
		c->west = cw;
		f->bytes_acked_ca = 0;
	}
	t = (double)(uint32_t)(tcp_us32(f->st) - c->epoch) / 1e6;
	rtt = f->rtt_valid ? f->srtt_us / 1e6 : 0;

	/* Reno-friendly estimate (4.3): alpha segments per cwnd acknowledged */
	alpha = c->west >= c->wmax ? 1.0 : 3.0 * (1 - CUBIC_BETA) / (1 + CUBIC_BETA);
	f->bytes_acked_ca += acked;
	if (f->bytes_acked_ca >= cw) {
		uint32_t wnds = f->bytes_acked_ca / cw;
		double w = c->west + alpha * mss * wnds;

		f->bytes_acked_ca -= wnds * cw;
		c->west = w < TCP_CWND_MAX ? (uint32_t)w : TCP_CWND_MAX;
	}
	wc = tcp_cubic_w(c, mss, t) * mss;
	if (wc < c->west) {
		/* Reno-friendly region (4.3) */
		if (c->west > cw)
			f->cwnd = c->west;
		return;
	}
	/* concave or convex region (4.4, 4.5) */
	target = tcp_cubic_w(c, mss, t + rtt) * mss;
	if (target > 1.5 * cw)
		target = 1.5 * cw;
	if (target > cw) {
		double w = cw + (target - cw) * acked / cw;

		f->cwnd = w < TCP_CWND_MAX ? (uint32_t)w : TCP_CWND_MAX;
	}
}

/* beta 0.7, with fast convergence (RFC 9438 4.6, 4.7) */
static uint32_t cubic_ssthresh(struct tapir_tcp_flow *f)
{
	struct tcp_cubic *c = &f->ccs.cubic;
	uint32_t w = f->cwnd;

	if (w < c->wmax)
		c->wmax = (uint32_t)(w * (1.0 + CUBIC_BETA) / 2.0);
	else
		c->wmax = w;
	c->epoch = 0;
	return max32((uint32_t)(w * CUBIC_BETA), 2 * f->mss);
}

/* a timeout ends the epoch (4.8): the curve starts again from the new cwnd */
static void cubic_on_rto(struct tapir_tcp_flow *f)
{
	f->ccs.cubic.epoch = 0;
}

const struct tcp_cc_ops tcp_cc_cubic = {
	.name = "cubic",
	.cong_avoid = cubic_cong_avoid,
	.ssthresh = cubic_ssthresh,
	.on_rto = cubic_on_rto,
};
