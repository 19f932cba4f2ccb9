/*
 * test_dns.c - DNS names (compression and its abuses), the message view and
 *              the builder
 */
#include "wire_test.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "wire/dns.h"

/*
 * An answer in the form dnsmasq gives for a --cname to a --host-record
 * (laid out by hand from RFC 1035 4.1): the question, a CNAME whose
 * owner points at the question (c0 0c) and whose target is compressed
 * against it, then the A record owned by the CNAME's target (c0 2e).
 */
static const uint8_t answer[] = {
	0x12, 0x34, 0x85, 0x80, 0x00, 0x01, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00,
	/* 12: alias.example.test A IN */
	0x05, 'a', 'l', 'i', 'a', 's', 0x07, 'e', 'x', 'a', 'm', 'p', 'l', 'e',
	0x04, 't', 'e', 's', 't', 0x00, 0x00, 0x01, 0x00, 0x01,
	/* 36: CNAME www.<example.test at 18> */
	0xc0, 0x0c, 0x00, 0x05, 0x00, 0x01, 0x00, 0x00, 0x00, 0x3c, 0x00, 0x06,
	/* 48: rdata */
	0x03, 'w', 'w', 'w', 0xc0, 0x12,
	/* 54: A 192.0.2.80, owner www.example.test at 48 */
	0xc0, 0x30, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00, 0x3c, 0x00, 0x04,
	192, 0, 2, 80,
};

static void test_dns_answer(void **state)
{
	uint8_t *b = dup_bytes(answer, sizeof(answer));
	struct dns_msg m;
	struct dns_question q;
	struct dns_rr rr;
	struct dns_name target, want;
	char text[DNS_NAME_TEXT_MAX];
	size_t off, p;

	(void)state;
	assert_int_equal(dns_msg_parse(&m, b, sizeof(answer)), 0);
	assert_int_equal(m.id, 0x1234);
	assert_true(m.flags & DNS_FLAG_QR);
	assert_int_equal(DNS_RCODE(m.flags), DNS_RCODE_NOERROR);
	assert_int_equal(m.count[DNS_SEC_QD], 1);
	assert_int_equal(m.count[DNS_SEC_AN], 2);
	assert_int_equal(m.end, sizeof(answer));
	off = m.off[DNS_SEC_QD];
	assert_int_equal(dns_msg_question(&m, &off, &q), 0);
	assert_string_equal(dns_name_to_text(&q.name, text), "alias.example.test");
	assert_int_equal(q.type, DNS_TYPE_A);
	assert_int_equal(off, m.off[DNS_SEC_AN]);
	assert_int_equal(dns_msg_rr(&m, &off, &rr), 0);
	assert_true(dns_name_eq(&rr.name, &q.name));
	assert_int_equal(rr.type, DNS_TYPE_CNAME);
	assert_int_equal(rr.ttl, 60);
	p = rr.rdata_off;
	assert_int_equal(dns_name_read(b, sizeof(answer), &p, &target), 0);
	assert_int_equal(p, rr.rdata_off + rr.rdlen);
	assert_int_equal(dns_name_from_text("WWW.Example.TEST.", &want), 0);
	assert_true(dns_name_eq(&target, &want));   /* RFC 4343: no case */
	assert_int_equal(dns_msg_rr(&m, &off, &rr), 0);
	assert_true(dns_name_eq(&rr.name, &want));
	assert_int_equal(rr.type, DNS_TYPE_A);
	assert_int_equal(rr.rdlen, 4);
	assert_memory_equal(rr.rdata, ((uint8_t[]){ 192, 0, 2, 80 }), 4);
	assert_int_equal(off, sizeof(answer));
	free(b);
}

/* Every shorter prefix fails cleanly (ASan: no read past the copy) */
static void test_dns_truncated(void **state)
{
	(void)state;
	for (size_t n = 0; n < sizeof(answer); n++) {
		uint8_t *b = dup_bytes(answer, n);
		struct dns_msg m;

		assert_int_equal(dns_msg_parse(&m, b, n), -EBADMSG);
		free(b);
	}
}

static int read_at(const uint8_t *msg, size_t len, size_t off)
{
	uint8_t *b = dup_bytes(msg, len);
	struct dns_name n;
	int rc = dns_name_read(b, len, &off, &n);

	free(b);
	return rc;
}

