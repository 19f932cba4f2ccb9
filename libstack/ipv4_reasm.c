/*
 * ipv4_reasm.c - IPv4 and IPv6 fragment reassembly (RFC 791, RFC 815, RFC 8200 4.5,
 *                RFC 5722 policy)
 *
 * One engine serves both families: a table is made for one of them
 * (reasm_config.family).  They differ only in the key (IPv4: src, dst, id,
 * proto; IPv6: src, dst, 32-bit id), the header kept from the first fragment
 * (IPv4: its header, 20..60 bytes, held in the entry; IPv6: the
 * unfragmentable part with the fragment header, 48..1,280 bytes, held after
 * the first fragment's data in its node and accounted with it), the size
 * limit (IPv4: total length <= 65,535; IPv6: payload length <= 65,535) and
 * how the datagram is rebuilt (IPv6: the fragment header is removed, the
 * Next Header byte that pointed at it takes its Next Header, the payload
 * length is set).  The timeout quote of IPv6 is the first fragment as
 * received, up to the 1,232 bytes an ICMPv6 error can carry.
 *
 * Theory of operation
 * ===================
 *
 * Entries.  One entry per partial datagram, keyed by (src, dst, id, proto),
 * found through a hash table (SipHash-1-3 over the key, chained buckets; the
 * key of the hash is 0 until the host calls reasm_set_hash_key() with random
 * bytes, which it should, since the key fields are chosen by the sender).
 * Every entry is also on one age list, oldest first, which serves both the
 * timeout and the eviction order.
 *
 * States of an entry:
 *
 *   live  - holds fragments; a coverage bitmap with one bit per 8-byte block
 *           of data (8,192 bits, 1 KiB) says which blocks are held.
 *           -> complete: the last fragment's end is known and the bytes held
 *              equal it; the datagram is built, returned and the entry freed
 *           -> dead: a partial overlap (RFC 5722), data beyond 65,535 bytes,
 *              or a last fragment that conflicts with what is held (a
 *              fragment that is too big for a key with no entry is just
 *              dropped: no entry is made for it)
 *           -> gone: timeout (REASM_DROP_TIMEOUT, expired callback with the
 *              first fragment's header + 8 bytes if it was held), eviction
 *              (REASM_DROP_EVICTED) or out of memory (REASM_DROP_NOMEM)
 *   dead  - its fragments and bitmap are freed; only the small entry stays,
 *           so every later fragment of the datagram is dropped
 *           (REASM_DROP_DEAD) until the entry times out (no counter, no
 *           callback: the datagram was already counted when it died).  It is
 *           accounted and may be evicted (not counted again) like any entry.
 *
 * Holes (RFC 815) without a hole list.  Fragments start on 8-byte
 * boundaries and every fragment but the last covers whole 8-byte blocks, so
 * the bitmap of blocks is exact: a new fragment whose blocks are all set is
 * a duplicate or lies inside data already held (ignored, REASM_DUPLICATE);
 * none set, it is new data; some set, it is a partial overlap and kills the
 * datagram.  Data never extends past the known end (that kills the datagram
 * too, REASM_DROP_BAD_END), so the partial last block cannot mislead.
 * Because held fragments never overlap, the datagram is complete exactly
 * when the last fragment has arrived and the bytes held equal its end.
 * Fragments are kept unsorted on a singly linked list: at completion each is
 * copied to its own offset.
 *
 * Cost bounds.  Inserting a fragment costs O(1 + len / 512) (the bitmap words
 * it spans) and a lookup O(1) expected; nothing is ever quadratic.  Held
 * fragments are disjoint, non-empty, start on 8-byte boundaries and lie
 * within 65,515 bytes, so a datagram holds at most REASM_MAX_FRAGS (8,190)
 * fragments with no separate limit needed; completion is O(fragments + bytes).
 *
 * Limits.
 *   - Data end (offset + length) <= 65,515 (65,535 minus a 20-byte header),
 *     and <= 65,535 minus the first fragment's header length once that
 *     fragment is held; beyond it: REASM_DROP_TOO_BIG, datagram killed.
 *   - A non-last fragment's length is a non-zero multiple of 8; zero-length
 *     fragments (last ones too) are dropped: REASM_DROP_BAD_LEN.
 *   - Memory: reasm_bytes() is the sum over entries of sizeof(entry), the
 *     bitmap for live ones, and sizeof(fragment node) + data for each
 *     fragment, each allocation plus REASM_MALLOC_SLOP for the allocator's
 *     own header.  On x86-64: a live entry costs 184 + 1,040 (bitmap) bytes,
 *     a dead one 184, a fragment 32 + its data; so with the default 4 MiB a
 *     flood of one-fragment datagrams holds about 3,300 of them, and one
 *     65,535-byte datagram of 8-byte fragments costs about 330 KiB.
 *     It never exceeds max_bytes: before storing a fragment the
 *     oldest other entries are evicted until it fits; if it cannot fit even
 *     then, its datagram is dropped (REASM_DROP_NOMEM).  So does a failed
 *     malloc.  The hash bucket array (sized from max_bytes when the table is
 *     made) is not accounted.
 *   - Time: an entry expires timeout_ns after its first fragment arrived.
 *     Expiry happens in reasm_poll() only; the host polls at
 *     reasm_next_deadline().  Expiry times are kept non-decreasing along the
 *     age list (a clock that steps back is clamped), so the head of the list
 *     is always the next deadline.
 *
 * Data flow.  reasm_input(): count -> check length/offset -> find entry
 * (dead: drop) -> check the end against the 65,535 limit and the known end
 * -> bitmap: duplicate / overlap / new -> make room -> copy the data into a
 * new node -> if complete: build the datagram (first header, total length,
 * MF and offset cleared, DF kept, checksum recomputed), free the entry.
 *
 * Return codes of reasm_input(): 1 complete, 0 held or ignored,
 * -EBADMSG (bad length, bad end, overlap, dead datagram), -EMSGSIZE (too big),
 * -ENOMEM (cap or malloc).  Every fragment increments REASM_FRAGS_IN and, if
 * it is not held, exactly one other REASM_* counter of its own (a covered
 * last fragment that only tells where the datagram ends is held without
 * data and counts nothing more); making room may count REASM_DROP_EVICTED
 * for other datagrams besides.
 */
