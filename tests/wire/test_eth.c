/*
 * test_eth.c - Ethernet II view, repr and address helpers
 */
#include "wire_test.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fixtures.h"
#include "wire/eth.h"

static const uint8_t mac_a[6] = MAC_A;
static const uint8_t mac_b[6] = MAC_B;

static void test_eth_deconstruct(void **state)
{
	struct eth_view v;
	struct eth_repr r;

	assert_int_equal(eth_view_check(&v, arp_request_frame, sizeof(arp_request_frame)), 0);
	assert_memory_equal(eth_dst(&v), eth_broadcast, 6);
	assert_memory_equal(eth_src(&v), mac_a, 6);
	assert_int_equal(eth_ethertype(&v), TAPIR_ETHERTYPE_ARP);
	assert_ptr_equal(eth_payload(&v), arp_request_frame + 14);
	assert_int_equal(eth_payload_len(&v), 28);

	assert_int_equal(eth_view_check(&v, ping_request_frame, sizeof(ping_request_frame)), 0);
	eth_repr_parse(&r, &v);
	assert_memory_equal(r.dst, mac_b, 6);
	assert_memory_equal(r.src, mac_a, 6);
	assert_int_equal(r.ethertype, TAPIR_ETHERTYPE_IPV4);
	assert_int_equal(eth_payload_len(&v), 84);
}

static void test_eth_construct(void **state)
{
	struct eth_repr r = { .dst = MAC_A, .src = MAC_B, .ethertype = TAPIR_ETHERTYPE_ARP };
	uint8_t *buf = filled_buf(ETH_HDR_LEN + 4);

	eth_repr_emit(&r, buf);
	assert_memory_equal(buf, arp_reply_frame, ETH_HDR_LEN);
	assert_all_fill(buf + ETH_HDR_LEN, 4);
	free(buf);
}

static void test_eth_truncated(void **state)
{
	struct eth_view v = { .buf = NULL, .len = 12345 };
	uint8_t *hdr = dup_bytes(ping_request_frame, ETH_HDR_LEN);

	assert_int_equal(eth_view_check(&v, hdr, 13), -EBADMSG);
	assert_int_equal(eth_view_check(&v, hdr, 0), -EBADMSG);
	assert_null(v.buf);		/* untouched on error */
	assert_int_equal(v.len, 12345);
	/* Exactly a header: valid, empty payload */
	assert_int_equal(eth_view_check(&v, hdr, ETH_HDR_LEN), 0);
	assert_int_equal(eth_payload_len(&v), 0);
	assert_int_equal(eth_ethertype(&v), TAPIR_ETHERTYPE_IPV4);
	free(hdr);
}

static void test_eth_addr_classes(void **state)
{
	const uint8_t ipv4_mcast[6] = { 0x01, 0x00, 0x5e, 0x00, 0x00, 0x01 };
	const uint8_t ipv6_mcast[6] = { 0x33, 0x33, 0x00, 0x00, 0x00, 0x16 };
	const uint8_t almost_bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe };
	const uint8_t zero[6] = { 0 };
	const uint8_t almost_zero[6] = { 0, 0, 0, 0, 0, 1 };

	assert_true(eth_addr_is_broadcast(eth_broadcast));
	assert_true(eth_addr_is_multicast(eth_broadcast));
	assert_false(eth_addr_is_zero(eth_broadcast));

	assert_false(eth_addr_is_broadcast(almost_bcast));
	assert_true(eth_addr_is_multicast(ipv4_mcast));
	assert_false(eth_addr_is_broadcast(ipv4_mcast));
	assert_true(eth_addr_is_multicast(ipv6_mcast));

	assert_false(eth_addr_is_multicast(mac_a));	/* 02: locally administered unicast */
	assert_false(eth_addr_is_broadcast(mac_a));
	assert_false(eth_addr_is_zero(mac_a));

	assert_true(eth_addr_is_zero(zero));
	assert_false(eth_addr_is_multicast(zero));
	assert_false(eth_addr_is_zero(almost_zero));
}

static void test_eth_addr_parse_format(void **state)
{
	static const char *const bad[] = {
		"", "02:00:00:00:00", "02:00:00:00:00:01:", "02:00:00:00:00:01:02",
		"02-00-00-00-00-01", "2:0:0:0:0:1", "02:00:00:00:00:0g", " 02:00:00:00:00:01",
		"02:00:00:00:00:01 ", "0200.0000.0001", "02:00:00:00:00:", "02:00:00:00:000:1",
	};
	const uint8_t mixed[6] = { 0xde, 0xad, 0xbe, 0xef, 0x0a, 0xf0 };
	uint8_t mac[6];
	char s[ETH_ADDR_STRLEN];
	size_t i;

	assert_int_equal(eth_addr_parse("02:00:00:00:00:01", mac), 0);
	assert_memory_equal(mac, mac_a, 6);
	assert_int_equal(eth_addr_parse("DE:ad:Be:EF:0a:F0", mac), 0);
	assert_memory_equal(mac, mixed, 6);
	eth_addr_format(mac, s);
	assert_string_equal(s, "de:ad:be:ef:0a:f0");
	eth_addr_format(eth_broadcast, s);
	assert_string_equal(s, "ff:ff:ff:ff:ff:ff");

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(mac, 0x77, sizeof(mac));
		if (eth_addr_parse(bad[i], mac) != -EINVAL)
			fail_msg("accepted \"%s\"", bad[i]);
		assert_int_equal(mac[0], 0x77);		/* untouched on error */
		assert_int_equal(mac[5], 0x77);
	}

	/* one digit per byte, as macOS's vmnet prints a MAC: only the _short form */
	static const uint8_t short_mac[6] = { 0x5a, 0x94, 0xef, 0xe4, 0x0c, 0xee };
	assert_int_equal(eth_addr_parse("5a:94:ef:e4:c:ee", mac), -EINVAL);
	assert_int_equal(eth_addr_parse_short("5a:94:ef:e4:c:ee", mac), 0);
	assert_memory_equal(mac, short_mac, 6);
	assert_int_equal(eth_addr_parse_short("02:00:00:00:00:01", mac), 0);
	assert_memory_equal(mac, mac_a, 6);
	assert_int_equal(eth_addr_parse_short("5a:94:ef:e4::ee", mac), -EINVAL);
	assert_int_equal(eth_addr_parse_short("5a:94:ef:e4:c:eee", mac), -EINVAL);
	assert_int_equal(eth_addr_parse_short("5a:94:ef:e4:c:e:", mac), -EINVAL);
}

int run_eth_tests(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_eth_deconstruct),
		cmocka_unit_test(test_eth_construct),
		cmocka_unit_test(test_eth_truncated),
		cmocka_unit_test(test_eth_addr_classes),
		cmocka_unit_test(test_eth_addr_parse_format),
	};

	return cmocka_run_group_tests_name("eth", tests, NULL, NULL);
}
