/*
 * fdev.c - generic frame device over a file descriptor (see fdev.h)
 */
#include "fdev.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define FDEV_ALIGN 64

int fdev_init(struct fdev *d, int fd, size_t mtu, const uint8_t mac[6])
{
	memset(d, 0, sizeof(*d));
	d->fd = fd;
	if (mtu < 68 || mtu > FDEV_MTU_MAX)
		return -EINVAL;
	d->mtu = mtu;
	memcpy(d->mac, mac, 6);
	void *tx = NULL, *rx = NULL;
	if (posix_memalign(&tx, FDEV_ALIGN, mtu + FDEV_ETH_HLEN))
		return -ENOMEM;
	if (posix_memalign(&rx, FDEV_ALIGN, FDEV_RX_MAX)) {
		free(tx);
		return -ENOMEM;
	}
	d->tx_buf = tx;
	d->rx_buf = rx;
	return 0;
}

void fdev_destroy(struct fdev *d)
{
	free(d->tx_buf);
	free(d->rx_buf);
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

static int fdev_write(void *dev, size_t size, netif_fill_fn fill, void *ctx)
{
	struct fdev *d = dev;
	if (size > d->mtu + FDEV_ETH_HLEN)
		return -EMSGSIZE;
	size_t len = fill(d->tx_buf, size, ctx);
	if (len > size)
		len = size;
	ssize_t n;
	do
		n = write(d->fd, d->tx_buf, len);
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
	if ((size_t)n != len) {
		d->stats.tx_errors++;
		return -EIO;
	}
	d->stats.tx_frames++;
	d->stats.tx_bytes += len;
	return 0;
}

static const struct netif_ops fdev_ops = {
	.mtu = fdev_mtu,
	.mac = fdev_mac,
	.write = fdev_write,
	.flush = NULL,  /* every write is a system call already */
};

void fdev_netif(struct fdev *d, struct netif *out)
{
	out->ops = &fdev_ops;
	out->dev = d;
}

int fdev_read_batch(struct fdev *d, size_t max, fdev_rx_fn cb, void *ctx)
{
	size_t got = 0;
	while (got < max) {
		ssize_t n = read(d->fd, d->rx_buf, FDEV_RX_MAX);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return (int)got;
			d->stats.rx_errors++;
			return -errno;
		}
		if (n == 0) {  /* nothing to pass on; stop rather than spin */
			d->stats.rx_empty++;
			return (int)got;
		}
		got++;
		d->stats.rx_frames++;
		d->stats.rx_bytes += (size_t)n;
		cb(ctx, d->rx_buf, (size_t)n);
	}
	d->stats.rx_capped++;
	return (int)got;
}
