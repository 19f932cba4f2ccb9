/*
 * ndp.c - Neighbor Discovery (RFC 4861): the neighbour cache and NUD, routers,
 *         on-link prefixes, redirects, and the NDP messages in
 *
 * Theory of operation
 *
 * Every NDP message must arrive with hop limit 255 (RFC 4861 7.1.1 etc.),
 * which no router forwards: nothing from off-link can pass.  It must have
 * code 0, a valid checksum (icmpv6.c) and valid options (wire/icmpv6.c:
 * length 0 or a wrong length of a known option refuse the message).
 *
 * The neighbour cache holds cfg.neigh_cache_size entries in an array (a
 * linear scan: a few hundred entries at most).  States and timers
 * (RFC 4861 7.3.2, 7.3.3):
 *   INCOMPLETE  multicast NS every RetransTimer (1 s), 3 at most, then the
 *               entry and its queued packets go (NDP_DROP_PENDING_TIMEOUT),
 *               each reported to its protocol's error function as an
 *               address unreachable (7.2.2);
 *               at most NDP_PENDING_PER_ADDR packets queue per entry and
 *               NDP_PENDING_BYTES in all (NDP_DROP_PENDING_FULL).
 *   REACHABLE   for ReachableTime (15..45 s), then STALE.
 *   STALE       used as is; sending to it moves it to DELAY.
 *   DELAY       5 s (DELAY_FIRST_PROBE_TIME), then PROBE.
 *   PROBE       unicast NS every RetransTimer, 3 at most, then deleted
 *               (NDP_EXPIRED).
 * A solicited NA makes an entry REACHABLE; an unsolicited NA, an NS's or an
 * RA's source link-layer option make or update one STALE.  An NA for an
 * address not in the cache is dropped (NDP_DROP_UNSOLICITED, 7.2.5).  When
 * the cache is full, the least recently used entry that is not INCOMPLETE
 * is replaced; if there is none, NDP_DROP_CACHE_FULL.
 *
 * Routers (RFC 4861 6.3.4): an RA must come from a link-local address.  Its
 * lifetime makes, refreshes or (0) removes a default-router entry; the
 * default router is the first one whose neighbour entry is not known to be
 * unreachable.  A static gateway from the config never expires.  Prefix
 * options with L make on-link prefixes (valid lifetime), with A go to SLAAC
 * (ipv6_addr.c).  The MTU option sets the link MTU if 1,280..device MTU.
 * Reachable Time, Retrans Timer and Cur Hop Limit are taken when non-zero.
 *
 * Redirects (RFC 4861 8.1) are accepted only from the link-local address of
 * the router we currently use for that destination, with a target that is
 * link-local or the destination itself; they make an entry (destination ->
 * target) of IPV6_MAX_REDIRECTS, the oldest replaced, for 10 min.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ipv6_internal.h"
#include "wire/bytes.h"
#include "wire/icmpv6.h"
#include "wire/ipv6.h"

#define MAX_MULTICAST_SOLICIT 3
#define MAX_UNICAST_SOLICIT 3
#define DELAY_FIRST_PROBE (5 * SEC6)
#define REDIRECT_LIFETIME (600 * SEC6)

int ndp_init(struct tapir_stack *st)
{
	struct ipv6_state *s = st->ip6;

	s->nneigh = s->cfg.neigh_cache_size ? s->cfg.neigh_cache_size : 256;
	s->neigh = calloc(s->nneigh, sizeof(*s->neigh));
	if (!s->neigh)
		return -ENOMEM;
	if (s->cfg.gateway_set)
		ndp_router_add(st, s->cfg.gateway, UINT64_MAX);
	return 0;
}

static void drop_pending(struct tapir_stack *st, struct ndp_neigh *n, bool count)
{
	struct ndp_pending *p = n->pending;

	while (p) {
		struct ndp_pending *next = p->next;

		if (count)
			CTR_INC(st, NDP_DROP_PENDING_TIMEOUT);
		st->ip6->pending_bytes -= p->len;
		free(p);
		p = next;
	}
	n->pending = NULL;
	n->npending = 0;
}

void ndp_free(struct tapir_stack *st)
{
	struct ipv6_state *s = st->ip6;

	for (size_t i = 0; i < s->nneigh; i++)
		drop_pending(st, &s->neigh[i], false);
	free(s->neigh);
	s->neigh = NULL;
}

static struct ndp_neigh *neigh_find(const struct tapir_stack *st, const uint8_t ip[16])
{
	struct ipv6_state *s = st->ip6;

	for (size_t i = 0; i < s->nneigh; i++)
		if (s->neigh[i].state && !memcmp(s->neigh[i].ip, ip, 16))
			return &s->neigh[i];
	return NULL;
}

/* A free slot, or the least recently used one that is not INCOMPLETE */
static struct ndp_neigh *neigh_alloc(struct tapir_stack *st, const uint8_t ip[16])
{
	struct ipv6_state *s = st->ip6;
	struct ndp_neigh *victim = NULL;

