/*
 * test_resolver.c - the stub resolver on one stack of a vnetif world, a
 *                   scripted DNS server on another, with a fake clock
 *
 * Host A (192.0.2.2) runs the resolver; host B (192.0.2.3) answers on UDP
 * and TCP port 53 from a table of names the test fills, and misbehaves on
 * request (forged replies first, TC, silence).  192.0.2.9 is nobody: a
 * server there never answers.
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
#include "tapir/dns.h"
#include "tapir/tcp.h"
#include "tapir/udp.h"
#include "tapir/ipv6.h"
#include "wire/bytes.h"
#include "wire/checksum.h"
#include "wire/dns.h"
#include "wire/icmpv6.h"
#include "wire/ipv6.h"

#define MS 1000000ull
#define SEC 1000000000ull
#define B_IP IP(192, 0, 2, 3)
#define NOBODY IP(192, 0, 2, 9)

/* ---- the scripted server ---- */

struct zrec {
	const char *owner;
	uint16_t type;
	uint32_t ttl;
	const char *data;          /* A/AAAA: address text; CNAME: target */
};

struct server {
	struct host *h;
	const struct zrec *zone;
	size_t nzone;
	const char *soa_zone;       /* names under it without records: NXDOMAIN/NODATA + SOA */
	uint32_t soa_min;
	bool no_soa;
	bool forge;                 /* send forged replies before the real one */
	bool tc;                    /* answer UDP with TC set and nothing else */
	bool silent;
	bool no_edns;               /* FORMERR to queries with an OPT record */
	unsigned with_opt;          /* queries that had one */
	unsigned rcode_once;        /* answer this rcode once (then normally) */
	unsigned udp_queries, tcp_queries;
	char asked[32][DNS_NAME_TEXT_MAX];
	uint16_t asked_type[32];
	struct tapir_addr last_from;  /* the last UDP query's source */
	struct tapir_tcp_flow *flow;
	uint8_t tcpbuf[600];
	size_t tcplen;
};

static bool under(const char *name, const char *zone)
{
	size_t n = strlen(name), z = strlen(zone);

	return n >= z && !strcasecmp(name + n - z, zone) && (n == z || name[n - z - 1] == '.');
}

/* The answer to @q (a query) into @out.  Return: its length */
static size_t answer(struct server *s, const uint8_t *q, size_t qlen, uint8_t *out, size_t cap,
		     bool tcp)
{
	struct dns_msg m;
	struct dns_question qq;
	struct dns_builder b;
	char name[DNS_NAME_TEXT_MAX];
	size_t off;
	bool exists = false, any = false;
	unsigned rcode = DNS_RCODE_NOERROR;

	assert_int_equal(dns_msg_parse(&m, q, qlen), 0);
	off = m.off[DNS_SEC_QD];
	assert_int_equal(dns_msg_question(&m, &off, &qq), 0);
	dns_name_to_text(&qq.name, name);
	if (s->udp_queries + s->tcp_queries <= 32) {
		strcpy(s->asked[s->udp_queries + s->tcp_queries - 1], name);
		s->asked_type[s->udp_queries + s->tcp_queries - 1] = qq.type;
	}
	if (s->rcode_once) {
		rcode = s->rcode_once;
		s->rcode_once = 0;
	}
	if (m.count[DNS_SEC_AR]) {
		s->with_opt++;
		if (s->no_edns)
			rcode = DNS_RCODE_FORMERR;
	}
	dns_build_init(&b, out, cap, m.id, DNS_FLAG_QR | DNS_FLAG_RD | DNS_FLAG_RA |
		       (s->tc && !tcp ? DNS_FLAG_TC : 0) | (uint16_t)rcode);
	dns_build_question(&b, &qq.name, qq.type, qq.qclass);
	if (rcode || (s->tc && !tcp))
		return (size_t)dns_build_finish(&b);
	/* follow CNAMEs in our own zone, as a recursive server does */
	for (int hop = 0; hop < 20; hop++) {
		bool cname = false;
		char next[DNS_NAME_TEXT_MAX];

		for (size_t i = 0; i < s->nzone; i++) {
			const struct zrec *z = &s->zone[i];
			struct dns_name owner, target;
			uint8_t rd[16];

			if (strcasecmp(z->owner, name))
				continue;
			exists = true;
			assert_int_equal(dns_name_from_text(z->owner, &owner), 0);
			if (z->type == DNS_TYPE_CNAME && qq.type != DNS_TYPE_CNAME) {
				assert_int_equal(dns_name_from_text(z->data, &target), 0);
				dns_build_rr(&b, DNS_SEC_AN, &owner, DNS_TYPE_CNAME, DNS_CLASS_IN, z->ttl,
					     target.b, target.len);
				strcpy(next, z->data);
				cname = any = true;
			} else if (z->type == qq.type) {
				struct tapir_addr a;

				assert_int_equal(tapir_addr_parse(z->data, &a), 0);
				if (a.family == TAPIR_AF_INET)
					put_be32(rd, a.v4);
				else
					memcpy(rd, a.v6, 16);
				dns_build_rr(&b, DNS_SEC_AN, &owner, z->type, DNS_CLASS_IN, z->ttl, rd,
					     a.family == TAPIR_AF_INET ? 4 : 16);
				any = true;
			}
		}
		if (!cname)
			break;
		strcpy(name, next);
		exists = false;
	}
	if (!exists && !any)
		out[3] = (uint8_t)((out[3] & 0xf0) | DNS_RCODE_NXDOMAIN);
	if ((!any || !exists) && s->soa_zone && under(name, s->soa_zone) && !s->no_soa) {
		struct dns_name zn, mn, rn;
		uint8_t rd[600];
		size_t l = 0;

		dns_name_from_text(s->soa_zone, &zn);
		dns_name_from_text("ns.invalid", &mn);
		dns_name_from_text("hostmaster.invalid", &rn);
		memcpy(rd, mn.b, mn.len);
		l += mn.len;
		memcpy(rd + l, rn.b, rn.len);
		l += rn.len;
		put_be32(rd + l, 1);
		put_be32(rd + l + 4, 3600);
		put_be32(rd + l + 8, 600);
		put_be32(rd + l + 12, 86400);
		put_be32(rd + l + 16, s->soa_min);
		l += 20;
		dns_build_rr(&b, DNS_SEC_NS, &zn, DNS_TYPE_SOA, DNS_CLASS_IN, 3600, rd, (uint16_t)l);
	}
	long n = dns_build_finish(&b);
	assert_true(n > 0);
	return (size_t)n;
}

