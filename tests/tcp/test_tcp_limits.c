/*
 * test_tcp_limits.c - TCP resource limits: TIME_WAIT outside the connection
 *                     table (max_tw), SYN cookies when the table is full,
 *                     orphans (max_orphans, orphan_retries), the memory budget
 *                     (max_memory), the footprint of an idle flow
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <malloc.h>

#include "tcp/tcp_conn.h"
#include "tcp_helper.h"

#if defined(__SANITIZE_ADDRESS__)
/* sanitizer/allocator_interface.h, not installed with every compiler */
size_t __sanitizer_get_current_allocated_bytes(void);
#endif

#define SEC TAPIR_STACK_NS_PER_SEC
#define CTR(h, c) tapir_stack_counter((h)->st, TAPIR_CTR_##c)
#define PORT TH_PORT
#define SPORT TH_SPORT

static struct tcp_repr segs[RAW_MAX_FRAMES];

static void cfg_init(struct tapir_stack_config *cfg)
{
	tapir_stack_config_defaults(cfg);
}

/* A handshake from @sport that must succeed; returns the stack's ISS. */
static uint32_t open_from(struct th_case *t, uint16_t sport, uint32_t peer_isn)
{
	struct tcp_repr r = th_seg(sport, PORT, peer_isn, 0, TCP_SYN, 65535), s;
	int accepts = t->a.accepts;

	raw_clear(t->w);
	th_send(t->w, t->h, &r);
	assert_true(th_last(t->w, &s));
	assert_int_equal(s.flags, TCP_SYN | TCP_ACK);
	assert_int_equal(s.ack, peer_isn + 1);
	r = th_seg(sport, PORT, peer_isn + 1, s.seq + 1, TCP_ACK, 65535);
	th_send(t->w, t->h, &r);
	assert_int_equal(t->a.accepts, accepts + 1);
	raw_clear(t->w);
	return s.seq;
}

/* An HTTP/1.0-style exchange: the server closes first, the client answers
 * with its FIN; the server's side ends in TIME_WAIT. */
static void server_closed(struct th_case *t, uint16_t sport, uint32_t peer_isn)
{
	uint32_t iss = open_from(t, sport, peer_isn);
	struct tcp_repr r, s;

	tapir_tcp_close(t->a.flow);
	world_pump(t->w);
	assert_true(th_last(t->w, &s));
	assert_true(s.flags & TCP_FIN);
	r = th_seg(sport, PORT, peer_isn + 1, iss + 2, TCP_ACK | TCP_FIN, 65535);
	raw_clear(t->w);
	th_send(t->w, t->h, &r);
	assert_true(th_last(t->w, &s));
	assert_int_equal(s.flags, TCP_ACK);
	assert_int_equal(s.ack, peer_isn + 2);
	raw_clear(t->w);
}

/* 50 server-closed connections with max_connections 4: TIME_WAIT is not in
 * the table, so nobody is locked out. */
static void test_time_wait_not_counted(void **state)
{
	struct tapir_stack_config cfg;
	struct th_case *t;

	(void)state;
	cfg_init(&cfg);
	cfg.tcp.max_connections = 4;
	t = th_case_new(&cfg);
	app_listen(&t->a, t->h, PORT, NULL);
	for (int i = 0; i < 50; i++)
		server_closed(t, (uint16_t)(SPORT + i), 1000u * (uint32_t)i);
	assert_int_equal(tapir_tcp_time_wait_count(t->h->st), 50);
	assert_int_equal(tapir_tcp_flow_count(t->h->st), 50);
	assert_int_equal(CTR(t->h, TCP_DROP_CONN_LIMIT), 0);
	/* and a new client still gets in */
	(void)open_from(t, SPORT + 100, 5);
	tapir_tcp_abort(t->a.flow);
	/* 2 MSL later the set is empty */
	world_advance(t->w, 61 * SEC);
	assert_int_equal(tapir_tcp_time_wait_count(t->h->st), 0);
	assert_int_equal(tapir_tcp_flow_count(t->h->st), 0);
	assert_int_equal(CTR(t->h, TCP_TW_EXPIRED), 50);
	assert_true(tapir_tcp_mem_check(t->h->st));
	th_case_free(t);
}

