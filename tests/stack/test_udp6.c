/*
 * test_udp6.c - UDP over IPv6 between stacks on a vnetif wire and against
 *               crafted frames: checksums, fragments both ways, port
 *               unreachable (and none for multicast), ICMPv6 errors to the
 *               error callback, dual-stack and single-family listeners
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
#include "tapir/forward.h"
#include "tapir/ipv6.h"
#include "tapir/udp.h"
#include "wire/bytes.h"
#include "wire/checksum.h"
#include "wire/icmpv6.h"
#include "wire/ipv6.h"

#define SEC TAPIR_STACK_NS_PER_SEC
#define CTR(h, c) tapir_stack_counter((h)->st, TAPIR_CTR_##c)

static const uint8_t A1[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };
static const uint8_t A2[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 2 };
static const uint8_t A5[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 5 };
static const uint8_t A99[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 0x99 };
static const uint8_t ALL_NODES[16] = { 0xff, 0x02, [15] = 1 };
static const uint8_t OTHER_GROUP[16] = { 0xff, 0x02, [14] = 0x12, [15] = 0x34 };

static struct tapir_addr addr6(const uint8_t a[16])
{
	struct tapir_addr r = { .family = TAPIR_AF_INET6 };

	memcpy(r.v6, a, 16);
	return r;
}

/* A host with IPv4 192.0.2.@last and IPv6 @addr/64, DAD off */
static struct host *add6(struct world *w, uint8_t last, const uint8_t addr[16])
{
	struct tapir_stack_config c;

	tapir_stack_config_defaults(&c);
	c.ipv6.enabled = true;
	c.ipv6.dad = false;
	c.ipv6.naddrs = 1;
	memcpy(c.ipv6.addrs[0].addr, addr, 16);
	c.ipv6.addrs[0].prefix_len = 64;
	return world_add(w, last, &c);
}

struct rx_log {
	size_t n, len;
	uint8_t *data;
	struct tapir_udp_meta m;
	struct tapir_stack *echo;     /* set: echo each datagram back */
	size_t nerr;
	struct tapir_udp_err err;
};

static void rx(void *ctx, const struct tapir_udp_meta *m, const uint8_t *data, size_t len)
{
	struct rx_log *l = ctx;

	l->n++;
	free(l->data);
	l->data = malloc(len ? len : 1);
	memcpy(l->data, data, len);
	l->len = len;
	l->m = *m;
	if (l->echo)
		assert_int_equal(tapir_udp_sendto_from(l->echo, &m->dst, m->dst_port, &m->src,
						       m->src_port, 0, data, len), 0);
}

static void err(void *ctx, const struct tapir_udp_err *e)
{
	struct rx_log *l = ctx;

	l->nerr++;
	l->err = *e;
}

/* 1 byte, 1452 (the largest unfragmented at MTU 1500) and 8000 bytes
 * (fragmented) to an echoing listener and back */
