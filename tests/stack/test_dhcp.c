/*
 * test_dhcp.c - the DHCP client's state machine with a fake clock: the test
 *               plays the server (crafted replies) and checks every message
 *               the client sends, its timers and what it does to the stack
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "tapir/dhcp.h"
#include "tapir/tcp.h"
#include "wire/arp.h"
#include "wire/bytes.h"
#include "wire/dhcp.h"
#include "wire/eth.h"
#include "wire/ipv4.h"
#include "wire/udp.h"

#define A4(x) (&(struct tapir_addr){ .family = TAPIR_AF_INET, .v4 = (x) })

#define NS 1000000000ull
#define IP(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (d))
#define SERVER IP(192, 0, 2, 1)
#define OFFERED IP(192, 0, 2, 50)
#define MAXF 512

static const uint8_t our_mac[6] = { 2, 0, 0, 0, 0, 0x42 };
static const uint8_t srv_mac[6] = { 2, 0, 0, 0, 0, 1 };
static const uint8_t other_mac[6] = { 2, 0, 0, 0, 0, 7 };

struct frame {
	uint8_t d[2048];
	size_t len;
	uint64_t at;
};

struct t {
	struct tapir_stack *st;
	uint64_t now, rng;
	struct frame f[MAXF];
	size_t nf;
	int ncb;
	struct tapir_dhcp_lease last;
	bool last_null;
};

/* ---- the fake device and clock ---- */

static size_t dev_mtu(void *dev) { (void)dev; return 1500; }
static void dev_mac(void *dev, uint8_t mac[6]) { (void)dev; memcpy(mac, our_mac, 6); }
static int dev_write(void *dev, size_t size, tapir_netif_fill_fn fill, void *ctx)
{
	struct t *t = dev;
	struct frame *f = &t->f[t->nf < MAXF ? t->nf++ : MAXF - 1];

	assert_true(size <= sizeof(f->d));
	f->len = fill(f->d, size, ctx);
	f->at = t->now;
	return 0;
}
static const struct tapir_netif_ops dev_ops = { dev_mtu, dev_mac, dev_write, NULL };

static void rnd(void *ctx, void *buf, size_t len)
{
	struct t *t = ctx;
	uint8_t *p = buf;

	for (size_t i = 0; i < len; i++) {
		t->rng = t->rng * 6364136223846793005ull + 1442695040888963407ull;
		p[i] = (uint8_t)(t->rng >> 56);
	}
}

static void lease_cb(void *ctx, const struct tapir_dhcp_lease *l)
{
	struct t *t = ctx;

	t->ncb++;
	t->last_null = !l;
	if (l)
		t->last = *l;
}

static struct t *t_new(uint32_t static_addr)
{
	struct t *t = calloc(1, sizeof(*t));
	struct tapir_stack_config c;
	struct tapir_netif nif = { &dev_ops, t };

	t->now = 1000 * NS;
	t->rng = 42;
	tapir_stack_config_defaults(&c);
	c.addr = static_addr;
	c.random = rnd;
	c.random_ctx = t;
	assert_int_equal(tapir_stack_new(&t->st, &c, &nif, t->now), 0);
	return t;
}

static void t_free(struct t *t)
{
	tapir_stack_free(t->st);
	free(t);
}

static void start(struct t *t, uint32_t reboot)
{
	struct tapir_dhcp_config dc = { .hostname = "unit", .lease_changed = lease_cb, .ctx = t,
					.reboot_addr = reboot };

	assert_int_equal(tapir_dhcp_start(t->st, &dc, t->now), 0);
}

/* Advance the clock by @ns, running the timers due on the way */
static void advance(struct t *t, uint64_t ns)
{
	uint64_t end = t->now + ns;

	for (;;) {
		uint64_t d = tapir_stack_next_deadline(t->st);

		if (d > end)
			break;
		if (d > t->now)
			t->now = d;
		tapir_stack_poll(t->st, t->now);
	}
	t->now = end;
	tapir_stack_poll(t->st, t->now);
}

/* ---- reading what the client sent ---- */

struct sent {
	struct dhcp_repr r;
	uint32_t ip_src, ip_dst;
	uint8_t eth_dst[6];
	uint64_t at;
	uint8_t prl[64];
	size_t prl_len;
};

/* Parse frame @i as a DHCP message to port 67.  Return: 0 or -1 */
static int parse_sent(const struct t *t, size_t i, struct sent *s)
{
	const struct frame *f = &t->f[i];
	const uint8_t *ip = f->d + ETH_HDR_LEN, *udp, *opt;
	size_t hl;

	if (f->len < ETH_HDR_LEN + 28 || get_be16(f->d + 12) != TAPIR_ETHERTYPE_IPV4 || ip[9] != 17)
		return -1;
	hl = (size_t)(ip[0] & 15) * 4;
	udp = ip + hl;
	if (get_be16(udp + 2) != 67)
		return -1;
	assert_int_equal(get_be16(udp), 68);
	assert_int_equal(dhcp_repr_parse(&s->r, udp + 8, get_be16(udp + 4) - 8), 0);
	s->ip_src = get_be32(ip + 12);
	s->ip_dst = get_be32(ip + 16);
	memcpy(s->eth_dst, f->d, 6);
	s->at = f->at;
	/* the parameter request list (not decoded by the parser) */
	s->prl_len = 0;
	for (opt = udp + 8 + DHCP_MIN_LEN; *opt != 255; opt += 2 + opt[1])
		if (*opt == DHCP_OPT_PARAM_REQ) {
			memcpy(s->prl, opt + 2, opt[1]);
			s->prl_len = opt[1];
		}
	return 0;
}