/* max_tw: the oldest entry is recycled, the newest still answers */
static void test_time_wait_recycle(void **state)
{
	struct tapir_stack_config cfg;
	struct tcp_repr r, s;
	struct th_case *t;

	(void)state;
	cfg_init(&cfg);
	cfg.tcp.max_tw = 4;
	t = th_case_new(&cfg);
	app_listen(&t->a, t->h, PORT, NULL);
	for (int i = 0; i < 6; i++)
		server_closed(t, (uint16_t)(SPORT + i), 1000u * (uint32_t)i);
	assert_int_equal(tapir_tcp_time_wait_count(t->h->st), 4);
	assert_int_equal(CTR(t->h, TCP_TW_RECYCLED), 2);
	/* the first tuple is gone: its retransmitted FIN meets the listener,
	 * which answers an ACK with RST */
	r = th_seg(SPORT, PORT, 1, 12345, TCP_ACK | TCP_FIN, 65535);
	th_send(t->w, t->h, &r);
	assert_true(th_last(t->w, &s));
	assert_int_equal(s.flags, TCP_RST);
	/* the last one re-ACKs it */
	raw_clear(t->w);
	r = th_seg(SPORT + 5, PORT, 5001, 12345, TCP_ACK | TCP_FIN, 65535);
	th_send(t->w, t->h, &r);
	assert_true(th_last(t->w, &s));
	assert_int_equal(s.flags, TCP_ACK);
	assert_int_equal(s.ack, 5002);
	/* a RST does not end TIME_WAIT (RFC 1337) */
	r = th_seg(SPORT + 5, PORT, 5002, 0, TCP_RST, 0);
	th_send(t->w, t->h, &r);
	assert_int_equal(tapir_tcp_time_wait_count(t->h->st), 4);
	th_case_free(t);
}

/* Only the peer's FIN again (ending at RCV.NXT) restarts 2 MSL; a blind FIN
 * elsewhere gets a (rate-limited) ACK and changes nothing. */
static void test_time_wait_fin_check(void **state)
{
	struct tcp_repr r, s;
	struct th_case *t = th_case_new(NULL);

	(void)state;
	app_listen(&t->a, t->h, PORT, NULL);
	server_closed(t, SPORT, 1000);	/* RCV.NXT 1002 */
	world_advance(t->w, 59 * SEC);
	r = th_seg(SPORT, PORT, 1002 + 5000, 0, TCP_ACK | TCP_FIN, 65535);
	th_send(t->w, t->h, &r);
	assert_true(th_last(t->w, &s));
	assert_int_equal(s.flags, TCP_ACK);
	assert_int_equal(s.ack, 1002);
	world_advance(t->w, 2 * SEC);
	assert_int_equal(tapir_tcp_time_wait_count(t->h->st), 0);
	/* the real retransmission does restart it */
	server_closed(t, SPORT + 1, 3000);
	world_advance(t->w, 59 * SEC);
	r = th_seg(SPORT + 1, PORT, 3001, 0, TCP_ACK | TCP_FIN, 65535);
	th_send(t->w, t->h, &r);
	world_advance(t->w, 2 * SEC);
	assert_int_equal(tapir_tcp_time_wait_count(t->h->st), 1);
	world_advance(t->w, 60 * SEC);
	assert_int_equal(tapir_tcp_time_wait_count(t->h->st), 0);
	th_case_free(t);
}

/* RFC 6191: a SYN with a newer timestamp (even below RCV.NXT) takes the
 * tuple; the new ISS is above what the old connection sent. */
