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

/* A flow's algorithm: o.cc names it (no pointer kept per flow) */
#define CC(f) tcp_cc_select((f)->o.cc)

void tcp_cc_init(struct tapir_tcp_flow *f)
{
	if (CC(f)->init)
		CC(f)->init(f);
}

/*
 * Is the flow cwnd-limited?  RFC 7661 4.3: cwnd is validated while the pipe
 * (here the flight before this ACK) is at least half of it; otherwise the
 * application or the peer's window limits the flow, and growing cwnd would
 * only build a window that was never tested (and, unchecked, one that wraps
 * after 4 GiB acked).  Half rather than all of it lets slow start double
 * cwnd per round trip when it fills it, as Linux's tcp_is_cwnd_limited().
 */
static bool cwnd_limited(const struct tapir_tcp_flow *f, uint32_t acked)
{
	uint64_t before = (uint64_t)flight(f) + acked;

	return 2 * before >= f->cwnd;
}

/* A new ACK outside recovery: slow start with ABC (L = 2), else the
 * algorithm; only when cwnd-limited, and never beyond TCP_CWND_MAX. */
void tcp_cc_on_ack(struct tapir_tcp_flow *f, uint32_t acked)
{
	if (!cwnd_limited(f, acked))
		return;
	if (f->cwnd < f->ssthresh) {
		/* ABC, L = 2; HyStart++ may slow it down or end it (hystart.c) */
		uint64_t w = (uint64_t)f->cwnd + tcp_hystart_ss_incr(f, min32(acked, 2 * f->mss));

		f->cwnd = (uint32_t)(w < TCP_CWND_MAX ? w : TCP_CWND_MAX);
	} else {
		CC(f)->cong_avoid(f, acked);
		if (f->cwnd > TCP_CWND_MAX)
			f->cwnd = TCP_CWND_MAX;
	}
	if (f->cwnd < f->mss)
		f->cwnd = f->mss;
}

/* ssthresh after a loss */
uint32_t tcp_cc_ssthresh(struct tapir_tcp_flow *f)
{
	return CC(f)->ssthresh(f);
}

void tcp_cc_on_rto(struct tapir_tcp_flow *f)
{
	if (CC(f)->on_rto)
		CC(f)->on_rto(f);
}