static void srv_udp(void *ctx, const struct tapir_udp_meta *um, const uint8_t *q, size_t len)
{
	struct server *s = ctx;
	uint8_t out[1500];
	size_t n;

	s->udp_queries++;
	s->last_from = um->src;
	if (s->silent)
		return;
	n = answer(s, q, len, out, sizeof(out), false);
	if (s->forge) {
		uint8_t f[1500];

		/* a wrong ID */
		memcpy(f, out, n);
		put_be16(f, (uint16_t)(get_be16(out) + 1));
		tapir_udp_sendto(s->h->st, 53, &um->src, um->src_port, 0, f, n);
		/* the right ID, from another port */
		tapir_udp_sendto(s->h->st, 5353, &um->src, um->src_port, 0, out, n);
		/* the right ID, a question that differs (one letter) */
		memcpy(f, out, n);
		f[13] ^= 0x01;
		tapir_udp_sendto(s->h->st, 53, &um->src, um->src_port, 0, f, n);
	}
	tapir_udp_sendto(s->h->st, 53, &um->src, um->src_port, 0, out, n);
}

static void srv_tcp_recv(void *ctx, struct tapir_tcp_flow *f, const uint8_t *d, size_t len)
{
	struct server *s = ctx;
	uint8_t out[4096];

	if (!len) {
		tapir_tcp_close(f);
		s->flow = NULL;
		return;
	}
	assert_true(s->tcplen + len <= sizeof(s->tcpbuf));
	memcpy(s->tcpbuf + s->tcplen, d, len);
	s->tcplen += len;
	if (s->tcplen < 2 || s->tcplen < 2 + (size_t)get_be16(s->tcpbuf))
		return;
	s->tcp_queries++;
	size_t n = answer(s, s->tcpbuf + 2, get_be16(s->tcpbuf), out + 2, sizeof(out) - 2, true);
	put_be16(out, (uint16_t)n);
	assert_int_equal(tapir_tcp_write(f, out, n + 2), (long)(n + 2));
	s->tcplen = 0;
}

static void srv_accept(void *ctx, struct tapir_tcp_flow *f)
{
	struct server *s = ctx;
	static const struct tapir_tcp_callbacks cb = { .recv = srv_tcp_recv };

	s->flow = f;
	tapir_tcp_flow_set_callbacks(f, &cb, s);
}

/* ---- fixture ---- */

struct fx {
	struct world *w;
	struct host *a;
	struct server srv;
	struct tapir_dns *r;
	/* the last result */
	unsigned calls;
	int err;
	size_t n;
	struct tapir_addr addrs[TAPIR_DNS_MAX_ADDRS];
	uint32_t ttl[TAPIR_DNS_MAX_ADDRS];
	char canon[DNS_NAME_TEXT_MAX];
	bool cached;
	uint64_t at;
};

