/*
 * test_impair.c - the impairment wrapper: determinism, rates, delay, reorder,
 * corruption, directions, bounds
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "impair.h"

#define MS 1000000ull
#define FRAME_LEN 100

/* A fake lower device (and RX sink) recording frame ids and copies. */
struct sink {
	uint32_t *ids;
	size_t n, cap;
	uint8_t last[2048];
	size_t last_len;
	unsigned flushes;
	int fail;  /* error to return from write */
};

static void sink_record(struct sink *s, const uint8_t *frame, size_t len)
{
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 1024;
		s->ids = realloc(s->ids, s->cap * sizeof(*s->ids));
		assert_non_null(s->ids);
	}
	uint32_t id = 0;
	if (len >= 18)
		id = (uint32_t)frame[14] << 24 | (uint32_t)frame[15] << 16 |
		     (uint32_t)frame[16] << 8 | frame[17];
	s->ids[s->n++] = id;
	s->last_len = len;
	memcpy(s->last, frame, len < sizeof(s->last) ? len : sizeof(s->last));
}

static size_t sink_mtu(void *dev)
{
	return 1500;
}

static void sink_mac(void *dev, uint8_t mac[6])
{
	static const uint8_t m[6] = { 2, 0, 0, 0, 0, 1 };
	memcpy(mac, m, 6);
}

static int sink_write(void *dev, size_t size, tapir_netif_fill_fn fill, void *ctx)
{
	struct sink *s = dev;
	if (s->fail)
		return s->fail;
	uint8_t buf[1514];
	assert_true(size <= sizeof(buf));
	size_t len = fill(buf, size, ctx);
	sink_record(s, buf, len);
	return 0;
}

static void sink_flush(void *dev)
{
	((struct sink *)dev)->flushes++;
}

static const struct tapir_netif_ops sink_ops = { sink_mtu, sink_mac, sink_write, sink_flush };

static void sink_rx(void *ctx, const uint8_t *frame, size_t len, unsigned flags)
{
	sink_record(ctx, frame, len);
}

struct fixture {
	struct sink tx, rx;
	struct tapir_netif lower;
	struct impair *im;
	struct tapir_netif nif;      /* the filter's transmit side */
	struct tapir_netif_rx up;    /* its receive side */
};

static void fx_init(struct fixture *f, const struct impair_config *c)
{
	memset(f, 0, sizeof(*f));
	f->lower.ops = &sink_ops;
	f->lower.dev = &f->tx;
	f->im = impair_new(c);
	assert_non_null(f->im);
	struct tapir_netif_filter *flt = impair_filter(f->im);
	struct tapir_netif_rx sink = { sink_rx, &f->rx };
	tapir_netif_chain(&f->lower, &sink, &flt, 1, &f->nif, &f->up);
}

static void fx_free(struct fixture *f)
{
	impair_free(f->im);
	free(f->tx.ids);
	free(f->rx.ids);
}

static void make_frame(uint8_t *buf, uint32_t id)
{
	memset(buf, 0xa5, FRAME_LEN);
	memset(buf, 0xff, 6);
	buf[14] = (uint8_t)(id >> 24);
	buf[15] = (uint8_t)(id >> 16);
	buf[16] = (uint8_t)(id >> 8);
	buf[17] = (uint8_t)id;
}

static size_t fill_id(uint8_t *buf, size_t size, void *ctx)
{
	make_frame(buf, *(uint32_t *)ctx);
	return FRAME_LEN;
}

static int tx(struct fixture *f, uint32_t id)
{
	return f->nif.ops->write(f->nif.dev, FRAME_LEN, fill_id, &id);
}

static void rx(struct fixture *f, uint32_t id)
{
	uint8_t buf[FRAME_LEN];
	make_frame(buf, id);
	tapir_netif_rx_input(&f->up, buf, sizeof(buf), 0);
}

static void cfg_set(struct impair_config *c, const char *k, const char *v)
{
	char err[128];
	int rc = impair_config_set(c, k, v, err, sizeof(err));
	if (rc)
		fail_msg("%s=%s: %s", k, v, err);
}

