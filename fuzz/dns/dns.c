/*
 * dns.c - fuzz target: the DNS message parser, and the resolver fed
 *         arbitrary replies
 *
 * Input: a sequence of records, each a 2-byte big-endian length (cut to what
 * is left) and that many bytes, the first of which is an op byte:
 *   op % 4 == 0: the rest is a DNS message for the parser alone: parse,
 *                rebuild uncompressed with the builder, parse again, and
 *                compare every question and record (names, type, class,
 *                TTL, RDATA bytes)
 *   op % 4 == 1: the rest is the DNS payload of a UDP reply from the server
 *                (192.0.2.1:53, or with bit 5 [2001:db8::1]:53 over IPv6)
 *                to the resolver's query (A if bit 2 is clear, else AAAA):
 *                with bit 3 set the ID and the question are patched to
 *                match the query (to get past RFC 5452's checks into the
 *                answer), with bit 4 the destination port is wrong
 *   op % 4 == 2: advance the clock by (op >> 2) * 100 ms and poll
 *   op % 4 == 3: start another resolve of the name in the rest (both
 *                families), or cancel the oldest (bit 2)
 * The stack (192.0.2.2/24 and 2001:db8::2/64) asks 192.0.2.1 first, then
 * 2001:db8::1; it writes into a sink that remembers the last query of each
 * type (its port and ID, over either family) and sees Neighbor
 * Solicitations, which the harness answers after the op.  At the end the
 * clock runs past every
 * timeout, every query must have called back exactly once or been
 * cancelled, and everything is freed (LeakSanitizer checks).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tapir/dns.h"
#include "tapir/stack.h"
#include "wire/bytes.h"
#include "wire/checksum.h"
#include "wire/dns.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define OUR_IP 0xc0000202u
#define SRV_IP 0xc0000201u
static const uint8_t our_ip6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 2 };
static const uint8_t srv_ip6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };
#define MAXQ 8

static const uint8_t our_mac[6] = { 2, 0, 0, 0, 0, 2 };
static const uint8_t srv_mac[6] = { 2, 0, 0, 0, 0, 1 };

struct sink {
	uint8_t buf[65536 + 14];
	uint16_t port[2], id[2];       /* last query: [0] A, [1] AAAA */
	uint8_t q[2][600];             /* its DNS message */
	size_t qlen[2];
	bool ns_seen;                  /* a Neighbor Solicitation: answer it */
};

static size_t sink_mtu(void *dev)
{
	(void)dev;
	return 1500;
}

static void sink_mac(void *dev, uint8_t mac[6])
{
	(void)dev;
	memcpy(mac, our_mac, 6);
}

static int sink_write(void *dev, size_t size, tapir_netif_fill_fn fill, void *ctx)
{
	struct sink *s = dev;
	size_t n = fill(s->buf, size, ctx);
	const uint8_t *ip = s->buf + 14, *udp = NULL;

	if (n > size)
		abort();
	if (n >= 14 + 20 + 8 + 12 && get_be16(s->buf + 12) == 0x0800 && ip[9] == 17)
		udp = ip + 20;
	if (n >= 14 + 40 + 8 + 12 && get_be16(s->buf + 12) == 0x86dd && ip[6] == 17)
		udp = ip + 40;  /* our queries carry no extension headers */
	if (n >= 14 + 40 + 24 && get_be16(s->buf + 12) == 0x86dd && ip[6] == 58 && ip[40] == 135)
		s->ns_seen = true;
	/* a UDP query to port 53: remember its port, ID and message */
	if (udp && get_be16(udp + 2) == 53) {
		const uint8_t *m = udp + 8;
		size_t mlen = n - (size_t)(m - s->buf);
		struct dns_msg msg;
		size_t off;
		struct dns_question q;

		if (dns_msg_parse(&msg, m, mlen) || mlen > sizeof(s->q[0]))
			abort();     /* our own queries always parse */
		off = msg.off[DNS_SEC_QD];
		if (dns_msg_question(&msg, &off, &q))
			abort();
		int k = q.type == DNS_TYPE_AAAA;
		s->port[k] = get_be16(udp);
		s->id[k] = msg.id;
		memcpy(s->q[k], m, mlen);
		s->qlen[k] = mlen;
	}
	return 0;
}