static void test_udp6_echo_sizes(void **state)
{
	static const size_t sizes[] = { 1, 1452, 8000 };
	struct world *w = world_new();
	struct host *a = add6(w, 1, A1), *b = add6(w, 2, A2);
	struct rx_log la = { 0 }, lb = { 0 };
	struct tapir_addr dst = addr6(A2);
	uint8_t *data = malloc(8000);

	(void)state;
	lb.echo = b->st;
	assert_int_equal(tapir_udp_listen(b->st, 7, rx, &lb), 0);
	assert_int_equal(tapir_udp_listen(a->st, 5000, rx, &la), 0);
	for (int i = 0; i < 8000; i++)
		data[i] = (uint8_t)(i * 7 + (i >> 8));
	for (size_t k = 0; k < 3; k++) {
		uint64_t frags_a = CTR(a, IPV6_FRAGS_TX), frags_b = CTR(b, IPV6_FRAGS_TX);

		assert_int_equal(tapir_udp_sendto(a->st, 5000, &dst, 7, 0, data, sizes[k]), 0);
		world_pump(w);
		assert_int_equal(lb.n, k + 1);
		assert_int_equal(lb.len, sizes[k]);
		assert_memory_equal(lb.data, data, sizes[k]);
		assert_int_equal(lb.m.src.family, TAPIR_AF_INET6);
		assert_memory_equal(lb.m.src.v6, A1, 16);
		assert_int_equal(lb.m.dst.family, TAPIR_AF_INET6);
		assert_memory_equal(lb.m.dst.v6, A2, 16);
		assert_int_equal(lb.m.src_port, 5000);
		assert_int_equal(lb.m.dst_port, 7);
		assert_int_equal(lb.m.ttl, 64);
		assert_false(lb.m.multicast);
		assert_int_equal(la.n, k + 1);
		assert_int_equal(la.len, sizes[k]);
		assert_memory_equal(la.data, data, sizes[k]);
		assert_memory_equal(la.m.src.v6, A2, 16);
		assert_int_equal(la.m.src_port, 7);
		if (sizes[k] > 1452) {
			/* (1500 - 48) & ~7 = 1448 bytes a fragment: 8008 in 6 */
			assert_int_equal(CTR(a, IPV6_FRAGS_TX) - frags_a, 6);
			assert_int_equal(CTR(b, IPV6_FRAGS_TX) - frags_b, 6);
		} else {
			assert_int_equal(CTR(a, IPV6_FRAGS_TX), frags_a);
			assert_int_equal(CTR(b, IPV6_FRAGS_TX), frags_b);
		}
	}
	assert_int_equal(CTR(a, REASM6_COMPLETED), 1);
	assert_int_equal(CTR(b, REASM6_COMPLETED), 1);
	assert_int_equal(CTR(b, UDP_DELIVERED), 3);
	assert_int_equal(CTR(a, UDP_DROP_CHECKSUM) + CTR(b, UDP_DROP_CHECKSUM), 0);
	/* the largest datagram IPv6 can carry with a fragment header, and one more */
	uint8_t *big = calloc(1, 65520);
	assert_int_equal(tapir_udp_sendto(a->st, 5000, &dst, 7, 0, big, 65520), -EMSGSIZE);
	assert_int_equal(tapir_udp_sendto(a->st, 5000, &dst, 7, 0, big, 65519), 0);
	world_pump(w);
	assert_int_equal(lb.len, 65519);
	assert_int_equal(la.len, 65519);
	free(big);
	free(la.data);
	free(lb.data);
	free(data);
	world_free(w);
}

/* Build a UDP datagram from 2001:db8::99 to @dst port @dport in @f (a frame
 * to @h); @csum: 0 = correct, 1 = corrupted, 2 = zero.  Return: frame length */
static size_t udp6_frame(struct world *w, struct host *h, uint8_t *f, const uint8_t dst[16],
			 uint16_t dport, const char *payload, int csum)
{
	size_t plen = strlen(payload), ulen = 8 + plen;
	struct ipv6_repr r = { .next_header = 17, .hop_limit = 64, .payload_len = (uint16_t)ulen };
	uint8_t *u = f + 54;
	uint16_t c;

	memcpy(f, h->mac, 6);
	if (dst[0] == 0xff) {
		static const uint8_t mc[6] = { 0x33, 0x33, 0, 0, 0, 1 };

		memcpy(f, mc, 6);
		f[5] = dst[15];
		f[4] = dst[14];
	}
	memcpy(f + 6, w->raw_mac, 6);
	put_be16(f + 12, TAPIR_ETHERTYPE_IPV6);
	memcpy(r.src, A99, 16);
	memcpy(r.dst, dst, 16);
	ipv6_repr_emit(&r, f + 14);
	put_be16(u, 4242);
	put_be16(u + 2, dport);
	put_be16(u + 4, (uint16_t)ulen);
	put_be16(u + 6, 0);
	memcpy(u + 8, payload, plen);
	c = inet_csum_fold(inet_csum_add(ipv6_csum_pseudo(A99, dst, (uint32_t)ulen, 17), u, ulen));
	if (csum == 0)
		put_be16(u + 6, c ? c : 0xffff);
	else if (csum == 1)
		put_be16(u + 6, (uint16_t)(c ^ 0x0100));
	return 54 + ulen;
}

