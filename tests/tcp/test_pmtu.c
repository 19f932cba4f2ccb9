/*
 * test_pmtu.c - "fragmentation needed" during a bulk transfer between two stacks
 *
 * Host a (192.0.2.2) sends BULK bytes to b (192.0.2.3), which connected to it;
 * a's frames are delayed 1 ms so that data is in flight.  Half way, the raw
 * port (a "router" at 192.0.2.99) sends a an ICMP 3/4 with a next-hop MTU
 * quoting one of a's segments to b (in window: the next sequence number b has
 * not seen), or forged ones (UDP from a port without a socket, TCP out of
 * window, an ICMP echo request).
 * Whatever the MTU, the transfer must end intact, without a retransmission
 * timeout and within a few seconds of fake time (the bug: a path MTU of 100
 * made every segment fail with -EMSGSIZE until the entry expired, 10 min).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "tcp_helper.h"
#include "wire/bytes.h"
#include "wire/checksum.h"
#include "wire/eth.h"
#include "wire/icmp.h"
#include "wire/ipv4.h"

#define SEC TAPIR_STACK_NS_PER_SEC
#define CTR(h, c) tapir_stack_counter((h)->st, TAPIR_CTR_##c)
#define PORT 5001
#define BULK (4u << 20)

struct xfer {
	struct tapir_tcp_flow *tx, *rx;       /* a's flow (sender), b's flow (receiver) */
	size_t written, received;
	int eofs;
	uint8_t buf[65536];
	/* what b received from a */
	struct tapir_netif_rx b_up;           /* b's own receive path */
	uint32_t next_seq;              /* after the last data segment from a */
	uint16_t a_port;                /* a's local port (PORT) */
	size_t max_ip_len;              /* largest datagram from a since the reset */
	bool df_seen, nodf_seen;
};

static void x_fill(struct xfer *x)
{
	while (x->tx && x->written < BULK) {
		size_t n = BULK - x->written < sizeof(x->buf) ? BULK - x->written : sizeof(x->buf);
		long k = tapir_tcp_write(x->tx, x->buf, n);

		assert_true(k >= 0);
		if (k == 0)
			return;
		x->written += (size_t)k;
		if (x->written == BULK)
			tapir_tcp_shutdown(x->tx, false, true);
	}
}

static void x_recv(void *ctx, struct tapir_tcp_flow *f, const uint8_t *data, size_t len)
{
	struct xfer *x = ctx;

	(void)f;
	(void)data;
	if (!len)
		x->eofs++;
	x->received += len;
}

static void x_writable(void *ctx, struct tapir_tcp_flow *f)
{
	(void)f;
	x_fill(ctx);
}

static void x_closed(void *ctx, struct tapir_tcp_flow *f, int err)
{
	(void)ctx;
	(void)f;
	(void)err;
}

static const struct tapir_tcp_callbacks x_cbs = { x_recv, x_writable, x_closed };

static void x_accept(void *ctx, struct tapir_tcp_flow *f)
{
	struct xfer *x = ctx;

	x->tx = f;
	tapir_tcp_flow_set_callbacks(f, &x_cbs, x);
	x_fill(x);
}

static void x_connect(void *ctx, struct tapir_tcp_flow *f, int err)
{
	struct xfer *x = ctx;

	assert_int_equal(err, 0);
	x->rx = f;
	tapir_tcp_flow_set_callbacks(f, &x_cbs, x);
}

/* b's receive path: note a's segments, then hand the frame on. */
static void b_spy(void *ctx, const uint8_t *frame, size_t len, unsigned flags)
{
	struct xfer *x = ctx;

	if (len >= 14 + 20 + 20 && get_be16(frame + 12) == TAPIR_ETHERTYPE_IPV4 && frame[23] == 6) {
		const uint8_t *ip = frame + 14, *t = ip + (ip[0] & 15) * 4;
		size_t total = get_be16(ip + 2), hl = (size_t)(ip[0] & 15) * 4;
		size_t dlen = total - hl - (size_t)(t[12] >> 4) * 4;

		if (get_be16(t) == x->a_port) {
			if (total > x->max_ip_len)
				x->max_ip_len = total;
			if (get_be16(ip + 6) & IPV4_FLAG_DF)
				x->df_seen = true;
			else
				x->nodf_seen = true;
			if (dlen)
				x->next_seq = get_be32(t + 4) + (uint32_t)dlen;
		}
	}
	tapir_netif_rx_input(&x->b_up, frame, len, flags);
}