static const struct tapir_netif_ops sink_ops = { sink_mtu, sink_mac, sink_write, NULL };

static void fixed_random(void *ctx, void *buf, size_t len)
{
	uint64_t *state = ctx;
	uint8_t *p = buf;

	for (size_t i = 0; i < len; i++) {
		*state = *state * 6364136223846793005ull + 1442695040888963407ull;
		p[i] = (uint8_t)(*state >> 56);
	}
}

static void parser_roundtrip(const uint8_t *m, size_t len)
{
	static uint8_t out[65536];
	struct dns_msg a, b;
	struct dns_builder bd;
	size_t oa, ob;
	long n;

	if (dns_msg_parse(&a, m, len))
		return;
	dns_build_init(&bd, out, sizeof(out), a.id, a.flags);
	oa = a.off[DNS_SEC_QD];
	for (unsigned i = 0; i < a.count[DNS_SEC_QD]; i++) {
		struct dns_question q;

		if (dns_msg_question(&a, &oa, &q))
			abort();   /* parse checked it */
		dns_build_question(&bd, &q.name, q.type, q.qclass);
	}
	for (int s = DNS_SEC_AN; s < DNS_SEC__COUNT; s++) {
		oa = a.off[s];
		for (unsigned i = 0; i < a.count[s]; i++) {
			struct dns_rr rr;
			char text[DNS_NAME_TEXT_MAX];

			if (dns_msg_rr(&a, &oa, &rr))
				abort();
			if (strlen(dns_name_to_text(&rr.name, text)) >= sizeof(text))
				abort();
			dns_build_rr(&bd, (enum dns_section)s, &rr.name, rr.type, rr.rclass, rr.ttl,
				     rr.rdata, rr.rdlen);
		}
	}
	n = dns_build_finish(&bd);
	if (n < 0)
		return;    /* uncompressed, it may not fit 64 KiB */
	if (dns_msg_parse(&b, out, (size_t)n))
		abort();
	if (b.id != a.id || b.flags != a.flags || memcmp(a.count, b.count, sizeof(a.count)))
		abort();
	for (int s = DNS_SEC_QD; s < DNS_SEC__COUNT; s++) {
		oa = a.off[s];
		ob = b.off[s];
		for (unsigned i = 0; i < a.count[s]; i++) {
			if (s == DNS_SEC_QD) {
				struct dns_question x, y;

				if (dns_msg_question(&a, &oa, &x) || dns_msg_question(&b, &ob, &y) ||
				    x.name.len != y.name.len || memcmp(x.name.b, y.name.b, x.name.len) ||
				    x.type != y.type || x.qclass != y.qclass)
					abort();
				continue;
			}
			struct dns_rr x, y;

			if (dns_msg_rr(&a, &oa, &x) || dns_msg_rr(&b, &ob, &y) ||
			    !dns_name_eq(&x.name, &y.name) || x.type != y.type ||
			    x.rclass != y.rclass || x.ttl != y.ttl || x.rdlen != y.rdlen ||
			    memcmp(x.rdata, y.rdata, x.rdlen))
				abort();
		}
	}
}

/* The IPv6 pseudo-header's partial sum (RFC 8200 8.1) */
static uint64_t csum_pseudo6(const uint8_t src[16], const uint8_t dst[16], uint32_t len,
				  uint8_t nh)
{
	uint8_t tail[8] = { 0 };

	put_be32(tail, len);
	tail[7] = nh;
	return inet_csum_add(inet_csum_add(inet_csum_add(0, src, 16), dst, 16), tail, 8);
}