#include "ipv4_reasm.h"

#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tapir/counters.h"
#include "siphash.h"
#include "wire/bytes.h"
#include "wire/checksum.h"

#define REASM_DEFAULT_MAX_BYTES ((size_t)4 << 20)
#define REASM_DEFAULT_TIMEOUT_NS (30ULL * 1000 * 1000 * 1000)

#define IP_MAX_TOTAL 65535u
#define IP_MIN_HDR 20u
#define IP_MAX_HDR 60u
#define REASM_MAX_END (IP_MAX_TOTAL - IP_MIN_HDR) /* 65,515 */
/* IPv6: 40-byte header + fragment header at least; payload length <= 65,535 */
#define IP6_MIN_HDR 48u
#define IP6_MAX_HDR 1280u
#define IP6_MAX_TOTAL (65535u + IP6_MIN_HDR)
#define IP6_QUOTE_MAX 1232u /* 1,280 - 40 (IPv6) - 8 (ICMPv6) */

#define REASM_BLOCKS 8192u  /* >= ceil(65,515 / 8) = 8,190 */
#define REASM_MAP_WORDS (REASM_BLOCKS / 64)
#define REASM_MAX_FRAGS ((REASM_MAX_END + 7) / 8) /* 8,190 */
static_assert(REASM_BLOCKS >= REASM_MAX_FRAGS, "one bit per possible 8-byte block");

/* Bytes a malloc'd object costs beyond its size (glibc chunk header). */
#define REASM_MALLOC_SLOP 16u

#define IP_FLAG_DF 0x4000u
#define IPV6_FRAG_HDR 8u