	for (size_t i = 0; i < s->nneigh; i++) {
		struct ndp_neigh *n = &s->neigh[i];

		if (!n->state) {
			victim = n;
			break;
		}
		if (n->state != TAPIR_NDP_INCOMPLETE && (!victim || n->used < victim->used))
			victim = n;
	}
	if (!victim) {
		CTR_INC(st, NDP_DROP_CACHE_FULL);
		return NULL;
	}
	drop_pending(st, victim, true);
	memset(victim, 0, sizeof(*victim));
	memcpy(victim->ip, ip, 16);
	victim->used = st->now;
	return victim;
}

static void neigh_delete(struct tapir_stack *st, struct ndp_neigh *n)
{
	drop_pending(st, n, true);
	if (n->router)
		ndp_router_remove(st, n->ip);
	memset(n, 0, sizeof(*n));
}

static uint64_t reachable_ns(const struct tapir_stack *st)
{
	return (uint64_t)st->ip6->reachable_ms * MS;
}

static uint64_t retrans_ns(const struct tapir_stack *st)
{
	return (uint64_t)st->ip6->retrans_ms * MS;
}

/* Send what waited for @n's MAC */
static void flush_pending(struct tapir_stack *st, struct ndp_neigh *n)
{
	struct ndp_pending *p = n->pending;

	n->pending = NULL;
	n->npending = 0;
	while (p) {
		struct ndp_pending *next = p->next;

		st->ip6->pending_bytes -= p->len;
		if (ipv6_send_pending(st, p, n->mac) == 0)
			CTR_INC(st, NDP_PENDING_SENT);
		free(p);
		p = next;
	}
}

/* ---- sending NS ---- */

struct bytes_fill {
	const uint8_t *b;
	size_t n;
};

static size_t bytes_fill(uint8_t *buf, size_t size, void *arg)
{
	struct bytes_fill *f = arg;

	(void)size;
	memcpy(buf, f->b, f->n);
	return f->n;
}

void ndp_send_ns(struct tapir_stack *st, const uint8_t target[16], const uint8_t *src,
		 const uint8_t dst[16])
{
	static const uint8_t any[16];
	struct tapir_ipv6_write_opts o = { .hop_limit = 255, .fragment = true };
	uint8_t msg[32], s[16];
	struct bytes_fill f = { msg, 0 };

	if (src) {
		memcpy(s, src, 16);
	} else if (ipv6_addr_is_unspecified(target)) {
		return;
	} else {
		memcpy(s, any, 16);
	}
	o.src = s;
	/* From :: (DAD) no source link-layer option (RFC 4861 4.3) */
	f.n = ndp_emit_ns(msg, target, ipv6_addr_is_unspecified(s) ? NULL : st->mac, s, dst);
	if (tapir_ipv6_write(st, &o, dst, IPV6_NH_ICMPV6, f.n, bytes_fill, &f, NULL, 0) == 0)
		CTR_INC(st, NDP_NS_SENT);
}

/* NS for a neighbour entry: multicast while INCOMPLETE, unicast in PROBE */
static void solicit(struct tapir_stack *st, struct ndp_neigh *n, bool multicast)
{
	uint8_t src[16], dst[16];

	if (tapir_ipv6_select_source(st, n->ip, src) < 0)
		return;
	if (multicast)
		ipv6_solicited_node(n->ip, dst);
	else
		memcpy(dst, n->ip, 16);
	ndp_send_ns(st, n->ip, src, dst);
}

