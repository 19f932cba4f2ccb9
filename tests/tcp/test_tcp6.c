/*
 * test_tcp6.c - TCP over IPv6 between two dual-stack stacks on a vnetif wire,
 *               each case run over both families where it applies
 *
 * Host a is 192.0.2.2 and 2001:db8::2, host b 192.0.2.3 and 2001:db8::3 (no
 * DAD).  Cases: handshake, data both ways, FIN both ways and TIME_WAIT on the
 * active closer (with its addresses in the listing); RST for a port without a
 * listener; SYN cookies (backlog 0); a dual-stack listener accepting both
 * families; tapir_tcp_listen_family() for one family refusing the other with
 * a RST; the v4mapped option; a connect taking over a tuple in TIME_WAIT;
 * an ICMPv6 Packet Too Big lowering the MSS of a bulk sender (RFC 8201: never below 1,280 - 60 - options), while one
 * quoting a sequence number out of flight is dropped; and the flow hash, ISN
 * and cookie keys covering every bit of both addresses.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "impair.h"
#include "tcp/tcp_conn.h"
#include "tcp_helper.h"
#include "wire/bytes.h"
#include "wire/checksum.h"
#include "wire/ipv6.h"

#define SEC TAPIR_STACK_NS_PER_SEC
#define CTR(h, c) tapir_stack_counter((h)->st, TAPIR_CTR_##c)

static const uint8_t V6A[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 2 };
static const uint8_t V6B[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 3 };
static const uint8_t V6R[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 0x99 };  /* a "router" */

static const int fam4 = TAPIR_AF_INET, fam6 = TAPIR_AF_INET6;

struct pair {
	struct world *w;
	struct host *a, *b;
	struct app aa, ab;      /* a's listener app, b's connecting app */
};

static struct host *add_host(struct world *w, uint8_t last, const uint8_t v6[16],
			     const struct tapir_stack_config *base, const struct impair_config *ic)
{
	struct tapir_stack_config c;

	if (base)
		c = *base;
	else
		tapir_stack_config_defaults(&c);
	c.ipv6.enabled = true;
	c.ipv6.dad = false;
	c.ipv6.slaac = false;
	c.ipv6.naddrs = 1;
	memcpy(c.ipv6.addrs[0].addr, v6, 16);
	c.ipv6.addrs[0].prefix_len = 64;
	return world_add_impaired(w, last, &c, ic);
}

/* @acfg: a's configuration (NULL: defaults); @a_delay: a's frames wait this long */
static struct pair *pair_new_delay(const struct tapir_stack_config *acfg, uint64_t a_delay)
{
	struct pair *p = calloc(1, sizeof(*p));
	struct impair_config ic;

	assert_non_null(p);
	impair_config_defaults(&ic);
	ic.delay_ns = a_delay;
	ic.tx = true;
	ic.rx = false;
	ic.seed = 1;
	p->w = world_new();
	p->a = add_host(p->w, 2, V6A, acfg, a_delay ? &ic : NULL);
	p->b = add_host(p->w, 3, V6B, NULL, NULL);
	assert_non_null(p->a);
	assert_non_null(p->b);
	app_init(&p->aa, p->a->st);
	app_init(&p->ab, p->b->st);
	world_advance(p->w, 100 * MSEC);
	return p;
}

static struct pair *pair_new(const struct tapir_stack_config *acfg)
{
	return pair_new_delay(acfg, 0);
}

static void pair_free(struct pair *p)
{
	char buf[256];

	assert_null(tapir_tcp_check_invariants(p->a->st, buf, sizeof(buf)));
	assert_null(tapir_tcp_check_invariants(p->b->st, buf, sizeof(buf)));
	assert_true(tapir_tcp_mem_check(p->a->st));
	assert_true(tapir_tcp_mem_check(p->b->st));
	app_fini(&p->aa);
	app_fini(&p->ab);
	world_free(p->w);
	free(p);
}

/* @h's address of @fam */
static struct tapir_addr addr_of(const struct pair *p, const struct host *h, int fam)
{
	struct tapir_addr a = { .family = TAPIR_AF_INET6 };

