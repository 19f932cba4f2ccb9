/*
 * test_ooo.c - the TCP out-of-order queue (libstack/tcp/ooo.c) on its own
 *
 * Pieces are inserted in every order, overlapping, duplicated and near the
 * limit; after each step the queue must be sorted, without overlaps, its
 * byte and charge counts must match the pieces, and every byte held must be
 * the byte sent at its sequence number (data[i] = pattern(seq + i)).
 * Draining pops at rcv_nxt as input.c does.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "tcp/ooo.h"
#include "wire/tcp.h"

#define NOLIMIT ((size_t)-1)

static uint8_t pat(uint32_t seq)
{
	return (uint8_t)(seq * 7 + (seq >> 8) * 13 + 1);
}

/* @len bytes of the pattern from @seq (at most 64 KiB) */
static const uint8_t *data_at(uint32_t seq, uint32_t len)
{
	static uint8_t buf[65536];

	assert_true(len <= sizeof(buf));
	for (uint32_t i = 0; i < len; i++)
		buf[i] = pat(seq + i);
	return buf;
}

static enum tcp_ooo_result ins(struct tcp_ooo_queue *q, uint32_t seq, uint32_t len, size_t max)
{
	return tcp_ooo_insert(q, seq, data_at(seq, len), len, max);
}

static size_t cost(uint32_t len)
{
	return len < TCP_OOO_MIN_CHARGE ? TCP_OOO_MIN_CHARGE : len;
}

/* Sorted, no overlaps, counts right, data right.  Return: number of pieces */
static size_t check(const struct tcp_ooo_queue *q)
{
	size_t n = 0, bytes = 0, charge = 0;

	for (const struct tcp_ooo *o = q->head; o; o = o->next) {
		assert_true(o->len > 0);
		if (o->next)
			assert_true(seq_le(o->seq + o->len, o->next->seq));
		for (uint32_t i = 0; i < o->len; i++)
			assert_int_equal(o->data[i], pat(o->seq + i));
		bytes += o->len;
		charge += cost(o->len);
		n++;
	}
	assert_int_equal(q->bytes, bytes);
	assert_int_equal(q->charge, charge);
	assert_int_equal(tcp_ooo_empty(q), n == 0);
	return n;
}

/* Does the queue hold exactly [l, r) as one run of pieces, and nothing else? */
static void assert_holds(const struct tcp_ooo_queue *q, uint32_t l, uint32_t r)
{
	uint32_t at = l;

	check(q);
	for (const struct tcp_ooo *o = q->head; o; o = o->next) {
		assert_int_equal(o->seq, at);
		at += o->len;
	}
	assert_int_equal(at, r);
}

static void test_empty(void **state)
{
	struct tcp_ooo_queue q = { 0 };

	(void)state;
	assert_true(tcp_ooo_empty(&q));
	assert_null(tcp_ooo_pop(&q, 1000));
	assert_int_equal(ins(&q, 1000, 0, NOLIMIT), TCP_OOO_NOTHING);
	assert_true(tcp_ooo_empty(&q));
	tcp_ooo_clear(&q);
	assert_true(tcp_ooo_empty(&q));
}

static void test_orders(void **state)
{
	/* 8 pieces of 100 bytes from 5000, inserted in several orders */
	static const int orders[][8] = {
		{ 0, 1, 2, 3, 4, 5, 6, 7 },
		{ 7, 6, 5, 4, 3, 2, 1, 0 },
		{ 3, 0, 6, 1, 7, 2, 5, 4 },
		{ 1, 3, 5, 7, 0, 2, 4, 6 },
	};

	(void)state;
	for (size_t k = 0; k < sizeof(orders) / sizeof(orders[0]); k++) {
		struct tcp_ooo_queue q = { 0 };

		for (int i = 0; i < 8; i++) {
			uint32_t seq = 5000 + 100 * (uint32_t)orders[k][i];

			assert_int_equal(ins(&q, seq, 100, NOLIMIT), TCP_OOO_QUEUED);
			assert_int_equal(q.last_seq, seq);
			assert_int_equal(check(&q), (size_t)i + 1);
		}
		assert_holds(&q, 5000, 5800);
		assert_int_equal(q.bytes, 800);
		tcp_ooo_clear(&q);
		assert_true(tcp_ooo_empty(&q));
		assert_int_equal(q.bytes, 0);
		assert_int_equal(q.charge, 0);
	}
}

