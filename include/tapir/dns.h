/*
 * dns.h - tapir's public DNS stub resolver: names to addresses, asynchronously
 *
 * Theory of operation
 *
 * A struct tapir_dns resolves names over a stack's own UDP (and TCP when an
 * answer is truncated, RFC 7766) against recursive servers.  It is sans-I/O
 * like the stack: it takes time from the stack (the time of the last
 * tapir_stack_input()/tapir_stack_poll()) and from tapir_dns_poll(), which the
 * host calls when tapir_dns_next_deadline() has come; randomness from the
 * stack's random callback.  The daemon makes one per instance and drives it
 * (apps reach it as ctx->dns, app.h).
 *
 * A resolve goes through, in order:
 *   1. an address literal (a dotted quad or IPv6 text) answers itself;
 *   2. the static hosts table (tapir_dns_add_host(), [dns] hosts) for the
 *      name as given;
 *   3. for each candidate name of the search rule (as resolv.conf's: a name
 *      with a final dot is tried alone; one with at least ndots dots is
 *      tried as it is first, then with each search domain; one with fewer
 *      dots with the search domains first), for A, AAAA or both in
 *      parallel: the cache, then the servers.
 * The first candidate that gives an address ends the search; if none does
 * the error is NODATA when some candidate existed without the type asked
 * for, else the first server error (SERVFAIL, REFUSED, TIMEOUT), else
 * NXDOMAIN.
 *
 * Servers come from sources of decreasing precedence (enum
 * tapir_dns_source): the configuration, then DHCP, then IPv6 RDNSS; the
 * first source that has any servers is the one used, so a lease never
 * overrides [dns] servers.  Search lists follow the same rule on their own.
 * RDNSS servers are the stack's own, from the last Router Advertisement's
 * RDNSS option (RFC 8106) while its lifetime lasts, unless the host sets
 * that source itself.  IPv6 servers are asked over IPv6 (when the stack has
 * it); the TCP fallback after TC reaches IPv4 servers only so far.
 *
 * A query goes to the first server; without an answer after the timeout it
 * goes to the next, round after round (attempts rounds), the timeout
 * doubling each round.  Each query is sent from its own random port with a
 * random ID and an EDNS0 OPT record (RFC 6891, 1232-byte buffer); an answer
 * counts only if it comes from a server the query went to, from port 53,
 * to that port, with that ID and the same question (RFC 5452): anything
 * else is dropped and counted (dns.drop.*).  A truncated answer (TC) is
 * asked again over TCP from the same server.  CNAME chains in an answer are
 * followed (and asked again when a server stops at a CNAME), at most
 * TAPIR_DNS_MAX_CNAME links.
 *
 * The cache holds at most cache_size answers (positive, and negative as RFC
 * 2308 says: NXDOMAIN and NODATA for the SOA's TTL and MINIMUM), each for
 * its smallest TTL (at most one day; negative at most three hours); when
 * full, the entry closest to expiry goes.
 *
 * Callbacks are never made from inside tapir_dns_resolve(): even an answer
 * known at once (literal, hosts, cache) comes from the next
 * tapir_dns_poll().  After tapir_dns_cancel() (or tapir_dns_cancel_owner(),
 * or tapir_dns_free()) returns, the query's callback is never made.
 *
 * Ownership: the resolver copies every name and address it is given; the
 * result passed to a callback is lent for the call only.  A query handle is
 * valid until its callback is called (not inside it) or it is cancelled.
 */
#ifndef TAPIR_DNS_H
#define TAPIR_DNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "stack.h"

struct tapir_dns;
struct tapir_dns_query;

#define TAPIR_DNS_MAX_SERVERS 4      /* per source */
#define TAPIR_DNS_MAX_SEARCH 6       /* search domains per source */
#define TAPIR_DNS_MAX_ADDRS 16       /* addresses in one result */
#define TAPIR_DNS_MAX_CNAME 8        /* CNAME links followed */
#define TAPIR_DNS_MAX_HOSTS 1024     /* static host entries */

