/*
 * test_tcp_server.c - the apps' connection layer (apps/tcp_server.c) with the
 *                     real echo and discard apps on the stack harness: an
 *                     idle connection costs the app no memory, state kept
 *                     while data waits is released, stop closes idle flows
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <malloc.h>
#include <stdlib.h>
#include <string.h>

#include "app_conf.h"
#include "apps.h"
#include "tapir/app.h"
#include "tapir/log.h"
#include "tcp_helper.h"

#if defined(__SANITIZE_ADDRESS__)
size_t __sanitizer_get_current_allocated_bytes(void);
#endif

#define SEC TAPIR_STACK_NS_PER_SEC
#define ECHO_PORT 7
#define RAW_PORT 9               /* a plain listener that keeps nothing per flow */
#define NCONN 2000

/* Bytes the allocator hands out now (the chunks asked for under ASan) */
static size_t heap_bytes(void)
{
#if defined(__SANITIZE_ADDRESS__)
	return __sanitizer_get_current_allocated_bytes();
#else
	struct mallinfo2 mi = mallinfo2();

	return mi.uordblks + mi.hblkhd;
#endif
}

struct fixture {
	struct th_case *t;
	struct tapir_logger log;
	struct app_port_config pc;
	struct tapir_app_ctx ctx;
	void *state;
	const struct tapir_app_type *type;
};

static struct fixture *fixture_new(const struct tapir_app_type *type, uint16_t port, size_t sndbuf)
{
	struct tapir_stack_config cfg;
	struct fixture *fx = calloc(1, sizeof(*fx));

	assert_non_null(fx);
	tapir_stack_config_defaults(&cfg);
	cfg.tcp.max_connections = 2 * NCONN + 16;
	if (sndbuf)
		cfg.tcp.sndbuf = sndbuf;
	fx->t = th_case_new(&cfg);
	tapir_logger_init(&fx->log, TAPIR_LOG_LEVEL_ERR, false);
	fx->pc.port = port;
	fx->ctx.name = "test";
	fx->ctx.params = &fx->pc;
	fx->ctx.st = fx->t->h->st;
	fx->ctx.log = &fx->log;
	fx->type = type;
	assert_int_equal(type->start(&fx->ctx, &fx->state), 0);
	return fx;
}

static void fixture_stop(struct fixture *fx)
{
	if (fx->state)
		fx->type->stop(fx->state);
	fx->state = NULL;
}

static void fixture_free(struct fixture *fx)
{
	fixture_stop(fx);
	th_case_free(fx->t);
	free(fx);
}

/* The payload bytes the stack sent to @sport, acknowledged (window @win);
 * appended to @out (at most @max).  Return: bytes; *@fin set on a FIN */
static size_t take(struct fixture *fx, uint16_t sport, uint16_t dport, uint32_t peer_seq,
		   uint32_t *next, uint8_t *out, size_t max, uint16_t win, bool *fin)
{
	static struct tcp_repr segs[RAW_MAX_FRAMES];
	size_t n = th_segs(fx->t->w, segs, RAW_MAX_FRAMES), got = 0;

	for (size_t i = 0; i < n; i++) {
		if (segs[i].dst_port != sport)
			continue;
		if (segs[i].seq == *next && segs[i].payload_len) {
			assert_true(got + segs[i].payload_len <= max);
			memcpy(out + got, segs[i].payload, segs[i].payload_len);
			got += segs[i].payload_len;
			*next += (uint32_t)segs[i].payload_len;
		}
		if ((segs[i].flags & TCP_FIN) && segs[i].seq + segs[i].payload_len == *next) {
			*fin = true;
			*next += 1;
		}
	}
	raw_clear(fx->t->w);
	struct tcp_repr r = th_seg(sport, dport, peer_seq, *next, TCP_ACK, win);
	th_send(fx->t->w, fx->t->h, &r);
	return got;
}

/* @n connections to @port, each exchanging 100 bytes (echoed back when
 * @echo), then idle; sources from @sport0 */
