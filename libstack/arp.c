/*
 * arp.c - ARP (RFC 826) for Ethernet/IPv4: cache, requests, replies, queueing
 *
 * Theory of operation
 *
 * The cache is a fixed array of cfg.arp_cache_size slots indexed by a hash
 * of the IPv4 address (chained through slot indices).  A slot is FREE,
 * PENDING (we asked and are waiting; datagrams for it are queued) or
 * RESOLVED (MAC known until "expires").
 *
 * Learning follows RFC 826's merge rule: any ARP packet whose sender is in
 * the cache updates (and refreshes) the entry; a new entry is only created
 * when the packet is addressed to us (and the sender is on our link).  We
 * answer requests for our own address only, and never learn from group or
 * zero MACs, from group, loopback or broadcast IPs, or from a sender using
 * our address (a conflict: counted).
 *
 * Requests: at most one per second per address.  A pending entry is asked
 * for again every second, three times; then its queued datagrams are dropped
 * and the slot freed.  A resolved entry used within the last sixth of its
 * life is refreshed with a unicast request (RFC 1122 2.3.2.1), so busy
 * neighbours do not expire while in use.  Expired entries are freed.
 *
 * Resolution from a datagram (arp_ip_seen()): a unicast IPv4 datagram to our
 * address from an on-link source whose entry is PENDING resolves it with the
 * frame's source MAC and sends what was queued (arp.learned_frame): the
 * peer just reached us from that MAC, so our question is answered (the
 * spirit of RFC 826's merge for a packet addressed to us).  Without it, a
 * burst of SYNs from a new source address (a client with many addresses,
 * which resolved our address once) queued more SYN-ACKs than
 * arp_pending_per_addr during the round trip and the rest were dropped.
 * Only a pending entry is completed: resolved entries change only by ARP,
 * and no entry is made from a datagram.
 *
 * Queueing: up to cfg.arp_pending_per_addr datagrams per pending address
 * (the oldest is dropped beyond that) and cfg.arp_pending_bytes in all; they
 * are sent in order when the reply arrives.
 *
 * When the cache is full, the resolved entry closest to expiry is evicted,
 * unless pending entries hold half the cache or more: then the pending entry
 * asked for longest ago goes, its queued datagrams counted as
 * arp.drop.cache_full (so a flood from spoofed on-link sources cannot lock
 * real neighbours out).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "wire/arp.h"
#include "wire/ipv4.h"
#include "wire/eth.h"

#define ARP_RETRY_NS TAPIR_STACK_NS_PER_SEC
#define ARP_MAX_REQUESTS 3

static size_t hash_ip(const struct arp_table *t, uint32_t ip)
{
	uint32_t h = ip * 2654435761u;

	return (h ^ (h >> 16)) & (t->nbuckets - 1);
}

int arp_init(struct tapir_stack *st)
{
	struct arp_table *t = &st->arp;
	size_t nb = 1;

	while (nb < st->cfg.arp_cache_size)
		nb <<= 1;
	t->nslots = st->cfg.arp_cache_size;
	t->nbuckets = nb;
	t->slots = calloc(t->nslots, sizeof(*t->slots));
	t->buckets = malloc(nb * sizeof(*t->buckets));
	if (!t->slots || !t->buckets) {
		free(t->slots);
		free(t->buckets);
		return -ENOMEM;
	}
	for (size_t i = 0; i < nb; i++)
		t->buckets[i] = -1;
	t->deadline = TAPIR_STACK_NO_DEADLINE;
	return 0;
}

static void pending_drop_all(struct tapir_stack *st, struct arp_slot *s,
			     enum tapir_stack_counter why)
{
	struct arp_pending *p = s->pending, *next;

	for (; p; p = next) {
		next = p->next;
		st->arp.pending_bytes -= p->len;
		st->ctr[why]++;
		free(p);
	}
	s->pending = NULL;
	s->npending = 0;
}

void arp_free(struct tapir_stack *st)
{
	struct arp_table *t = &st->arp;

	if (t->slots)
		for (size_t i = 0; i < t->nslots; i++)
			pending_drop_all(st, &t->slots[i], TAPIR_CTR_ARP_DROP_PENDING_TIMEOUT);
	free(t->slots);
	free(t->buckets);
	memset(t, 0, sizeof(*t));
}

static struct arp_slot *slot_find(const struct tapir_stack *st, uint32_t ip)
{
	const struct arp_table *t = &st->arp;

	for (int32_t i = t->buckets[hash_ip(t, ip)]; i >= 0; i = t->slots[i].hash_next)
		if (t->slots[i].ip == ip)
			return &t->slots[i];
	return NULL;
}

static void slot_release(struct tapir_stack *st, struct arp_slot *s)
{
	struct arp_table *t = &st->arp;
	int32_t idx = (int32_t)(s - t->slots);
	int32_t *link = &t->buckets[hash_ip(t, s->ip)];

	while (*link >= 0 && *link != idx)
		link = &t->slots[*link].hash_next;
	if (*link == idx)
		*link = s->hash_next;
	pending_drop_all(st, s, TAPIR_CTR_ARP_DROP_PENDING_TIMEOUT);
	memset(s, 0, sizeof(*s));
	t->used--;
}

static struct arp_slot *slot_new(struct tapir_stack *st, uint32_t ip)
{
	struct arp_table *t = &st->arp;
	struct arp_slot *s = NULL, *victim = NULL;
	size_t h;

	if (t->used == t->nslots) {
		struct arp_slot *oldest_pending = NULL;
		size_t npending = 0;

		for (size_t i = 0; i < t->nslots; i++) {
			struct arp_slot *c = &t->slots[i];

			if (c->state == ARP_RESOLVED && (!victim || c->expires < victim->expires))
				victim = c;
			if (c->state == ARP_PENDING) {
				npending++;
				if (!oldest_pending || c->last_request < oldest_pending->last_request)
					oldest_pending = c;
			}
		}
		/*
		 * Datagrams from spoofed on-link sources make pending entries
		 * that nobody will answer.  Refusing new addresses once every
		 * slot is pending would lock out real neighbours (the gateway)
		 * until the flood's entries time out, so pending entries may
		 * hold at most half the cache: beyond that the one asked for
		 * longest ago goes, with its queued datagrams.
		 */
		if (npending * 2 >= t->nslots || !victim) {
			pending_drop_all(st, oldest_pending, TAPIR_CTR_ARP_DROP_CACHE_FULL);
			slot_release(st, oldest_pending);
		} else {
			slot_release(st, victim);
			CTR_INC(st, ARP_EXPIRED);
		}
	}
	for (size_t i = 0; i < t->nslots; i++) {
		if (t->slots[i].state == ARP_FREE) {
			s = &t->slots[i];
			break;
		}
	}
	if (!s)
		return NULL;
	memset(s, 0, sizeof(*s));
	s->ip = ip;
	h = hash_ip(t, ip);
	s->hash_next = t->buckets[h];
	t->buckets[h] = (int32_t)(s - t->slots);
	t->used++;
	return s;
}