	if (fam == TAPIR_AF_INET)
		return tapir_addr_v4(h->ip);
	memcpy(a.v6, h == p->a ? V6A : V6B, 16);
	return a;
}

/* b connects to a:@port over @fam; pump.  Return: the connect error (0: connected) */
static int connect_b(struct pair *p, int fam, uint16_t port)
{
	struct tapir_addr to = addr_of(p, p->a, fam);
	int before = p->ab.connects;

	assert_int_equal(tapir_tcp_connect(p->b->st, &to, port, NULL, app_connect, &p->ab), 0);
	world_pump(p->w);
	world_advance(p->w, 10 * MSEC);
	assert_int_equal(p->ab.connects, before + 1);
	return p->ab.connect_err;
}

/* Handshake, data both ways, FIN both ways; b closes first and keeps the
 * tuple in TIME_WAIT for 2 MSL; both ends see the addresses of @fam. */
static void test_conversation(void **state)
{
	int fam = *(const int *)*state;
	struct pair *p = pair_new(NULL);
	struct tapir_tcp_flow_info fi, list[8];
	struct tapir_addr a = addr_of(p, p->a, fam), b = addr_of(p, p->b, fam);
	uint8_t *up = th_pattern(100000, 1), *down = th_pattern(50000, 2);
	size_t n;

	app_listen(&p->aa, p->a, 80, NULL);
	assert_int_equal(connect_b(p, fam, 80), 0);
	assert_int_equal(p->aa.accepts, 1);

	assert_int_equal(tapir_tcp_flow_info(p->ab.flow, &fi), 0);
	assert_true(tapir_addr_eq(&fi.local_addr, &b));
	assert_true(tapir_addr_eq(&fi.remote_addr, &a));
	assert_int_equal(fi.remote_port, 80);
	assert_int_equal(fi.state, TAPIR_TCP_STATE_ESTABLISHED);
	/* MTU 1500 less the IP and TCP headers and the timestamp option */
	assert_int_equal(fi.mss, fam == TAPIR_AF_INET ? 1500 - 40 - 12 : 1500 - 60 - 12);
	assert_int_equal(tapir_tcp_flow_info(p->aa.flow, &fi), 0);
	assert_true(tapir_addr_eq(&fi.local_addr, &a));
	assert_true(tapir_addr_eq(&fi.remote_addr, &b));
	assert_int_equal(fi.local_port, 80);

	for (size_t off = 0; off < 100000;) {
		long k = tapir_tcp_write(p->ab.flow, up + off, 100000 - off);

		assert_true(k >= 0);
		off += (size_t)k;
		world_pump(p->w);
		world_advance(p->w, MSEC);
	}
	assert_int_equal(tapir_tcp_write(p->aa.flow, down, 50000), 50000);
	for (int i = 0; i < 200 && (p->aa.len < 100000 || p->ab.len < 50000); i++)
		world_advance(p->w, MSEC);
	assert_int_equal(p->aa.len, 100000);
	assert_memory_equal(p->aa.data, up, 100000);
	assert_int_equal(p->ab.len, 50000);
	assert_memory_equal(p->ab.data, down, 50000);

	/* b closes first: a sees the end of stream, then closes too */
	tapir_tcp_close(p->ab.flow);
	p->ab.flow = NULL;
	world_advance(p->w, 10 * MSEC);
	assert_int_equal(p->aa.eofs, 1);
	tapir_tcp_close(p->aa.flow);
	p->aa.flow = NULL;
	world_advance(p->w, 10 * MSEC);
	assert_int_equal(tapir_tcp_time_wait_count(p->b->st), 1);
	assert_int_equal(tapir_tcp_flow_count(p->a->st), 0);
	n = tapir_tcp_flow_list(p->b->st, list, 8);
	assert_int_equal(n, 1);
	assert_int_equal(list[0].state, TAPIR_TCP_STATE_TIME_WAIT);
	assert_true(tapir_addr_eq(&list[0].local_addr, &b));
	assert_true(tapir_addr_eq(&list[0].remote_addr, &a));
	assert_int_equal(list[0].remote_port, 80);
	/* 2 MSL later the entry is gone */
	world_advance(p->w, 2 * p->b->st->cfg.tcp.msl_ns + SEC);
	assert_int_equal(tapir_tcp_time_wait_count(p->b->st), 0);
	free(up);
	free(down);
	pair_free(p);
}

