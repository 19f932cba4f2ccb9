/*
 * tcp_stateful.c - fuzz target: TCP state machines driven by crafted segments
 *
 * One stack (192.0.2.2/24) with a listener on port 80 (keepalive on, small
 * buffers so windows close) and an application that may echo, pause, write,
 * shut down or close; the peer 192.0.2.1 is played by the input.  The sink
 * device parses every segment the stack sends and remembers, per peer port,
 * the stack's sequence and acknowledgment numbers, so crafted segments can be
 * "roughly right" (a small delta from what the stack expects).
 *
 * Input: records, each starting with an op byte:
 *   op % 8 == 0..2: a segment: port selector, flags, seq delta, ack delta,
 *                   window, option mask, payload length (bytes follow, cut
 *                   to what is left)
 *   op % 8 == 3:    advance the clock by (byte) * 5 ms and run timers
 *   op % 8 == 4:    advance the clock by (byte) * 1 s and run timers
 *   op % 8 == 5:    application action on flow (byte % 8): write, close,
 *                   shutdown, pause/resume, abort, write_nodelay
 *   op % 8 == 6:    tapir_tcp_connect() to 192.0.2.1:8080 (peer port 8080 then
 *                   addresses that flow)
 *   op % 8 == 7:    ICMP fragmentation needed quoting a segment of a flow
 * After every record tapir_tcp_check_invariants() must hold (sequence variables in
 * order, A4(cwnd within [MSS), TCP_CWND_MAX], receive window within the buffer,
 * a timer on every flow that needs one).
 *
 * Offload mode (first byte & 0x18 == 0x18): the device takes TSO (the sink
 * checks each super-segment's description) and received segments carry the
 * device flags chosen by the op byte's bits 3-4: 1 checksum valid, 2 checksum
 * partial, 3 GRO super-segment (payload up to 10 KiB, checksum valid); the
 * buffers are 64 KiB and an application write is ten times larger.
 *
 * At the end every flow the application holds is closed and the clock runs
 * past every timer: no flow may remain, and the stack is freed (LeakSanitizer
 * checks the rest).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tapir/stack.h"
#include "tapir/tcp.h"
#include "wire/bytes.h"
#include "wire/checksum.h"
#include "wire/ipv4.h"
#include "wire/tcp.h"

#define A4(x) (&(struct tapir_addr){ .family = TAPIR_AF_INET, .v4 = (x) })

#define NPORTS 4
#define MAXF 16
#define MY_IP 0xc0000202u
#define PEER 0xc0000201u

static const uint16_t peer_ports[NPORTS] = { 1000, 1001, 1002, 8080 };

struct track {
	uint16_t lport;       /* stack's port seen for this peer port */
	uint32_t seq, ack;    /* stack's next seq, and what it acks */
	uint32_t ts;
	bool seen;
};

struct fz {
	struct tapir_stack *st;
	uint8_t buf[65536 + 64];
	bool tso;             /* offload mode */
	bool trace;           /* FUZZ_VERBOSE: print what the stack sends */
	bool gso_next;        /* set_gso() described the next write */
	struct tapir_netif_gso gso;
	struct track tr[NPORTS];
	struct tapir_tcp_flow *flows[MAXF];
	int mode;
	uint64_t now;
	uint64_t rng;
};

static struct fz *G;

static size_t sink_mtu(void *dev)
{
	(void)dev;
	return 1500;
}

static void sink_mac(void *dev, uint8_t mac[6])
{
	static const uint8_t m[6] = { 2, 0, 0, 0, 0, 2 };

	(void)dev;
	memcpy(mac, m, 6);
}

