/*
 * test_reasm.c - cmocka tests of IPv4 (and IPv6 mode) fragment reassembly (libstack/ipv4_reasm.c)
 *
 * Each test builds fragments of a datagram whose data is a fixed pseudo-random
 * pattern, feeds them to a table with a fake clock, and checks the returned
 * datagram byte by byte, the counters, and at the end (finish()) that polling
 * past every timeout leaves nothing held.  malloc and calloc are wrapped
 * (-Wl,--wrap) so allocation failures can be injected.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "tapir/counters.h"
#include "ipv4_reasm.h"
#include "wire/bytes.h"
#include "wire/checksum.h"

#define SEC 1000000000ULL
#define T0 (100 * SEC)
#define TIMEOUT (30 * SEC)

/* ---- allocation failure injection -------------------------------------- */

void *__real_malloc(size_t size);
void *__real_calloc(size_t n, size_t size);
void *__wrap_malloc(size_t size);
void *__wrap_calloc(size_t n, size_t size);

static long alloc_fail_at = -1; /* fail the n-th allocation from now; -1 never */

static bool alloc_should_fail(void)
{
	if (alloc_fail_at < 0)
		return false;
	return alloc_fail_at-- == 0;
}

void *__wrap_malloc(size_t size)
{
	return alloc_should_fail() ? NULL : __real_malloc(size);
}

void *__wrap_calloc(size_t n, size_t size)
{
	return alloc_should_fail() ? NULL : __real_calloc(n, size);
}

/* ---- helpers ------------------------------------------------------------ */

static uint8_t pat[65536 + 4096];

struct dg {
	uint32_t src, dst;
	uint16_t id;
	uint8_t proto;
	size_t hl;        /* header length of the first fragment, 20..60 */
	bool df;
	const uint8_t *data;
};

struct t {
	struct reasm *r;
	uint64_t ctr[TAPIR_CTR__COUNT];
	uint64_t now;
	uint8_t *out;
	size_t out_len;
	/* expired callback record */
	int expired_calls;
	uint8_t quote[128];
	size_t quote_len;
};

static struct dg dg_make(uint16_t id, size_t salt)
{
	struct dg d = {
		.src = 0xc0000201, /* 192.0.2.1 */
		.dst = 0xc0000202,
		.id = id,
		.proto = 17,
		.hl = 20,
		.df = false,
		.data = pat + salt,
	};
	return d;
}

static struct t *t_new(size_t max_bytes)
{
	struct t *t = test_calloc(1, sizeof(*t));
	struct reasm_config cfg = {.max_bytes = max_bytes, .timeout_ns = TIMEOUT};

	assert_non_null(t);
	t->r = reasm_new(&cfg, t->ctr);
	assert_non_null(t->r);
	t->now = T0;
	return t;
}

/* Poll past every timeout: nothing may be left.  Then free. */
static void finish(struct t *t)
{
	reasm_poll(t->r, UINT64_MAX, NULL, NULL);
	assert_int_equal(reasm_bytes(t->r), 0);
	assert_int_equal(reasm_count(t->r), 0);
	assert_true(reasm_next_deadline(t->r) == UINT64_MAX);
	reasm_free(t->r);
	free(t->out);
	test_free(t);
}

/* Send data [off, off + len) of @d as one fragment; hdr_len @hl if off == 0. */
static int send_hl(struct t *t, const struct dg *d, uint32_t off, size_t len, bool more,
		   size_t hl)
{
	uint8_t hdr[60];
	struct reasm_frag f = {
		.src = d->src, .dst = d->dst, .id = d->id, .proto = d->proto,
		.offset = off, .more = more, .hdr = hdr, .payload = d->data + off, .len = len,
	};
	int ret;

	for (size_t i = 20; i < sizeof(hdr); i++)
		hdr[i] = (uint8_t)(0x80 + i); /* recognisable options */
	hdr[0] = (uint8_t)(0x40 | hl / 4);
	hdr[1] = 0x10;
	put_be16(hdr + 2, (uint16_t)(hl + len));
	put_be16(hdr + 4, d->id);
	put_be16(hdr + 6, (uint16_t)((d->df ? 0x4000 : 0) | (more ? 0x2000 : 0) | off / 8));
	hdr[8] = 63;
	hdr[9] = d->proto;
	put_be16(hdr + 10, 0);
	put_be32(hdr + 12, d->src);
	put_be32(hdr + 16, d->dst);
	put_be16(hdr + 10, inet_csum(hdr, hl));
	f.hdr_len = hl;

	free(t->out);
	t->out = NULL;
	t->out_len = 0;
	ret = reasm_input(t->r, t->now, &f, &t->out, &t->out_len);
	if (ret == 1)
		assert_non_null(t->out);
	else
		assert_null(t->out);
	return ret;
}

static int send(struct t *t, const struct dg *d, uint32_t off, size_t len, bool more)
{
	return send_hl(t, d, off, len, more, d->hl);
}

/* The datagram in t->out is @d with @total data bytes. */
static void check_out(const struct t *t, const struct dg *d, size_t total)
{
	const uint8_t *o = t->out;

	assert_non_null(o);
	assert_int_equal(t->out_len, d->hl + total);
	assert_int_equal(o[0], 0x40 | d->hl / 4);
	assert_int_equal(o[1], 0x10);
	assert_int_equal(get_be16(o + 2), d->hl + total);
	assert_int_equal(get_be16(o + 4), d->id);
	assert_int_equal(get_be16(o + 6), d->df ? 0x4000 : 0); /* MF, offset clear */
	assert_int_equal(o[8], 63);
	assert_int_equal(o[9], d->proto);
	assert_int_equal(inet_csum(o, d->hl), 0);
	assert_int_equal(get_be32(o + 12), d->src);
	assert_int_equal(get_be32(o + 16), d->dst);
	for (size_t i = 20; i < d->hl; i++)
		assert_int_equal(o[i], 0x80 + i);
	assert_memory_equal(o + d->hl, d->data, total);
}

