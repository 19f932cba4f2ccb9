/*
 * vnetif.c - in-process virtual Ethernet switch (see vnetif.h)
 */
#include "vnetif.h"

#include <errno.h>
#include <stdalign.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define ETH_HDR_LEN 14
#define LEARN_SLOTS 1024u  /* direct-mapped MAC -> port cache, power of two */

struct vnet_port {
	struct vnet *net;
	size_t index;
	uint8_t mac[6];
	size_t mtu;
	vnet_rx_fn rx;
	void *ctx;
};

struct vnet_frame {
	struct vnet_frame *next;
	size_t src_port;
	size_t len;
	size_t size;  /* bytes accounted in qbytes */
	alignas(max_align_t) uint8_t data[];
};

struct learn_slot {
	uint8_t mac[6];
	bool used;
	size_t port;
};

struct vnet {
	struct vnet_port **ports;
	size_t nports, cap_ports;
	struct vnet_frame *head, *tail;
	size_t qframes, qbytes;
	bool delivering;
	vnet_rx_fn monitor;
	void *monitor_ctx;
	struct learn_slot learn[LEARN_SLOTS];
	struct vnet_stats stats;
};

static const struct tapir_netif_ops vnet_ops;

struct vnet *vnet_new(void)
{
	return calloc(1, sizeof(struct vnet));
}

void vnet_free(struct vnet *n)
{
	if (!n)
		return;
	struct vnet_frame *f = n->head;
	while (f) {
		struct vnet_frame *next = f->next;
		free(f);
		f = next;
	}
	for (size_t i = 0; i < n->nports; i++)
		free(n->ports[i]);
	free(n->ports);
	free(n);
}

int vnet_attach(struct vnet *n, const uint8_t mac[6], size_t mtu, vnet_rx_fn rx, void *ctx,
		struct tapir_netif *out)
{
	if (!n || !mac || !rx || !out || mtu == 0 || mtu > 65535 || n->nports >= VNET_MAX_PORTS)
		return -EINVAL;
	if (n->nports == n->cap_ports) {
		size_t cap = n->cap_ports ? n->cap_ports * 2 : 8;
		struct vnet_port **p = realloc(n->ports, cap * sizeof(*p));
		if (!p)
			return -ENOMEM;
		n->ports = p;
		n->cap_ports = cap;
	}
	struct vnet_port *port = calloc(1, sizeof(*port));
	if (!port)
		return -ENOMEM;
	port->net = n;
	port->index = n->nports;
	memcpy(port->mac, mac, 6);
	port->mtu = mtu;
	port->rx = rx;
	port->ctx = ctx;
	n->ports[n->nports++] = port;
	out->ops = &vnet_ops;
	out->dev = port;
	return 0;
}

static size_t learn_hash(const uint8_t mac[6])
{
	uint32_t h = 2166136261u;
	for (int i = 0; i < 6; i++)
		h = (h ^ mac[i]) * 16777619u;
	return h & (LEARN_SLOTS - 1);
}

static void learn(struct vnet *n, const uint8_t mac[6], size_t port)
{
	if (mac[0] & 1)  /* never learn a group address */
		return;
	struct learn_slot *s = &n->learn[learn_hash(mac)];
	memcpy(s->mac, mac, 6);
	s->used = true;
	s->port = port;
}

/* Return: port index for unicast @mac, or SIZE_MAX if unknown */
static size_t lookup(const struct vnet *n, const uint8_t mac[6])
{
	for (size_t i = 0; i < n->nports; i++)
		if (!memcmp(n->ports[i]->mac, mac, 6))
			return i;
	const struct learn_slot *s = &n->learn[learn_hash(mac)];
	if (s->used && !memcmp(s->mac, mac, 6))
		return s->port;
	return SIZE_MAX;
}

static size_t vnet_if_mtu(void *dev)
{
	return ((struct vnet_port *)dev)->mtu;
}

