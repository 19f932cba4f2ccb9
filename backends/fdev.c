/*
 * fdev.c - generic frame device over a file descriptor (see fdev.h)
 */
#include "fdev.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define FDEV_ALIGN 64
/* Room before each buffer for the virtio-net header, which is read and
 * written in one piece with the frame: one read(2)/write(2), no iovec to
 * import, and the frame still starts 64-byte aligned. */
#define FDEV_HEADROOM FDEV_ALIGN

/* struct virtio_net_hdr (<linux/virtio_net.h>), little-endian fields */
#define VNET_HDR_LEN 10
#define VNET_F_NEEDS_CSUM 1
#define VNET_F_DATA_VALID 2
#define VNET_GSO_NONE 0
#define VNET_GSO_TCPV4 1
#define VNET_GSO_TCPV6 4

int fdev_init(struct fdev *d, int fd, size_t mtu, const uint8_t mac[6])
{
	memset(d, 0, sizeof(*d));
	d->fd = fd;
	if (mtu < 68 || mtu > FDEV_MTU_MAX)
		return -EINVAL;
	d->mtu = mtu;
	memcpy(d->mac, mac, 6);
	void *tx = NULL, *rx = NULL;
	if (posix_memalign(&tx, FDEV_ALIGN, FDEV_HEADROOM + mtu + FDEV_ETH_HLEN))
		return -ENOMEM;
	if (posix_memalign(&rx, FDEV_ALIGN, FDEV_HEADROOM + FDEV_RX_MAX)) {
		free(tx);
		return -ENOMEM;
	}
	d->tx_buf = (uint8_t *)tx + FDEV_HEADROOM;
	d->rx_buf = (uint8_t *)rx + FDEV_HEADROOM;
	return 0;
}

int fdev_enable_vnet(struct fdev *d)
{
	void *tx = NULL;

	if (d->vnet)
		return 0;
	if (posix_memalign(&tx, FDEV_ALIGN, FDEV_HEADROOM + FDEV_RX_MAX))
		return -ENOMEM;
	free(d->tx_buf - FDEV_HEADROOM);
	d->tx_buf = (uint8_t *)tx + FDEV_HEADROOM;
	d->vnet = true;
	return 0;
}

void fdev_destroy(struct fdev *d)
{
	if (d->tx_buf)
		free(d->tx_buf - FDEV_HEADROOM);
	if (d->rx_buf)
		free(d->rx_buf - FDEV_HEADROOM);
	d->tx_buf = d->rx_buf = NULL;
}

static size_t fdev_mtu(void *dev)
{
	return ((struct fdev *)dev)->mtu;
}

static void fdev_mac(void *dev, uint8_t mac[6])
{
	memcpy(mac, ((struct fdev *)dev)->mac, 6);
}

static void put_le16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

/* Send @len bytes of tx_buf, after the virtio-net header @vh when the
 * device has one.  Return: 0 or a negative errno (counted) */
static int fdev_send(struct fdev *d, const uint8_t *vh, size_t len)
{
	uint8_t *start = d->tx_buf;
	size_t want = len;
	if (d->vnet) {
		start -= VNET_HDR_LEN;
		memcpy(start, vh, VNET_HDR_LEN);
		want += VNET_HDR_LEN;
	}
	ssize_t n;
	do
		n = write(d->fd, start, want);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		int e = errno;
		if (e == EAGAIN || e == EWOULDBLOCK || e == ENOBUFS) {
			d->stats.tx_drops++;
			return -ENOBUFS;
		}
		d->stats.tx_errors++;
		return -e;
	}
	if ((size_t)n != want) {
		d->stats.tx_errors++;
		return -EIO;
	}
	d->stats.tx_frames++;
	d->stats.tx_bytes += len;
	return 0;
}