static void test_time_wait_reuse_ts(void **state)
{
	struct th_case *t = th_case_new(NULL);
	struct tcp_repr r, s;
	uint32_t ps, iss;

	(void)state;
	app_listen(&t->a, t->h, PORT, NULL);
	iss = th_handshake(t->w, t->h, SPORT, PORT, 1000, true, &ps);
	tapir_tcp_close(t->a.flow);
	world_pump(t->w);
	r = th_seg(SPORT, PORT, ps, iss + 2, TCP_ACK | TCP_FIN, 65535);
	r.has_ts = true;
	r.ts_val = 2000;
	th_send(t->w, t->h, &r);
	assert_int_equal(tapir_tcp_time_wait_count(t->h->st), 1);
	/* an old SYN (lower timestamp, below RCV.NXT): an ACK, no reuse */
	raw_clear(t->w);
	r = th_seg(SPORT, PORT, ps - 10, 0, TCP_SYN, 65535);
	r.has_ts = true;
	r.ts_val = 1500;
	th_send(t->w, t->h, &r);
	assert_true(th_last(t->w, &s));
	assert_int_equal(s.flags, TCP_ACK);
	assert_int_equal(CTR(t->h, TCP_TIME_WAIT_REUSED), 0);
	/* a newer timestamp: reuse, ISS = old SND.NXT + 65537 */
	raw_clear(t->w);
	r = th_seg(SPORT, PORT, ps - 10, 0, TCP_SYN, 65535);
	r.has_ts = true;
	r.ts_val = 3000;
	th_send(t->w, t->h, &r);
	assert_true(th_last(t->w, &s));
	assert_int_equal(s.flags, TCP_SYN | TCP_ACK);
	assert_int_equal(s.seq, iss + 2 + 65537);
	assert_int_equal(CTR(t->h, TCP_TIME_WAIT_REUSED), 1);
	assert_int_equal(tapir_tcp_time_wait_count(t->h->st), 0);
	th_case_free(t);
}

/* A full table answers SYNs with cookies; a valid cookie ACK takes the
 * place of the oldest half-open flow. */
static void test_table_full_cookies(void **state)
{
	struct tapir_stack_config cfg;
	struct tcp_repr r, s;
	struct th_case *t;

	(void)state;
	cfg_init(&cfg);
	cfg.tcp.max_connections = 4;
	t = th_case_new(&cfg);
	app_listen(&t->a, t->h, PORT, NULL);
	/* spoofed SYNs fill the table with half-open flows */
	for (int i = 0; i < 4; i++) {
		r = th_seg((uint16_t)(10000 + i), PORT, (uint32_t)i * 7919, 0, TCP_SYN, 65535);
		th_send(t->w, t->h, &r);
	}
	assert_int_equal(tapir_tcp_flow_count(t->h->st), 4);
	/* a real client: a SYN cookie answers */
	raw_clear(t->w);
	r = th_seg(SPORT, PORT, 777, 0, TCP_SYN, 65535);
	r.has_mss = true;
	r.mss = 1460;
	th_send(t->w, t->h, &r);
	assert_true(th_last(t->w, &s));
	assert_int_equal(s.flags, TCP_SYN | TCP_ACK);
	assert_int_equal(s.ack, 778);
	assert_int_equal(CTR(t->h, TCP_SYNCOOKIES_TABLE_FULL), 1);
	/* its ACK completes the handshake */
	r = th_seg(SPORT, PORT, 778, s.seq + 1, TCP_ACK, 65535);
	th_send(t->w, t->h, &r);
	assert_int_equal(t->a.accepts, 1);
	assert_int_equal(CTR(t->h, TCP_SYNCOOKIES_OK), 1);
	assert_int_equal(CTR(t->h, TCP_SYN_RECV_EVICTED), 1);
	assert_int_equal(tapir_tcp_flow_count(t->h->st), 4);
	/* and data flows */
	r = th_seg(SPORT, PORT, 778, s.seq + 1, TCP_ACK | TCP_PSH, 65535);
	r.payload = (const uint8_t *)"hello";
	r.payload_len = 5;
	th_send(t->w, t->h, &r);
	assert_int_equal(t->a.len, 5);
	tapir_tcp_abort(t->a.flow);
	th_case_free(t);
}

/* The peer keeps a zero window and ACKs every probe: the orphan is reset
 * after orphan_retries probes. */
