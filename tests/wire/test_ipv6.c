/*
 * test_ipv6.c - IPv6, extension header, ICMPv6 and NDP views against packets built by scapy
 */
#include "wire_test.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "wire/icmpv6.h"
#include "wire/ipv6.h"

/* Built with scapy 2.5: IPv6()/ICMPv6EchoRequest, ICMPv6ND_NS + SLLA, ICMPv6ND_RA + SLLA,
 * MTU, prefix 2001:db8:1::/64 and RDNSS, a hop-by-hop + first fragment, ICMPv6ND_NA + TLLA,
 * ICMPv6MLQuery2 */
static const uint8_t echo6[54] = {
	0x60, 0x00, 0x00, 0x00, 0x00, 0x0e, 0x3a, 0x40, 0x20, 0x01, 0x0d, 0xb8,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
	0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x02, 0x80, 0x00, 0xbb, 0x0b, 0x12, 0x34, 0x00, 0x01,
	0x74, 0x61, 0x70, 0x69, 0x72, 0x36,
};
static const uint8_t ns6[72] = {
	0x60, 0x00, 0x00, 0x00, 0x00, 0x20, 0x3a, 0xff, 0x20, 0x01, 0x0d, 0xb8,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
	0xff, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
	0xff, 0x00, 0x00, 0x02, 0x87, 0x00, 0x1c, 0x27, 0x00, 0x00, 0x00, 0x00,
	0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x02, 0x01, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01,
};
static const uint8_t ra6[128] = {
	0x60, 0x00, 0x00, 0x00, 0x00, 0x58, 0x3a, 0xff, 0xfe, 0x80, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
	0xff, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x01, 0x86, 0x00, 0x69, 0x38, 0x40, 0x08, 0x07, 0x08,
	0x00, 0x00, 0x75, 0x30, 0x00, 0x00, 0x03, 0xe8, 0x01, 0x01, 0x02, 0x00,
	0x00, 0x00, 0x00, 0x01, 0x05, 0x01, 0x00, 0x00, 0x00, 0x00, 0x05, 0xdc,
	0x03, 0x04, 0x40, 0xc0, 0x00, 0x01, 0x51, 0x80, 0x00, 0x00, 0x38, 0x40,
	0x00, 0x00, 0x00, 0x00, 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x01, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x19, 0x03, 0x00, 0x00,
	0x00, 0x00, 0x02, 0x58, 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x53,
};
static const uint8_t frag6[64] = {
	0x60, 0x00, 0x00, 0x00, 0x00, 0x18, 0x00, 0x40, 0x20, 0x01, 0x0d, 0xb8,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
	0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x02, 0x2c, 0x00, 0x01, 0x04, 0x00, 0x00, 0x00, 0x00,
	0x3a, 0x00, 0x00, 0x01, 0xde, 0xad, 0xbe, 0xef, 0x80, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00,
};
static const uint8_t na6[72] = {
	0x60, 0x00, 0x00, 0x00, 0x00, 0x20, 0x3a, 0xff, 0x20, 0x01, 0x0d, 0xb8,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02,
	0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x01, 0x88, 0x00, 0x8a, 0x71, 0x60, 0x00, 0x00, 0x00,
	0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x02, 0x02, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x02,
};
static const uint8_t mld2q[68] = {
	0x60, 0x00, 0x00, 0x00, 0x00, 0x1c, 0x3a, 0x01, 0xfe, 0x80, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
	0xff, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x01, 0x82, 0x00, 0x59, 0x13, 0x27, 0x10, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};

static const uint8_t A1[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };
static const uint8_t A2[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 2 };

static void test_ipv6_deconstruct(void **state)
{
	uint8_t *p = dup_bytes(echo6, sizeof(echo6));
	struct ipv6_view v;
	struct ipv6_repr r;

	assert_int_equal(ipv6_view_check(&v, p, sizeof(echo6)), 0);
	assert_int_equal(v.len, sizeof(echo6));
	ipv6_repr_parse(&r, &v);
	assert_memory_equal(r.src, A1, 16);
	assert_memory_equal(r.dst, A2, 16);
	assert_int_equal(r.next_header, IPV6_NH_ICMPV6);
	assert_int_equal(r.hop_limit, 64);
	assert_int_equal(r.payload_len, 14);
	/* padding after the payload is trimmed away */
	uint8_t *padded = filled_buf(sizeof(echo6) + 6);
	memcpy(padded, echo6, sizeof(echo6));
	assert_int_equal(ipv6_view_check(&v, padded, sizeof(echo6) + 6), 0);
	assert_int_equal(v.len, sizeof(echo6));
	free(padded);
	free(p);
}