/* An ICMP 3/4 from the raw port to @a quoting a datagram from a to @about
 * (@proto, 8 bytes of @l4, @total bytes long, DF set). */
static void frag_needed(struct world *w, struct host *a, uint32_t about, uint8_t proto,
			const uint8_t l4[8], uint16_t total, uint16_t mtu)
{
	uint8_t icmp[8 + 28], frame[128];
	struct ipv4_repr q = { .src = a->ip, .dst = about, .proto = proto, .ttl = 63,
			       .payload_len = (size_t)total - 20, .df = true };
	struct ipv4_repr ip = { .src = w->raw_ip, .dst = a->ip, .proto = TAPIR_IP_PROTO_ICMP, .ttl = 64,
				.payload_len = sizeof(icmp) };
	struct eth_repr e;

	memset(icmp, 0, sizeof(icmp));
	icmp[0] = TAPIR_ICMP_DEST_UNREACH;
	icmp[1] = TAPIR_ICMP_UNREACH_FRAG_NEEDED;
	put_be16(icmp + 6, mtu);
	ipv4_repr_emit(&q, icmp + 8);
	memcpy(icmp + 28, l4, 8);
	put_be16(icmp + 2, inet_csum(icmp, sizeof(icmp)));
	memcpy(e.dst, a->mac, 6);
	memcpy(e.src, w->raw_mac, 6);
	e.ethertype = TAPIR_ETHERTYPE_IPV4;
	eth_repr_emit(&e, frame);
	ipv4_repr_emit(&ip, frame + 14);
	memcpy(frame + 34, icmp, sizeof(icmp));
	raw_send(w, frame, 34 + sizeof(icmp));
	world_pump(w);
}

/* b's port of the connection */
static uint16_t b_port(const struct xfer *x)
{
	struct tapir_tcp_flow_info fi;

	assert_int_equal(tapir_tcp_flow_info(x->rx, &fi), 0);
	return fi.local_port;
}

static void tcp_quote(uint8_t l4[8], uint16_t sport, uint16_t dport, uint32_t seq)
{
	put_be16(l4, sport);
	put_be16(l4 + 2, dport);
	put_be32(l4 + 4, seq);
}

enum forge { GENUINE, UDP_UNKNOWN_PORT, TCP_OUT_OF_WINDOW, ICMP_ECHO_QUOTE };

struct outcome {
	uint64_t ns;                    /* from the ICMP to the end of the transfer */
	size_t path_mtu;                /* a's path MTU to b after the ICMP */
	struct tapir_tcp_flow_info fi;        /* a's flow at the end */
	struct xfer *x;
};

/*
 * A transfer a -> b with an ICMP "fragmentation needed" reporting @mtu half
 * way (@min_pmtu: a's configuration, 0 = default).  Fills @o; the caller
 * checks the counters of @a through @o->x before world_free() (done here).
 */
