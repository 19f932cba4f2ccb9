/*
 * test_tso.c - offloads: TSO super-segments on transmit, partial checksums
 *              and super-segments (GRO) on receive
 *
 * The stack under test (192.0.2.2) sits on a fake device that advertises
 * TAPIR_NETIF_OFF_TSO4 and records every frame with the netif_gso that came with
 * it (set_gso() then write()).  The test plays the peer (192.0.2.99) by
 * crafting frames and passing them to tapir_stack_input().  test_tso6_write
 * checks IPv6's side of TSO: tapir_ipv6_write() with gso_size (TCP over IPv6
 * end to end with TSO6 and GRO6 is tests/integration/tcp6.sh's).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tapir/ipv6.h"
#include "tapir/netif.h"
#include "tapir/stack.h"
#include "tapir/udp.h"
#include "tapir/tcp.h"
#include "wire/arp.h"
#include "wire/bytes.h"
#include "wire/checksum.h"
#include "wire/ipv4.h"
#include "wire/tcp.h"
#include "tcp/tcp_conn.h"

#define US_IP 0xc0000202u    /* 192.0.2.2 */
#define PEER_IP 0xc0000263u  /* 192.0.2.99 */
#define MSS 1460u
#define MAXF 4096

static const uint8_t us_mac[6] = { 2, 0, 0, 0, 0, 2 };
static const uint8_t peer_mac[6] = { 2, 0, 0, 0, 0, 0x99 };

struct frame {
	uint8_t *buf;
	size_t len;
	bool gso;
	struct tapir_netif_gso g;
};

struct dev {
	size_t mtu;
	unsigned offloads;
	bool pending;
	struct tapir_netif_gso g;
	struct frame f[MAXF];
	size_t n;
};

static size_t d_mtu(void *dev)
{
	return ((struct dev *)dev)->mtu;
}

static void d_mac(void *dev, uint8_t mac[6])
{
	(void)dev;
	memcpy(mac, us_mac, 6);
}

static int d_write(void *dev, size_t size, tapir_netif_fill_fn fill, void *ctx)
{
	struct dev *d = dev;
	bool gso = d->pending;

	d->pending = false;
	if (size > (gso ? 65535 + 14 : d->mtu + 14))
		return -EMSGSIZE;
	assert_true(d->n < MAXF);
	struct frame *fr = &d->f[d->n++];
	fr->buf = malloc(size);
	assert_non_null(fr->buf);
	fr->len = fill(fr->buf, size, ctx);
	fr->gso = gso;
	if (gso)
		fr->g = d->g;
	return 0;
}

static const struct tapir_netif_ops d_ops = {
	.mtu = d_mtu, .mac = d_mac, .write = d_write, .flush = NULL,
};

static unsigned d_offloads(void *dev)
{
	return ((struct dev *)dev)->offloads;
}

static void d_set_gso(void *dev, const struct tapir_netif_gso *g)
{
	struct dev *d = dev;

	d->pending = g != NULL;
	if (g)
		d->g = *g;
}

static const struct tapir_netif_offload_ops d_off_ops = {.offloads = d_offloads,
							 .set_gso = d_set_gso};

static void rnd(void *ctx, void *buf, size_t len)
{
	static uint8_t x = 1;

	(void)ctx;
	for (size_t i = 0; i < len; i++)
		((uint8_t *)buf)[i] = x++;
}

struct app {
	struct tapir_tcp_flow *flow;
	uint8_t *rx;
	size_t rx_len;
	size_t to_write;
	const uint8_t *data;
	size_t written;
	size_t cycle;  /* nonzero: data holds this many bytes, written over and over */
};

static void a_recv(void *ctx, struct tapir_tcp_flow *f, const uint8_t *data, size_t len)
{
	struct app *a = ctx;

	(void)f;
	if (!data)
		return;
	a->rx = realloc(a->rx, a->rx_len + len);
	assert_non_null(a->rx);
	memcpy(a->rx + a->rx_len, data, len);
	a->rx_len += len;
}

static void a_closed(void *ctx, struct tapir_tcp_flow *f, int err)
{
	(void)ctx;
	(void)f;
	(void)err;
}