/* xorshift64*: deterministic shuffles */
static uint64_t rnd(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545f4914f6cdd1dULL;
}

struct piece {
	uint32_t off;
	size_t len;
	bool more;
};

/* Split @total bytes into pieces of @size (a multiple of 8) and shuffle. */
static size_t split(struct piece *p, size_t total, size_t size, uint64_t *seed)
{
	size_t n = 0;

	for (size_t off = 0; off < total; off += size, n++) {
		p[n].off = (uint32_t)off;
		p[n].len = total - off < size ? total - off : size;
		p[n].more = off + p[n].len < total;
	}
	if (seed)
		for (size_t i = n - 1; i > 0; i--) {
			size_t j = rnd(seed) % (i + 1);
			struct piece tmp = p[i];

			p[i] = p[j];
			p[j] = tmp;
		}
	return n;
}

/* Send all pieces; only the last may complete the datagram. */
static void send_all(struct t *t, const struct dg *d, const struct piece *p, size_t n,
		     size_t total)
{
	for (size_t i = 0; i < n; i++) {
		int ret = send(t, d, p[i].off, p[i].len, p[i].more);

		assert_int_equal(ret, i + 1 == n ? 1 : 0);
	}
	check_out(t, d, total);
}

static int setup_pat(void **state)
{
	uint64_t s = 0x5eed;

	(void)state;
	for (size_t i = 0; i < sizeof(pat); i++)
		pat[i] = (uint8_t)rnd(&s);
	return 0;
}

/* ---- tests -------------------------------------------------------------- */

static void test_in_order(void **state)
{
	struct t *t = t_new(0);
	struct dg d = dg_make(1, 0);

	(void)state;
	assert_int_equal(send(t, &d, 0, 1480, true), 0);
	assert_int_equal(reasm_count(t->r), 1);
	assert_true(reasm_bytes(t->r) > 1480);
	assert_int_equal(send(t, &d, 1480, 1480, true), 0);
	assert_int_equal(send(t, &d, 2960, 77, false), 1);
	check_out(t, &d, 3037);
	assert_int_equal(t->ctr[TAPIR_CTR_REASM_FRAGS_IN], 3);
	assert_int_equal(t->ctr[TAPIR_CTR_REASM_COMPLETED], 1);
	assert_int_equal(reasm_count(t->r), 0);
	assert_int_equal(reasm_bytes(t->r), 0);
	finish(t);
}

static void test_reverse(void **state)
{
	struct t *t = t_new(0);
	struct dg d = dg_make(2, 7);
	struct piece p[64];
	size_t n = split(p, 5000, 256, NULL);

	(void)state;
	for (size_t i = 0; i < n / 2; i++) {
		struct piece tmp = p[i];

		p[i] = p[n - 1 - i];
		p[n - 1 - i] = tmp;
	}
	send_all(t, &d, p, n, 5000);
	assert_int_equal(t->ctr[TAPIR_CTR_REASM_COMPLETED], 1);
	finish(t);
}

static void test_random_order(void **state)
{
	struct t *t = t_new(0);
	static struct piece p[8192];
	uint64_t seed = 42;

	(void)state;
	for (int round = 0; round < 300; round++) {
		struct dg d = dg_make((uint16_t)round, (size_t)round);
		size_t total = 1 + rnd(&seed) % 65515;
		size_t size = 8 * (1 + rnd(&seed) % (round % 3 == 0 ? 8 : 1000));
		size_t n;

		d.hl = 20 + 4 * (rnd(&seed) % 11);
		if (total > 65535 - d.hl)
			total = 65535 - d.hl;
		d.df = round & 1;
		n = split(p, total, size, &seed);
		send_all(t, &d, p, n, total);
		assert_int_equal(reasm_count(t->r), 0);
	}
	assert_int_equal(t->ctr[TAPIR_CTR_REASM_COMPLETED], 300);
	assert_int_equal(t->ctr[TAPIR_CTR_REASM_DUPLICATE], 0);
	finish(t);
}

/* 65,535 bytes from 8-byte fragments in random order, and with a 60-byte header. */
static void test_full_size_tiny_frags(void **state)
{
	struct t *t = t_new(0);
	static struct piece p[8192];
	uint64_t seed = 7;
	struct dg d = dg_make(3, 0);
	size_t n = split(p, 65515, 8, &seed);

	(void)state;
	assert_int_equal(n, 8190);
	send_all(t, &d, p, n, 65515);
	assert_int_equal(t->out_len, 65535);

	d = dg_make(4, 100);
	d.hl = 60;
	n = split(p, 65475, 8, &seed);
	send_all(t, &d, p, n, 65475);
	assert_int_equal(t->out_len, 65535);
	assert_int_equal(t->ctr[TAPIR_CTR_REASM_COMPLETED], 2);
	finish(t);
}