/* A SYN to a port without a listener is answered with a RST over its family. */
static void test_refused(void **state)
{
	int fam = *(const int *)*state;
	struct pair *p = pair_new(NULL);

	assert_int_equal(connect_b(p, fam, 81), -ECONNREFUSED);
	assert_int_equal(CTR(p->a, TCP_DROP_NO_LISTENER), 1);
	assert_int_equal(CTR(p->a, TCP_RESETS_SENT), 1);
	assert_int_equal(tapir_tcp_flow_count(p->b->st), 0);
	pair_free(p);
}

/* Backlog 0: every SYN gets a cookie, and the cookie's ACK makes the flow. */
static void test_syncookies(void **state)
{
	int fam = *(const int *)*state;
	struct tapir_stack_config c;
	struct pair *p;

	tapir_stack_config_defaults(&c);
	c.tcp.backlog = 0;
	c.tcp.syn_cookies = true;
	p = pair_new(&c);
	app_listen(&p->aa, p->a, 80, NULL);
	assert_int_equal(connect_b(p, fam, 80), 0);
	assert_int_equal(CTR(p->a, TCP_SYNCOOKIES_SENT), 1);
	assert_int_equal(CTR(p->a, TCP_SYNCOOKIES_OK), 1);
	assert_int_equal(p->aa.accepts, 1);
	assert_int_equal(tapir_tcp_write(p->ab.flow, "cookie", 6), 6);
	world_advance(p->w, 50 * MSEC);
	assert_int_equal(p->aa.len, 6);
	assert_memory_equal(p->aa.data, "cookie", 6);
	pair_free(p);
}

/* One tapir_tcp_listen() takes both families; the v4mapped option reports an
 * IPv4 peer as ::ffff:a.b.c.d and leaves an IPv6 one alone. */
static void test_dual_stack(void **state)
{
	struct pair *p = pair_new(NULL);
	struct tapir_tcp_flow_opts o;
	struct tapir_tcp_flow_info fi;
	struct tapir_addr b4 = addr_of(p, p->b, TAPIR_AF_INET), b6 = addr_of(p, p->b, TAPIR_AF_INET6);
	struct tapir_addr mapped = tapir_addr_to_v6(&b4);

	(void)state;
	app_listen(&p->aa, p->a, 80, NULL);
	assert_int_equal(connect_b(p, TAPIR_AF_INET, 80), 0);
	assert_int_equal(tapir_tcp_flow_info(p->aa.flow, &fi), 0);
	assert_true(tapir_addr_eq(&fi.remote_addr, &b4));
	assert_int_equal(connect_b(p, TAPIR_AF_INET6, 80), 0);
	assert_int_equal(tapir_tcp_flow_info(p->aa.flow, &fi), 0);
	assert_true(tapir_addr_eq(&fi.remote_addr, &b6));
	assert_int_equal(p->aa.accepts, 2);

	tapir_tcp_flow_opts_defaults(p->a->st, &o);
	o.v4mapped = true;
	assert_int_equal(tapir_tcp_listen(p->a->st, 81, &o, app_accept, &p->aa), 0);
	assert_int_equal(connect_b(p, TAPIR_AF_INET, 81), 0);
	assert_int_equal(tapir_tcp_flow_info(p->aa.flow, &fi), 0);
	assert_int_equal(fi.remote_addr.family, TAPIR_AF_INET6);
	assert_true(tapir_addr_eq(&fi.remote_addr, &mapped));
	assert_true(tapir_addr_is_v4mapped(&fi.local_addr, NULL));
	assert_int_equal(connect_b(p, TAPIR_AF_INET6, 81), 0);
	assert_int_equal(tapir_tcp_flow_info(p->aa.flow, &fi), 0);
	assert_true(tapir_addr_eq(&fi.remote_addr, &b6));
	assert_int_equal(p->aa.accepts, 4);
	pair_free(p);
}

/* tapir_tcp_listen_family(AF_INET6) refuses IPv4 with a RST and takes IPv6;
 * a port takes one listener per family, or one for both. */