/* The @n-th (0 = first) DHCP message of type @type sent since frame @from */
static bool find_sent(const struct t *t, size_t from, uint8_t type, int n, struct sent *s)
{
	for (size_t i = from; i < t->nf; i++)
		if (parse_sent(t, i, s) == 0 && s->r.msg_type == type && n-- == 0)
			return true;
	return false;
}

static int count_sent(const struct t *t, size_t from, uint8_t type)
{
	struct sent s;
	int n = 0;

	for (size_t i = from; i < t->nf; i++)
		if (parse_sent(t, i, &s) == 0 && s.r.msg_type == type)
			n++;
	return n;
}

/* ARP probes (sender 0.0.0.0) for @target since frame @from */
static int count_probes(const struct t *t, size_t from, uint32_t target)
{
	int n = 0;

	for (size_t i = from; i < t->nf; i++) {
		const uint8_t *a = t->f[i].d + ETH_HDR_LEN;

		if (get_be16(t->f[i].d + 12) == TAPIR_ETHERTYPE_ARP && get_be16(a + 6) == 1 &&
		    get_be32(a + 14) == 0 && get_be32(a + 24) == target)
			n++;
	}
	return n;
}

/* ---- the server ---- */

struct reply {
	uint8_t type;
	uint32_t yiaddr, xid;
	uint32_t lease, t1, t2;      /* 0: not sent */
	uint32_t server;             /* option 54; 0: not sent */
	const uint8_t *extra;        /* more options */
	size_t extra_len;
	const uint8_t *chaddr;       /* NULL: ours */
	uint16_t src_port;           /* 0: 67 */
	uint32_t ip_dst;             /* 0: broadcast */
};

static uint8_t *opt32(uint8_t *p, uint8_t code, uint32_t v)
{
	p[0] = code;
	p[1] = 4;
	put_be32(p + 2, v);
	return p + 6;
}

static void inject(struct t *t, const uint8_t *frame, size_t len)
{
	tapir_stack_input(t->st, frame, len, 0, t->now);
}

static void reply(struct t *t, const struct reply *rp)
{
	uint8_t f[1200], *dh = f + ETH_HDR_LEN + 28, *p;
	struct eth_repr e;
	struct ipv4_repr ip = { 0 };
	struct udp_repr u;
	uint32_t dst = rp->ip_dst ? rp->ip_dst : IPV4_ADDR_BROADCAST;
	size_t dlen;

	memset(f, 0, sizeof(f));
	dh[0] = DHCP_OP_REPLY;
	dh[1] = 1;
	dh[2] = 6;
	put_be32(dh + 4, rp->xid);
	put_be32(dh + 16, rp->yiaddr);
	memcpy(dh + 28, rp->chaddr ? rp->chaddr : our_mac, 6);
	put_be32(dh + DHCP_FIXED_LEN, DHCP_MAGIC);
	p = dh + DHCP_MIN_LEN;
	*p++ = DHCP_OPT_MSG_TYPE;
	*p++ = 1;
	*p++ = rp->type;
	if (rp->server)
		p = opt32(p, DHCP_OPT_SERVER_ID, rp->server);
	if (rp->type != DHCP_NAK) {
		p = opt32(p, DHCP_OPT_SUBNET_MASK, 0xffffff00);
		p = opt32(p, DHCP_OPT_ROUTER, SERVER);
	}
	if (rp->lease)
		p = opt32(p, DHCP_OPT_LEASE_TIME, rp->lease);
	if (rp->t1)
		p = opt32(p, DHCP_OPT_T1, rp->t1);
	if (rp->t2)
		p = opt32(p, DHCP_OPT_T2, rp->t2);
	if (rp->extra_len) {
		memcpy(p, rp->extra, rp->extra_len);
		p += rp->extra_len;
	}
	*p++ = 255;
	dlen = (size_t)(p - dh);
	if (dlen < 300)
		dlen = 300;
	memcpy(e.dst, dst == IPV4_ADDR_BROADCAST ? eth_broadcast : our_mac, 6);
	memcpy(e.src, srv_mac, 6);
	e.ethertype = TAPIR_ETHERTYPE_IPV4;
	eth_repr_emit(&e, f);
	ip.src = SERVER;
	ip.dst = dst;
	ip.proto = 17;
	ip.ttl = 64;
	ip.payload_len = 8 + dlen;
	ipv4_repr_emit(&ip, f + ETH_HDR_LEN);
	u.src_port = rp->src_port ? rp->src_port : 67;
	u.dst_port = 68;
	u.payload = dh;
	u.payload_len = dlen;
	udp_repr_emit(&u, f + ETH_HDR_LEN + 20, SERVER, dst);
	inject(t, f, ETH_HDR_LEN + 28 + dlen);
}

