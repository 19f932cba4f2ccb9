/*
 * test_ipv4.c - IPv4 view, options and repr against captured datagrams
 */
#include "wire_test.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fixtures.h"
#include "wire/checksum.h"
#include "wire/ipv4.h"

/* The IPv4 datagram inside a captured Ethernet frame */
#define IP(frame) ((frame) + 14)
#define IP_LEN(frame) (sizeof(frame) - 14)

/* Check @len bytes copied to the heap, so ASan sees any read past them */
static int check_copy(struct ipv4_view *v, uint8_t **copy, const uint8_t *p, size_t len)
{
	*copy = dup_bytes(p, len);
	return ipv4_view_check(v, *copy, len);
}

static void test_ipv4_deconstruct(void **state)
{
	struct ipv4_view v;
	const uint8_t *ip = IP(ping_request_frame);

	assert_int_equal(ipv4_view_check(&v, ip, IP_LEN(ping_request_frame)), 0);
	assert_ptr_equal(v.buf, ip);
	assert_int_equal(v.len, 84);
	assert_int_equal(ipv4_version(&v), 4);
	assert_int_equal(ipv4_header_len(&v), 20);
	assert_int_equal(ipv4_tos(&v), 0);
	assert_int_equal(ipv4_total_len(&v), 84);
	assert_int_equal(ipv4_id(&v), 0x8122);
	assert_true(ipv4_df(&v));
	assert_false(ipv4_mf(&v));
	assert_int_equal(ipv4_frag_offset(&v), 0);
	assert_int_equal(ipv4_ttl(&v), 64);
	assert_int_equal(ipv4_proto(&v), IPV4_PROTO_ICMP);
	assert_int_equal(ipv4_checksum_field(&v), 0x3583);
	assert_int_equal(ipv4_src(&v), ADDR_A);
	assert_int_equal(ipv4_dst(&v), ADDR_B);
	assert_int_equal(ipv4_options_len(&v), 0);
	assert_ptr_equal(ipv4_payload(&v), ip + 20);
	assert_int_equal(ipv4_payload_len(&v), 64);
	assert_true(ipv4_checksum_ok(&v));
}

static void test_ipv4_repr_parse(void **state)
{
	struct ipv4_view v;
	struct ipv4_repr r;

	assert_int_equal(ipv4_view_check(&v, IP(ping_reply_frame), IP_LEN(ping_reply_frame)), 0);
	assert_int_equal(ipv4_repr_parse(&r, &v), 0);
	assert_int_equal(r.src, ADDR_B);
	assert_int_equal(r.dst, ADDR_A);
	assert_int_equal(r.proto, IPV4_PROTO_ICMP);
	assert_int_equal(r.ttl, 64);
	assert_int_equal(r.tos, 0);
	assert_int_equal(r.id, 0x49ae);
	assert_false(r.df);
	assert_false(r.mf);
	assert_int_equal(r.frag_offset, 0);
	assert_null(r.options);
	assert_int_equal(r.options_len, 0);
	assert_int_equal(r.payload_len, 64);
}

static void test_ipv4_construct(void **state)
{
	struct ipv4_repr r = {
		.src = ADDR_A, .dst = ADDR_B, .proto = IPV4_PROTO_ICMP, .ttl = 64, .tos = 0,
		.id = 0x8122, .df = true, .payload_len = 64,
	};
	uint8_t *buf = filled_buf(IPV4_HDR_LEN + 4);

	assert_int_equal(ipv4_repr_header_len(&r), IPV4_HDR_LEN);
	ipv4_repr_emit(&r, buf);
	assert_memory_equal(buf, IP(ping_request_frame), IPV4_HDR_LEN);
	assert_all_fill(buf + IPV4_HDR_LEN, 4);
	free(buf);
}

/* Record Route as Linux ping -R sends it: NOP, then RR length 39 pointer 8 */
static void test_ipv4_record_route_deconstruct(void **state)
{
	const uint8_t *ip = IP(ping_rr_frame);
	struct ipv4_options_info info;
	struct ipv4_view v;
	struct ipv4_repr r;

	assert_int_equal(ipv4_view_check(&v, ip, IP_LEN(ping_rr_frame)), 0);
	assert_int_equal(ipv4_header_len(&v), 60);
	assert_int_equal(ipv4_options_len(&v), 40);
	assert_ptr_equal(ipv4_options(&v), ip + 20);
	assert_int_equal(ipv4_payload_len(&v), 64);
	assert_true(ipv4_checksum_ok(&v));

	memset(&info, 0xff, sizeof(info));
	assert_int_equal(ipv4_options_parse(ipv4_options(&v), ipv4_options_len(&v), &info), 0);
	assert_true(info.record_route);
	assert_false(info.source_route);
	assert_false(info.timestamp);
	assert_false(info.router_alert);

	assert_int_equal(ipv4_repr_parse(&r, &v), 0);
	assert_ptr_equal(r.options, ip + 20);
	assert_int_equal(r.options_len, 40);
	assert_int_equal(r.payload_len, 64);
	assert_true(r.df);
}