static void a_push(struct app *a)
{
	while (a->written < a->to_write) {
		size_t at = a->cycle ? a->written % a->cycle : a->written;
		size_t want = a->to_write - a->written;

		if (a->cycle && want > a->cycle - at)
			want = a->cycle - at;
		long n = tapir_tcp_write(a->flow, a->data + at, want);

		if (n <= 0)
			break;
		a->written += (size_t)n;
	}
}

static void a_writable(void *ctx, struct tapir_tcp_flow *f)
{
	(void)f;
	a_push(ctx);
}

static const struct tapir_tcp_callbacks a_cbs = {
	.recv = a_recv, .closed = a_closed, .writable = a_writable,
};

static void a_accept(void *ctx, struct tapir_tcp_flow *f)
{
	struct app *a = ctx;

	a->flow = f;
	tapir_tcp_flow_set_callbacks(f, &a_cbs, a);
	a_push(a);
}

struct t {
	struct dev d;
	struct tapir_stack *st;
	struct app app;
	uint64_t now;
	uint32_t iss, peer_seq;
	uint16_t peer_mss;  /* announced in the SYN; 0 = MSS */
	uint8_t *pattern;
};

/* Input one IPv4 frame from the peer: @l4 (@l4_len bytes) after a header. */
static void peer_ip(struct t *t, uint8_t proto, const uint8_t *l4, size_t l4_len, unsigned flags)
{
	size_t len = 14 + 20 + l4_len;
	uint8_t *f = malloc(len);
	struct ipv4_repr ip = {
		.src = PEER_IP, .dst = US_IP, .proto = proto, .ttl = 64, .df = true,
		.payload_len = l4_len,
	};

	assert_non_null(f);
	memcpy(f, us_mac, 6);
	memcpy(f + 6, peer_mac, 6);
	put_be16(f + 12, 0x0800);
	ipv4_repr_emit(&ip, f + 14);
	memcpy(f + 34, l4, l4_len);
	tapir_stack_input(t->st, f, len, flags, t->now);
	free(f);
}

/* Send a TCP segment from the peer (checksum right unless @bad_csum). */
static void peer_tcp(struct t *t, struct tcp_repr *r, unsigned flags, bool bad_csum)
{
	size_t hl = tcp_repr_header_len(r);
	uint8_t *b = malloc(hl + r->payload_len);

	assert_non_null(b);
	tcp_repr_emit(r, b, PEER_IP, US_IP);
	if (r->payload_len)
		memcpy(b + hl, r->payload, r->payload_len);
	if (bad_csum)
		b[16] ^= 0x55;
	peer_ip(t, 6, b, hl + r->payload_len, flags);
	free(b);
}

static struct tcp_repr seg(uint32_t seq, uint32_t ack, uint8_t flags, uint16_t win)
{
	struct tcp_repr r;

	tcp_repr_init(&r);
	r.src_port = 40000;
	r.dst_port = 9;
	r.seq = seq;
	r.ack = ack;
	r.flags = flags;
	r.window = win;
	return r;
}

static void clear_frames(struct t *t)
{
	for (size_t i = 0; i < t->d.n; i++)
		free(t->d.f[i].buf);
	t->d.n = 0;
}

/* The TCP part of recorded frame @i, parsed without checking the checksum. */
static void frame_tcp(struct t *t, size_t i, struct tcp_repr *r)
{
	struct frame *fr = &t->d.f[i];

	assert_true(fr->len >= 54);
	assert_int_equal(get_be16(fr->buf + 12), 0x0800);
	size_t tot = get_be16(fr->buf + 16);
	assert_true(14 + tot <= fr->len);
	assert_int_equal(inet_csum(fr->buf + 14, 20), 0);  /* IP header checksum */
	assert_int_equal(tcp_repr_parse(r, fr->buf + 34, tot - 20, US_IP, PEER_IP, false), 0);
}

/*
 * Set up the stack with @offloads, a listener on 9 that writes @to_write
 * bytes, and a connection from the peer (MSS 1460, window @win << @ws).
 */