static void test_listen_family(void **state)
{
	struct pair *p = pair_new(NULL);
	struct tapir_stack *st;
	struct app a4;

	(void)state;
	st = p->a->st;
	app_init(&a4, st);
	assert_int_equal(tapir_tcp_listen_family(st, 80, TAPIR_AF_INET6, NULL, app_accept, &p->aa),
			 0);
	assert_int_equal(tapir_tcp_listen_family(st, 80, TAPIR_AF_INET6, NULL, app_accept, &p->aa),
			 -EADDRINUSE);
	assert_int_equal(tapir_tcp_listen(st, 80, NULL, app_accept, &p->aa), -EADDRINUSE);
	assert_int_equal(tapir_tcp_listen_family(st, 80, 5, NULL, app_accept, &p->aa), -EINVAL);

	assert_int_equal(connect_b(p, TAPIR_AF_INET, 80), -ECONNREFUSED);
	assert_int_equal(CTR(p->a, TCP_RESETS_SENT), 1);
	assert_int_equal(p->aa.accepts, 0);
	assert_int_equal(connect_b(p, TAPIR_AF_INET6, 80), 0);
	assert_int_equal(p->aa.accepts, 1);

	/* an IPv4 listener beside it takes the IPv4 peers */
	assert_int_equal(tapir_tcp_listen_family(st, 80, TAPIR_AF_INET, NULL, app_accept, &a4), 0);
	assert_int_equal(connect_b(p, TAPIR_AF_INET, 80), 0);
	assert_int_equal(a4.accepts, 1);
	assert_int_equal(p->aa.accepts, 1);
	/* unlisten removes both */
	assert_int_equal(tapir_tcp_unlisten(st, 80), 0);
	assert_int_equal(tapir_tcp_unlisten(st, 80), -ENOENT);
	assert_int_equal(connect_b(p, TAPIR_AF_INET6, 80), -ECONNREFUSED);

	/* an IPv4-only listener refuses IPv6 */
	assert_int_equal(tapir_tcp_listen_family(st, 81, TAPIR_AF_INET, NULL, app_accept, &a4), 0);
	assert_int_equal(connect_b(p, TAPIR_AF_INET6, 81), -ECONNREFUSED);
	assert_int_equal(connect_b(p, TAPIR_AF_INET, 81), 0);
	assert_int_equal(a4.accepts, 2);
	app_fini(&a4);
	pair_free(p);
}

/* Destinations that cannot be a peer, and IPv6 when it is off */
static void test_connect_checks(void **state)
{
	struct pair *p = pair_new(NULL);
	struct world *w = world_new();
	struct host *v4only = world_add(w, 5, NULL);
	struct tapir_addr a6 = addr_of(p, p->a, TAPIR_AF_INET6), x = { .family = TAPIR_AF_INET6 };
	struct tapir_addr unspec = { .family = TAPIR_AF_UNSPEC };

	(void)state;
	assert_int_equal(tapir_tcp_connect(p->b->st, &unspec, 80, NULL, app_connect, &p->ab),
			 -EINVAL);
	assert_int_equal(tapir_tcp_connect(p->b->st, NULL, 80, NULL, app_connect, &p->ab), -EINVAL);
	/* :: and ::1 */
	assert_int_equal(tapir_tcp_connect(p->b->st, &x, 80, NULL, app_connect, &p->ab), -EINVAL);
	x.v6[15] = 1;
	assert_int_equal(tapir_tcp_connect(p->b->st, &x, 80, NULL, app_connect, &p->ab), -EINVAL);
	/* multicast, and our own address */
	x.v6[0] = 0xff;
	x.v6[1] = 0x02;
	assert_int_equal(tapir_tcp_connect(p->b->st, &x, 80, NULL, app_connect, &p->ab), -EINVAL);
	x = addr_of(p, p->b, TAPIR_AF_INET6);
	assert_int_equal(tapir_tcp_connect(p->b->st, &x, 80, NULL, app_connect, &p->ab), -EINVAL);
	/* a stack without IPv6 */
	assert_int_equal(tapir_tcp_connect(v4only->st, &a6, 80, NULL, app_connect, &p->ab),
			 -EAFNOSUPPORT);
	assert_int_equal(tapir_tcp_listen_family(v4only->st, 80, TAPIR_AF_INET6, NULL, app_accept,
						 &p->aa),
			 -EAFNOSUPPORT);
	assert_int_equal(p->ab.connects, 0);
	assert_int_equal(tapir_tcp_flow_count(p->b->st), 0);
	world_free(w);
	pair_free(p);
}