static void deadline_lower(struct tapir_stack *st, uint64_t when)
{
	if (when < st->arp.deadline)
		st->arp.deadline = when;
}

struct arp_fill_ctx {
	const struct arp_repr *r;
};

static size_t arp_fill(uint8_t *buf, size_t size, void *arg)
{
	struct arp_fill_ctx *c = arg;

	(void)size;
	arp_repr_emit(c->r, buf);
	return ARP_LEN;
}

static int arp_send(struct tapir_stack *st, uint16_t op, const uint8_t *eth_dst, const uint8_t *tha,
		    uint32_t tpa, uint32_t spa)
{
	struct arp_repr r = { .op = op, .spa = spa, .tpa = tpa };
	struct arp_fill_ctx c = { &r };

	memcpy(r.sha, st->mac, 6);
	if (tha)
		memcpy(r.tha, tha, 6);
	return tapir_eth_write(st, NULL, eth_dst, TAPIR_ETHERTYPE_ARP, ARP_LEN, arp_fill, &c);
}

/* Ask for @s->ip: broadcast, or unicast to @s->mac when refreshing. */
static void arp_request(struct tapir_stack *st, struct arp_slot *s, bool unicast)
{
	s->last_request = st->now;
	s->requested_once = true;
	if (arp_send(st, ARP_OP_REQUEST, unicast ? s->mac : eth_broadcast, NULL, s->ip,
		     st->cfg.addr) == 0)
		CTR_INC(st, ARP_REQUESTS_SENT);
	deadline_lower(st, st->now + ARP_RETRY_NS);
}

void arp_probe(struct tapir_stack *st, uint32_t target)
{
	if (arp_send(st, ARP_OP_REQUEST, eth_broadcast, NULL, target, 0) == 0)
		CTR_INC(st, ARP_REQUESTS_SENT);
}

void arp_announce(struct tapir_stack *st)
{
	if (arp_send(st, ARP_OP_REQUEST, eth_broadcast, NULL, st->cfg.addr, st->cfg.addr) == 0)
		CTR_INC(st, ARP_GRATUITOUS_SENT);
}