static const struct zrec zone[] = {
	{ "www.example.test", DNS_TYPE_A, 300, "192.0.2.80" },
	{ "www.example.test", DNS_TYPE_AAAA, 300, "2001:db8::80" },
	{ "short.example.test", DNS_TYPE_A, 5, "192.0.2.81" },
	{ "alias.example.test", DNS_TYPE_CNAME, 100, "www.example.test" },
	{ "v4only.example.test", DNS_TYPE_A, 300, "192.0.2.82" },
	{ "loop1.example.test", DNS_TYPE_CNAME, 300, "loop2.example.test" },
	{ "loop2.example.test", DNS_TYPE_CNAME, 300, "loop1.example.test" },
	{ "host.corp.test", DNS_TYPE_A, 300, "192.0.2.83" },
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct tapir_dns_config dc;

	assert_non_null(f);
	f->w = world_new();
	f->a = world_add(f->w, 2, NULL);
	f->srv.h = world_add(f->w, 3, NULL);
	f->srv.zone = zone;
	f->srv.nzone = sizeof(zone) / sizeof(zone[0]);
	f->srv.soa_zone = "example.test";
	f->srv.soa_min = 30;
	assert_int_equal(tapir_udp_listen(f->srv.h->st, 53, srv_udp, &f->srv), 0);
	assert_int_equal(tapir_tcp_listen(f->srv.h->st, 53, NULL, srv_accept, &f->srv), 0);
	tapir_dns_config_defaults(&dc);
	dc.timeout_ns = 500 * MS;
	dc.cache_size = 4;
	assert_int_equal(tapir_dns_new(&f->r, f->a->st, &dc), 0);
	struct tapir_addr s = tapir_addr_v4(B_IP);
	assert_int_equal(tapir_dns_set_servers(f->r, TAPIR_DNS_SRC_CONFIG, &s, 1), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	tapir_dns_free(f->r);
	if (f->srv.flow)
		tapir_tcp_abort(f->srv.flow);
	world_free(f->w);
	free(f);
	return 0;
}

static void on_result(void *ctx, const struct tapir_dns_result *r)
{
	struct fx *f = ctx;

	f->calls++;
	f->err = r->err;
	f->n = r->naddrs;
	memcpy(f->addrs, r->addrs, r->naddrs * sizeof(r->addrs[0]));
	memcpy(f->ttl, r->ttl, r->naddrs * sizeof(r->ttl[0]));
	strcpy(f->canon, r->canon);
	f->cached = r->from_cache;
	f->at = f->w->now;
}

/* Run the world and the resolver for @ns, in 1 ms steps */
static void run(struct fx *f, uint64_t ns)
{
	for (uint64_t t = 0; t < ns; t += MS) {
		world_advance(f->w, MS);
		tapir_dns_poll(f->r, f->w->now);
		world_pump(f->w);
	}
}

/* Resolve and run until the callback (at most @limit) */
static void resolve(struct fx *f, const char *name, enum tapir_family fam)
{
	unsigned before = f->calls;

	assert_int_equal(tapir_dns_resolve(f->r, name, fam, on_result, f, NULL), 0);
	assert_int_equal(f->calls, before);   /* never from inside resolve() */
	for (int i = 0; i < 20000 && f->calls == before; i++)
		run(f, MS);
	assert_int_equal(f->calls, before + 1);
}

static const char *addr(const struct fx *f, size_t i)
{
	static char b[TAPIR_ADDR_STRLEN];

	return tapir_addr_format(&f->addrs[i], b);
}

static uint64_t ctr(struct fx *f, enum tapir_stack_counter c)
{
	return tapir_stack_counter(f->a->st, c);
}

/* ---- over IPv6: A is 2001:db8::2, the server 2001:db8::3 (DAD off) ---- */

static const uint8_t A6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 2 };
static const uint8_t B6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 3 };
static const uint8_t NOBODY6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 9 };

static struct host *add6(struct world *w, uint8_t last, const uint8_t a[16])
{
	struct tapir_stack_config c;

	tapir_stack_config_defaults(&c);
	c.ipv6.enabled = true;
	c.ipv6.dad = false;
	c.ipv6.naddrs = 1;
	memcpy(c.ipv6.addrs[0].addr, a, 16);
	c.ipv6.addrs[0].prefix_len = 64;
	return world_add(w, last, &c);
}

static struct tapir_addr v6(const uint8_t a[16])
{
	struct tapir_addr r = { .family = TAPIR_AF_INET6 };

	memcpy(r.v6, a, 16);
	return r;
}

