/*
 * test_udp.c - UDP parse and emit against a captured datagram
 */
#include "wire_test.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fixtures.h"
#include "wire/udp.h"

/* The UDP datagram inside the captured frame: 8 + 13 bytes */
#define UDP_MSG (udp_frame + 34)
#define UDP_MSG_LEN (sizeof(udp_frame) - 34)

static void test_udp_deconstruct(void **state)
{
	struct udp_repr r;

	assert_int_equal(UDP_MSG_LEN, 21);
	assert_int_equal(udp_repr_parse(&r, UDP_MSG, UDP_MSG_LEN, ADDR_A, ADDR_B), 0);
	assert_int_equal(r.src_port, 40000);
	assert_int_equal(r.dst_port, 7777);
	assert_ptr_equal(r.payload, UDP_MSG + 8);
	assert_int_equal(r.payload_len, 13);
	assert_memory_equal(r.payload, "hello, tapir\n", 13);
}

/* Emit writes the header only; the checksum (0x87c9) covers the odd-length payload */
static void test_udp_construct(void **state)
{
	uint8_t *payload = dup_bytes("hello, tapir\n", 13);
	struct udp_repr r = {
		.src_port = 40000, .dst_port = 7777, .payload = payload, .payload_len = 13,
	};
	uint8_t *buf = filled_buf(UDP_HDR_LEN + 13);

	udp_repr_emit(&r, buf, ADDR_A, ADDR_B);
	assert_memory_equal(buf, UDP_MSG, UDP_HDR_LEN);
	assert_all_fill(buf + UDP_HDR_LEN, 13);		/* payload not copied */
	free(buf);
	free(payload);
}

static void test_udp_truncated(void **state)
{
	struct udp_repr r, orig;
	uint8_t *msg = dup_bytes(UDP_MSG, 7);

	memset(&orig, 0x3c, sizeof(orig));
	memcpy(&r, &orig, sizeof(r));
	assert_int_equal(udp_repr_parse(&r, msg, 7, ADDR_A, ADDR_B), -EBADMSG);
	assert_int_equal(udp_repr_parse(&r, msg, 0, ADDR_A, ADDR_B), -EBADMSG);
	assert_memory_equal(&r, &orig, sizeof(r));
	free(msg);
}

static void test_udp_length_below_header(void **state)
{
	struct udp_repr r;
	uint8_t *msg = dup_bytes(UDP_MSG, UDP_MSG_LEN);

	msg[6] = msg[7] = 0;			/* no checksum: only the length can fail */
	msg[5] = 7;
	assert_int_equal(udp_repr_parse(&r, msg, UDP_MSG_LEN, ADDR_A, ADDR_B), -EBADMSG);
	msg[5] = 0;
	assert_int_equal(udp_repr_parse(&r, msg, UDP_MSG_LEN, ADDR_A, ADDR_B), -EBADMSG);
	msg[5] = 8;				/* empty payload is fine */
	assert_int_equal(udp_repr_parse(&r, msg, UDP_MSG_LEN, ADDR_A, ADDR_B), 0);
	assert_int_equal(r.payload_len, 0);
	free(msg);
}

static void test_udp_length_beyond_buffer(void **state)
{
	struct udp_repr r;
	uint8_t *msg = dup_bytes(UDP_MSG, UDP_MSG_LEN - 1);

	/* Length field 21, 20 bytes given */
	assert_int_equal(udp_repr_parse(&r, msg, UDP_MSG_LEN - 1, ADDR_A, ADDR_B), -EBADMSG);
	free(msg);
	msg = dup_bytes(UDP_MSG, UDP_MSG_LEN);
	msg[4] = 0xff;				/* 0xff15 */
	assert_int_equal(udp_repr_parse(&r, msg, UDP_MSG_LEN, ADDR_A, ADDR_B), -EBADMSG);
	free(msg);
}

/* Bytes after the length field are not payload, and not checksummed */
static void test_udp_payload_trimmed(void **state)
{
	uint8_t buf[UDP_MSG_LEN + 5];
	struct udp_repr r;

	memcpy(buf, UDP_MSG, UDP_MSG_LEN);
	memset(buf + UDP_MSG_LEN, FILL, 5);
	assert_int_equal(udp_repr_parse(&r, buf, sizeof(buf), ADDR_A, ADDR_B), 0);
	assert_int_equal(r.payload_len, 13);
}

