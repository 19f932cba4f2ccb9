/*
 * harness.c - stacks on a vnetif wire with a fake clock, for the stack tests
 */
#include "harness.h"

#include <stdlib.h>
#include <string.h>

#include "wire/arp.h"
#include "wire/bytes.h"
#include "wire/eth.h"

static void fake_random(void *ctx, void *buf, size_t len)
{
	struct world *w = ctx;
	uint8_t *p = buf;

	for (size_t i = 0; i < len; i++) {
		/* splitmix64 */
		uint64_t z = (w->rng += 0x9e3779b97f4a7c15ull);

		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
		z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
		p[i] = (uint8_t)(z ^ (z >> 31));
	}
}

static void host_deliver(void *ctx, const uint8_t *frame, size_t len, unsigned flags)
{
	struct host *h = ctx;

	tapir_stack_input(h->st, frame, len, 0, h->w->now);
}

static void host_rx(void *ctx, const uint8_t *frame, size_t len)
{
	struct host *h = ctx;

	tapir_netif_rx_input(&h->rx, frame, len, 0);
}

struct raw_arp_ctx {
	struct arp_repr r;
	struct eth_repr e;
};

static size_t raw_fill_copy(uint8_t *buf, size_t size, void *ctx)
{
	const struct raw_frame *f = ctx;

	(void)size;
	memcpy(buf, f->data, f->len);
	return f->len;
}

static void raw_rx(void *ctx, const uint8_t *frame, size_t len)
{
	struct world *w = ctx;
	struct eth_view v;

	if (w->nraw < RAW_MAX_FRAMES) {
		w->raw[w->nraw].data = malloc(len);
		memcpy(w->raw[w->nraw].data, frame, len);
		w->raw[w->nraw].len = len;
		w->nraw++;
	}
	if (!w->raw_answers_arp || eth_view_check(&v, frame, len) < 0 ||
	    eth_ethertype(&v) != TAPIR_ETHERTYPE_ARP)
		return;
	struct arp_repr q, a;

	if (arp_repr_parse(&q, eth_payload(&v), eth_payload_len(&v)) < 0 ||
	    q.op != ARP_OP_REQUEST || q.tpa != w->raw_ip)
		return;
	uint8_t out[ETH_HDR_LEN + ARP_LEN];
	struct eth_repr e;

	memcpy(e.dst, q.sha, 6);
	memcpy(e.src, w->raw_mac, 6);
	e.ethertype = TAPIR_ETHERTYPE_ARP;
	eth_repr_emit(&e, out);
	a.op = ARP_OP_REPLY;
	memcpy(a.sha, w->raw_mac, 6);
	a.spa = w->raw_ip;
	memcpy(a.tha, q.sha, 6);
	a.tpa = q.spa;
	arp_repr_emit(&a, out + ETH_HDR_LEN);
	raw_send(w, out, sizeof(out));
}

void raw_send(struct world *w, const uint8_t *frame, size_t len)
{
	struct raw_frame f = { (uint8_t *)frame, len };

	w->raw_nif.ops->write(w->raw_nif.dev, len, raw_fill_copy, &f);
}

void raw_clear(struct world *w)
{
	for (size_t i = 0; i < w->nraw; i++)
		free(w->raw[i].data);
	w->nraw = 0;
}

size_t raw_count(const struct world *w, uint16_t ethertype, uint8_t proto)
{
	size_t n = 0;

	for (size_t i = 0; i < w->nraw; i++) {
		const uint8_t *f = w->raw[i].data;

		if (w->raw[i].len < 14 || get_be16(f + 12) != ethertype)
			continue;
		if (ethertype == TAPIR_ETHERTYPE_IPV4 && proto &&
		    (w->raw[i].len < 34 || f[14 + 9] != proto))
			continue;
		n++;
	}
	return n;
}

struct world *world_new(void)
{
	struct world *w = calloc(1, sizeof(*w));
	static const uint8_t raw_mac[6] = { 2, 0, 0, 0, 0, 0x99 };

	w->net = vnet_new();
	w->now = 1000 * TAPIR_STACK_NS_PER_SEC;
	w->rng = 42;
	memcpy(w->raw_mac, raw_mac, 6);
	w->raw_ip = IP(192, 0, 2, 99);
	w->raw_answers_arp = true;
	vnet_attach(w->net, w->raw_mac, 65535 - 14, raw_rx, w, &w->raw_nif);
	return w;
}

void world_free(struct world *w)
{
	for (int i = 0; i < w->nhosts; i++) {
		tapir_stack_free(w->hosts[i].st);
		impair_free(w->hosts[i].im);
	}
	raw_clear(w);
	vnet_free(w->net);
	free(w);
}

struct host *world_add(struct world *w, uint8_t last, const struct tapir_stack_config *cfg)
{
	return world_add_impaired(w, last, cfg, NULL);
}

struct host *world_add_impaired(struct world *w, uint8_t last, const struct tapir_stack_config *cfg,
				const struct impair_config *icfg)
{
	struct host *h = &w->hosts[w->nhosts++];
	struct tapir_stack_config c;

	if (cfg)
		c = *cfg;
	else
		tapir_stack_config_defaults(&c);
	h->w = w;
	h->ip = IP(192, 0, 2, last);
	uint8_t mac[6] = { 2, 0, 0, 0, 0, last };

	memcpy(h->mac, mac, 6);
	c.addr = h->ip;
	c.prefix_len = 24;
	c.random = fake_random;
	c.random_ctx = w;
	if (vnet_attach(w->net, h->mac, 1500, host_rx, h, &h->port_nif) < 0)
		abort();
	struct tapir_netif_filter *f = NULL;
	struct tapir_netif_rx up = { host_deliver, h };
	if (icfg) {
		h->im = impair_new(icfg);
		if (!h->im)
			abort();
		f = impair_filter(h->im);
	}
	tapir_netif_chain(&h->port_nif, &up, &f, f ? 1 : 0, &h->nif, &h->rx);
	if (h->im)
		impair_poll(h->im, w->now);
	if (tapir_stack_new(&h->st, &c, &h->nif, w->now) < 0)
		abort();
	tapir_stack_start(h->st, w->now);
	return h;
}

void world_pump(struct world *w)
{
	do {
		vnet_deliver(w->net, 0);
		for (int i = 0; i < w->nhosts; i++)
			tapir_stack_flush(w->hosts[i].st);
	} while (vnet_pending(w->net));
}

/* Run every host's timers (impairment first) at the current time, then pump. */
static void world_poll(struct world *w)
{
	for (int i = 0; i < w->nhosts; i++) {
		if (w->hosts[i].im)
			impair_poll(w->hosts[i].im, w->now);
		tapir_stack_poll(w->hosts[i].st, w->now);
	}
	world_pump(w);
}

void world_advance(struct world *w, uint64_t ns)
{
	uint64_t target = w->now + ns;

	world_pump(w);
	for (unsigned guard = 0;; guard++) {
		uint64_t next = TAPIR_STACK_NO_DEADLINE;

		for (int i = 0; i < w->nhosts; i++) {
			uint64_t d = tapir_stack_next_deadline(w->hosts[i].st);

			if (d < next)
				next = d;
			if (w->hosts[i].im && (d = impair_next_deadline(w->hosts[i].im)) < next)
				next = d;
		}
		if (next > target)
			break;
		if (guard > 10000000)
			abort(); /* a timer that never stops firing */
		if (next > w->now)
			w->now = next;
		world_poll(w);
	}
	w->now = target;
	world_poll(w);
}