/* As setup(), both hosts dual-stack, no server configured */
static int setup6(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct tapir_dns_config dc;

	assert_non_null(f);
	f->w = world_new();
	f->a = add6(f->w, 2, A6);
	f->srv.h = add6(f->w, 3, B6);
	f->srv.zone = zone;
	f->srv.nzone = sizeof(zone) / sizeof(zone[0]);
	f->srv.soa_zone = "example.test";
	f->srv.soa_min = 30;
	assert_int_equal(tapir_udp_listen(f->srv.h->st, 53, srv_udp, &f->srv), 0);
	tapir_dns_config_defaults(&dc);
	dc.timeout_ns = 500 * MS;
	dc.cache_size = 4;
	assert_int_equal(tapir_dns_new(&f->r, f->a->st, &dc), 0);
	*state = f;
	return 0;
}

/* A Router Advertisement from fe80::1 (the raw port) to all-nodes with an
 * RDNSS option (RFC 8106 5.1) listing @servers for @lifetime seconds */
static void send_ra_rdnss(struct fx *f, const uint8_t (*servers)[16], size_t n,
			  uint32_t lifetime)
{
	static const uint8_t ll[16] = { 0xfe, 0x80, [15] = 1 };
	static const uint8_t all[16] = { 0xff, 0x02, [15] = 1 };
	uint8_t fr[14 + 40 + 16 + 8 + 4 * 16];
	size_t olen = 8 + 16 * n, mlen = 16 + olen;
	struct ipv6_repr r = { .next_header = IPV6_NH_ICMPV6, .hop_limit = 255,
			       .payload_len = (uint16_t)mlen };
	uint8_t *m = fr + 54, *o = m + 16;

	assert_true(n <= 4);
	memcpy(fr, (const uint8_t[6]){ 0x33, 0x33, 0, 0, 0, 1 }, 6);
	memcpy(fr + 6, f->w->raw_mac, 6);
	put_be16(fr + 12, TAPIR_ETHERTYPE_IPV6);
	memcpy(r.src, ll, 16);
	memcpy(r.dst, all, 16);
	ipv6_repr_emit(&r, fr + 14);
	memset(m, 0, mlen);
	m[0] = ICMPV6_ROUTER_ADVERT;
	o[0] = NDP_OPT_RDNSS;
	o[1] = (uint8_t)(1 + 2 * n);
	put_be32(o + 4, lifetime);
	for (size_t i = 0; i < n; i++)
		memcpy(o + 8 + 16 * i, servers[i], 16);
	icmpv6_set_csum(ll, all, m, mlen);
	raw_send(f->w, fr, 54 + mlen);
	world_pump(f->w);
}

/* [dns] servers = 2001:db8::3: queries go over IPv6, answers of both types */
static void test_ipv6_server(void **state)
{
	struct fx *f = *state;
	struct tapir_addr s = v6(B6);

	assert_int_equal(tapir_dns_set_servers(f->r, TAPIR_DNS_SRC_CONFIG, &s, 1), 0);
	resolve(f, "www.example.test", TAPIR_AF_UNSPEC);
	assert_int_equal(f->err, 0);
	assert_int_equal(f->n, 2);
	assert_int_equal(f->srv.udp_queries, 2);
	assert_int_equal(f->srv.last_from.family, TAPIR_AF_INET6);
	assert_memory_equal(f->srv.last_from.v6, A6, 16);
	resolve(f, "v4only.example.test", TAPIR_AF_INET);
	assert_int_equal(f->err, 0);
	assert_string_equal(addr(f, 0), "192.0.2.82");
	/* an answer from another address of the server is not the server's */
	f->srv.forge = true;
	resolve(f, "short.example.test", TAPIR_AF_INET);
	assert_int_equal(f->err, 0);
	assert_int_equal(ctr(f, TAPIR_CTR_DNS_DROP_BAD_SOURCE), 1);   /* port 5353 */
	/* no listener on the server: ICMPv6 port unreachable moves each try on */
	uint64_t t0 = f->w->now;
	assert_int_equal(tapir_udp_unlisten(f->srv.h->st, 53), 0);
	resolve(f, "host.corp.test", TAPIR_AF_INET);
	assert_int_equal(f->err, TAPIR_DNS_ETIMEOUT);
	assert_true(f->at - t0 < 50 * MS);
	assert_int_equal(ctr(f, TAPIR_CTR_DNS_ICMP_ERRORS), 2);
}

/* An IPv6 server on a stack without IPv6 is skipped: no server */
static void test_ipv6_server_needs_ipv6(void **state)
{
	struct fx *f = *state;
	struct tapir_addr s[2] = { v6(B6), tapir_addr_v4(B_IP) };

	assert_int_equal(tapir_dns_set_servers(f->r, TAPIR_DNS_SRC_CONFIG, s, 1), 0);
	resolve(f, "www.example.test", TAPIR_AF_INET);
	assert_int_equal(f->err, TAPIR_DNS_ENOSERVER);
	assert_int_equal(f->srv.udp_queries, 0);
	assert_int_equal(tapir_dns_set_servers(f->r, TAPIR_DNS_SRC_CONFIG, s, 2), 0);
	resolve(f, "www.example.test", TAPIR_AF_INET);
	assert_int_equal(f->err, 0);
	assert_int_equal(f->srv.last_from.family, TAPIR_AF_INET);
}