/* Where servers and search domains came from, highest precedence first */
enum tapir_dns_source {
	TAPIR_DNS_SRC_CONFIG = 0,
	TAPIR_DNS_SRC_DHCP,
	TAPIR_DNS_SRC_RDNSS,
	TAPIR_DNS_SRC__COUNT
};

/*
 * Errors a result carries besides negative errnos (-ENOMEM ...).  The
 * X-macro gives tapir_dns_strerror() its names.
 */
#define TAPIR_DNS_ERRORS(X)                                              \
	X(NXDOMAIN, 1, "NXDOMAIN", "no such name")                       \
	X(NODATA, 2, "NODATA", "the name has no address of that family")  \
	X(SERVFAIL, 3, "SERVFAIL", "the server failed")                  \
	X(REFUSED, 4, "REFUSED", "the server refused")                   \
	X(TIMEOUT, 5, "TIMEOUT", "no server answered")                   \
	X(NOSERVER, 6, "NOSERVER", "no DNS server is configured")        \
	X(BADREPLY, 7, "BADREPLY", "the server's answer made no sense")  \
	X(CNAME_LOOP, 8, "CNAME_LOOP", "CNAME chain too long")

enum tapir_dns_err {
#define X(id, n, name, msg) TAPIR_DNS_E##id = -(1000 + n),
	TAPIR_DNS_ERRORS(X)
#undef X
};

/* Short name of a result: "NXDOMAIN" ... for the codes above, else the errno's name-ish text */
const char *tapir_dns_errname(int err);
/* Message for @err: the codes above or a negative errno */
const char *tapir_dns_strerror(int err);

/**
 * struct tapir_dns_config - resolver limits and timing
 * @cache_size:  Cached answers, 256; 0 = no cache
 * @timeout_ns:  Wait for an answer in the first round, 2 s (doubled each round)
 * @attempts:    Rounds over the servers, 2 (1..10)
 * @ndots:       Dots that make a name be tried as it is first, 1 (0..15)
 * @max_queries: Resolves under way at once, 256
 * @port:        Server port, 53
 * @edns_size:   EDNS0 UDP payload size, 1232; 0 = no OPT record
 */
struct tapir_dns_config {
	size_t cache_size;
	uint64_t timeout_ns;
	unsigned attempts;
	unsigned ndots;
	size_t max_queries;
	uint16_t port;
	uint16_t edns_size;
};

void tapir_dns_config_defaults(struct tapir_dns_config *cfg);

/**
 * struct tapir_dns_result - what a resolve found
 * @err:     0, a TAPIR_DNS_E* code or a negative errno
 * @name:    The name asked for
 * @canon:   The name that had the addresses (after search and CNAMEs); "" on error
 * @addrs:   Addresses (IPv4 first when both were asked for)
 * @ttl:     Seconds each address may be kept (0 for literals and hosts)
 * @naddrs:  Number of @addrs (0 on error)
 * @from_cache: Every part came from the cache, hosts or a literal
 */
struct tapir_dns_result {
	int err;
	const char *name;
	const char *canon;
	const struct tapir_addr *addrs;
	const uint32_t *ttl;
	size_t naddrs;
	bool from_cache;
};

/* The result of a resolve; @r is lent for the call only.  The query is over
 * when it returns (its handle is no longer valid). */
typedef void (*tapir_dns_cb)(void *ctx, const struct tapir_dns_result *r);

/**
 * tapir_dns_new() - Make a resolver on a stack
 * @out: The resolver
 * @st:  Stack (must outlive the resolver)
 * @cfg: Configuration (copied), NULL for the defaults
 *
 * Return: 0, -EINVAL, -ENOMEM
 */
int tapir_dns_new(struct tapir_dns **out, struct tapir_stack *st, const struct tapir_dns_config *cfg);

/* Cancel every query (no callbacks), free the resolver.  NULL is allowed. */
void tapir_dns_free(struct tapir_dns *r);