static void send_na(struct tapir_stack *st, const uint8_t target[16], const uint8_t dst[16],
		    bool solicited)
{
	struct tapir_ipv6_write_opts o = { .hop_limit = 255, .fragment = true, .src = target };
	uint8_t msg[32];
	struct bytes_fill f = { msg, 0 };

	f.n = ndp_emit_na(msg, (solicited ? NDP_NA_SOLICITED : 0) | NDP_NA_OVERRIDE, target, st->mac,
			  target, dst);
	if (tapir_ipv6_write(st, &o, dst, IPV6_NH_ICMPV6, f.n, bytes_fill, &f, NULL, 0) == 0)
		CTR_INC(st, NDP_NA_SENT);
}

/* ---- resolution ---- */

int ndp_resolve(struct tapir_stack *st, const uint8_t ip[16], uint8_t mac[6])
{
	struct ndp_neigh *n = neigh_find(st, ip);

	if (n && n->state != TAPIR_NDP_INCOMPLETE) {
		memcpy(mac, n->mac, 6);
		n->used = st->now;
		if (n->state == TAPIR_NDP_STALE) {
			n->state = TAPIR_NDP_DELAY;
			n->timer = st->now + DELAY_FIRST_PROBE;
		}
		return 0;
	}
	if (n)
		return -EAGAIN;
	n = neigh_alloc(st, ip);
	if (!n)
		return -ENOBUFS;
	n->state = TAPIR_NDP_INCOMPLETE;
	n->probes = 1;
	n->timer = st->now + retrans_ns(st);
	solicit(st, n, true);
	return -EAGAIN;
}

int ndp_queue(struct tapir_stack *st, const uint8_t nexthop[16], struct ndp_pending *p)
{
	struct ndp_neigh *n = neigh_find(st, nexthop);
	struct ndp_pending **tail;

	if (!n || n->state != TAPIR_NDP_INCOMPLETE || n->npending >= NDP_PENDING_PER_ADDR ||
	    st->ip6->pending_bytes + p->len > NDP_PENDING_BYTES) {
		CTR_INC(st, NDP_DROP_PENDING_FULL);
		free(p);
		return -ENOBUFS;
	}
	for (tail = &n->pending; *tail; tail = &(*tail)->next)
		;
	*tail = p;
	n->npending++;
	st->ip6->pending_bytes += p->len;
	CTR_INC(st, NDP_PENDING_QUEUED);
	return 0;
}

/* Record @mac for @ip from an NS, RA or Redirect: new entries STALE (7.2.3) */
static void learn(struct tapir_stack *st, const uint8_t ip[16], const uint8_t mac[6])
{
	struct ndp_neigh *n = neigh_find(st, ip);

	if (!n) {
		n = neigh_alloc(st, ip);
		if (!n)
			return;
		memcpy(n->mac, mac, 6);
		n->state = TAPIR_NDP_STALE;
		CTR_INC(st, NDP_LEARNED);
		return;
	}
	if (n->state == TAPIR_NDP_INCOMPLETE) {
		memcpy(n->mac, mac, 6);
		n->state = TAPIR_NDP_STALE;
		n->timer = 0;
		CTR_INC(st, NDP_LEARNED);
		flush_pending(st, n);
	} else if (memcmp(n->mac, mac, 6)) {
		memcpy(n->mac, mac, 6);
		n->state = TAPIR_NDP_STALE;
		n->timer = 0;
		CTR_INC(st, NDP_UPDATED);
	}
}

/* ---- routers, prefixes, redirects ---- */

void ndp_router_add(struct tapir_stack *st, const uint8_t addr[16], uint64_t expires)
{
	struct ipv6_state *s = st->ip6;
	struct ndp_router *free_slot = NULL;

	for (size_t i = 0; i < IPV6_MAX_ROUTERS; i++) {
		struct ndp_router *r = &s->routers[i];

		if (r->expires && !memcmp(r->addr, addr, 16)) {
			if (r->expires != UINT64_MAX)
				r->expires = expires;
			return;
		}
		if (!r->expires && !free_slot)
			free_slot = r;
	}
	if (free_slot) {
		memcpy(free_slot->addr, addr, 16);
		free_slot->expires = expires;
	}
}

