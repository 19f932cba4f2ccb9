/*
 * test_autotune.c - TCP buffer autotuning (issue 16's delay row): two stacks on
 *                   vnetif, 10 ms of delay each way (RTT 20 ms), on a fake clock
 *
 * a (192.0.2.2) listens and sends as fast as its writable() callbacks let it;
 * b (192.0.2.3) connects and reads at once (or pauses).  A spy in front of a's
 * stack checks every ACK b sends: the right edge of b's window (ACK + window
 * << scale) never moves back (RFC 7323 2.4, RFC 9293 3.8.6.2.2).  The link has
 * no rate limit, so the transfer rate is the window (b's, or a's send
 * buffer) per round trip: 256 KiB / 20 ms = 13.1 MB/s without autotuning.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "tcp/tcp_conn.h"

#define SEC TAPIR_STACK_NS_PER_SEC
#define MSEC (SEC / 1000)
#define PORT 5001
#define DELAY (10 * MSEC)               /* each way */
#define RTT (2 * DELAY)
#define INIT (256u << 10)               /* [tcp] sndbuf, rcvbuf defaults */
#define CTR(h, c) tapir_stack_counter((h)->st, TAPIR_CTR_##c)

struct run {
	struct world *w;
	struct host *a, *b;
	struct tapir_tcp_flow *tx, *rx;     /* a's flow, b's flow */
	struct tapir_netif_rx a_up;         /* a's receive path behind the spy */
	uint64_t received;
	uint16_t b_port;
	bool pause_b;                       /* b never reads */
	size_t b_rcvbuf;                    /* b's flow option rcvbuf (0: the default) */
	/* the spy's view of b's ACKs */
	uint64_t acks;
	uint32_t right;                     /* highest right edge seen */
	uint32_t max_wnd;                   /* largest window offered, bytes */
	bool have_right;
	unsigned retracted;
};

static uint8_t zeros[65536];

static void fill(struct run *r)
{
	long n;

	while (r->tx && (n = tapir_tcp_write(r->tx, zeros, sizeof(zeros))) > 0)
		;
}

static void a_writable(void *ctx, struct tapir_tcp_flow *f)
{
	(void)f;
	fill(ctx);
}

static void b_recv(void *ctx, struct tapir_tcp_flow *f, const uint8_t *data, size_t len)
{
	struct run *r = ctx;

	(void)f;
	(void)data;
	r->received += len;
}

static const struct tapir_tcp_callbacks a_cbs = { NULL, a_writable, NULL };
static const struct tapir_tcp_callbacks b_cbs = { b_recv, NULL, NULL };

static void a_accept(void *ctx, struct tapir_tcp_flow *f)
{
	struct run *r = ctx;

	r->tx = f;
	tapir_tcp_flow_set_callbacks(f, &a_cbs, r);
	fill(r);
}

static void b_connect(void *ctx, struct tapir_tcp_flow *f, int err)
{
	struct run *r = ctx;

	assert_int_equal(err, 0);
	r->rx = f;
	if (r->pause_b)
		tapir_tcp_read_pause(f, true);
	tapir_tcp_flow_set_callbacks(f, &b_cbs, r);
}

/* a's receive path: check b's window edge on every ACK, then deliver */
static void a_spy(void *ctx, const uint8_t *fr, size_t len, unsigned flags)
{
	struct run *r = ctx;

	if (r->rx && len >= 14 + 20 + 20 && get_be16(fr + 12) == TAPIR_ETHERTYPE_IPV4 &&
	    fr[14 + 9] == TAPIR_IP_PROTO_TCP) {
		const uint8_t *t = fr + 14 + (fr[14] & 15) * 4;
		uint8_t fl = t[13];

		if (get_be16(t) == r->b_port && get_be16(t + 2) == PORT && (fl & TCP_ACK) &&
		    !(fl & (TCP_SYN | TCP_RST))) {
			uint32_t wnd = (uint32_t)get_be16(t + 14) << r->rx->rcv_ws;
			uint32_t right = get_be32(t + 8) + wnd;

			if (r->have_right && seq_lt(right, r->right))
				r->retracted++;
			if (!r->have_right || seq_gt(right, r->right))
				r->right = right;
			r->have_right = true;
			if (wnd > r->max_wnd)
				r->max_wnd = wnd;
			r->acks++;
		}
	}
	tapir_netif_rx_input(&r->a_up, fr, len, flags);
}

