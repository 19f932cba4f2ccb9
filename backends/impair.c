/*
 * impair.c - seeded network impairment around a netif (see impair.h)
 */
#include "impair.h"

#include <errno.h>
#include <stdalign.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "units.h"

#define ETH_HDR_LEN 14

enum { DIR_TX, DIR_RX, DIR__COUNT };

struct held {
	struct held *next;
	uint64_t release;  /* when it goes out */
	int dir;
	unsigned flags;    /* NETIF_RX_* (receive) */
	size_t len;
	alignas(max_align_t) uint8_t data[];
};

struct direction {
	uint64_t rng[4];
	struct held *held;       /* reordered frame waiting for the next one */
	uint64_t held_deadline;  /* release it by then anyway */
};

struct impair {
	struct tapir_netif_filter f;     /* lower: the device side; upper: the stack side */
	struct impair_config cfg;
	uint64_t now;
	struct direction dirs[DIR__COUNT];
	struct held *head, *tail;  /* sorted by release, FIFO among equals */
	size_t qframes, qbytes;    /* includes the held frames */
	uint8_t *tx_buf, *rx_buf;
	size_t tx_cap, rx_cap;
	bool tx_sent;              /* something written to lower since the last flush */
	struct impair_stats stats;
};

/* ---- configuration ---- */

void impair_config_defaults(struct impair_config *c)
{
	memset(c, 0, sizeof(*c));
	c->tx = c->rx = true;
}

bool impair_config_active(const struct impair_config *c)
{
	return c->loss_ppm || c->dup_ppm || c->reorder_ppm || c->corrupt_ppm || c->delay_ns ||
	       c->jitter_ns;
}

static int fail(char *err, size_t errlen, int rc, const char *fmt, const char *a)
{
	if (err && errlen)
		snprintf(err, errlen, fmt, a);
	return rc;
}

static int parse_seed(const char *s, uint64_t *out)
{
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		const char *p = s + 2;
		uint64_t v = 0;
		size_t n = 0;
		for (; *p; p++, n++) {
			int d;
			if (*p >= '0' && *p <= '9')
				d = *p - '0';
			else if (*p >= 'a' && *p <= 'f')
				d = *p - 'a' + 10;
			else if (*p >= 'A' && *p <= 'F')
				d = *p - 'A' + 10;
			else
				return -EINVAL;
			if (n >= 16)
				return -ERANGE;
			v = v << 4 | (uint64_t)d;
		}
		if (n == 0)
			return -EINVAL;
		*out = v;
		return 0;
	}
	return units_parse_u64(s, UINT64_MAX, out);
}

int impair_config_set(struct impair_config *c, const char *key, const char *value, char *err,
		      size_t errlen)
{
	uint32_t *ppm = NULL;
	uint64_t *dur = NULL;

	if (!strcmp(key, "loss"))
		ppm = &c->loss_ppm;
	else if (!strcmp(key, "duplicate"))
		ppm = &c->dup_ppm;
	else if (!strcmp(key, "reorder"))
		ppm = &c->reorder_ppm;
	else if (!strcmp(key, "corrupt"))
		ppm = &c->corrupt_ppm;
	else if (!strcmp(key, "delay"))
		dur = &c->delay_ns;
	else if (!strcmp(key, "jitter"))
		dur = &c->jitter_ns;

	if (ppm) {
		uint32_t v;
		int rc = units_parse_ppm(value, &v);
		if (rc == -ERANGE)
			return fail(err, errlen, -EINVAL,
				    "'%s' is out of range (0 to 100%%, in steps of 1ppm)", value);
		if (rc)
			return fail(err, errlen, -EINVAL,
				    "'%s' is not a rate (expected e.g. 1%%, 0.5%% or 2500ppm)",
				    value);
		*ppm = v;
		return 0;
	}
	if (dur) {
		uint64_t v;
		int rc = units_parse_duration(value, &v);
		if (rc == -ERANGE || (!rc && v > IMPAIR_MAX_DELAY_NS))
			return fail(err, errlen, -EINVAL,
				    "'%s' is out of range (0 to 1h, whole nanoseconds)", value);
		if (rc)
			return fail(err, errlen, -EINVAL,
				    "'%s' is not a duration (expected e.g. 10ms, 500us or 1s)",
				    value);
		*dur = v;
		return 0;
	}
	if (!strcmp(key, "seed")) {
		uint64_t v;
		if (parse_seed(value, &v))
			return fail(err, errlen, -EINVAL,
				    "'%s' is not a seed (64-bit decimal or 0x hex number)", value);
		c->seed = v;
		return 0;
	}
	if (!strcmp(key, "direction")) {
		if (!strcmp(value, "tx"))
			c->tx = true, c->rx = false;
		else if (!strcmp(value, "rx"))
			c->tx = false, c->rx = true;
		else if (!strcmp(value, "both"))
			c->tx = c->rx = true;
		else
			return fail(err, errlen, -EINVAL,
				    "'%s' is not a direction (expected tx, rx or both)", value);
		return 0;
	}
	return fail(err, errlen, -ENOENT, "unknown impairment '%s'", key);
}