static void setup_conn(struct t *t, unsigned offloads, size_t to_write, uint16_t win, int ws)
{
	struct tapir_stack_config cfg;
	struct tapir_netif nif = { &d_ops, &t->d };
	struct tapir_netif_offload off = { &d_off_ops, &t->d };
	struct tapir_tcp_flow_opts o;
	uint8_t arp[28];
	struct arp_repr ar = { .op = 1, .spa = PEER_IP, .tpa = US_IP };
	uint8_t fr[14 + 28];

	uint16_t peer_mss = t->peer_mss ? t->peer_mss : MSS;

	memset(t, 0, sizeof(*t));
	t->d.mtu = 1500;
	t->d.offloads = offloads;
	t->now = 1000000000ull;
	tapir_stack_config_defaults(&cfg);
	cfg.addr = US_IP;
	cfg.random = rnd;
	assert_int_equal(tapir_stack_new(&t->st, &cfg, &nif, t->now), 0);
	tapir_stack_set_offload(t->st, &off);
	t->pattern = malloc(to_write ? to_write : 1);
	for (size_t i = 0; i < to_write; i++)
		t->pattern[i] = (uint8_t)(i * 7 + i / 251);
	t->app.data = t->pattern;
	t->app.to_write = to_write;
	tapir_tcp_flow_opts_defaults(t->st, &o);
	o.sndbuf = 1 << 20;
	o.rcvbuf = 1 << 20;
	assert_int_equal(tapir_tcp_listen(t->st, 9, &o, a_accept, &t->app), 0);

	/* ARP request from the peer: the stack learns its MAC */
	memcpy(ar.sha, peer_mac, 6);
	arp_repr_emit(&ar, arp);
	memset(fr, 0xff, 6);
	memcpy(fr + 6, peer_mac, 6);
	put_be16(fr + 12, 0x0806);
	memcpy(fr + 14, arp, 28);
	tapir_stack_input(t->st, fr, sizeof(fr), 0, t->now);

	struct tcp_repr s = seg(5000, 0, TCP_SYN, win);
	s.has_mss = true;
	s.mss = peer_mss;
	s.wscale = ws;
	s.sack_perm = true;
	peer_tcp(t, &s, 0, false);
	struct tcp_repr r;
	bool found = false;
	for (size_t i = 0; i < t->d.n; i++) {
		if (get_be16(t->d.f[i].buf + 12) != 0x0800)
			continue;
		frame_tcp(t, i, &r);
		if ((r.flags & (TCP_SYN | TCP_ACK)) == (TCP_SYN | TCP_ACK)) {
			t->iss = r.seq;
			found = true;
		}
	}
	assert_true(found);
	clear_frames(t);
	t->peer_seq = 5001;
	struct tcp_repr a = seg(t->peer_seq, t->iss + 1, TCP_ACK, win);
	peer_tcp(t, &a, 0, false);
	assert_non_null(t->app.flow);
}

static void teardown_conn(struct t *t)
{
	clear_frames(t);
	tapir_stack_free(t->st);
	free(t->pattern);
	free(t->app.rx);
}

/*
 * Check the data frames recorded since the last call: contiguous from
 * *@next, right payload, super-segments well formed (multiple of the MSS,
 * gso_size = MSS, headers as netif_gso says, partial checksum), and nothing
 * beyond @limit (the window: cwnd or rwnd).  Return: super-segments seen
 */
static size_t check_data(struct t *t, uint32_t *next, uint32_t limit)
{
	size_t supers = 0;

	for (size_t i = 0; i < t->d.n; i++) {
		struct frame *fr = &t->d.f[i];
		struct tcp_repr r;

		frame_tcp(t, i, &r);
		if (!r.payload_len)
			continue;
		assert_int_equal(r.seq, *next);
		assert_true((int32_t)(r.seq + (uint32_t)r.payload_len - limit) <= 0);
		size_t off = r.seq - (t->iss + 1);
		assert_memory_equal(r.payload, t->pattern + off, r.payload_len);
		*next += (uint32_t)r.payload_len;
		size_t tot = get_be16(fr->buf + 16);
		if (r.payload_len <= MSS) {
			assert_false(fr->gso);
			assert_true(fr->len - 14 <= 1500);
			/* a plain segment carries its full checksum */
			uint64_t sum = inet_csum_pseudo(US_IP, PEER_IP, 6, (uint16_t)(tot - 20));
			assert_int_equal(inet_csum_fold(inet_csum_add(sum, fr->buf + 34, tot - 20)),
					 0);
			continue;
		}
		supers++;
		assert_true(fr->gso);
		assert_int_equal(fr->g.type, TAPIR_NETIF_GSO_TCPV4);
		assert_int_equal(fr->g.gso_size, MSS);
		assert_int_equal(r.payload_len % MSS, 0);
		assert_int_equal(fr->g.hdr_len, 14 + 20 + tcp_repr_header_len(&r));
		assert_int_equal(fr->g.csum_start, 34);
		assert_int_equal(fr->g.csum_offset, 16);
		assert_true(fr->g.hdr_len + MSS <= 14 + 1500);
		assert_true(tot <= 65535);
		assert_true(get_be16(fr->buf + 20) & 0x4000);  /* DF */
		/* the checksum field: pseudo-header sum over the whole TCP length */
		uint16_t want = (uint16_t)~inet_csum_fold(
			inet_csum_pseudo(US_IP, PEER_IP, 6, (uint16_t)(tot - 20)));
		assert_int_equal(get_be16(fr->buf + 34 + 16), want);
	}
	clear_frames(t);
	return supers;
}