/* a and b with @acfg / @bcfg (NULL: defaults), connected, a sending */
static void run_start(struct run *r, const struct tapir_stack_config *acfg,
		      const struct tapir_stack_config *bcfg)
{
	struct impair_config ic;
	struct tapir_tcp_flow_info fi;
	struct tapir_tcp_flow_opts o;

	impair_config_defaults(&ic);
	ic.delay_ns = DELAY;
	ic.tx = true;
	ic.rx = false;
	ic.seed = 1;
	r->w = world_new();
	r->a = world_add_impaired(r->w, 2, acfg, &ic);
	r->b = world_add_impaired(r->w, 3, bcfg, &ic);
	r->a_up = r->a->rx;
	r->a->rx = (struct tapir_netif_rx){ a_spy, r };
	tapir_tcp_flow_opts_defaults(r->b->st, &o);
	assert_int_equal(o.rcvbuf, 0);	/* the defaults autotune */
	assert_int_equal(o.sndbuf, 0);
	o.rcvbuf = r->b_rcvbuf;
	assert_int_equal(tapir_tcp_listen(r->a->st, PORT, NULL, a_accept, r), 0);
	world_advance(r->w, 10 * MSEC);
	assert_int_equal(tapir_tcp_connect(r->b->st, A4(r->a->ip), PORT, &o, b_connect, r), 0);
	world_advance(r->w, 3 * RTT);
	assert_non_null(r->tx);
	assert_non_null(r->rx);
	assert_int_equal(tapir_tcp_flow_info(r->rx, &fi), 0);
	r->b_port = fi.local_port;
}

/* Advance @ns in 1 ms steps; call @each after every step if not NULL */
static void run_for(struct run *r, uint64_t ns, void (*each)(struct run *))
{
	for (uint64_t t = 0; t < ns; t += MSEC) {
		world_advance(r->w, MSEC);
		if (each)
			each(r);
	}
}

/* Bytes per second b received over the next @ns */
static double rate_over(struct run *r, uint64_t ns, void (*each)(struct run *))
{
	uint64_t before = r->received;

	run_for(r, ns, each);
	return (double)(r->received - before) * SEC / (double)ns;
}

static void run_end(struct run *r)
{
	assert_int_equal(r->retracted, 0);
	assert_true(tapir_tcp_mem_check(r->a->st));
	assert_true(tapir_tcp_mem_check(r->b->st));
	tapir_tcp_abort(r->tx);
	tapir_tcp_abort(r->rx);
	world_free(r->w);
}

/* The window one buffer of @bytes allows per round trip, bytes per second */
static double window_rate(size_t bytes)
{
	return (double)bytes * SEC / RTT;
}

/*
 * The reader takes everything at once: b's window grows past 256 KiB to
 * rcvbuf_max (6 MiB, never beyond), and the rate with it; a's send buffer
 * (sndbuf_max set to 4 MiB here) follows its cwnd.  Every ACK is checked: no retraction.
 */
static void test_rcv_grows_to_max(void **state)
{
	struct run r = { 0 };
	struct tapir_tcp_flow_info fi;
	struct tapir_stack_config acfg;
	double rate;

	(void)state;
	tapir_stack_config_defaults(&acfg);
	assert_int_equal(acfg.tcp.sndbuf_max, 1u << 20);	/* the default */
	acfg.tcp.sndbuf_max = 4u << 20;	/* (Linux's tcp_wmem[2]) */
	run_start(&r, &acfg, NULL);
	assert_true(r.rx->rcv_auto && r.tx->snd_auto);
	/* the SYN offered a scale that lets the window reach 6 MiB */
	assert_int_equal(r.rx->rcv_ws, tcp_pick_wscale(6u << 20));
	assert_true((65535u << r.rx->rcv_ws) >= (6u << 20));
	run_for(&r, 400 * MSEC, NULL);
	rate = rate_over(&r, 200 * MSEC, NULL);
	print_message("autotuned: rcvbuf %zu, a's sndbuf %zu, cwnd %u, max window %u, "
		      "%.1f MB/s (fixed 256 KiB: %.1f MB/s), %llu ACKs checked\n",
		      r.rx->o.rcvbuf, r.tx->o.sndbuf, r.tx->cwnd, r.max_wnd, rate / 1e6,
		      window_rate(INIT) / 1e6, (unsigned long long)r.acks);
	assert_int_equal(r.rx->o.rcvbuf, 6u << 20);	/* at the max, not beyond */
	assert_int_equal(tapir_tcp_flow_info(r.rx, &fi), 0);
	assert_int_equal(fi.rcvbuf, 6u << 20);	/* and tapir_tcp_flow_info() says so */
	assert_int_equal(tapir_tcp_flow_info(r.tx, &fi), 0);
	assert_int_equal(fi.sndbuf, 4u << 20);
	assert_true(r.max_wnd > 4 * INIT);
	assert_true(r.max_wnd <= (6u << 20) + (1u << r.rx->rcv_ws));
	/* now a's send buffer (4 MiB, sndbuf_max) is the limit: at least 60 % of
	 * what 4 MiB per round trip gives (the ring holds unacked data and is
	 * refilled when a quarter is free), 9.6x the fixed rate */
	assert_true(rate >= 0.6 * window_rate(4u << 20));
	assert_true(rate <= 1.05 * window_rate(4u << 20));
	assert_true(CTR(r.b, TCP_RCVBUF_GROWN) > 0);
	assert_true(CTR(r.a, TCP_SNDBUF_GROWN) > 0);
	assert_int_equal(r.tx->o.sndbuf, 4u << 20);	/* sndbuf_max */
	assert_true(r.acks > 1000);
	run_end(&r);
}