static void run(uint16_t mtu, uint32_t min_pmtu, enum forge forge, struct outcome *o,
		uint64_t ctr[TAPIR_CTR__COUNT])
{
	struct world *w = world_new();
	struct tapir_stack_config cfg;
	struct impair_config ic;
	struct host *a, *b;
	struct xfer *x = calloc(1, sizeof(*x));
	uint8_t l4[8];
	uint64_t t0;

	tapir_stack_config_defaults(&cfg);
	cfg.min_pmtu = min_pmtu;
	impair_config_defaults(&ic);
	ic.delay_ns = MSEC;
	ic.tx = true;
	ic.rx = false;
	ic.seed = 1;
	a = world_add_impaired(w, 2, &cfg, &ic);
	b = world_add(w, 3, NULL);
	x->a_port = PORT;
	memset(x->buf, 0xa5, sizeof(x->buf));
	x->b_up = b->rx;
	b->rx = (struct tapir_netif_rx){ b_spy, x };
	assert_int_equal(tapir_tcp_listen(a->st, PORT, NULL, x_accept, x), 0);
	world_advance(w, MSEC);
	assert_int_equal(tapir_tcp_connect(b->st, A4(a->ip), PORT, NULL, x_connect, x), 0);
	while (x->received < BULK / 2) {
		world_advance(w, 100000);
		assert_true(w->now < 2000 * SEC);
	}
	assert_int_equal(tapir_ipv4_mtu(a->st, b->ip), 1500);
	switch (forge) {
	case GENUINE:
		/* the first byte b has not seen: sent by a, not yet acknowledged */
		tcp_quote(l4, PORT, b_port(x), x->next_seq);
		frag_needed(w, a, b->ip, TAPIR_IP_PROTO_TCP, l4, 1500, mtu);
		break;
	case UDP_UNKNOWN_PORT:
		/* the attack of the issue: a "datagram" from an unused port of a to b */
		put_be16(l4, 40000);
		put_be16(l4 + 2, 53);
		put_be16(l4 + 4, 1480);
		put_be16(l4 + 6, 0);
		frag_needed(w, a, b->ip, TAPIR_IP_PROTO_UDP, l4, 1500, mtu);
		break;
	case TCP_OUT_OF_WINDOW:
		/* 1 GiB ahead: beyond any flight, however far autotuning
		 * grows the buffers (sndbuf_max is 1 MiB by default) */
		tcp_quote(l4, PORT, b_port(x), x->next_seq + (1u << 30));
		frag_needed(w, a, b->ip, TAPIR_IP_PROTO_TCP, l4, 1500, mtu);
		break;
	case ICMP_ECHO_QUOTE:
		/* an echo request "from a": ICMP has no state to check it against */
		memset(l4, 0, 8);
		l4[0] = TAPIR_ICMP_ECHO_REQUEST;
		put_be16(l4 + 4, 0x4242);
		frag_needed(w, a, b->ip, TAPIR_IP_PROTO_ICMP, l4, 1500, mtu);
		break;
	}
	o->path_mtu = tapir_ipv4_mtu(a->st, b->ip);
	t0 = w->now;
	/* what a sent before the ICMP is still on the wire for 1 ms */
	world_advance(w, 1100000);
	assert_true(x->received < BULK);
	x->max_ip_len = 0;
	x->df_seen = x->nodf_seen = false;
	while (!x->eofs) {
		world_advance(w, 100000);
		assert_true(w->now - t0 < 30 * SEC);
	}
	o->ns = w->now - t0;
	assert_int_equal(x->received, BULK);
	tapir_tcp_flow_info(x->tx, &o->fi);
	tapir_stack_stats(a->st, ctr);
	o->x = x;
	world_advance(w, 200 * SEC);
	tapir_tcp_close(x->tx);
	tapir_tcp_close(x->rx);
	world_advance(w, 200 * SEC);
	assert_int_equal(tapir_tcp_flow_count(a->st), 0);
	world_free(w);
}

/* What each reported MTU gives with the default min_pmtu (552). */
static void test_pmtu_during_bulk(void **state)
{
	static const struct {
		uint16_t mtu;
		size_t path;            /* a's path MTU to b afterwards */
		bool nodf;              /* sent without DF afterwards */
	} cases[] = {
		{ 100, 552, true },   { 0, 1492, false },    { 68, 552, true },
		{ 551, 552, true },   { 552, 552, false },   { 1280, 1280, false },
		{ 1499, 1499, false }, { 1500, 1500, false }, { 65535, 1500, false },
	};
	uint64_t *ctr = calloc(TAPIR_CTR__COUNT, sizeof(*ctr));

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct outcome o;

		memset(&o, 0, sizeof(o));
		run(cases[i].mtu, 0, GENUINE, &o, ctr);
		print_message("mtu %5u: path %zu, mss %u, done in %.3f s, rto %llu, emsgsize %llu\n",
			      cases[i].mtu, o.path_mtu, o.fi.mss, (double)o.ns / SEC,
			      (unsigned long long)o.fi.rto_timeouts,
			      (unsigned long long)ctr[TAPIR_CTR_TCP_TX_EMSGSIZE]);
		assert_int_equal(ctr[TAPIR_CTR_TCP_DROP_ICMP_INVALID], 0);
		assert_int_equal(o.path_mtu, cases[i].path);
		assert_int_equal(o.fi.mss, cases[i].path - 40 - (o.fi.timestamps ? 12 : 0));
		assert_true(o.x->max_ip_len <= cases[i].path);
		assert_true(o.x->max_ip_len >= cases[i].path - 40);
		assert_int_equal(o.x->nodf_seen, cases[i].nodf);
		assert_int_equal(o.x->df_seen, !cases[i].nodf);
		assert_int_equal(o.fi.rto_timeouts, 0);
		assert_true(o.ns < 3 * SEC);
		assert_int_equal(ctr[TAPIR_CTR_IPV4_PMTU_CLAMPED], cases[i].nodf ? 1 : 0);
		free(o.x);
	}
	free(ctr);
}