static void test_duplicate(void **state)
{
	struct t *t = t_new(0);
	struct dg d = dg_make(5, 0);
	size_t bytes;

	(void)state;
	assert_int_equal(send(t, &d, 0, 16, true), 0);
	bytes = reasm_bytes(t->r);
	assert_int_equal(send(t, &d, 0, 16, true), 0);
	assert_int_equal(t->ctr[TAPIR_CTR_REASM_DUPLICATE], 1);
	assert_int_equal(reasm_bytes(t->r), bytes);
	assert_int_equal(send(t, &d, 16, 5, false), 1);
	check_out(t, &d, 21);
	/* the same last fragment again: a new datagram starts, incomplete */
	assert_int_equal(send(t, &d, 16, 5, false), 0);
	assert_int_equal(reasm_count(t->r), 1);
	finish(t);
}

static void test_subset(void **state)
{
	struct t *t = t_new(0);
	struct dg d = dg_make(6, 0);
	size_t bytes;

	(void)state;
	assert_int_equal(send(t, &d, 0, 16, true), 0);
	assert_int_equal(send(t, &d, 16, 16, true), 0);
	bytes = reasm_bytes(t->r);
	assert_int_equal(send(t, &d, 8, 16, true), 0);   /* spans both, covered */
	assert_int_equal(send(t, &d, 16, 8, true), 0);   /* inside the second */
	assert_int_equal(send(t, &d, 0, 32, true), 0);   /* exactly both */
	assert_int_equal(t->ctr[TAPIR_CTR_REASM_DUPLICATE], 3);
	assert_int_equal(t->ctr[TAPIR_CTR_REASM_DROP_OVERLAP], 0);
	assert_int_equal(reasm_bytes(t->r), bytes);
	assert_int_equal(send(t, &d, 32, 3, false), 1);
	check_out(t, &d, 35);
	finish(t);
}

/* A covered last fragment still tells where the datagram ends. */
static void test_covered_last_completes(void **state)
{
	struct t *t = t_new(0);
	struct dg d = dg_make(7, 0);

	(void)state;
	assert_int_equal(send(t, &d, 0, 16, true), 0);
	assert_int_equal(send(t, &d, 16, 8, true), 0);
	assert_int_equal(send(t, &d, 8, 16, false), 1);
	check_out(t, &d, 24);
	finish(t);
}

static void overlap_case(uint32_t off2, size_t len2)
{
	struct t *t = t_new(0);
	struct dg d = dg_make(8, 0);
	struct tapir_reasm_info info[2];
	size_t live;

	assert_int_equal(send(t, &d, 16, 16, true), 0);
	assert_int_equal(send(t, &d, 48, 16, true), 0);
	live = reasm_bytes(t->r);
	assert_int_equal(send(t, &d, off2, len2, true), -EBADMSG);
	assert_int_equal(t->ctr[TAPIR_CTR_REASM_DROP_OVERLAP], 1);
	assert_int_equal(reasm_count(t->r), 1); /* a dead entry */
	assert_true(reasm_bytes(t->r) < live);
	assert_int_equal(reasm_list(t->r, info, 2), 1);
	assert_true(info[0].dead);
	assert_int_equal(info[0].bytes_held, 0);
	/* the rest of the datagram, however good, is dropped */
	assert_int_equal(send(t, &d, 0, 16, true), -EBADMSG);
	assert_int_equal(send(t, &d, 32, 16, true), -EBADMSG);
	assert_int_equal(send(t, &d, 64, 3, false), -EBADMSG);
	assert_int_equal(t->ctr[TAPIR_CTR_REASM_DROP_DEAD], 3);
	assert_int_equal(t->ctr[TAPIR_CTR_REASM_COMPLETED], 0);
	/* until it times out; then the key is usable again */
	reasm_poll(t->r, T0 + TIMEOUT, NULL, NULL);
	assert_int_equal(reasm_count(t->r), 0);
	assert_int_equal(t->ctr[TAPIR_CTR_REASM_DROP_TIMEOUT], 0);
	t->now = T0 + TIMEOUT;
	assert_int_equal(send(t, &d, 0, 16, true), 0);
	assert_int_equal(send(t, &d, 16, 3, false), 1);
	check_out(t, &d, 19);
	finish(t);
}

static void test_overlap_left(void **state)
{
	(void)state;
	overlap_case(8, 16); /* starts before the held [16,32) */
}

static void test_overlap_right(void **state)
{
	(void)state;
	overlap_case(24, 16); /* ends after it */
}

static void test_overlap_superset(void **state)
{
	(void)state;
	overlap_case(8, 64); /* covers both held ones and the hole */
}

static void test_teardrop(void **state)
{
	struct t *t = t_new(0);
	struct dg d = dg_make(9, 0);

	(void)state;
	/* The literal teardrop: 36 bytes with MF, then 4 bytes at 24 as the last.
	 * The first is not a multiple of 8 and is dropped, so nothing completes. */
	assert_int_equal(send(t, &d, 0, 36, true), -EBADMSG);
	assert_int_equal(t->ctr[TAPIR_CTR_REASM_DROP_BAD_LEN], 1);
	assert_int_equal(send(t, &d, 24, 4, false), 0);
	assert_int_equal(reasm_count(t->r), 1);

	/* Aligned teardrop: the last fragment overlaps the first and ends inside it. */
	d = dg_make(10, 0);
	assert_int_equal(send(t, &d, 0, 40, true), 0);
	assert_int_equal(send(t, &d, 24, 4, false), -EBADMSG);
	assert_int_equal(t->ctr[TAPIR_CTR_REASM_DROP_BAD_END], 1);

	/* NewTear/Bonk: the second starts inside the first and reaches past it. */
	d = dg_make(11, 0);
	assert_int_equal(send(t, &d, 0, 40, true), 0);
	assert_int_equal(send(t, &d, 24, 100, false), -EBADMSG);
	assert_int_equal(t->ctr[TAPIR_CTR_REASM_DROP_OVERLAP], 1);
	assert_int_equal(send(t, &d, 40, 84, false), -EBADMSG);
	assert_int_equal(t->ctr[TAPIR_CTR_REASM_DROP_DEAD], 1);
	assert_int_equal(t->ctr[TAPIR_CTR_REASM_COMPLETED], 0);
	finish(t);
}