/* The same with b's rcvbuf set by the application: the window stays 256 KiB
 * (rounded to the scale), and so does the rate */
static void test_explicit_rcvbuf_fixed(void **state)
{
	struct run r = { 0 };
	double rate;

	(void)state;
	r.b_rcvbuf = INIT;
	run_start(&r, NULL, NULL);
	assert_false(r.rx->rcv_auto);
	assert_true(r.rx->snd_auto);	/* only what was set is fixed */
	assert_int_equal(r.rx->rcv_ws, tcp_pick_wscale(INIT));
	run_for(&r, 400 * MSEC, NULL);
	rate = rate_over(&r, 200 * MSEC, NULL);
	print_message("rcvbuf set: %zu, max window %u, %.1f MB/s\n", r.rx->o.rcvbuf, r.max_wnd,
		      rate / 1e6);
	assert_int_equal(r.rx->o.rcvbuf, INIT);
	assert_true(r.max_wnd <= INIT + (1u << r.rx->rcv_ws));
	assert_true(rate <= 1.1 * window_rate(INIT));
	assert_true(rate >= 0.5 * window_rate(INIT));
	assert_int_equal(CTR(r.b, TCP_RCVBUF_GROWN), 0);
	run_end(&r);
}

/* b never reads: nothing is taken, the window does not grow (it closes as
 * the queue fills) */
static void test_no_reader_no_growth(void **state)
{
	struct run r = { 0 };
	struct tapir_tcp_flow_info fi;

	(void)state;
	r.pause_b = true;
	run_start(&r, NULL, NULL);
	assert_true(r.rx->rcv_auto);
	run_for(&r, 500 * MSEC, NULL);
	assert_int_equal(tapir_tcp_flow_info(r.rx, &fi), 0);
	print_message("paused: rcvbuf %zu, queued %zu, window %u\n", r.rx->o.rcvbuf, fi.rcv_queue,
		      fi.rcv_wnd);
	assert_int_equal(r.rx->o.rcvbuf, INIT);
	assert_int_equal(CTR(r.b, TCP_RCVBUF_GROWN), 0);
	/* at most rcvbuf, and what rounding the scaled window up (never
	 * retracting the edge) added: under 2^7 bytes per ACK of the fill */
	assert_true(fi.rcv_queue <= INIT + INIT / 16);
	assert_true(fi.rcv_queue > INIT / 2);	/* the data came and waits */
	assert_int_equal(r.received, 0);
	/* reading again: the queue goes, and growth starts */
	tapir_tcp_read_pause(r.rx, false);
	run_for(&r, 300 * MSEC, NULL);
	assert_true(r.received > INIT);
	assert_true(r.rx->o.rcvbuf > INIT);
	run_end(&r);
}

/* rcvbuf_max and sndbuf_max of 1 MiB: both stop there, and the rate is what
 * 1 MiB per round trip gives */
static void sndbuf_follows(struct run *r)
{
	struct tapir_tcp_flow *f = r->tx;
	size_t want = 2 * (size_t)f->cwnd;

	assert_true(f->o.sndbuf <= (1u << 20));
	assert_true(f->o.sndbuf >= (want < (1u << 20) ? want : (1u << 20)));
	assert_true(f->o.rcvbuf <= (6u << 20));
	assert_true(r->rx->o.rcvbuf <= (1u << 20));
}