static void test_ipv4_record_route_construct(void **state)
{
	const uint8_t *ip = IP(ping_rr_frame);
	struct ipv4_repr r = {
		.src = ADDR_A, .dst = ADDR_B, .proto = IPV4_PROTO_ICMP, .ttl = 64,
		.id = 0x8124, .df = true, .options = ip + 20, .options_len = 40,
		.payload_len = 64,
	};
	uint8_t *buf = filled_buf(IPV4_MAX_HDR_LEN + 4);

	assert_int_equal(ipv4_repr_header_len(&r), 60);
	ipv4_repr_emit(&r, buf);
	assert_memory_equal(buf, ip, 60);
	assert_all_fill(buf + 60, 4);
	free(buf);
}

/* The kernel's reply: RR filled with three addresses, then EOL; parse and re-emit */
static void test_ipv4_record_route_reply_roundtrip(void **state)
{
	const uint8_t *ip = IP(ping_rr_reply_frame);
	struct ipv4_options_info info;
	struct ipv4_view v;
	struct ipv4_repr r;
	uint8_t *buf = filled_buf(IPV4_MAX_HDR_LEN + 4);

	assert_int_equal(ipv4_view_check(&v, ip, IP_LEN(ping_rr_reply_frame)), 0);
	assert_int_equal(ipv4_options_parse(ipv4_options(&v), ipv4_options_len(&v), &info), 0);
	assert_true(info.record_route);
	assert_int_equal(ipv4_options(&v)[39], IPV4_OPT_EOL);
	assert_int_equal(ipv4_repr_parse(&r, &v), 0);
	assert_int_equal(ipv4_repr_header_len(&r), 60);
	ipv4_repr_emit(&r, buf);
	assert_memory_equal(buf, ip, 60);
	assert_all_fill(buf + 60, 4);
	free(buf);
}

static void test_ipv4_timestamp(void **state)
{
	struct ipv4_options_info info;
	struct ipv4_view v;
	struct ipv4_repr r;

	assert_int_equal(ipv4_view_check(&v, IP(ping_ts_frame), IP_LEN(ping_ts_frame)), 0);
	assert_int_equal(ipv4_options_parse(ipv4_options(&v), ipv4_options_len(&v), &info), 0);
	assert_true(info.timestamp);
	assert_false(info.record_route);
	assert_int_equal(ipv4_repr_parse(&r, &v), 0);
	assert_int_equal(r.options_len, 40);
}

/* Emit pads options to a multiple of 4 with EOL, and the result parses back */
static void test_ipv4_options_padding(void **state)
{
	static const struct {
		uint8_t opt[8];
		size_t len;
		size_t hlen;
	} cases[] = {
		{ { IPV4_OPT_NOP }, 1, 24 },
		{ { IPV4_OPT_RR, 3, 4 }, 3, 24 },
		{ { IPV4_OPT_RA, 4, 0, 0 }, 4, 24 },
		{ { IPV4_OPT_NOP, IPV4_OPT_RA, 4, 0, 0 }, 5, 28 },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ipv4_repr r = {
			.src = ADDR_A, .dst = 0xe0000016, .proto = 2, .ttl = 1, .tos = 0xc0,
			.options = cases[i].opt, .options_len = cases[i].len, .payload_len = 8,
		}, back;
		uint8_t *buf = filled_buf(IPV4_MAX_HDR_LEN + 8);
		struct ipv4_view v;
		size_t j;

		assert_int_equal(ipv4_repr_header_len(&r), cases[i].hlen);
		ipv4_repr_emit(&r, buf);
		assert_all_fill(buf + cases[i].hlen, IPV4_MAX_HDR_LEN + 8 - cases[i].hlen);
		assert_int_equal(buf[0], 0x40 | cases[i].hlen / 4);
		assert_memory_equal(buf + 20, cases[i].opt, cases[i].len);
		for (j = 20 + cases[i].len; j < cases[i].hlen; j++)
			assert_int_equal(buf[j], IPV4_OPT_EOL);
		assert_int_equal(ipv4_view_check(&v, buf, cases[i].hlen + 8), 0);
		assert_int_equal(ipv4_total_len(&v), cases[i].hlen + 8);
		assert_int_equal(ipv4_repr_parse(&back, &v), 0);
		assert_int_equal(back.options_len, cases[i].hlen - 20);
		assert_int_equal(back.tos, 0xc0);
		assert_int_equal(back.dst, 0xe0000016);
		free(buf);
	}
}

