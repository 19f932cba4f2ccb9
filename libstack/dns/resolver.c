/*
 * resolver.c - the stub resolver's API: queries, search rule, hosts, sources
 *
 * The theory of operation is in include/tapir/dns.h (what a user sees) and
 * lookup.c (the transactions).  Here: a query holds its candidate names
 * (the search rule) and runs one lookup per type for the current candidate;
 * when the lookups of a candidate are done it either has a result or moves
 * to the next candidate.  Results wait in the query (done = true) until
 * tapir_dns_poll() delivers them, so no callback ever runs inside a call the
 * application made, and a query is freed only after its callback returns.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dns_internal.h"
#include "internal.h"
#include "ipv6_internal.h"
#include "wire/ipv6.h"

static const struct {
	int code;
	const char *name, *msg;
} dns_errors[] = {
#define X(id, n, name, msg) { TAPIR_DNS_E##id, name, msg },
	TAPIR_DNS_ERRORS(X)
#undef X
};

const char *tapir_dns_errname(int err)
{
	if (!err)
		return "OK";
	for (size_t i = 0; i < sizeof(dns_errors) / sizeof(dns_errors[0]); i++)
		if (dns_errors[i].code == err)
			return dns_errors[i].name;
	switch (err) {
	case -ENOMEM: return "ENOMEM";
	case -EAGAIN: return "EAGAIN";
	case -EINVAL: return "EINVAL";
	default: return "ERROR";
	}
}

const char *tapir_dns_strerror(int err)
{
	if (!err)
		return "success";
	for (size_t i = 0; i < sizeof(dns_errors) / sizeof(dns_errors[0]); i++)
		if (dns_errors[i].code == err)
			return dns_errors[i].msg;
	switch (err) {
	case -ENOMEM: return "out of memory";
	case -EAGAIN: return "no free port or too many queries";
	case -EINVAL: return "invalid name";
	default: return "error";
	}
}

void tapir_dns_config_defaults(struct tapir_dns_config *cfg)
{
	*cfg = (struct tapir_dns_config){
		.cache_size = 256,
		.timeout_ns = 2 * TAPIR_STACK_NS_PER_SEC,
		.attempts = 2,
		.ndots = 1,
		.max_queries = 256,
		.port = 53,
		.edns_size = 1232,
	};
}

uint64_t dns_now(struct tapir_dns *r)
{
	if (r->st->now > r->now)
		r->now = r->st->now;
	return r->now;
}

void dns_random(struct tapir_dns *r, void *buf, size_t len)
{
	r->st->cfg.random(r->st->cfg.random_ctx, buf, len);
}

void dns_ctr_inc(struct tapir_dns *r, int ctr)
{
	if (ctr >= 0 && ctr < TAPIR_CTR__COUNT)
		r->st->ctr[ctr]++;
}

static int winning_source(const size_t *counts)
{
	for (int s = 0; s < TAPIR_DNS_SRC__COUNT; s++)
		if (counts[s])
			return s;
	return -1;
}

/* The servers of source @s into @out (TAPIR_DNS_MAX_SERVERS).  RDNSS, unless
 * set with tapir_dns_set_servers(), is the stack's: the RDNSS option of the
 * last Router Advertisement (RFC 8106 5.1, ndp.c) while its lifetime lasts,
 * unicast addresses only.  Return: how many */
static size_t source_servers(const struct tapir_dns *r, int s, struct tapir_addr *out)
{
	const struct ipv6_state *ip6 = r->st->ip6;
	size_t n = 0;

	if (s != TAPIR_DNS_SRC_RDNSS || r->nservers[s]) {
		memcpy(out, r->servers[s], r->nservers[s] * sizeof(*out));
		return r->nservers[s];
	}
	if (!ip6 || r->st->now >= ip6->rdnss_expires)
		return 0;
	for (size_t i = 0; i < ip6->nrdnss && n < TAPIR_DNS_MAX_SERVERS; i++) {
		const uint8_t *a = ip6->rdnss[i];

		if (ipv6_addr_is_unspecified(a) || ipv6_addr_is_multicast(a) ||
		    ipv6_addr_is_loopback(a) || ipv6_addr_is_v4mapped(a))
			continue;
		out[n] = (struct tapir_addr){ .family = TAPIR_AF_INET6 };
		memcpy(out[n++].v6, a, 16);
	}
	return n;
}