static void test_ping_of_death(void **state)
{
	struct t *t = t_new(0);
	struct dg d = dg_make(12, 0);

	(void)state;
	assert_int_equal(send(t, &d, 0, 1480, true), 0);
	assert_int_equal(send(t, &d, 65512, 4, false), -EMSGSIZE); /* ends at 65,516 */
	assert_int_equal(t->ctr[TAPIR_CTR_REASM_DROP_TOO_BIG], 1);
	assert_int_equal(send(t, &d, 1480, 1480, true), -EBADMSG);
	assert_int_equal(t->ctr[TAPIR_CTR_REASM_DROP_DEAD], 1);

	/* 65,515 is the limit even before a header length is known */
	d = dg_make(25, 0);
	assert_int_equal(send(t, &d, 65512, 4, false), -EMSGSIZE);
	assert_int_equal(send(t, &d, 65512, 3, false), 0);
	assert_int_equal(reasm_count(t->r), 2);
	assert_int_equal(t->ctr[TAPIR_CTR_REASM_DROP_TOO_BIG], 2);

	/* first fragment never seen: dropped, no entry made */
	d = dg_make(13, 0);
	assert_int_equal(send(t, &d, 65008, 1000, false), -EMSGSIZE);
	assert_int_equal(t->ctr[TAPIR_CTR_REASM_DROP_TOO_BIG], 3);
	assert_int_equal(reasm_count(t->r), 2);

	/* 65,515 bytes of data fit a 20-byte header but not a 24-byte one,
	 * in either order */
	d = dg_make(14, 0);
	d.hl = 24;
	assert_int_equal(send(t, &d, 0, 1480, true), 0);
	assert_int_equal(send(t, &d, 65000, 515, false), -EMSGSIZE);
	d = dg_make(15, 0);
	d.hl = 24;
	assert_int_equal(send(t, &d, 65000, 515, false), 0);
	assert_int_equal(send(t, &d, 0, 1480, true), -EMSGSIZE);
	assert_int_equal(t->ctr[TAPIR_CTR_REASM_DROP_TOO_BIG], 5);
	assert_int_equal(t->ctr[TAPIR_CTR_REASM_COMPLETED], 0);
	finish(t);
}

static void test_bad_len(void **state)
{
	struct t *t = t_new(0);
	struct dg d = dg_make(16, 0);

	(void)state;
	assert_int_equal(send(t, &d, 0, 13, true), -EBADMSG);
	assert_int_equal(send(t, &d, 8, 0, true), -EBADMSG);
	assert_int_equal(send(t, &d, 8, 0, false), -EBADMSG);
	assert_int_equal(send_hl(t, &d, 0, 16, true, 16), -EBADMSG); /* header < 20 */
	assert_int_equal(t->ctr[TAPIR_CTR_REASM_DROP_BAD_LEN], 4);
	assert_int_equal(reasm_count(t->r), 0);
	/* a last fragment may have any length */
	assert_int_equal(send(t, &d, 0, 16, true), 0);
	assert_int_equal(send(t, &d, 16, 13, false), 1);
	check_out(t, &d, 29);
	finish(t);
}

static void test_conflicting_end(void **state)
{
	struct t *t = t_new(0);
	struct dg d = dg_make(17, 0);

	(void)state;
	/* two last fragments with different ends */
	assert_int_equal(send(t, &d, 16, 8, false), 0);
	assert_int_equal(send(t, &d, 32, 8, false), -EBADMSG);
	assert_int_equal(t->ctr[TAPIR_CTR_REASM_DROP_BAD_END], 1);
	assert_int_equal(send(t, &d, 0, 16, true), -EBADMSG); /* dead */

	/* data beyond a known end */
	d = dg_make(18, 0);
	assert_int_equal(send(t, &d, 16, 5, false), 0);
	assert_int_equal(send(t, &d, 24, 8, true), -EBADMSG);
	assert_int_equal(t->ctr[TAPIR_CTR_REASM_DROP_BAD_END], 2);

	/* a last fragment ending before data already held */
	d = dg_make(19, 0);
	assert_int_equal(send(t, &d, 0, 48, true), 0);
	assert_int_equal(send(t, &d, 48, 8, true), 0);
	assert_int_equal(send(t, &d, 40, 8, false), -EBADMSG);
	assert_int_equal(t->ctr[TAPIR_CTR_REASM_DROP_BAD_END], 3);
	assert_int_equal(t->ctr[TAPIR_CTR_REASM_DROP_DEAD], 1);
	assert_int_equal(t->ctr[TAPIR_CTR_REASM_COMPLETED], 0);
	finish(t);
}

static void on_expired(void *ctx, const uint8_t *quote, size_t quote_len)
{
	struct t *t = ctx;

	t->expired_calls++;
	assert_true(quote_len <= sizeof(t->quote));
	memcpy(t->quote, quote, quote_len);
	t->quote_len = quote_len;
}