/* Fragment fields: offset in bytes, MF, reserved bit ignored; parse(emit(r)) == r */
static void test_ipv4_fragment_fields(void **state)
{
	struct ipv4_repr r = {
		.src = ADDR_B, .dst = ADDR_A, .proto = IPV4_PROTO_UDP, .ttl = 255, .tos = 0x10,
		.id = 0xbeef, .mf = true, .frag_offset = 1480, .payload_len = 1480,
	}, back;
	uint8_t *buf = filled_buf(IPV4_HDR_LEN + 1480);
	struct ipv4_view v;

	ipv4_repr_emit(&r, buf);
	assert_int_equal(buf[6], 0x20);			/* MF, offset 185 = 0x0b9 */
	assert_int_equal(buf[7], 0xb9);
	assert_int_equal(buf[2], 0x05);			/* total length 1500 = 0x05dc */
	assert_int_equal(buf[3], 0xdc);
	assert_int_equal(ipv4_view_check(&v, buf, IPV4_HDR_LEN + 1480), 0);
	assert_true(ipv4_mf(&v));
	assert_false(ipv4_df(&v));
	assert_int_equal(ipv4_frag_offset(&v), 1480);
	assert_int_equal(ipv4_repr_parse(&back, &v), 0);
	assert_int_equal(back.src, r.src);
	assert_int_equal(back.dst, r.dst);
	assert_int_equal(back.proto, r.proto);
	assert_int_equal(back.ttl, r.ttl);
	assert_int_equal(back.tos, r.tos);
	assert_int_equal(back.id, r.id);
	assert_int_equal(back.df, r.df);
	assert_int_equal(back.mf, r.mf);
	assert_int_equal(back.frag_offset, r.frag_offset);
	assert_int_equal(back.payload_len, r.payload_len);

	/* Largest offset, DF and MF both */
	r.frag_offset = IPV4_OFFSET_MASK * 8;
	r.df = true;
	ipv4_repr_emit(&r, buf);
	assert_int_equal(buf[6], 0x7f);
	assert_int_equal(buf[7], 0xff);
	assert_int_equal(ipv4_view_check(&v, buf, IPV4_HDR_LEN + 1480), 0);
	assert_int_equal(ipv4_frag_offset(&v), 65528);

	/* The reserved ("evil") bit neither breaks parsing nor leaks into DF/MF */
	buf[6] = 0x80;
	buf[7] = 0x00;
	buf[10] = buf[11] = 0;
	{
		uint16_t c = inet_csum(buf, IPV4_HDR_LEN);

		buf[10] = (uint8_t)(c >> 8);
		buf[11] = (uint8_t)c;
	}
	assert_int_equal(ipv4_view_check(&v, buf, IPV4_HDR_LEN + 1480), 0);
	assert_int_equal(ipv4_repr_parse(&back, &v), 0);
	assert_false(back.df);
	assert_false(back.mf);
	assert_int_equal(back.frag_offset, 0);
	free(buf);
}

static uint32_t xorshift32(uint32_t x)
{
	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	return x;
}

/*
 * Property, as the fuzzers check it: a header that parses is re-emitted byte
 * for byte (reserved flag aside).  Random byte changes to the captured RR and
 * TS headers, checksum fixed up so the options are what gets judged.
 */
static void test_ipv4_parse_emit_property(void **state)
{
	const uint8_t *seeds[] = { IP(ping_rr_frame), IP(ping_ts_frame), IP(ping_rr_reply_frame) };
	uint32_t x = 2463534242u;
	unsigned int iter, parsed = 0, refused = 0;

	for (iter = 0; iter < 20000; iter++) {
		uint8_t *ip = dup_bytes(seeds[iter % 3], 124), *out = filled_buf(IPV4_MAX_HDR_LEN);
		unsigned int n, k;
		struct ipv4_view v;
		struct ipv4_repr r;
		uint16_t c;

		x = xorshift32(x);
		n = 1 + x % 3;
		for (k = 0; k < n; k++) {
			x = xorshift32(x);
			/* Mostly the options, sometimes the fixed header (but not byte 0) */
			ip[(x & 7) ? 20 + (x >> 8) % 40 : 1 + (x >> 8) % 19] = (uint8_t)(x >> 16);
		}
		ip[6] &= 0x7f;				/* reserved bit is not re-emitted */
		ip[10] = ip[11] = 0;
		c = inet_csum(ip, 60);
		ip[10] = (uint8_t)(c >> 8);
		ip[11] = (uint8_t)c;
		if (ipv4_view_check(&v, ip, 124) == 0 && ipv4_repr_parse(&r, &v) == 0) {
			assert_int_equal(ipv4_repr_header_len(&r), 60);
			ipv4_repr_emit(&r, out);
			assert_memory_equal(out, ip, 60);
			parsed++;
		} else {
			refused++;
		}
		free(out);
		free(ip);
	}
	/* Both sides were exercised */
	assert_true(parsed > 1000);
	assert_true(refused > 1000);
}