static void reply(struct tapir_stack *st, struct sink *s, uint8_t op, const uint8_t *p,
		  size_t len, uint64_t now)
{
	static uint8_t f[14 + 40 + 8 + 65507];
	int k = (op >> 2) & 1;
	bool v6 = op & 32;
	uint8_t *ip = f + 14, *udp = ip + (v6 ? 40 : 20), *m = udp + 8;

	if (len > 65507 - 20 - 8)
		len = 65507 - 20 - 8;
	memcpy(f, our_mac, 6);
	memcpy(f + 6, srv_mac, 6);
	put_be16(f + 12, v6 ? 0x86dd : 0x0800);
	memcpy(m, p, len);
	if ((op & 8) && s->qlen[k] && len >= 12) {
		/* the query's ID and question, the rest fuzzed */
		size_t qend = s->qlen[k] < len ? s->qlen[k] : len;

		put_be16(m, s->id[k]);
		put_be16(m + 4, 1);
		/* the question: after the header, up to the query's OPT */
		memcpy(m + 12, s->q[k] + 12, qend > 12 + 11 ? qend - 12 - 11 : qend - 12);
	}
	put_be16(udp, 53);
	put_be16(udp + 2, (uint16_t)(s->port[k] ^ ((op & 16) ? 1 : 0)));
	put_be16(udp + 4, (uint16_t)(8 + len));
	put_be16(udp + 6, 0);
	if (v6) {
		/* the checksum is mandatory over IPv6 (RFC 8200 8.1) */
		uint64_t sum = csum_pseudo6(srv_ip6, our_ip6, (uint32_t)(8 + len), 17);
		uint16_t c = inet_csum_fold(inet_csum_add(sum, udp, 8 + len));

		memset(ip, 0, 40);
		ip[0] = 0x60;
		put_be16(ip + 4, (uint16_t)(8 + len));
		ip[6] = 17;
		ip[7] = 64;
		memcpy(ip + 8, srv_ip6, 16);
		memcpy(ip + 24, our_ip6, 16);
		put_be16(udp + 6, c ? c : 0xffff);
		tapir_stack_input(st, f, 14 + 48 + len, 0, now);
		return;
	}
	memset(ip, 0, 20);
	ip[0] = 0x45;
	put_be16(ip + 2, (uint16_t)(20 + 8 + len));
	ip[8] = 64;
	ip[9] = 17;
	put_be32(ip + 12, SRV_IP);
	put_be32(ip + 16, OUR_IP);
	put_be16(ip + 10, inet_csum(ip, 20));   /* UDP: no checksum */
	tapir_stack_input(st, f, 14 + 28 + len, 0, now);
}

/* A solicited Neighbor Advertisement for 2001:db8::1 (the sink saw an NS) */
static void nd_advert(struct tapir_stack *st, uint64_t now)
{
	uint8_t f[14 + 40 + 32];
	uint8_t *ip = f + 14, *na = ip + 40;
	uint64_t sum;
	uint16_t c;

	memcpy(f, our_mac, 6);
	memcpy(f + 6, srv_mac, 6);
	put_be16(f + 12, 0x86dd);
	memset(ip, 0, 40);
	ip[0] = 0x60;
	put_be16(ip + 4, 32);
	ip[6] = 58;
	ip[7] = 255;
	memcpy(ip + 8, srv_ip6, 16);
	memcpy(ip + 24, our_ip6, 16);
	memset(na, 0, 32);
	na[0] = 136;
	na[4] = 0x60;   /* solicited, override */
	memcpy(na + 8, srv_ip6, 16);
	na[24] = 2;     /* target link-layer address */
	na[25] = 1;
	memcpy(na + 26, srv_mac, 6);
	sum = csum_pseudo6(srv_ip6, our_ip6, 32, 58);
	c = inet_csum_fold(inet_csum_add(sum, na, 32));
	put_be16(na + 2, c);
	tapir_stack_input(st, f, sizeof(f), 0, now);
}

struct cbstate {
	unsigned calls[MAXQ];
};

static void on_result(void *ctx, const struct tapir_dns_result *r)
{
	unsigned *calls = ctx;

	if (r->naddrs > TAPIR_DNS_MAX_ADDRS || (r->err && r->naddrs))
		abort();
	(*calls)++;
}

