/*
 * cc_cubic.c - CUBIC congestion control (RFC 9438: beta 0.7, C 0.4, with
 * fast convergence and the Reno-friendly region)
 */
#include "tcp/tcp_conn.h"

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

static void cubic_cong_avoid(struct tapir_tcp_flow *f, uint32_t acked)
{
	struct tcp_cubic *c = &f->ccs.cubic;
	uint32_t mss = f->mss;
	double t, wc, target, segs_wmax = (double)c->wmax / mss;
	uint32_t cw;

	if (!c->epoch) {
		c->epoch = f->st->now;
		if (f->cwnd < c->wmax)
			c->k = cubic_cbrt((segs_wmax - (double)f->cwnd / mss) / 0.4);
		else {
			c->k = 0;
			c->wmax = f->cwnd;
			segs_wmax = (double)f->cwnd / mss;
		}
		c->west = f->cwnd;
		f->bytes_acked_ca = 0;
	}
	t = (double)(f->st->now - c->epoch) / SEC + (f->rtt_valid ? f->srtt_us / 1e6 : 0);
	wc = 0.4 * (t - c->k) * (t - c->k) * (t - c->k) + segs_wmax;
	/* Reno-friendly estimate (RFC 9438 4.3, alpha = 3(1-beta)/(1+beta)) */
	f->bytes_acked_ca += acked;
	if (f->bytes_acked_ca >= c->west) {
		f->bytes_acked_ca -= c->west;
		c->west += (uint32_t)(mss * 3.0 * 0.3 / 1.7);
	}
	target = wc * mss;
	if (target > 1.5 * f->cwnd)
		target = 1.5 * f->cwnd;
	cw = f->cwnd;
	if ((double)c->west > target)
		target = c->west;
	if (target > TCP_CWND_MAX)
		target = TCP_CWND_MAX;
	if (target > cw) {	/* (target - cwnd) / cwnd per segment acked */
		double w = cw + (target - cw) * acked / cw + 1;

		f->cwnd = w < TCP_CWND_MAX ? (uint32_t)w : TCP_CWND_MAX;
	}
	if (c->west > TCP_CWND_MAX)
		c->west = TCP_CWND_MAX;
}

/* beta 0.7, with fast convergence (RFC 9438 4.7) */
static uint32_t cubic_ssthresh(struct tapir_tcp_flow *f)
{
	struct tcp_cubic *c = &f->ccs.cubic;
	uint32_t w = f->cwnd;

	if (w < c->wmax)
		c->wmax = (uint32_t)(w * (1.0 + 0.7) / 2.0);
	else
		c->wmax = w;
	c->epoch = 0;
	return max32((uint32_t)(w * 0.7), 2 * f->mss);
}

/* a timeout ends the epoch: the curve starts again from the new cwnd */
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