static void test_ipv4_truncated(void **state)
{
	struct ipv4_view v = { .buf = NULL, .len = 777 };
	uint8_t *ip;

	assert_int_equal(check_copy(&v, &ip, IP(ping_request_frame), 19), -IPV4_BAD_TRUNCATED);
	free(ip);
	assert_int_equal(check_copy(&v, &ip, IP(ping_request_frame), 0), -IPV4_BAD_TRUNCATED);
	free(ip);
	/* Length is checked before the version */
	assert_int_equal(check_copy(&v, &ip, IP(ping_request_frame), 19), -IPV4_BAD_TRUNCATED);
	ip[0] = 0x65;
	assert_int_equal(ipv4_view_check(&v, ip, 19), -IPV4_BAD_TRUNCATED);
	free(ip);
	assert_null(v.buf);			/* untouched on error */
	assert_int_equal(v.len, 777);
}

static void test_ipv4_bad_version(void **state)
{
	struct ipv4_view v;
	uint8_t *ip = dup_bytes(IP(ping_request_frame), IP_LEN(ping_request_frame));

	ip[0] = 0x65;
	assert_int_equal(ipv4_view_check(&v, ip, IP_LEN(ping_request_frame)), -IPV4_BAD_VERSION);
	ip[0] = 0x05;
	assert_int_equal(ipv4_view_check(&v, ip, IP_LEN(ping_request_frame)), -IPV4_BAD_VERSION);
	/* Version before IHL */
	ip[0] = 0x64;
	assert_int_equal(ipv4_view_check(&v, ip, IP_LEN(ping_request_frame)), -IPV4_BAD_VERSION);
	free(ip);
}

static void test_ipv4_bad_ihl(void **state)
{
	struct ipv4_view v;
	uint8_t *ip = dup_bytes(IP(ping_request_frame), IP_LEN(ping_request_frame));
	uint8_t ihl;

	for (ihl = 0; ihl < 5; ihl++) {
		ip[0] = (uint8_t)(0x40 | ihl);
		assert_int_equal(ipv4_view_check(&v, ip, IP_LEN(ping_request_frame)), -IPV4_BAD_IHL);
	}
	ip[0] = 0x45;
	assert_int_equal(ipv4_view_check(&v, ip, IP_LEN(ping_request_frame)), 0);
	free(ip);
}

/* IHL * 4 beyond the buffer is truncation, and is checked before the total length */
static void test_ipv4_ihl_beyond_buffer(void **state)
{
	struct ipv4_view v;
	uint8_t *ip;

	/* The RR header is 60 bytes: give 40 */
	assert_int_equal(check_copy(&v, &ip, IP(ping_rr_frame), 40), -IPV4_BAD_TRUNCATED);
	/* Even with a total length < IHL * 4 that would be TOTAL_LEN otherwise */
	ip[2] = 0;
	ip[3] = 30;
	assert_int_equal(ipv4_view_check(&v, ip, 40), -IPV4_BAD_TRUNCATED);
	free(ip);
	/* One byte short of the header */
	assert_int_equal(check_copy(&v, &ip, IP(ping_rr_frame), 59), -IPV4_BAD_TRUNCATED);
	free(ip);
}

static void test_ipv4_total_len_below_header(void **state)
{
	struct ipv4_view v;
	uint8_t *ip = dup_bytes(IP(ping_rr_frame), IP_LEN(ping_rr_frame));

	ip[2] = 0;
	ip[3] = 59;
	assert_int_equal(ipv4_view_check(&v, ip, IP_LEN(ping_rr_frame)), -IPV4_BAD_TOTAL_LEN);
	ip[3] = 0;
	assert_int_equal(ipv4_view_check(&v, ip, IP_LEN(ping_rr_frame)), -IPV4_BAD_TOTAL_LEN);
	/* Exactly the header: valid, empty payload */
	ip[3] = 60;
	assert_int_equal(ipv4_view_check(&v, ip, IP_LEN(ping_rr_frame)), 0);
	assert_int_equal(ipv4_payload_len(&v), 0);
	free(ip);
}

