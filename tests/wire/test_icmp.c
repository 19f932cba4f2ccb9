/*
 * test_icmp.c - ICMPv4 parse and emit against captured echo messages, and
 *               the quotes of ICMP errors
 */
#include "wire_test.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fixtures.h"
#include "wire/icmp.h"

/* The ICMP message inside a captured Ethernet + 20-byte IPv4 frame */
#define ICMP(frame) ((frame) + 34)
#define ICMP_LEN(frame) (sizeof(frame) - 34)

static void test_icmp_echo_request_deconstruct(void **state)
{
	struct icmp_repr r;

	assert_int_equal(icmp_repr_parse(&r, ICMP(ping_request_frame), ICMP_LEN(ping_request_frame)), 0);
	assert_int_equal(r.type, TAPIR_ICMP_ECHO_REQUEST);
	assert_int_equal(r.code, 0);
	assert_int_equal(r.rest, 0x2c740001);
	assert_int_equal(icmp_echo_id(&r), 0x2c74);
	assert_int_equal(icmp_echo_seq(&r), 1);
	assert_ptr_equal(r.data, ICMP(ping_request_frame) + 8);
	assert_int_equal(r.data_len, 56);
}

/* Emit writes the 8-byte header only; the checksum covers data kept elsewhere */
static void test_icmp_echo_request_construct(void **state)
{
	uint8_t *data = dup_bytes(ICMP(ping_request_frame) + 8, 56);
	struct icmp_repr r = {
		.type = TAPIR_ICMP_ECHO_REQUEST, .rest = icmp_rest_echo(0x2c74, 1),
		.data = data, .data_len = 56,
	};
	uint8_t *buf = filled_buf(ICMP_HDR_LEN + 56);

	icmp_repr_emit(&r, buf);
	assert_memory_equal(buf, ICMP(ping_request_frame), ICMP_HDR_LEN);
	assert_all_fill(buf + ICMP_HDR_LEN, 56);		/* data not copied */
	free(buf);
	free(data);
}

/* The kernel's answer: same id, seq and data, type 0, checksum 0xaa48 */
static void test_icmp_echo_reply_from_request(void **state)
{
	struct icmp_repr r;
	uint8_t *buf = filled_buf(ICMP_HDR_LEN);

	assert_int_equal(icmp_repr_parse(&r, ICMP(ping_request_frame), ICMP_LEN(ping_request_frame)), 0);
	r.type = TAPIR_ICMP_ECHO_REPLY;
	icmp_repr_emit(&r, buf);
	assert_memory_equal(buf, ICMP(ping_reply_frame), ICMP_HDR_LEN);
	assert_int_equal(buf[2], 0xaa);
	assert_int_equal(buf[3], 0x48);
	free(buf);
}

/* ping -s 7: 15-byte message, the last data byte is a high half-word */
static void test_icmp_odd_length(void **state)
{
	const uint8_t *msg = ICMP(ping_odd_frame);
	struct icmp_repr r;
	uint8_t *buf = filled_buf(ICMP_HDR_LEN);
	uint8_t *bad = dup_bytes(msg, 15);

	assert_int_equal(icmp_repr_parse(&r, msg, 15), 0);
	assert_int_equal(r.data_len, 7);
	assert_int_equal(icmp_echo_id(&r), 0x2c75);
	icmp_repr_emit(&r, buf);
	assert_memory_equal(buf, msg, ICMP_HDR_LEN);		/* checksum 0xbf80 */

	/* The odd last byte is covered by the checksum */
	bad[14] ^= 0x01;
	assert_int_equal(icmp_repr_parse(&r, bad, 15), -EILSEQ);
	free(bad);
	free(buf);
}

static void test_icmp_truncated(void **state)
{
	struct icmp_repr r, orig;
	uint8_t *msg = dup_bytes(ICMP(ping_request_frame), 7);

	memset(&orig, 0x3c, sizeof(orig));
	memcpy(&r, &orig, sizeof(r));
	assert_int_equal(icmp_repr_parse(&r, msg, 7), -EBADMSG);
	assert_int_equal(icmp_repr_parse(&r, msg, 0), -EBADMSG);
	assert_memory_equal(&r, &orig, sizeof(r));
	free(msg);
}

/* Exactly 8 bytes, no data: valid */
static void test_icmp_header_only(void **state)
{
	struct icmp_repr r = { .type = TAPIR_ICMP_ECHO_REQUEST, .rest = icmp_rest_echo(7, 9) };
	uint8_t *buf = filled_buf(ICMP_HDR_LEN);

	icmp_repr_emit(&r, buf);
	memset(&r, 0, sizeof(r));
	assert_int_equal(icmp_repr_parse(&r, buf, ICMP_HDR_LEN), 0);
	assert_int_equal(r.type, TAPIR_ICMP_ECHO_REQUEST);
	assert_int_equal(icmp_echo_id(&r), 7);
	assert_int_equal(icmp_echo_seq(&r), 9);
	assert_int_equal(r.data_len, 0);
	free(buf);
}