/* RDNSS from a Router Advertisement: the last source, while its lifetime lasts */
static void test_rdnss(void **state)
{
	struct fx *f = *state;
	static const uint8_t bad[2][16] = { { 0xff, 0x02, [15] = 1 }, { [15] = 1 } };
	const uint8_t servers[2][16] = { { 0x20, 0x01, 0x0d, 0xb8, [15] = 3 },
					 { 0x20, 0x01, 0x0d, 0xb8, [15] = 9 } };
	struct tapir_addr got[4];
	enum tapir_dns_source src;

	resolve(f, "www.example.test", TAPIR_AF_INET6);
	assert_int_equal(f->err, TAPIR_DNS_ENOSERVER);
	/* multicast and loopback are no servers */
	send_ra_rdnss(f, bad, 2, 600);
	assert_int_equal(tapir_dns_servers(f->r, got, 4, &src), 0);
	send_ra_rdnss(f, servers, 2, 600);
	assert_int_equal(tapir_dns_servers(f->r, got, 4, &src), 2);
	assert_int_equal(src, TAPIR_DNS_SRC_RDNSS);
	assert_memory_equal(got[0].v6, B6, 16);
	assert_memory_equal(got[1].v6, NOBODY6, 16);
	resolve(f, "www.example.test", TAPIR_AF_INET6);
	assert_int_equal(f->err, 0);
	assert_string_equal(addr(f, 0), "2001:db8::80");
	assert_int_equal(f->srv.udp_queries, 1);
	/* the configuration outranks RDNSS */
	struct tapir_addr s = tapir_addr_v4(B_IP);
	assert_int_equal(tapir_dns_set_servers(f->r, TAPIR_DNS_SRC_CONFIG, &s, 1), 0);
	assert_int_equal(tapir_dns_servers(f->r, got, 4, &src), 1);
	assert_int_equal(src, TAPIR_DNS_SRC_CONFIG);
	assert_int_equal(tapir_dns_set_servers(f->r, TAPIR_DNS_SRC_CONFIG, NULL, 0), 0);
	/* lifetime over: gone */
	run(f, 601 * SEC);
	assert_int_equal(tapir_dns_servers(f->r, got, 4, &src), 0);
	resolve(f, "v4only.example.test", TAPIR_AF_INET);
	assert_int_equal(f->err, TAPIR_DNS_ENOSERVER);
	/* a new RA; then lifetime 0 removes them at once (RFC 8106 5.1) */
	send_ra_rdnss(f, servers, 1, 600);
	assert_int_equal(tapir_dns_servers(f->r, got, 4, &src), 1);
	send_ra_rdnss(f, servers, 1, 0);
	assert_int_equal(tapir_dns_servers(f->r, got, 4, &src), 0);
}

/* ---- tests ---- */

static void test_both_families_and_cache(void **state)
{
	struct fx *f = *state;

	resolve(f, "www.example.test", TAPIR_AF_UNSPEC);
	assert_int_equal(f->err, 0);
	assert_int_equal(f->n, 2);
	assert_string_equal(addr(f, 0), "192.0.2.80");
	assert_string_equal(addr(f, 1), "2001:db8::80");
	assert_int_equal(f->ttl[0], 300);
	assert_false(f->cached);
	assert_int_equal(f->srv.udp_queries, 2);
	/* a minute later: from the cache, TTLs counted down, no query */
	run(f, 60 * SEC);
	resolve(f, "WWW.Example.Test.", TAPIR_AF_INET);
	assert_int_equal(f->err, 0);
	assert_true(f->cached);
	assert_int_equal(f->n, 1);
	assert_in_range(f->ttl[0], 239, 240);
	assert_int_equal(f->srv.udp_queries, 2);
	/* past the TTL of a short record: asked again */
	resolve(f, "short.example.test", TAPIR_AF_INET);
	assert_int_equal(f->ttl[0], 5);
	run(f, 6 * SEC);
	resolve(f, "short.example.test", TAPIR_AF_INET);
	assert_false(f->cached);
	assert_int_equal(f->srv.udp_queries, 4);
	assert_true(ctr(f, TAPIR_CTR_DNS_CACHE_HITS) >= 1);
}