static int fdev_write(void *dev, size_t size, tapir_netif_fill_fn fill, void *ctx)
{
	struct fdev *d = dev;
	uint8_t vh[VNET_HDR_LEN] = { 0 };  /* no offload: all zero */
	bool gso = d->gso_pending;
	d->gso_pending = false;  /* set_gso() covers this one write only */
	if (size > (gso ? FDEV_RX_MAX : d->mtu + FDEV_ETH_HLEN))
		return -EMSGSIZE;
	size_t len = fill(d->tx_buf, size, ctx);
	if (len > size)
		len = size;
	if (gso) {
		vh[0] = VNET_F_NEEDS_CSUM;
		vh[1] = d->gso.type == TAPIR_NETIF_GSO_TCPV6 ? VNET_GSO_TCPV6 : VNET_GSO_TCPV4;
		put_le16(vh + 2, d->gso.hdr_len);
		put_le16(vh + 4, d->gso.gso_size);
		put_le16(vh + 6, d->gso.csum_start);
		put_le16(vh + 8, d->gso.csum_offset);
	}
	return fdev_send(d, vh, len);
}

static unsigned fdev_offloads(void *dev)
{
	struct fdev *d = dev;
	return d->vnet ? TAPIR_NETIF_OFF_TSO4 | TAPIR_NETIF_OFF_TSO6 | TAPIR_NETIF_OFF_RX_CSUM : 0;
}

static void fdev_set_gso(void *dev, const struct tapir_netif_gso *g)
{
	struct fdev *d = dev;
	d->gso_pending = g && d->vnet &&
			 (g->type == TAPIR_NETIF_GSO_TCPV4 || g->type == TAPIR_NETIF_GSO_TCPV6);
	if (d->gso_pending)
		d->gso = *g;
}

static const struct tapir_netif_ops fdev_ops = {
	.mtu = fdev_mtu,
	.mac = fdev_mac,
	.write = fdev_write,
	.flush = NULL,  /* every write is a system call already */
};

static const struct tapir_netif_offload_ops fdev_offload_ops = {
	.offloads = fdev_offloads,
	.set_gso = fdev_set_gso,
};

void fdev_netif(struct fdev *d, struct tapir_netif *out)
{
	out->ops = &fdev_ops;
	out->dev = d;
}

void fdev_netif_offload(struct fdev *d, struct tapir_netif_offload *out)
{
	out->ops = d->vnet ? &fdev_offload_ops : NULL;
	out->dev = d;
}

void fdev_rx_area(struct fdev *d, void **buf, size_t *len)
{
	*buf = d->vnet ? d->rx_buf - VNET_HDR_LEN : d->rx_buf;
	*len = d->vnet ? VNET_HDR_LEN + FDEV_RX_MAX : FDEV_RX_MAX;
}

int fdev_rx_frame(struct fdev *d, size_t n, fdev_rx_fn cb, void *ctx)
{
	const uint8_t *vh = d->rx_buf - VNET_HDR_LEN;
	unsigned flags = 0;

	if (d->vnet) {
		if (n < VNET_HDR_LEN) {  /* cannot happen with a TAP: count, skip */
			d->stats.rx_errors++;
			return 0;
		}
		n -= VNET_HDR_LEN;
		if (vh[0] & VNET_F_NEEDS_CSUM)
			flags |= TAPIR_NETIF_RX_CSUM_PARTIAL;
		if (vh[0] & VNET_F_DATA_VALID)
			flags |= TAPIR_NETIF_RX_CSUM_VALID;
		if (vh[1] != VNET_GSO_NONE)
			flags |= TAPIR_NETIF_RX_GSO;
	}
	if (n == 0) {  /* nothing to pass on */
		d->stats.rx_empty++;
		return 0;
	}
	d->stats.rx_frames++;
	d->stats.rx_bytes += n;
	cb(ctx, d->rx_buf, n, flags);
	return 1;
}

int fdev_read_batch(struct fdev *d, size_t max, fdev_rx_fn cb, void *ctx)
{
	size_t got = 0, len;
	void *buf;

	fdev_rx_area(d, &buf, &len);
	while (got < max) {
		ssize_t n = read(d->fd, buf, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return (int)got;
			d->stats.rx_errors++;
			return -errno;
		}
		if (n == 0 || (d->vnet && n == VNET_HDR_LEN)) {
			/* nothing to pass on; stop rather than spin */
			d->stats.rx_empty++;
			return (int)got;
		}
		if (fdev_rx_frame(d, (size_t)n, cb, ctx))
			got++;
	}
	d->stats.rx_capped++;
	return (int)got;
}