/* ---- TIME_WAIT reuse over IPv6 ---- */

static void eof_close_recv(void *ctx, struct tapir_tcp_flow *f, const uint8_t *data, size_t len)
{
	(void)ctx;
	(void)data;
	if (!len)
		tapir_tcp_close(f);
}

static const struct tapir_tcp_callbacks eof_close_cbs = { .recv = eof_close_recv };

static void eof_close_accept(void *ctx, struct tapir_tcp_flow *f)
{
	(void)ctx;
	tapir_tcp_flow_set_callbacks(f, &eof_close_cbs, NULL);
}

struct opener {
	int ok, err;
};

static void opener_connect(void *ctx, struct tapir_tcp_flow *f, int err)
{
	struct opener *o = ctx;

	if (err) {
		o->err++;
		return;
	}
	o->ok++;
	tapir_tcp_close(f);
}

/* More connections to one IPv6 address and port within 2 MSL than there are
 * ephemeral ports, each closed by b first: a connect takes over a tuple in
 * TIME_WAIT (its 128-bit addresses matched) instead of failing. */
static void test_time_wait_reuse(void **state)
{
	struct pair *p = pair_new(NULL);
	struct tapir_addr to = addr_of(p, p->a, TAPIR_AF_INET6);
	struct opener o = { 0 };
	const int n = 16384 + 100;

	(void)state;
	assert_int_equal(tapir_tcp_listen(p->a->st, 80, NULL, eof_close_accept, NULL), 0);
	for (int i = 0; i < n; i++) {
		int rc = tapir_tcp_connect(p->b->st, &to, 80, NULL, opener_connect, &o);

		if (rc)
			fail_msg("connect %d: %d (%d in TIME_WAIT)", i, rc,
				 (int)tapir_tcp_time_wait_count(p->b->st));
		world_advance(p->w, MSEC);
	}
	world_advance(p->w, 500 * MSEC);
	assert_int_equal(o.ok, n);
	assert_int_equal(o.err, 0);
	assert_true(CTR(p->b, TCP_TIME_WAIT_REUSED) >= 100);
	assert_int_equal(tapir_tcp_flow_count(p->b->st), tapir_tcp_time_wait_count(p->b->st));
	assert_int_equal(tapir_tcp_flow_count(p->a->st), 0);
	pair_free(p);
}

/* ---- Packet Too Big during a bulk transfer a -> b over IPv6 ---- */

#define BULK (2u << 20)

struct bulk {
	struct tapir_tcp_flow *tx, *rx;
	size_t written, received;
	uint8_t buf[65536];
	struct tapir_netif_rx b_up;     /* b's own receive path */
	uint32_t next_seq;              /* after a's last data segment */
	uint16_t a_port, b_port;
	size_t max_seg;                 /* largest IPv6 payload from a since the reset */
};

static void bulk_fill(struct bulk *x)
{
	while (x->tx && x->written < BULK) {
		size_t n = BULK - x->written < sizeof(x->buf) ? BULK - x->written : sizeof(x->buf);
		long k = tapir_tcp_write(x->tx, x->buf, n);

		assert_true(k >= 0);
		if (k == 0)
			return;
		x->written += (size_t)k;
	}
}

static void bulk_recv(void *ctx, struct tapir_tcp_flow *f, const uint8_t *data, size_t len)
{
	struct bulk *x = ctx;

	(void)f;
	(void)data;
	x->received += len;
}

static void bulk_writable(void *ctx, struct tapir_tcp_flow *f)
{
	(void)f;
	bulk_fill(ctx);
}

static const struct tapir_tcp_callbacks bulk_cbs = { bulk_recv, bulk_writable, NULL };

static void bulk_accept(void *ctx, struct tapir_tcp_flow *f)
{
	struct bulk *x = ctx;

	x->tx = f;
	tapir_tcp_flow_set_callbacks(f, &bulk_cbs, x);
	bulk_fill(x);
}

