/*
 * cc.h - TCP congestion control: one small interface, one file per algorithm
 *
 * What every algorithm shares stays in the TCP code: the initial window (RFC
 * 6928, set before init()), slow start with appropriate byte counting
 * (RFC 3465, L = 2) while cwnd < ssthresh, no growth at all unless the
 * flow is cwnd-limited (RFC 7661), HyStart++ in the first slow start
 * (hystart.c), a clamp at TCP_CWND_MAX, fast recovery (with SACK: RFC 6675
 * with RACK-TLP's loss detection, cwnd set by PRR on each ACK; NewReno's RFC
 * 6582 without: cwnd = ssthresh on entry, inflation, partial ACKs), and the
 * loss window after a timeout (cwnd = 1 MSS).  An algorithm
 * decides the rest: how cwnd grows in congestion avoidance, what ssthresh
 * becomes at a loss, and what it forgets at a timeout.
 *
 * A new algorithm is one new file cc_NAME.c defining a struct tcp_cc_ops,
 * plus its enum tapir_tcp_cc_algo value (tcp_config.h), its line in the table in
 * cc.c and, if it keeps per-flow state, a member of union tcp_cc_state here.
 */
#ifndef TAPIR_TCP_CC_H
#define TAPIR_TCP_CC_H

#include <stdint.h>

#include "tapir/tcp_config.h"

struct tapir_tcp_flow;

/* CUBIC (cc_cubic.c): W_max and the Reno-friendly estimate W_est (bytes),
 * K, the epoch's start */
struct tcp_cubic {
	uint32_t wmax, west;
	uint32_t k_us;          /* K, microseconds */
	uint32_t epoch;         /* tcp_us32() at its start, never 0 (wraps after 71
	                           minutes: the curve then restarts at K, it never
	                           shrinks cwnd); 0: a new epoch starts at the next ACK */
};

/* RFC 9438 W_cubic(@t seconds), in segments of @mss (cc_cubic.c) */
double tcp_cubic_w(const struct tcp_cubic *c, uint32_t mss, double t);

/* Per-flow state of the algorithms (zero when the flow is made) */
union tcp_cc_state {
	struct tcp_cubic cubic;
};

/**
 * struct tcp_cc_ops - a congestion control algorithm
 * @name:	"newreno", "cubic", ...
 * @init:	The flow is established and cwnd holds the initial window (may be NULL)
 * @cong_avoid:	@acked new bytes were acknowledged in congestion avoidance
 *		(cwnd >= ssthresh, not in recovery): grow f->cwnd
 * @ssthresh:	A loss (fast retransmit, or the first RTO of a series).
 *		Return: the new ssthresh; cwnd is set by the caller
 * @on_rto:	A retransmission timeout, after cwnd went to 1 MSS (may be NULL)
 */
struct tcp_cc_ops {
	const char *name;
	void (*init)(struct tapir_tcp_flow *f);
	void (*cong_avoid)(struct tapir_tcp_flow *f, uint32_t acked);
	uint32_t (*ssthresh)(struct tapir_tcp_flow *f);
	void (*on_rto)(struct tapir_tcp_flow *f);
};

extern const struct tcp_cc_ops tcp_cc_reno;
extern const struct tcp_cc_ops tcp_cc_cubic;

/* Return: the algorithm for @algo (NewReno for an unknown value) */
const struct tcp_cc_ops *tcp_cc_select(enum tapir_tcp_cc_algo algo);

/* The calls the TCP code makes, through the algorithm o.cc names */
void tcp_cc_init(struct tapir_tcp_flow *f);
void tcp_cc_on_ack(struct tapir_tcp_flow *f, uint32_t acked);
uint32_t tcp_cc_ssthresh(struct tapir_tcp_flow *f);
void tcp_cc_on_rto(struct tapir_tcp_flow *f);

#endif /* TAPIR_TCP_CC_H */