/* ---- randomness: splitmix64 seeding xoshiro256** ---- */

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

static uint64_t rng_next(uint64_t s[4])
{
	uint64_t result = rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;
	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return result;
}

static bool chance(struct direction *d, uint32_t ppm)
{
	if (ppm == 0)
		return false;
	uint64_t r = rng_next(d->rng) >> 32;
	return ((r * 1000000ull) >> 32) < ppm;
}

/* ---- the hold queue ---- */

static struct held *held_new(struct impair *im, int dir, const uint8_t *frame, size_t len,
			     unsigned flags, uint64_t release)
{
	if (im->qframes >= IMPAIR_QUEUE_MAX_FRAMES || len > IMPAIR_QUEUE_MAX_BYTES - im->qbytes) {
		im->stats.queue_full++;
		return NULL;
	}
	struct held *h = malloc(sizeof(*h) + (len ? len : 1));
	if (!h) {
		im->stats.queue_full++;
		return NULL;
	}
	h->next = NULL;
	h->release = release;
	h->dir = dir;
	h->flags = flags;
	h->len = len;
	memcpy(h->data, frame, len);
	im->qframes++;
	im->qbytes += len;
	return h;
}

static void held_free(struct impair *im, struct held *h)
{
	im->qframes--;
	im->qbytes -= h->len;
	free(h);
}

static void queue_insert(struct impair *im, struct held *h)
{
	h->next = NULL;
	if (!im->head) {
		im->head = im->tail = h;
		return;
	}
	if (h->release >= im->tail->release) {
		im->tail->next = h;
		im->tail = h;
		return;
	}
	struct held **pp = &im->head;
	while (*pp && (*pp)->release <= h->release)
		pp = &(*pp)->next;
	h->next = *pp;
	*pp = h;  /* never the new tail: tail->release > h->release */
}

/* ---- sending ---- */

struct copy_ctx {
	const uint8_t *frame;
	size_t len;
};

static size_t copy_fill(uint8_t *buf, size_t size, void *ctx)
{
	const struct copy_ctx *c = ctx;
	size_t n = c->len < size ? c->len : size;
	memcpy(buf, c->frame, n);
	return n;
}

/* Hand a frame on now.  Return: 0 or the lower device's error (TX) */
static int send_now(struct impair *im, int dir, const uint8_t *frame, size_t len,
		    unsigned flags)
{
	if (dir == DIR_RX) {
		tapir_netif_filter_pass(&im->f, frame, len, flags);
		return 0;
	}
	struct copy_ctx c = { frame, len };
	int rc = im->f.lower.ops->write(im->f.lower.dev, len, copy_fill, &c);
	im->tx_sent = true;
	return rc;
}

/* Send a stored frame now if due, else queue it (takes ownership). */
static void release_held(struct impair *im, struct held *h)
{
	if (h->release <= im->now) {
		if (send_now(im, h->dir, h->data, h->len, h->flags) < 0)
			im->stats.lower_errors++;
		held_free(im, h);
	} else {
		queue_insert(im, h);
	}
}