static void test_ipv6_construct(void **state)
{
	struct ipv6_repr r = { .next_header = IPV6_NH_ICMPV6, .hop_limit = 64, .payload_len = 14 };
	uint8_t *buf = filled_buf(IPV6_HDR_LEN + 1);

	memcpy(r.src, A1, 16);
	memcpy(r.dst, A2, 16);
	ipv6_repr_emit(&r, buf);
	assert_memory_equal(buf, echo6, IPV6_HDR_LEN);
	assert_all_fill(buf + IPV6_HDR_LEN, 1);
	free(buf);
}

static void test_ipv6_bad(void **state)
{
	uint8_t *p = dup_bytes(echo6, sizeof(echo6));
	struct ipv6_view v = { 0 };

	assert_int_equal(ipv6_view_check(&v, p, 39), -IPV6_BAD_TRUNCATED);
	assert_int_equal(ipv6_view_check(&v, p, sizeof(echo6) - 1), -IPV6_BAD_TRUNCATED);
	p[0] = 0x40;
	assert_int_equal(ipv6_view_check(&v, p, sizeof(echo6)), -IPV6_BAD_VERSION);
	assert_null(v.buf);
	free(p);
}

/* Hop-by-hop (PadN 4) then a first fragment */
static void test_ipv6_ext_walk(void **state)
{
	uint8_t *p = dup_bytes(frag6, sizeof(frag6));
	struct ipv6_view v;
	struct ipv6_ext e;
	struct ipv6_opt o;
	struct ipv6_frag_repr f;
	size_t pos = 2;

	assert_int_equal(ipv6_view_check(&v, p, sizeof(frag6)), 0);
	assert_int_equal(ipv6_ext_check(&e, ipv6_next_header(&v), p + 40, v.len - 40), 0);
	assert_int_equal(e.type, IPV6_NH_HOPOPTS);
	assert_int_equal(e.len, 8);
	assert_int_equal(e.next, IPV6_NH_FRAGMENT);
	assert_int_equal(ipv6_opt_next(&e, &pos, &o), 1);
	assert_int_equal(o.type, IPV6_OPT_PADN);
	assert_int_equal(o.len, 4);
	assert_int_equal(o.offset, 2);
	assert_int_equal(ipv6_opt_next(&e, &pos, &o), 0);
	assert_int_equal(ipv6_ext_check(&e, e.next, p + 48, v.len - 48), 0);
	assert_int_equal(e.len, 8);
	ipv6_frag_parse(&f, &e);
	assert_int_equal(f.next, IPV6_NH_ICMPV6);
	assert_int_equal(f.offset, 0);
	assert_true(f.more);
	assert_int_equal(f.id, 0xdeadbeef);
	uint8_t *out = filled_buf(9);
	ipv6_frag_emit(&f, out);
	assert_memory_equal(out, p + 48, 8);
	assert_all_fill(out + 8, 1);
	free(out);
	/* an options header longer than what is left; an option past its header */
	assert_int_equal(ipv6_ext_check(&e, IPV6_NH_HOPOPTS, p + 40, 7), -EBADMSG);
	p[41] = 3;
	assert_int_equal(ipv6_ext_check(&e, IPV6_NH_HOPOPTS, p + 40, v.len - 40), -EBADMSG);
	p[41] = 0;
	p[43] = 5;
	assert_int_equal(ipv6_ext_check(&e, IPV6_NH_HOPOPTS, p + 40, v.len - 40), 0);
	pos = 2;
	assert_int_equal(ipv6_opt_next(&e, &pos, &o), -EBADMSG);
	assert_int_equal(ipv6_ext_check(&e, IPV6_NH_TCP, p + 40, 24), -EBADMSG);
	free(p);
}