static void test_udp_checksum_zero_accepted(void **state)
{
	struct udp_repr r;
	uint8_t *msg = dup_bytes(UDP_MSG, UDP_MSG_LEN);

	msg[6] = msg[7] = 0;
	msg[10] ^= 0xff;			/* would fail any checksum */
	assert_int_equal(udp_repr_parse(&r, msg, UDP_MSG_LEN, ADDR_A, ~ADDR_B), 0);
	assert_int_equal(r.payload_len, 13);
	free(msg);
}

static void test_udp_checksum_wrong(void **state)
{
	struct udp_repr r;
	uint8_t *msg = dup_bytes(UDP_MSG, UDP_MSG_LEN);

	msg[20] ^= 0x01;			/* odd last byte */
	assert_int_equal(udp_repr_parse(&r, msg, UDP_MSG_LEN, ADDR_A, ADDR_B), -EILSEQ);
	msg[20] ^= 0x01;
	/* The pseudo-header counts: another destination, another protocol sum */
	assert_int_equal(udp_repr_parse(&r, msg, UDP_MSG_LEN, ADDR_A, 0xc0000203), -EILSEQ);
	assert_int_equal(udp_repr_parse(&r, msg, UDP_MSG_LEN, 0xc0000209, ADDR_B), -EILSEQ);
	assert_int_equal(udp_repr_parse(&r, msg, UDP_MSG_LEN, ADDR_A, ADDR_B), 0);
	free(msg);
}

/* Payload c1 34 from 192.0.2.1:40000 to 192.0.2.2:7777 sums to 0xffff: sent as 0xffff */
static void test_udp_zero_checksum_sent_as_ffff(void **state)
{
	const uint8_t payload[2] = { 0xc1, 0x34 };
	struct udp_repr r = {
		.src_port = 40000, .dst_port = 7777, .payload = payload, .payload_len = 2,
	}, back;
	uint8_t msg[UDP_HDR_LEN + 2];

	memset(msg, FILL, sizeof(msg));
	udp_repr_emit(&r, msg, ADDR_A, ADDR_B);
	assert_int_equal(msg[6], 0xff);
	assert_int_equal(msg[7], 0xff);
	assert_int_equal(msg[4], 0);
	assert_int_equal(msg[5], 10);
	/* and 0xffff verifies */
	memcpy(msg + UDP_HDR_LEN, payload, 2);
	assert_int_equal(udp_repr_parse(&back, msg, sizeof(msg), ADDR_A, ADDR_B), 0);
	assert_int_equal(back.payload_len, 2);
	/* A different payload does not come out as 0xffff */
	msg[9] = 0x35;
	udp_repr_emit(&(struct udp_repr){ .src_port = 40000, .dst_port = 7777,
					  .payload = msg + 8, .payload_len = 2 },
		      msg, ADDR_A, ADDR_B);
	assert_false(msg[6] == 0xff && msg[7] == 0xff);
	assert_int_equal(udp_repr_parse(&back, msg, sizeof(msg), ADDR_A, ADDR_B), 0);
}

/* Port 0 is the stack's business, not the parser's; empty payload emits fine */
static void test_udp_port_zero_roundtrip(void **state)
{
	struct udp_repr r = { .src_port = 0, .dst_port = 0 }, back;
	uint8_t *msg = filled_buf(UDP_HDR_LEN);

	udp_repr_emit(&r, msg, ADDR_B, ADDR_A);
	assert_int_equal(msg[5], 8);
	assert_int_equal(udp_repr_parse(&back, msg, UDP_HDR_LEN, ADDR_B, ADDR_A), 0);
	assert_int_equal(back.src_port, 0);
	assert_int_equal(back.dst_port, 0);
	assert_int_equal(back.payload_len, 0);
	free(msg);
}

int run_udp_tests(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_udp_deconstruct),
		cmocka_unit_test(test_udp_construct),
		cmocka_unit_test(test_udp_truncated),
		cmocka_unit_test(test_udp_length_below_header),
		cmocka_unit_test(test_udp_length_beyond_buffer),
		cmocka_unit_test(test_udp_payload_trimmed),
		cmocka_unit_test(test_udp_checksum_zero_accepted),
		cmocka_unit_test(test_udp_checksum_wrong),
		cmocka_unit_test(test_udp_zero_checksum_sent_as_ffff),
		cmocka_unit_test(test_udp_port_zero_roundtrip),
	};

	return cmocka_run_group_tests_name("udp", tests, NULL, NULL);
}
