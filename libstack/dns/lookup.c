/*
 * lookup.c - one name and one type: cache, UDP tries across servers, TCP
 *            fallback, matching (RFC 5452) and the reading of answers
 *
 * Theory of operation
 *
 * A lookup asks for (cur, qtype).  It first looks in the cache under its
 * candidate name.  Then it listens on a random port (one per lookup) and
 * sends the query with a random ID to the servers in turn: try k goes to
 * server k mod N and waits timeout << (k / N); attempts * N tries in all.
 * An ICMP port or host unreachable from the server moves on at once, as do
 * SERVFAIL, REFUSED and NOTIMP.  FORMERR to a query with EDNS0 asks the
 * same server again without the OPT record (RFC 6891 7), and from then on
 * the lookup goes without it.
 *
 * A reply is taken only from a server this lookup sent to, from the server
 * port, with the lookup's ID, QR set, opcode QUERY and exactly the question
 * asked (name case-insensitively, type, class IN); anything else is dropped
 * and counted, and the lookup waits on (a spoofed reply cannot end it).
 *
 * TC set: the same query goes to the same server over TCP (2-byte length
 * prefix, RFC 1035 4.2.2 / RFC 7766), under the same deadline rule; a
 * failed connection or a short stream moves on to the next try over UDP.
 *
 * An answer is read by following the chain from cur: addresses of qtype
 * owned by cur end it; a CNAME owned by cur moves cur to its target (at most
 * TAPIR_DNS_MAX_CNAME links, counted over re-asks).  NXDOMAIN applies to the
 * end of the chain (RFC 6604).  NOERROR without addresses is NODATA when an
 * SOA is in the authority section or no CNAME was followed; a chain that
 * stops at a target the server said nothing about is asked again for that
 * target.  Results go into the cache under the candidate name.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "dns_internal.h"
#include "tapir/udp.h"
#include "wire/bytes.h"

#define CTR(r, c) dns_ctr_inc((r), TAPIR_CTR_##c)

static void next_try(struct dns_lookup *lk);
static bool same_server(const struct tapir_addr *sent, const struct tapir_addr *got);
static int tcp_connect_server(struct dns_lookup *lk);
static void send_try(struct dns_lookup *lk);
static void tcp_connected(void *ctx, struct tapir_tcp_flow *f, int err);

static void tcp_release(struct dns_lookup *lk)
{
	struct tapir_stack *st = lk->q->r->st;

	if (lk->state == LK_TCP_CONNECT)
		tapir_tcp_connect_cancel(st, tcp_connected, lk);
	if (lk->flow) {
		tapir_tcp_flow_set_callbacks(lk->flow, NULL, NULL);
		tapir_tcp_close(lk->flow);
		lk->flow = NULL;
	}
	free(lk->tcpbuf);
	lk->tcpbuf = NULL;
	lk->tcplen = 0;
}

void dns_lookup_stop(struct dns_lookup *lk)
{
	if (lk->state == LK_IDLE || !lk->q)
		return;
	tcp_release(lk);
	if (lk->port) {
		tapir_udp_unlisten(lk->q->r->st, lk->port);
		lk->port = 0;
	}
	if (lk->state != LK_DONE)
		lk->state = LK_IDLE;
}

static void finish(struct dns_lookup *lk, int err)
{
	dns_lookup_stop(lk);
	lk->err = err;
	lk->state = LK_DONE;
	dns_query_lookup_done(lk->q);
}

static void cache_result(struct dns_lookup *lk, uint32_t ttl)
{
	struct tapir_dns *r = lk->q->r;
	struct dns_cache_entry e = { .qtype = lk->qtype, .err = lk->err, .n = lk->n };

	if (!r->cache.cap || !ttl)
		return;
	e.name = lk->name;
	e.canon = lk->canon;
	memcpy(e.addrs, lk->addrs, sizeof(e.addrs));
	e.expires = dns_now(r) + (uint64_t)ttl * TAPIR_STACK_NS_PER_SEC;
	if (dns_cache_put(&r->cache, dns_now(r), &e))
		CTR(r, DNS_CACHE_EVICTED);
}

static void build_query(struct dns_lookup *lk)
{
	struct tapir_dns *r = lk->q->r;
	struct dns_builder b;
	long n;

	dns_random(r, &lk->id, sizeof(lk->id));
	dns_build_init(&b, lk->msg, sizeof(lk->msg), lk->id, DNS_FLAG_RD);
	dns_build_question(&b, &lk->cur, lk->qtype, DNS_CLASS_IN);
	if (r->cfg.edns_size && !lk->no_edns)
		dns_build_opt(&b, r->cfg.edns_size, 0, false);
	n = dns_build_finish(&b);
	lk->msglen = n > 0 ? (size_t)n : 0;   /* a name fits: 255 + 12 + 4 + 11 */
}