/* Bulk send with TSO: whole-MSS super-segments within cwnd; all data right. */
static void test_tso_bulk(void **state)
{
	struct t *t = calloc(1, sizeof(*t));
	size_t total = 3 * 1000 * 1000, supers = 0;
	uint32_t next;

	(void)state;
	setup_conn(t, TAPIR_NETIF_OFF_TSO4, total, 65535, 7);
	next = t->iss + 1;
	for (int round = 0; round < 2000 && next != t->iss + 1 + total; round++) {
		struct tapir_tcp_flow_info fi;

		assert_int_equal(tapir_tcp_flow_info(t->app.flow, &fi), 0);
		uint32_t una = next;
		/* what was sent in this round must fit cwnd from the last ACK */
		supers += check_data(t, &next, una + (1u << 30));
		t->now += 1000000;
		struct tcp_repr a = seg(t->peer_seq, next, TCP_ACK, 65535);
		uint32_t before = next;
		peer_tcp(t, &a, 0, false);
		/* the flight after the ACK is within cwnd */
		assert_int_equal(tapir_tcp_flow_info(t->app.flow, &fi), 0);
		uint32_t flight_end = before;
		for (size_t i = 0; i < t->d.n; i++) {
			struct tcp_repr r;

			frame_tcp(t, i, &r);
			if (r.payload_len)
				flight_end = r.seq + (uint32_t)r.payload_len;
		}
		assert_true(flight_end - before <= fi.cwnd);
	}
	assert_int_equal(next, t->iss + 1 + total);
	assert_true(supers > 10);
	assert_true(tapir_stack_counter(t->st, TAPIR_CTR_TCP_TSO_TX) > 10);
	teardown_conn(t);
	free(t);
}

/*
 * A flow that carries 2.5 GiB with never a loss and never all acknowledged
 * (each ACK leaves the last segment out, so the loss state lives throughout):
 * nothing is retransmitted and no recovery starts.  Sequence numbers compare
 * modulo 2^32: marks set at the start (recover, RACK's lost_end) were once
 * left behind, and 2 GiB later they read as ahead of SND.UNA: a "recovery"
 * began that resent data the peer had, for another 2 GiB (seen over the TAP
 * as a collapse from ~25 to ~5 Gbit/s with 150,000 DSACKs in 4 s).
 */
static void test_long_flow_no_spurious_recovery(void **state)
{
	struct t *t = calloc(1, sizeof(*t));
	size_t total = (size_t)5 << 29;  /* 2.5 GiB */
	static uint8_t chunk[1 << 16];
	uint32_t high, end;
	unsigned no_loss_state = 0;

	(void)state;
	setup_conn(t, TAPIR_NETIF_OFF_TSO4, 0, 65535, 7);
	t->app.data = chunk;
	t->app.cycle = sizeof(chunk);
	t->app.to_write = total;
	a_push(&t->app);
	high = t->iss + 1;
	end = t->iss + 1 + (uint32_t)total;
	for (int round = 0; round < 200000 && high != end; round++) {
		struct tcp_repr a;
		uint32_t before = high;

		for (size_t i = 0; i < t->d.n; i++) {
			struct tcp_repr r;

			if (get_be16(t->d.f[i].buf + 12) != 0x0800)
				continue;
			frame_tcp(t, i, &r);
			if (r.payload_len && seq_gt(r.seq + (uint32_t)r.payload_len, high))
				high = r.seq + (uint32_t)r.payload_len;
		}
		clear_frames(t);
		t->now += 1000000;
		/* all but the last segment; all when nothing new came (Nagle
		 * holds a short tail while anything is in flight) */
		a = seg(t->peer_seq, high == before ? high : high - MSS, TCP_ACK, 65535);
		peer_tcp(t, &a, 0, false);
		if (high != before && high != end && !t->app.flow->loss)
			no_loss_state++;
	}
	assert_int_equal(high, end);
	assert_true(t->app.written == total);
	assert_int_equal(tapir_stack_counter(t->st, TAPIR_CTR_TCP_RETRANSMITS), 0);
	assert_int_equal(tapir_stack_counter(t->st, TAPIR_CTR_TCP_RTO_RECOVERIES), 0);
	assert_int_equal(tapir_stack_counter(t->st, TAPIR_CTR_TCP_FAST_RETRANSMITS), 0);
	assert_int_equal(tapir_stack_counter(t->st, TAPIR_CTR_TCP_PRR_RECOVERIES), 0);
	assert_int_equal(no_loss_state, 0);  /* the loss state lived throughout */
	teardown_conn(t);
	free(t);
}