static void test_orphan_zero_window(void **state)
{
	struct tapir_stack_config cfg;
	struct tcp_repr r;
	uint8_t data[1000] = { 0 };
	unsigned answered = 0;
	uint32_t iss;
	struct th_case *t;

	(void)state;
	cfg_init(&cfg);
	cfg.tcp.orphan_retries = 3;
	t = th_case_new(&cfg);
	app_listen(&t->a, t->h, PORT, NULL);
	iss = open_from(t, SPORT, 1000);
	r = th_seg(SPORT, PORT, 1001, iss + 1, TCP_ACK, 0);	/* window closed */
	th_send(t->w, t->h, &r);
	assert_int_equal(tapir_tcp_write(t->a.flow, data, sizeof(data)), (long)sizeof(data));
	tapir_tcp_close(t->a.flow);
	assert_int_equal(tapir_tcp_orphan_count(t->h->st), 1);
	raw_clear(t->w);
	for (int step = 0; step < 2000 && tapir_tcp_flow_count(t->h->st); step++) {
		size_t n;

		world_advance(t->w, 100 * MSEC);
		n = th_segs(t->w, segs, RAW_MAX_FRAMES);
		raw_clear(t->w);
		for (size_t i = 0; i < n; i++) {
			if (segs[i].flags & TCP_RST)
				continue;
			/* every probe is answered, the window stays shut */
			r = th_seg(SPORT, PORT, 1001, iss + 1, TCP_ACK, 0);
			th_send(t->w, t->h, &r);
			answered++;
		}
	}
	assert_int_equal(tapir_tcp_flow_count(t->h->st), 0);
	assert_int_equal(CTR(t->h, TCP_ORPHAN_PROBES_RESET), 1);
	assert_true(answered >= 3 && answered <= 4);
	assert_int_equal(tapir_tcp_orphan_count(t->h->st), 0);
	assert_true(tapir_tcp_mem_check(t->h->st));
	th_case_free(t);
}

/* max_orphans: closing one more resets the oldest */
static void test_max_orphans(void **state)
{
	struct tapir_stack_config cfg;
	struct tapir_tcp_flow *fl[3];
	bool rst_first = false;
	struct th_case *t;
	size_t n;

	(void)state;
	cfg_init(&cfg);
	cfg.tcp.max_orphans = 2;
	t = th_case_new(&cfg);
	app_listen(&t->a, t->h, PORT, NULL);
	for (int i = 0; i < 3; i++) {
		(void)open_from(t, (uint16_t)(SPORT + i), 1000);
		fl[i] = t->a.flow;
	}
	/* closed, their FINs never acknowledged: orphans in FIN_WAIT_1 */
	for (int i = 0; i < 3; i++)
		tapir_tcp_close(fl[i]);
	world_pump(t->w);
	assert_int_equal(CTR(t->h, TCP_ORPHANS_RESET), 1);
	assert_int_equal(tapir_tcp_orphan_count(t->h->st), 2);
	assert_int_equal(tapir_tcp_flow_count(t->h->st), 2);
	n = th_segs(t->w, segs, RAW_MAX_FRAMES);
	for (size_t i = 0; i < n; i++) {
		if (segs[i].flags & TCP_RST) {
			assert_int_equal(segs[i].dst_port, SPORT);	/* the oldest */
			rst_first = true;
		}
	}
	assert_true(rst_first);
	th_case_free(t);
}

/* The memory budget: out-of-order data goes first, windows stop growing,
 * send rings do not grow; writable() when memory is back; the accounting
 * matches what is held throughout. */