static void test_timeout(void **state)
{
	struct t *t = t_new(0);
	struct dg a = dg_make(20, 0), b = dg_make(21, 50);

	(void)state;
	a.hl = 24;
	assert_int_equal(send(t, &a, 16, 16, true), 0);
	assert_int_equal(send(t, &a, 0, 16, true), 0);
	t->now = T0 + 5 * SEC;
	assert_int_equal(send(t, &b, 8, 8, true), 0); /* no first fragment */
	assert_true(reasm_next_deadline(t->r) == T0 + TIMEOUT);

	reasm_poll(t->r, T0 + TIMEOUT - 1, on_expired, t);
	assert_int_equal(t->expired_calls, 0);
	assert_int_equal(reasm_count(t->r), 2);

	reasm_poll(t->r, T0 + TIMEOUT, on_expired, t);
	assert_int_equal(t->expired_calls, 1);
	assert_int_equal(t->ctr[TAPIR_CTR_REASM_DROP_TIMEOUT], 1);
	assert_int_equal(t->quote_len, 24 + 8);
	assert_int_equal(t->quote[0], 0x46);
	assert_int_equal(get_be16(t->quote + 2), 24 + 16); /* the header as received */
	assert_int_equal(get_be16(t->quote + 6), 0x2000);
	assert_int_equal(inet_csum(t->quote, 24), 0);
	assert_memory_equal(t->quote + 24, a.data, 8);
	assert_int_equal(reasm_count(t->r), 1);
	assert_true(reasm_next_deadline(t->r) == T0 + 5 * SEC + TIMEOUT);

	reasm_poll(t->r, T0 + 5 * SEC + TIMEOUT, on_expired, t);
	assert_int_equal(t->expired_calls, 1); /* b had no first fragment */
	assert_int_equal(t->ctr[TAPIR_CTR_REASM_DROP_TIMEOUT], 2);
	assert_int_equal(reasm_count(t->r), 0);
	assert_int_equal(reasm_bytes(t->r), 0);
	finish(t);
}

/* Thousands of unfinished datagrams: memory stays under the cap, the oldest
 * go first, and a datagram sent afterwards completes. */
static void test_cap_flood(void **state)
{
	const size_t cap = 4 << 20;
	struct t *t = t_new(cap);
	static struct tapir_reasm_info info[20000];
	struct piece p[64];
	size_t n, count, i;
	struct dg d;

	(void)state;
	for (i = 0; i < 20000; i++) {
		d = dg_make((uint16_t)i, 0);
		d.src = 0xc6336400 + (uint32_t)(i >> 16);
		assert_int_equal(send(t, &d, 8, 8, true), 0);
		assert_true(reasm_bytes(t->r) <= cap);
	}
	count = reasm_count(t->r);
	assert_true(count > 1000 && count < 20000);
	assert_true(reasm_bytes(t->r) > cap - 2048);
	assert_int_equal(t->ctr[TAPIR_CTR_REASM_DROP_EVICTED], 20000 - count);
	assert_int_equal(t->ctr[TAPIR_CTR_REASM_DROP_NOMEM], 0);
	/* the survivors are the newest, oldest first */
	assert_int_equal(reasm_list(t->r, info, 20000), count);
	for (i = 0; i < count; i++)
		assert_int_equal(info[i].id, (uint16_t)(20000 - count + i));

	t->now += SEC;
	d = dg_make(0xbeef, 3);
	d.src = 0xc0000299;
	n = split(p, 30000, 1480, NULL);
	send_all(t, &d, p, n, 30000);
	assert_true(reasm_bytes(t->r) <= cap);
	assert_int_equal(t->ctr[TAPIR_CTR_REASM_COMPLETED], 1);
	assert_true(t->ctr[TAPIR_CTR_REASM_DROP_EVICTED] > 20000 - count);
	finish(t);
}

/* Tiny fragments are bounded by their overhead too. */
static void test_cap_tiny_fragments(void **state)
{
	const size_t cap = 64 << 10;
	struct t *t = t_new(cap);
	struct dg d = dg_make(22, 0);
	uint32_t off;
	int ret = 0;

	(void)state;
	for (off = 8; off < 65000 && ret == 0; off += 16) {
		ret = send(t, &d, off, 8, true);
		assert_true(reasm_bytes(t->r) <= cap);
	}
	/* 8 bytes of data cost far more than 8 bytes: the datagram hits the cap
	 * with less than a quarter of the cap in data */
	assert_int_equal(ret, -ENOMEM);
	assert_true((off - 8) / 16 * 8 < cap / 4);
	assert_int_equal(t->ctr[TAPIR_CTR_REASM_DROP_NOMEM], 1);
	assert_int_equal(reasm_count(t->r), 0);
	assert_int_equal(reasm_bytes(t->r), 0);
	finish(t);
}

/* A datagram that cannot fit the cap on its own is dropped, others kept. */
static void test_cap_single_too_big(void **state)
{
	const size_t cap = 16 << 10;
	struct t *t = t_new(cap);
	struct dg a = dg_make(23, 0), b = dg_make(24, 0);
	int ret = 0;
	uint32_t off;

	(void)state;
	assert_int_equal(send(t, &a, 0, 8, true), 0);
	for (off = 0; ret == 0; off += 1480)
		ret = send(t, &b, off, 1480, true);
	assert_int_equal(ret, -ENOMEM);
	assert_int_equal(t->ctr[TAPIR_CTR_REASM_DROP_NOMEM], 1);
	/* a, older, was evicted to make room for b before b proved too big */
	assert_int_equal(t->ctr[TAPIR_CTR_REASM_DROP_EVICTED], 1);
	assert_int_equal(reasm_count(t->r), 0);
	assert_int_equal(send(t, &b, 0, 20000, false), -ENOMEM); /* bigger than the cap */
	assert_int_equal(t->ctr[TAPIR_CTR_REASM_DROP_NOMEM], 2);
	assert_int_equal(t->ctr[TAPIR_CTR_REASM_DROP_EVICTED], 1);
	assert_int_equal(reasm_count(t->r), 0);
	finish(t);
}

