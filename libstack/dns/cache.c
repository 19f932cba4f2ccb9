/*
 * cache.c - the resolver's bounded answer cache (positive and negative, RFC 2308)
 *
 * A fixed array of cache_size entries, searched linearly (a few hundred
 * entries, and a search per lookup that misses the hosts table).  An entry
 * lives until its expiry time; a put replaces the entry of the same key, or
 * takes a free or expired slot, or evicts the entry closest to expiry.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "dns_internal.h"

int dns_cache_init(struct dns_cache *c, size_t cap)
{
	c->cap = cap;
	c->count = 0;
	c->e = NULL;
	if (!cap)
		return 0;
	c->e = calloc(cap, sizeof(*c->e));
	return c->e ? 0 : -ENOMEM;
}

void dns_cache_free(struct dns_cache *c)
{
	free(c->e);
	c->e = NULL;
	c->cap = c->count = 0;
}

void dns_cache_clear(struct dns_cache *c)
{
	for (size_t i = 0; i < c->cap; i++)
		c->e[i].used = false;
	c->count = 0;
}

static struct dns_cache_entry *find(struct dns_cache *c, const struct dns_name *name,
				    uint16_t qtype)
{
	for (size_t i = 0; i < c->cap; i++)
		if (c->e[i].used && c->e[i].qtype == qtype && dns_name_eq(&c->e[i].name, name))
			return &c->e[i];
	return NULL;
}

const struct dns_cache_entry *dns_cache_get(struct dns_cache *c, uint64_t now,
					    const struct dns_name *name, uint16_t qtype)
{
	struct dns_cache_entry *e = find(c, name, qtype);

	if (!e)
		return NULL;
	if (e->expires <= now) {
		e->used = false;
		c->count--;
		return NULL;
	}
	return e;
}

bool dns_cache_put(struct dns_cache *c, uint64_t now, const struct dns_cache_entry *src)
{
	struct dns_cache_entry *e = find(c, &src->name, src->qtype), *soonest = NULL;
	bool evicted = false;

	if (!c->cap || src->expires <= now)
		return false;
	if (!e) {
		for (size_t i = 0; i < c->cap && !e; i++) {
			struct dns_cache_entry *x = &c->e[i];

			if (!x->used || x->expires <= now)
				e = x;
			else if (!soonest || x->expires < soonest->expires)
				soonest = x;
		}
		if (!e) {
			e = soonest;
			evicted = true;
		} else if (!e->used) {
			c->count++;
		}
	}
	*e = *src;
	e->used = true;
	return evicted;
}