/* The first source with servers, its servers in @out.  Return: the source or -1 */
static int server_source(const struct tapir_dns *r, struct tapir_addr *out, size_t *n)
{
	for (int s = 0; s < TAPIR_DNS_SRC__COUNT; s++) {
		*n = source_servers(r, s, out);
		if (*n)
			return s;
	}
	return -1;
}

size_t dns_usable_servers(const struct tapir_dns *r, struct tapir_addr *out)
{
	struct tapir_addr all[TAPIR_DNS_MAX_SERVERS];
	size_t nall, n = 0;

	if (server_source(r, all, &nall) < 0)
		return 0;
	for (size_t i = 0; i < nall; i++) {
		const struct tapir_addr *a = &all[i];

		if (a->family == TAPIR_AF_INET || tapir_addr_is_v4mapped(a, NULL) ||
		    (a->family == TAPIR_AF_INET6 && r->st->ip6))
			out[n++] = *a;
	}
	return n;
}

int tapir_dns_new(struct tapir_dns **out, struct tapir_stack *st, const struct tapir_dns_config *cfg)
{
	struct tapir_dns *r;

	if (!out || !st)
		return -EINVAL;
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	if (cfg)
		r->cfg = *cfg;
	else
		tapir_dns_config_defaults(&r->cfg);
	if (!r->cfg.timeout_ns || !r->cfg.attempts || r->cfg.attempts > 10 || r->cfg.ndots > 15 ||
	    !r->cfg.max_queries || !r->cfg.port ||
	    (r->cfg.edns_size && r->cfg.edns_size < 512)) {
		free(r);
		return -EINVAL;
	}
	r->st = st;
	r->now = st->now;
	if (dns_cache_init(&r->cache, r->cfg.cache_size)) {
		free(r);
		return -ENOMEM;
	}
	*out = r;
	return 0;
}

static void query_free(struct dns_query *q)
{
	for (unsigned i = 0; i < 2; i++)
		dns_lookup_stop(&q->lk[i]);
	*q->pprev = q->next;
	if (q->next)
		q->next->pprev = q->pprev;
	q->r->nqueries--;
	free(q);
}

void tapir_dns_free(struct tapir_dns *r)
{
	if (!r)
		return;
	while (r->queries)
		query_free(r->queries);
	dns_cache_free(&r->cache);
	free(r->hosts);
	free(r);
}

int tapir_dns_set_servers(struct tapir_dns *r, enum tapir_dns_source src,
			  const struct tapir_addr *addrs, size_t n)
{
	if (!r || (unsigned)src >= TAPIR_DNS_SRC__COUNT || n > TAPIR_DNS_MAX_SERVERS || (n && !addrs))
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		const struct tapir_addr *a = &addrs[i];
		static const uint8_t zero[16];

		if ((a->family == TAPIR_AF_INET && a->v4 == 0) ||
		    (a->family == TAPIR_AF_INET6 && !memcmp(a->v6, zero, 16)) ||
		    (a->family != TAPIR_AF_INET && a->family != TAPIR_AF_INET6))
			return -EINVAL;
	}
	for (size_t i = 0; i < n; i++)
		r->servers[src][i] = addrs[i];
	r->nservers[src] = n;
	return 0;
}