/* Room for a fragment is made by evicting other datagrams, even newer ones,
 * never the fragment's own, even when it is the oldest. */
static void test_cap_evicts_others(void **state)
{
	const size_t cap = 16 << 10;
	struct t *t = t_new(cap);
	struct dg a = dg_make(26, 0), b = dg_make(27, 0);
	struct tapir_reasm_info info[2];
	uint32_t off;

	(void)state;
	assert_int_equal(send(t, &a, 0, 1480, true), 0);
	t->now += SEC;
	for (off = 0; off < 5 * 1480; off += 1480)
		assert_int_equal(send(t, &b, off, 1480, true), 0);
	for (off = 1480; off < 9 * 1480; off += 1480)
		assert_int_equal(send(t, &a, off, 1480, true), 0);
	assert_int_equal(t->ctr[TAPIR_CTR_REASM_DROP_EVICTED], 1);
	assert_int_equal(reasm_list(t->r, info, 2), 1);
	assert_int_equal(info[0].id, 26);
	assert_int_equal(send(t, &a, 9 * 1480, 100, false), 1);
	check_out(t, &a, 9 * 1480 + 100);
	finish(t);
}

static void test_interleaved(void **state)
{
	struct t *t = t_new(0);
	struct dg d[5];
	uint64_t seed = 99;
	int done[5] = {0};
	struct {
		int k;
		struct piece p;
	} all[5 * 16];
	size_t n = 0;

	(void)state;
	for (int k = 0; k < 5; k++)
		d[k] = dg_make(30, (size_t)(k * 101));
	d[1].id = 31;              /* differs by id */
	d[2].proto = 6;            /* by protocol */
	d[3].src = 0xc0000203;     /* by source */
	d[4].dst = 0xc0000209;     /* by destination */
	for (int k = 0; k < 5; k++) {
		struct piece p[16];
		size_t m = split(p, 2000, 128, NULL);

		for (size_t i = 0; i < m; i++) {
			all[n].k = k;
			all[n++].p = p[i];
		}
	}
	for (size_t i = n - 1; i > 0; i--) {
		size_t j = rnd(&seed) % (i + 1);
		__typeof__(all[0]) tmp = all[i];

		all[i] = all[j];
		all[j] = tmp;
	}
	for (size_t i = 0; i < n; i++) {
		const struct dg *dd = &d[all[i].k];
		int ret = send(t, dd, all[i].p.off, all[i].p.len, all[i].p.more);

		if (ret == 1) {
			check_out(t, dd, 2000);
			done[all[i].k]++;
		} else {
			assert_int_equal(ret, 0);
		}
	}
	for (int k = 0; k < 5; k++)
		assert_int_equal(done[k], 1);
	assert_int_equal(t->ctr[TAPIR_CTR_REASM_DUPLICATE], 0);
	assert_int_equal(t->ctr[TAPIR_CTR_REASM_DROP_OVERLAP], 0);
	finish(t);
}

static void test_deadline_and_list(void **state)
{
	struct t *t = t_new(0);
	struct dg a = dg_make(40, 0), b = dg_make(41, 0), c = dg_make(42, 0);
	struct tapir_reasm_info info[4];

	(void)state;
	assert_true(reasm_next_deadline(t->r) == UINT64_MAX);
	assert_int_equal(reasm_list(t->r, info, 4), 0);
	t->now = 1 * SEC;
	assert_int_equal(send(t, &a, 0, 64, true), 0);
	assert_int_equal(send(t, &a, 64, 10, false), 1); /* completes */
	assert_int_equal(send(t, &a, 0, 64, true), 0);            /* a again */
	t->now = 5 * SEC;
	assert_int_equal(send(t, &b, 64, 10, false), 0);
	t->now = 7 * SEC;
	assert_int_equal(send(t, &c, 0, 8, true), 0);
	assert_int_equal(send(t, &c, 0, 16, true), -EBADMSG); /* overlap: dead */
	assert_true(reasm_next_deadline(t->r) == 1 * SEC + TIMEOUT);

	assert_int_equal(reasm_list(t->r, info, 4), 3);
	assert_int_equal(info[0].id, 40);
	assert_int_equal(info[0].src, a.src);
	assert_int_equal(info[0].dst, a.dst);
	assert_int_equal(info[0].proto, 17);
	assert_int_equal(info[0].bytes_held, 64);
	assert_int_equal(info[0].total_len, 0);
	assert_false(info[0].dead);
	assert_true(info[0].expires == 1 * SEC + TIMEOUT);
	assert_int_equal(info[1].id, 41);
	assert_int_equal(info[1].bytes_held, 10);
	assert_int_equal(info[1].total_len, 74);
	assert_true(info[1].expires == 5 * SEC + TIMEOUT);
	assert_int_equal(info[2].id, 42);
	assert_true(info[2].dead);
	assert_int_equal(reasm_list(t->r, info, 1), 1); /* bounded by max */

	reasm_poll(t->r, 1 * SEC + TIMEOUT, NULL, NULL);
	assert_true(reasm_next_deadline(t->r) == 5 * SEC + TIMEOUT);
	reasm_poll(t->r, 6 * SEC + TIMEOUT, NULL, NULL);
	assert_true(reasm_next_deadline(t->r) == 7 * SEC + TIMEOUT);
	assert_int_equal(reasm_list(t->r, info, 4), 1);
	finish(t);
}