/* One held fragment: its data follows the node. */
struct reasm_node {
	struct reasm_node *next;
	uint32_t off;
	uint32_t len;
	uint8_t data[];
};

/* One partial (or dead) datagram. */
struct reasm_dgram {
	struct reasm_dgram *hnext;   /* hash chain */
	struct reasm_dgram **hpprev; /* the pointer that points at us */
	struct reasm_dgram *older;   /* age list */
	struct reasm_dgram *newer;

	uint32_t src, dst;
	uint16_t id;
	uint8_t proto;
	bool dead;
	bool has_end;   /* the last fragment (MF=0) arrived: @end is valid */
	uint16_t first_hlen; /* 0 until the fragment at offset 0 is held */
	uint16_t nh_off;    /* IPv6: offset of the Next Header byte naming the fragment header */

	uint32_t end;     /* data length of the datagram when @has_end */
	uint32_t max_end; /* highest offset + length held */
	uint32_t held;    /* data bytes held (fragments are disjoint) */
	uint64_t expires;
	size_t bytes;     /* accounted: entry + bitmap + nodes */

	uint64_t *map;    /* coverage of 8-byte blocks, NULL when dead */
	struct reasm_node *frags;
	struct reasm_node *first; /* the node at offset 0, or NULL */
	union {
		uint8_t first_hdr[IP_MAX_HDR]; /* IPv4 (IPv6 keeps it after the first node's data) */
		struct {
			uint8_t src6[16], dst6[16]; /* IPv6 key */
			uint32_t id6;
		};
	};
};


struct reasm {
	bool v6;
	uint32_t max_total; /* IPv4: 65,535; IPv6: 65,535 + 48 (header + fragment header) */
	uint32_t min_hdr, max_hdr;
	size_t max_bytes;
	uint64_t timeout_ns;
	uint64_t *ctr;
	uint64_t own_ctr[TAPIR_CTR__COUNT]; /* used when the caller passes none */

	struct reasm_dgram **buckets;
	size_t nbuckets; /* power of two */
	uint64_t key[2]; /* hash key */

	struct reasm_dgram *oldest;
	struct reasm_dgram *newest;
	size_t bytes;
	size_t count;
};

/* The header kept from the first fragment (first_hlen bytes) */
static const uint8_t *first_hdr(const struct reasm *r, const struct reasm_dgram *d)
{
	return r->v6 ? d->first->data + d->first->len : d->first_hdr;
}

#define DGRAM_COST (sizeof(struct reasm_dgram) + REASM_MALLOC_SLOP)
#define MAP_COST (REASM_MAP_WORDS * sizeof(uint64_t) + REASM_MALLOC_SLOP)
#define NODE_COST(len) (sizeof(struct reasm_node) + (len) + REASM_MALLOC_SLOP)

/* ---- hashing: SipHash-1-3 (siphash.c) over two 64-bit words ----------- */

static size_t bucket_of(const struct reasm *r, uint32_t src, uint32_t dst, uint16_t id,
			uint8_t proto)
{
	uint64_t h = siphash13_2w(r->key, (uint64_t)src << 32 | dst,
				  (uint64_t)id << 8 | proto);

	return (size_t)h & (r->nbuckets - 1);
}

static size_t bucket_of6(const struct reasm *r, const uint8_t *src, const uint8_t *dst,
			 uint32_t id)
{
	uint8_t k[36];

	memcpy(k, src, 16);
	memcpy(k + 16, dst, 16);
	put_be32(k + 32, id);
	return (size_t)siphash13(r->key, k, sizeof(k)) & (r->nbuckets - 1);
}

static void hash_insert(struct reasm *r, struct reasm_dgram *d)
{
	struct reasm_dgram **head = &r->buckets[r->v6 ? bucket_of6(r, d->src6, d->dst6, d->id6) :
						bucket_of(r, d->src, d->dst, d->id, d->proto)];

	d->hnext = *head;
	if (d->hnext)
		d->hnext->hpprev = &d->hnext;
	d->hpprev = head;
	*head = d;
}