/* An ARP packet from @sha: @op, sender @spa, target @tpa */
static void arp_from(struct t *t, const uint8_t sha[6], uint16_t op, uint32_t spa, uint32_t tpa)
{
	uint8_t f[ETH_HDR_LEN + ARP_LEN];
	struct eth_repr e;
	struct arp_repr a = { .op = op, .spa = spa, .tpa = tpa };

	memcpy(e.dst, op == 1 ? eth_broadcast : our_mac, 6);
	memcpy(e.src, sha, 6);
	e.ethertype = TAPIR_ETHERTYPE_ARP;
	eth_repr_emit(&e, f);
	memcpy(a.sha, sha, 6);
	if (op == 2)
		memcpy(a.tha, our_mac, 6);
	arp_repr_emit(&a, f + ETH_HDR_LEN);
	inject(t, f, sizeof(f));
}

/* DISCOVER, OFFER, REQUEST, ACK (lease @lease, T1/T2 @t1/@t2 or 0), probe -> BOUND */
static void acquire(struct t *t, uint32_t lease, uint32_t t1, uint32_t t2)
{
	struct sent s;
	size_t mark = t->nf;

	advance(t, NS);
	assert_true(find_sent(t, mark, DHCP_DISCOVER, 0, &s));
	reply(t, &(struct reply){ .type = DHCP_OFFER, .yiaddr = OFFERED, .xid = s.r.xid,
				  .server = SERVER, .lease = lease });
	assert_int_equal(tapir_dhcp_state(t->st), TAPIR_DHCP_REQUESTING);
	assert_true(find_sent(t, mark, DHCP_REQUEST, 0, &s));
	reply(t, &(struct reply){ .type = DHCP_ACK, .yiaddr = OFFERED, .xid = s.r.xid,
				  .server = SERVER, .lease = lease, .t1 = t1, .t2 = t2 });
	assert_int_equal(tapir_dhcp_state(t->st), TAPIR_DHCP_PROBING);
	assert_int_equal(tapir_stack_addr(t->st), 0);
	advance(t, 9 * NS);
	assert_int_equal(tapir_dhcp_state(t->st), TAPIR_DHCP_BOUND);
	assert_int_equal(tapir_stack_addr(t->st), OFFERED);
}

/* ---- tests ---- */

static void test_acquire(void **state)
{
	struct t *t = t_new(0);
	struct sent d, r;
	const struct tapir_dhcp_lease *l;
	(void)state;

	start(t, 0);
	assert_int_equal(tapir_dhcp_state(t->st), TAPIR_DHCP_INIT);
	advance(t, NS);
	assert_true(find_sent(t, 0, DHCP_DISCOVER, 0, &d));
	/* from 0.0.0.0 to the broadcast address, asking for a broadcast reply */
	assert_int_equal(d.ip_src, 0);
	assert_int_equal(d.ip_dst, IPV4_ADDR_BROADCAST);
	assert_memory_equal(d.eth_dst, eth_broadcast, 6);
	assert_int_equal(d.r.op, DHCP_OP_REQUEST);
	assert_int_equal(d.r.flags, DHCP_FLAG_BROADCAST);
	assert_memory_equal(d.r.chaddr, our_mac, 6);
	assert_int_equal(d.r.client_id_len, 7);   /* type 1 + MAC (RFC 2132 9.14) */
	assert_int_equal(d.r.client_id[0], 1);
	assert_memory_equal(d.r.client_id + 1, our_mac, 6);
	assert_string_equal(d.r.hostname, "unit");
	assert_non_null(memchr(d.prl, DHCP_OPT_SEARCH, d.prl_len));
	assert_non_null(memchr(d.prl, DHCP_OPT_MTU, d.prl_len));
	assert_non_null(memchr(d.prl, DHCP_OPT_DOMAIN, d.prl_len));
	assert_non_null(memchr(d.prl, DHCP_OPT_DNS, d.prl_len));

	/* An OFFER from another transaction is ignored */
	reply(t, &(struct reply){ .type = DHCP_OFFER, .yiaddr = OFFERED, .xid = d.r.xid + 1,
				  .server = SERVER });
	assert_int_equal(tapir_dhcp_state(t->st), TAPIR_DHCP_SELECTING);

	static const uint8_t extra[] = {
		DHCP_OPT_DNS, 8, 198, 51, 100, 53, 198, 51, 100, 54,
		DHCP_OPT_DOMAIN, 11, 'e', 'x', 'a', 'm', 'p', 'l', 'e', '.', 'o', 'r', 'g',
		DHCP_OPT_MTU, 2, 0x05, 0x78,  /* 1400 */
		/* RFC 3397's example: eng.apple.com, marketing.apple.com (a pointer) */
		DHCP_OPT_SEARCH, 27, 3, 'e', 'n', 'g', 5, 'a', 'p', 'p', 'l', 'e', 3, 'c', 'o', 'm',
		0, 9, 'm', 'a', 'r', 'k', 'e', 't', 'i', 'n', 'g', 0xc0, 4,
	};
	reply(t, &(struct reply){ .type = DHCP_OFFER, .yiaddr = OFFERED, .xid = d.r.xid,
				  .server = SERVER, .lease = 100 });
	assert_true(find_sent(t, 0, DHCP_REQUEST, 0, &r));
	assert_int_equal(r.r.xid, d.r.xid);
	assert_true(r.r.has_requested_ip && r.r.requested_ip == OFFERED);
	assert_true(r.r.has_server_id && r.r.server_id == SERVER);
	assert_int_equal(r.r.ciaddr, 0);
	assert_int_equal(r.ip_src, 0);
	size_t mark = t->nf;
	reply(t, &(struct reply){ .type = DHCP_ACK, .yiaddr = OFFERED, .xid = r.r.xid,
				  .server = SERVER, .lease = 100, .extra = extra,
				  .extra_len = sizeof(extra) });
	assert_int_equal(tapir_dhcp_state(t->st), TAPIR_DHCP_PROBING);
	assert_int_equal(t->ncb, 0);
	/* RFC 5227: 3 probes from 0.0.0.0, 1 to 2 s apart, 2 s more, then ours */
	uint64_t probe_at[3], t0 = t->now;
	for (int n = 0; n < 3; n++) {
		while (count_probes(t, mark, OFFERED) == n)
			advance(t, NS / 100);
		probe_at[n] = t->now;
		assert_int_equal(tapir_stack_addr(t->st), 0);
	}
	assert_true(probe_at[0] - t0 <= NS);
	for (int n = 1; n < 3; n++)
		assert_true(probe_at[n] - probe_at[n - 1] >= NS &&
			    probe_at[n] - probe_at[n - 1] <= 2 * NS + NS / 100);
	advance(t, 2 * NS - NS / 50);
	assert_int_equal(tapir_stack_addr(t->st), 0);
	advance(t, NS / 25);
	assert_int_equal(tapir_dhcp_state(t->st), TAPIR_DHCP_BOUND);
	assert_int_equal(tapir_stack_addr(t->st), OFFERED);
	assert_int_equal(tapir_stack_prefix_len(t->st), 24);
	assert_int_equal(tapir_stack_gateway(t->st), SERVER);
	assert_int_equal(tapir_stack_mtu(t->st), 1400);
	assert_int_equal(t->ncb, 1);
	l = tapir_dhcp_lease(t->st);
	assert_non_null(l);
	assert_int_equal(l->ndns, 2);
	assert_int_equal(l->dns[1], IP(198, 51, 100, 54));
	assert_string_equal(l->domain, "example.org");
	assert_int_equal(l->nsearch, 2);
	assert_string_equal(l->search[0], "eng.apple.com");
	assert_string_equal(l->search[1], "marketing.apple.com");
	assert_int_equal(l->server, SERVER);
	/* T1, T2 by default: 0.5 and 0.875 of the lease, from the REQUEST */
	assert_int_equal(l->t1_secs, 50);
	assert_int_equal(l->t2_secs, 87);
	assert_int_equal(l->t1, r.at + 50 * NS);
	assert_int_equal(l->expiry, r.at + 100 * NS);
	t_free(t);
}