int tapir_dns_set_search(struct tapir_dns *r, enum tapir_dns_source src,
			 const char *const *names, size_t n)
{
	struct dns_name tmp[TAPIR_DNS_MAX_SEARCH];

	if (!r || (unsigned)src >= TAPIR_DNS_SRC__COUNT || n > TAPIR_DNS_MAX_SEARCH || (n && !names))
		return -EINVAL;
	for (size_t i = 0; i < n; i++)
		if (!names[i] || dns_name_from_text(names[i], &tmp[i]) || tmp[i].len <= 1)
			return -EINVAL;
	memcpy(r->search[src], tmp, n * sizeof(tmp[0]));
	r->nsearch[src] = n;
	return 0;
}

size_t tapir_dns_servers(const struct tapir_dns *r, struct tapir_addr *out, size_t max,
			 enum tapir_dns_source *src)
{
	struct tapir_addr all[TAPIR_DNS_MAX_SERVERS];
	size_t n = 0;
	int s = r ? server_source(r, all, &n) : -1;

	if (s < 0)
		return 0;
	if (src)
		*src = (enum tapir_dns_source)s;
	for (size_t i = 0; i < n && i < max; i++)
		out[i] = all[i];
	return n;
}

int tapir_dns_add_host(struct tapir_dns *r, const char *name, const struct tapir_addr *a)
{
	struct dns_host h;

	if (!r || !name || !a || (a->family != TAPIR_AF_INET && a->family != TAPIR_AF_INET6) ||
	    dns_name_from_text(name, &h.name) || h.name.len <= 1)
		return -EINVAL;
	h.addr = *a;
	if (r->nhosts >= TAPIR_DNS_MAX_HOSTS)
		return -ENOSPC;
	if (r->nhosts == r->hosts_cap) {
		size_t cap = r->hosts_cap ? 2 * r->hosts_cap : 8;
		struct dns_host *n = realloc(r->hosts, cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		r->hosts = n;
		r->hosts_cap = cap;
	}
	r->hosts[r->nhosts++] = h;
	return 0;
}

void tapir_dns_clear_hosts(struct tapir_dns *r)
{
	if (r)
		r->nhosts = 0;
}

void tapir_dns_flush_cache(struct tapir_dns *r)
{
	if (r)
		dns_cache_clear(&r->cache);
}

size_t tapir_dns_cache_count(const struct tapir_dns *r)
{
	return r ? r->cache.count : 0;
}

size_t tapir_dns_pending(const struct tapir_dns *r)
{
	return r ? r->nqueries : 0;
}

static void set_done(struct dns_query *q, int err)
{
	q->done = true;
	q->res.err = err;
	if (err)
		q->res.naddrs = 0;
}

static void add_addr(struct dns_query *q, const struct tapir_addr *a, uint32_t ttl)
{
	if (q->res.naddrs < TAPIR_DNS_MAX_ADDRS) {
		q->addrs[q->res.naddrs] = *a;
		q->ttls[q->res.naddrs++] = ttl;
	}
}

static bool wants(const struct dns_query *q, enum tapir_family f)
{
	return q->family == TAPIR_AF_UNSPEC || q->family == f;
}

static bool all_done(const struct dns_query *q)
{
	for (unsigned i = 0; i < q->nlk; i++)
		if (q->lk[i].state != LK_DONE)
			return false;
	return true;
}

/*
 * The lookups of the current candidate are all done: a result, or the next
 * candidate.  Return: true when the query is done
 */
static bool conclude(struct dns_query *q)
{
	bool found = false, from_cache = true;

	for (unsigned i = 0; i < q->nlk; i++) {
		struct dns_lookup *lk = &q->lk[i];

		from_cache &= lk->from_cache;
		if (lk->err == 0 && lk->n) {
			if (!found)
				dns_name_to_text(&lk->canon, q->canon);
			found = true;
			for (unsigned k = 0; k < lk->n; k++)
				add_addr(q, &lk->addrs[k], lk->ttls[k]);
		} else if (lk->err == TAPIR_DNS_ENODATA || (lk->err == 0 && !lk->n)) {
			q->nodata = true;
		} else if (lk->err != TAPIR_DNS_ENXDOMAIN && !q->srv_err) {
			q->srv_err = lk->err;
		}
	}
	if (found) {
		q->res.from_cache = from_cache;
		set_done(q, 0);
		return true;
	}
	if (++q->icand < q->ncand)
		return false;
	set_done(q, q->nodata ? TAPIR_DNS_ENODATA : q->srv_err ? q->srv_err : TAPIR_DNS_ENXDOMAIN);
	return true;
}

/* Start the lookups of candidate q->icand (and of the next ones while the
 * cache answers them all at once). */
static void start_candidate(struct dns_query *q)
{
	do {
		const struct dns_name *n = &q->cand[q->icand];

		q->nlk = 0;
		memset(q->lk, 0, sizeof(q->lk));
		if (wants(q, TAPIR_AF_INET))
			q->lk[q->nlk++].qtype = DNS_TYPE_A;
		if (wants(q, TAPIR_AF_INET6))
			q->lk[q->nlk++].qtype = DNS_TYPE_AAAA;
		q->starting = true;
		for (unsigned i = 0; i < q->nlk; i++)
			dns_lookup_start(&q->lk[i], q, n, q->lk[i].qtype);
		q->starting = false;
		if (!all_done(q))
			return;
	} while (!conclude(q));
}

void dns_query_lookup_done(struct dns_query *q)
{
	if (q->starting || !all_done(q))
		return;
	if (!conclude(q))
		start_candidate(q);
}

/* The search rule: the candidate names for @name (not a literal). */
static int make_candidates(struct dns_query *q, const char *name)
{
	struct tapir_dns *r = q->r;
	struct dns_name base;
	size_t len = strlen(name), dots = 0;
	int s = winning_source(r->nsearch);
	bool first;

	if (dns_name_from_text(name, &base) || base.len <= 1)
		return -EINVAL;
	q->ncand = 0;
	if (name[len - 1] == '.' || s < 0) {
		q->cand[q->ncand++] = base;
		return 0;
	}
	for (size_t i = 0; i < len; i++)
		dots += name[i] == '.';
	first = dots >= r->cfg.ndots;
	if (first)
		q->cand[q->ncand++] = base;
	for (size_t i = 0; i < r->nsearch[s]; i++)
		if (!dns_name_join(&base, &r->search[s][i], &q->cand[q->ncand]))
			q->ncand++;
	if (!first)
		q->cand[q->ncand++] = base;
	return 0;
}

/* The static hosts and literals.  Return: whether @q is answered */
static bool answer_locally(struct dns_query *q, const char *name)
{
	struct tapir_dns *r = q->r;
	struct tapir_addr a;
	struct dns_name n;

	if (!tapir_addr_parse(name, &a)) {
		if (wants(q, (enum tapir_family)a.family)) {
			add_addr(q, &a, 0);
			snprintf(q->canon, sizeof(q->canon), "%s", name);
		}
		q->res.from_cache = true;
		set_done(q, q->res.naddrs ? 0 : TAPIR_DNS_ENODATA);
		return true;
	}
	if (dns_name_from_text(name, &n))
		return false;
	for (size_t i = 0; i < r->nhosts; i++)
		if (dns_name_eq(&r->hosts[i].name, &n) &&
		    wants(q, (enum tapir_family)r->hosts[i].addr.family))
			add_addr(q, &r->hosts[i].addr, 0);
	if (!q->res.naddrs)
		return false;
	/* IPv4 first, as the lookups give them */
	for (size_t i = 0, k = 0; i < q->res.naddrs; i++) {
		if (q->addrs[i].family == TAPIR_AF_INET) {
			struct tapir_addr t = q->addrs[k];

			q->addrs[k++] = q->addrs[i];
			q->addrs[i] = t;
		}
	}
	dns_ctr_inc(r, TAPIR_CTR_DNS_HOSTS_HITS);
	dns_name_to_text(&n, q->canon);
	q->res.from_cache = true;
	set_done(q, 0);
	return true;
}

int tapir_dns_resolve_owner(struct tapir_dns *r, const void *owner, const char *name,
			    enum tapir_family family, tapir_dns_cb cb, void *ctx,
			    struct tapir_dns_query **out)
{
	struct dns_query *q;
	size_t len;

	if (!r || !name || !cb ||
	    (family != TAPIR_AF_UNSPEC && family != TAPIR_AF_INET && family != TAPIR_AF_INET6))
		return -EINVAL;
	len = strlen(name);
	if (!len || len >= DNS_NAME_TEXT_MAX)
		return -EINVAL;
	if (r->nqueries >= r->cfg.max_queries)
		return -EAGAIN;
	q = calloc(1, sizeof(*q));
	if (!q)
		return -ENOMEM;
	q->r = r;
	q->owner = owner;
	q->cb = cb;
	q->ctx = ctx;
	q->family = family;
	memcpy(q->name, name, len + 1);
	q->res.name = q->name;
	q->res.canon = q->canon;
	q->res.addrs = q->addrs;
	q->res.ttl = q->ttls;
	if (!answer_locally(q, name) && make_candidates(q, name)) {
		free(q);
		return -EINVAL;
	}
	q->next = r->queries;
	if (q->next)
		q->next->pprev = &q->next;
	q->pprev = &r->queries;
	r->queries = q;
	r->nqueries++;
	dns_ctr_inc(r, TAPIR_CTR_DNS_RESOLVES);
	/* the servers are asked from the next tapir_dns_poll(), with its time:
	 * the stack's may be old here (an idle stack is not polled) */
	q->icand = 0;
	q->to_start = !q->done;
	if (out)
		*out = (struct tapir_dns_query *)q;
	return 0;
}

int tapir_dns_resolve(struct tapir_dns *r, const char *name, enum tapir_family family,
		      tapir_dns_cb cb, void *ctx, struct tapir_dns_query **q)
{
	return tapir_dns_resolve_owner(r, NULL, name, family, cb, ctx, q);
}

void tapir_dns_cancel(struct tapir_dns_query *handle)
{
	if (handle)
		query_free((struct dns_query *)handle);
}

void tapir_dns_cancel_owner(struct tapir_dns *r, const void *owner)
{
	if (!r)
		return;
	for (struct dns_query *q = r->queries, *next; q; q = next) {
		next = q->next;
		if (q->owner == owner)
			query_free(q);
	}
}

void tapir_dns_poll(struct tapir_dns *r, uint64_t now)
{
	bool again = true;

	if (!r)
		return;
	if (now > r->now)
		r->now = now;
	for (struct dns_query *q = r->queries; q; q = q->next) {
		if (q->to_start) {
			q->to_start = false;
			start_candidate(q);
			continue;
		}
		for (unsigned i = 0; i < q->nlk && !q->done; i++)
			dns_lookup_poll(&q->lk[i], r->now);
	}
	/* deliver: a callback may resolve or cancel, so start over after each */
	while (again) {
		again = false;
		for (struct dns_query *q = r->queries; q; q = q->next) {
			if (!q->done)
				continue;
			for (unsigned i = 0; i < 2; i++)
				dns_lookup_stop(&q->lk[i]);
			*q->pprev = q->next;
			if (q->next)
				q->next->pprev = q->pprev;
			r->nqueries--;
			if (q->res.err)
				q->canon[0] = 0;
			q->cb(q->ctx, &q->res);
			free(q);
			again = true;
			break;
		}
	}
}

uint64_t tapir_dns_next_deadline(const struct tapir_dns *r)
{
	uint64_t d = TAPIR_STACK_NO_DEADLINE;

	if (!r)
		return d;
	for (const struct dns_query *q = r->queries; q; q = q->next) {
		if (q->done || q->to_start)
			return r->now < r->st->now ? r->st->now : r->now;
		for (unsigned i = 0; i < q->nlk; i++) {
			uint64_t x = dns_lookup_deadline(&q->lk[i]);

			if (x < d)
				d = x;
		}
	}
	return d;
}