static void bulk_connect(void *ctx, struct tapir_tcp_flow *f, int err)
{
	struct bulk *x = ctx;

	assert_int_equal(err, 0);
	x->rx = f;
	tapir_tcp_flow_set_callbacks(f, &bulk_cbs, x);
}

/* b's receive path: note a's IPv6 TCP segments, then hand the frame on */
static void b_spy(void *ctx, const uint8_t *frame, size_t len, unsigned flags)
{
	struct bulk *x = ctx;

	if (len >= 14 + 40 + 20 && get_be16(frame + 12) == TAPIR_ETHERTYPE_IPV6 && frame[20] == 6) {
		const uint8_t *t = frame + 14 + 40;
		size_t plen = get_be16(frame + 18), dlen = plen - (size_t)(t[12] >> 4) * 4;

		if (get_be16(t) == x->a_port) {
			if (plen > x->max_seg)
				x->max_seg = plen;
			if (dlen)
				x->next_seq = get_be32(t + 4) + (uint32_t)dlen;
		}
	}
	tapir_netif_rx_input(&x->b_up, frame, len, flags);
}

/* An ICMPv6 Packet Too Big from the router to a, quoting a 1,500-byte packet
 * a sent to b with TCP sequence number @seq */
static void send_ptb(struct pair *p, struct bulk *x, uint32_t mtu, uint32_t seq)
{
	uint8_t frame[14 + 40 + 8 + 48], *ip = frame + 14, *icmp = ip + 40, *q = icmp + 8;
	size_t ilen = 8 + 48;

	memset(frame, 0, sizeof(frame));
	memcpy(frame, p->a->mac, 6);
	memcpy(frame + 6, p->w->raw_mac, 6);
	put_be16(frame + 12, TAPIR_ETHERTYPE_IPV6);
	ip[0] = 0x60;
	put_be16(ip + 4, (uint16_t)ilen);
	ip[6] = TAPIR_IP_PROTO_ICMPV6;
	ip[7] = 64;
	memcpy(ip + 8, V6R, 16);
	memcpy(ip + 24, V6A, 16);
	icmp[0] = 2;	/* Packet Too Big */
	put_be32(icmp + 4, mtu);
	q[0] = 0x60;
	put_be16(q + 4, 1460);
	q[6] = TAPIR_IP_PROTO_TCP;
	q[7] = 64;
	memcpy(q + 8, V6A, 16);
	memcpy(q + 24, V6B, 16);
	put_be16(q + 40, x->a_port);
	put_be16(q + 42, x->b_port);
	put_be32(q + 44, seq);
	put_be16(icmp + 2, inet_csum_fold(inet_csum_add(
				   ipv6_csum_pseudo(V6R, V6A, (uint32_t)ilen, TAPIR_IP_PROTO_ICMPV6),
				   icmp, ilen)));
	raw_send(p->w, frame, sizeof(frame));
	world_pump(p->w);
}