static void test_ipv6_addr_helpers(void **state)
{
	uint8_t sn[16], mac[6];
	static const uint8_t ll[16] = { 0xfe, 0x80, [15] = 1 };
	static const uint8_t want_sn[16] = { 0xff, 0x02, [11] = 1, 0xff, 0, 0, 2 };

	ipv6_solicited_node(A2, sn);
	assert_memory_equal(sn, want_sn, 16);
	assert_memory_equal(sn, ns6 + 24, 16);
	ipv6_mcast_mac(sn, mac);
	assert_memory_equal(mac, "\x33\x33\xff\x00\x00\x02", 6);
	assert_true(ipv6_addr_is_link_local(ll));
	assert_false(ipv6_addr_is_link_local(A1));
	assert_true(ipv6_addr_is_multicast(ipv6_all_nodes));
	assert_int_equal(ipv6_mcast_scope(ipv6_all_nodes), 2);
	assert_true(ipv6_prefix_eq(A1, A2, 126));
	assert_false(ipv6_prefix_eq(A1, A2, 127));
	assert_int_equal(ipv6_common_prefix(A1, A2), 126);
	assert_int_equal(ipv6_common_prefix(A1, A1), 128);
}

static void test_icmpv6_csum(void **state)
{
	uint8_t *m = dup_bytes(echo6 + 40, 14);

	assert_int_equal(icmpv6_csum(A1, A2, m, 14), 0);
	icmpv6_set_csum(A1, A2, m, 14);
	assert_memory_equal(m, echo6 + 40, 14);
	m[13] ^= 1;
	assert_int_not_equal(icmpv6_csum(A1, A2, m, 14), 0);
	free(m);
}

static void test_ndp_ns_na(void **state)
{
	uint8_t *m = dup_bytes(ns6 + 40, 32);
	struct ndp_msg n;
	uint8_t *buf;

	assert_int_equal(ndp_parse(&n, m, 32), 0);
	assert_int_equal(n.type, ICMPV6_NEIGHBOR_SOLICIT);
	assert_memory_equal(n.target, A2, 16);
	assert_non_null(n.opts.slla);
	assert_memory_equal(n.opts.slla, "\x02\0\0\0\0\x01", 6);
	buf = filled_buf(33);
	assert_int_equal(ndp_emit_ns(buf, A2, n.opts.slla, A1, ns6 + 24), 32);
	assert_memory_equal(buf, m, 32);
	assert_all_fill(buf + 32, 1);
	free(buf);
	free(m);

	m = dup_bytes(na6 + 40, 32);
	assert_int_equal(ndp_parse(&n, m, 32), 0);
	assert_int_equal(n.flags, NDP_NA_SOLICITED | NDP_NA_OVERRIDE);
	assert_memory_equal(n.opts.tlla, "\x02\0\0\0\0\x02", 6);
	buf = filled_buf(32);
	assert_int_equal(ndp_emit_na(buf, n.flags, A2, n.opts.tlla, A2, A1), 32);
	assert_memory_equal(buf, m, 32);
	free(buf);
	free(m);
}

static void test_ndp_ra(void **state)
{
	size_t len = sizeof(ra6) - 40;
	uint8_t *m = dup_bytes(ra6 + 40, len);
	static const uint8_t pfx[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 1 };
	static const uint8_t dns[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 0x53 };
	struct ndp_msg n;

	assert_int_equal(icmpv6_csum(ra6 + 8, ra6 + 24, m, len), 0);
	assert_int_equal(ndp_parse(&n, m, len), 0);
	assert_int_equal(n.cur_hop_limit, 64);
	assert_int_equal(n.router_lifetime, 1800);
	assert_int_equal(n.reachable_ms, 30000);
	assert_int_equal(n.retrans_ms, 1000);
	assert_int_equal(n.opts.mtu, 1500);
	assert_int_equal(n.opts.nprefix, 1);
	assert_int_equal(n.opts.prefix[0].prefix_len, 64);
	assert_int_equal(n.opts.prefix[0].flags, NDP_PI_ONLINK | NDP_PI_AUTO);
	assert_int_equal(n.opts.prefix[0].valid_lifetime, 86400);
	assert_int_equal(n.opts.prefix[0].preferred_lifetime, 14400);
	assert_memory_equal(n.opts.prefix[0].prefix, pfx, 16);
	assert_int_equal(n.opts.nrdnss, 1);
	assert_int_equal(n.opts.rdnss_lifetime, 600);
	assert_memory_equal(n.opts.rdnss[0], dns, 16);
	free(m);
}