static int sink_write(void *dev, size_t size, tapir_netif_fill_fn fill, void *ctx)
{
	struct fz *z = dev;
	size_t n;
	struct tcp_repr r;

	bool gso = z->gso_next;

	z->gso_next = false;
	if (size > (gso ? 65535 + 14 : 1514u))
		abort();
	n = fill(z->buf, size, ctx);
	if (n > size)
		abort();
	if (n < 34 || get_be16(z->buf + 12) != 0x0800 || z->buf[23] != 6) {
		if (gso)
			abort();	/* a super-segment that is not TCP */
		return 0;
	}
	size_t ihl = (size_t)(z->buf[14] & 15) * 4, tot = get_be16(z->buf + 16);

	if (tot > n - 14 || tot < ihl)
		abort();
	/* every segment the stack sends must parse with a good checksum (a
	 * super-segment's holds the pseudo-header sum the device completes) */
	if (tcp_repr_parse(&r, z->buf + 14 + ihl, tot - ihl, MY_IP, PEER, !gso) < 0)
		abort();
	if (gso && (z->gso.type != TAPIR_NETIF_GSO_TCPV4 || z->gso.csum_start != 14 + ihl ||
		    z->gso.csum_offset != 16 || z->gso.hdr_len != 14 + ihl + tcp_repr_header_len(&r) ||
		    z->gso.gso_size == 0 || r.payload_len <= z->gso.gso_size ||
		    (r.flags & (TCP_SYN | TCP_RST)) || n != 14 + tot))
		abort();	/* a super-segment the device could not cut */
	if (z->trace)
		fprintf(stderr, "out %u>%u f=%02x seq=%u ack=%u len=%zu win=%u%s\n", r.src_port,
			r.dst_port, r.flags, r.seq, r.ack, r.payload_len, r.window, gso ? " gso" : "");
	for (int i = 0; i < NPORTS; i++)
		if (peer_ports[i] == r.dst_port) {
			struct track *t = &z->tr[i];

			t->lport = r.src_port;
			t->seq = r.seq + (uint32_t)r.payload_len + !!(r.flags & TCP_SYN) +
				 !!(r.flags & TCP_FIN);
			if (r.flags & TCP_ACK)
				t->ack = r.ack;
			if (r.has_ts)
				t->ts = r.ts_val;
			t->seen = true;
		}
	return 0;
}

static const struct tapir_netif_ops sink_ops = { sink_mtu, sink_mac, sink_write, NULL };

static unsigned sink_offloads(void *dev)
{
	(void)dev;
	return TAPIR_NETIF_OFF_TSO4 | TAPIR_NETIF_OFF_RX_CSUM;
}

static void sink_set_gso(void *dev, const struct tapir_netif_gso *g)
{
	struct fz *z = dev;

	z->gso_next = g != NULL;
	if (g)
		z->gso = *g;
}

static const struct tapir_netif_offload_ops sink_off_ops = { sink_offloads, sink_set_gso };

static void fixed_random(void *ctx, void *buf, size_t len)
{
	uint64_t *state = ctx;
	uint8_t *p = buf;

	for (size_t i = 0; i < len; i++) {
		*state = *state * 6364136223846793005ull + 1442695040888963407ull;
		p[i] = (uint8_t)(*state >> 56);
	}
}

static int slot_of(struct fz *z, struct tapir_tcp_flow *f)
{
	for (int i = 0; i < MAXF; i++)
		if (z->flows[i] == f)
			return i;
	return -1;
}

static void add_flow(struct fz *z, struct tapir_tcp_flow *f);

static void on_recv(void *ctx, struct tapir_tcp_flow *f, const uint8_t *data, size_t len)
{
	struct fz *z = ctx;
	int i = slot_of(z, f);

	if (i < 0)
		abort(); /* a callback for a flow the app closed */
	if (len == 0) {
		if (z->mode & 1)
			tapir_tcp_shutdown(f, false, true);
		return;
	}
	switch (z->mode % 5) {
	case 0:
		tapir_tcp_write(f, data, len);
		break;
	case 1:
		if (len > 100) {
			tapir_tcp_close(f);
			z->flows[i] = NULL;
		}
		break;
	case 2:
		tapir_tcp_read_pause(f, true);
		break;
	case 3:
		tapir_tcp_read_pause(f, false);	/* from inside a delivery */
		if (z->flows[i] == f)
			tapir_tcp_write_nodelay(f, data, len > 50 ? 50 : len);
		break;
	default:
		break;
	}
}

static void on_writable(void *ctx, struct tapir_tcp_flow *f)
{
	struct fz *z = ctx;

	if (slot_of(z, f) < 0)
		abort();
}

static void on_closed(void *ctx, struct tapir_tcp_flow *f, int err)
{
	struct fz *z = ctx;
	int i = slot_of(z, f);

	(void)err;
	if (i < 0)
		abort();
	if (z->mode & 2) {
		tapir_tcp_close(f);
		z->flows[i] = NULL;
	}
}

static const struct tapir_tcp_callbacks cbs = { on_recv, on_writable, on_closed };

static void add_flow(struct fz *z, struct tapir_tcp_flow *f)
{
	for (int i = 0; i < MAXF; i++)
		if (!z->flows[i]) {
			z->flows[i] = f;
			tapir_tcp_flow_set_callbacks(f, &cbs, z);
			return;
		}
	tapir_tcp_close(f);
}

static void on_accept(void *ctx, struct tapir_tcp_flow *f)
{
	add_flow(ctx, f);
}