/* A clock that steps back cannot break the deadline order. */
static void test_clock_backwards(void **state)
{
	struct t *t = t_new(0);
	struct dg a = dg_make(43, 0), b = dg_make(44, 0);
	struct tapir_reasm_info info[2];

	(void)state;
	t->now = 10 * SEC;
	assert_int_equal(send(t, &a, 0, 8, true), 0);
	t->now = 2 * SEC;
	assert_int_equal(send(t, &b, 0, 8, true), 0);
	assert_true(reasm_next_deadline(t->r) == 10 * SEC + TIMEOUT);
	assert_int_equal(reasm_list(t->r, info, 2), 2);
	assert_true(info[1].expires == 10 * SEC + TIMEOUT); /* not before a's */
	reasm_poll(t->r, 2 * SEC + TIMEOUT, NULL, NULL);
	assert_int_equal(reasm_count(t->r), 2);
	reasm_poll(t->r, 10 * SEC + TIMEOUT, NULL, NULL);
	assert_int_equal(reasm_count(t->r), 0);
	finish(t);
}

static void test_hash_rekey(void **state)
{
	struct t *t = t_new(0);
	struct dg d[50];

	(void)state;
	for (int i = 0; i < 50; i++) {
		d[i] = dg_make((uint16_t)(500 + i), (size_t)i);
		assert_int_equal(send(t, &d[i], 0, 24, true), 0);
	}
	reasm_set_hash_key(t->r, 0x0123456789abcdefULL, 0xfedcba9876543210ULL);
	for (int i = 0; i < 50; i++) {
		assert_int_equal(send(t, &d[i], 24, 3, false), 1);
		check_out(t, &d[i], 27);
	}
	assert_int_equal(reasm_count(t->r), 0);
	finish(t);
}

/* Fail each allocation of a scenario in turn: counted, never a crash or leak.
 * The scenario makes 7 allocations: entry, bitmap, 4 fragments, the output. */
static void test_alloc_failure(void **state)
{
	(void)state;
	for (long k = 0; k < 9; k++) {
		struct t *t = t_new(0);
		struct dg d = dg_make(50, 0);
		int r1, r2, r3, r4;

		alloc_fail_at = k;
		r1 = send(t, &d, 0, 16, true);
		r2 = send(t, &d, 16, 16, true);
		r3 = send(t, &d, 32, 16, true);
		r4 = send(t, &d, 48, 3, false);
		alloc_fail_at = -1;
		if (k < 7) {
			assert_int_equal(t->ctr[TAPIR_CTR_REASM_DROP_NOMEM], 1);
			assert_int_equal(t->ctr[TAPIR_CTR_REASM_COMPLETED], 0);
			assert_true(r1 == -ENOMEM || r2 == -ENOMEM || r3 == -ENOMEM ||
				    r4 == -ENOMEM);
		} else {
			assert_int_equal(t->ctr[TAPIR_CTR_REASM_DROP_NOMEM], 0);
			assert_int_equal(r4, 1);
			check_out(t, &d, 51);
		}
		finish(t);
	}
}

static void test_new_failure(void **state)
{
	struct reasm_config cfg = {0};

	(void)state;
	alloc_fail_at = 0;
	assert_null(reasm_new(&cfg, NULL));
	alloc_fail_at = 1;
	assert_null(reasm_new(&cfg, NULL));
	alloc_fail_at = -1;
	reasm_free(NULL);
}

/* ---- IPv6 mode ----------------------------------------------------------- */

struct q6 {
	uint8_t buf[1300];
	size_t len;
	int n;
};

static void on_expired6(void *ctx, const uint8_t *quote, size_t quote_len)
{
	struct q6 *q = ctx;

	q->n++;
	assert_true(quote_len <= sizeof(q->buf));
	memcpy(q->buf, quote, quote_len);
	q->len = quote_len;
}

/* IPv6 header + 8-byte hop-by-hop + fragment header (56 bytes) */
static size_t hdr6(uint8_t *h, uint32_t off, bool more, size_t len)
{
	memset(h, 0, 56);
	h[0] = 0x60;
	put_be16(h + 4, (uint16_t)(16 + len));
	h[6] = 0;      /* hop-by-hop */
	h[7] = 64;
	h[8] = 0x20;
	h[15 + 8] = 1;     /* src 2001::...1 */
	h[24] = 0x20;
	h[39] = 2;
	h[40] = 44;    /* -> fragment */
	h[42] = 1;     /* PadN */
	h[43] = 4;
	h[48] = 58;    /* -> ICMPv6 */
	put_be16(h + 50, (uint16_t)(off | (more ? 1 : 0)));
	put_be32(h + 52, 0xfeedf00d);
	return 56;
}

static int send6(struct reasm *r, uint64_t now, const uint8_t *data, uint32_t off, size_t len,
		 bool more, uint8_t **out, size_t *out_len)
{
	uint8_t h[56];
	struct reasm_frag f = { 0 };

	f.hdr_len = hdr6(h, off, more, len);
	f.hdr = h;
	f.src6 = h + 8;
	f.dst6 = h + 24;
	f.id6 = 0xfeedf00d;
	f.nh_off = 40;
	f.offset = off;
	f.more = more;
	f.payload = data + off;
	f.len = len;
	return reasm_input(r, now, &f, out, out_len);
}