static void test_udp6_checksum(void **state)
{
	struct world *w = world_new();
	struct host *b = add6(w, 2, A2);
	struct rx_log lb = { 0 };
	uint8_t f[128];

	(void)state;
	assert_int_equal(tapir_udp_listen(b->st, 7000, rx, &lb), 0);
	raw_send(w, f, udp6_frame(w, b, f, A2, 7000, "good", 0));
	world_pump(w);
	assert_int_equal(lb.n, 1);
	assert_int_equal(lb.len, 4);
	assert_memory_equal(lb.data, "good", 4);
	assert_memory_equal(lb.m.src.v6, A99, 16);
	assert_int_equal(lb.m.src_port, 4242);
	/* odd length: the pad byte of the checksum */
	raw_send(w, f, udp6_frame(w, b, f, A2, 7000, "odd", 0));
	world_pump(w);
	assert_int_equal(lb.n, 2);
	raw_send(w, f, udp6_frame(w, b, f, A2, 7000, "bad!", 1));
	world_pump(w);
	assert_int_equal(lb.n, 2);
	assert_int_equal(CTR(b, UDP_DROP_CHECKSUM), 1);
	/* RFC 8200 8.1: a zero checksum is not "none" over IPv6 */
	raw_send(w, f, udp6_frame(w, b, f, A2, 7000, "zero", 2));
	world_pump(w);
	assert_int_equal(lb.n, 2);
	assert_int_equal(CTR(b, UDP_DROP_ZERO_CSUM), 1);
	assert_int_equal(CTR(b, UDP_DELIVERED), 2);
	/* a length field past the payload */
	size_t n = udp6_frame(w, b, f, A2, 7000, "long", 0);
	put_be16(f + 54 + 4, 40);
	raw_send(w, f, n);
	world_pump(w);
	assert_int_equal(CTR(b, UDP_DROP_LENGTH), 1);
	/* to all-nodes: delivered, marked multicast; to a group we are not in: not */
	raw_send(w, f, udp6_frame(w, b, f, ALL_NODES, 7000, "all", 0));
	world_pump(w);
	assert_int_equal(lb.n, 3);
	assert_true(lb.m.multicast);
	assert_memory_equal(lb.m.dst.v6, ALL_NODES, 16);
	uint64_t not_us = CTR(b, IPV6_DROP_NOT_US);
	raw_send(w, f, udp6_frame(w, b, f, OTHER_GROUP, 7000, "other", 0));
	world_pump(w);
	assert_int_equal(lb.n, 3);
	assert_int_equal(CTR(b, IPV6_DROP_NOT_US), not_us + 1);
	free(lb.data);
	world_free(w);
}

/* A closed port: ICMPv6 port unreachable, which reaches the sender's error
 * callback; never for a datagram sent to a multicast group */
static void test_udp6_port_unreachable(void **state)
{
	struct world *w = world_new();
	struct host *a = add6(w, 1, A1), *b = add6(w, 2, A2);
	struct rx_log la = { 0 };
	struct tapir_addr dst = addr6(A2), all = addr6(ALL_NODES);

	(void)state;
	assert_int_equal(tapir_udp_listen_err(a->st, 5000, rx, err, &la), 0);
	assert_int_equal(tapir_udp_sendto(a->st, 5000, &dst, 9, 0, (const uint8_t *)"hello", 5), 0);
	world_pump(w);
	assert_int_equal(CTR(b, UDP_DROP_NO_LISTENER), 1);
	assert_int_equal(CTR(b, ICMPV6_ERRORS_SENT), 1);
	assert_int_equal(CTR(a, UDP_ICMP_ERRORS_RX), 1);
	assert_int_equal(CTR(a, UDP_ICMP_ERRORS_DELIVERED), 1);
	assert_int_equal(la.nerr, 1);
	assert_int_equal(la.err.from.family, TAPIR_AF_INET6);
	assert_memory_equal(la.err.from.v6, A2, 16);
	assert_int_equal(la.err.type, ICMPV6_DEST_UNREACH);
	assert_int_equal(la.err.code, ICMPV6_UNREACH_PORT);
	assert_int_equal(tapir_udp_err_errno(&la.err), -ECONNREFUSED);
	assert_memory_equal(la.err.dst.v6, A2, 16);
	assert_int_equal(la.err.src_port, 5000);
	assert_int_equal(la.err.dst_port, 9);
	/* ICMPv6 quotes the whole datagram: the payload comes back */
	assert_int_equal(la.err.data_len, 5);
	assert_memory_equal(la.err.data, "hello", 5);
	/* to all-nodes port 9: dropped, no error (RFC 4443 2.4 e.3) */
	assert_int_equal(tapir_udp_sendto(a->st, 5000, &all, 9, 0, (const uint8_t *)"x", 1), 0);
	world_pump(w);
	assert_int_equal(CTR(b, UDP_DROP_NO_LISTENER), 2);
	assert_int_equal(CTR(b, ICMPV6_ERRORS_SENT), 1);
	assert_int_equal(CTR(b, ICMPV6_ERRORS_SUPPRESSED), 1);
	assert_int_equal(la.nerr, 1);
	/* an error about an ephemeral port nobody listens on: counted only */
	world_advance(w, 2 * SEC);   /* refill the rate limit */
	assert_int_equal(tapir_udp_sendto(a->st, 0, &dst, 9, 0, (const uint8_t *)"y", 1), 0);
	world_pump(w);
	assert_int_equal(CTR(b, ICMPV6_ERRORS_SENT), 2);
	assert_int_equal(CTR(a, UDP_DROP_ICMP_INVALID), 1);
	assert_int_equal(la.nerr, 1);
	free(la.data);
	world_free(w);
}