static void hash_remove(struct reasm_dgram *d)
{
	*d->hpprev = d->hnext;
	if (d->hnext)
		d->hnext->hpprev = d->hpprev;
}

static struct reasm_dgram *lookup(const struct reasm *r, const struct reasm_frag *f)
{
	struct reasm_dgram *d;

	if (r->v6) {
		d = r->buckets[bucket_of6(r, f->src6, f->dst6, f->id6)];
		for (; d; d = d->hnext)
			if (d->id6 == f->id6 && !memcmp(d->src6, f->src6, 16) &&
			    !memcmp(d->dst6, f->dst6, 16))
				return d;
		return NULL;
	}
	d = r->buckets[bucket_of(r, f->src, f->dst, f->id, f->proto)];
	for (; d; d = d->hnext)
		if (d->src == f->src && d->dst == f->dst && d->id == f->id &&
		    d->proto == f->proto)
			return d;
	return NULL;
}

/* ---- coverage bitmap ---------------------------------------------------- */

enum cover { COVER_NONE, COVER_ALL, COVER_SOME };

/* Mask of bits [lo, hi) within one word, 0 <= lo < hi <= 64. */
static inline uint64_t word_mask(unsigned int lo, unsigned int hi)
{
	uint64_t m = hi == 64 ? ~0ULL : (1ULL << hi) - 1;

	return m & ~((1ULL << lo) - 1);
}

/* How much of blocks [a, b) (a < b <= REASM_BLOCKS) is already set. */
static enum cover map_test(const uint64_t *map, unsigned int a, unsigned int b)
{
	bool any = false, all = true;

	while (a < b) {
		unsigned int w = a / 64, lo = a % 64;
		unsigned int hi = (b - w * 64) < 64 ? (b - w * 64) : 64;
		uint64_t m = word_mask(lo, hi), v = map[w] & m;

		any |= v != 0;
		all &= v == m;
		if (any && !all)
			return COVER_SOME;
		a = w * 64 + hi;
	}
	return all ? COVER_ALL : COVER_NONE;
}

static void map_set(uint64_t *map, unsigned int a, unsigned int b)
{
	while (a < b) {
		unsigned int w = a / 64, lo = a % 64;
		unsigned int hi = (b - w * 64) < 64 ? (b - w * 64) : 64;

		map[w] |= word_mask(lo, hi);
		a = w * 64 + hi;
	}
}

/* ---- entries ------------------------------------------------------------ */

static void free_nodes(struct reasm_dgram *d)
{
	struct reasm_node *n = d->frags;

	while (n) {
		struct reasm_node *next = n->next;

		free(n);
		n = next;
	}
	d->frags = NULL;
	d->first = NULL;
}

/* Unlink @d from the hash and the age list and free it. */
static void dgram_destroy(struct reasm *r, struct reasm_dgram *d)
{
	hash_remove(d);
	if (d->older)
		d->older->newer = d->newer;
	else
		r->oldest = d->newer;
	if (d->newer)
		d->newer->older = d->older;
	else
		r->newest = d->older;
	r->bytes -= d->bytes;
	r->count--;
	free_nodes(d);
	free(d->map);
	free(d);
}

/* Drop @d's data and keep it as a dead entry until it times out. */
static void dgram_kill(struct reasm *r, struct reasm_dgram *d)
{
	free_nodes(d);
	free(d->map);
	d->map = NULL;
	d->dead = true;
	d->first_hlen = 0;
	d->held = 0;
	r->bytes -= d->bytes - DGRAM_COST;
	d->bytes = DGRAM_COST;
}

/* Make a live entry for @f's key, on the hash and at the new end of the age
 * list.  Return: the entry, or NULL if out of memory. */
static struct reasm_dgram *dgram_create(struct reasm *r, uint64_t now, const struct reasm_frag *f)
{
	struct reasm_dgram *d = calloc(1, sizeof(*d));