static void test_config_set(void **state)
{
	struct impair_config c;
	char err[128];
	impair_config_defaults(&c);
	assert_false(impair_config_active(&c));
	assert_true(c.tx && c.rx);
	cfg_set(&c, "loss", "1%");
	assert_int_equal(c.loss_ppm, 10000);
	cfg_set(&c, "duplicate", "0.5%");
	assert_int_equal(c.dup_ppm, 5000);
	cfg_set(&c, "reorder", "2500ppm");
	assert_int_equal(c.reorder_ppm, 2500);
	cfg_set(&c, "corrupt", "100%");
	assert_int_equal(c.corrupt_ppm, 1000000);
	cfg_set(&c, "delay", "10ms");
	assert_int_equal(c.delay_ns, 10 * MS);
	cfg_set(&c, "jitter", "500us");
	assert_int_equal(c.jitter_ns, 500000);
	cfg_set(&c, "delay", "1s");
	assert_int_equal(c.delay_ns, 1000 * MS);
	cfg_set(&c, "seed", "12345");
	assert_int_equal(c.seed, 12345);
	cfg_set(&c, "seed", "0xffffffffffffffff");
	assert_true(c.seed == UINT64_MAX);
	cfg_set(&c, "direction", "tx");
	assert_true(c.tx && !c.rx);
	cfg_set(&c, "direction", "rx");
	assert_true(!c.tx && c.rx);
	cfg_set(&c, "direction", "both");
	assert_true(c.tx && c.rx);
	assert_true(impair_config_active(&c));

	struct impair_config before = c;
	static const char *const bad[][2] = {
		{ "loss", "101%" }, { "loss", "1" }, { "loss", "-1%" }, { "loss", "x" },
		{ "loss", "" }, { "loss", "0.00001%" }, { "duplicate", "1%%" },
		{ "delay", "10" }, { "delay", "2h" }, { "delay", "10 ms" }, { "jitter", "1.5ns" },
		{ "seed", "0x" }, { "seed", "0x10000000000000000" }, { "seed", "18446744073709551616" },
		{ "seed", "-1" }, { "direction", "up" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = 0;
		assert_int_equal(impair_config_set(&c, bad[i][0], bad[i][1], err, sizeof(err)),
				 -EINVAL);
		assert_true(err[0] != 0);
	}
	assert_int_equal(impair_config_set(&c, "lossy", "1%", err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "lossy"));
	assert_memory_equal(&c, &before, sizeof(c));
}

static void run_mixed(uint64_t seed, struct sink *out_tx, struct sink *out_rx)
{
	struct impair_config c;
	impair_config_defaults(&c);
	c.loss_ppm = 50000;
	c.dup_ppm = 50000;
	c.reorder_ppm = 50000;
	c.corrupt_ppm = 50000;
	c.jitter_ns = 5 * MS;
	c.seed = seed;
	struct fixture f;
	fx_init(&f, &c);
	uint64_t now = 0;
	for (uint32_t i = 0; i < 20000; i++) {
		impair_poll(f.im, now);
		tx(&f, i);
		rx(&f, i);
		now += 100000;
	}
	impair_poll(f.im, now + 1000 * MS);
	assert_true(impair_next_deadline(f.im) == UINT64_MAX);
	*out_tx = f.tx;
	*out_rx = f.rx;
	impair_free(f.im);
}

static void test_deterministic(void **state)
{
	struct sink a_tx, a_rx, b_tx, b_rx, c_tx, c_rx;
	run_mixed(42, &a_tx, &a_rx);
	run_mixed(42, &b_tx, &b_rx);
	run_mixed(43, &c_tx, &c_rx);
	assert_int_equal(a_tx.n, b_tx.n);
	assert_int_equal(a_rx.n, b_rx.n);
	assert_memory_equal(a_tx.ids, b_tx.ids, a_tx.n * sizeof(uint32_t));
	assert_memory_equal(a_rx.ids, b_rx.ids, a_rx.n * sizeof(uint32_t));
	/* The two directions do not make the same decisions. */
	assert_false(a_tx.n == a_rx.n &&
		     !memcmp(a_tx.ids, a_rx.ids, a_tx.n * sizeof(uint32_t)));
	/* Another seed gives another run. */
	assert_false(a_tx.n == c_tx.n &&
		     !memcmp(a_tx.ids, c_tx.ids, a_tx.n * sizeof(uint32_t)));
	/* Something was reordered: ids are not increasing. */
	bool reordered = false;
	for (size_t i = 1; i < a_tx.n; i++)
		if (a_tx.ids[i] < a_tx.ids[i - 1])
			reordered = true;
	assert_true(reordered);
	free(a_tx.ids), free(a_rx.ids), free(b_tx.ids), free(b_rx.ids);
	free(c_tx.ids), free(c_rx.ids);
}

static void test_rates(void **state)
{
	struct impair_config c;
	impair_config_defaults(&c);
	cfg_set(&c, "loss", "1%");
	cfg_set(&c, "duplicate", "5%");
	cfg_set(&c, "seed", "7");
	struct fixture f;
	fx_init(&f, &c);
	const unsigned N = 100000;
	for (uint32_t i = 0; i < N; i++) {
		assert_int_equal(tx(&f, i), 0);
		rx(&f, i);
	}
	struct impair_stats st;
	impair_get_stats(f.im, &st);
	assert_int_equal(st.tx_frames, N);
	assert_int_equal(st.rx_frames, N);
	/* Both directions: 2 * 100,000 frames, 1% loss (sd ~ 44), 5% dup of the rest. */
	assert_in_range(st.dropped, 2000 - 250, 2000 + 250);
	assert_in_range(st.duplicated, 9900 - 600, 9900 + 600);
	assert_int_equal(f.tx.n + f.rx.n, 2 * N - st.dropped + st.duplicated);
	/* per direction too */
	assert_in_range(f.tx.n, N - 1000 - 300 + 4950 - 400, N - 1000 + 300 + 4950 + 400);
	assert_in_range(f.rx.n, N - 1000 - 300 + 4950 - 400, N - 1000 + 300 + 4950 + 400);
	assert_int_equal(st.reordered + st.corrupted + st.delayed, 0);
	fx_free(&f);

	/* 0% and 100% */
	impair_config_defaults(&c);
	cfg_set(&c, "loss", "100%");
	fx_init(&f, &c);
	for (uint32_t i = 0; i < 1000; i++) {
		tx(&f, i);
		rx(&f, i);
	}
	assert_int_equal(f.tx.n + f.rx.n, 0);
	fx_free(&f);
}

static void test_delay(void **state)
{
	struct impair_config c;
	impair_config_defaults(&c);
	cfg_set(&c, "delay", "10ms");
	struct fixture f;
	fx_init(&f, &c);
	impair_poll(f.im, 1000 * MS);
	assert_true(impair_next_deadline(f.im) == UINT64_MAX);
	assert_int_equal(tx(&f, 1), 0);
	rx(&f, 2);
	impair_poll(f.im, 1005 * MS);
	assert_int_equal(tx(&f, 3), 0);
	assert_int_equal(f.tx.n + f.rx.n, 0);
	assert_true(impair_next_deadline(f.im) == 1010 * MS);
	impair_poll(f.im, 1010 * MS - 1);
	assert_int_equal(f.tx.n + f.rx.n, 0);
	impair_poll(f.im, 1010 * MS);
	assert_int_equal(f.tx.n, 1);
	assert_int_equal(f.tx.ids[0], 1);
	assert_int_equal(f.rx.n, 1);
	assert_int_equal(f.rx.ids[0], 2);
	assert_true(f.tx.flushes >= 1);
	assert_true(impair_next_deadline(f.im) == 1015 * MS);
	impair_poll(f.im, 1015 * MS);
	assert_int_equal(f.tx.n, 2);
	assert_int_equal(f.tx.ids[1], 3);
	assert_true(impair_next_deadline(f.im) == UINT64_MAX);
	struct impair_stats st;
	impair_get_stats(f.im, &st);
	assert_int_equal(st.delayed, 3);
	fx_free(&f);
}

static void test_jitter(void **state)
{
	struct impair_config c;
	impair_config_defaults(&c);
	cfg_set(&c, "delay", "10ms");
	cfg_set(&c, "jitter", "2ms");
	struct fixture f;
	fx_init(&f, &c);
	for (uint32_t i = 0; i < 1000; i++)
		tx(&f, i);
	impair_poll(f.im, 10 * MS - 1);
	assert_int_equal(f.tx.n, 0);
	assert_true(impair_next_deadline(f.im) >= 10 * MS);
	impair_poll(f.im, 11 * MS);
	assert_in_range(f.tx.n, 300, 700);
	impair_poll(f.im, 12 * MS);
	assert_int_equal(f.tx.n, 1000);
	fx_free(&f);
}

static void test_reorder(void **state)
{
	struct impair_config c;
	impair_config_defaults(&c);
	cfg_set(&c, "reorder", "100%");
	struct fixture f;
	fx_init(&f, &c);
	for (uint32_t i = 1; i <= 6; i++)
		tx(&f, i);
	static const uint32_t want[] = { 2, 1, 4, 3, 6, 5 };
	assert_int_equal(f.tx.n, 6);
	assert_memory_equal(f.tx.ids, want, sizeof(want));
	/* A held frame without a successor goes out after the hold limit. */
	tx(&f, 7);
	assert_int_equal(f.tx.n, 6);
	assert_true(impair_next_deadline(f.im) == IMPAIR_REORDER_MAX_HOLD_NS);
	impair_poll(f.im, IMPAIR_REORDER_MAX_HOLD_NS - 1);
	assert_int_equal(f.tx.n, 6);
	impair_poll(f.im, IMPAIR_REORDER_MAX_HOLD_NS);
	assert_int_equal(f.tx.n, 7);
	assert_int_equal(f.tx.ids[6], 7);
	/* Same on the receive side. */
	for (uint32_t i = 1; i <= 4; i++)
		rx(&f, i);
	static const uint32_t want_rx[] = { 2, 1, 4, 3 };
	assert_int_equal(f.rx.n, 4);
	assert_memory_equal(f.rx.ids, want_rx, sizeof(want_rx));
	struct impair_stats st;
	impair_get_stats(f.im, &st);
	assert_int_equal(st.reordered, 6);
	fx_free(&f);
}

static void test_corrupt(void **state)
{
	struct impair_config c;
	impair_config_defaults(&c);
	cfg_set(&c, "corrupt", "100%");
	struct fixture f;
	fx_init(&f, &c);
	uint8_t orig[FRAME_LEN];
	for (uint32_t i = 0; i < 200; i++) {
		make_frame(orig, i);
		uint32_t id = i;
		f.nif.ops->write(f.nif.dev, FRAME_LEN, fill_id, &id);
		tapir_netif_rx_input(&f.up, orig, FRAME_LEN, 0);
		const struct sink *s[2] = { &f.tx, &f.rx };
		for (int k = 0; k < 2; k++) {
			assert_int_equal(s[k]->last_len, FRAME_LEN);
			/* Ethernet header untouched */
			assert_memory_equal(s[k]->last, orig, 14);
			unsigned bits = 0;
			for (size_t b = 0; b < FRAME_LEN; b++)
				bits += (unsigned)__builtin_popcount(s[k]->last[b] ^ orig[b]);
			assert_int_equal(bits, 1);
		}
		/* the caller's receive buffer is not modified */
		uint8_t again[FRAME_LEN];
		make_frame(again, i);
		assert_memory_equal(orig, again, FRAME_LEN);
	}
	struct impair_stats st;
	impair_get_stats(f.im, &st);
	assert_int_equal(st.corrupted, 400);
	fx_free(&f);
}

static void test_directions(void **state)
{
	struct impair_config c;
	impair_config_defaults(&c);
	cfg_set(&c, "loss", "100%");
	cfg_set(&c, "direction", "tx");
	struct fixture f;
	fx_init(&f, &c);
	for (uint32_t i = 0; i < 100; i++) {
		tx(&f, i);
		rx(&f, i);
	}
	assert_int_equal(f.tx.n, 0);
	assert_int_equal(f.rx.n, 100);
	fx_free(&f);

	cfg_set(&c, "direction", "rx");
	fx_init(&f, &c);
	for (uint32_t i = 0; i < 100; i++) {
		tx(&f, i);
		rx(&f, i);
	}
	assert_int_equal(f.tx.n, 100);
	assert_int_equal(f.rx.n, 0);
	/* pass-through keeps the device's properties */
	uint8_t mac[6];
	f.nif.ops->mac(f.nif.dev, mac);
	assert_int_equal(mac[5], 1);
	assert_int_equal(f.nif.ops->mtu(f.nif.dev), 1500);
	fx_free(&f);
}

static void test_errors_and_bounds(void **state)
{
	struct impair_config c;
	impair_config_defaults(&c);
	cfg_set(&c, "delay", "1s");
	struct fixture f;
	fx_init(&f, &c);
	/* too big for the lower device */
	uint32_t id = 0;
	assert_int_equal(f.nif.ops->write(f.nif.dev, 1515, fill_id, &id), -EMSGSIZE);
	for (uint32_t i = 0; i < IMPAIR_QUEUE_MAX_FRAMES + 5; i++)
		assert_int_equal(tx(&f, i), 0);
	struct impair_stats st;
	impair_get_stats(f.im, &st);
	assert_int_equal(st.queue_full, 5);
	assert_int_equal(st.delayed, IMPAIR_QUEUE_MAX_FRAMES);
	f.tx.fail = -ENOBUFS;
	impair_poll(f.im, 1000 * MS);
	impair_get_stats(f.im, &st);
	assert_int_equal(st.lower_errors, IMPAIR_QUEUE_MAX_FRAMES);
	assert_true(impair_next_deadline(f.im) == UINT64_MAX);
	/* immediate sends report the device's error */
	fx_free(&f);
	impair_config_defaults(&c);
	cfg_set(&c, "loss", "0.1%");
	fx_init(&f, &c);
	f.tx.fail = -ENOBUFS;
	assert_int_equal(tx(&f, 1), -ENOBUFS);
	fx_free(&f);
	/* frames still held are freed with the wrapper (checked by ASan) */
	impair_config_defaults(&c);
	cfg_set(&c, "delay", "1s");
	cfg_set(&c, "reorder", "50%");
	fx_init(&f, &c);
	for (uint32_t i = 0; i < 100; i++) {
		tx(&f, i);
		rx(&f, i);
	}
	fx_free(&f);
	assert_null(impair_new(NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_config_set),
		cmocka_unit_test(test_deterministic),
		cmocka_unit_test(test_rates),
		cmocka_unit_test(test_delay),
		cmocka_unit_test(test_jitter),
		cmocka_unit_test(test_reorder),
		cmocka_unit_test(test_corrupt),
		cmocka_unit_test(test_directions),
		cmocka_unit_test(test_errors_and_bounds),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