static void open_idle(struct fixture *fx, uint16_t port, uint16_t sport0, unsigned n, bool echo)
{
	uint8_t data[100], back[200];

	for (unsigned i = 0; i < n; i++) {
		uint16_t sport = (uint16_t)(sport0 + i);
		uint32_t peer, iss = th_handshake(fx->t->w, fx->t->h, sport, port, 1000u * i, false, &peer);
		uint32_t next = iss + 1;
		bool fin = false;
		struct tcp_repr r = th_seg(sport, port, peer, next, TCP_ACK | TCP_PSH, 65535);

		memset(data, 'a' + (int)(i % 26), sizeof(data));
		r.payload = data;
		r.payload_len = sizeof(data);
		raw_clear(fx->t->w);
		th_send(fx->t->w, fx->t->h, &r);
		world_pump(fx->t->w);
		size_t got = take(fx, sport, port, peer + sizeof(data), &next, back, sizeof(back), 65535,
				  &fin);
		assert_false(fin);
		if (echo) {
			assert_int_equal(got, sizeof(data));
			assert_memory_equal(back, data, sizeof(data));
		} else {
			assert_int_equal(got, 0);
		}
	}
	world_advance(fx->t->w, SEC);	/* delayed ACKs out: all idle */
	raw_clear(fx->t->w);
}

/* A listener that keeps nothing per flow, taking what arrives: the reference */
static void raw_recv(void *ctx, struct tapir_tcp_flow *f, const uint8_t *data, size_t len)
{
	(void)ctx;
	(void)f;
	(void)data;
	(void)len;
}

static const struct tapir_tcp_callbacks raw_cbs = { .recv = raw_recv };

static void raw_accept(void *ctx, struct tapir_tcp_flow *f)
{
	tapir_tcp_flow_set_callbacks(f, &raw_cbs, ctx);
}

/*
 * NCONN connections to echo and NCONN to a listener that keeps nothing per
 * flow, the same exchange on each, then idle: echo's connections cost the
 * heap what the plain flows cost (the app holds no byte per idle
 * connection), and no ring or other TCP memory is held.
 */
/*
 * NCONN idle flows to a plain listener that keeps nothing, then NCONN to the
 * app (@exchange: each sends and gets back a little first).  Return: the
 * app's heap beyond the plain flows', in all
 */
static long app_idle_heap(struct fixture *fx, bool exchange)
{
	size_t h0, h1, h2;

	assert_int_equal(tapir_tcp_listen(fx->t->h->st, RAW_PORT, NULL, raw_accept, NULL), 0);
	world_pump(fx->t->w);
	h0 = heap_bytes();
	open_idle(fx, RAW_PORT, 10000, NCONN, false);
	h1 = heap_bytes();
	open_idle(fx, ECHO_PORT, 20000, NCONN, exchange);
	h2 = heap_bytes();
	print_message("heap per idle connection (flows: TCP pool): plain %zu, app's %zu\n",
		      (h1 - h0) / NCONN, (h2 - h1) / NCONN);
	return (long)(h2 - h1) - (long)(h1 - h0);
}

static void test_echo_idle_costs_nothing(void **state)
{
	struct fixture *fx = fixture_new(&app_echo_type, ECHO_PORT, 0);
	long app_per_conn;

	(void)state;
	app_per_conn = app_idle_heap(fx, true) / NCONN;
	assert_int_equal(tapir_tcp_flow_count(fx->t->h->st), 2 * NCONN);
	assert_int_equal(tapir_tcp_mem_used(fx->t->h->st), 0);
	/* (the timer heap's doubling may fall in either half: a pointer) */
	assert_true(app_per_conn <= (long)sizeof(void *));
	fixture_free(fx);
}

/* discard: the same, and the peer's FIN is answered with ours */
static void test_discard_idle_costs_nothing(void **state)
{
	struct fixture *fx = fixture_new(&app_discard_type, ECHO_PORT, 0);

	(void)state;
	assert_true(app_idle_heap(fx, false) <= (long)(NCONN * sizeof(void *)));
	fixture_free(fx);
}

/*
 * Echo with a 4 KiB send buffer to a peer whose window is closed: 5,000
 * bytes sent fill the ring, echo keeps the rest (state allocated) and
 * pauses; 3,000 more wait in the stack.  The window opens: all 8,000 come
 * back in order, the state is released (the heap is back where the idle
 * connection had it), and the peer's FIN is answered.
 */