static void test_backoff(void **state)
{
	struct t *t = t_new(0);
	struct sent s[7];
	(void)state;

	start(t, 0);
	advance(t, 300 * NS);
	for (int i = 0; i < 7; i++)
		assert_true(find_sent(t, 0, DHCP_DISCOVER, i, &s[i]));
	/* 4, 8, 16, 32, 64, 64 s, each within 1 s (RFC 2131 4.1); one xid */
	static const uint64_t base[] = { 4, 8, 16, 32, 64, 64 };
	for (int i = 0; i < 6; i++) {
		uint64_t gap = s[i + 1].at - s[i].at;

		assert_true(gap >= (base[i] - 1) * NS && gap <= (base[i] + 1) * NS);
		assert_int_equal(s[i + 1].r.xid, s[0].r.xid);
		assert_true(s[i + 1].r.secs >= s[i].r.secs);
	}
	assert_int_equal(tapir_dhcp_state(t->st), TAPIR_DHCP_SELECTING);
	assert_int_equal(tapir_stack_addr(t->st), 0);
	t_free(t);
}

static void test_request_unanswered(void **state)
{
	struct t *t = t_new(0);
	struct sent s;
	(void)state;

	start(t, 0);
	advance(t, NS);
	assert_true(find_sent(t, 0, DHCP_DISCOVER, 0, &s));
	reply(t, &(struct reply){ .type = DHCP_OFFER, .yiaddr = OFFERED, .xid = s.r.xid,
				  .server = SERVER });
	size_t mark = t->nf;
	advance(t, 60 * NS);
	/* 4 REQUESTs, then back to INIT: a new DISCOVER with a new xid */
	assert_int_equal(count_sent(t, 0, DHCP_REQUEST), 4);
	struct sent d;
	assert_true(find_sent(t, mark, DHCP_DISCOVER, 0, &d));
	assert_int_not_equal(d.r.xid, s.r.xid);
	t_free(t);
}