/* A Packet Too Big about a datagram from a listened port: the MTU is applied
 * and the listener told */
static void test_udp6_packet_too_big(void **state)
{
	struct world *w = world_new();
	struct host *b = add6(w, 2, A2);
	struct rx_log lb = { 0 };
	uint8_t f[14 + 40 + 8 + 48];
	struct ipv6_repr r = { .next_header = IPV6_NH_ICMPV6, .hop_limit = 64, .payload_len = 56 };
	uint8_t *m = f + 54, *q = m + 8;

	(void)state;
	assert_int_equal(tapir_udp_listen_err(b->st, 6000, rx, err, &lb), 0);
	memcpy(f, b->mac, 6);
	memcpy(f + 6, w->raw_mac, 6);
	put_be16(f + 12, TAPIR_ETHERTYPE_IPV6);
	memcpy(r.src, A99, 16);
	memcpy(r.dst, A2, 16);
	ipv6_repr_emit(&r, f + 14);
	memset(m, 0, 56);
	m[0] = ICMPV6_PKT_TOO_BIG;
	put_be32(m + 4, 1400);
	/* the quote: B's 1500-byte datagram from port 6000 to [2001:db8::5]:53 */
	q[0] = 0x60;
	put_be16(q + 4, 1460);
	q[6] = 17;
	q[7] = 64;
	memcpy(q + 8, A2, 16);
	memcpy(q + 24, A5, 16);
	put_be16(q + 40, 6000);
	put_be16(q + 42, 53);
	put_be16(q + 44, 1460);
	icmpv6_set_csum(A99, A2, m, 56);
	raw_send(w, f, sizeof(f));
	world_pump(w);
	assert_int_equal(lb.nerr, 1);
	assert_int_equal(lb.err.type, ICMPV6_PKT_TOO_BIG);
	assert_int_equal(lb.err.mtu, 1400);
	assert_int_equal(tapir_udp_err_errno(&lb.err), -EMSGSIZE);
	assert_memory_equal(lb.err.dst.v6, A5, 16);
	assert_int_equal(lb.err.dst_port, 53);
	assert_int_equal(tapir_ipv6_mtu(b->st, A5), 1400);
	/* the same about a port without a listener: the MTU still applies (the
	 * IPv6 layer's), UDP counts it as invalid */
	put_be16(q + 40, 6001);
	put_be32(m + 4, 1300);
	icmpv6_set_csum(A99, A2, m, 56);
	raw_send(w, f, sizeof(f));
	world_pump(w);
	assert_int_equal(lb.nerr, 1);
	assert_int_equal(CTR(b, UDP_DROP_ICMP_INVALID), 1);
	free(lb.data);
	world_free(w);
}

/* One listen serves both families; a single-family listener leaves the other
 * family's datagrams to the closed-port rule */