static int listen_random(struct dns_lookup *lk);

/* Ask (cur, qtype) from the first try again: a new ID, the same port. */
static void ask(struct dns_lookup *lk)
{
	lk->try = 0;
	lk->nsent_to = 0;
	lk->srv_err = 0;
	build_query(lk);
	send_try(lk);
}

void dns_lookup_start(struct dns_lookup *lk, struct dns_query *q, const struct dns_name *name,
		      uint16_t qtype)
{
	struct tapir_dns *r = q->r;
	const struct dns_cache_entry *e;
	struct tapir_addr servers[TAPIR_DNS_MAX_SERVERS];

	memset(lk, 0, sizeof(*lk));
	lk->q = q;
	lk->qtype = qtype;
	lk->name = lk->cur = *name;
	lk->ttl = DNS_TTL_MAX;
	lk->state = LK_UDP;
	e = dns_cache_get(&r->cache, dns_now(r), name, qtype);
	if (e) {
		uint32_t left = (uint32_t)((e->expires - dns_now(r)) / TAPIR_STACK_NS_PER_SEC);

		CTR(r, DNS_CACHE_HITS);
		lk->n = e->n;
		memcpy(lk->addrs, e->addrs, sizeof(lk->addrs));
		for (unsigned i = 0; i < e->n; i++)
			lk->ttls[i] = left;
		lk->canon = e->canon;
		lk->from_cache = true;
		finish(lk, e->err);
		return;
	}
	if (r->cache.cap)
		CTR(r, DNS_CACHE_MISSES);
	if (!dns_usable_servers(r, servers)) {
		finish(lk, TAPIR_DNS_ENOSERVER);
		return;
	}
	if (listen_random(lk)) {
		finish(lk, -EAGAIN);
		return;
	}
	ask(lk);
}

static void send_try(struct dns_lookup *lk)
{
	struct tapir_dns *r = lk->q->r;
	struct tapir_addr servers[TAPIR_DNS_MAX_SERVERS];
	size_t n = dns_usable_servers(r, servers);
	unsigned round;
	bool seen = false;

	if (!n || lk->try >= r->cfg.attempts * n) {
		if (!lk->srv_err)
			CTR(r, DNS_TIMEOUTS);
		finish(lk, lk->srv_err ? lk->srv_err : n ? TAPIR_DNS_ETIMEOUT : TAPIR_DNS_ENOSERVER);
		return;
	}
	round = lk->try / (unsigned)n;
	lk->server = servers[lk->try % n];
	if (lk->try)
		CTR(r, DNS_RETRANSMITS);
	lk->try++;
	for (unsigned i = 0; i < lk->nsent_to; i++)
		seen |= tapir_addr_eq(&lk->sent_to[i], &lk->server);
	if (!seen && lk->nsent_to < TAPIR_DNS_MAX_SERVERS)
		lk->sent_to[lk->nsent_to++] = lk->server;
	lk->state = LK_UDP;
	lk->deadline = dns_now(r) + (r->cfg.timeout_ns << (round < 16 ? round : 16));
	CTR(r, DNS_QUERIES_SENT);
	/* an error (no route, ARP queue full) is a lost datagram: the deadline moves on */
	tapir_udp_sendto(r->st, lk->port, &lk->server, r->cfg.port, 0, lk->msg, lk->msglen);
}

static void next_try(struct dns_lookup *lk)
{
	tcp_release(lk);
	send_try(lk);
}

/* Read the SOA in the authority section: min(its TTL, MINIMUM), or 0 if none */
static uint32_t soa_negative_ttl(const struct dns_msg *m)
{
	size_t off = m->off[DNS_SEC_NS];
	struct dns_rr rr;

	for (unsigned i = 0; i < m->count[DNS_SEC_NS]; i++) {
		struct dns_name n;
		size_t p;
		uint32_t min;

		if (dns_msg_rr(m, &off, &rr))
			return 0;
		if (rr.type != DNS_TYPE_SOA || rr.rclass != DNS_CLASS_IN)
			continue;
		p = rr.rdata_off;
		if (dns_name_read(m->buf, m->len, &p, &n) || dns_name_read(m->buf, m->len, &p, &n))
			return 0;
		if (p + 20 != rr.rdata_off + rr.rdlen)
			return 0;
		min = get_be32(m->buf + p + 16);
		return min < rr.ttl ? min : rr.ttl;
	}
	return 0;
}