static void test_renew_rebind_expire(void **state)
{
	struct t *t = t_new(0);
	struct sent s;
	size_t mark;
	(void)state;

	start(t, 0);
	acquire(t, 400, 100, 300);
	const struct tapir_dhcp_lease l = *tapir_dhcp_lease(t->st);
	assert_int_equal(l.t1_secs, 100);
	assert_int_equal(l.t2_secs, 300);
	mark = t->nf;
	advance(t, l.t1 - t->now - 1);
	assert_int_equal(tapir_dhcp_state(t->st), TAPIR_DHCP_BOUND);
	advance(t, 1);
	/* T1: RENEWING, a REQUEST unicast to the server (after ARP for it) */
	assert_int_equal(tapir_dhcp_state(t->st), TAPIR_DHCP_RENEWING);
	arp_from(t, srv_mac, 2, SERVER, OFFERED);
	assert_true(find_sent(t, mark, DHCP_REQUEST, 0, &s));
	assert_int_equal(s.ip_dst, SERVER);
	assert_int_equal(s.ip_src, OFFERED);
	assert_memory_equal(s.eth_dst, srv_mac, 6);
	assert_int_equal(s.r.ciaddr, OFFERED);
	assert_false(s.r.has_requested_ip);
	assert_false(s.r.has_server_id);
	/* retransmitted after half the time to T2 (100 s), then 60 s ... */
	advance(t, 100 * NS + 1);
	/* (the server's ARP entry expired meanwhile: it is asked for again) */
	arp_from(t, srv_mac, 2, SERVER, OFFERED);
	assert_int_equal(count_sent(t, mark, DHCP_REQUEST), 2);
	/* T2: REBINDING, broadcast */
	advance(t, l.t2 - t->now - 1);
	assert_int_equal(tapir_dhcp_state(t->st), TAPIR_DHCP_RENEWING);
	mark = t->nf;
	advance(t, 1);
	assert_int_equal(tapir_dhcp_state(t->st), TAPIR_DHCP_REBINDING);
	assert_true(find_sent(t, mark, DHCP_REQUEST, 0, &s));
	assert_int_equal(s.ip_dst, IPV4_ADDR_BROADCAST);
	assert_int_equal(s.r.ciaddr, OFFERED);
	assert_int_equal(tapir_stack_addr(t->st), OFFERED);
	/* expiry: the address goes, the client starts over */
	advance(t, l.expiry - t->now - 1);
	assert_int_equal(tapir_stack_addr(t->st), OFFERED);
	mark = t->nf;
	advance(t, 1);
	assert_int_equal(tapir_stack_addr(t->st), 0);
	assert_true(t->last_null);
	assert_int_equal(tapir_dhcp_state(t->st), TAPIR_DHCP_SELECTING);
	assert_true(find_sent(t, mark, DHCP_DISCOVER, 0, &s));
	struct tapir_dhcp_stats st;
	tapir_dhcp_get_stats(t->st, &st);
	assert_int_equal(st.expired, 1);
	t_free(t);
}

static void test_renew_ack(void **state)
{
	struct t *t = t_new(0);
	struct sent s;
	(void)state;

	start(t, 0);
	acquire(t, 40, 0, 0);
	uint64_t t1 = tapir_dhcp_lease(t->st)->t1;
	size_t mark = t->nf;
	advance(t, t1 - t->now);
	arp_from(t, srv_mac, 2, SERVER, OFFERED);
	assert_true(find_sent(t, mark, DHCP_REQUEST, 0, &s));
	reply(t, &(struct reply){ .type = DHCP_ACK, .yiaddr = OFFERED, .xid = s.r.xid,
				  .server = SERVER, .lease = 40, .ip_dst = OFFERED });
	assert_int_equal(tapir_dhcp_state(t->st), TAPIR_DHCP_BOUND);
	assert_int_equal(tapir_dhcp_lease(t->st)->t1, s.at + 20 * NS);
	assert_int_equal(t->ncb, 2);
	assert_false(t->last_null);
	assert_int_equal(tapir_stack_addr(t->st), OFFERED);
	t_free(t);
}

static void test_nak(void **state)
{
	struct t *t = t_new(0);
	struct sent s;
	(void)state;

	start(t, 0);
	acquire(t, 40, 0, 0);
	advance(t, tapir_dhcp_lease(t->st)->t1 - t->now);
	arp_from(t, srv_mac, 2, SERVER, OFFERED);
	assert_true(find_sent(t, 0, DHCP_REQUEST, 1, &s));
	/* a NAK for another client changes nothing */
	reply(t, &(struct reply){ .type = DHCP_NAK, .xid = s.r.xid, .server = SERVER,
				  .chaddr = other_mac });
	assert_int_equal(tapir_stack_addr(t->st), OFFERED);
	size_t mark = t->nf;
	reply(t, &(struct reply){ .type = DHCP_NAK, .xid = s.r.xid, .server = SERVER });
	assert_int_equal(tapir_stack_addr(t->st), 0);
	assert_true(t->last_null);
	assert_int_equal(tapir_dhcp_state(t->st), TAPIR_DHCP_INIT);
	advance(t, NS);
	assert_true(find_sent(t, mark, DHCP_DISCOVER, 0, &s));
	t_free(t);
}