static void on_connect(void *ctx, struct tapir_tcp_flow *f, int err)
{
	if (err == 0)
		add_flow(ctx, f);
}

static void run_timers(struct fz *z, uint64_t until)
{
	for (int guard = 0; guard < 100000; guard++) {
		uint64_t d = tapir_stack_next_deadline(z->st);

		if (d > until)
			break;
		if (d > z->now)
			z->now = d;
		tapir_stack_poll(z->st, z->now);
	}
	if (until > z->now)
		z->now = until;
	tapir_stack_poll(z->st, z->now);
}

static void inject(struct fz *z, const uint8_t *ip_payload, size_t len, uint8_t proto,
		   unsigned flags)
{
	static uint8_t frame[14 + 20 + 12000];
	struct ipv4_repr ip;
	size_t max = flags & TAPIR_NETIF_RX_GSO ? 12000 : 1600;

	if (len > max)
		len = max;
	memcpy(frame, "\x02\x00\x00\x00\x00\x02\x02\x00\x00\x00\x00\x01\x08\x00", 14);
	memset(&ip, 0, sizeof(ip));
	ip.src = PEER;
	ip.dst = MY_IP;
	ip.proto = proto;
	ip.ttl = 64;
	ip.payload_len = len;
	ipv4_repr_emit(&ip, frame + 14);
	memcpy(frame + 34, ip_payload, len);
	tapir_stack_input(z->st, frame, 34 + len, flags, z->now);
}

static const unsigned rx_flags[4] = {
	0,
	TAPIR_NETIF_RX_CSUM_VALID,
	TAPIR_NETIF_RX_CSUM_PARTIAL,
	TAPIR_NETIF_RX_GSO | TAPIR_NETIF_RX_CSUM_VALID,
};

static void send_segment(struct fz *z, uint8_t op, const uint8_t **pp, const uint8_t *end)
{
	const uint8_t *p = *pp;
	static uint8_t seg[TCP_MAX_HDR_LEN + 11000];
	uint8_t b[10] = { 0 };
	unsigned flags = z->tso ? rx_flags[(op >> 3) & 3] : 0;
	struct tcp_repr r;
	struct track *t;
	size_t plen;

	for (int i = 0; i < 10 && p < end; i++)
		b[i] = *p++;
	t = &z->tr[b[0] % NPORTS];
	tcp_repr_init(&r);
	r.src_port = peer_ports[b[0] % NPORTS];
	r.dst_port = r.src_port == 8080 ? (t->lport ? t->lport : 49152) : 80;
	r.flags = b[1];
	r.seq = t->ack + (uint32_t)(int8_t)b[2] * ((b[0] & 0x80) ? 1000u : 1u);
	r.ack = t->seq + (uint32_t)(int8_t)b[3] * ((b[0] & 0x40) ? 1000u : 1u);
	if (!t->seen || (b[0] & 0x20))
		r.seq = (uint32_t)b[2] << 24 | (uint32_t)b[3] << 8;
	r.window = (uint16_t)(b[4] << 8 | b[5]);
	if (b[6] & 1) {
		r.has_mss = true;
		r.mss = (uint16_t)(b[7] << 4);
	}
	if (b[6] & 2)
		r.wscale = (int8_t)(b[7] & 15);
	if (b[6] & 4)
		r.sack_perm = true;
	if (b[6] & 8) {
		r.has_ts = true;
		r.ts_val = (uint32_t)(z->now / 1000000) + (b[6] & 0x80 ? 0u : 1000000u);
		r.ts_ecr = t->ts;
	}
	if (b[6] & 16) {
		r.nsack = (uint8_t)(1 + (b[7] >> 6));
		for (int i = 0; i < r.nsack; i++) {
			r.sack[i].left = t->ack + (uint32_t)(b[8] + i * 500) * 10;
			r.sack[i].right = r.sack[i].left + (uint32_t)b[9] * 20;
		}
		/* the same, relative to what the stack sent */
		if (b[6] & 32)
			for (int i = 0; i < r.nsack; i++) {
				r.sack[i].left = t->seq - (uint32_t)(b[8] + 1) * 100 * (uint32_t)(i + 1);
				r.sack[i].right = r.sack[i].left + (uint32_t)b[9] * 20;
			}
	}
	plen = b[8] & 1 ? (size_t)b[9] * 6 : b[9] & 15;	/* at most 1530 */
	if (flags & TAPIR_NETIF_RX_GSO)
		plen = (size_t)b[9] * 40;	/* a GRO super-segment: up to 10200 */
	if (plen > (size_t)(end - p))
		plen = (size_t)(end - p);
	r.payload = p;
	r.payload_len = plen;
	p += plen;
	size_t hl = tcp_repr_header_len(&r);

	tcp_repr_emit(&r, seg, PEER, MY_IP);
	memcpy(seg + hl, r.payload, plen);
	if ((b[1] & 0x40) && (b[1] & 0x80))
		seg[16] ^= 1; /* a bad checksum now and then */
	if (z->trace)
		fprintf(stderr, "in  %u>%u f=%02x seq=%u ack=%u len=%zu rx=%u\n", r.src_port,
			r.dst_port, r.flags, r.seq, r.ack, plen, flags);
	inject(z, seg, hl + plen, IPV4_PROTO_TCP, flags);
	*pp = p;
}