static bool has_soa(const struct dns_msg *m)
{
	size_t off = m->off[DNS_SEC_NS];
	struct dns_rr rr;

	for (unsigned i = 0; i < m->count[DNS_SEC_NS]; i++)
		if (!dns_msg_rr(m, &off, &rr) && rr.type == DNS_TYPE_SOA)
			return true;
	return false;
}

/* Follow the chain from lk->cur through the answer section. */
static int read_answer(struct dns_lookup *lk, const struct dns_msg *m, bool *followed)
{
	size_t alen = lk->qtype == DNS_TYPE_A ? 4 : 16;

	*followed = false;
	for (;;) {
		size_t off = m->off[DNS_SEC_AN];
		struct dns_name target;
		bool cname = false;
		uint32_t cname_ttl = 0;
		struct dns_rr rr;

		for (unsigned i = 0; i < m->count[DNS_SEC_AN]; i++) {
			if (dns_msg_rr(m, &off, &rr))
				return TAPIR_DNS_EBADREPLY;
			if (rr.rclass != DNS_CLASS_IN || !dns_name_eq(&rr.name, &lk->cur))
				continue;
			if (rr.type == lk->qtype) {
				struct tapir_addr a = { 0 };

				if (rr.rdlen != alen)
					return TAPIR_DNS_EBADREPLY;
				if (alen == 4) {
					a = tapir_addr_v4(get_be32(rr.rdata));
				} else {
					a.family = TAPIR_AF_INET6;
					memcpy(a.v6, rr.rdata, 16);
				}
				if (lk->n < TAPIR_DNS_MAX_ADDRS) {
					lk->addrs[lk->n] = a;
					lk->ttls[lk->n++] = rr.ttl;
				}
			} else if (rr.type == DNS_TYPE_CNAME && !cname) {
				size_t p = rr.rdata_off;

				if (dns_name_read(m->buf, m->len, &p, &target) ||
				    p != rr.rdata_off + rr.rdlen)
					return TAPIR_DNS_EBADREPLY;
				cname = true;
				cname_ttl = rr.ttl;
			}
		}
		if (lk->n)
			break;
		if (!cname)
			break;
		if (++lk->cnames > TAPIR_DNS_MAX_CNAME)
			return TAPIR_DNS_ECNAME_LOOP;
		if (cname_ttl < lk->ttl)
			lk->ttl = cname_ttl;
		lk->cur = target;
		*followed = true;
	}
	return 0;
}

static void handle_reply(struct dns_lookup *lk, const struct dns_msg *m)
{
	struct tapir_dns *r = lk->q->r;
	unsigned rcode = DNS_RCODE(m->flags);
	bool followed;
	int err;

	switch (rcode) {
	case DNS_RCODE_NOERROR:
	case DNS_RCODE_NXDOMAIN:
		break;
	case DNS_RCODE_REFUSED:
		lk->srv_err = TAPIR_DNS_EREFUSED;
		next_try(lk);
		return;
	case DNS_RCODE_FORMERR:
		if (r->cfg.edns_size && !lk->no_edns) {
			/* a server that does not know EDNS: the same server
			 * again without the OPT record (RFC 6891 7) */
			lk->no_edns = true;
			tcp_release(lk);
			build_query(lk);
			lk->try--;
			send_try(lk);
			return;
		}
		lk->srv_err = TAPIR_DNS_ESERVFAIL;
		next_try(lk);
		return;
	default:
		lk->srv_err = TAPIR_DNS_ESERVFAIL;
		next_try(lk);
		return;
	}
	CTR(r, DNS_ANSWERS);
	err = read_answer(lk, m, &followed);
	if (err) {
		lk->n = 0;
		finish(lk, err);
		return;
	}
	if (lk->n) {
		for (unsigned i = 0; i < lk->n; i++) {
			if (lk->ttls[i] > lk->ttl)
				lk->ttls[i] = lk->ttl;
			if (lk->ttls[i] < lk->ttl)
				lk->ttl = lk->ttls[i];
		}
		lk->canon = lk->cur;
		lk->err = 0;
		cache_result(lk, lk->ttl);
		finish(lk, 0);
		return;
	}
	if (rcode == DNS_RCODE_NOERROR && followed && !has_soa(m)) {
		/* the server stopped at a CNAME: ask for its target */
		tcp_release(lk);
		ask(lk);
		return;
	}
	lk->err = rcode == DNS_RCODE_NXDOMAIN ? TAPIR_DNS_ENXDOMAIN : TAPIR_DNS_ENODATA;
	{
		uint32_t neg = soa_negative_ttl(m);

		if (neg > DNS_NEG_TTL_MAX)
			neg = DNS_NEG_TTL_MAX;
		cache_result(lk, neg);
	}
	finish(lk, lk->err);
}