static void test_duplicates(void **state)
{
	struct tcp_ooo_queue q = { 0 };

	(void)state;
	assert_int_equal(ins(&q, 1000, 500, NOLIMIT), TCP_OOO_QUEUED);
	assert_int_equal(ins(&q, 3000, 500, NOLIMIT), TCP_OOO_QUEUED);
	/* the same piece again, and pieces inside it: nothing new, last_seq moves */
	assert_int_equal(ins(&q, 1000, 500, NOLIMIT), TCP_OOO_DUP);
	assert_int_equal(q.last_seq, 1000);
	assert_int_equal(ins(&q, 3100, 100, NOLIMIT), TCP_OOO_DUP);
	assert_int_equal(q.last_seq, 3100);
	assert_int_equal(ins(&q, 1499, 1, NOLIMIT), TCP_OOO_DUP);
	assert_int_equal(check(&q), 2);
	assert_int_equal(q.bytes, 1000);
	tcp_ooo_clear(&q);
}

static void test_overlaps(void **state)
{
	struct tcp_ooo_queue q = { 0 };

	(void)state;
	assert_int_equal(ins(&q, 1000, 100, NOLIMIT), TCP_OOO_QUEUED);   /* [1000,1100) */
	assert_int_equal(ins(&q, 1300, 100, NOLIMIT), TCP_OOO_QUEUED);   /* [1300,1400) */
	/* overlapping the end of one and the start of the next: only the gap */
	assert_int_equal(ins(&q, 1050, 300, NOLIMIT), TCP_OOO_QUEUED);
	assert_int_equal(q.last_seq, 1100);
	assert_holds(&q, 1000, 1400);
	assert_int_equal(check(&q), 3);
	/* covering several pieces entirely: they are replaced by one */
	assert_int_equal(ins(&q, 900, 700, NOLIMIT), TCP_OOO_QUEUED);
	assert_holds(&q, 900, 1600);
	/* starting before and ending inside a piece */
	assert_int_equal(ins(&q, 2000, 100, NOLIMIT), TCP_OOO_QUEUED);
	assert_int_equal(ins(&q, 1950, 100, NOLIMIT), TCP_OOO_QUEUED);
	assert_int_equal(check(&q), 3);
	tcp_ooo_clear(&q);

	/* a piece exactly filling the hole between two */
	assert_int_equal(ins(&q, 0, 10, NOLIMIT), TCP_OOO_QUEUED);
	assert_int_equal(ins(&q, 20, 10, NOLIMIT), TCP_OOO_QUEUED);
	assert_int_equal(ins(&q, 10, 10, NOLIMIT), TCP_OOO_QUEUED);
	assert_holds(&q, 0, 30);
	tcp_ooo_clear(&q);
}

static void test_wrap(void **state)
{
	struct tcp_ooo_queue q = { 0 };
	uint32_t base = 0xffffff00u;

	(void)state;
	assert_int_equal(ins(&q, base + 0x200, 0x100, NOLIMIT), TCP_OOO_QUEUED);
	assert_int_equal(ins(&q, base, 0x100, NOLIMIT), TCP_OOO_QUEUED);
	assert_int_equal(ins(&q, base + 0x80, 0x200, NOLIMIT), TCP_OOO_QUEUED);
	assert_holds(&q, base, base + 0x300);
	tcp_ooo_clear(&q);
}

static void test_limit(void **state)
{
	struct tcp_ooo_queue q = { 0 };

	(void)state;
	/* small pieces cost TCP_OOO_MIN_CHARGE each */
	assert_int_equal(ins(&q, 100, 1, 2 * TCP_OOO_MIN_CHARGE), TCP_OOO_QUEUED);
	assert_int_equal(ins(&q, 200, 1, 2 * TCP_OOO_MIN_CHARGE), TCP_OOO_QUEUED);
	assert_int_equal(q.charge, 2 * TCP_OOO_MIN_CHARGE);
	assert_int_equal(q.bytes, 2);
	assert_int_equal(ins(&q, 300, 1, 2 * TCP_OOO_MIN_CHARGE), TCP_OOO_FULL);
	assert_int_equal(check(&q), 2);
	/* a duplicate is no charge, whatever the limit */
	assert_int_equal(ins(&q, 100, 1, 0), TCP_OOO_DUP);
	/* a piece covering both frees their charge before it is charged */
	assert_int_equal(ins(&q, 99, 1002, 1002), TCP_OOO_QUEUED);
	assert_holds(&q, 99, 1101);
	assert_int_equal(q.charge, 1002);
	/* exactly at the limit is allowed, one byte more is not */
	assert_int_equal(ins(&q, 5000, 1000, 2002), TCP_OOO_QUEUED);
	assert_int_equal(ins(&q, 7000, 600, 2601), TCP_OOO_FULL);
	assert_int_equal(ins(&q, 7000, 600, 2602), TCP_OOO_QUEUED);
	assert_int_equal(check(&q), 3);
	tcp_ooo_clear(&q);
}

