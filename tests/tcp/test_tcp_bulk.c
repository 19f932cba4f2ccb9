/*
 * test_tcp_bulk.c - two stacks on vnetif with seeded loss, duplication,
 *                   reordering, corruption and delay: a bulk transfer both ways
 *
 * Each side sends TCP_BULK_BYTES (100 MB unless the environment variable
 * TAPIR_BULK_MB says otherwise) of a pseudo-random stream to the other at the
 * same time; the SHA-256 of what each side received must equal that of what
 * the other sent.  The whole run is repeated with the same seed and must
 * end with identical counters (stack, impairment, clock): deterministic.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>

#include "tcp_helper.h"

#define SEC TAPIR_STACK_NS_PER_SEC
#define CHUNK 65536

struct side {
	struct tapir_tcp_flow *f;
	uint64_t tx_total, tx_done;     /* bytes to send, accepted by tapir_tcp_write */
	uint64_t rx_done;
	uint32_t gen;                   /* sender's stream generator */
	uint8_t chunk[CHUNK];
	size_t chunk_len, chunk_off;
	EVP_MD_CTX *tx_sha, *rx_sha;
	int eofs, closes, close_err;
	bool writable;
};

static void gen_chunk(struct side *s)
{
	size_t n = s->tx_total - s->tx_done < CHUNK ? (size_t)(s->tx_total - s->tx_done) : CHUNK;

	for (size_t i = 0; i + 4 <= n; i += 4) {
		s->gen ^= s->gen << 13;
		s->gen ^= s->gen >> 17;
		s->gen ^= s->gen << 5;
		memcpy(s->chunk + i, &s->gen, 4);
	}
	for (size_t i = n & ~(size_t)3; i < n; i++)
		s->chunk[i] = (uint8_t)i;
	s->chunk_len = n;
	s->chunk_off = 0;
	EVP_DigestUpdate(s->tx_sha, s->chunk, n);
}

static void pump_writes(struct side *s)
{
	while (s->f && s->tx_done < s->tx_total) {
		long n;

		if (s->chunk_off == s->chunk_len)
			gen_chunk(s);
		n = tapir_tcp_write(s->f, s->chunk + s->chunk_off, s->chunk_len - s->chunk_off);
		assert_true(n >= 0);
		if (n == 0)
			return;
		s->chunk_off += (size_t)n;
		s->tx_done += (uint64_t)n;
		if (s->tx_done == s->tx_total)
			tapir_tcp_shutdown(s->f, false, true);
	}
}

static void s_recv(void *ctx, struct tapir_tcp_flow *f, const uint8_t *data, size_t len)
{
	struct side *s = ctx;

	(void)f;
	if (!len) {
		s->eofs++;
		return;
	}
	EVP_DigestUpdate(s->rx_sha, data, len);
	s->rx_done += len;
}

static void s_writable(void *ctx, struct tapir_tcp_flow *f)
{
	struct side *s = ctx;

	(void)f;
	s->writable = true;
	pump_writes(s);
}

static void s_closed(void *ctx, struct tapir_tcp_flow *f, int err)
{
	struct side *s = ctx;

	(void)f;
	s->closes++;
	s->close_err = err;
}

static const struct tapir_tcp_callbacks side_cbs = { s_recv, s_writable, s_closed };

static void s_accept(void *ctx, struct tapir_tcp_flow *f)
{
	struct side *s = ctx;

	s->f = f;
	tapir_tcp_flow_set_callbacks(f, &side_cbs, s);
	pump_writes(s);
}

static void s_connect(void *ctx, struct tapir_tcp_flow *f, int err)
{
	struct side *s = ctx;

	assert_int_equal(err, 0);
	s->f = f;
	tapir_tcp_flow_set_callbacks(f, &side_cbs, s);
	pump_writes(s);
}

struct result {
	uint64_t ctr[2][TAPIR_CTR__COUNT];
	struct impair_stats im[2];
	uint64_t now;
	struct tapir_tcp_flow_info fi[2];
};