static void test_ipv4_total_len_beyond_buffer(void **state)
{
	struct ipv4_view v;
	uint8_t *ip;

	assert_int_equal(check_copy(&v, &ip, IP(ping_request_frame), 83), -IPV4_BAD_TRUNCATED);
	free(ip);
	assert_int_equal(check_copy(&v, &ip, IP(ping_request_frame), 20), -IPV4_BAD_TRUNCATED);
	free(ip);
}

/* A 49-byte frame goes out padded to 60: the view ends at the total length */
static void test_ipv4_padding_trimmed(void **state)
{
	uint8_t frame[60];
	struct ipv4_view v;

	memcpy(frame, ping_odd_frame, sizeof(ping_odd_frame));
	memset(frame + sizeof(ping_odd_frame), FILL, sizeof(frame) - sizeof(ping_odd_frame));
	assert_int_equal(ipv4_view_check(&v, frame + 14, sizeof(frame) - 14), 0);
	assert_int_equal(v.len, 35);
	assert_int_equal(ipv4_payload_len(&v), 15);
	assert_ptr_equal(ipv4_payload(&v), frame + 34);
}

static void test_ipv4_bad_checksum(void **state)
{
	struct ipv4_view v;
	struct ipv4_repr r;
	uint8_t *ip = dup_bytes(IP(ping_rr_frame), IP_LEN(ping_rr_frame));

	/* The checksum field itself */
	ip[11] ^= 0x01;
	assert_int_equal(ipv4_view_check(&v, ip, IP_LEN(ping_rr_frame)), 0);
	assert_false(ipv4_checksum_ok(&v));
	assert_int_equal(ipv4_repr_parse(&r, &v), -IPV4_BAD_CHECKSUM);
	ip[11] ^= 0x01;
	assert_int_equal(ipv4_repr_parse(&r, &v), 0);
	/* A byte of the options: the checksum covers them */
	ip[59] ^= 0x40;
	assert_false(ipv4_checksum_ok(&v));
	assert_int_equal(ipv4_repr_parse(&r, &v), -IPV4_BAD_CHECKSUM);
	ip[59] ^= 0x40;
	/* A byte of the payload: it does not */
	ip[100] ^= 0xff;
	assert_true(ipv4_checksum_ok(&v));
	free(ip);
}

/* Run ipv4_options_parse() on an exact-size heap copy */
static int opts(const uint8_t *o, size_t len, struct ipv4_options_info *info)
{
	uint8_t *copy = dup_bytes(o, len);
	int ret = ipv4_options_parse(copy, len, info);

	free(copy);
	return ret;
}

#define OPTS(info, ...) opts((const uint8_t[]){ __VA_ARGS__ }, \
			     sizeof((const uint8_t[]){ __VA_ARGS__ }), info)

static void test_ipv4_options_bad_length(void **state)
{
	/* Length 0 and 1, known and unknown options */
	assert_int_equal(OPTS(NULL, IPV4_OPT_RR, 0, 4, 0), -IPV4_BAD_OPTIONS);
	assert_int_equal(OPTS(NULL, 0x99, 0, 0, 0), -IPV4_BAD_OPTIONS);
	assert_int_equal(OPTS(NULL, IPV4_OPT_RR, 1, 4, 0), -IPV4_BAD_OPTIONS);
	assert_int_equal(OPTS(NULL, 0x88, 1, 0, 0), -IPV4_BAD_OPTIONS);
	assert_int_equal(OPTS(NULL, IPV4_OPT_NOP, IPV4_OPT_NOP, 0x99, 1), -IPV4_BAD_OPTIONS);
}

static void test_ipv4_options_past_end(void **state)
{
	/* Length one past the end */
	assert_int_equal(OPTS(NULL, IPV4_OPT_RR, 8, 4, 0, 0, 0, 0), -IPV4_BAD_OPTIONS);
	assert_int_equal(OPTS(NULL, 0x82, 5, 0, 0), -IPV4_BAD_OPTIONS);
	/* Exactly to the end is fine */
	assert_int_equal(OPTS(NULL, 0x82, 4, 0, 0), 0);
	/* A type byte with no room for its length */
	assert_int_equal(OPTS(NULL, IPV4_OPT_NOP, IPV4_OPT_NOP, IPV4_OPT_NOP, IPV4_OPT_RR),
			 -IPV4_BAD_OPTIONS);
	assert_int_equal(OPTS(NULL, 0x99), -IPV4_BAD_OPTIONS);
	/* Second option overruns after a good first one */
	assert_int_equal(OPTS(NULL, IPV4_OPT_RA, 4, 0, 0, 0x99, 4, 0), -IPV4_BAD_OPTIONS);
	/* The NOP + RR (length 39) options from Linux, cut short by one byte */
	assert_int_equal(opts(IP(ping_rr_frame) + 20, 40, NULL), 0);
	assert_int_equal(opts(IP(ping_rr_frame) + 20, 39, NULL), -IPV4_BAD_OPTIONS);
}