static void test_udp6_dual_stack(void **state)
{
	struct world *w = world_new();
	struct host *a = add6(w, 1, A1), *b = add6(w, 2, A2);
	struct rx_log both = { 0 }, only6 = { 0 }, only4 = { 0 }, la = { 0 };
	struct tapir_addr b6 = addr6(A2), b4 = tapir_addr_v4(b->ip), mapped;
	struct tapir_udp_listener_info li[4];

	(void)state;
	assert_int_equal(tapir_udp_listen(b->st, 7000, rx, &both), 0);
	assert_int_equal(tapir_udp_listen_family(b->st, 7001, TAPIR_AF_INET6, rx, NULL, &only6), 0);
	assert_int_equal(tapir_udp_listen_family(b->st, 7002, TAPIR_AF_INET, rx, NULL, &only4), 0);
	assert_int_equal(tapir_udp_listen_family(b->st, 7000, TAPIR_AF_INET6, rx, NULL, &only6),
			 -EADDRINUSE);
	assert_int_equal(tapir_udp_listen_family(b->st, 7003, 5, rx, NULL, &only6), -EINVAL);
	assert_int_equal(tapir_udp_list_info(b->st, li, 4), 3);
	assert_int_equal(li[0].port, 7000);
	assert_int_equal(li[0].family, TAPIR_AF_UNSPEC);
	assert_int_equal(li[1].family, TAPIR_AF_INET6);
	assert_int_equal(li[2].family, TAPIR_AF_INET);
	assert_int_equal(tapir_udp_listen_err(a->st, 5000, rx, err, &la), 0);

	assert_int_equal(tapir_udp_sendto(a->st, 5000, &b4, 7000, 0, (const uint8_t *)"v4", 2), 0);
	world_pump(w);
	assert_int_equal(both.n, 1);
	assert_int_equal(both.m.src.family, TAPIR_AF_INET);
	assert_int_equal(both.m.src.v4, a->ip);
	assert_int_equal(tapir_udp_sendto(a->st, 5000, &b6, 7000, 0, (const uint8_t *)"v6", 2), 0);
	world_pump(w);
	assert_int_equal(both.n, 2);
	assert_int_equal(both.m.src.family, TAPIR_AF_INET6);
	assert_memory_equal(both.m.src.v6, A1, 16);
	/* an IPv4-mapped destination goes over IPv4 */
	mapped = tapir_addr_to_v6(&b4);
	assert_int_equal(tapir_udp_sendto(a->st, 5000, &mapped, 7000, 0, (const uint8_t *)"m", 1), 0);
	world_pump(w);
	assert_int_equal(both.n, 3);
	assert_int_equal(both.m.src.family, TAPIR_AF_INET);

	assert_int_equal(tapir_udp_sendto(a->st, 5000, &b6, 7001, 0, (const uint8_t *)"x", 1), 0);
	assert_int_equal(tapir_udp_sendto(a->st, 5000, &b4, 7001, 0, (const uint8_t *)"x", 1), 0);
	world_pump(w);
	assert_int_equal(only6.n, 1);
	assert_int_equal(la.nerr, 1);   /* the IPv4 one: ICMP port unreachable */
	assert_int_equal(la.err.from.family, TAPIR_AF_INET);
	assert_int_equal(tapir_udp_err_errno(&la.err), -ECONNREFUSED);
	assert_int_equal(tapir_udp_sendto(a->st, 5000, &b4, 7002, 0, (const uint8_t *)"x", 1), 0);
	assert_int_equal(tapir_udp_sendto(a->st, 5000, &b6, 7002, 0, (const uint8_t *)"x", 1), 0);
	world_pump(w);
	assert_int_equal(only4.n, 1);
	assert_int_equal(la.nerr, 2);   /* the IPv6 one: ICMPv6 port unreachable */
	assert_int_equal(la.err.from.family, TAPIR_AF_INET6);
	assert_int_equal(la.err.code, ICMPV6_UNREACH_PORT);
	assert_int_equal(CTR(b, UDP_DROP_NO_LISTENER), 2);

	/* a source of the wrong family, and no IPv6 on a stack without it */
	assert_int_equal(tapir_udp_sendto_from(a->st, &b4, 5000, &b6, 7000, 0, NULL, 0), -EINVAL);
	struct host *c = world_add(w, 3, NULL);
	assert_int_equal(tapir_udp_sendto(c->st, 5000, &b6, 7000, 0, NULL, 0), -EAFNOSUPPORT);
	free(both.data);
	free(only6.data);
	free(only4.data);
	free(la.data);
	world_free(w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_udp6_echo_sizes),
		cmocka_unit_test(test_udp6_checksum),
		cmocka_unit_test(test_udp6_port_unreachable),
		cmocka_unit_test(test_udp6_packet_too_big),
		cmocka_unit_test(test_udp6_dual_stack),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
