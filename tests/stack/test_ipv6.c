/*
 * test_ipv6.c - IPv6 between stacks on a vnetif wire: DAD, NDP resolution with
 *               queueing, fragmentation and reassembly, source selection,
 *               Packet Too Big, the pending queue's bounds, DAD conflicts
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "tapir/ipv6.h"
#include "wire/bytes.h"
#include "wire/icmpv6.h"
#include "wire/ipv6.h"

#define SEC TAPIR_STACK_NS_PER_SEC
#define CTR(h, c) tapir_stack_counter((h)->st, TAPIR_CTR_##c)

static const uint8_t A1[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };
static const uint8_t A2[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 2 };
static const uint8_t A5[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 5 };
static const uint8_t A99[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 0x99 };

static struct host *add6(struct world *w, uint8_t last, const uint8_t addr[16], bool dad)
{
	struct tapir_stack_config c;

	tapir_stack_config_defaults(&c);
	c.ipv6.enabled = true;
	c.ipv6.dad = dad;
	c.ipv6.naddrs = 1;
	memcpy(c.ipv6.addrs[0].addr, addr, 16);
	c.ipv6.addrs[0].prefix_len = 64;
	return world_add(w, last, &c);
}

static int addr_state(struct host *h, const uint8_t a[16])
{
	struct tapir_ipv6_addr_info info[16];
	size_t n = tapir_ipv6_addr_list(h->st, info, 16);

	for (size_t i = 0; i < n; i++)
		if (!memcmp(info[i].addr, a, 16))
			return info[i].state;
	return -1;
}

struct rx_log {
	size_t n, len;
	uint8_t *data;
	uint8_t src[16];
};

static int rx253(void *ctx, const struct tapir_ipv6_rx_meta *m, const uint8_t *p, size_t len)
{
	struct rx_log *l = ctx;

	l->n++;
	free(l->data);
	l->data = malloc(len ? len : 1);
	memcpy(l->data, p, len);
	l->len = len;
	memcpy(l->src, m->src, 16);
	return 0;
}

/* DAD, then a 5000-byte packet: NDP queues it, fragments, reassembly */
static void test_ipv6_fragmented_over_ndp(void **state)
{
	struct world *w = world_new();
	struct host *a = add6(w, 1, A1, true), *b = add6(w, 2, A2, true);
	struct rx_log log = { 0 };
	uint8_t *data = malloc(5000);
	struct tapir_stack_iov iov = { data, 5000 };
	struct tapir_ndp_entry ne[4];

	(void)state;
	assert_int_equal(addr_state(a, A1), TAPIR_IPV6_ADDR_TENTATIVE);
	assert_int_equal(tapir_ipv6_write(b->st, NULL, A1, 253, 0, NULL, NULL, &iov, 1),
			 -EADDRNOTAVAIL);  /* no usable source while tentative */
	world_advance(w, 3 * SEC);
	assert_int_equal(addr_state(a, A1), TAPIR_IPV6_ADDR_PREFERRED);
	assert_int_equal(addr_state(b, A2), TAPIR_IPV6_ADDR_PREFERRED);
	assert_int_equal(tapir_ipv6_register_proto(a->st, 253, rx253, NULL, &log), 0);
	assert_int_equal(tapir_ipv6_register_proto(a->st, 253, rx253, NULL, &log), -EADDRINUSE);
	for (int i = 0; i < 5000; i++)
		data[i] = (uint8_t)(i * 13 + (i >> 8));
	assert_int_equal(tapir_ipv6_write(b->st, NULL, A1, 253, 0, NULL, NULL, &iov, 1), 0);
	assert_int_equal(CTR(b, NDP_PENDING_QUEUED), 1);
	world_pump(w);
	assert_int_equal(CTR(b, NDP_PENDING_SENT), 1);
	assert_int_equal(CTR(b, IPV6_FRAGS_TX), 4);
	assert_int_equal(CTR(a, REASM6_COMPLETED), 1);
	assert_int_equal(log.n, 1);
	assert_int_equal(log.len, 5000);
	assert_memory_equal(log.data, data, 5000);
	assert_memory_equal(log.src, A2, 16);
	/* B knows A, REACHABLE from the solicited NA */
	assert_int_equal(tapir_ndp_list(b->st, ne, 4), 1);
	assert_memory_equal(ne[0].ip, A1, 16);
	assert_int_equal(ne[0].state, TAPIR_NDP_REACHABLE);
	assert_memory_equal(ne[0].mac, a->mac, 6);
	/* after ReachableTime (at most 45 s) STALE; a send makes it DELAY, then PROBE,
	 * and the probe is answered: REACHABLE again */
	world_advance(w, 46 * SEC);
	assert_int_equal(tapir_ndp_list(b->st, ne, 4), 1);
	assert_int_equal(ne[0].state, TAPIR_NDP_STALE);
	assert_int_equal(tapir_ipv6_write(b->st, NULL, A1, 253, 0, NULL, NULL, &iov, 1), 0);
	world_pump(w);
	tapir_ndp_list(b->st, ne, 4);
	assert_int_equal(ne[0].state, TAPIR_NDP_DELAY);
	world_advance(w, 6 * SEC);
	tapir_ndp_list(b->st, ne, 4);
	assert_int_equal(ne[0].state, TAPIR_NDP_REACHABLE);
	assert_int_equal(log.n, 2);
	free(log.data);
	free(data);
	world_free(w);
}