static void test_negative(void **state)
{
	struct fx *f = *state;

	resolve(f, "nosuch.example.test", TAPIR_AF_INET);
	assert_int_equal(f->err, TAPIR_DNS_ENXDOMAIN);
	assert_int_equal(f->n, 0);
	assert_string_equal(f->canon, "");
	resolve(f, "v4only.example.test", TAPIR_AF_INET6);
	assert_int_equal(f->err, TAPIR_DNS_ENODATA);
	assert_int_equal(f->srv.udp_queries, 2);
	/* both cached for the SOA's MINIMUM (30 s, RFC 2308 5) */
	run(f, 20 * SEC);
	resolve(f, "nosuch.example.test", TAPIR_AF_INET);
	assert_int_equal(f->err, TAPIR_DNS_ENXDOMAIN);
	resolve(f, "v4only.example.test", TAPIR_AF_INET6);
	assert_int_equal(f->err, TAPIR_DNS_ENODATA);
	assert_int_equal(f->srv.udp_queries, 2);
	run(f, 11 * SEC);
	resolve(f, "nosuch.example.test", TAPIR_AF_INET);
	assert_int_equal(f->srv.udp_queries, 3);
	/* without an SOA, not cached at all */
	f->srv.no_soa = true;
	resolve(f, "other.example.test", TAPIR_AF_INET);
	resolve(f, "other.example.test", TAPIR_AF_INET);
	assert_int_equal(f->err, TAPIR_DNS_ENXDOMAIN);
	assert_int_equal(f->srv.udp_queries, 5);
	/* A found, AAAA NODATA: the A is the answer */
	resolve(f, "v4only.example.test", TAPIR_AF_UNSPEC);
	assert_int_equal(f->err, 0);
	assert_int_equal(f->n, 1);
}

static void test_cname(void **state)
{
	struct fx *f = *state;

	resolve(f, "alias.example.test", TAPIR_AF_INET);
	assert_int_equal(f->err, 0);
	assert_string_equal(f->canon, "www.example.test");
	assert_string_equal(addr(f, 0), "192.0.2.80");
	assert_int_equal(f->ttl[0], 100);   /* the chain's smallest TTL */
	resolve(f, "loop1.example.test", TAPIR_AF_INET);
	assert_int_equal(f->err, TAPIR_DNS_ECNAME_LOOP);
}

static void test_search(void **state)
{
	struct fx *f = *state;
	const char *search[] = { "corp.test", "example.test" };
	const char *dhcp[] = { "dhcp.test" };

	assert_int_equal(tapir_dns_set_search(f->r, TAPIR_DNS_SRC_DHCP, dhcp, 1), 0);
	assert_int_equal(tapir_dns_set_search(f->r, TAPIR_DNS_SRC_CONFIG, search, 2), 0);
	/* no dot (< ndots 1): the search list first, then the name */
	resolve(f, "www", TAPIR_AF_INET);
	assert_int_equal(f->err, 0);
	assert_string_equal(f->canon, "www.example.test");
	assert_string_equal(f->srv.asked[0], "www.corp.test");
	assert_string_equal(f->srv.asked[1], "www.example.test");
	/* a dot: as given first, then the search list */
	resolve(f, "host.corp", TAPIR_AF_INET);
	assert_int_equal(f->err, TAPIR_DNS_ENXDOMAIN);
	assert_string_equal(f->srv.asked[2], "host.corp");
	assert_string_equal(f->srv.asked[3], "host.corp.corp.test");
	assert_string_equal(f->srv.asked[4], "host.corp.example.test");
	assert_int_equal(f->srv.udp_queries, 5);
	/* a final dot: only as given */
	resolve(f, "host.corp.test.", TAPIR_AF_INET);
	assert_string_equal(addr(f, 0), "192.0.2.83");
	assert_int_equal(f->srv.udp_queries, 6);
	/* nothing anywhere: NXDOMAIN after every candidate, the name last */
	resolve(f, "nothere", TAPIR_AF_INET);
	assert_int_equal(f->err, TAPIR_DNS_ENXDOMAIN);
	assert_string_equal(f->srv.asked[8], "nothere");
	/* config empty: DHCP's list takes over */
	assert_int_equal(tapir_dns_set_search(f->r, TAPIR_DNS_SRC_CONFIG, NULL, 0), 0);
	resolve(f, "zz", TAPIR_AF_INET);
	assert_string_equal(f->srv.asked[9], "zz.dhcp.test");
}