/* With min_pmtu lowered to RFC 1191's floor (68), the MSS follows the MTU
 * down to what fits: 16 bytes of data beside the timestamps at 68. */
static void test_pmtu_tiny_min(void **state)
{
	static const uint16_t mtus[] = { 68, 100 };
	uint64_t *ctr = calloc(TAPIR_CTR__COUNT, sizeof(*ctr));

	(void)state;
	for (size_t i = 0; i < 2; i++) {
		struct outcome o;

		memset(&o, 0, sizeof(o));
		run(mtus[i], 68, GENUINE, &o, ctr);
		print_message("min_pmtu 68, mtu %u: mss %u, done in %.3f s, emsgsize %llu\n", mtus[i],
			      o.fi.mss, (double)o.ns / SEC, (unsigned long long)ctr[TAPIR_CTR_TCP_TX_EMSGSIZE]);
		assert_int_equal(o.path_mtu, mtus[i]);
		assert_int_equal(o.fi.mss, mtus[i] - 40u - (o.fi.timestamps ? 12 : 0));
		assert_true(o.x->max_ip_len <= mtus[i]);
		assert_true(o.x->df_seen);
		assert_int_equal(o.fi.rto_timeouts, 0);
		assert_true(o.ns < 20 * SEC);
		free(o.x);
	}
	free(ctr);
}

/* Forged: a UDP "datagram" from a port with no socket, a TCP segment outside
 * the window, an ICMP echo request.  Dropped, counted, the path MTU is
 * untouched. */
static void test_pmtu_forged(void **state)
{
	uint64_t *ctr = calloc(TAPIR_CTR__COUNT, sizeof(*ctr));
	struct outcome o;

	(void)state;
	memset(&o, 0, sizeof(o));
	run(100, 0, UDP_UNKNOWN_PORT, &o, ctr);
	assert_int_equal(o.path_mtu, 1500);
	assert_int_equal(ctr[TAPIR_CTR_UDP_DROP_ICMP_INVALID], 1);
	assert_int_equal(ctr[TAPIR_CTR_IPV4_PMTU_UPDATED], 0);
	assert_int_equal(o.fi.mss, 1500 - 40 - (o.fi.timestamps ? 12 : 0));
	assert_true(o.x->df_seen && !o.x->nodf_seen);
	free(o.x);

	memset(&o, 0, sizeof(o));
	run(100, 0, TCP_OUT_OF_WINDOW, &o, ctr);
	assert_int_equal(o.path_mtu, 1500);
	assert_int_equal(ctr[TAPIR_CTR_TCP_DROP_ICMP_INVALID], 1);
	assert_int_equal(ctr[TAPIR_CTR_IPV4_PMTU_UPDATED], 0);
	assert_int_equal(o.fi.mss, 1500 - 40 - (o.fi.timestamps ? 12 : 0));
	free(o.x);

	memset(&o, 0, sizeof(o));
	run(100, 0, ICMP_ECHO_QUOTE, &o, ctr);
	assert_int_equal(o.path_mtu, 1500);
	assert_int_equal(ctr[TAPIR_CTR_ICMP_DROP_UNMATCHED], 1);
	assert_int_equal(ctr[TAPIR_CTR_IPV4_PMTU_UPDATED], 0);
	free(o.x);
	free(ctr);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pmtu_during_bulk),
		cmocka_unit_test(test_pmtu_tiny_min),
		cmocka_unit_test(test_pmtu_forged),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