static void test_ipv4_options_eol_stops(void **state)
{
	struct ipv4_options_info info;

	/* Garbage after EOL is never looked at */
	memset(&info, 0xff, sizeof(info));
	assert_int_equal(OPTS(&info, IPV4_OPT_EOL, IPV4_OPT_RR, 0, 0), 0);
	assert_false(info.record_route);
	assert_false(info.source_route);
	assert_false(info.timestamp);
	assert_false(info.router_alert);
	assert_int_equal(OPTS(&info, IPV4_OPT_NOP, IPV4_OPT_EOL, 0xff, 0xff), 0);
	assert_int_equal(OPTS(&info, IPV4_OPT_RA, 4, 0, 0, IPV4_OPT_EOL, 0x99, 0, 0), 0);
	assert_true(info.router_alert);
	/* Empty options and all-NOP are fine */
	assert_int_equal(opts(NULL, 0, &info), 0);
	assert_false(info.router_alert);	/* zeroed */
	assert_int_equal(OPTS(&info, IPV4_OPT_NOP, IPV4_OPT_NOP, IPV4_OPT_NOP, IPV4_OPT_NOP), 0);
}

static void test_ipv4_options_route_pointer(void **state)
{
	struct ipv4_options_info info;

	/* RR: length >= 3, pointer >= 4 */
	assert_int_equal(OPTS(NULL, IPV4_OPT_RR, 7, 3, 0, 0, 0, 0, 0), -IPV4_BAD_OPTIONS);
	assert_int_equal(OPTS(NULL, IPV4_OPT_RR, 7, 0, 0, 0, 0, 0, 0), -IPV4_BAD_OPTIONS);
	/* Length 2: no pointer byte, whatever follows (here a valid option) */
	assert_int_equal(OPTS(NULL, IPV4_OPT_RR, 2, 0x1e, 2), -IPV4_BAD_OPTIONS);
	assert_int_equal(OPTS(NULL, IPV4_OPT_NOP, IPV4_OPT_NOP, IPV4_OPT_RR, 2), -IPV4_BAD_OPTIONS);
	assert_int_equal(OPTS(&info, IPV4_OPT_RR, 7, 4, 0, 0, 0, 0, 0), 0);
	assert_true(info.record_route);
	assert_int_equal(OPTS(&info, IPV4_OPT_RR, 3, 4, IPV4_OPT_EOL), 0);
	assert_true(info.record_route);
	/* LSRR and SSRR: same rule, and they are source routes */
	assert_int_equal(OPTS(NULL, IPV4_OPT_LSRR, 7, 3, 0, 0, 0, 0, 0), -IPV4_BAD_OPTIONS);
	assert_int_equal(OPTS(NULL, IPV4_OPT_SSRR, 7, 3, 0, 0, 0, 0, 0), -IPV4_BAD_OPTIONS);
	assert_int_equal(OPTS(NULL, IPV4_OPT_SSRR, 2, 0x1e, 2), -IPV4_BAD_OPTIONS);
	assert_int_equal(OPTS(NULL, IPV4_OPT_LSRR, 2, 0x1e, 2), -IPV4_BAD_OPTIONS);
	assert_int_equal(OPTS(&info, IPV4_OPT_LSRR, 7, 4, 192, 0, 2, 2, 0), 0);
	assert_true(info.source_route);
	assert_false(info.record_route);
	assert_int_equal(OPTS(&info, IPV4_OPT_SSRR, 7, 8, 192, 0, 2, 2, 0), 0);
	assert_true(info.source_route);
}