static void test_hosts_literals(void **state)
{
	struct fx *f = *state;
	struct tapir_addr a;

	assert_int_equal(tapir_addr_parse("192.0.2.50", &a), 0);
	assert_int_equal(tapir_dns_add_host(f->r, "db.local", &a), 0);
	assert_int_equal(tapir_addr_parse("2001:db8::50", &a), 0);
	assert_int_equal(tapir_dns_add_host(f->r, "db.local", &a), 0);
	resolve(f, "DB.local", TAPIR_AF_UNSPEC);
	assert_int_equal(f->err, 0);
	assert_int_equal(f->n, 2);
	assert_string_equal(addr(f, 0), "192.0.2.50");
	assert_true(f->cached);
	resolve(f, "db.local", TAPIR_AF_INET6);
	assert_int_equal(f->n, 1);
	assert_string_equal(addr(f, 0), "2001:db8::50");
	resolve(f, "198.51.100.7", TAPIR_AF_UNSPEC);
	assert_string_equal(addr(f, 0), "198.51.100.7");
	resolve(f, "2001:db8::1", TAPIR_AF_INET);
	assert_int_equal(f->err, TAPIR_DNS_ENODATA);
	assert_int_equal(f->srv.udp_queries, 0);
	assert_int_equal(tapir_dns_resolve(f->r, "a..b", TAPIR_AF_INET, on_result, f, NULL),
			 -EINVAL);
	assert_int_equal(tapir_dns_add_host(f->r, "", &a), -EINVAL);
}

static void test_retransmit_servers(void **state)
{
	struct fx *f = *state;
	struct tapir_addr s[2] = { tapir_addr_v4(NOBODY), tapir_addr_v4(B_IP) };
	struct tapir_addr dhcp = tapir_addr_v4(IP(192, 0, 2, 99));
	uint64_t t0;

	/* DHCP's server is not used while the configuration has servers */
	assert_int_equal(tapir_dns_set_servers(f->r, TAPIR_DNS_SRC_DHCP, &dhcp, 1), 0);
	assert_int_equal(tapir_dns_set_servers(f->r, TAPIR_DNS_SRC_CONFIG, s, 2), 0);
	t0 = f->w->now;
	resolve(f, "www.example.test", TAPIR_AF_INET);
	assert_int_equal(f->err, 0);
	/* the first try waited its timeout (500 ms), then the second server */
	assert_in_range(f->at - t0, 500 * MS, 520 * MS);
	assert_int_equal(f->srv.udp_queries, 1);
	assert_int_equal(ctr(f, TAPIR_CTR_DNS_RETRANSMITS), 1);
	/* nobody answers at all: 2 rounds x 2 servers, 500 + 500 + 1000 + 1000 ms */
	f->srv.silent = true;
	t0 = f->w->now;
	resolve(f, "v4only.example.test", TAPIR_AF_INET);
	assert_int_equal(f->err, TAPIR_DNS_ETIMEOUT);
	assert_in_range(f->at - t0, 3000 * MS, 3020 * MS);
	assert_int_equal(f->srv.udp_queries, 3);
	/* SERVFAIL moves on at once, and the last one is the error */
	f->srv.silent = false;
	assert_int_equal(tapir_dns_set_servers(f->r, TAPIR_DNS_SRC_CONFIG, &s[1], 1), 0);
	f->srv.rcode_once = DNS_RCODE_SERVFAIL;
	resolve(f, "short.example.test", TAPIR_AF_INET);
	assert_int_equal(f->err, 0);
	assert_int_equal(f->srv.udp_queries, 5);
	/* no servers at all: the lower source is used, then none */
	assert_int_equal(tapir_dns_set_servers(f->r, TAPIR_DNS_SRC_CONFIG, NULL, 0), 0);
	struct tapir_addr got[4];
	enum tapir_dns_source src;
	assert_int_equal(tapir_dns_servers(f->r, got, 4, &src), 1);
	assert_int_equal(src, TAPIR_DNS_SRC_DHCP);
	assert_int_equal(tapir_dns_set_servers(f->r, TAPIR_DNS_SRC_DHCP, NULL, 0), 0);
	resolve(f, "none.example.test", TAPIR_AF_INET);
	assert_int_equal(f->err, TAPIR_DNS_ENOSERVER);
}

static void test_forged(void **state)
{
	struct fx *f = *state;

	f->srv.forge = true;
	resolve(f, "www.example.test", TAPIR_AF_INET);
	assert_int_equal(f->err, 0);
	assert_string_equal(addr(f, 0), "192.0.2.80");
	assert_int_equal(ctr(f, TAPIR_CTR_DNS_DROP_BAD_ID), 1);
	assert_int_equal(ctr(f, TAPIR_CTR_DNS_DROP_BAD_SOURCE), 1);
	assert_int_equal(ctr(f, TAPIR_CTR_DNS_DROP_BAD_QUESTION), 1);
	assert_int_equal(ctr(f, TAPIR_CTR_DNS_ANSWERS), 1);
}