static void run(uint64_t bytes, uint64_t seed, struct result *res, double *secs)
{
	struct world *w = world_new();
	struct impair_config ic;
	struct host *a, *b;
	struct side sa, sb;
	uint8_t d1[32], d2[32];
	unsigned dl;
	struct timespec t0, t1;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	impair_config_defaults(&ic);
	ic.loss_ppm = 50000;      /* 5 % */
	ic.dup_ppm = 10000;       /* 1 % */
	ic.reorder_ppm = 10000;   /* 1 % */
	ic.corrupt_ppm = 1000;    /* 0.1 % */
	ic.delay_ns = 1000000;    /* 1 ms */
	ic.jitter_ns = 200000;    /* 0.2 ms: reorders too */
	if (getenv("TAPIR_BULK_LOSS_PPM")) {
		/* for measuring by hand: only loss (and the delay) */
		ic.loss_ppm = (uint32_t)atoi(getenv("TAPIR_BULK_LOSS_PPM"));
		ic.dup_ppm = ic.reorder_ppm = ic.corrupt_ppm = 0;
		ic.jitter_ns = 0;
	}
	ic.tx = true;
	ic.rx = false;
	ic.seed = seed;
	a = world_add_impaired(w, 2, NULL, &ic);
	ic.seed = seed * 31 + 7;
	b = world_add_impaired(w, 3, NULL, &ic);
	memset(&sa, 0, sizeof(sa));
	memset(&sb, 0, sizeof(sb));
	sa.tx_total = sb.tx_total = bytes;
	sa.gen = 0x12345678;
	sb.gen = 0x9abcdef1;
	sa.tx_sha = EVP_MD_CTX_new();
	sa.rx_sha = EVP_MD_CTX_new();
	sb.tx_sha = EVP_MD_CTX_new();
	sb.rx_sha = EVP_MD_CTX_new();
	EVP_DigestInit_ex(sa.tx_sha, EVP_sha256(), NULL);
	EVP_DigestInit_ex(sa.rx_sha, EVP_sha256(), NULL);
	EVP_DigestInit_ex(sb.tx_sha, EVP_sha256(), NULL);
	EVP_DigestInit_ex(sb.rx_sha, EVP_sha256(), NULL);
	assert_int_equal(tapir_tcp_listen(a->st, 5001, NULL, s_accept, &sa), 0);
	world_advance(w, 10 * MSEC);
	assert_int_equal(tapir_tcp_connect(b->st, A4(a->ip), 5001, NULL, s_connect, &sb), 0);
	for (uint64_t i = 0; i < 100000000; i++) {
		world_advance(w, MSEC);
		pump_writes(&sa);
		pump_writes(&sb);
		if (sa.eofs && sb.eofs)
			break;
		if (getenv("TAPIR_BULK_TRACE") && i % 1000 == 0 && sa.f && sb.f) {
			struct tapir_tcp_flow_info x, y;

			tapir_tcp_flow_info(sa.f, &x);
			tapir_tcp_flow_info(sb.f, &y);
			fprintf(stderr,
				"t=%.1f a: rx %llu st %d cwnd %u ssth %u rto %u sq %zu wnd %u | b: "
				"rx %llu st %d cwnd %u rto %u srtt %u var %u sq %zu wnd %u rtx "
				"%llu\n",
				(double)w->now / SEC, (unsigned long long)sa.rx_done, x.state,
				x.cwnd, x.ssthresh, x.rto_ms, x.snd_queue, x.snd_wnd,
				(unsigned long long)sb.rx_done, y.state, y.cwnd, y.rto_ms,
				y.srtt_us, y.rttvar_us, y.snd_queue, y.snd_wnd,
				(unsigned long long)y.rto_timeouts);
		}
		assert_true(w->now < 1000000 * SEC);
	}
	assert_int_equal(sa.rx_done, bytes);
	assert_int_equal(sb.rx_done, bytes);
	EVP_DigestFinal_ex(sa.tx_sha, d1, &dl);
	EVP_DigestFinal_ex(sb.rx_sha, d2, &dl);
	assert_memory_equal(d1, d2, 32);
	EVP_DigestFinal_ex(sb.tx_sha, d1, &dl);
	EVP_DigestFinal_ex(sa.rx_sha, d2, &dl);
	assert_memory_equal(d1, d2, 32);
	tapir_tcp_flow_info(sa.f, &res->fi[0]);
	tapir_tcp_flow_info(sb.f, &res->fi[1]);
	/* both FINs are out: the connection ends in TIME_WAIT on one side */
	world_advance(w, 5 * SEC);
	assert_int_equal(sa.closes, 1);
	assert_int_equal(sb.closes, 1);
	assert_int_equal(sa.close_err, 0);
	assert_int_equal(sb.close_err, 0);
	tapir_tcp_close(sa.f);
	tapir_tcp_close(sb.f);
	world_advance(w, 120 * SEC);
	assert_int_equal(tapir_tcp_flow_count(a->st), 0);
	assert_int_equal(tapir_tcp_flow_count(b->st), 0);
	tapir_stack_stats(a->st, res->ctr[0]);
	tapir_stack_stats(b->st, res->ctr[1]);
	impair_get_stats(a->im, &res->im[0]);
	impair_get_stats(b->im, &res->im[1]);
	res->now = w->now;
	EVP_MD_CTX_free(sa.tx_sha);
	EVP_MD_CTX_free(sa.rx_sha);
	EVP_MD_CTX_free(sb.tx_sha);
	EVP_MD_CTX_free(sb.rx_sha);
	world_free(w);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	*secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
}