/* Data frames recorded since the last clear: how many, *@max_len the largest */
static size_t data_frames(struct t *t, uint32_t *max_len)
{
	size_t n = 0;

	*max_len = 0;
	for (size_t i = 0; i < t->d.n; i++) {
		struct tcp_repr r;

		if (get_be16(t->d.f[i].buf + 12) != 0x0800)
			continue;
		frame_tcp(t, i, &r);
		if (!r.payload_len)
			continue;
		n++;
		if (r.payload_len > *max_len)
			*max_len = (uint32_t)r.payload_len;
	}
	return n;
}

/*
 * TSO deferral (output.c tso_defer(), as Linux's tcp_tso_should_defer()):
 * an ACK that opens the window by less than a third of it, when the oldest
 * data in flight was sent half an SRTT ago or longer (its ACK is due), sends
 * nothing; the ACK that follows opens enough for one big super-segment.
 * When the oldest data was sent just now, the small one goes at once.
 */
static void test_tso_defer(void **state)
{
	struct t *t = calloc(1, sizeof(*t));
	struct tapir_tcp_flow *f;
	uint32_t una, max_len;
	struct tcp_repr a;

	(void)state;
	setup_conn(t, TAPIR_NETIF_OFF_TSO4, 4u << 20, 65535, 7);
	f = t->app.flow;
	f->cwnd = 60 * MSS;
	f->ssthresh = 60 * MSS;	/* congestion avoidance: cwnd stays about 60 */
	f->srtt_us = 1000;
	f->rtt_valid = true;
	a = seg(t->peer_seq, t->iss + 1, TCP_ACK, 65535);
	peer_tcp(t, &a, 0, false);	/* a window update: the flight fills cwnd */
	una = t->iss + 1 + 10 * MSS;
	t->now += 100000;	/* 0.1 ms: the oldest data went just now */
	a = seg(t->peer_seq, una, TCP_ACK, 65535);
	clear_frames(t);
	peer_tcp(t, &a, 0, false);
	assert_int_equal(data_frames(t, &max_len), 1);	/* not deferred */
	assert_true(f->snd_max - f->snd_una >= 59 * MSS);
	t->now += 2000000;	/* 2 ms: the ACKs of the flight are due */
	una += 2 * MSS;
	a = seg(t->peer_seq, una, TCP_ACK, 65535);
	clear_frames(t);
	peer_tcp(t, &a, 0, false);
	assert_int_equal(data_frames(t, &max_len), 0);	/* deferred */
	una += 20 * MSS;
	a = seg(t->peer_seq, una, TCP_ACK, 65535);
	clear_frames(t);
	peer_tcp(t, &a, 0, false);
	assert_true(data_frames(t, &max_len) >= 1);
	assert_true(max_len >= 20 * MSS);	/* one big super-segment */
	assert_true(f->snd_max - f->snd_una >= 59 * MSS);
	teardown_conn(t);
	free(t);
}