static void test_ipv4_options_timestamp_and_ra(void **state)
{
	struct ipv4_options_info info;

	/* TS: length >= 4, pointer >= 5 */
	assert_int_equal(OPTS(NULL, IPV4_OPT_TS, 3, 5, 0), -IPV4_BAD_OPTIONS);
	assert_int_equal(OPTS(NULL, IPV4_OPT_TS, 3, 5, IPV4_OPT_NOP), -IPV4_BAD_OPTIONS);
	assert_int_equal(OPTS(NULL, IPV4_OPT_TS, 4, 4, 0), -IPV4_BAD_OPTIONS);
	assert_int_equal(OPTS(NULL, IPV4_OPT_TS, 8, 1, 0, 0, 0, 0, 0), -IPV4_BAD_OPTIONS);
	assert_int_equal(OPTS(&info, IPV4_OPT_TS, 4, 5, 0), 0);
	assert_true(info.timestamp);
	/* RA: length exactly 4 */
	assert_int_equal(OPTS(NULL, IPV4_OPT_RA, 3, 0, 0), -IPV4_BAD_OPTIONS);
	assert_int_equal(OPTS(NULL, IPV4_OPT_RA, 5, 0, 0, 0, 0, 0, 0), -IPV4_BAD_OPTIONS);
	assert_int_equal(OPTS(NULL, IPV4_OPT_RA, 2, 0, 0), -IPV4_BAD_OPTIONS);
	assert_int_equal(OPTS(&info, IPV4_OPT_RA, 4, 0, 0), 0);
	assert_true(info.router_alert);
	assert_false(info.timestamp);
}

static void test_ipv4_options_unknown_accepted(void **state)
{
	struct ipv4_options_info info;

	/* Security (130, length 11), an experimental type with length 2, stream id (136) */
	memset(&info, 0xff, sizeof(info));
	assert_int_equal(OPTS(&info, 130, 11, 0, 0, 0, 0, 0, 0, 0, 0, 0,
			      0x1e, 2, 136, 4, 0x12, 0x34), 0);
	assert_false(info.record_route);
	assert_false(info.source_route);
	assert_false(info.timestamp);
	assert_false(info.router_alert);
	/* Followed by a known one, which is still seen */
	assert_int_equal(OPTS(&info, 0x1e, 2, IPV4_OPT_RR, 3, 4, IPV4_OPT_EOL), 0);
	assert_true(info.record_route);
}

/* repr_parse refuses bad options in a header whose checksum is good; checksum first */
static void test_ipv4_repr_parse_bad_options(void **state)
{
	const uint8_t bad_opt[4] = { IPV4_OPT_RA, 3, 0, 0 };
	struct ipv4_repr r = {
		.src = ADDR_A, .dst = ADDR_B, .proto = IPV4_PROTO_UDP, .ttl = 64,
		.options = bad_opt, .options_len = sizeof(bad_opt),
	}, back, orig;
	uint8_t buf[24];
	struct ipv4_view v;

	ipv4_repr_emit(&r, buf);
	assert_int_equal(ipv4_view_check(&v, buf, sizeof(buf)), 0);
	assert_true(ipv4_checksum_ok(&v));
	memset(&orig, 0x3c, sizeof(orig));
	memcpy(&back, &orig, sizeof(back));
	assert_int_equal(ipv4_repr_parse(&back, &v), -IPV4_BAD_OPTIONS);
	assert_memory_equal(&back, &orig, sizeof(back));	/* untouched */
	buf[10] ^= 0x80;
	assert_int_equal(ipv4_repr_parse(&back, &v), -IPV4_BAD_CHECKSUM);
}

static void test_ipv4_addr_classes(void **state)
{
	assert_true(ipv4_addr_is_multicast(0xe0000001));	/* 224.0.0.1 */
	assert_true(ipv4_addr_is_multicast(0xefffffff));	/* 239.255.255.255 */
	assert_false(ipv4_addr_is_multicast(0xdfffffff));
	assert_false(ipv4_addr_is_multicast(0xf0000000));
	assert_false(ipv4_addr_is_multicast(IPV4_ADDR_BROADCAST));

	assert_true(ipv4_addr_is_loopback(0x7f000001));
	assert_true(ipv4_addr_is_loopback(0x7fffffff));
	assert_false(ipv4_addr_is_loopback(0x80000000));
	assert_false(ipv4_addr_is_loopback(0x7effffff));

	assert_true(ipv4_addr_is_reserved(0xf0000000));		/* 240.0.0.0 */
	assert_true(ipv4_addr_is_reserved(0xfffffffe));
	assert_false(ipv4_addr_is_reserved(IPV4_ADDR_BROADCAST));
	assert_false(ipv4_addr_is_reserved(0xefffffff));
	assert_false(ipv4_addr_is_reserved(ADDR_A));

	assert_true(ipv4_addr_is_unspecified(0));
	assert_false(ipv4_addr_is_unspecified(1));
}