static void test_conflict_declines(void **state)
{
	struct t *t = t_new(0);
	struct sent s;
	(void)state;

	start(t, 0);
	advance(t, NS);
	assert_true(find_sent(t, 0, DHCP_DISCOVER, 0, &s));
	reply(t, &(struct reply){ .type = DHCP_OFFER, .yiaddr = OFFERED, .xid = s.r.xid,
				  .server = SERVER });
	assert_true(find_sent(t, 0, DHCP_REQUEST, 0, &s));
	reply(t, &(struct reply){ .type = DHCP_ACK, .yiaddr = OFFERED, .xid = s.r.xid,
				  .server = SERVER, .lease = 100 });
	advance(t, 2 * NS);
	/* our own probe looped back is no conflict; another host's answer is */
	arp_from(t, our_mac, 1, 0, OFFERED);
	assert_int_equal(tapir_dhcp_state(t->st), TAPIR_DHCP_PROBING);
	size_t mark = t->nf;
	arp_from(t, other_mac, 2, OFFERED, 0);
	assert_int_equal(tapir_dhcp_state(t->st), TAPIR_DHCP_DECLINED);
	assert_true(find_sent(t, mark, DHCP_DECLINE, 0, &s));
	assert_int_equal(s.ip_src, 0);
	assert_int_equal(s.ip_dst, IPV4_ADDR_BROADCAST);
	assert_true(s.r.has_requested_ip && s.r.requested_ip == OFFERED);
	assert_true(s.r.has_server_id && s.r.server_id == SERVER);
	assert_int_equal(tapir_stack_addr(t->st), 0);
	assert_int_equal(t->ncb, 0);
	/* 10 s later (RFC 2131 3.1), a new DISCOVER */
	advance(t, 9 * NS);
	assert_int_equal(count_sent(t, mark, DHCP_DISCOVER), 0);
	advance(t, NS + 1);
	assert_int_equal(count_sent(t, mark, DHCP_DISCOVER), 1);
	/* another host probing for the same address is a conflict too */
	assert_true(find_sent(t, mark, DHCP_DISCOVER, 0, &s));
	reply(t, &(struct reply){ .type = DHCP_OFFER, .yiaddr = OFFERED, .xid = s.r.xid,
				  .server = SERVER });
	assert_true(find_sent(t, mark, DHCP_REQUEST, 0, &s));
	reply(t, &(struct reply){ .type = DHCP_ACK, .yiaddr = OFFERED, .xid = s.r.xid,
				  .server = SERVER, .lease = 100 });
	arp_from(t, other_mac, 1, 0, OFFERED);
	assert_int_equal(tapir_dhcp_state(t->st), TAPIR_DHCP_DECLINED);
	struct tapir_dhcp_stats st;
	tapir_dhcp_get_stats(t->st, &st);
	assert_int_equal(st.conflicts, 2);
	t_free(t);
}

static void test_init_reboot(void **state)
{
	struct t *t = t_new(0);
	struct sent s;
	(void)state;

	start(t, IP(192, 0, 2, 77));
	assert_int_equal(tapir_dhcp_state(t->st), TAPIR_DHCP_INIT_REBOOT);
	advance(t, NS);
	assert_int_equal(count_sent(t, 0, DHCP_DISCOVER), 0);
	assert_true(find_sent(t, 0, DHCP_REQUEST, 0, &s));
	assert_true(s.r.has_requested_ip && s.r.requested_ip == IP(192, 0, 2, 77));
	assert_false(s.r.has_server_id);
	assert_int_equal(s.r.ciaddr, 0);
	/* the server refuses: INIT */
	reply(t, &(struct reply){ .type = DHCP_NAK, .xid = s.r.xid, .server = SERVER });
	assert_int_equal(tapir_dhcp_state(t->st), TAPIR_DHCP_INIT);
	t_free(t);

	/* accepted: probe, then bound */
	t = t_new(0);
	start(t, IP(192, 0, 2, 77));
	advance(t, NS);
	assert_true(find_sent(t, 0, DHCP_REQUEST, 0, &s));
	reply(t, &(struct reply){ .type = DHCP_ACK, .yiaddr = IP(192, 0, 2, 77), .xid = s.r.xid,
				  .server = SERVER, .lease = 100 });
	assert_int_equal(tapir_dhcp_state(t->st), TAPIR_DHCP_PROBING);
	advance(t, 9 * NS);
	assert_int_equal(tapir_stack_addr(t->st), IP(192, 0, 2, 77));
	t_free(t);

	/* unanswered: two REQUESTs, then INIT */
	t = t_new(0);
	start(t, IP(192, 0, 2, 77));
	advance(t, 20 * NS);
	assert_int_equal(count_sent(t, 0, DHCP_REQUEST), 2);
	struct sent r2, d;
	assert_true(find_sent(t, 0, DHCP_REQUEST, 1, &r2));
	assert_true(find_sent(t, 0, DHCP_DISCOVER, 0, &d));
	assert_true(d.at >= r2.at + 7 * NS && d.at <= r2.at + 9 * NS);
	t_free(t);
}

