/*
 * test_arp.c - ARP (Ethernet/IPv4) parse and emit against captured packets
 */
#include "wire_test.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fixtures.h"
#include "wire/arp.h"

static const uint8_t mac_a[6] = MAC_A;
static const uint8_t mac_b[6] = MAC_B;
static const uint8_t mac_zero[6];

static void test_arp_request_deconstruct(void **state)
{
	struct arp_repr r;

	assert_int_equal(arp_repr_parse(&r, arp_request_frame + 14, ARP_LEN), 0);
	assert_int_equal(r.op, ARP_OP_REQUEST);
	assert_memory_equal(r.sha, mac_a, 6);
	assert_int_equal(r.spa, ADDR_A);
	assert_memory_equal(r.tha, mac_zero, 6);
	assert_int_equal(r.tpa, ADDR_B);
}

static void test_arp_reply_deconstruct(void **state)
{
	struct arp_repr r;

	assert_int_equal(arp_repr_parse(&r, arp_reply_frame + 14, ARP_LEN), 0);
	assert_int_equal(r.op, ARP_OP_REPLY);
	assert_memory_equal(r.sha, mac_b, 6);
	assert_int_equal(r.spa, ADDR_B);
	assert_memory_equal(r.tha, mac_a, 6);
	assert_int_equal(r.tpa, ADDR_A);
}

static void test_arp_request_construct(void **state)
{
	struct arp_repr r = { .op = ARP_OP_REQUEST, .sha = MAC_A, .spa = ADDR_A, .tpa = ADDR_B };
	uint8_t *buf = filled_buf(ARP_LEN + 4);

	arp_repr_emit(&r, buf);
	assert_memory_equal(buf, arp_request_frame + 14, ARP_LEN);
	assert_all_fill(buf + ARP_LEN, 4);
	free(buf);
}

static void test_arp_reply_construct(void **state)
{
	struct arp_repr r = {
		.op = ARP_OP_REPLY, .sha = MAC_B, .spa = ADDR_B, .tha = MAC_A, .tpa = ADDR_A,
	};
	uint8_t *buf = filled_buf(ARP_LEN + 4);

	arp_repr_emit(&r, buf);
	assert_memory_equal(buf, arp_reply_frame + 14, ARP_LEN);
	assert_all_fill(buf + ARP_LEN, 4);
	free(buf);
}

/* Ethernet padding after the 28 bytes (a 60-byte minimum frame) is ignored */
static void test_arp_padded(void **state)
{
	uint8_t padded[46];
	struct arp_repr r;

	memcpy(padded, arp_reply_frame + 14, ARP_LEN);
	memset(padded + ARP_LEN, FILL, sizeof(padded) - ARP_LEN);
	assert_int_equal(arp_repr_parse(&r, padded, sizeof(padded)), 0);
	assert_int_equal(r.tpa, ADDR_A);
}

static void test_arp_malformed(void **state)
{
	static const struct {
		size_t off;
		uint8_t val;
		const char *what;
	} bad[] = {
		{ 1, 6, "htype 6 (IEEE 802)" },
		{ 0, 1, "htype 0x0101" },
		{ 2, 0x86, "ptype 0x8600" },
		{ 3, 0x06, "ptype 0x0806" },
		{ 4, 8, "hlen 8" },
		{ 5, 16, "plen 16" },
		{ 7, 0, "op 0" },
		{ 7, 3, "op 3 (RARP request)" },
		{ 6, 1, "op 0x0101" },
	};
	struct arp_repr r, orig;
	uint8_t *pkt;
	size_t i;

	memset(&orig, 0x5a, sizeof(orig));
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		pkt = dup_bytes(arp_request_frame + 14, ARP_LEN);
		pkt[bad[i].off] = bad[i].val;
		memcpy(&r, &orig, sizeof(r));
		if (arp_repr_parse(&r, pkt, ARP_LEN) != -EBADMSG)
			fail_msg("accepted %s", bad[i].what);
		assert_memory_equal(&r, &orig, sizeof(r));	/* untouched */
		free(pkt);
	}
	/* Truncated: 27 bytes, read from an exact-size copy (ASan) */
	pkt = dup_bytes(arp_request_frame + 14, ARP_LEN - 1);
	assert_int_equal(arp_repr_parse(&r, pkt, ARP_LEN - 1), -EBADMSG);
	assert_int_equal(arp_repr_parse(&r, pkt, 0), -EBADMSG);
	free(pkt);
}

int run_arp_tests(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_arp_request_deconstruct),
		cmocka_unit_test(test_arp_reply_deconstruct),
		cmocka_unit_test(test_arp_request_construct),
		cmocka_unit_test(test_arp_reply_construct),
		cmocka_unit_test(test_arp_padded),
		cmocka_unit_test(test_arp_malformed),
	};

	return cmocka_run_group_tests_name("arp", tests, NULL, NULL);
}