static void test_limits_respected(void **state)
{
	struct run r = { 0 };
	struct tapir_stack_config acfg, bcfg;
	double rate;

	(void)state;
	tapir_stack_config_defaults(&acfg);
	tapir_stack_config_defaults(&bcfg);
	acfg.tcp.sndbuf_max = 1u << 20;
	bcfg.tcp.rcvbuf_max = 1u << 20;
	run_start(&r, &acfg, &bcfg);
	assert_int_equal(r.rx->rcv_ws, tcp_pick_wscale(1u << 20));
	run_for(&r, 400 * MSEC, sndbuf_follows);
	rate = rate_over(&r, 200 * MSEC, sndbuf_follows);
	print_message("1 MiB limits: sndbuf %zu cwnd %u rcvbuf %zu, %.1f MB/s\n", r.tx->o.sndbuf,
		      r.tx->cwnd, r.rx->o.rcvbuf, rate / 1e6);
	assert_int_equal(r.tx->o.sndbuf, 1u << 20);
	assert_int_equal(r.rx->o.rcvbuf, 1u << 20);
	assert_true(rate <= 1.1 * window_rate(1u << 20));
	assert_true(rate >= 0.6 * window_rate(1u << 20));
	run_end(&r);

	/* the send side alone: b's window is large, a's sndbuf_max of 1 MiB caps */
	memset(&r, 0, sizeof(r));
	run_start(&r, &acfg, NULL);
	run_for(&r, 400 * MSEC, NULL);
	rate = rate_over(&r, 200 * MSEC, NULL);
	print_message("sndbuf_max 1 MiB: sndbuf %zu cwnd %u rcvbuf %zu, %.1f MB/s\n",
		      r.tx->o.sndbuf, r.tx->cwnd, r.rx->o.rcvbuf, rate / 1e6);
	assert_int_equal(r.tx->o.sndbuf, 1u << 20);
	assert_true(r.rx->o.rcvbuf > (1u << 20));
	assert_true(rate <= 1.1 * window_rate(1u << 20));
	assert_true(rate >= 2 * window_rate(INIT));
	run_end(&r);
}

/* Memory pressure on both stacks (3/4 of max_memory accounted as held):
 * nothing grows, each refusal counted; once it is gone, growth resumes */
static void test_pressure_stops_growth(void **state)
{
	struct run r = { 0 };
	long held;

	(void)state;
	run_start(&r, NULL, NULL);
	held = (long)(r.a->st->cfg.tcp.max_memory / 4 * 3);
	tcp_mem_add(r.a->st, held);
	tcp_mem_add(r.b->st, held);
	assert_true(tcp_mem_under_pressure(r.a->st) && tcp_mem_under_pressure(r.b->st));
	run_for(&r, 400 * MSEC, NULL);
	print_message("pressure: rcvbuf %zu sndbuf %zu, refused a %llu b %llu\n", r.rx->o.rcvbuf,
		      r.tx->o.sndbuf, (unsigned long long)CTR(r.a, TCP_AUTOTUNE_REFUSED),
		      (unsigned long long)CTR(r.b, TCP_AUTOTUNE_REFUSED));
	assert_int_equal(r.rx->o.rcvbuf, INIT);
	assert_int_equal(r.tx->o.sndbuf, INIT);
	assert_true(r.tx->scap <= INIT);
	assert_true(CTR(r.a, TCP_AUTOTUNE_REFUSED) > 0);
	assert_true(CTR(r.b, TCP_AUTOTUNE_REFUSED) > 0);
	assert_int_equal(CTR(r.a, TCP_SNDBUF_GROWN), 0);
	assert_int_equal(CTR(r.b, TCP_RCVBUF_GROWN), 0);
	assert_true(r.received > INIT);	/* the transfer itself went on */
	tcp_mem_add(r.a->st, -held);
	tcp_mem_add(r.b->st, -held);
	run_for(&r, 300 * MSEC, NULL);
	assert_true(r.rx->o.rcvbuf > INIT);
	assert_true(r.tx->o.sndbuf > INIT);
	run_end(&r);
}

/* A send limit that grew, under pressure: the ring does not grow past the
 * initial size, and gives its memory back when it drains */
static void test_pressure_ring_capped(void **state)
{
	struct run r = { 0 };
	long held;

	(void)state;
	run_start(&r, NULL, NULL);
	run_for(&r, 300 * MSEC, NULL);
	assert_true(r.tx->o.sndbuf > INIT);
	assert_true(r.tx->scap > INIT);
	/* stop writing, let the ring drain: it is freed */
	r.tx->cb.writable = NULL;
	run_for(&r, 200 * MSEC, NULL);
	assert_int_equal(r.tx->scap, 0);
	held = (long)(r.a->st->cfg.tcp.max_memory / 4 * 3);
	tcp_mem_add(r.a->st, held);
	r.tx->cb.writable = a_writable;
	fill(&r);
	run_for(&r, 100 * MSEC, NULL);
	assert_true(r.tx->scap <= INIT);
	assert_true(r.tx->o.sndbuf > INIT);	/* the limit stays (no shrinking) */
	assert_true(CTR(r.a, TCP_AUTOTUNE_REFUSED) > 0);
	tcp_mem_add(r.a->st, -held);
	run_end(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rcv_grows_to_max),
		cmocka_unit_test(test_explicit_rcvbuf_fixed),
		cmocka_unit_test(test_no_reader_no_growth),
		cmocka_unit_test(test_limits_respected),
		cmocka_unit_test(test_pressure_stops_growth),
		cmocka_unit_test(test_pressure_ring_capped),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