/* Without the offload, nothing bigger than one MSS goes out. */
static void test_no_tso_without_offload(void **state)
{
	struct t *t = calloc(1, sizeof(*t));
	size_t total = 200000;
	uint32_t next;

	(void)state;
	setup_conn(t, 0, total, 65535, 7);
	next = t->iss + 1;
	for (int round = 0; round < 2000 && next != t->iss + 1 + total; round++) {
		assert_int_equal(check_data(t, &next, next + (1u << 30)), 0);
		t->now += 1000000;
		struct tcp_repr a = seg(t->peer_seq, next, TCP_ACK, 65535);
		peer_tcp(t, &a, 0, false);
	}
	assert_int_equal(next, t->iss + 1 + total);
	assert_int_equal(tapir_stack_counter(t->st, TAPIR_CTR_TCP_TSO_TX), 0);
	teardown_conn(t);
	free(t);
}

/* A peer announcing the default MSS (536) or less gets one segment per frame. */
static void test_no_tso_small_mss(void **state)
{
	struct t *t = calloc(1, sizeof(*t));
	size_t total = 100000;
	uint32_t next;

	(void)state;
	t->peer_mss = 536;
	setup_conn(t, TAPIR_NETIF_OFF_TSO4, total, 65535, 7);
	next = t->iss + 1;
	for (int round = 0; round < 2000 && next != t->iss + 1 + total; round++) {
		for (size_t i = 0; i < t->d.n; i++) {
			struct tcp_repr r;

			frame_tcp(t, i, &r);
			assert_true(r.payload_len <= 536);
			assert_false(t->d.f[i].gso);
		}
		check_data(t, &next, next + (1u << 30));
		t->now += 1000000;
		struct tcp_repr a = seg(t->peer_seq, next, TCP_ACK, 65535);
		peer_tcp(t, &a, 0, false);
	}
	assert_int_equal(next, t->iss + 1 + total);
	assert_int_equal(tapir_stack_counter(t->st, TAPIR_CTR_TCP_TSO_TX), 0);
	teardown_conn(t);
	free(t);
}

/* The peer's window (no scaling, 10000 bytes) bounds the super-segments. */
static void test_tso_rwnd(void **state)
{
	struct t *t = calloc(1, sizeof(*t));
	size_t total = 400000;
	uint32_t next;

	(void)state;
	setup_conn(t, TAPIR_NETIF_OFF_TSO4, total, 10000, -1);
	next = t->iss + 1;
	/* grow cwnd first with a big window... */
	for (int round = 0; round < 6; round++) {
		uint32_t una = next;

		check_data(t, &next, una + 10000);
		t->now += 1000000;
		struct tcp_repr a = seg(t->peer_seq, next, TCP_ACK, 10000);
		peer_tcp(t, &a, 0, false);
	}
	/* ...every flight stays within 10000 bytes of the last ACK */
	for (int round = 0; round < 200 && next != t->iss + 1 + total; round++) {
		uint32_t una = next;

		check_data(t, &next, una + 10000);
		t->now += 1000000;
		struct tcp_repr a = seg(t->peer_seq, next, TCP_ACK, 10000);
		peer_tcp(t, &a, 0, false);
	}
	assert_true(tapir_stack_counter(t->st, TAPIR_CTR_TCP_TSO_TX) > 0);
	teardown_conn(t);
	free(t);
}

/* RX: a bad checksum is dropped without flags and accepted as partial. */
static void test_rx_partial_csum(void **state)
{
	struct t *t = calloc(1, sizeof(*t));
	uint8_t data[1000];

	(void)state;
	setup_conn(t, TAPIR_NETIF_OFF_TSO4, 0, 65535, 7);
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i ^ 0x3c);
	struct tcp_repr d = seg(t->peer_seq, t->iss + 1, TCP_ACK | TCP_PSH, 65535);
	d.payload = data;
	d.payload_len = sizeof(data);
	uint64_t bad = tapir_stack_counter(t->st, TAPIR_CTR_TCP_DROP_CHECKSUM);
	peer_tcp(t, &d, 0, true);
	assert_int_equal(tapir_stack_counter(t->st, TAPIR_CTR_TCP_DROP_CHECKSUM), bad + 1);
	assert_int_equal(t->app.rx_len, 0);
	peer_tcp(t, &d, TAPIR_NETIF_RX_CSUM_VALID, true);
	assert_int_equal(t->app.rx_len, sizeof(data));
	t->peer_seq += sizeof(data);
	/* partial: the field holds the pseudo-header sum only */
	struct tcp_repr p = seg(t->peer_seq, t->iss + 1, TCP_ACK | TCP_PSH, 65535);
	p.payload = data;
	p.payload_len = sizeof(data);
	p.csum_partial = true;
	peer_tcp(t, &p, TAPIR_NETIF_RX_CSUM_PARTIAL, false);
	assert_int_equal(t->app.rx_len, 2 * sizeof(data));
	assert_memory_equal(t->app.rx + sizeof(data), data, sizeof(data));
	assert_int_equal(tapir_stack_counter(t->st, TAPIR_CTR_TCP_DROP_CHECKSUM), bad + 1);
	teardown_conn(t);
	free(t);
}