static void pending_send(struct tapir_stack *st, struct arp_slot *s)
{
	struct arp_pending *p = s->pending, *next;

	s->pending = NULL;
	s->npending = 0;
	for (; p; p = next) {
		struct tapir_stack_iov iov = { p->data, p->len };

		next = p->next;
		st->arp.pending_bytes -= p->len;
		if (tapir_ipv4_write(st, &p->opts, p->dst, p->proto, 0, NULL, NULL, &iov, 1) == 0)
			CTR_INC(st, ARP_PENDING_SENT);
		free(p);
	}
}

static bool sender_ok(const struct tapir_stack *st, const struct arp_repr *r)
{
	if (eth_addr_is_multicast(r->sha) || eth_addr_is_zero(r->sha))
		return false;
	if (r->spa == 0)
		return true; /* an ARP probe (RFC 5227): answered, never learned */
	if (ipv4_addr_is_multicast(r->spa) || ipv4_addr_is_loopback(r->spa) ||
	    ipv4_addr_is_reserved(r->spa) || r->spa == IPV4_ADDR_BROADCAST ||
	    (st->bcast && r->spa == st->bcast))
		return false;
	return true;
}

void arp_input(struct tapir_stack *st, const uint8_t *payload, size_t len)
{
	struct arp_repr r;
	struct arp_slot *s;
	bool merged = false, for_us;

	CTR_INC(st, ARP_RX);
	if (arp_repr_parse(&r, payload, len) < 0) {
		CTR_INC(st, ARP_DROP_MALFORMED);
		return;
	}
	dhcp_arp_input(st, r.op, r.sha, r.spa, r.tpa);
	if (!st->cfg.addr) {
		/* No address (DHCP under way): nothing to answer or learn */
		CTR_INC(st, ARP_DROP_NOT_FOR_US);
		return;
	}
	if (!sender_ok(st, &r)) {
		CTR_INC(st, ARP_DROP_BAD_SENDER);
		return;
	}
	if (r.spa == st->cfg.addr) {
		/* Someone else claims our address (or our own frame looped back). */
		CTR_INC(st, ARP_DROP_CONFLICT);
		char mac[ETH_ADDR_STRLEN];

		eth_addr_format(r.sha, mac);
		stack_log(st, TAPIR_STACK_LOG_WARN, "arp: address conflict: %s claims our address", mac);
		return;
	}
	for_us = r.tpa == st->cfg.addr;
	if (r.spa != 0) {
		s = slot_find(st, r.spa);
		if (s) {
			bool was_pending = s->state == ARP_PENDING;

			memcpy(s->mac, r.sha, 6);
			s->state = ARP_RESOLVED;
			s->requests = 0;
			s->expires = st->now + st->cfg.arp_timeout_ns;
			deadline_lower(st, s->expires);
			merged = true;
			CTR_INC(st, ARP_UPDATED);
			if (was_pending)
				pending_send(st, s);
		}
		if (for_us && !merged && stack_on_link(st, r.spa)) {
			s = slot_new(st, r.spa);
			if (s) {
				memcpy(s->mac, r.sha, 6);
				s->state = ARP_RESOLVED;
				s->expires = st->now + st->cfg.arp_timeout_ns;
				deadline_lower(st, s->expires);
				CTR_INC(st, ARP_LEARNED);
			}
		}
	}
	if (!for_us) {
		if (!merged)
			CTR_INC(st, ARP_DROP_NOT_FOR_US);
		return;
	}
	if (r.op == ARP_OP_REQUEST) {
		if (arp_send(st, ARP_OP_REPLY, r.sha, r.sha, r.spa, st->cfg.addr) == 0)
			CTR_INC(st, ARP_REPLIES_SENT);
	}
}

void arp_ip_seen(struct tapir_stack *st, const uint8_t sha[6], const uint8_t *ip, size_t len)
{
	struct arp_slot *s;
	uint32_t spa;

	if (len < 20 || ip[0] >> 4 != 4 || !st->cfg.addr || get_be32(ip + 16) != st->cfg.addr)
		return;
	spa = get_be32(ip + 12);
	if (spa == st->cfg.addr || !stack_on_link(st, spa) || eth_addr_is_zero(sha))
		return;
	s = slot_find(st, spa);
	if (!s || s->state != ARP_PENDING)
		return;
	memcpy(s->mac, sha, 6);
	s->state = ARP_RESOLVED;
	s->requests = 0;
	s->expires = st->now + st->cfg.arp_timeout_ns;
	deadline_lower(st, s->expires);
	CTR_INC(st, ARP_LEARNED_FRAME);
	pending_send(st, s);
}

int arp_resolve(struct tapir_stack *st, uint32_t ip, uint8_t mac[6])
{
	struct arp_slot *s = slot_find(st, ip);

	if (s && s->state == ARP_RESOLVED && s->expires > st->now) {
		memcpy(mac, s->mac, 6);
		/* In use near the end of its life: refresh, at most once a second. */
		if (s->expires - st->now < st->cfg.arp_timeout_ns / 6 &&
		    st->now - s->last_request >= ARP_RETRY_NS)
			arp_request(st, s, true);
		return 0;
	}
	return -EAGAIN;
}

