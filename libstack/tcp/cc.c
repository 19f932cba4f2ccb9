/*
 * cc.c - TCP congestion control: the algorithm table and slow start (see cc.h)
 */
#include "tcp/tcp_conn.h"

static const struct tcp_cc_ops *const algos[] = {
	[TAPIR_TCP_CC_NEWRENO] = &tcp_cc_reno,
	[TAPIR_TCP_CC_CUBIC] = &tcp_cc_cubic,
};

const struct tcp_cc_ops *tcp_cc_select(enum tapir_tcp_cc_algo algo)
{
	if ((unsigned)algo < sizeof(algos) / sizeof(algos[0]) && algos[algo])
		return algos[algo];
	return &tcp_cc_reno;
}

void tcp_cc_init(struct tapir_tcp_flow *f)
{
	if (f->cc->init)
		f->cc->init(f);
}

/* A new ACK outside recovery: slow start with ABC (L = 2), else the algorithm. */
void tcp_cc_on_ack(struct tapir_tcp_flow *f, uint32_t acked)
{
	if (f->cwnd < f->ssthresh) {
		f->cwnd += min32(acked, 2 * f->mss);	/* ABC, L = 2 */
		return;
	}
	f->cc->cong_avoid(f, acked);
}

/* ssthresh after a loss */
uint32_t tcp_cc_ssthresh(struct tapir_tcp_flow *f)
{
	return f->cc->ssthresh(f);
}

void tcp_cc_on_rto(struct tapir_tcp_flow *f)
{
	if (f->cc->on_rto)
		f->cc->on_rto(f);
}