	if (!d)
		return NULL;
	d->map = calloc(REASM_MAP_WORDS, sizeof(uint64_t));
	if (!d->map) {
		free(d);
		return NULL;
	}
	d->src = f->src;
	d->dst = f->dst;
	d->id = f->id;
	d->proto = f->proto;
	if (r->v6) {
		memcpy(d->src6, f->src6, 16);
		memcpy(d->dst6, f->dst6, 16);
		d->id6 = f->id6;
	}
	d->expires = now > UINT64_MAX - r->timeout_ns ? UINT64_MAX : now + r->timeout_ns;
	if (r->newest && d->expires < r->newest->expires)
		d->expires = r->newest->expires; /* the clock stepped back */
	d->bytes = DGRAM_COST + MAP_COST;

	hash_insert(r, d);
	d->older = r->newest;
	if (r->newest)
		r->newest->newer = d;
	else
		r->oldest = d;
	r->newest = d;
	r->bytes += d->bytes;
	r->count++;
	return d;
}

/**
 * make_room() - Evict the oldest entries other than @keep until @need fits
 * @r:     Table
 * @need:  Bytes about to be added
 * @keep:  Entry that must not be evicted (the fragment's own), or NULL
 *
 * Nothing is evicted when @need could not fit even in an otherwise empty
 * table.
 *
 * Return: true if r->bytes + @need <= max_bytes now, false otherwise
 */
static bool make_room(struct reasm *r, size_t need, const struct reasm_dgram *keep)
{
	size_t floor = keep ? keep->bytes : 0;

	if (need > r->max_bytes || floor > r->max_bytes - need)
		return false;
	while (r->bytes + need > r->max_bytes) {
		struct reasm_dgram *victim = r->oldest;

		if (victim == keep)
			victim = victim->newer;
		if (!victim)
			return false; /* cannot happen: floor + need fits */
		if (!victim->dead)
			r->ctr[TAPIR_CTR_REASM_DROP_EVICTED]++;
		dgram_destroy(r, victim);
	}
	return true;
}

/* ---- public API --------------------------------------------------------- */

/**
 * reasm_new() - Make a reassembly table
 * @cfg:      Limits; NULL or zero fields take the defaults (4 MiB, 30 s)
 * @counters: The stack's counters, TAPIR_CTR__COUNT entries, borrowed for the
 *            table's lifetime; NULL to keep them inside the table
 *
 * Return: new table, or NULL if out of memory
 */
struct reasm *reasm_new(const struct reasm_config *cfg, uint64_t *counters)
{
	struct reasm *r = calloc(1, sizeof(*r));
	size_t want;

	if (!r)
		return NULL;
	r->max_bytes = cfg && cfg->max_bytes ? cfg->max_bytes : REASM_DEFAULT_MAX_BYTES;
	r->timeout_ns = cfg && cfg->timeout_ns ? cfg->timeout_ns : REASM_DEFAULT_TIMEOUT_NS;
	r->ctr = counters ? counters : r->own_ctr;
	r->v6 = cfg && cfg->family == 6;
	r->max_total = r->v6 ? IP6_MAX_TOTAL : IP_MAX_TOTAL;
	r->min_hdr = r->v6 ? IP6_MIN_HDR : IP_MIN_HDR;
	r->max_hdr = r->v6 ? IP6_MAX_HDR : IP_MAX_HDR;

	/* About one bucket per live entry the cap allows, at least 64, at most 64 Ki;
	 * dead entries are smaller and may load chains a few times more. */
	want = r->max_bytes / (DGRAM_COST + MAP_COST);
	r->nbuckets = 64;
	while (r->nbuckets < want && r->nbuckets < ((size_t)1 << 16))
		r->nbuckets <<= 1;
	r->buckets = calloc(r->nbuckets, sizeof(*r->buckets));
	if (!r->buckets) {
		free(r);
		return NULL;
	}
	return r;
}

/**
 * reasm_free() - Free a table and every datagram it holds
 * @r: Table, or NULL
 */