struct err_log {
	size_t n;
	uint8_t type, code;
	uint8_t dst[16];
	size_t l4_len;
};

static void err253(void *ctx, const struct tapir_ipv6_icmp_err *e)
{
	struct err_log *l = ctx;

	l->n++;
	l->type = e->type;
	l->code = e->code;
	memcpy(l->dst, e->dst, 16);
	l->l4_len = e->l4_len;
}

/* No answer: 3 packets queue, more are dropped, all go after 3 solicitations,
 * each reported to its protocol as address unreachable */
static void test_ipv6_pending_bounds(void **state)
{
	struct world *w = world_new();
	struct host *b = add6(w, 2, A2, false);
	uint8_t byte = 1;
	struct tapir_stack_iov iov = { &byte, 1 };
	struct tapir_ndp_entry ne[4];
	struct err_log el = { 0 };

	(void)state;
	assert_int_equal(tapir_ipv6_register_proto(b->st, 253, rx253, err253, &el), 0);
	for (int i = 0; i < 5; i++)
		tapir_ipv6_write(b->st, NULL, A5, 253, 0, NULL, NULL, &iov, 1);
	assert_int_equal(CTR(b, NDP_PENDING_QUEUED), 3);
	assert_int_equal(CTR(b, NDP_DROP_PENDING_FULL), 2);
	world_advance(w, 4 * SEC);
	assert_int_equal(CTR(b, NDP_DROP_PENDING_TIMEOUT), 3);
	assert_int_equal(el.n, 3);
	assert_int_equal(el.type, ICMPV6_DEST_UNREACH);
	assert_int_equal(el.code, ICMPV6_UNREACH_ADDR);
	assert_memory_equal(el.dst, A5, 16);
	assert_int_equal(el.l4_len, 1);
	assert_int_equal(tapir_ndp_list(b->st, ne, 4), 0);
	/* 1 NS when it started, then 2 more: MAX_MULTICAST_SOLICIT */
	assert_true(CTR(b, NDP_NS_SENT) >= 3);
	world_free(w);
}

/* Two stacks claim the same address: the one whose probe comes second sees
 * the other's probe for its tentative address and gives up (RFC 4862
 * 5.4.3); the first keeps it.  A third one, later, finds it in use by an NA. */
static void test_ipv6_dad_conflict(void **state)
{
	struct world *w = world_new();
	struct host *a = add6(w, 1, A5, true), *b = add6(w, 2, A5, true), *c;
	int sa, sb;

	(void)state;
	world_advance(w, 3 * SEC);
	sa = addr_state(a, A5);
	sb = addr_state(b, A5);
	assert_true((sa == TAPIR_IPV6_ADDR_DUPLICATE && sb == TAPIR_IPV6_ADDR_PREFERRED) ||
		    (sb == TAPIR_IPV6_ADDR_DUPLICATE && sa == TAPIR_IPV6_ADDR_PREFERRED));
	assert_int_equal(CTR(a, NDP_DAD_CONFLICTS) + CTR(b, NDP_DAD_CONFLICTS), 1);
	c = add6(w, 3, A5, true);
	world_advance(w, 3 * SEC);
	assert_int_equal(addr_state(c, A5), TAPIR_IPV6_ADDR_DUPLICATE);
	assert_int_equal(CTR(c, NDP_DAD_CONFLICTS), 1);
	world_free(w);
}

/* The link-local address of @h (the zero address if none) */
static void link_local(struct host *h, uint8_t out[16])
{
	struct tapir_ipv6_addr_info info[16];
	size_t n = tapir_ipv6_addr_list(h->st, info, 16);

	memset(out, 0, 16);
	for (size_t i = 0; i < n; i++)
		if (info[i].origin == TAPIR_IPV6_ORIGIN_LINK_LOCAL)
			memcpy(out, info[i].addr, 16);
}

/* RFC 7217: the interface ID is a function of the secret, the prefix and
 * Net_Iface (the interface's name when given), not of the MAC then: two
 * stacks with other MACs but the same secret and name get the same one */