/*
 * The RFC 5452 checks shared by UDP and TCP.  Return: 0 if the message
 * answers our query, else the drop counter to bump
 */
static int match(struct dns_lookup *lk, const struct dns_msg *m)
{
	struct dns_question qq;
	size_t off;

	if (!(m->flags & DNS_FLAG_QR) || DNS_OPCODE(m->flags) != 0)
		return TAPIR_CTR_DNS_DROP_NOT_RESPONSE;
	if (m->id != lk->id)
		return TAPIR_CTR_DNS_DROP_BAD_ID;
	off = m->off[DNS_SEC_QD];
	if (m->count[DNS_SEC_QD] != 1 || dns_msg_question(m, &off, &qq) ||
	    !dns_name_eq(&qq.name, &lk->cur) || qq.type != lk->qtype || qq.qclass != DNS_CLASS_IN)
		return TAPIR_CTR_DNS_DROP_BAD_QUESTION;
	return 0;
}

static void udp_rx(void *ctx, const struct tapir_udp_meta *um, const uint8_t *data, size_t len)
{
	struct dns_lookup *lk = ctx;
	struct tapir_dns *r = lk->q->r;
	struct dns_msg m;
	bool known = false;
	int bad;

	for (unsigned i = 0; i < lk->nsent_to; i++)
		known |= same_server(&lk->sent_to[i], &um->src);
	if (!known || um->src_port != r->cfg.port || lk->state != LK_UDP) {
		CTR(r, DNS_DROP_BAD_SOURCE);
		return;
	}
	if (dns_msg_parse(&m, data, len)) {
		CTR(r, DNS_DROP_MALFORMED);
		return;
	}
	bad = match(lk, &m);
	if (bad) {
		dns_ctr_inc(r, bad);
		return;
	}
	if (m.flags & DNS_FLAG_TC) {
		int rc;

		CTR(r, DNS_TCP_FALLBACKS);
		lk->server = um->src;
		lk->state = LK_TCP_CONNECT;
		/* the TCP exchange gets a deadline of its own: twice the first wait */
		lk->deadline = dns_now(r) + 2 * r->cfg.timeout_ns;
		rc = tcp_connect_server(lk);
		if (rc) {
			lk->state = LK_UDP;
			next_try(lk);
		}
		return;
	}
	handle_reply(lk, &m);
}

static void udp_err(void *ctx, const struct tapir_udp_err *e)
{
	struct dns_lookup *lk = ctx;

	if (lk->state != LK_UDP || !same_server(&lk->server, &e->dst) ||
	    e->dst_port != lk->q->r->cfg.port ||
	    e->type != (e->from.family == TAPIR_AF_INET6 ? 1 : TAPIR_ICMP_DEST_UNREACH))
		return;
	/* the quote, when there is one, must be our query (RFC 5927 4.1) */
	if (e->data_len >= 2 && get_be16(e->data) != lk->id)
		return;
	CTR(lk->q->r, DNS_ICMP_ERRORS);
	next_try(lk);
}

/* Is @got (a reply's source) the server @sent (as configured: an
 * IPv4-mapped IPv6 server answers over IPv4)? */
static bool same_server(const struct tapir_addr *sent, const struct tapir_addr *got)
{
	uint32_t v4;

	if (tapir_addr_is_v4mapped(sent, &v4))
		return got->family == TAPIR_AF_INET && got->v4 == v4;
	return tapir_addr_eq(sent, got);
}