static void test_release_and_stop(void **state)
{
	struct t *t = t_new(0);
	struct sent s;
	(void)state;

	start(t, 0);
	acquire(t, 100, 0, 0);
	size_t mark = t->nf;
	assert_int_equal(tapir_dhcp_release(t->st, t->now), 0);
	assert_true(find_sent(t, mark, DHCP_RELEASE, 0, &s));
	assert_int_equal(s.ip_dst, SERVER);
	assert_int_equal(s.ip_src, OFFERED);
	assert_memory_equal(s.eth_dst, eth_broadcast, 6); /* the server's MAC is unknown */
	assert_int_equal(s.r.ciaddr, OFFERED);
	assert_true(s.r.has_server_id && s.r.server_id == SERVER);
	assert_int_equal(tapir_stack_addr(t->st), 0);
	assert_int_equal(tapir_dhcp_release(t->st, t->now), -EADDRNOTAVAIL);
	advance(t, 100 * NS);
	assert_int_equal(count_sent(t, mark, DHCP_DISCOVER), 0);  /* until renew */
	assert_int_equal(tapir_dhcp_renew(t->st, t->now), 0);
	assert_int_equal(count_sent(t, mark, DHCP_DISCOVER), 1);
	t_free(t);

	t = t_new(0);
	start(t, 0);
	acquire(t, 100, 0, 0);
	arp_from(t, srv_mac, 2, SERVER, OFFERED);  /* now the server's MAC is known */
	mark = t->nf;
	tapir_dhcp_stop(t->st, true, t->now);
	assert_true(find_sent(t, mark, DHCP_RELEASE, 0, &s));
	assert_memory_equal(s.eth_dst, srv_mac, 6);
	assert_int_equal(tapir_dhcp_state(t->st), TAPIR_DHCP_STOPPED);
	assert_int_equal(tapir_stack_next_deadline(t->st) == TAPIR_STACK_NO_DEADLINE ||
			 tapir_stack_next_deadline(t->st) > t->now, 1);
	assert_int_equal(tapir_dhcp_renew(t->st, t->now), -ENOTCONN);
	t_free(t);
}

static void test_bad_replies(void **state)
{
	struct t *t = t_new(0);
	struct sent s;
	struct tapir_dhcp_stats st;
	(void)state;

	start(t, 0);
	advance(t, NS);
	assert_true(find_sent(t, 0, DHCP_DISCOVER, 0, &s));
	reply(t, &(struct reply){ .type = DHCP_OFFER, .yiaddr = OFFERED, .xid = s.r.xid,
				  .server = SERVER, .src_port = 6767 });
	reply(t, &(struct reply){ .type = DHCP_OFFER, .yiaddr = OFFERED, .xid = s.r.xid,
				  .server = SERVER, .chaddr = other_mac });
	reply(t, &(struct reply){ .type = DHCP_OFFER, .yiaddr = OFFERED, .xid = s.r.xid });
	reply(t, &(struct reply){ .type = DHCP_OFFER, .yiaddr = IP(224, 0, 0, 1), .xid = s.r.xid,
				  .server = SERVER });
	reply(t, &(struct reply){ .type = DHCP_ACK, .yiaddr = OFFERED, .xid = s.r.xid,
				  .server = SERVER });
	assert_int_equal(tapir_dhcp_state(t->st), TAPIR_DHCP_SELECTING);
	tapir_dhcp_get_stats(t->st, &st);
	assert_int_equal(st.rx_dropped, 5);
	assert_int_equal(tapir_stack_counter(t->st, TAPIR_CTR_DHCP_DROP_MALFORMED), 1);
	assert_int_equal(tapir_stack_counter(t->st, TAPIR_CTR_DHCP_DROP_NOT_OURS), 1);
	assert_int_equal(tapir_stack_counter(t->st, TAPIR_CTR_DHCP_DROP_UNEXPECTED), 3);
	/* a unicast datagram to an address while we have none is not ours */
	reply(t, &(struct reply){ .type = DHCP_OFFER, .yiaddr = OFFERED, .xid = s.r.xid,
				  .server = SERVER, .ip_dst = OFFERED });
	assert_int_equal(tapir_dhcp_state(t->st), TAPIR_DHCP_SELECTING);
	assert_int_equal(tapir_stack_counter(t->st, TAPIR_CTR_IPV4_DROP_NOT_US), 1);
	t_free(t);
}

/* ---- the stack without an address, and changing it ---- */

static int conn_err = 1;
static void on_connect(void *ctx, struct tapir_tcp_flow *f, int err)
{
	(void)ctx;
	(void)f;
	conn_err = err;
}

static void test_addr_change_resets_flows(void **state)
{
	struct t *t = t_new(IP(192, 0, 2, 2));
	(void)state;

	assert_int_equal(tapir_dhcp_start(t->st, &(struct tapir_dhcp_config){ 0 }, t->now),
			 -EINVAL);
	arp_from(t, srv_mac, 2, SERVER, IP(192, 0, 2, 2));
	assert_int_equal(tapir_tcp_connect(t->st, A4(SERVER), 80, NULL, on_connect, NULL), 0);
	assert_int_equal(tapir_tcp_flow_count(t->st), 1);
	size_t mark = t->nf;
	uint64_t rst = tapir_stack_counter(t->st, TAPIR_CTR_TCP_RESETS_SENT);
	assert_int_equal(tapir_stack_set_addr(t->st, IP(192, 0, 2, 3), 24, IP(192, 0, 2, 1)), 0);
	assert_int_equal(conn_err, -EADDRNOTAVAIL);
	assert_int_equal(tapir_stack_counter(t->st, TAPIR_CTR_TCP_RESETS_SENT), rst + 1);
	/* the RST left from the old address, then a gratuitous ARP for the new one */
	bool saw_rst = false;
	for (size_t i = mark; i < t->nf; i++)
		if (get_be16(t->f[i].d + 12) == TAPIR_ETHERTYPE_IPV4 &&
		    get_be32(t->f[i].d + ETH_HDR_LEN + 12) == IP(192, 0, 2, 2))
			saw_rst = true;
	assert_true(saw_rst);
	assert_int_equal(tapir_stack_addr(t->st), IP(192, 0, 2, 3));
	/* a gateway off the subnet is refused */
	assert_int_equal(tapir_stack_set_addr(t->st, IP(192, 0, 2, 3), 24, IP(198, 51, 100, 1)),
			 -EINVAL);
	/* no address: nothing but broadcasts go out */
	assert_int_equal(tapir_stack_set_addr(t->st, 0, 0, 0), 0);
	assert_int_equal(tapir_udp_sendto(t->st, 1000, A4(SERVER), 53, 0, (const uint8_t *)"x", 1),
			 -ENETUNREACH);
	assert_int_equal(tapir_udp_sendto(t->st, 1000, A4(IPV4_ADDR_BROADCAST), 53, 0,
					  (const uint8_t *)"x", 1), 0);
	/* and ARP requests for 0.0.0.0 are not answered */
	mark = t->nf;
	arp_from(t, other_mac, 1, IP(192, 0, 2, 9), 0);
	assert_int_equal(t->nf, mark);
	t_free(t);
}