int arp_queue(struct tapir_stack *st, uint32_t nexthop, const struct tapir_ipv4_write_opts *opts,
	      uint32_t dst, uint8_t proto, const struct tapir_stack_iov *pieces, int npieces,
	      size_t len)
{
	struct arp_slot *s = slot_find(st, nexthop);
	struct arp_pending *p, **tail;
	size_t off = 0;

	if (s && s->state == ARP_RESOLVED) {
		/* Expired but not yet reaped: ask again. */
		s->state = ARP_PENDING;
		s->requests = 0;
	}
	if (!s) {
		s = slot_new(st, nexthop);
		if (!s) {
			CTR_INC(st, ARP_DROP_PENDING_FULL);
			return -ENOBUFS;
		}
		s->state = ARP_PENDING;
	}
	if (st->arp.pending_bytes + len > st->cfg.arp_pending_bytes) {
		CTR_INC(st, ARP_DROP_PENDING_FULL);
		return -ENOBUFS;
	}
	p = malloc(sizeof(*p) + len);
	if (!p) {
		CTR_INC(st, ARP_DROP_PENDING_FULL);
		return -ENOBUFS;
	}
	p->next = NULL;
	p->opts = *opts;
	if (opts->options_len) {
		memcpy(p->options, opts->options, opts->options_len);
		p->opts.options = p->options;
	}
	p->dst = dst;
	p->proto = proto;
	p->len = len;
	for (int i = 0; i < npieces; i++) {
		memcpy(p->data + off, pieces[i].base, pieces[i].len);
		off += pieces[i].len;
	}
	if (s->npending >= st->cfg.arp_pending_per_addr && s->pending) {
		struct arp_pending *old = s->pending;

		s->pending = old->next;
		s->npending--;
		st->arp.pending_bytes -= old->len;
		free(old);
		CTR_INC(st, ARP_DROP_PENDING_FULL);
	}
	for (tail = &s->pending; *tail; tail = &(*tail)->next)
		;
	*tail = p;
	s->npending++;
	st->arp.pending_bytes += len;
	CTR_INC(st, ARP_PENDING_QUEUED);
	if (!s->requested_once || st->now - s->last_request >= ARP_RETRY_NS) {
		s->requests++;
		arp_request(st, s, false);
	}
	return 0;
}

void arp_poll(struct tapir_stack *st)
{
	struct arp_table *t = &st->arp;
	uint64_t next = TAPIR_STACK_NO_DEADLINE;

	if (t->deadline > st->now)
		return;
	for (size_t i = 0; i < t->nslots; i++) {
		struct arp_slot *s = &t->slots[i];
		uint64_t when;

		if (s->state == ARP_RESOLVED) {
			if (s->expires <= st->now) {
				slot_release(st, s);
				CTR_INC(st, ARP_EXPIRED);
				continue;
			}
			when = s->expires;
		} else if (s->state == ARP_PENDING) {
			when = s->last_request + ARP_RETRY_NS;
			if (when <= st->now) {
				if (s->requests >= ARP_MAX_REQUESTS || !s->pending) {
					slot_release(st, s);
					continue;
				}
				s->requests++;
				arp_request(st, s, false);
				when = s->last_request + ARP_RETRY_NS;
			}
		} else {
			continue;
		}
		if (when < next)
			next = when;
	}
	t->deadline = next;
}

size_t tapir_arp_list(const struct tapir_stack *st, struct tapir_arp_entry *out, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < st->arp.nslots && n < max; i++) {
		const struct arp_slot *s = &st->arp.slots[i];

		if (s->state == ARP_FREE)
			continue;
		out[n].ip = s->ip;
		memcpy(out[n].mac, s->mac, 6);
		out[n].resolved = s->state == ARP_RESOLVED;
		out[n].expires = s->state == ARP_RESOLVED ? s->expires : 0;
		n++;
	}
	return n;
}

void tapir_arp_flush(struct tapir_stack *st)
{
	for (size_t i = 0; i < st->arp.nslots; i++)
		if (st->arp.slots[i].state != ARP_FREE)
			slot_release(st, &st->arp.slots[i]);
}

int tapir_arp_lookup(const struct tapir_stack *st, uint32_t ip, uint8_t mac[6])
{
	const struct arp_slot *s = slot_find(st, ip);

	if (!s || s->state != ARP_RESOLVED || s->expires <= st->now)
		return -ENOENT;
	memcpy(mac, s->mac, 6);
	return 0;
}