/* RX: a 60 KiB super-segment (more than the MTU and the MSS) is taken whole. */
static void test_rx_gso_segment(void **state)
{
	struct t *t = calloc(1, sizeof(*t));
	size_t n = 60 * 1024;
	uint8_t *data = malloc(n);

	(void)state;
	setup_conn(t, TAPIR_NETIF_OFF_TSO4, 0, 65535, 7);
	for (size_t i = 0; i < n; i++)
		data[i] = (uint8_t)(i * 13 + 1);
	struct tcp_repr d = seg(t->peer_seq, t->iss + 1, TCP_ACK, 65535);
	d.payload = data;
	d.payload_len = n;
	d.csum_partial = true;
	peer_tcp(t, &d, TAPIR_NETIF_RX_CSUM_PARTIAL | TAPIR_NETIF_RX_GSO, false);
	assert_int_equal(t->app.rx_len, n);
	assert_memory_equal(t->app.rx, data, n);
	assert_int_equal(tapir_stack_counter(t->st, TAPIR_CTR_TCP_RX_COALESCED), 1);
	/* it is acknowledged at once (more than two segments' worth) */
	bool acked = false;
	for (size_t i = 0; i < t->d.n; i++) {
		struct tcp_repr r;

		frame_tcp(t, i, &r);
		if ((r.flags & TCP_ACK) && r.ack == t->peer_seq + n)
			acked = true;
	}
	assert_true(acked);
	/* the same without flags but a full checksum is fine too */
	t->peer_seq += (uint32_t)n;
	struct tcp_repr e = seg(t->peer_seq, t->iss + 1, TCP_ACK, 65535);
	e.payload = data;
	e.payload_len = n;
	peer_tcp(t, &e, 0, false);
	assert_int_equal(t->app.rx_len, 2 * n);
	free(data);
	teardown_conn(t);
	free(t);
}

static void udp_rx(void *ctx, const struct tapir_udp_meta *m, const uint8_t *data, size_t len)
{
	(void)m;
	(void)data;
	*(size_t *)ctx += len;
}

/* RX: UDP with a partial checksum is accepted; a bad one without flags is not. */
static void test_rx_udp_partial(void **state)
{
	struct t *t = calloc(1, sizeof(*t));
	size_t got = 0;
	uint8_t u[8 + 100];

	(void)state;
	setup_conn(t, TAPIR_NETIF_OFF_TSO4, 0, 65535, 7);
	assert_int_equal(tapir_udp_listen(t->st, 5000, udp_rx, &got), 0);
	memset(u, 0x5a, sizeof(u));
	put_be16(u, 1234);
	put_be16(u + 2, 5000);
	put_be16(u + 4, sizeof(u));
	uint64_t sum = inet_csum_pseudo(PEER_IP, US_IP, 17, sizeof(u));
	put_be16(u + 6, (uint16_t)~inet_csum_fold(sum));  /* partial */
	peer_ip(t, 17, u, sizeof(u), 0);
	assert_int_equal(got, 0);
	assert_int_equal(tapir_stack_counter(t->st, TAPIR_CTR_UDP_DROP_CHECKSUM), 1);
	peer_ip(t, 17, u, sizeof(u), TAPIR_NETIF_RX_CSUM_PARTIAL);
	assert_int_equal(got, 100);
	teardown_conn(t);
	free(t);
}

/* ---- IPv6: tapir_ipv6_write() with gso_size (TAPIR_NETIF_OFF_TSO6) ---- */

static size_t th_fill(uint8_t *buf, size_t size, void *ctx)
{
	memcpy(buf, ctx, 20);
	return size < 20 ? size : 20;
}

/* An IPv6 stack on the fake device with @offloads; a TCP super-segment of
 * @len data bytes with @gso to ff02::1 (multicast: no NDP needed).
 * Return: tapir_ipv6_write()'s result */