/* Any order: the rebuilt packet loses the fragment header, the hop-by-hop
 * header names ICMPv6, the payload length covers everything */
static void test_v6_rebuild(void **state)
{
	struct reasm_config cfg = { .max_bytes = 1 << 20, .timeout_ns = 60 * SEC, .family = 6 };
	uint64_t ctr[TAPIR_CTR__COUNT] = { 0 };
	struct reasm *r = reasm_new(&cfg, ctr);
	uint8_t data[3000], *out = NULL;
	size_t out_len = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 7 + 3);
	assert_int_equal(send6(r, T0, data, 1504, 1496, false, &out, &out_len), 0);
	assert_int_equal(send6(r, T0, data, 0, 1504, true, &out, &out_len), 1);
	assert_int_equal(out_len, 40 + 8 + 3000);
	assert_int_equal(get_be16(out + 4), 8 + 3000);
	assert_int_equal(out[6], 0);
	assert_int_equal(out[40], 58);  /* the hop-by-hop header now names ICMPv6 */
	assert_memory_equal(out + 48, data, 3000);
	assert_int_equal(ctr[TAPIR_CTR_REASM_COMPLETED], 1);
	free(out);
	assert_int_equal(reasm_count(r), 0);
	reasm_free(r);
}

/* An overlap kills it (RFC 5722); a lone first fragment times out with a
 * quote of it as received, cut at 1,232 bytes */
static void test_v6_overlap_and_timeout(void **state)
{
	struct reasm_config cfg = { .max_bytes = 1 << 20, .timeout_ns = 60 * SEC, .family = 6 };
	uint64_t ctr[TAPIR_CTR__COUNT] = { 0 };
	struct reasm *r = reasm_new(&cfg, ctr);
	uint8_t data[4000], *out = NULL, h[56];
	size_t out_len = 0;
	struct q6 q = { .n = 0 };

	(void)state;
	memset(data, 0x5c, sizeof(data));
	assert_int_equal(send6(r, T0, data, 0, 1600, true, &out, &out_len), 0);
	assert_int_equal(send6(r, T0, data, 800, 1600, true, &out, &out_len), -EBADMSG);
	assert_int_equal(ctr[TAPIR_CTR_REASM_DROP_OVERLAP], 1);
	reasm_poll(r, T0 + 61 * SEC, on_expired6, &q);
	assert_int_equal(q.n, 0);  /* dead entries send nothing */

	assert_int_equal(send6(r, T0 + 70 * SEC, data, 0, 1600, true, &out, &out_len), 0);
	reasm_poll(r, T0 + 129 * SEC, on_expired6, &q);
	assert_int_equal(q.n, 0);
	reasm_poll(r, T0 + 131 * SEC, on_expired6, &q);
	assert_int_equal(q.n, 1);
	assert_int_equal(q.len, 1232);
	hdr6(h, 0, true, 1600);
	assert_memory_equal(q.buf, h, 56);
	assert_memory_equal(q.buf + 56, data, 1232 - 56);
	assert_int_equal(ctr[TAPIR_CTR_REASM_DROP_TIMEOUT], 1);
	assert_int_equal(reasm_bytes(r), 0);
	reasm_free(r);
}

/* The payload length limit: 65,535 after the unfragmentable part */
static void test_v6_too_big(void **state)
{
	struct reasm_config cfg = { .max_bytes = 1 << 20, .family = 6 };
	uint64_t ctr[TAPIR_CTR__COUNT] = { 0 };
	struct reasm *r = reasm_new(&cfg, ctr);
	static uint8_t data[70000];
	uint8_t *out = NULL;
	size_t out_len = 0;

	(void)state;
	/* 8 bytes of hop-by-hop + 65,528 of data = 65,536: one too many */
	assert_int_equal(send6(r, T0, data, 65520, 8, false, &out, &out_len), 0);
	assert_int_equal(send6(r, T0, data, 0, 1024, true, &out, &out_len), -EMSGSIZE);
	assert_int_equal(ctr[TAPIR_CTR_REASM_DROP_TOO_BIG], 1);
	reasm_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_in_order),
		cmocka_unit_test(test_reverse),
		cmocka_unit_test(test_random_order),
		cmocka_unit_test(test_full_size_tiny_frags),
		cmocka_unit_test(test_duplicate),
		cmocka_unit_test(test_subset),
		cmocka_unit_test(test_covered_last_completes),
		cmocka_unit_test(test_overlap_left),
		cmocka_unit_test(test_overlap_right),
		cmocka_unit_test(test_overlap_superset),
		cmocka_unit_test(test_teardrop),
		cmocka_unit_test(test_ping_of_death),
		cmocka_unit_test(test_bad_len),
		cmocka_unit_test(test_conflicting_end),
		cmocka_unit_test(test_timeout),
		cmocka_unit_test(test_cap_flood),
		cmocka_unit_test(test_cap_tiny_fragments),
		cmocka_unit_test(test_cap_single_too_big),
		cmocka_unit_test(test_cap_evicts_others),
		cmocka_unit_test(test_interleaved),
		cmocka_unit_test(test_deadline_and_list),
		cmocka_unit_test(test_clock_backwards),
		cmocka_unit_test(test_hash_rekey),
		cmocka_unit_test(test_alloc_failure),
		cmocka_unit_test(test_new_failure),
		cmocka_unit_test(test_v6_rebuild),
		cmocka_unit_test(test_v6_overlap_and_timeout),
		cmocka_unit_test(test_v6_too_big),
	};

	return cmocka_run_group_tests(tests, setup_pat, NULL);
}