void ndp_router_remove(struct tapir_stack *st, const uint8_t addr[16])
{
	for (size_t i = 0; i < IPV6_MAX_ROUTERS; i++) {
		struct ndp_router *r = &st->ip6->routers[i];

		if (r->expires && r->expires != UINT64_MAX && !memcmp(r->addr, addr, 16))
			r->expires = 0;
	}
}

void ndp_onlink_add(struct tapir_stack *st, const uint8_t prefix[16], uint8_t len,
		    uint64_t expires)
{
	struct ipv6_state *s = st->ip6;
	struct ndp_onlink *slot = NULL;

	for (size_t i = 0; i < IPV6_MAX_PREFIXES; i++) {
		struct ndp_onlink *o = &s->onlink[i];

		if (o->expires && o->len == len && ipv6_prefix_eq(o->prefix, prefix, len)) {
			slot = o;
			break;
		}
		if (!o->expires && !slot)
			slot = o;
	}
	if (!slot)
		return;
	memset(slot->prefix, 0, 16);
	memcpy(slot->prefix, prefix, (len + 7) / 8);
	slot->len = len;
	slot->expires = expires;  /* 0 removes it */
}

/* The router in use: the first whose neighbour entry is not INCOMPLETE, else the first */
static const struct ndp_router *default_router(const struct tapir_stack *st)
{
	const struct ndp_router *first = NULL;

	for (size_t i = 0; i < IPV6_MAX_ROUTERS; i++) {
		const struct ndp_router *r = &st->ip6->routers[i];
		const struct ndp_neigh *n;

		if (r->expires <= st->now)
			continue;
		if (!first)
			first = r;
		n = neigh_find(st, r->addr);
		if (n && n->state != TAPIR_NDP_INCOMPLETE)
			return r;
	}
	return first;
}

bool ndp_on_link(const struct tapir_stack *st, const uint8_t dst[16])
{
	const struct ipv6_state *s = st->ip6;

	if (ipv6_addr_is_link_local(dst) || ipv6_addr_is_multicast(dst))
		return true;
	for (size_t i = 0; i < IPV6_MAX_ADDRS; i++) {
		const struct ipv6_addr_ent *a = &s->addrs[i];

		if (a->used && a->origin == TAPIR_IPV6_ORIGIN_STATIC &&
		    ipv6_prefix_eq(a->addr, dst, a->prefix_len))
			return true;
	}
	for (size_t i = 0; i < IPV6_MAX_PREFIXES; i++)
		if (s->onlink[i].expires > st->now &&
		    ipv6_prefix_eq(s->onlink[i].prefix, dst, s->onlink[i].len))
			return true;
	return false;
}

int ndp_next_hop(const struct tapir_stack *st, const uint8_t dst[16], uint8_t hop[16])
{
	const struct ipv6_state *s = st->ip6;
	const struct ndp_router *r;

	for (size_t i = 0; i < IPV6_MAX_REDIRECTS; i++)
		if (s->redirects[i].expires > st->now && !memcmp(s->redirects[i].dst, dst, 16)) {
			memcpy(hop, s->redirects[i].target, 16);
			return 0;
		}
	if (ndp_on_link(st, dst)) {
		memcpy(hop, dst, 16);
		return 0;
	}
	r = default_router(st);
	if (!r)
		return -ENETUNREACH;
	memcpy(hop, r->addr, 16);
	return 0;
}

/* ---- input ---- */

