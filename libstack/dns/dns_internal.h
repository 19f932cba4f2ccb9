/*
 * dns_internal.h - the resolver's structures, shared by its files
 *
 * resolver.c owns the API, the queries (one per tapir_dns_resolve()), the
 * search rule, the static hosts and the delivery of results from
 * tapir_dns_poll(); lookup.c owns a lookup (one name, one type: the cache,
 * then UDP transactions with retransmission, the TCP fallback, matching and
 * the reading of answers); cache.c the bounded answer cache.
 */
#ifndef TAPIR_DNS_INTERNAL_H
#define TAPIR_DNS_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tapir/dns.h"
#include "tapir/tcp.h"
#include "wire/dns.h"

#define DNS_QUERY_MAX 512               /* a query we send: name + header + OPT */
#define DNS_TTL_MAX (24u * 3600)        /* positive answers kept at most a day */
#define DNS_NEG_TTL_MAX (3u * 3600)     /* negative ones three hours (RFC 2308 5) */
#define DNS_PORT_TRIES 16               /* random ports tried before giving up */

struct tapir_dns;
struct dns_query;

/* One cached answer: (name, type) -> addresses or a negative answer */
struct dns_cache_entry {
	struct dns_name name;
	uint16_t qtype;
	bool used;
	int err;                        /* 0, TAPIR_DNS_ENXDOMAIN or TAPIR_DNS_ENODATA */
	uint8_t n;
	struct tapir_addr addrs[TAPIR_DNS_MAX_ADDRS];
	struct dns_name canon;
	uint64_t expires;               /* ns, the resolver's clock */
};

struct dns_cache {
	struct dns_cache_entry *e;
	size_t cap, count;
};

enum lookup_state { LK_IDLE, LK_UDP, LK_TCP_CONNECT, LK_TCP, LK_DONE };

/* One name, one type: the cache, then the servers */
struct dns_lookup {
	struct dns_query *q;
	enum lookup_state state;
	uint16_t qtype;
	struct dns_name name;           /* the candidate name (the cache key) */
	struct dns_name cur;            /* the name asked now (moves along CNAMEs) */
	unsigned cnames;                /* CNAME links followed so far */
	uint32_t ttl;                   /* smallest TTL along the chain */
	/* the transaction */
	uint16_t id, port;              /* port: 0 when not listening */
	unsigned try;                   /* tries so far, over servers and rounds */
	struct tapir_addr server;       /* the server of the current try */
	struct tapir_addr sent_to[TAPIR_DNS_MAX_SERVERS];
	unsigned nsent_to;
	uint64_t deadline;
	int srv_err;                    /* last server error (SERVFAIL, REFUSED) */
	bool no_edns;                   /* a FORMERR to our OPT: ask without it */
	uint8_t msg[DNS_QUERY_MAX];
	size_t msglen;
	struct tapir_tcp_flow *flow;
	uint8_t *tcpbuf;                /* 2 + 65535 bytes while over TCP */
	size_t tcplen;
	/* the result */
	int err;
	uint8_t n;
	struct tapir_addr addrs[TAPIR_DNS_MAX_ADDRS];
	uint32_t ttls[TAPIR_DNS_MAX_ADDRS];
	struct dns_name canon;
	bool from_cache;
};

struct dns_query {
	struct tapir_dns *r;
	struct dns_query *next, **pprev;
	const void *owner;
	tapir_dns_cb cb;
	void *ctx;
	char name[DNS_NAME_TEXT_MAX];
	enum tapir_family family;
	struct dns_name cand[TAPIR_DNS_MAX_SEARCH + 1];
	unsigned ncand, icand;
	struct dns_lookup lk[2];
	unsigned nlk;
	bool to_start;                  /* resolve() queued it for the next poll */
	bool starting;                  /* start_candidate() is running */
	bool nodata;                    /* a candidate existed without the type */
	int srv_err;                    /* first server error of a candidate */
	/* the result, delivered from tapir_dns_poll() */
	bool done;
	struct tapir_dns_result res;
	struct tapir_addr addrs[TAPIR_DNS_MAX_ADDRS];
	uint32_t ttls[TAPIR_DNS_MAX_ADDRS];
	char canon[DNS_NAME_TEXT_MAX];
};

struct dns_host {
	struct dns_name name;
	struct tapir_addr addr;
};

struct tapir_dns {
	struct tapir_stack *st;
	struct tapir_dns_config cfg;
	uint64_t now;
	struct tapir_addr servers[TAPIR_DNS_SRC__COUNT][TAPIR_DNS_MAX_SERVERS];
	size_t nservers[TAPIR_DNS_SRC__COUNT];
	struct dns_name search[TAPIR_DNS_SRC__COUNT][TAPIR_DNS_MAX_SEARCH];
	size_t nsearch[TAPIR_DNS_SRC__COUNT];
	struct dns_host *hosts;
	size_t nhosts, hosts_cap;
	struct dns_cache cache;
	struct dns_query *queries;
	size_t nqueries;
};

/* resolver.c */
/* The resolver's time: the later of the last tapir_dns_poll()'s and the stack's */
uint64_t dns_now(struct tapir_dns *r);
void dns_random(struct tapir_dns *r, void *buf, size_t len);
/* The servers in use that the stack can reach: IPv4 ones, IPv6 ones when it
 * has IPv6.  Return: how many (at most TAPIR_DNS_MAX_SERVERS) */
size_t dns_usable_servers(const struct tapir_dns *r, struct tapir_addr *out);
/* A lookup has finished (lk->state LK_DONE): move its query on */
void dns_query_lookup_done(struct dns_query *q);
void dns_ctr_inc(struct tapir_dns *r, int ctr);

/* lookup.c */
void dns_lookup_start(struct dns_lookup *lk, struct dns_query *q, const struct dns_name *name,
		      uint16_t qtype);
/* Release the port and any TCP flow (no further events) */
void dns_lookup_stop(struct dns_lookup *lk);
void dns_lookup_poll(struct dns_lookup *lk, uint64_t now);
uint64_t dns_lookup_deadline(const struct dns_lookup *lk);

/* cache.c */
int dns_cache_init(struct dns_cache *c, size_t cap);
void dns_cache_free(struct dns_cache *c);
void dns_cache_clear(struct dns_cache *c);
/* Return: the live entry for (@name, @qtype) or NULL */
const struct dns_cache_entry *dns_cache_get(struct dns_cache *c, uint64_t now,
					    const struct dns_name *name, uint16_t qtype);
/* Store @e (its expires set by the caller).  Return: whether an entry was evicted */
bool dns_cache_put(struct dns_cache *c, uint64_t now, const struct dns_cache_entry *e);

#endif /* TAPIR_DNS_INTERNAL_H */