static void test_packet_too_big(void **state)
{
	struct pair *p = pair_new_delay(NULL, MSEC);	/* data in flight for 1 ms */
	struct bulk *x = calloc(1, sizeof(*x));
	struct tapir_addr to = addr_of(p, p->a, TAPIR_AF_INET6);
	struct tapir_tcp_flow_info fi;
	struct tapir_tcp_flow_opts o;
	uint64_t invalid;

	(void)state;
	assert_non_null(x);
	x->b_up = p->b->rx;
	p->b->rx = (struct tapir_netif_rx){ b_spy, x };
	x->a_port = 5001;
	/* fixed buffers: the transfer must still have data to send after the
	 * PTB (an autotuned send buffer would take all BULK bytes at once) */
	tapir_tcp_flow_opts_defaults(p->a->st, &o);
	o.sndbuf = o.rcvbuf = 256 << 10;
	assert_int_equal(tapir_tcp_listen(p->a->st, 5001, &o, bulk_accept, x), 0);
	assert_int_equal(tapir_tcp_connect(p->b->st, &to, 5001, NULL, bulk_connect, x), 0);
	world_advance(p->w, 10 * MSEC);
	assert_non_null(x->tx);
	assert_non_null(x->rx);
	assert_int_equal(tapir_tcp_flow_info(x->rx, &fi), 0);
	x->b_port = fi.local_port;
	while (x->received < BULK / 4)
		world_advance(p->w, 100000);
	assert_int_equal(tapir_tcp_flow_info(x->tx, &fi), 0);
	assert_int_equal(fi.mss, 1500 - 60 - 12);
	assert_int_equal(x->max_seg, 1500 - 40);

	/* genuine (the first byte b has not seen), below the IPv6 minimum: 1,280 */
	send_ptb(p, x, 1000, x->next_seq);
	assert_int_equal(CTR(p->a, TCP_PMTU_UPDATES), 1);
	assert_int_equal(tapir_ipv6_mtu(p->a->st, V6B), 1280);
	assert_int_equal(tapir_tcp_flow_info(x->tx, &fi), 0);
	assert_int_equal(fi.mss, 1280 - 60 - 12);

	/* out of flight: dropped by TCP */
	invalid = CTR(p->a, TCP_DROP_ICMP_INVALID);
	send_ptb(p, x, 1200, x->next_seq + 10000000);
	assert_int_equal(CTR(p->a, TCP_DROP_ICMP_INVALID), invalid + 1);
	assert_int_equal(CTR(p->a, TCP_PMTU_UPDATES), 1);

	/* what a sent before is on the wire for 1 ms; then only small segments */
	world_advance(p->w, 1100000);
	x->max_seg = 0;
	while (x->received < BULK)
		world_advance(p->w, 100000);
	assert_int_equal(x->received, BULK);
	assert_int_equal(x->max_seg, 1280 - 40);
	assert_int_equal(tapir_tcp_flow_info(x->tx, &fi), 0);
	assert_int_equal(fi.mss, 1280 - 60 - 12);
	assert_int_equal(fi.rto_timeouts, 0);
	tapir_tcp_close(x->tx);
	tapir_tcp_close(x->rx);
	world_advance(p->w, SEC);
	p->b->rx = x->b_up;
	free(x);
	pair_free(p);
}

/* ---- keys: every address bit counts ---- */

static void test_keys_cover_all_bits(void **state)
{
	const uint64_t key[2] = { 0x0123456789abcdefull, 0xfedcba9876543210ull };
	struct tcp_ip l = tcp_ip6(V6A), r = tcp_ip6(V6B);
	uint64_t h0 = tuple_hash(key[0], &l, &r, 443, 50000);
	uint64_t s0 = tcp_tuple_sip(key, &l, &r, 443, 50000, 0);

	(void)state;
	for (int side = 0; side < 2; side++)
		for (int bit = 0; bit < 128; bit++) {
			struct tcp_ip l2 = l, r2 = r;
			struct tcp_ip *x = side ? &r2 : &l2;

			x->b[bit / 8] ^= (uint8_t)(1u << (bit % 8));
			assert_true(tuple_hash(key[0], &l2, &r2, 443, 50000) != h0);
			assert_true(tcp_tuple_sip(key, &l2, &r2, 443, 50000, 0) != s0);
		}
	/* the family form: IPv4 maps to ::ffff:a.b.c.d and back */
	l = tcp_ip4(0xc0000202);
	assert_true(tcp_ip_is4(&l));
	assert_int_equal(tcp_ip_v4(&l), 0xc0000202);
	assert_false(tcp_ip_is4(&r));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_prestate(test_conversation, (void *)&fam4),
		cmocka_unit_test_prestate(test_conversation, (void *)&fam6),
		cmocka_unit_test_prestate(test_refused, (void *)&fam4),
		cmocka_unit_test_prestate(test_refused, (void *)&fam6),
		cmocka_unit_test_prestate(test_syncookies, (void *)&fam4),
		cmocka_unit_test_prestate(test_syncookies, (void *)&fam6),
		cmocka_unit_test(test_dual_stack),
		cmocka_unit_test(test_listen_family),
		cmocka_unit_test(test_connect_checks),
		cmocka_unit_test(test_time_wait_reuse),
		cmocka_unit_test(test_packet_too_big),
		cmocka_unit_test(test_keys_cover_all_bits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