static void ns_input(struct tapir_stack *st, const struct tapir_ipv6_rx_meta *m,
		     const struct ndp_msg *n)
{
	struct ipv6_addr_ent *a = ipv6_addr_find(st, n->target);
	bool from_any = ipv6_addr_is_unspecified(m->src);

	if (from_any) {
		/* DAD (RFC 4861 7.1.1): to a solicited-node group, no SLLA */
		uint8_t sn[16];

		ipv6_solicited_node(n->target, sn);
		if (memcmp(m->dst, sn, 16) || n->opts.slla) {
			CTR_INC(st, NDP_DROP_BAD_SRC);
			return;
		}
	}
	if (!a || a->state == TAPIR_IPV6_ADDR_DUPLICATE) {
		CTR_INC(st, NDP_DROP_NOT_FOR_US);
		return;
	}
	if (a->state == TAPIR_IPV6_ADDR_TENTATIVE) {
		/* RFC 4862 5.4.3: someone else's DAD for our tentative address */
		if (from_any)
			ipv6_addr_dad_conflict(st, a);
		else
			CTR_INC(st, NDP_DROP_NOT_FOR_US);
		return;
	}
	if (from_any) {
		send_na(st, n->target, ipv6_all_nodes, false);  /* 7.2.4 */
		return;
	}
	if (n->opts.slla)
		learn(st, m->src, n->opts.slla);
	send_na(st, n->target, m->src, true);
}

static void na_input(struct tapir_stack *st, const struct tapir_ipv6_rx_meta *m,
		     const struct ndp_msg *msg)
{
	struct ipv6_addr_ent *a = ipv6_addr_find(st, msg->target);
	bool solicited = msg->flags & NDP_NA_SOLICITED, override = msg->flags & NDP_NA_OVERRIDE;
	const uint8_t *lla = msg->opts.tlla;
	struct ndp_neigh *n;

	if (solicited && m->multicast) {
		CTR_INC(st, NDP_DROP_MALFORMED);  /* 7.1.2 */
		return;
	}
	if (a) {
		/* Someone answers for one of our addresses (RFC 4862 5.4.4) */
		if (a->state == TAPIR_IPV6_ADDR_TENTATIVE)
			ipv6_addr_dad_conflict(st, a);
		else
			CTR_INC(st, NDP_DAD_CONFLICTS);
		return;
	}
	n = neigh_find(st, msg->target);
	if (!n) {
		CTR_INC(st, NDP_DROP_UNSOLICITED);
		return;
	}
	if (n->state == TAPIR_NDP_INCOMPLETE) {
		if (!lla)
			return;
		memcpy(n->mac, lla, 6);
		n->state = solicited ? TAPIR_NDP_REACHABLE : TAPIR_NDP_STALE;
		n->timer = solicited ? st->now + reachable_ns(st) : 0;
		n->router = msg->flags & NDP_NA_ROUTER;
		CTR_INC(st, NDP_LEARNED);
		flush_pending(st, n);
		return;
	}
	/* 7.2.5: an entry we have */
	if (!override && lla && memcmp(lla, n->mac, 6)) {
		if (n->state == TAPIR_NDP_REACHABLE) {
			n->state = TAPIR_NDP_STALE;
			n->timer = 0;
		}
		return;
	}
	if (lla && memcmp(lla, n->mac, 6)) {
		memcpy(n->mac, lla, 6);
		CTR_INC(st, NDP_UPDATED);
		if (!solicited) {
			n->state = TAPIR_NDP_STALE;
			n->timer = 0;
		}
	}
	if (solicited) {
		n->state = TAPIR_NDP_REACHABLE;
		n->timer = st->now + reachable_ns(st);
	}
	if (n->router && !(msg->flags & NDP_NA_ROUTER))
		ndp_router_remove(st, n->ip);
	n->router = msg->flags & NDP_NA_ROUTER;
}

