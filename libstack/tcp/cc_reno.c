/*
 * cc_reno.c - NewReno congestion avoidance (RFC 5681, byte counting)
 */
#include "tcp/tcp_conn.h"

static void reno_cong_avoid(struct tapir_tcp_flow *f, uint32_t acked)
{
	/* RFC 5681 congestion avoidance, byte counting */
	f->bytes_acked_ca += acked;
	if (f->bytes_acked_ca >= f->cwnd) {
		f->bytes_acked_ca -= f->cwnd;
		if (f->cwnd < TCP_CWND_MAX - f->mss)
			f->cwnd += f->mss;
		else
			f->cwnd = TCP_CWND_MAX;
	}
}

/* RFC 5681 eq. 4 */
static uint32_t reno_ssthresh(struct tapir_tcp_flow *f)
{
	return max32(flight(f) / 2, 2 * f->mss);
}

const struct tcp_cc_ops tcp_cc_reno = {
	.name = "newreno",
	.cong_avoid = reno_cong_avoid,
	.ssthresh = reno_ssthresh,
};