void reasm_free(struct reasm *r)
{
	if (!r)
		return;
	while (r->oldest)
		dgram_destroy(r, r->oldest);
	free(r->buckets);
	free(r);
}

/**
 * reasm_set_hash_key() - Key the hash of the table with secret random bytes
 * @r:  Table
 * @k0: First half of a 128-bit random key
 * @k1: Second half
 *
 * Senders choose the key fields (src, id, proto); without a secret key they
 * could put every entry in one bucket.  May be called at any time; the
 * entries held are rehashed.
 */
void reasm_set_hash_key(struct reasm *r, uint64_t k0, uint64_t k1)
{
	struct reasm_dgram *d;

	r->key[0] = k0;
	r->key[1] = k1;
	memset(r->buckets, 0, r->nbuckets * sizeof(*r->buckets));
	for (d = r->oldest; d; d = d->newer)
		hash_insert(r, d);
}

/**
 * complete() - Build the whole datagram of a complete entry and free it
 * @r:       Table
 * @d:       Complete entry (end known, every byte held, first header held)
 * @out:     Where to store the malloc'd datagram
 * @out_len: Where to store its length
 *
 * Return: 1 with *@out set, or -ENOMEM / -EMSGSIZE (counted) with the entry
 *         freed either way
 */
static int complete(struct reasm *r, struct reasm_dgram *d, uint8_t **out, size_t *out_len)
{
	size_t hl = d->first_hlen, total = hl + d->end;
	struct reasm_node *n;
	uint8_t *buf;

	if (r->v6)
		total -= IPV6_FRAG_HDR;
	if (total > r->max_total) { /* prevented earlier; kept as a last line */
		r->ctr[TAPIR_CTR_REASM_DROP_TOO_BIG]++;
		dgram_destroy(r, d);
		return -EMSGSIZE;
	}
	buf = malloc(total);
	if (!buf) {
		r->ctr[TAPIR_CTR_REASM_DROP_NOMEM]++;
		dgram_destroy(r, d);
		return -ENOMEM;
	}
	if (r->v6) {
		/* The unfragmentable part without the fragment header, whose
		 * Next Header replaces the one that pointed at it */
		hl -= IPV6_FRAG_HDR;
		memcpy(buf, first_hdr(r, d), hl);
		buf[d->nh_off] = first_hdr(r, d)[hl];
		put_be16(buf + 4, (uint16_t)(total - 40));
	} else {
		memcpy(buf, first_hdr(r, d), hl);
		put_be16(buf + 2, (uint16_t)total);
		put_be16(buf + 6, (uint16_t)(get_be16(buf + 6) & IP_FLAG_DF));
		put_be16(buf + 10, 0);
		put_be16(buf + 10, inet_csum(buf, hl));
	}
	for (n = d->frags; n; n = n->next)
		memcpy(buf + hl + n->off, n->data, n->len);

	r->ctr[TAPIR_CTR_REASM_COMPLETED]++;
	dgram_destroy(r, d);
	*out = buf;
	*out_len = total;
	return 1;
}

/* Kill @d (if any) and count @ctr. Return: @err */
static int drop_kill(struct reasm *r, struct reasm_dgram *d, enum tapir_stack_counter ctr, int err)
{
	r->ctr[ctr]++;
	if (d)
		dgram_kill(r, d);
	return err;
}

/**
 * reasm_input() - Add a fragment to its datagram, complete it if possible
 * @r:       Table
 * @now:     Current time, ns
 * @f:       The fragment (borrowed for the call)
 * @out:     On completion: the malloc'd datagram, which the caller frees
 * @out_len: On completion: its length
 *
 * See ipv4_reasm.h and the theory of operation above for the policy.
 *
 * Return: 1 if complete, 0 if held (or ignored as a duplicate), negative
 *         errno if dropped (and counted): -EBADMSG, -EMSGSIZE or -ENOMEM
 */