static uint64_t bulk_bytes(void)
{
	const char *e = getenv("TAPIR_BULK_MB");

	if (e && atoi(e) > 0)
		return (uint64_t)atoi(e) << 20;
	return 100ull << 20;
}

static void test_bulk_impaired(void **state)
{
	static struct result r1, r2;
	uint64_t bytes = bulk_bytes();
	double s1, s2;

	(void)state;
	run(bytes, 1, &r1, &s1);
	print_message("bulk %llu MB each way: %.1f s wall, %.1f s simulated; "
		      "a: %llu retransmits (%llu fast, %llu RTO), b: %llu retransmits; "
		      "impair a: %llu lost %llu dup %llu reord %llu corrupt\n",
		      (unsigned long long)(bytes >> 20), s1, (double)r1.now / SEC,
		      (unsigned long long)r1.fi[0].retransmits,
		      (unsigned long long)r1.fi[0].fast_retransmits,
		      (unsigned long long)r1.fi[0].rto_timeouts,
		      (unsigned long long)r1.fi[1].retransmits,
		      (unsigned long long)r1.im[0].dropped, (unsigned long long)r1.im[0].duplicated,
		      (unsigned long long)r1.im[0].reordered,
		      (unsigned long long)r1.im[0].corrupted);
	if (getenv("TAPIR_BULK_TRACE"))
		for (int h = 0; h < 2; h++)
			for (int c = 0; c < TAPIR_CTR__COUNT; c++)
				if (r1.ctr[h][c] && !strncmp(tapir_stack_counter_name(c), "tcp", 3))
					fprintf(stderr, "%c %s %llu\n", 'a' + h, tapir_stack_counter_name(c),
						(unsigned long long)r1.ctr[h][c]);
	/* the recovery machinery was exercised */
	for (int h = 0; h < 2 && !getenv("TAPIR_BULK_LOSS_PPM"); h++) {
		assert_true(r1.ctr[h][TAPIR_CTR_TCP_FAST_RETRANSMITS] > 0);
		assert_true(r1.ctr[h][TAPIR_CTR_TCP_LOST_RETRANSMITS] > 0);
		assert_true(r1.ctr[h][TAPIR_CTR_TCP_TAIL_LOSS_PROBES] > 0);
		assert_true(r1.ctr[h][TAPIR_CTR_TCP_OOO_QUEUED] > 0);
		assert_true(r1.ctr[h][TAPIR_CTR_TCP_DROP_CHECKSUM] > 0 ||
			    r1.ctr[h][TAPIR_CTR_TCP_DROP_MALFORMED] > 0 || r1.im[h].corrupted == 0);
	}
	if (getenv("TAPIR_BULK_LOSS_PPM"))
		return;
	assert_true(r1.im[0].dropped > 0 && r1.im[0].duplicated > 0 && r1.im[0].reordered > 0);
	/* same seed, same run */
	run(bytes, 1, &r2, &s2);
	print_message("second run: %.1f s wall\n", s2);
	assert_memory_equal(r1.ctr, r2.ctr, sizeof(r1.ctr));
	assert_memory_equal(r1.im, r2.im, sizeof(r1.im));
	assert_int_equal(r1.now, r2.now);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bulk_impaired),
	};

	return cmocka_run_group_tests_name("tcp_bulk", tests, NULL, NULL);
}