/**
 * tapir_dns_set_servers() - Replace the servers of one source
 * @src:   Source
 * @addrs: Servers (copied); IPv6 ones are kept but skipped until the stack
 *         speaks IPv6
 * @n:     How many; 0 clears the source (the next one is then used)
 *
 * Return: 0, -EINVAL (bad source, more than TAPIR_DNS_MAX_SERVERS, unspecified
 *         family or a zero address)
 */
int tapir_dns_set_servers(struct tapir_dns *r, enum tapir_dns_source src,
			  const struct tapir_addr *addrs, size_t n);

/**
 * tapir_dns_set_search() - Replace the search domains of one source
 * @names: Domain names ("example.com", copied)
 * @n:     How many (at most TAPIR_DNS_MAX_SEARCH); 0 clears the source
 *
 * Return: 0, -EINVAL (bad source or name; nothing changed)
 */
int tapir_dns_set_search(struct tapir_dns *r, enum tapir_dns_source src,
			 const char *const *names, size_t n);

/* The servers in use (the winning source's): copies up to @max into @out,
 * *@src (may be NULL) gets the source.  Return: number of servers in use */
size_t tapir_dns_servers(const struct tapir_dns *r, struct tapir_addr *out, size_t max,
			 enum tapir_dns_source *src);

/**
 * tapir_dns_add_host() - A static name: answered before any server is asked
 * @name: Host name (without search: matched as given, case-insensitively)
 * @a:    Its address; a name may have several, of both families
 *
 * Return: 0, -EINVAL, -ENOSPC (TAPIR_DNS_MAX_HOSTS), -ENOMEM
 */
int tapir_dns_add_host(struct tapir_dns *r, const char *name, const struct tapir_addr *a);
/* Forget every static name */
void tapir_dns_clear_hosts(struct tapir_dns *r);
/* Empty the cache */
void tapir_dns_flush_cache(struct tapir_dns *r);
/* Entries in the cache now */
size_t tapir_dns_cache_count(const struct tapir_dns *r);

/**
 * tapir_dns_resolve() - Start resolving a name
 * @r:      Resolver
 * @name:   Host name or address literal (copied)
 * @family: TAPIR_AF_INET (A), TAPIR_AF_INET6 (AAAA) or TAPIR_AF_UNSPEC (both)
 * @cb:     Called once with the result, from tapir_dns_poll() or the
 *          stack's input, never from this call
 * @ctx:    Passed to @cb
 * @q:      If not NULL, the handle for tapir_dns_cancel()
 *
 * Return: 0, -EINVAL (bad name or family), -EAGAIN (max_queries under way),
 *         -ENOMEM; on error @cb is never called
 */
int tapir_dns_resolve(struct tapir_dns *r, const char *name, enum tapir_family family,
		      tapir_dns_cb cb, void *ctx, struct tapir_dns_query **q);
/* As tapir_dns_resolve(), tagged with @owner for tapir_dns_cancel_owner() */
int tapir_dns_resolve_owner(struct tapir_dns *r, const void *owner, const char *name,
			    enum tapir_family family, tapir_dns_cb cb, void *ctx,
			    struct tapir_dns_query **q);
/* Cancel a query: its callback is never made.  NULL is allowed. */
void tapir_dns_cancel(struct tapir_dns_query *q);
/* Cancel every query tagged with @owner (the runtime's, after an app's stop) */
void tapir_dns_cancel_owner(struct tapir_dns *r, const void *owner);
/* Queries under way */
size_t tapir_dns_pending(const struct tapir_dns *r);

/* Run what is due at @now (retransmissions, timeouts, answers ready) */
void tapir_dns_poll(struct tapir_dns *r, uint64_t now);
/* Return: when tapir_dns_poll() must run next, or TAPIR_STACK_NO_DEADLINE */
uint64_t tapir_dns_next_deadline(const struct tapir_dns *r);

#endif /* TAPIR_DNS_H */