/* ---- the wire parser ---- */

static void test_wire_search_list(void **state)
{
	char out[4][DHCP_NAME_MAX + 1];
	(void)state;

	static const uint8_t loop[] = { 3, 'a', 'b', 'c', 0xc0, 0 };          /* to itself */
	static const uint8_t fwd[] = { 0xc0, 2, 1, 'a', 0 };                  /* forwards */
	static const uint8_t oob[] = { 5, 'a', 'b' };                         /* past the end */
	static const uint8_t nul[] = { 0 };                                   /* empty name */
	static const uint8_t two[] = { 1, 'a', 0, 1, 'b', 0xc0, 0 };          /* a, b.a */
	assert_int_equal(dhcp_search_decode(loop, sizeof(loop), out, 4), -EBADMSG);
	assert_int_equal(dhcp_search_decode(fwd, sizeof(fwd), out, 4), -EBADMSG);
	assert_int_equal(dhcp_search_decode(oob, sizeof(oob), out, 4), -EBADMSG);
	assert_int_equal(dhcp_search_decode(nul, sizeof(nul), out, 4), -EBADMSG);
	assert_int_equal(dhcp_search_decode(two, sizeof(two), out, 4), 2);
	assert_string_equal(out[1], "b.a");
	assert_int_equal(dhcp_search_decode(two, sizeof(two), out, 1), 1);
}

static void test_wire_overload_and_split(void **state)
{
	uint8_t m[400];
	struct dhcp_repr r;
	(void)state;

	memset(m, 0, sizeof(m));
	m[0] = 2;
	put_be32(m + DHCP_FIXED_LEN, DHCP_MAGIC);
	uint8_t *p = m + DHCP_MIN_LEN;
	/* option 52 = 1: more options in the file field; option 15 in two
	 * pieces (RFC 3396), the second one in the file field */
	static const uint8_t o[] = { 53, 1, 5, 52, 1, 1, 15, 4, 'e', 'x', 'a', 'm', 255 };
	memcpy(p, o, sizeof(o));
	static const uint8_t f[] = { 15, 8, 'p', 'l', 'e', '.', 'o', 'r', 'g', 0, 51, 4, 0, 0, 1, 0, 255 };
	memcpy(m + 108, f, sizeof(f));
	assert_int_equal(dhcp_repr_parse(&r, m, DHCP_MIN_LEN + sizeof(o)), 0);
	assert_int_equal(r.msg_type, DHCP_ACK);
	assert_string_equal(r.domain, "example.org");
	assert_true(r.has_lease);
	assert_int_equal(r.lease, 256);
	/* an option running past the end, no end option, no cookie */
	static const uint8_t bad[] = { 53, 1, 5, 3, 8, 1, 2, 3, 4 };
	memcpy(p, bad, sizeof(bad));
	assert_int_equal(dhcp_repr_parse(&r, m, DHCP_MIN_LEN + sizeof(bad)), -EBADMSG);
	assert_int_equal(dhcp_repr_parse(&r, m, DHCP_MIN_LEN + 3), -EBADMSG);
	put_be32(m + DHCP_FIXED_LEN, 0);
	assert_int_equal(dhcp_repr_parse(&r, m, sizeof(m)), -EBADMSG);
	assert_int_equal(dhcp_repr_parse(&r, m, 100), -EBADMSG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_acquire),
		cmocka_unit_test(test_backoff),
		cmocka_unit_test(test_request_unanswered),
		cmocka_unit_test(test_renew_rebind_expire),
		cmocka_unit_test(test_renew_ack),
		cmocka_unit_test(test_nak),
		cmocka_unit_test(test_conflict_declines),
		cmocka_unit_test(test_init_reboot),
		cmocka_unit_test(test_release_and_stop),
		cmocka_unit_test(test_bad_replies),
		cmocka_unit_test(test_addr_change_resets_flows),
		cmocka_unit_test(test_wire_search_list),
		cmocka_unit_test(test_wire_overload_and_split),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