static void vnet_if_mac(void *dev, uint8_t mac[6])
{
	memcpy(mac, ((struct vnet_port *)dev)->mac, 6);
}

static int vnet_if_write(void *dev, size_t size, tapir_netif_fill_fn fill, void *ctx)
{
	struct vnet_port *port = dev;
	struct vnet *n = port->net;

	if (size > port->mtu + ETH_HDR_LEN) {
		n->stats.drop_too_big++;
		return -EMSGSIZE;
	}
	if (n->qframes >= VNET_QUEUE_MAX_FRAMES || size > VNET_QUEUE_MAX_BYTES - n->qbytes) {
		n->stats.drop_queue_full++;
		return -ENOBUFS;
	}
	struct vnet_frame *f = malloc(sizeof(*f) + (size ? size : 1));
	if (!f) {
		n->stats.drop_queue_full++;
		return -ENOBUFS;
	}
	size_t len = fill(f->data, size, ctx);
	if (len > size)  /* a broken fill: never trust it beyond the buffer */
		len = size;
	f->next = NULL;
	f->src_port = port->index;
	f->len = len;
	f->size = size;
	if (n->monitor)
		n->monitor(n->monitor_ctx, f->data, f->len);
	if (n->tail)
		n->tail->next = f;
	else
		n->head = f;
	n->tail = f;
	n->qframes++;
	n->qbytes += size;
	n->stats.queued++;
	return 0;
}

static const struct tapir_netif_ops vnet_ops = {
	.mtu = vnet_if_mtu,
	.mac = vnet_if_mac,
	.write = vnet_if_write,
	.flush = NULL,
};

static void deliver_to(struct vnet *n, size_t port, const struct vnet_frame *f)
{
	struct vnet_port *p = n->ports[port];
	if (f->len > p->mtu + ETH_HDR_LEN) {
		n->stats.drop_too_big++;
		return;
	}
	n->stats.port_deliveries++;
	p->rx(p->ctx, f->data, f->len);
}

static void switch_frame(struct vnet *n, const struct vnet_frame *f)
{
	if (f->len < ETH_HDR_LEN) {
		n->stats.drop_runt++;
		return;
	}
	const uint8_t *dst = f->data, *src = f->data + 6;
	learn(n, src, f->src_port);

	size_t to = SIZE_MAX;
	if (!(dst[0] & 1)) {
		to = lookup(n, dst);
		if (to == f->src_port) {  /* for the sender itself: a switch drops it */
			n->stats.drop_no_port++;
			return;
		}
		if (to != SIZE_MAX) {
			deliver_to(n, to, f);
			return;
		}
		n->stats.flooded++;
	}
	bool any = false;
	/* Ports attached during a callback get the frame too: nports is re-read. */
	for (size_t i = 0; i < n->nports; i++) {
		if (i == f->src_port)
			continue;
		any = true;
		deliver_to(n, i, f);
	}
	if (!any)
		n->stats.drop_no_port++;
}

size_t vnet_deliver(struct vnet *n, size_t max)
{
	if (!n || n->delivering)
		return 0;
	n->delivering = true;
	size_t done = 0;
	while (n->head && (max == 0 || done < max)) {
		struct vnet_frame *f = n->head;
		n->head = f->next;
		if (!n->head)
			n->tail = NULL;
		n->qframes--;
		n->qbytes -= f->size;
		done++;
		n->stats.delivered++;
		switch_frame(n, f);
		free(f);
	}
	n->delivering = false;
	return done;
}

size_t vnet_pending(const struct vnet *n)
{
	return n ? n->qframes : 0;
}

void vnet_set_monitor(struct vnet *n, vnet_rx_fn fn, void *ctx)
{
	n->monitor = fn;
	n->monitor_ctx = ctx;
}

void vnet_get_stats(const struct vnet *n, struct vnet_stats *out)
{
	*out = n->stats;
}