/* Send @frame at @release: now if due, else copied into the queue. */
static int emit(struct impair *im, int dir, const uint8_t *frame, size_t len, unsigned flags,
		uint64_t release)
{
	if (release <= im->now)
		return send_now(im, dir, frame, len, flags);
	struct held *h = held_new(im, dir, frame, len, flags, release);
	if (!h)
		return 0;
	im->stats.delayed++;
	queue_insert(im, h);
	return 0;
}

static uint64_t release_time(struct impair *im, struct direction *d)
{
	uint64_t t = im->now + im->cfg.delay_ns;
	if (im->cfg.jitter_ns)
		t += rng_next(d->rng) % (im->cfg.jitter_ns + 1);
	return t;
}

/*
 * impair_frame() - Apply the impairments to one frame of direction @dir
 * @frame:   The frame; corruption writes into @scratch (at least @len bytes),
 *           copying @frame there first unless it already is @scratch
 * @flags:   NETIF_RX_* (receive), kept with the frame and its copies
 *
 * Return: error of sending the original frame immediately (TX), else 0
 */
static int impair_frame(struct impair *im, int dir, const uint8_t *frame, size_t len,
			unsigned flags, uint8_t *scratch)
{
	struct direction *d = &im->dirs[dir];
	const struct impair_config *c = &im->cfg;

	if (chance(d, c->loss_ppm)) {
		im->stats.dropped++;
		return 0;
	}
	const uint8_t *p = frame;
	if (chance(d, c->corrupt_ppm) && len > 0) {
		if (frame != scratch)
			memcpy(scratch, frame, len);
		size_t off = len > ETH_HDR_LEN ? ETH_HDR_LEN + rng_next(d->rng) % (len - ETH_HDR_LEN)
					       : rng_next(d->rng) % len;
		scratch[off] ^= (uint8_t)(1u << (rng_next(d->rng) & 7));
		p = scratch;
		im->stats.corrupted++;
	}
	unsigned copies = 1;
	if (chance(d, c->dup_ppm)) {
		copies = 2;
		im->stats.duplicated++;
	}
	bool hold = false;
	struct held *before = d->held;  /* held back earlier: goes after this frame */
	if (!before && chance(d, c->reorder_ppm))
		hold = true;

	int rc = 0;
	for (unsigned i = 0; i < copies; i++) {
		uint64_t rel = release_time(im, d);
		if (i == 0 && hold) {
			struct held *h = held_new(im, dir, p, len, flags, rel);
			if (h) {
				im->stats.reordered++;
				d->held = h;
				d->held_deadline = rel + IMPAIR_REORDER_MAX_HOLD_NS;
			}
			continue;
		}
		int r = emit(im, dir, p, len, flags, rel);
		if (i == 0)
			rc = r;
		if (before && d->held == before) {
			d->held = NULL;
			if (before->release < rel)
				before->release = rel;
			release_held(im, before);
			before = NULL;
		}
	}
	return rc;
}

static int grow(uint8_t **buf, size_t *cap, size_t need)
{
	if (need <= *cap)
		return 0;
	uint8_t *n = realloc(*buf, need);
	if (!n)
		return -ENOMEM;
	*buf = n;
	*cap = need;
	return 0;
}

/* ---- transmit side (netif) ---- */

static struct impair *IM(void *dev)
{
	return (struct impair *)((char *)dev - offsetof(struct impair, f));
}

static size_t im_mtu(void *dev)
{
	struct impair *im = IM(dev);
	return im->f.lower.ops->mtu(im->f.lower.dev);
}

static void im_mac(void *dev, uint8_t mac[6])
{
	struct impair *im = IM(dev);
	im->f.lower.ops->mac(im->f.lower.dev, mac);
}