static void ra_input(struct tapir_stack *st, const struct tapir_ipv6_rx_meta *m,
		     const struct ndp_msg *msg)
{
	struct ipv6_state *s = st->ip6;
	struct ndp_neigh *n;

	if (!ipv6_addr_is_link_local(m->src)) {
		CTR_INC(st, NDP_DROP_BAD_SRC);  /* 6.1.2 */
		return;
	}
	CTR_INC(st, NDP_RA_ACCEPTED);
	if (msg->cur_hop_limit)
		s->hop_limit = msg->cur_hop_limit;
	if (msg->reachable_ms && msg->reachable_ms <= 3600000 &&
	    msg->reachable_ms != s->base_reachable_ms) {
		s->base_reachable_ms = msg->reachable_ms;
		s->reachable_ms = s->base_reachable_ms / 2 + stack_random32(st) % s->base_reachable_ms;
	}
	if (msg->retrans_ms)
		s->retrans_ms = msg->retrans_ms < 100 ? 100 : msg->retrans_ms;
	if (msg->opts.slla)
		learn(st, m->src, msg->opts.slla);
	n = neigh_find(st, m->src);
	if (n)
		n->router = true;
	if (msg->router_lifetime)
		ndp_router_add(st, m->src, st->now + (uint64_t)msg->router_lifetime * SEC6);
	else
		ndp_router_remove(st, m->src);
	if (msg->opts.mtu >= IPV6_MIN_MTU && msg->opts.mtu <= st->mtu)
		s->link_mtu = msg->opts.mtu;
	for (size_t i = 0; i < msg->opts.nprefix; i++) {
		const struct ndp_prefix *p = &msg->opts.prefix[i];

		if (ipv6_addr_is_link_local(p->prefix) || ipv6_addr_is_multicast(p->prefix) ||
		    p->prefix_len > 128)
			continue;
		if (p->flags & NDP_PI_ONLINK) {
			uint64_t exp = p->valid_lifetime == 0xffffffffu ? UINT64_MAX :
				       st->now + (uint64_t)p->valid_lifetime * SEC6;

			ndp_onlink_add(st, p->prefix, p->prefix_len, p->valid_lifetime ? exp : 0);
		}
		if ((p->flags & NDP_PI_AUTO) && s->cfg.slaac &&
		    p->preferred_lifetime <= p->valid_lifetime)
			ipv6_addr_slaac(st, p->prefix, p->prefix_len, p->valid_lifetime,
					p->preferred_lifetime);
	}
	if (msg->opts.nrdnss) {
		s->nrdnss = msg->opts.nrdnss;
		for (size_t i = 0; i < s->nrdnss; i++)
			memcpy(s->rdnss[i], msg->opts.rdnss[i], 16);
		s->rdnss_expires = st->now + (uint64_t)msg->opts.rdnss_lifetime * SEC6;
	}
}

static void redirect_input(struct tapir_stack *st, const struct tapir_ipv6_rx_meta *m,
			   const struct ndp_msg *msg)
{
	struct ipv6_state *s = st->ip6;
	struct ndp_redirect *slot = &s->redirects[0];
	uint8_t hop[16];

	/* 8.1: from the router we use for the destination; a sane target */
	if (!ipv6_addr_is_link_local(m->src) || ndp_next_hop(st, msg->dest, hop) < 0 ||
	    memcmp(hop, m->src, 16) ||
	    (!ipv6_addr_is_link_local(msg->target) && memcmp(msg->target, msg->dest, 16))) {
		CTR_INC(st, NDP_DROP_REDIRECT);
		return;
	}
	for (size_t i = 0; i < IPV6_MAX_REDIRECTS; i++) {
		struct ndp_redirect *r = &s->redirects[i];

		if (r->expires > st->now && !memcmp(r->dst, msg->dest, 16)) {
			slot = r;
			break;
		}
		if (r->expires < slot->expires)
			slot = r;
	}
	memcpy(slot->dst, msg->dest, 16);
	memcpy(slot->target, msg->target, 16);
	slot->expires = st->now + REDIRECT_LIFETIME;
	if (msg->opts.tlla)
		learn(st, msg->target, msg->opts.tlla);
	CTR_INC(st, NDP_REDIRECTS_ACCEPTED);
}

void ndp_input(struct tapir_stack *st, const struct tapir_ipv6_rx_meta *m, const uint8_t *msg,
	       size_t len)
{
	struct ndp_msg n;

	CTR_INC(st, NDP_RX);
	if (m->hop_limit != 255) {
		CTR_INC(st, NDP_DROP_HOP_LIMIT);
		return;
	}
	if (ndp_parse(&n, msg, len) < 0) {
		CTR_INC(st, NDP_DROP_MALFORMED);
		return;
	}
	if (ipv6_addr_is_unspecified(m->src) && n.type != ICMPV6_NEIGHBOR_SOLICIT &&
	    n.type != ICMPV6_ROUTER_SOLICIT) {
		CTR_INC(st, NDP_DROP_BAD_SRC);
		return;
	}
	switch (n.type) {
	case ICMPV6_NEIGHBOR_SOLICIT:
		ns_input(st, m, &n);
		break;
	case ICMPV6_NEIGHBOR_ADVERT:
		na_input(st, m, &n);
		break;
	case ICMPV6_ROUTER_ADVERT:
		ra_input(st, m, &n);
		break;
	case ICMPV6_REDIRECT:
		redirect_input(st, m, &n);
		break;
	default:
		break;  /* RS: hosts ignore them (6.2.6) */
	}
}