static int write6_gso(struct dev *d, unsigned offloads, size_t len, uint16_t gso, bool frag)
{
	static const uint8_t us6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 2 };
	static const uint8_t all[16] = { 0xff, 0x02, [15] = 1 };
	struct tapir_stack_config cfg;
	struct tapir_netif nif = { &d_ops, d };
	struct tapir_netif_offload off = { &d_off_ops, d };
	struct tapir_ipv6_write_opts o = { .src = us6, .fragment = frag, .gso_size = gso };
	struct tapir_stack *st;
	uint8_t th[20] = { 0, 80, 0, 81, [12] = 5 << 4, [13] = TCP_ACK };
	uint8_t *data = calloc(1, len);
	struct tapir_stack_iov iov = { data, len };
	int rc;

	memset(d, 0, sizeof(*d));
	d->mtu = 1500;
	d->offloads = offloads;
	tapir_stack_config_defaults(&cfg);
	cfg.addr = US_IP;
	cfg.random = rnd;
	cfg.ipv6.enabled = true;
	cfg.ipv6.dad = false;
	cfg.ipv6.naddrs = 1;
	memcpy(cfg.ipv6.addrs[0].addr, us6, 16);
	cfg.ipv6.addrs[0].prefix_len = 64;
	assert_int_equal(tapir_stack_new(&st, &cfg, &nif, 1000000000ull), 0);
	tapir_stack_set_offload(st, &off);
	for (size_t i = 0; i < d->n; i++)
		free(d->f[i].buf);
	d->n = 0;
	rc = tapir_ipv6_write(st, &o, all, TAPIR_IP_PROTO_TCP, 20, th_fill, th, &iov, 1);
	tapir_stack_free(st);
	free(data);
	return rc;
}

static void test_tso6_write(void **state)
{
	struct dev *d = calloc(1, sizeof(*d));
	struct frame *f;

	(void)state;
	assert_non_null(d);
	/* 44 segments of 1,440 bytes in one frame, described for the device */
	assert_int_equal(write6_gso(d, TAPIR_NETIF_OFF_TSO6, 44 * 1440, 1440, false), 0);
	assert_int_equal(d->n, 1);
	f = &d->f[0];
	assert_true(f->gso);
	assert_int_equal(f->g.type, TAPIR_NETIF_GSO_TCPV6);
	assert_int_equal(f->g.gso_size, 1440);
	assert_int_equal(f->g.hdr_len, 14 + 40 + 20);
	assert_int_equal(f->g.csum_start, 14 + 40);
	assert_int_equal(f->g.csum_offset, 16);
	assert_int_equal(f->len, 14 + 40 + 20 + 44 * 1440);
	assert_int_equal(get_be16(f->buf + 12), TAPIR_ETHERTYPE_IPV6);
	assert_int_equal(get_be16(f->buf + 14 + 4), 20 + 44 * 1440);  /* payload length */
	assert_int_equal(f->buf[14 + 6], TAPIR_IP_PROTO_TCP);
	free(f->buf);
	d->n = 0;
	/* not without TSO6 (TSO4 is not enough), not with fragmentation, not
	 * when a segment would not fit the MTU */
	assert_int_equal(write6_gso(d, TAPIR_NETIF_OFF_TSO4, 4 * 1440, 1440, false), -EMSGSIZE);
	assert_int_equal(write6_gso(d, TAPIR_NETIF_OFF_TSO6, 4 * 1440, 1440, true), -EMSGSIZE);
	assert_int_equal(write6_gso(d, TAPIR_NETIF_OFF_TSO6, 4 * 1441, 1441, false), -EMSGSIZE);
	for (size_t i = 0; i < d->n; i++)
		free(d->f[i].buf);
	free(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tso_bulk),
		cmocka_unit_test(test_tso_defer),
		cmocka_unit_test(test_long_flow_no_spurious_recovery),
		cmocka_unit_test(test_no_tso_without_offload),
		cmocka_unit_test(test_no_tso_small_mss),
		cmocka_unit_test(test_tso_rwnd),
		cmocka_unit_test(test_rx_partial_csum),
		cmocka_unit_test(test_rx_gso_segment),
		cmocka_unit_test(test_rx_udp_partial),
		cmocka_unit_test(test_tso6_write),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
