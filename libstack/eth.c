/*
 * eth.c - Ethernet II: input demultiplexing and the write path to the device
 *
 * Input accepts frames to our MAC and to group (broadcast/multicast)
 * addresses, and drops runts, frames from group source addresses and unknown
 * EtherTypes, each counted.  Output asks the device for a buffer, writes the
 * 14-byte header and lends the rest to the caller's fill function.  Frames
 * shorter than the 60-byte Ethernet minimum are zero-padded.
 */
#include <errno.h>
#include <string.h>

#include "internal.h"
#include "ipv6_internal.h"
#include "wire/eth.h"

#define ETH_MIN_FRAME 60

void eth_input(struct tapir_stack *st, const uint8_t *frame, size_t len, unsigned flags)
{
	struct eth_view v;
	const uint8_t *dst;
	bool group;

	CTR_INC(st, ETH_RX);
	if (eth_view_check(&v, frame, len) < 0) {
		CTR_INC(st, ETH_DROP_RUNT);
		return;
	}
	dst = eth_dst(&v);
	group = eth_addr_is_multicast(dst);
	if (!group && memcmp(dst, st->mac, 6) != 0) {
		CTR_INC(st, ETH_DROP_NOT_US);
		return;
	}
	if (eth_addr_is_multicast(eth_src(&v))) {
		CTR_INC(st, ETH_DROP_SRC_MULTICAST);
		return;
	}
	switch (eth_ethertype(&v)) {
	case TAPIR_ETHERTYPE_IPV4:
		if (!group)
			arp_ip_seen(st, eth_src(&v), eth_payload(&v), eth_payload_len(&v));
		ipv4_input(st, eth_payload(&v), eth_payload_len(&v), group, flags);
		break;
	case TAPIR_ETHERTYPE_ARP:
		arp_input(st, eth_payload(&v), eth_payload_len(&v));
		break;
	case TAPIR_ETHERTYPE_IPV6:
		ipv6_input(st, eth_payload(&v), eth_payload_len(&v), group, flags);
		break;
	default:
		CTR_INC(st, ETH_DROP_ETHERTYPE);
		break;
	}
}

struct eth_fill_ctx {
	struct eth_repr hdr;
	size_t size;
	tapir_netif_fill_fn fill;
	void *ctx;
};

static size_t eth_fill(uint8_t *buf, size_t size, void *arg)
{
	struct eth_fill_ctx *c = arg;
	size_t n;

	eth_repr_emit(&c->hdr, buf);
	n = ETH_HDR_LEN + c->fill(buf + ETH_HDR_LEN, c->size, c->ctx);
	if (n < ETH_MIN_FRAME && size >= ETH_MIN_FRAME) {
		memset(buf + n, 0, ETH_MIN_FRAME - n);
		n = ETH_MIN_FRAME;
	}
	return n;
}

int tapir_eth_write(struct tapir_stack *st, const uint8_t *src, const uint8_t dst[6],
		    uint16_t ethertype, size_t size, tapir_netif_fill_fn fill, void *ctx)
{
	struct eth_fill_ctx c;
	size_t frame;
	int rc;

	if (size == 0)
		size = st->mtu;
	if (size > st->mtu)
		return -EMSGSIZE;
	memcpy(c.hdr.dst, dst, 6);
	memcpy(c.hdr.src, src ? src : st->mac, 6);
	c.hdr.ethertype = ethertype;
	c.size = size;
	c.fill = fill;
	c.ctx = ctx;
	frame = ETH_HDR_LEN + size;
	if (frame < ETH_MIN_FRAME)
		frame = ETH_MIN_FRAME;
	rc = st->nif.ops->write(st->nif.dev, frame, eth_fill, &c);
	if (rc < 0) {
		CTR_INC(st, ETH_TX_ERR);
		return rc;
	}
	CTR_INC(st, ETH_TX);
	return 0;
}

void ip_gather(uint8_t *dst, const struct tapir_stack_iov *pieces, int npieces, size_t off,
	       size_t len)
{
	for (int i = 0; i < npieces && len; i++) {
		size_t pl = pieces[i].len, n;

		if (off >= pl) {
			off -= pl;
			continue;
		}
		n = pl - off < len ? pl - off : len;
		memcpy(dst, (const uint8_t *)pieces[i].base + off, n);
		dst += n;
		len -= n;
		off = 0;
	}
}

int ip_tcp_gso(struct tapir_netif_gso *g, int type, const struct tapir_stack_iov *pieces,
	       int npieces, size_t total, size_t iphl, size_t mtu, uint16_t gso_size)
{
	uint8_t th[13];
	size_t thl;

	if (total < sizeof(th))
		return -EMSGSIZE;
	ip_gather(th, pieces, npieces, 0, sizeof(th));
	thl = (size_t)(th[12] >> 4) * 4;
	if (thl < 20 || thl > total || iphl + thl + gso_size > mtu)
		return -EMSGSIZE;
	g->type = (uint8_t)type;
	g->hdr_len = (uint16_t)(ETH_HDR_LEN + iphl + thl);
	g->gso_size = gso_size;
	g->csum_start = (uint16_t)(ETH_HDR_LEN + iphl);
	g->csum_offset = 16;  /* the TCP checksum */
	return 0;
}

int eth_write_gso(struct tapir_stack *st, const uint8_t dst[6], size_t size,
		  const struct tapir_netif_gso *g, tapir_netif_fill_fn fill, void *ctx)
{
	struct eth_fill_ctx c;
	int rc;

	bool v6 = g->type == TAPIR_NETIF_GSO_TCPV6;

	if (!(v6 ? st->tso6 : st->tso) || size > 65535)
		return -EMSGSIZE;
	memcpy(c.hdr.dst, dst, 6);
	memcpy(c.hdr.src, st->mac, 6);
	c.hdr.ethertype = v6 ? TAPIR_ETHERTYPE_IPV6 : TAPIR_ETHERTYPE_IPV4;
	c.size = size;
	c.fill = fill;
	c.ctx = ctx;
	st->off.ops->set_gso(st->off.dev, g);
	rc = st->nif.ops->write(st->nif.dev, ETH_HDR_LEN + size, eth_fill, &c);
	st->off.ops->set_gso(st->off.dev, NULL);  /* in case write() never reached it */
	if (rc < 0) {
		CTR_INC(st, ETH_TX_ERR);
		return rc;
	}
	CTR_INC(st, ETH_TX);
	return 0;
}