/*
 * Resolution failed (RFC 4861 7.2.2): the entry goes, and each packet that
 * waited for it is reported to its protocol as a Destination Unreachable,
 * code 3 (address unreachable), from ourselves.  The entry is gone before
 * the first report, so a protocol may send again from its error function.
 */
static void resolution_failed(struct tapir_stack *st, struct ndp_neigh *n)
{
	struct ndp_pending *p = n->pending;

	n->pending = NULL;
	n->npending = 0;
	neigh_delete(st, n);
	while (p) {
		struct ndp_pending *next = p->next;
		const struct ipv6_proto *h = &st->ip6->protos[p->proto];

		CTR_INC(st, NDP_DROP_PENDING_TIMEOUT);
		st->ip6->pending_bytes -= p->len;
		if (h->err) {
			struct tapir_ipv6_icmp_err e = {
				.from = p->src, .type = ICMPV6_DEST_UNREACH, .code = ICMPV6_UNREACH_ADDR,
				.src = p->src, .dst = p->dst, .l4 = p->data, .l4_len = p->len,
			};

			h->err(h->ctx, &e);
		}
		free(p);
		p = next;
	}
}

/* ---- timers ---- */

void ndp_poll(struct tapir_stack *st)
{
	struct ipv6_state *s = st->ip6;

	for (size_t i = 0; i < s->nneigh; i++) {
		struct ndp_neigh *n = &s->neigh[i];

		if (!n->state || !n->timer || n->timer > st->now)
			continue;
		switch (n->state) {
		case TAPIR_NDP_INCOMPLETE:
			if (n->probes >= MAX_MULTICAST_SOLICIT) {
				resolution_failed(st, n);
				break;
			}
			n->probes++;
			n->timer = st->now + retrans_ns(st);
			solicit(st, n, true);
			break;
		case TAPIR_NDP_REACHABLE:
			n->state = TAPIR_NDP_STALE;
			n->timer = 0;
			break;
		case TAPIR_NDP_DELAY:
			n->state = TAPIR_NDP_PROBE;
			n->probes = 1;
			n->timer = st->now + retrans_ns(st);
			solicit(st, n, false);
			break;
		case TAPIR_NDP_PROBE:
			if (n->probes >= MAX_UNICAST_SOLICIT) {
				CTR_INC(st, NDP_EXPIRED);
				neigh_delete(st, n);
				break;
			}
			n->probes++;
			n->timer = st->now + retrans_ns(st);
			solicit(st, n, false);
			break;
		default:
			n->timer = 0;
			break;
		}
	}
	for (size_t i = 0; i < IPV6_MAX_ROUTERS; i++)
		if (s->routers[i].expires && s->routers[i].expires <= st->now)
			s->routers[i].expires = 0;
	for (size_t i = 0; i < IPV6_MAX_PREFIXES; i++)
		if (s->onlink[i].expires && s->onlink[i].expires <= st->now)
			s->onlink[i].expires = 0;
	for (size_t i = 0; i < IPV6_MAX_REDIRECTS; i++)
		if (s->redirects[i].expires && s->redirects[i].expires <= st->now)
			s->redirects[i].expires = 0;
}