static void test_memory_pressure(void **state)
{
	struct tapir_stack_config cfg;
	struct tapir_tcp_flow *a, *b;
	struct tcp_repr r;
	uint8_t *p = th_pattern(65536, 3);
	uint32_t iss_a, iss_b;
	struct th_case *t;

	(void)state;
	cfg_init(&cfg);
	cfg.tcp.max_memory = 64 * 1024;	/* pressure above 48 KiB */
	t = th_case_new(&cfg);
	app_listen(&t->a, t->h, PORT, NULL);
	iss_a = open_from(t, SPORT, 1000);
	a = t->a.flow;
	iss_b = open_from(t, SPORT + 1, 5000);
	b = t->a.flow;
	(void)iss_b;
	/* before pressure: out-of-order data is kept and counted */
	r = th_seg(SPORT + 1, PORT, 5001 + 1000, iss_b + 1, TCP_ACK, 65535);
	r.payload = p;
	r.payload_len = 1000;
	th_send(t->w, t->h, &r);
	assert_int_equal(CTR(t->h, TCP_OOO_QUEUED), 1);
	assert_int_equal(tapir_tcp_mem_used(t->h->st), 1000);
	assert_true(tapir_tcp_mem_check(t->h->st));
	/* a paused reader queues 40 KB: its ring is 64 KiB, over the mark */
	tapir_tcp_read_pause(a, true);
	for (uint32_t off = 0; off < 40000; off += 1000) {
		r = th_seg(SPORT, PORT, 1001 + off, iss_a + 1, TCP_ACK, 65535);
		r.payload = p + off;
		r.payload_len = 1000;
		th_send(t->w, t->h, &r);
		assert_true(tapir_tcp_mem_check(t->h->st));
	}
	world_advance(t->w, 100 * MSEC);
	assert_int_equal(tapir_tcp_mem_used(t->h->st), 65536 + 1000);
	assert_int_equal(CTR(t->h, TCP_MEM_PRESSURE), 1);
	/* out-of-order data is dropped first */
	r = th_seg(SPORT + 1, PORT, 5001 + 3000, iss_b + 1, TCP_ACK, 65535);
	r.payload = p;
	r.payload_len = 1000;
	th_send(t->w, t->h, &r);
	assert_int_equal(CTR(t->h, TCP_DROP_OOO_MEM), 1);
	assert_int_equal(CTR(t->h, TCP_OOO_QUEUED), 1);
	/* the paused reader's window stopped growing */
	assert_true(CTR(t->h, TCP_MEM_WINDOW_CLAMPED) > 0);
	/* a send ring may not grow past the budget */
	assert_int_equal(tapir_tcp_write(b, p, 8192), -ENOBUFS);
	assert_int_equal(CTR(t->h, TCP_MEM_WRITE_REFUSED), 1);
	assert_true(tapir_tcp_mem_check(t->h->st));
	/* the reader catches up: memory comes back, b may write again */
	t->a.writables = 0;
	tapir_tcp_read_pause(a, false);
	world_advance(t->w, MSEC);
	assert_int_equal(t->a.len, 40000);
	assert_int_equal(tapir_tcp_mem_used(t->h->st), 1000);
	assert_int_equal(t->a.writables, 1);
	assert_int_equal(tapir_tcp_write(b, p, 8192), 8192);
	assert_true(tapir_tcp_mem_check(t->h->st));
	tapir_tcp_abort(a);
	tapir_tcp_abort(b);
	world_advance(t->w, MSEC);
	assert_int_equal(tapir_tcp_mem_used(t->h->st), 0);
	assert_true(tapir_tcp_mem_check(t->h->st));
	free(p);
	th_case_free(t);
}

/* ---- the footprint of an idle flow ---- */

#define IDLE_FLOWS 10000
#define IDLE_BUDGET 580         /* bytes per idle flow, all told (issue 16: 1,000,000
				   connections in 600 MiB, with tapird's own and the apps') */

/* Bytes the allocator hands out now, with its per-chunk overhead: glibc's
 * mallinfo2(), or under ASan (which replaces malloc) the bytes asked for
 * plus glibc's header as @chunks allocations would pay it */
static size_t heap_bytes(size_t chunks)
{
#if defined(__SANITIZE_ADDRESS__)
	return __sanitizer_get_current_allocated_bytes() + chunks * sizeof(size_t);
#else
	struct mallinfo2 mi = mallinfo2();

	(void)chunks;
	return mi.uordblks + mi.hblkhd;	/* the arena's chunks and mmapped ones */
#endif
}