/* Pop at rcv_nxt and deliver as input.c does; return the next rcv_nxt. */
static uint32_t drain(struct tcp_ooo_queue *q, uint32_t rcv_nxt, uint8_t *out, size_t *outlen)
{
	struct tcp_ooo *o;

	while ((o = tcp_ooo_pop(q, rcv_nxt)) != NULL) {
		uint32_t end = o->seq + o->len;

		assert_null(o->next);
		if (seq_gt(end, rcv_nxt)) {
			uint32_t skip = rcv_nxt - o->seq;

			memcpy(out + *outlen, o->data + skip, o->len - skip);
			*outlen += o->len - skip;
			rcv_nxt = end;
		}
		free(o);
		check(q);
	}
	return rcv_nxt;
}

static void test_drain(void **state)
{
	struct tcp_ooo_queue q = { 0 };
	uint8_t out[4096];
	size_t n = 0;
	uint32_t rcv_nxt = 1000;

	(void)state;
	assert_int_equal(ins(&q, 1200, 100, NOLIMIT), TCP_OOO_QUEUED);
	assert_int_equal(ins(&q, 1400, 100, NOLIMIT), TCP_OOO_QUEUED);
	assert_int_equal(ins(&q, 1100, 100, NOLIMIT), TCP_OOO_QUEUED);
	/* nothing at rcv_nxt yet */
	assert_null(tcp_ooo_pop(&q, rcv_nxt));
	/* [1000,1150) arrives in order: [1100,1300) drains, its first 50 bytes skipped */
	rcv_nxt = 1150;
	rcv_nxt = drain(&q, rcv_nxt, out, &n);
	assert_int_equal(rcv_nxt, 1300);
	assert_int_equal(n, 150);
	assert_memory_equal(out, data_at(1150, 150), 150);
	assert_holds(&q, 1400, 1500);
	/* in-order data beyond a whole piece: the piece goes, nothing delivered */
	n = 0;
	rcv_nxt = drain(&q, 1600, out, &n);
	assert_int_equal(rcv_nxt, 1600);
	assert_int_equal(n, 0);
	assert_true(tcp_ooo_empty(&q));
	assert_int_equal(q.bytes, 0);
	assert_int_equal(q.charge, 0);
}

/* Random pieces against a bitmap of what was sent, then a full drain. */
static void test_random(void **state)
{
	enum { SPAN = 20000 };
	static uint8_t have[SPAN];
	struct tcp_ooo_queue q = { 0 };
	uint32_t base = 0xfffff000u, rng = 12345;
	uint8_t *out = malloc(SPAN);
	size_t n = 0;

	(void)state;
	assert_non_null(out);
	memset(have, 0, sizeof(have));
	for (int i = 0; i < 3000; i++) {
		uint32_t off, len;
		enum tcp_ooo_result r;

		rng = rng * 1103515245u + 12345u;
		off = (rng >> 8) % (SPAN - 1) + 1;      /* byte 0 is the hole at rcv_nxt */
		rng = rng * 1103515245u + 12345u;
		len = (rng >> 8) % 700;
		if (off + len > SPAN)
			len = SPAN - off;
		r = ins(&q, base + off, len, NOLIMIT);
		assert_true(r == TCP_OOO_QUEUED || r == TCP_OOO_DUP || r == TCP_OOO_NOTHING);
		memset(have + off, 1, len);
		if (i % 100 == 0)
			check(&q);
	}
	check(&q);
	{
		size_t held = 0;

		for (size_t i = 0; i < SPAN; i++)
			held += have[i];
		assert_int_equal(q.bytes, held);
	}
	/* fill the hole at byte 0 and drain: in-order bytes up to the first gap */
	drain(&q, base + 1, out, &n);
	{
		size_t run = 0;

		while (1 + run < SPAN && have[1 + run])
			run++;
		assert_int_equal(n, run);
		assert_memory_equal(out, data_at(base + 1, (uint32_t)run), run);
	}
	tcp_ooo_clear(&q);
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_orders),
		cmocka_unit_test(test_duplicates),
		cmocka_unit_test(test_overlaps),
		cmocka_unit_test(test_wrap),
		cmocka_unit_test(test_limit),
		cmocka_unit_test(test_drain),
		cmocka_unit_test(test_random),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