static void test_ipv6_stable_privacy(void **state)
{
	static const uint8_t k1[16] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 };
	static const uint8_t k2[16] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 17 };
	struct world *w = world_new(), *w2 = world_new();  /* 4 hosts a world */
	struct tapir_stack_config c;
	struct host *h[5];
	uint8_t ll[5][16];

	(void)state;
	tapir_stack_config_defaults(&c);
	c.ipv6.enabled = true;
	c.ipv6.dad = false;
	memcpy(c.ipv6.stable_secret, k1, 16);
	strcpy(c.ipv6.net_iface, "tap0");
	h[0] = world_add(w, 1, &c);
	h[1] = world_add(w, 2, &c);             /* another MAC */
	strcpy(c.ipv6.net_iface, "tap1");
	h[2] = world_add(w, 3, &c);             /* another interface */
	memset(c.ipv6.net_iface, 0, sizeof(c.ipv6.net_iface));
	h[3] = world_add(w, 4, &c);             /* the MAC as Net_Iface */
	strcpy(c.ipv6.net_iface, "tap0");
	memcpy(c.ipv6.stable_secret, k2, 16);
	h[4] = world_add(w2, 1, &c);            /* another secret */
	world_advance(w, SEC);
	world_advance(w2, SEC);
	for (int i = 0; i < 5; i++) {
		link_local(h[i], ll[i]);
		assert_int_equal(ll[i][0], 0xfe);
		assert_int_equal(ll[i][1], 0x80);
	}
	assert_memory_equal(ll[0], ll[1], 16);
	assert_memory_not_equal(ll[0], ll[2], 16);
	assert_memory_not_equal(ll[0], ll[3], 16);
	assert_memory_not_equal(ll[0], ll[4], 16);
	/* not the EUI-64 of the MAC either */
	assert_false(ll[3][11] == 0xff && ll[3][12] == 0xfe);
	world_free(w);
	world_free(w2);
}

static void test_ipv6_source_selection(void **state)
{
	struct world *w = world_new();
	struct host *b = add6(w, 2, A2, false);
	uint8_t src[16], ll[16] = { 0xfe, 0x80, [15] = 9 };

	(void)state;
	assert_int_equal(tapir_ipv6_select_source(b->st, A5, src), 0);
	assert_memory_equal(src, A2, 16);
	assert_int_equal(tapir_ipv6_select_source(b->st, ll, src), 0);
	assert_true(ipv6_addr_is_link_local(src));
	assert_int_equal(tapir_ipv6_select_source(b->st, ipv6_all_nodes, src), 0);
	assert_true(ipv6_addr_is_link_local(src));
	world_free(w);
}

/* A Packet Too Big from the raw port about a packet of @sent bytes B sent */
static void send_ptb(struct world *w, struct host *b, uint32_t mtu, uint16_t sent)
{
	uint8_t f[14 + 40 + 8 + 48];
	struct ipv6_repr r = { .next_header = IPV6_NH_ICMPV6, .hop_limit = 64, .payload_len = 56 };
	uint8_t *m = f + 54;

	memcpy(f, b->mac, 6);
	memcpy(f + 6, w->raw_mac, 6);
	put_be16(f + 12, TAPIR_ETHERTYPE_IPV6);
	memcpy(r.src, A99, 16);
	memcpy(r.dst, A2, 16);
	ipv6_repr_emit(&r, f + 14);
	memset(m, 0, 56);
	m[0] = ICMPV6_PKT_TOO_BIG;
	put_be32(m + 4, mtu);
	/* the quote: B's packet to 2001:db8::5 of @sent bytes */
	m[8] = 0x60;
	put_be16(m + 8 + 4, (uint16_t)(sent - 40));
	m[8 + 6] = 253;
	m[8 + 7] = 64;
	memcpy(m + 8 + 8, A2, 16);
	memcpy(m + 8 + 24, A5, 16);
	icmpv6_set_csum(A99, A2, m, 56);
	raw_send(w, f, sizeof(f));
	world_pump(w);
}

static void test_ipv6_packet_too_big(void **state)
{
	struct world *w = world_new();
	struct host *b = add6(w, 2, A2, false);

	(void)state;
	assert_int_equal(tapir_ipv6_mtu(b->st, A5), 1500);
	send_ptb(w, b, 1400, 1300);  /* quotes a packet that fit: forged */
	assert_int_equal(tapir_ipv6_mtu(b->st, A5), 1500);
	assert_int_equal(CTR(b, IPV6_PMTU_IGNORED), 1);
	send_ptb(w, b, 1400, 1500);
	assert_int_equal(tapir_ipv6_mtu(b->st, A5), 1400);
	send_ptb(w, b, 1000, 1400);  /* below 1280: 1280 */
	assert_int_equal(tapir_ipv6_mtu(b->st, A5), 1280);
	assert_int_equal(CTR(b, IPV6_PMTU_CLAMPED), 1);
	send_ptb(w, b, 1450, 1500);  /* never raised */
	assert_int_equal(tapir_ipv6_mtu(b->st, A5), 1280);
	assert_int_equal(tapir_ipv6_mtu(b->st, A1), 1500);
	world_free(w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ipv6_fragmented_over_ndp),
		cmocka_unit_test(test_ipv6_pending_bounds),
		cmocka_unit_test(test_ipv6_dad_conflict),
		cmocka_unit_test(test_ipv6_stable_privacy),
		cmocka_unit_test(test_ipv6_source_selection),
		cmocka_unit_test(test_ipv6_packet_too_big),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