static void send_icmp(struct fz *z, const uint8_t **pp, const uint8_t *end)
{
	uint8_t m[8 + 28];
	struct ipv4_repr q;
	uint8_t b[4] = { 0 };
	struct track *t;

	for (int i = 0; i < 4 && *pp < end; i++)
		b[i] = *(*pp)++;
	t = &z->tr[b[0] % NPORTS];
	memset(m, 0, sizeof(m));
	m[0] = 3;
	m[1] = b[1] & 1 ? 4 : 3;
	put_be16(m + 6, (uint16_t)(b[2] << 4));
	memset(&q, 0, sizeof(q));
	q.src = MY_IP;
	q.dst = PEER;
	q.proto = 6;
	q.ttl = 64;
	q.df = true;
	q.payload_len = 1480;
	ipv4_repr_emit(&q, m + 8);
	put_be16(m + 28, t->lport ? t->lport : 80);
	put_be16(m + 30, peer_ports[b[0] % NPORTS]);
	put_be32(m + 32, t->seq - (uint32_t)b[3] * 100);
	put_be16(m + 2, inet_csum(m, sizeof(m)));
	inject(z, m, sizeof(m), IPV4_PROTO_ICMP, 0);
}

/* The invariants hold between any two calls into the stack. */
static void check(struct fz *z)
{
	char why[256];
	const char *e = tapir_tcp_check_invariants(z->st, why, sizeof(why));

	if (e) {
		fprintf(stderr, "tcp invariant broken: %s\n", e);
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct fz zz;
	struct fz *z = &zz;
	struct tapir_stack_config cfg;
	struct tapir_netif nif = { &sink_ops, z };
	struct tapir_netif_offload off = { &sink_off_ops, z };
	struct tapir_tcp_flow_opts o;
	const uint8_t *p = data, *end = data + size;
	static const uint8_t arp_req[42] = {
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 2, 0, 0, 0, 0, 1, 0x08, 0x06,
		0, 1, 0x08, 0, 6, 4, 0, 1, 2, 0, 0, 0, 0, 1, 192, 0, 2, 1,
		0, 0, 0, 0, 0, 0, 192, 0, 2, 2,
	};

	memset(z, 0, sizeof(*z));
	G = z;
	z->now = 1000 * TAPIR_STACK_NS_PER_SEC;
	z->rng = 1;
	tapir_stack_config_defaults(&cfg);
	cfg.addr = MY_IP;
	cfg.random = fixed_random;
	cfg.random_ctx = &z->rng;
	cfg.tcp.msl_ns = TAPIR_STACK_NS_PER_SEC;
	cfg.tcp.fin_wait2_ns = 2 * TAPIR_STACK_NS_PER_SEC;
	cfg.tcp.max_retries = 3;
	cfg.tcp.syn_retries = 2;
	cfg.tcp.backlog = 2;
	cfg.tcp.max_connections = 8;
	cfg.tcp.ooo_max_bytes = 3000;
	cfg.tcp.rcvbuf = 4096;
	cfg.tcp.sndbuf = 4096;
	cfg.tcp.max_tw = 2;		/* TIME_WAIT recycled */
	cfg.tcp.max_orphans = 2;	/* orphans reset */
	cfg.tcp.orphan_retries = 2;
	z->tso = size > 0 && (data[0] & 0x18) == 0x18;
	if (z->tso) {
		/* room for super-segments both ways */
		cfg.tcp.rcvbuf = 65536;
		cfg.tcp.sndbuf = 65536;
		cfg.tcp.ooo_max_bytes = 30000;
	}
	if (size > 0) {
		z->mode = data[0];
		cfg.tcp.syn_cookies = !(data[0] & 0x80);
		cfg.tcp.cc = data[0] & 0x40 ? TAPIR_TCP_CC_CUBIC : TAPIR_TCP_CC_NEWRENO;
		if (data[0] & 0x20)
			cfg.tcp.max_memory = 12 * 1024;	/* memory pressure, refusals */
		p++;
	}
	if (tapir_stack_new(&z->st, &cfg, &nif, z->now) < 0)
		abort();
	z->trace = getenv("FUZZ_VERBOSE") != NULL;
	if (z->tso)
		tapir_stack_set_offload(z->st, &off);
	tapir_stack_input(z->st, arp_req, sizeof(arp_req), 0, z->now);
	tapir_tcp_flow_opts_defaults(z->st, &o);
	o.keepalive = true;
	o.ka_idle_ns = 5 * TAPIR_STACK_NS_PER_SEC;
	o.ka_intvl_ns = TAPIR_STACK_NS_PER_SEC;
	o.ka_count = 2;
	o.nodelay = z->mode & 4;
	if (tapir_tcp_listen(z->st, 80, &o, on_accept, z) < 0)
		abort();
	while (p < end) {
		uint8_t op = *p++, arg = p < end ? *p : 0;

		if (!tapir_tcp_mem_check(z->st))
			abort();	/* accounted memory is what the flows hold */

		switch (op % 8) {
		case 0:
		case 1:
		case 2:
			send_segment(z, op, &p, end);
			break;
		case 3:
			p += p < end;
			run_timers(z, z->now + (uint64_t)arg * 5000000ull);
			break;
		case 4:
			p += p < end;
			run_timers(z, z->now + (uint64_t)arg * TAPIR_STACK_NS_PER_SEC);
			break;
		case 5: {
			struct tapir_tcp_flow *f;
			static const uint8_t junk[16000];

			p += p < end;
			f = z->flows[arg % MAXF];
			if (!f) {
				for (int i = 0; i < MAXF && !f; i++)
					f = z->flows[i];
				if (!f)
					break;
			}
			switch ((arg >> 4) % 8) {
			case 0:
				tapir_tcp_write(f, junk, (size_t)arg * (z->tso ? 110 : 11));
				break;
			case 1:
				tapir_tcp_close(f);
				z->flows[slot_of(z, f)] = NULL;
				break;
			case 2:
				tapir_tcp_shutdown(f, arg & 1, true);
				break;
			case 3:
				tapir_tcp_read_pause(f, true);
				break;
			case 4:
				tapir_tcp_read_pause(f, false);
				break;
			case 5:
				tapir_tcp_abort(f);
				z->flows[slot_of(z, f)] = NULL;
				break;
			case 6:
				tapir_tcp_write_nodelay(f, junk, arg & 7);
				break;
			default: {
				struct tapir_tcp_flow_info fi;

				tapir_tcp_flow_info(f, &fi);
				break;
			}
			}
			break;
		}
		case 6:
			tapir_tcp_connect(z->st, A4(PEER), 8080, (p < end && (*p & 1)) ? &o : NULL, on_connect, z);
			break;
		case 7:
			send_icmp(z, &p, end);
			break;
		}
		check(z);
	}
	/* the application lets go of everything; every timer runs out */
	for (int i = 0; i < MAXF; i++)
		if (z->flows[i]) {
			tapir_tcp_close(z->flows[i]);
			z->flows[i] = NULL;
		}
	tapir_tcp_unlisten(z->st, 80);
	check(z);
	for (int i = 0; i < 200 && tapir_tcp_flow_count(z->st); i++) {
		run_timers(z, z->now + 60 * TAPIR_STACK_NS_PER_SEC);
		check(z);
	}
	if (tapir_tcp_flow_count(z->st) != 0)
		abort();
	/* what the flows held was accounted, and all of it came back */
	if (!tapir_tcp_mem_check(z->st) || tapir_tcp_mem_used(z->st) != 0)
		abort();
	if (getenv("FUZZ_VERBOSE"))
		for (int c = 0; c < TAPIR_CTR__COUNT; c++)
			if (tapir_stack_counter(z->st, (enum tapir_stack_counter)c) &&
			    !strncmp(tapir_stack_counter_name((enum tapir_stack_counter)c), "tcp", 3))
				fprintf(stderr, "%s=%llu ", tapir_stack_counter_name((enum tapir_stack_counter)c),
					(unsigned long long)tapir_stack_counter(z->st, (enum tapir_stack_counter)c));
	if (getenv("FUZZ_VERBOSE"))
		fprintf(stderr, "\n");
	tapir_stack_free(z->st);
	return 0;
}