static void test_tcp_fallback(void **state)
{
	struct fx *f = *state;

	f->srv.tc = true;
	resolve(f, "www.example.test", TAPIR_AF_INET6);
	assert_int_equal(f->err, 0);
	assert_string_equal(addr(f, 0), "2001:db8::80");
	assert_int_equal(f->srv.udp_queries, 1);
	assert_int_equal(f->srv.tcp_queries, 1);
	assert_int_equal(ctr(f, TAPIR_CTR_DNS_TCP_FALLBACKS), 1);
	/* a TCP server that is not there: the next try (UDP) again */
	assert_int_equal(tapir_tcp_unlisten(f->srv.h->st, 53), 0);
	resolve(f, "short.example.test", TAPIR_AF_INET);
	assert_int_equal(f->err, TAPIR_DNS_ETIMEOUT);
	assert_int_equal(f->srv.udp_queries, 3);
}

static void test_icmp_unreachable(void **state)
{
	struct fx *f = *state;
	uint64_t t0 = f->w->now;

	/* no UDP listener on the server: its port unreachables move each try
	 * on at once instead of after the timeout */
	assert_int_equal(tapir_udp_unlisten(f->srv.h->st, 53), 0);
	resolve(f, "www.example.test", TAPIR_AF_INET);
	assert_int_equal(f->err, TAPIR_DNS_ETIMEOUT);
	assert_true(f->at - t0 < 50 * MS);
	assert_int_equal(ctr(f, TAPIR_CTR_DNS_ICMP_ERRORS), 2);
}

static void test_edns_formerr(void **state)
{
	struct fx *f = *state;

	f->srv.no_edns = true;
	resolve(f, "www.example.test", TAPIR_AF_INET);
	assert_int_equal(f->err, 0);
	assert_string_equal(addr(f, 0), "192.0.2.80");
	assert_int_equal(f->srv.udp_queries, 2);
	assert_int_equal(f->srv.with_opt, 1);
}

static void on_never(void *ctx, const struct tapir_dns_result *r)
{
	(void)ctx;
	(void)r;
	fail_msg("a cancelled query called back");
}

static void test_cancel(void **state)
{
	struct fx *f = *state;
	struct tapir_dns_query *q;
	int owner;

	assert_int_equal(tapir_dns_resolve(f->r, "www.example.test", TAPIR_AF_UNSPEC, on_never, f, &q), 0);
	run(f, 1 * MS);
	tapir_dns_cancel(q);
	assert_int_equal(tapir_dns_resolve_owner(f->r, &owner, "short.example.test", TAPIR_AF_INET,
						 on_never, f, NULL), 0);
	assert_int_equal(tapir_dns_resolve_owner(f->r, &owner, "1.2.3.4", TAPIR_AF_INET, on_never,
						 f, NULL), 0);
	assert_int_equal(tapir_dns_pending(f->r), 2);
	tapir_dns_cancel_owner(f->r, &owner);
	assert_int_equal(tapir_dns_pending(f->r), 0);
	run(f, 5 * SEC);
	assert_int_equal(tapir_udp_list(f->a->st, (uint16_t[8]){ 0 }, 8), 0);   /* ports released */
	/* a resolver freed with queries under way (teardown) calls nobody */
	f->srv.silent = true;
	assert_int_equal(tapir_dns_resolve(f->r, "v4only.example.test", TAPIR_AF_UNSPEC, on_never, f,
					   NULL), 0);
	run(f, 1 * MS);
}

static void test_cache_bound(void **state)
{
	struct fx *f = *state;
	const char *names[] = { "www.example.test", "short.example.test", "v4only.example.test",
				"host.corp.test", "alias.example.test", "nosuch.example.test" };

	for (size_t i = 0; i < 6; i++)
		resolve(f, names[i], TAPIR_AF_INET);
	assert_int_equal(tapir_dns_cache_count(f->r), 4);
	assert_true(ctr(f, TAPIR_CTR_DNS_CACHE_EVICTED) >= 2);
	tapir_dns_flush_cache(f->r);
	assert_int_equal(tapir_dns_cache_count(f->r), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_both_families_and_cache, setup, teardown),
		cmocka_unit_test_setup_teardown(test_negative, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cname, setup, teardown),
		cmocka_unit_test_setup_teardown(test_search, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hosts_literals, setup, teardown),
		cmocka_unit_test_setup_teardown(test_retransmit_servers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_forged, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tcp_fallback, setup, teardown),
		cmocka_unit_test_setup_teardown(test_icmp_unreachable, setup, teardown),
		cmocka_unit_test_setup_teardown(test_edns_formerr, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cancel, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cache_bound, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ipv6_server, setup6, teardown),
		cmocka_unit_test_setup_teardown(test_ipv6_server_needs_ipv6, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rdnss, setup6, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