uint64_t ndp_next_deadline(const struct tapir_stack *st)
{
	const struct ipv6_state *s = st->ip6;
	uint64_t d = TAPIR_STACK_NO_DEADLINE;

	for (size_t i = 0; i < s->nneigh; i++)
		if (s->neigh[i].state && s->neigh[i].timer && s->neigh[i].timer < d)
			d = s->neigh[i].timer;
	for (size_t i = 0; i < IPV6_MAX_ROUTERS; i++)
		if (s->routers[i].expires && s->routers[i].expires < d)
			d = s->routers[i].expires;
	for (size_t i = 0; i < IPV6_MAX_PREFIXES; i++)
		if (s->onlink[i].expires && s->onlink[i].expires < d)
			d = s->onlink[i].expires;
	for (size_t i = 0; i < IPV6_MAX_REDIRECTS; i++)
		if (s->redirects[i].expires && s->redirects[i].expires < d)
			d = s->redirects[i].expires;
	return d;
}

/* ---- listings ---- */

static const char *const ndp_state_names[] = {
	[0] = "NONE", [TAPIR_NDP_INCOMPLETE] = "INCOMPLETE", [TAPIR_NDP_REACHABLE] = "REACHABLE",
	[TAPIR_NDP_STALE] = "STALE", [TAPIR_NDP_DELAY] = "DELAY", [TAPIR_NDP_PROBE] = "PROBE",
};

const char *tapir_ndp_state_name(unsigned state)
{
	return state < sizeof(ndp_state_names) / sizeof(ndp_state_names[0]) ?
	       ndp_state_names[state] : "?";
}

void tapir_ndp_flush(struct tapir_stack *st)
{
	if (!st->ip6)
		return;
	for (size_t i = 0; i < st->ip6->nneigh; i++)
		if (st->ip6->neigh[i].state)
			neigh_delete(st, &st->ip6->neigh[i]);
}

size_t tapir_ndp_list(const struct tapir_stack *st, struct tapir_ndp_entry *out, size_t max)
{
	size_t k = 0;

	if (!st->ip6)
		return 0;
	for (size_t i = 0; i < st->ip6->nneigh && k < max; i++) {
		const struct ndp_neigh *n = &st->ip6->neigh[i];

		if (!n->state)
			continue;
		memcpy(out[k].ip, n->ip, 16);
		memcpy(out[k].mac, n->mac, 6);
		out[k].state = n->state;
		out[k].router = n->router;
		k++;
	}
	return k;
}

size_t tapir_ipv6_router_list(const struct tapir_stack *st, struct tapir_ipv6_router_info *out,
			      size_t max)
{
	const struct ndp_router *def;
	size_t k = 0;

	if (!st->ip6)
		return 0;
	def = default_router(st);
	for (size_t i = 0; i < IPV6_MAX_ROUTERS && k < max; i++) {
		const struct ndp_router *r = &st->ip6->routers[i];

		if (r->expires <= st->now)
			continue;
		memcpy(out[k].addr, r->addr, 16);
		out[k].expires = r->expires;
		out[k].is_default = r == def;
		k++;
	}
	return k;
}

size_t tapir_ipv6_prefix_list(const struct tapir_stack *st, struct tapir_ipv6_prefix_info *out,
			      size_t max)
{
	size_t k = 0;

	if (!st->ip6)
		return 0;
	for (size_t i = 0; i < IPV6_MAX_ADDRS && k < max; i++) {
		const struct ipv6_addr_ent *a = &st->ip6->addrs[i];
		bool dup = false;

		if (!a->used || a->origin != TAPIR_IPV6_ORIGIN_STATIC)
			continue;
		memset(&out[k], 0, sizeof(out[k]));
		for (unsigned b = 0; b < a->prefix_len; b++)
			out[k].prefix[b / 8] |= a->addr[b / 8] & (0x80 >> (b % 8));
		out[k].len = a->prefix_len;
		for (size_t j = 0; j < k; j++)
			dup |= out[j].len == out[k].len && !memcmp(out[j].prefix, out[k].prefix, 16);
		if (dup)
			continue;
		out[k].expires = UINT64_MAX;
		k++;
	}
	for (size_t i = 0; i < IPV6_MAX_PREFIXES && k < max; i++) {
		const struct ndp_onlink *o = &st->ip6->onlink[i];

		if (o->expires <= st->now)
			continue;
		memcpy(out[k].prefix, o->prefix, 16);
		out[k].len = o->len;
		out[k].from_ra = true;
		out[k].expires = o->expires;
		k++;
	}
	return k;
}