/* Length 0, past the end, wrong lengths of known options, multicast target */
static void test_ndp_bad_options(void **state)
{
	size_t len = sizeof(ra6) - 40;
	uint8_t *m = dup_bytes(ra6 + 40, len);
	struct ndp_msg n;

	m[17] = 0;          /* SLLA length 0 */
	assert_int_equal(ndp_parse(&n, m, len), -EBADMSG);
	m[17] = 1;
	assert_int_equal(ndp_parse(&n, m, len - 1), -EBADMSG);  /* RDNSS cut */
	m[33] = 3;          /* prefix info: 24 bytes instead of 32 */
	assert_int_equal(ndp_parse(&n, m, len), -EBADMSG);
	m[33] = 4;
	m[25] = 2;          /* MTU: 16 bytes */
	assert_int_equal(ndp_parse(&n, m, len), -EBADMSG);
	m[25] = 1;
	m[1] = 1;           /* code must be 0 */
	assert_int_equal(ndp_parse(&n, m, len), -EBADMSG);
	m[1] = 0;
	assert_int_equal(ndp_parse(&n, m, len), 0);
	assert_int_equal(ndp_parse(&n, m, 15), -EBADMSG);
	free(m);

	m = dup_bytes(ns6 + 40, 32);
	m[8] = 0xff;        /* multicast target */
	assert_int_equal(ndp_parse(&n, m, 32), -EBADMSG);
	m[8] = 0x20;
	m[25] = 2;          /* SLLA of 16 bytes, past the end */
	assert_int_equal(ndp_parse(&n, m, 32), -EBADMSG);
	free(m);
}

static void test_mld(void **state)
{
	size_t len = sizeof(mld2q) - 40;
	uint8_t *m = dup_bytes(mld2q + 40, len);
	struct mld_query q;
	uint8_t groups[2][16], *buf;

	assert_int_equal(mld_query_parse(&q, m, len), 0);
	assert_true(q.v2);
	assert_int_equal(q.max_resp_ms, 10000);
	assert_true(ipv6_addr_is_unspecified(q.group));
	assert_int_equal(mld_query_parse(&q, m, 23), -EBADMSG);
	assert_int_equal(mld_query_parse(&q, m, 24), 0);
	assert_false(q.v2);
	free(m);

	memcpy(groups[0], ipv6_all_nodes, 16);
	ipv6_solicited_node(A2, groups[1]);
	buf = filled_buf(49);
	assert_int_equal(mld2_emit_report(buf, MLD2_MODE_IS_EXCLUDE, groups, 2, A1, ipv6_all_mldv2),
			 48);
	assert_int_equal(buf[0], ICMPV6_MLD2_REPORT);
	assert_int_equal(buf[7], 2);
	assert_int_equal(buf[8], MLD2_MODE_IS_EXCLUDE);
	assert_memory_equal(buf + 32, groups[1], 16);
	assert_int_equal(icmpv6_csum(A1, ipv6_all_mldv2, buf, 48), 0);
	assert_all_fill(buf + 48, 1);
	free(buf);
}

int run_ipv6_tests(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ipv6_deconstruct),
		cmocka_unit_test(test_ipv6_construct),
		cmocka_unit_test(test_ipv6_bad),
		cmocka_unit_test(test_ipv6_ext_walk),
		cmocka_unit_test(test_ipv6_addr_helpers),
	};

	return cmocka_run_group_tests_name("ipv6", tests, NULL, NULL);
}

int run_icmpv6_tests(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_icmpv6_csum),
		cmocka_unit_test(test_ndp_ns_na),
		cmocka_unit_test(test_ndp_ra),
		cmocka_unit_test(test_ndp_bad_options),
		cmocka_unit_test(test_mld),
	};

	return cmocka_run_group_tests_name("icmpv6", tests, NULL, NULL);
}