static void test_icmp_bad_checksum(void **state)
{
	struct icmp_repr r;
	uint8_t *msg = dup_bytes(ICMP(ping_request_frame), ICMP_LEN(ping_request_frame));

	msg[63] ^= 0x80;				/* last data byte */
	assert_int_equal(icmp_repr_parse(&r, msg, 64), -EILSEQ);
	msg[63] ^= 0x80;
	msg[0] = TAPIR_ICMP_ECHO_REPLY;			/* type, checksum not updated */
	assert_int_equal(icmp_repr_parse(&r, msg, 64), -EILSEQ);
	msg[0] = TAPIR_ICMP_ECHO_REQUEST;
	assert_int_equal(icmp_repr_parse(&r, msg, 64), 0);
	/* Checked over the length given, not a fixed size */
	assert_int_equal(icmp_repr_parse(&r, msg, 63), -EILSEQ);
	free(msg);
}

/* A frag-needed error quoting the captured IPv4 header + 8 bytes; parse(emit) == r */
static void test_icmp_frag_needed_roundtrip(void **state)
{
	const uint8_t *quote = ping_request_frame + 14;
	struct icmp_repr r = {
		.type = TAPIR_ICMP_DEST_UNREACH, .code = TAPIR_ICMP_UNREACH_FRAG_NEEDED,
		.rest = icmp_rest_mtu(1400), .data = quote, .data_len = 28,
	}, back;
	uint8_t msg[ICMP_HDR_LEN + 28];

	icmp_repr_emit(&r, msg);
	assert_int_equal(msg[4], 0);			/* unused */
	assert_int_equal(msg[5], 0);
	assert_int_equal(msg[6], 0x05);			/* 1400 = 0x0578 */
	assert_int_equal(msg[7], 0x78);
	memcpy(msg + ICMP_HDR_LEN, quote, 28);
	assert_int_equal(icmp_repr_parse(&back, msg, sizeof(msg)), 0);
	assert_int_equal(back.type, TAPIR_ICMP_DEST_UNREACH);
	assert_int_equal(back.code, TAPIR_ICMP_UNREACH_FRAG_NEEDED);
	assert_int_equal(icmp_mtu(&back), 1400);
	assert_int_equal(back.data_len, 28);
	assert_memory_equal(back.data, quote, 28);
}

static void test_icmp_helpers(void **state)
{
	struct icmp_repr r = { .rest = icmp_rest_pointer(20) };
	unsigned int t;

	assert_int_equal(icmp_pointer(&r), 20);
	assert_int_equal(r.rest, 0x14000000);
	assert_int_equal(icmp_rest_echo(0xabcd, 0x1234), 0xabcd1234);
	assert_int_equal(icmp_rest_mtu(576), 0x00000240);
	r.rest = 0xfffe0001;
	assert_int_equal(icmp_echo_id(&r), 0xfffe);
	assert_int_equal(icmp_echo_seq(&r), 1);

	for (t = 0; t < 256; t++) {
		bool err = t == 3 || t == 4 || t == 5 || t == 11 || t == 12;

		if (icmp_type_is_error((uint8_t)t) != err)
			fail_msg("icmp_type_is_error(%u) should be %d", t, err);
	}
}

/*
 * A quoted TCP segment as a router quotes it: IP header 192.0.2.2 ->
 * 198.51.100.7, total length 1500, DF, and the first 8 bytes of the TCP
 * header (ports 40000 -> 80, sequence number 0x01020304).
 */
static const uint8_t quote_tcp[] = {
	0x45, 0x00, 0x05, 0xdc, 0x12, 0x34, 0x40, 0x00, 0x40, 0x06, 0x00, 0x00,
	0xc0, 0x00, 0x02, 0x02, 0xc6, 0x33, 0x64, 0x07,
	0x9c, 0x40, 0x00, 0x50, 0x01, 0x02, 0x03, 0x04,
};

static void test_icmp_quote_tcp(void **state)
{
	uint8_t *buf = dup_bytes(quote_tcp, sizeof(quote_tcp));
	struct tapir_icmp_quote q;

	assert_int_equal(icmp_quote_parse(&q, buf, sizeof(quote_tcp)), 0);
	assert_int_equal(q.src, 0xc0000202);
	assert_int_equal(q.dst, 0xc6336407);
	assert_int_equal(q.proto, 6);
	assert_int_equal(q.total_len, 1500);
	assert_int_equal(q.frag_offset, 0);
	assert_true(q.have_ports);
	assert_int_equal(q.src_port, 40000);
	assert_int_equal(q.dst_port, 80);
	assert_true(q.have_seq);
	assert_int_equal(q.tcp_seq, 0x01020304);
	assert_ptr_equal(q.ip_header, buf);
	assert_int_equal(q.ip_header_len, 20);
	assert_ptr_equal(q.l4, buf + 20);
	assert_int_equal(q.l4_len, 8);
	free(buf);
}