static void test_ipv4_strerror(void **state)
{
	assert_string_equal(ipv4_bad_strerror(-IPV4_BAD_CHECKSUM), "bad header checksum");
	assert_string_equal(ipv4_bad_strerror(IPV4_BAD_OPTIONS), "bad options");
	assert_string_equal(ipv4_bad_strerror(-IPV4_BAD_TRUNCATED), "truncated");
	assert_string_equal(ipv4_bad_strerror(-99), "unknown");
	assert_string_equal(ipv4_bad_strerror(IPV4_BAD_MAX + 1), "unknown");
}

/* The one text form of addresses: dotted quads, strict */
static void test_ipv4_addr_parse_format(void **state)
{
	static const char *const bad[] = { "", "1.2.3", "1.2.3.4.5", "256.1.1.1", "01.2.3.4",
					   "1.2.3.00", "1..2.3", "1.2.3.4 ", " 1.2.3.4", "a.b.c.d",
					   "1.2.3.0004", "1.2.3.-4", "1.2.3.4/24", "0x1.2.3.4" };
	char buf[IPV4_ADDR_STRLEN];
	uint32_t a = 0;

	assert_int_equal(tapir_ipv4_addr_parse("192.0.2.2", &a), 0);
	assert_int_equal(a, 0xc0000202);
	assert_int_equal(tapir_ipv4_addr_parse("0.0.0.0", &a), 0);
	assert_int_equal(a, 0);
	assert_int_equal(tapir_ipv4_addr_parse("255.255.255.255", &a), 0);
	assert_int_equal(a, 0xffffffff);
	assert_int_equal(tapir_ipv4_addr_parse("10.0.100.1", &a), 0);
	assert_int_equal(a, 0x0a006401);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		a = 7;
		assert_int_equal(tapir_ipv4_addr_parse(bad[i], &a), -EINVAL);
		assert_int_equal(a, 7);	/* untouched */
	}
	assert_int_equal(tapir_ipv4_addr_parse(NULL, &a), -EINVAL);
	memset(buf, FILL, sizeof(buf));
	assert_ptr_equal(tapir_ipv4_addr_format(0xffffffff, buf), buf);
	assert_string_equal(buf, "255.255.255.255");
	assert_string_equal(tapir_ipv4_addr_format(0xc0000202, buf), "192.0.2.2");
	assert_string_equal(tapir_ipv4_addr_format(0, buf), "0.0.0.0");
	/* format then parse gives the address back */
	for (uint32_t x = 1; x < 0xff000000u; x = x * 3 + 0x01010101u) {
		assert_int_equal(tapir_ipv4_addr_parse(tapir_ipv4_addr_format(x, buf), &a), 0);
		assert_int_equal(a, x);
	}
}

int run_ipv4_tests(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ipv4_deconstruct),
		cmocka_unit_test(test_ipv4_repr_parse),
		cmocka_unit_test(test_ipv4_construct),
		cmocka_unit_test(test_ipv4_record_route_deconstruct),
		cmocka_unit_test(test_ipv4_record_route_construct),
		cmocka_unit_test(test_ipv4_record_route_reply_roundtrip),
		cmocka_unit_test(test_ipv4_timestamp),
		cmocka_unit_test(test_ipv4_options_padding),
		cmocka_unit_test(test_ipv4_fragment_fields),
		cmocka_unit_test(test_ipv4_parse_emit_property),
		cmocka_unit_test(test_ipv4_truncated),
		cmocka_unit_test(test_ipv4_bad_version),
		cmocka_unit_test(test_ipv4_bad_ihl),
		cmocka_unit_test(test_ipv4_ihl_beyond_buffer),
		cmocka_unit_test(test_ipv4_total_len_below_header),
		cmocka_unit_test(test_ipv4_total_len_beyond_buffer),
		cmocka_unit_test(test_ipv4_padding_trimmed),
		cmocka_unit_test(test_ipv4_bad_checksum),
		cmocka_unit_test(test_ipv4_options_bad_length),
		cmocka_unit_test(test_ipv4_options_past_end),
		cmocka_unit_test(test_ipv4_options_eol_stops),
		cmocka_unit_test(test_ipv4_options_route_pointer),
		cmocka_unit_test(test_ipv4_options_timestamp_and_ra),
		cmocka_unit_test(test_ipv4_options_unknown_accepted),
		cmocka_unit_test(test_ipv4_repr_parse_bad_options),
		cmocka_unit_test(test_ipv4_addr_classes),
		cmocka_unit_test(test_ipv4_strerror),
		cmocka_unit_test(test_ipv4_addr_parse_format),
	};

	return cmocka_run_group_tests_name("ipv4", tests, NULL, NULL);
}