int reasm_input(struct reasm *r, uint64_t now, const struct reasm_frag *f, uint8_t **out,
		size_t *out_len)
{
	struct reasm_dgram *d;
	struct reasm_node *n;
	uint32_t off = f->offset, end, limit;
	enum cover c;
	size_t need, extra;

	r->ctr[TAPIR_CTR_REASM_FRAGS_IN]++;

	if (f->len == 0 || (f->more && f->len % 8) || off % 8 || (!f->payload) ||
	    (off == 0 && (!f->hdr || f->hdr_len < r->min_hdr || f->hdr_len > r->max_hdr ||
			  (r->v6 && f->nh_off >= f->hdr_len - IPV6_FRAG_HDR)))) {
		r->ctr[TAPIR_CTR_REASM_DROP_BAD_LEN]++;
		return -EBADMSG;
	}

	d = lookup(r, f);
	if (d && d->dead) {
		r->ctr[TAPIR_CTR_REASM_DROP_DEAD]++;
		return -EBADMSG;
	}

	/* Ping of death: no data beyond 65,535 bytes with the header. */
	limit = r->max_total - r->min_hdr;
	if (d && d->first_hlen)
		limit = r->max_total - d->first_hlen;
	else if (off == 0)
		limit = r->max_total - (uint32_t)f->hdr_len;
	if (off > limit || f->len > limit - off)
		return drop_kill(r, d, TAPIR_CTR_REASM_DROP_TOO_BIG, -EMSGSIZE);
	end = off + (uint32_t)f->len;
	if (d && off == 0 && (d->max_end > limit || (d->has_end && d->end > limit)))
		return drop_kill(r, d, TAPIR_CTR_REASM_DROP_TOO_BIG, -EMSGSIZE); /* long first header */

	/* The end: one last fragment, no data beyond it. */
	if (d && d->has_end && (end > d->end || (!f->more && end != d->end)))
		return drop_kill(r, d, TAPIR_CTR_REASM_DROP_BAD_END, -EBADMSG);
	if (d && !f->more && end < d->max_end)
		return drop_kill(r, d, TAPIR_CTR_REASM_DROP_BAD_END, -EBADMSG);

	c = d ? map_test(d->map, off / 8, (end + 7) / 8) : COVER_NONE;
	if (c == COVER_SOME)
		return drop_kill(r, d, TAPIR_CTR_REASM_DROP_OVERLAP, -EBADMSG);
	if (c == COVER_ALL) {
		if (!f->more && !d->has_end) {
			/* Data held already, but it tells where the datagram ends. */
			d->has_end = true;
			d->end = end;
			if (d->held == d->end)
				return complete(r, d, out, out_len);
			return 0;
		}
		r->ctr[TAPIR_CTR_REASM_DUPLICATE]++;
		return 0;
	}

	/* New data: find room, evicting the oldest other datagrams. */
	extra = r->v6 && off == 0 ? f->hdr_len : 0; /* IPv6 keeps the header in the node */
	need = NODE_COST(f->len + extra) + (d ? 0 : DGRAM_COST + MAP_COST);
	if (!make_room(r, need, d)) {
		r->ctr[TAPIR_CTR_REASM_DROP_NOMEM]++;
		if (d)
			dgram_destroy(r, d);
		return -ENOMEM;
	}
	if (!d) {
		d = dgram_create(r, now, f);
		if (!d) {
			r->ctr[TAPIR_CTR_REASM_DROP_NOMEM]++;
			return -ENOMEM;
		}
	}
	n = malloc(sizeof(*n) + f->len + extra);
	if (!n) {
		r->ctr[TAPIR_CTR_REASM_DROP_NOMEM]++;
		dgram_destroy(r, d);
		return -ENOMEM;
	}
	n->off = off;
	n->len = (uint32_t)f->len;
	memcpy(n->data, f->payload, f->len);
	n->next = d->frags;
	d->frags = n;
	d->held += n->len;
	if (end > d->max_end)
		d->max_end = end;
	map_set(d->map, off / 8, (end + 7) / 8);
	d->bytes += NODE_COST(f->len + extra);
	r->bytes += NODE_COST(f->len + extra);
	if (off == 0) {
		d->first = n;
		d->first_hlen = (uint16_t)f->hdr_len;
		if (r->v6) {
			memcpy(n->data + n->len, f->hdr, f->hdr_len);
			d->nh_off = f->nh_off;
		} else {
			memcpy(d->first_hdr, f->hdr, f->hdr_len);
		}
	}
	if (!f->more) {
		d->has_end = true;
		d->end = end;
	}

	if (d->has_end && d->held == d->end)
		return complete(r, d, out, out_len);
	return 0;
}