static void test_dns_pointer_abuse(void **state)
{
	uint8_t m[64] = { 0 };

	(void)state;
	/* a pointer to itself */
	m[12] = 0xc0; m[13] = 12;
	assert_int_equal(read_at(m, 14, 12), -EBADMSG);
	/* a label then a pointer back to that label: a loop */
	memcpy(m + 12, "\x01" "a" "\xc0\x0c", 4);
	assert_int_equal(read_at(m, 16, 12), -EBADMSG);
	/* two names pointing at each other */
	memcpy(m + 12, "\x01" "a" "\xc0\x10" "\x01" "b" "\xc0\x0c", 8);
	assert_int_equal(read_at(m, 20, 16), -EBADMSG);
	/* forward */
	memcpy(m + 12, "\xc0\x0e" "\x01" "a" "\x00", 5);
	assert_int_equal(read_at(m, 17, 12), -EBADMSG);
	/* out of the message, and into the header */
	memcpy(m + 12, "\xff\xff", 2);
	assert_int_equal(read_at(m, 14, 12), -EBADMSG);
	memcpy(m + 12, "\xc0\x02", 2);
	assert_int_equal(read_at(m, 14, 12), -EBADMSG);
	/* a pointer cut in half */
	m[12] = 0xc0;
	assert_int_equal(read_at(m, 13, 12), -EBADMSG);
	/* the 0x40 and 0x80 label types */
	m[12] = 0x41;
	assert_int_equal(read_at(m, 64, 12), -EBADMSG);
	m[12] = 0x81;
	assert_int_equal(read_at(m, 64, 12), -EBADMSG);
	/* a good backward pointer: 12 "a" ends at 14; 15 "b" -> 12 */
	memcpy(m + 12, "\x01" "a" "\x00" "\x01" "b" "\xc0\x0c", 7);
	{
		struct dns_name n;
		char t[DNS_NAME_TEXT_MAX];
		size_t off = 15;

		assert_int_equal(dns_name_read(m, 19, &off, &n), 0);
		assert_int_equal(off, 19);   /* just after the pointer */
		assert_string_equal(dns_name_to_text(&n, t), "b.a");
	}
}

static void test_dns_name_limits(void **state)
{
	uint8_t m[DNS_HDR_LEN + 300] = { 0 };
	struct dns_name n;
	size_t off;
	char t[DNS_NAME_TEXT_MAX], label[80];

	(void)state;
	/* 4 labels of 63 = 256 bytes with the root: too long; 3 x 63 + 61 = 255: fine */
	for (int i = 0; i < 4; i++) {
		m[DNS_HDR_LEN + 64 * i] = 63;
		memset(m + DNS_HDR_LEN + 64 * i + 1, 'a', 63);
	}
	m[DNS_HDR_LEN + 256] = 0;
	off = DNS_HDR_LEN;
	assert_int_equal(dns_name_read(m, sizeof(m), &off, &n), -EBADMSG);
	m[DNS_HDR_LEN + 192] = 61;
	m[DNS_HDR_LEN + 192 + 62] = 0;
	off = DNS_HDR_LEN;
	assert_int_equal(dns_name_read(m, sizeof(m), &off, &n), 0);
	assert_int_equal(n.len, 255);
	assert_int_equal(off, DNS_HDR_LEN + 255);
	/* text: labels 1..63, no empty ones, a final dot allowed */
	memset(label, 'x', 63);
	label[63] = 0;
	assert_int_equal(dns_name_from_text(label, &n), 0);
	label[63] = 'x';
	label[64] = 0;
	assert_int_equal(dns_name_from_text(label, &n), -EINVAL);
	assert_int_equal(dns_name_from_text("a..b", &n), -EINVAL);
	assert_int_equal(dns_name_from_text(".a", &n), -EINVAL);
	assert_int_equal(dns_name_from_text("", &n), -EINVAL);
	assert_int_equal(dns_name_from_text("a b", &n), -EINVAL);
	assert_int_equal(dns_name_from_text("example.test.", &n), 0);
	assert_int_equal(dns_name_labels(&n), 2);
	assert_string_equal(dns_name_to_text(&n, t), "example.test");
	assert_int_equal(dns_name_from_text(".", &n), 0);
	assert_int_equal(dns_name_labels(&n), 0);
	assert_string_equal(dns_name_to_text(&n, t), ".");
	/* odd bytes from the wire are escaped */
	memcpy(m + DNS_HDR_LEN, "\x03" "a.\x01" "\x00", 5);
	off = DNS_HDR_LEN;
	assert_int_equal(dns_name_read(m, sizeof(m), &off, &n), 0);
	assert_string_equal(dns_name_to_text(&n, t), "a\\.\\001");
}