static int listen_random(struct dns_lookup *lk)
{
	struct tapir_dns *r = lk->q->r;

	for (int i = 0; i < DNS_PORT_TRIES; i++) {
		uint16_t p;

		dns_random(r, &p, sizeof(p));
		p = (uint16_t)(49152 + p % 16384);
		if (!tapir_udp_listen_err(r->st, p, udp_rx, udp_err, lk)) {
			lk->port = p;
			return 0;
		}
	}
	return -EAGAIN;
}

/* ---- TCP ---- */

static void tcp_recv(void *ctx, struct tapir_tcp_flow *f, const uint8_t *data, size_t len)
{
	struct dns_lookup *lk = ctx;
	struct tapir_dns *r = lk->q->r;
	struct dns_msg m;
	size_t want;
	int bad;

	(void)f;
	if (!len) {
		CTR(r, DNS_DROP_TCP_BAD);
		next_try(lk);
		return;
	}
	while (len) {
		size_t take;

		want = lk->tcplen >= 2 ? 2 + (size_t)get_be16(lk->tcpbuf) : 2;
		take = want - lk->tcplen < len ? want - lk->tcplen : len;
		memcpy(lk->tcpbuf + lk->tcplen, data, take);
		lk->tcplen += take;
		data += take;
		len -= take;
		if (lk->tcplen == 2 && get_be16(lk->tcpbuf) == 0)
			break;
		if (lk->tcplen >= 2 && lk->tcplen == 2 + (size_t)get_be16(lk->tcpbuf))
			break;
	}
	if (lk->tcplen < 2 || lk->tcplen < 2 + (size_t)get_be16(lk->tcpbuf))
		return;
	/* one whole message (anything after it is ignored) */
	if (dns_msg_parse(&m, lk->tcpbuf + 2, lk->tcplen - 2)) {
		CTR(r, DNS_DROP_MALFORMED);
		next_try(lk);
		return;
	}
	bad = match(lk, &m);
	if (bad) {
		/* a connection to the server carries only our answer */
		dns_ctr_inc(r, bad);
		next_try(lk);
		return;
	}
	handle_reply(lk, &m);
}

static void tcp_closed(void *ctx, struct tapir_tcp_flow *f, int err)
{
	struct dns_lookup *lk = ctx;

	(void)f;
	(void)err;
	CTR(lk->q->r, DNS_DROP_TCP_BAD);
	next_try(lk);
}

/* TCP to lk->server (the fallback after TC).  Return: 0 or as tapir_tcp_connect() */
static int tcp_connect_server(struct dns_lookup *lk)
{
	struct tapir_dns *r = lk->q->r;

	return tapir_tcp_connect(r->st, &lk->server, r->cfg.port, NULL, tcp_connected, lk);
}

static void tcp_connected(void *ctx, struct tapir_tcp_flow *f, int err)
{
	struct dns_lookup *lk = ctx;
	static const struct tapir_tcp_callbacks cbs = { .recv = tcp_recv, .closed = tcp_closed };
	uint8_t len[2];
	struct tapir_stack_iov iov[2];

	if (lk->state != LK_TCP_CONNECT) {
		if (f)
			tapir_tcp_abort(f);
		return;
	}
	lk->state = LK_TCP;
	if (err) {
		CTR(lk->q->r, DNS_DROP_TCP_BAD);
		next_try(lk);
		return;
	}
	lk->flow = f;
	lk->tcpbuf = malloc(2 + 65535);
	if (!lk->tcpbuf) {
		next_try(lk);
		return;
	}
	lk->tcplen = 0;
	tapir_tcp_flow_set_callbacks(f, &cbs, lk);
	put_be16(len, (uint16_t)lk->msglen);
	iov[0] = (struct tapir_stack_iov){ len, 2 };
	iov[1] = (struct tapir_stack_iov){ lk->msg, lk->msglen };
	if (tapir_tcp_writev(f, iov, 2) != (long)(2 + lk->msglen))
		next_try(lk);
}

void dns_lookup_poll(struct dns_lookup *lk, uint64_t now)
{
	if (lk->state == LK_IDLE || lk->state == LK_DONE || now < lk->deadline)
		return;
	next_try(lk);
}

uint64_t dns_lookup_deadline(const struct dns_lookup *lk)
{
	if (lk->state == LK_IDLE || lk->state == LK_DONE)
		return TAPIR_STACK_NO_DEADLINE;
	return lk->deadline;
}