/**
 * reasm_poll() - Expire the datagrams whose time is up
 * @r:       Table
 * @now:     Current time, ns
 * @expired: Called once per expired datagram whose first fragment was held,
 *           after the entry is freed (it may call into the table); may be NULL
 * @ctx:     Passed to @expired
 *
 * Live datagrams count REASM_DROP_TIMEOUT; dead entries just go.
 */
void reasm_poll(struct reasm *r, uint64_t now, reasm_expired_fn expired, void *ctx)
{
	uint8_t quote[IP6_QUOTE_MAX];

	while (r->oldest && r->oldest->expires <= now) {
		struct reasm_dgram *d = r->oldest;
		size_t qlen = 0;

		if (!d->dead) {
			r->ctr[TAPIR_CTR_REASM_DROP_TIMEOUT]++;
			if (d->first_hlen && d->first) {
				/* IPv4: header + 8 bytes (RFC 792); IPv6: as much as fits (RFC 4443) */
				size_t room = r->v6 ? IP6_QUOTE_MAX : (size_t)d->first_hlen + 8;
				size_t hl = d->first_hlen < room ? d->first_hlen : room;
				size_t dlen = d->first->len < room - hl ? d->first->len : room - hl;

				memcpy(quote, first_hdr(r, d), hl);
				memcpy(quote + hl, d->first->data, dlen);
				qlen = hl + dlen;
			}
		}
		dgram_destroy(r, d);
		if (qlen && expired)
			expired(ctx, quote, qlen);
	}
}

/**
 * reasm_next_deadline() - When reasm_poll() has work next
 * @r: Table
 *
 * Return: expiry time of the oldest entry, ns, or UINT64_MAX if none
 */
uint64_t reasm_next_deadline(const struct reasm *r)
{
	return r->oldest ? r->oldest->expires : UINT64_MAX;
}

/**
 * reasm_bytes() - Memory accounted against the cap
 * @r: Table
 *
 * Return: bytes (data + per-entry, per-bitmap and per-fragment overhead)
 */
size_t reasm_bytes(const struct reasm *r)
{
	return r->bytes;
}

/**
 * reasm_count() - Number of entries, live and dead
 * @r: Table
 *
 * Return: entries held
 */
size_t reasm_count(const struct reasm *r)
{
	return r->count;
}

/**
 * reasm_list() - Describe the entries, oldest first
 * @r:   Table
 * @out: Array of at least @max entries
 * @max: Size of @out
 *
 * @out[i].bytes_held is the data held (not the accounted bytes);
 * @out[i].total_len is the datagram's data length (offset + length of the
 * last fragment), 0 until the last fragment arrived.
 *
 * Return: number of entries filled
 */
size_t reasm_list(const struct reasm *r, struct tapir_reasm_info *out, size_t max)
{
	const struct reasm_dgram *d;
	size_t i = 0;

	for (d = r->oldest; d && i < max; d = d->newer, i++) {
		out[i] = (struct tapir_reasm_info){
			.family = r->v6 ? 6 : 4,
			.src = d->src,
			.dst = d->dst,
			.id = d->id,
			.proto = d->proto,
			.bytes_held = d->held,
			.total_len = d->has_end ? d->end : 0,
			.dead = d->dead,
			.expires = d->expires,
		};
		if (r->v6) {
			memcpy(out[i].src6, d->src6, 16);
			memcpy(out[i].dst6, d->dst6, 16);
			out[i].id6 = d->id6;
		}
	}
	return i;
}