static void arp_reply(struct tapir_stack *st, uint64_t now)
{
	uint8_t f[42];

	memcpy(f, our_mac, 6);
	memcpy(f + 6, srv_mac, 6);
	put_be16(f + 12, 0x0806);
	put_be16(f + 14, 1);
	put_be16(f + 16, 0x0800);
	f[18] = 6;
	f[19] = 4;
	put_be16(f + 20, 2);
	memcpy(f + 22, srv_mac, 6);
	put_be32(f + 28, SRV_IP);
	memcpy(f + 32, our_mac, 6);
	put_be32(f + 38, OUR_IP);
	tapir_stack_input(st, f, sizeof(f), 0, now);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct sink sink;
	struct tapir_netif nif = { &sink_ops, &sink };
	struct tapir_stack_config sc;
	struct tapir_stack *st;
	struct tapir_dns *r;
	struct tapir_dns_config dc;
	struct tapir_dns_query *qs[MAXQ];
	bool live[MAXQ] = { false };
	unsigned calls[MAXQ] = { 0 };
	size_t nq = 0, oldest = 0;
	uint64_t seed = 1, now = TAPIR_STACK_NS_PER_SEC;
	struct tapir_addr srv[2] = { tapir_addr_v4(SRV_IP), { .family = TAPIR_AF_INET6 } };

	memset(&sink, 0, sizeof(sink));
	tapir_stack_config_defaults(&sc);
	sc.addr = OUR_IP;
	sc.random = fixed_random;
	sc.random_ctx = &seed;
	sc.ipv6.enabled = true;
	sc.ipv6.dad = false;
	sc.ipv6.slaac = false;
	sc.ipv6.naddrs = 1;
	memcpy(sc.ipv6.addrs[0].addr, our_ip6, 16);
	sc.ipv6.addrs[0].prefix_len = 64;
	memcpy(srv[1].v6, srv_ip6, 16);
	if (tapir_stack_new(&st, &sc, &nif, now))
		abort();
	tapir_dns_config_defaults(&dc);
	dc.cache_size = 8;
	dc.timeout_ns = 500 * 1000000ull;
	if (tapir_dns_new(&r, st, &dc) || tapir_dns_set_servers(r, TAPIR_DNS_SRC_CONFIG, srv, 2))
		abort();
	{
		const char *search[] = { "example.test" };

		tapir_dns_set_search(r, TAPIR_DNS_SRC_CONFIG, search, 1);
	}
	tapir_stack_start(st, now);   /* the IPv6 address */
	arp_reply(st, now);
	if (tapir_dns_resolve(r, "www.example.test", TAPIR_AF_UNSPEC, on_result, &calls[0],
			      &qs[0]))
		abort();
	live[nq++] = true;
	tapir_dns_poll(r, now);

	while (size >= 3) {
		size_t len = get_be16(data);
		const uint8_t *p = data + 2;

		if (len > size - 2)
			len = size - 2;
		data += 2 + len;
		size -= 2 + len;
		if (!len)
			continue;
		uint8_t op = p[0];

		p++;
		len--;
		switch (op % 4) {
		case 0:
			parser_roundtrip(p, len);
			break;
		case 1:
			reply(st, &sink, op, p, len, now);
			break;
		case 2:
			now += (uint64_t)(op >> 2) * 100000000ull;
			tapir_stack_poll(st, now);
			break;
		case 3:
			if (op & 4) {
				while (oldest < nq && !live[oldest])
					oldest++;
				if (oldest < nq && calls[oldest] == 0) {
					tapir_dns_cancel(qs[oldest]);
					live[oldest] = false;
				}
			} else if (nq < MAXQ) {
				char name[64];
				size_t n = len < sizeof(name) - 1 ? len : sizeof(name) - 1;

				memcpy(name, p, n);
				name[n] = 0;
				if (!tapir_dns_resolve(r, name, TAPIR_AF_UNSPEC, on_result, &calls[nq],
						       &qs[nq]))
					live[nq++] = true;
			}
			break;
		}
		tapir_dns_poll(r, now);
		if (sink.ns_seen) {
			sink.ns_seen = false;
			nd_advert(st, now);
			tapir_dns_poll(r, now);
		}
		for (size_t i = 0; i < nq; i++)
			if (calls[i])
				live[i] = false;   /* delivered: the handle is gone */
	}
	/* run out every timeout: every live query must call back */
	for (int i = 0; i < 200 && tapir_dns_pending(r); i++) {
		now += TAPIR_STACK_NS_PER_SEC;
		tapir_stack_poll(st, now);
		tapir_dns_poll(r, now);
	}
	for (size_t i = 0; i < nq; i++) {
		if (calls[i] > 1)
			abort();
		if (live[i] && !calls[i])
			abort();
	}
	if (tapir_dns_pending(r))
		abort();
	tapir_dns_free(r);
	tapir_stack_free(st);
	return 0;
}