/*
 * 10,000 established flows that exchanged data (100 bytes each way) and went
 * idle: the allocations they hold (flows in the pool's slabs at what a flow
 * costs in a full slab, what they allocated on the way and freed, the timer
 * heap's growth), plus a hash slot each, stay within IDLE_BUDGET bytes per
 * flow, and none holds a ring or other busy state.  The pool maps no more
 * than the slabs the flows fill, a partial one and the spare.
 */
static void test_idle_flow_footprint(void **state)
{
	struct tapir_stack_config cfg;
	struct th_case *t;
	uint8_t data[100];
	size_t before, after, per_flow;
	struct tcp_stack *ts;

	(void)state;
	assert_true(sizeof(struct tapir_tcp_flow) <= IDLE_BUDGET - 2 * sizeof(void *));
	assert_true(sizeof(struct tapir_tcp_flow) % 8 == 0);
	cfg_init(&cfg);
	cfg.tcp.max_connections = IDLE_FLOWS;
	t = th_case_new(&cfg);
	app_listen(&t->a, t->h, PORT, NULL);
	memset(data, 'x', sizeof(data));
	world_pump(t->w);
	before = heap_bytes(0);
	for (unsigned i = 0; i < IDLE_FLOWS; i++) {
		uint16_t sport = (uint16_t)(10000 + i);
		uint32_t peer, iss = th_handshake(t->w, t->h, sport, PORT, 1000u * i, false, &peer);
		struct tcp_repr r = th_seg(sport, PORT, peer, iss + 1, TCP_ACK | TCP_PSH, 65535);

		r.payload = data;
		r.payload_len = sizeof(data);
		th_send(t->w, t->h, &r);
		assert_int_equal(tapir_tcp_write(t->a.flow, data, sizeof(data)), (int)sizeof(data));
		world_pump(t->w);
		r = th_seg(sport, PORT, peer + sizeof(data), iss + 1 + sizeof(data), TCP_ACK, 65535);
		th_send(t->w, t->h, &r);
		raw_clear(t->w);
		t->a.len = 0;
	}
	world_advance(t->w, SEC);	/* delayed ACKs out: every flow idle */
	raw_clear(t->w);
	ts = T(t->h->st);
	assert_int_equal(ts->nflows, IDLE_FLOWS);
	assert_int_equal(tapir_tcp_mem_used(t->h->st), 0);
	assert_true(tapir_tcp_mem_check(t->h->st));
	for (const struct tapir_tcp_flow *f = ts->all; f; f = f->next) {
		assert_int_equal(f->state, TAPIR_TCP_STATE_ESTABLISHED);
		assert_null(f->sbuf);
		assert_null(f->rbuf);
		assert_null(f->sb);
		assert_null(f->loss);
		assert_null(f->ooo.head);
	}
	after = heap_bytes(0);	/* (flows are not malloc chunks: pool.c) */
	assert_int_equal(ts->pool.used, IDLE_FLOWS);
	assert_int_equal(ts->pool.slot, sizeof(struct tapir_tcp_flow));
	assert_true(ts->pool.bytes <= (IDLE_FLOWS / ts->pool.nslots + 2) * tcp_pool_slab_bytes());
	per_flow = (after - before) / IDLE_FLOWS + tcp_pool_obj_bytes(&ts->pool) + sizeof(void *);
	print_message("idle flow: sizeof %zu, %zu in a slab, %zu bytes all told (budget %d)\n",
		      sizeof(struct tapir_tcp_flow), tcp_pool_obj_bytes(&ts->pool), per_flow,
		      IDLE_BUDGET);
	assert_true(per_flow <= IDLE_BUDGET);
	th_case_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_time_wait_not_counted),
		cmocka_unit_test(test_time_wait_recycle),
		cmocka_unit_test(test_time_wait_fin_check),
		cmocka_unit_test(test_time_wait_reuse_ts),
		cmocka_unit_test(test_table_full_cookies),
		cmocka_unit_test(test_orphan_zero_window),
		cmocka_unit_test(test_max_orphans),
		cmocka_unit_test(test_memory_pressure),
		cmocka_unit_test(test_idle_flow_footprint),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