static int im_write(void *dev, size_t size, tapir_netif_fill_fn fill, void *ctx)
{
	struct impair *im = IM(dev);
	const struct tapir_netif *lower = &im->f.lower;
	if (!im->cfg.tx)
		return lower->ops->write(lower->dev, size, fill, ctx);

	if (size > lower->ops->mtu(lower->dev) + ETH_HDR_LEN)
		return -EMSGSIZE;
	if (grow(&im->tx_buf, &im->tx_cap, size ? size : 1))
		return -ENOBUFS;
	size_t len = fill(im->tx_buf, size, ctx);
	if (len > size)
		len = size;
	im->stats.tx_frames++;
	return impair_frame(im, DIR_TX, im->tx_buf, len, 0, im->tx_buf);
}

static void im_flush(void *dev)
{
	struct impair *im = IM(dev);
	im->tx_sent = false;
	if (im->f.lower.ops->flush)
		im->f.lower.ops->flush(im->f.lower.dev);
}

/* ---- receive side ---- */

static void im_rx(struct tapir_netif_filter *f, const uint8_t *frame, size_t len, unsigned flags)
{
	struct impair *im = IM(f);
	if (!im->cfg.rx) {
		tapir_netif_filter_pass(f, frame, len, flags);
		return;
	}
	im->stats.rx_frames++;
	if (grow(&im->rx_buf, &im->rx_cap, len ? len : 1)) {
		im->stats.queue_full++;
		return;
	}
	impair_frame(im, DIR_RX, frame, len, flags, im->rx_buf);
}

static const struct tapir_netif_filter_ops impair_ops = {
	.tx = {
		.mtu = im_mtu,
		.mac = im_mac,
		.write = im_write,
		.flush = im_flush,
	},
	.rx = im_rx,
};

struct tapir_netif_filter *impair_filter(struct impair *im)
{
	return &im->f;
}

/* ---- time ---- */

void impair_poll(struct impair *im, uint64_t now)
{
	if (now > im->now)
		im->now = now;
	for (int dir = 0; dir < DIR__COUNT; dir++) {
		struct direction *d = &im->dirs[dir];
		if (d->held && d->held_deadline <= im->now) {
			struct held *h = d->held;
			d->held = NULL;
			release_held(im, h);
		}
	}
	while (im->head && im->head->release <= im->now) {
		struct held *h = im->head;
		im->head = h->next;
		if (!im->head)
			im->tail = NULL;
		if (send_now(im, h->dir, h->data, h->len, h->flags) < 0)
			im->stats.lower_errors++;
		held_free(im, h);
	}
	if (im->tx_sent)
		im_flush(&im->f);
}

uint64_t impair_next_deadline(const struct impair *im)
{
	uint64_t t = im->head ? im->head->release : UINT64_MAX;
	for (int dir = 0; dir < DIR__COUNT; dir++)
		if (im->dirs[dir].held && im->dirs[dir].held_deadline < t)
			t = im->dirs[dir].held_deadline;
	return t;
}

/* ---- lifetime ---- */

struct impair *impair_new(const struct impair_config *cfg)
{
	if (!cfg)
		return NULL;
	struct impair *im = calloc(1, sizeof(*im));
	if (!im)
		return NULL;
	im->f.ops = &impair_ops;
	im->cfg = *cfg;
	for (int dir = 0; dir < DIR__COUNT; dir++) {
		uint64_t x = cfg->seed ^ (dir == DIR_RX ? 0x5851f42d4c957f2dull : 0);
		for (int i = 0; i < 4; i++)
			im->dirs[dir].rng[i] = splitmix64(&x);
	}
	/* Room for a 1500-byte MTU frame each way; bigger frames grow them. */
	size_t frame = 1500 + ETH_HDR_LEN;
	if (grow(&im->tx_buf, &im->tx_cap, frame) || grow(&im->rx_buf, &im->rx_cap, frame)) {
		impair_free(im);
		return NULL;
	}
	return im;
}

void impair_free(struct impair *im)
{
	if (!im)
		return;
	struct held *h = im->head;
	while (h) {
		struct held *next = h->next;
		free(h);
		h = next;
	}
	for (int dir = 0; dir < DIR__COUNT; dir++)
		free(im->dirs[dir].held);
	free(im->tx_buf);
	free(im->rx_buf);
	free(im);
}

void impair_get_stats(const struct impair *im, struct impair_stats *out)
{
	*out = im->stats;
}