static void test_dns_counts(void **state)
{
	uint8_t m[DNS_HDR_LEN + 5] = { 0, 1, 0x81, 0x80, 0, 1, 0xff, 0xff, 0, 0, 0, 0,
				       0, 0, 1, 0, 1 };
	struct dns_msg msg;
	uint8_t *b;

	(void)state;
	/* 65535 answers announced, none there */
	b = dup_bytes(m, sizeof(m));
	assert_int_equal(dns_msg_parse(&msg, b, sizeof(m)), -EBADMSG);
	/* 1 question, 0 answers: fine; trailing bytes are ignored */
	b[6] = b[7] = 0;
	assert_int_equal(dns_msg_parse(&msg, b, sizeof(m)), 0);
	assert_int_equal(msg.end, sizeof(m));
	b[5] = 2;   /* two questions, one there */
	assert_int_equal(dns_msg_parse(&msg, b, sizeof(m)), -EBADMSG);
	free(b);
}

static void test_dns_build(void **state)
{
	/* a query as the resolver sends it: RD, one question, OPT 1232 */
	static const uint8_t want[] = {
		0xbe, 0xef, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
		0x03, 'w', 'w', 'w', 0x07, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 0x04, 't',
		'e', 's', 't', 0x00, 0x00, 0x1c, 0x00, 0x01,
		0x00, 0x00, 0x29, 0x04, 0xd0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	};
	uint8_t *buf = filled_buf(sizeof(want) + 8);
	struct dns_builder b;
	struct dns_name n;
	struct dns_msg m;

	(void)state;
	assert_int_equal(dns_name_from_text("www.example.test", &n), 0);
	dns_build_init(&b, buf, sizeof(want) + 8, 0xbeef, DNS_FLAG_RD);
	dns_build_question(&b, &n, DNS_TYPE_AAAA, DNS_CLASS_IN);
	dns_build_opt(&b, 1232, 0, false);
	assert_int_equal(dns_build_finish(&b), sizeof(want));
	assert_memory_equal(buf, want, sizeof(want));
	assert_all_fill(buf + sizeof(want), 8);
	assert_int_equal(dns_msg_parse(&m, buf, sizeof(want)), 0);
	assert_int_equal(m.count[DNS_SEC_AR], 1);
	/* too small: the first error sticks */
	dns_build_init(&b, buf, 20, 1, 0);
	dns_build_question(&b, &n, DNS_TYPE_A, DNS_CLASS_IN);
	dns_build_opt(&b, 1232, 0, false);
	assert_int_equal(dns_build_finish(&b), -EMSGSIZE);
	/* sections in order only */
	dns_build_init(&b, buf, sizeof(want), 1, 0);
	dns_build_rr(&b, DNS_SEC_AN, &n, DNS_TYPE_A, DNS_CLASS_IN, 1, "abcd", 4);
	dns_build_question(&b, &n, DNS_TYPE_A, DNS_CLASS_IN);
	assert_int_equal(dns_build_finish(&b), -EINVAL);
	free(buf);
}

static void test_dns_join_eq(void **state)
{
	struct dns_name a, b, j, w;
	char t[DNS_NAME_TEXT_MAX];

	(void)state;
	assert_int_equal(dns_name_from_text("www", &a), 0);
	assert_int_equal(dns_name_from_text("Example.Test", &b), 0);
	assert_int_equal(dns_name_join(&a, &b, &j), 0);
	assert_string_equal(dns_name_to_text(&j, t), "www.Example.Test");
	assert_int_equal(dns_name_from_text("WWW.example.test", &w), 0);
	assert_true(dns_name_eq(&j, &w));
	assert_int_equal(dns_name_from_text("wwx.example.test", &w), 0);
	assert_false(dns_name_eq(&j, &w));
	/* too long together */
	char big[200];
	memset(big, 'a', 63); big[63] = '.';
	memset(big + 64, 'b', 63); big[127] = '.';
	memset(big + 128, 'c', 63); big[191] = 0;
	assert_int_equal(dns_name_from_text(big, &a), 0);
	assert_int_equal(dns_name_from_text("dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd.e",
					    &b), 0);
	assert_int_equal(dns_name_join(&a, &b, &j), -EINVAL);
}

int run_dns_tests(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dns_answer),
		cmocka_unit_test(test_dns_truncated),
		cmocka_unit_test(test_dns_pointer_abuse),
		cmocka_unit_test(test_dns_name_limits),
		cmocka_unit_test(test_dns_counts),
		cmocka_unit_test(test_dns_build),
		cmocka_unit_test(test_dns_join_eq),
	};

	return cmocka_run_group_tests_name("dns", tests, NULL, NULL);
}