/* A quoted UDP datagram whose header carries 8 bytes of options (IHL 7) */
static void test_icmp_quote_options(void **state)
{
	static const uint8_t quote[] = {
		0x47, 0x00, 0x00, 0x3c, 0x00, 0x01, 0x00, 0x00, 0x01, 0x11, 0x00, 0x00,
		0xc0, 0x00, 0x02, 0x02, 0xc6, 0x33, 0x64, 0x07,
		0x07, 0x07, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00,	/* record route, 1 slot */
		0xc3, 0x50, 0x82, 0x9a, 0x00, 0x28, 0x00, 0x00,	/* 50000 -> 33434 */
	};
	uint8_t *buf = dup_bytes(quote, sizeof(quote));
	struct tapir_icmp_quote q;

	assert_int_equal(icmp_quote_parse(&q, buf, sizeof(quote)), 0);
	assert_int_equal(q.proto, 17);
	assert_int_equal(q.ip_header_len, 28);
	assert_ptr_equal(q.l4, buf + 28);
	assert_int_equal(q.l4_len, 8);
	assert_true(q.have_ports);
	assert_int_equal(q.src_port, 50000);
	assert_int_equal(q.dst_port, 33434);
	assert_false(q.have_seq);	/* UDP */
	free(buf);
}

/* Quotes cut short: no header, a header cut inside its options, data cut */
static void test_icmp_quote_truncated(void **state)
{
	uint8_t tmp[sizeof(quote_tcp) + 8];
	struct tapir_icmp_quote q;

	for (size_t len = 0; len < 20; len++) {
		uint8_t *buf = dup_bytes(quote_tcp, len);

		assert_int_equal(icmp_quote_parse(&q, buf, len), -EBADMSG);
		free(buf);
	}
	/* IHL 7 with only 24 bytes quoted */
	memcpy(tmp, quote_tcp, sizeof(quote_tcp));
	tmp[0] = 0x47;
	uint8_t *cut = dup_bytes(tmp, 24);
	assert_int_equal(icmp_quote_parse(&q, cut, 24), -EBADMSG);
	free(cut);
	/* the header alone: no ports */
	uint8_t *hdr = dup_bytes(quote_tcp, 20);
	assert_int_equal(icmp_quote_parse(&q, hdr, 20), 0);
	assert_int_equal(q.l4_len, 0);
	assert_false(q.have_ports);
	assert_false(q.have_seq);
	free(hdr);
	/* ports but not the sequence number */
	uint8_t *four = dup_bytes(quote_tcp, 24);
	assert_int_equal(icmp_quote_parse(&q, four, 24), 0);
	assert_true(q.have_ports);
	assert_int_equal(q.src_port, 40000);
	assert_false(q.have_seq);
	free(four);
}

/* Not an IPv4 header: version 6, IHL below 5 */
static void test_icmp_quote_bad_header(void **state)
{
	uint8_t tmp[sizeof(quote_tcp)];
	struct tapir_icmp_quote q = { .src = 7 };

	memcpy(tmp, quote_tcp, sizeof(tmp));
	tmp[0] = 0x65;
	assert_int_equal(icmp_quote_parse(&q, tmp, sizeof(tmp)), -EBADMSG);
	tmp[0] = 0x44;
	assert_int_equal(icmp_quote_parse(&q, tmp, sizeof(tmp)), -EBADMSG);
	assert_int_equal(q.src, 7);	/* untouched on error */
}

/* A non-first fragment's data does not start with the transport header */
static void test_icmp_quote_fragment(void **state)
{
	uint8_t tmp[sizeof(quote_tcp)];
	struct tapir_icmp_quote q;

	memcpy(tmp, quote_tcp, sizeof(tmp));
	tmp[6] = 0x00;
	tmp[7] = 0xb9;	/* offset 185 * 8 = 1480 */
	assert_int_equal(icmp_quote_parse(&q, tmp, sizeof(tmp)), 0);
	assert_int_equal(q.frag_offset, 1480);
	assert_false(q.have_ports);
	assert_false(q.have_seq);
	assert_int_equal(q.src_port, 0);
	assert_int_equal(q.l4_len, 8);
	/* the first fragment (MF set, offset 0) has them */
	tmp[6] = 0x20;
	tmp[7] = 0x00;
	assert_int_equal(icmp_quote_parse(&q, tmp, sizeof(tmp)), 0);
	assert_true(q.have_ports);
	assert_true(q.have_seq);
}

int run_icmp_tests(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_icmp_echo_request_deconstruct),
		cmocka_unit_test(test_icmp_echo_request_construct),
		cmocka_unit_test(test_icmp_echo_reply_from_request),
		cmocka_unit_test(test_icmp_odd_length),
		cmocka_unit_test(test_icmp_truncated),
		cmocka_unit_test(test_icmp_header_only),
		cmocka_unit_test(test_icmp_bad_checksum),
		cmocka_unit_test(test_icmp_frag_needed_roundtrip),
		cmocka_unit_test(test_icmp_helpers),
		cmocka_unit_test(test_icmp_quote_tcp),
		cmocka_unit_test(test_icmp_quote_options),
		cmocka_unit_test(test_icmp_quote_truncated),
		cmocka_unit_test(test_icmp_quote_bad_header),
		cmocka_unit_test(test_icmp_quote_fragment),
	};

	return cmocka_run_group_tests_name("icmp", tests, NULL, NULL);
}