static void test_echo_full_ring_keeps_then_releases(void **state)
{
	struct fixture *fx = fixture_new(&app_echo_type, ECHO_PORT, 4096);
	uint8_t *in = th_pattern(8000, 7), *out = calloc(1, 8000);
	uint16_t sport = 30000;
	uint32_t peer, iss, next;
	size_t idle, held, got = 0;
	bool fin = false;

	(void)state;
	world_pump(fx->t->w);
	iss = th_handshake(fx->t->w, fx->t->h, sport, ECHO_PORT, 5000, false, &peer);
	next = iss + 1;
	world_advance(fx->t->w, SEC);
	raw_clear(fx->t->w);
	idle = heap_bytes();
	for (int i = 0; i < 8; i++) {
		struct tcp_repr r = th_seg(sport, ECHO_PORT, peer + 1000u * (uint32_t)i, next,
					   TCP_ACK | TCP_PSH, 0);

		r.payload = in + 1000 * i;
		r.payload_len = 1000;
		th_send(fx->t->w, fx->t->h, &r);
	}
	world_pump(fx->t->w);
	raw_clear(fx->t->w);
	held = heap_bytes();
	/* the ring, echo's rest and the stack's held data */
	assert_true(held > idle + 4096 + 904 + 3000);
	for (int round = 0; round < 200 && got < 8000; round++) {
		got += take(fx, sport, ECHO_PORT, peer + 8000, &next, out + got, 8000 - got, 65535,
			    &fin);
		world_pump(fx->t->w);
	}
	assert_int_equal(got, 8000);
	assert_memory_equal(out, in, 8000);
	take(fx, sport, ECHO_PORT, peer + 8000, &next, out, 0, 65535, &fin);
	world_advance(fx->t->w, SEC);
	raw_clear(fx->t->w);
	assert_int_equal(tapir_tcp_mem_used(fx->t->h->st), 0);
	assert_int_equal(heap_bytes(), idle);
	/* FIN: answered with ours */
	struct tcp_repr r = th_seg(sport, ECHO_PORT, peer + 8000, next, TCP_ACK | TCP_FIN, 65535);
	th_send(fx->t->w, fx->t->h, &r);
	world_pump(fx->t->w);
	take(fx, sport, ECHO_PORT, peer + 8001, &next, out, 0, 65535, &fin);
	assert_true(fin);
	free(in);
	free(out);
	fixture_free(fx);
}

/*
 * Stopping the app closes its idle connections too (it has no record of
 * them): each gets our FIN, none is left with the app's callbacks, and data
 * arriving afterwards reaches no app (ASan would see a freed server).
 */
static void test_stop_closes_idle(void **state)
{
	struct fixture *fx = fixture_new(&app_echo_type, ECHO_PORT, 0);
	static struct tcp_repr segs[RAW_MAX_FRAMES];
	size_t n, fins = 0;

	(void)state;
	world_pump(fx->t->w);
	open_idle(fx, ECHO_PORT, 20000, 100, true);
	assert_int_equal(tapir_tcp_orphan_count(fx->t->h->st), 0);
	fixture_stop(fx);
	world_pump(fx->t->w);
	n = th_segs(fx->t->w, segs, RAW_MAX_FRAMES);
	for (size_t i = 0; i < n; i++)
		fins += (segs[i].flags & TCP_FIN) != 0;
	assert_int_equal(fins, 100);
	assert_int_equal(tapir_tcp_orphan_count(fx->t->h->st), 100);
	raw_clear(fx->t->w);
	uint8_t x = 'x';
	struct tcp_repr r = th_seg(20000, ECHO_PORT, 1 + 100, segs[0].seq, TCP_ACK | TCP_PSH, 65535);
	r.payload = &x;
	r.payload_len = 1;
	th_send(fx->t->w, fx->t->h, &r);
	world_pump(fx->t->w);
	fixture_free(fx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_echo_idle_costs_nothing),
		cmocka_unit_test(test_discard_idle_costs_nothing),
		cmocka_unit_test(test_echo_full_ring_keeps_then_releases),
		cmocka_unit_test(test_stop_closes_idle),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
