/*
 * test_checksum.c - the Internet checksum against RFC 1071 and a naive reference
 */
#include "wire_test.h"

#include <stdlib.h>
#include <string.h>

#include "fixtures.h"
#include "wire/checksum.h"

/* The obvious RFC 1071 loop: 16-bit words, end-around carry after each add */
static uint16_t ref_csum(const uint8_t *p, size_t len)
{
	uint32_t sum = 0;
	size_t i;

	for (i = 0; i + 1 < len; i += 2) {
		sum += (uint32_t)p[i] << 8 | p[i + 1];
		sum = (sum & 0xffff) + (sum >> 16);
	}
	if (len & 1) {
		sum += (uint32_t)p[len - 1] << 8;
		sum = (sum & 0xffff) + (sum >> 16);
	}
	return (uint16_t)~sum;
}

/* Deterministic pseudo-random bytes (xorshift32) */
static void fill_random(uint8_t *p, size_t len, uint32_t seed)
{
	uint32_t x = seed ? seed : 1;
	size_t i;

	for (i = 0; i < len; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		p[i] = (uint8_t)x;
	}
}

/* RFC 1071 section 3 example: sum of 0001 f203 f4f5 f6f7 is ddf2 */
static void test_csum_rfc1071_example(void **state)
{
	const uint8_t words[] = { 0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7 };
	uint8_t with_csum[10];

	assert_int_equal(inet_csum(words, sizeof(words)), (uint16_t)~0xddf2);
	assert_int_equal(inet_csum_fold(inet_csum_add(0, words, sizeof(words))), 0x220d);
	/* Appending the checksum makes the whole verify to 0 */
	memcpy(with_csum, words, sizeof(words));
	with_csum[8] = 0x22;
	with_csum[9] = 0x0d;
	assert_int_equal(inet_csum(with_csum, sizeof(with_csum)), 0);
}

/* An odd trailing byte is the high byte of a zero-padded word */
static void test_csum_odd_length(void **state)
{
	const uint8_t b3[] = { 0x01, 0x02, 0x03 };
	const uint8_t b1[] = { 0xab };
	const uint8_t b5[] = { 0xff, 0xff, 0x00, 0x01, 0x80 };

	assert_int_equal(inet_csum(b3, 3), (uint16_t)~(0x0102 + 0x0300));
	assert_int_equal(inet_csum(b1, 1), (uint16_t)~0xab00);
	/* ffff + 0001 = 1 0000 -> 0001; + 8000 = 8001 */
	assert_int_equal(inet_csum(b5, 5), (uint16_t)~0x8001);
	assert_int_equal(inet_csum(b5, 0), 0xffff);
}

/* End-around carries, including ones that need a second fold */
static void test_csum_carries(void **state)
{
	const uint8_t two[] = { 0xff, 0xff, 0xff, 0xff, 0x00, 0x02 };
	uint8_t *ones = malloc(65536), *zeros = calloc(1, 65536);

	assert_non_null(ones);
	assert_non_null(zeros);
	assert_int_equal(inet_csum(two, sizeof(two)), 0xfffd);
	/* Sum of 0xffff words is 0xffff ("negative zero"), checksum 0 */
	memset(ones, 0xff, 65536);
	assert_int_equal(inet_csum(ones, 65536), 0);
	assert_int_equal(inet_csum(zeros, 65536), 0xffff);
	/* fold() on a sum wider than 32 bits */
	assert_int_equal(inet_csum_fold(0xffffffffffffULL), 0);
	assert_int_equal(inet_csum_fold(0x100000000ULL), (uint16_t)~1);
	free(ones);
	free(zeros);
}

/* The unrolled 32-byte and 4-byte loops agree with the naive loop, any length and alignment */
static void test_csum_matches_reference(void **state)
{
	uint8_t *buf = malloc(4200);
	size_t len, off;

	assert_non_null(buf);
	fill_random(buf, 4200, 12345);
	for (off = 0; off < 4; off++) {
		for (len = 0; len <= 200; len++)
			assert_int_equal(inet_csum(buf + off, len), ref_csum(buf + off, len));
		assert_int_equal(inet_csum(buf + off, 4096 + off), ref_csum(buf + off, 4096 + off));
	}
	free(buf);
}

/* Pieces chained at even offsets (2 mod 4 included), odd last piece, equal one piece */
static void test_csum_chained_pieces(void **state)
{
	uint8_t buf[301];
	size_t a, b;

	fill_random(buf, sizeof(buf), 777);
	for (a = 0; a <= 64; a += 2) {
		for (b = a; b <= 130; b += 2) {
			uint64_t sum = inet_csum_add(0, buf, a);

			sum = inet_csum_add(sum, buf + a, b - a);
			sum = inet_csum_add(sum, buf + b, sizeof(buf) - b);
			assert_int_equal(inet_csum_fold(sum), inet_csum(buf, sizeof(buf)));
		}
	}
}

/* The pseudo-header sum equals the sum of the 12 bytes RFC 768 lays out */
static void test_csum_pseudo_header(void **state)
{
	const uint8_t ph[12] = { 0xc0, 0x00, 0x02, 0x01, 0xc0, 0x00, 0x02, 0x02,
				 0x00, 0x11, 0x00, 0x15 };
	const uint8_t ph2[12] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe, 0x00, 0x01,
				  0x00, 0x06, 0xff, 0xff };

	assert_int_equal(inet_csum_fold(inet_csum_pseudo(ADDR_A, ADDR_B, 17, 0x15)),
			 inet_csum(ph, sizeof(ph)));
	assert_int_equal(inet_csum_fold(inet_csum_pseudo(0xffffffff, 0xfffe0001, 6, 0xffff)),
			 inet_csum(ph2, sizeof(ph2)));
}

/* Headers captured from Linux verify to 0 */
static void test_csum_captured_headers(void **state)
{
	assert_int_equal(inet_csum(ping_request_frame + 14, 20), 0);
	assert_int_equal(inet_csum(ping_rr_frame + 14, 60), 0);
	assert_int_equal(inet_csum(ping_odd_frame + 34, 15), 0);
	/* and stop verifying when one bit changes */
	{
		uint8_t h[20];

		memcpy(h, ping_request_frame + 14, 20);
		h[19] ^= 0x01;
		assert_int_not_equal(inet_csum(h, 20), 0);
	}
}

int run_checksum_tests(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_csum_rfc1071_example),
		cmocka_unit_test(test_csum_odd_length),
		cmocka_unit_test(test_csum_carries),
		cmocka_unit_test(test_csum_matches_reference),
		cmocka_unit_test(test_csum_chained_pieces),
		cmocka_unit_test(test_csum_pseudo_header),
		cmocka_unit_test(test_csum_captured_headers),
	};

	return cmocka_run_group_tests_name("checksum", tests, NULL, NULL);
}
