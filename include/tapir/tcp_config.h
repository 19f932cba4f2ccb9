/*
 * tcp_config.h - TCP defaults of a stack (part of struct tapir_stack_config)
 */
#ifndef TAPIR_TCP_CONFIG_H
#define TAPIR_TCP_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum tapir_tcp_cc_algo { TAPIR_TCP_CC_NEWRENO = 0, TAPIR_TCP_CC_CUBIC };

struct tapir_tcp_config {
	size_t max_connections;       /* all flows, listeners excluded: 16384 */
	size_t backlog;               /* default SYN queue + accept queue per listener: 4096 */
	size_t sndbuf, rcvbuf;        /* initial buffer sizes per flow: 256 KiB, 256 KiB (the
				       * fixed sizes when autotune is off) */
	size_t sndbuf_max, rcvbuf_max; /* autotuning grows a flow's buffers up to these:
				       * 1 MiB (a quarter of Linux's tcp_wmem[2]: see
				       * tapird.conf), 6 MiB (Linux's tcp_rmem[2]) */
	bool autotune;                /* grow the buffers of flows that did not set theirs:
				       * true (tcp.h, struct tapir_tcp_flow_opts) */
	size_t ooo_max_bytes;         /* out-of-order data held per flow: = rcvbuf */
	uint64_t msl_ns;              /* TIME_WAIT lasts 2 MSL; MSL 30 s */
	uint64_t fin_wait2_ns;        /* orphaned FIN_WAIT_2 timeout: 60 s */
	unsigned max_retries;         /* data retransmissions before abort: 15 (RFC 1122 R2 >= 100 s) */
	unsigned syn_retries;         /* SYN retransmissions: 6 */
	bool keepalive;               /* off by default (RFC 1122 4.2.3.6) */
	uint64_t keepalive_idle_ns;   /* 2 h */
	uint64_t keepalive_intvl_ns;  /* 75 s */
	unsigned keepalive_count;     /* 9 */
	bool nodelay;                 /* Nagle off; default false (Nagle on) */
	enum tapir_tcp_cc_algo cc;    /* CUBIC by default (as Linux) */
	bool syn_cookies;             /* when the SYN queue is full: true */
	uint32_t challenge_ack_limit; /* challenge ACKs per second per flow (RFC 5961): 10 */
	uint64_t delack_ns;           /* delayed-ACK timeout: 40 ms (RFC 9293: <= 500 ms) */
	uint64_t rto_initial_ns;      /* RTO before any RTT sample: 1 s (RFC 6298) */
	uint64_t rto_min_ns;          /* lower bound of the RTO: 200 ms (as Linux) */
	uint64_t rto_max_ns;          /* upper bound of the RTO: 120 s */
	size_t max_tw;                /* TIME_WAIT entries, outside max_connections: 16384;
				       * when full the oldest is recycled (Linux's
				       * tcp_max_tw_buckets) */
	size_t max_orphans;           /* flows closed by the application that still send or
				       * wait for a FIN: 4096; beyond, the oldest is reset */
	unsigned orphan_retries;      /* zero-window probes an orphan gets without the peer's
				       * window growing: 8 (Linux's tcp_orphan_retries) */
	size_t max_memory;            /* send rings, receive rings and out-of-order data of
				       * all flows together: 256 MiB (Linux's tcp_mem); above
				       * 3/4 of it, memory pressure (tcp.h) */
};

void tapir_tcp_config_defaults(struct tapir_tcp_config *c);

#endif /* TAPIR_TCP_CONFIG_H */
