/*
 * pcap.c - pcap backend: frames on an existing interface through libpcap
 */
#include <errno.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pcap.h"

struct pcapdev {
	pcap_t *p;
	size_t mtu;
	uint8_t mac[6];
	uint8_t *tx_buf;
	struct fdev_stats stats;
	/* read_batch's callback */
	fdev_rx_fn cb;
	void *ctx;
};

static size_t p_mtu(void *dev)
{
	return ((struct pcapdev *)dev)->mtu;
}

static void p_mac(void *dev, uint8_t mac[6])
{
	memcpy(mac, ((struct pcapdev *)dev)->mac, 6);
}

static int p_write(void *dev, size_t size, tapir_netif_fill_fn fill, void *ctx)
{
	struct pcapdev *d = dev;
	if (size > d->mtu + FDEV_ETH_HLEN)
		return -EMSGSIZE;
	size_t n = fill(d->tx_buf, size, ctx);
	if (pcap_inject(d->p, d->tx_buf, n) != (int)n) {
		d->stats.tx_errors++;
		return -EIO;
	}
	d->stats.tx_frames++;
	d->stats.tx_bytes += n;
	return 0;
}

static const struct tapir_netif_ops p_ops = { .mtu = p_mtu, .mac = p_mac, .write = p_write };

int pcapdev_open(struct pcapdev **out, const char *device, size_t mtu, const uint8_t mac[6],
		 char *err, size_t errlen)
{
	char ebuf[PCAP_ERRBUF_SIZE] = "";
	if (mtu < 68 || mtu > FDEV_MTU_MAX) {
		snprintf(err, errlen, "%s: bad MTU %zu", device, mtu);
		return -EINVAL;
	}
	struct pcapdev *d = calloc(1, sizeof(*d));
	if (!d || !(d->tx_buf = malloc(mtu + FDEV_ETH_HLEN))) {
		free(d);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	d->mtu = mtu;
	memcpy(d->mac, mac, 6);
	d->p = pcap_create(device, ebuf);
	int rc = d->p ? 0 : -ENODEV;
	if (!rc && (pcap_set_snaplen(d->p, (int)(mtu + FDEV_ETH_HLEN + 4)) ||
		    pcap_set_promisc(d->p, 1) || pcap_set_immediate_mode(d->p, 1)))
		rc = -EINVAL;
	if (!rc) {
		int a = pcap_activate(d->p);
		if (a < 0) {
			snprintf(ebuf, sizeof(ebuf), "%s", pcap_geterr(d->p));
			rc = a == PCAP_ERROR_PERM_DENIED ? -EPERM :
			     a == PCAP_ERROR_NO_SUCH_DEVICE ? -ENODEV : -EIO;
		}
	}
	if (!rc && pcap_datalink(d->p) != DLT_EN10MB) {
		snprintf(ebuf, sizeof(ebuf), "not an Ethernet interface");
		rc = -EINVAL;
	}
	if (!rc && (pcap_setnonblock(d->p, 1, ebuf) || pcap_setdirection(d->p, PCAP_D_IN))) {
		if (!*ebuf)
			snprintf(ebuf, sizeof(ebuf), "%s", pcap_geterr(d->p));
		rc = -EIO;
	}
	if (!rc && pcap_get_selectable_fd(d->p) < 0) {
		snprintf(ebuf, sizeof(ebuf), "no selectable descriptor");
		rc = -EINVAL;
	}
	if (rc) {
		snprintf(err, errlen, "pcap %s: %s", device, ebuf);
		pcapdev_close(d);
		return rc;
	}
	*out = d;
	return 0;
}

void pcapdev_close(struct pcapdev *d)
{
	if (!d)
		return;
	if (d->p)
		pcap_close(d->p);
	free(d->tx_buf);
	free(d);
}

void pcapdev_netif(struct pcapdev *d, struct tapir_netif *out)
{
	out->ops = &p_ops;
	out->dev = d;
}

int pcapdev_fd(const struct pcapdev *d)
{
	return pcap_get_selectable_fd(d->p);
}

static void on_packet(u_char *user, const struct pcap_pkthdr *h, const u_char *bytes)
{
	struct pcapdev *d = (struct pcapdev *)user;
	if (h->caplen == 0) {
		d->stats.rx_empty++;
		return;
	}
	d->stats.rx_frames++;
	d->stats.rx_bytes += h->caplen;
	d->cb(d->ctx, bytes, h->caplen, 0);
}

int pcapdev_read_batch(struct pcapdev *d, size_t max, fdev_rx_fn cb, void *ctx)
{
	d->cb = cb;
	d->ctx = ctx;
	int n = pcap_dispatch(d->p, (int)max, on_packet, (u_char *)d);
	if (n == PCAP_ERROR) {
		d->stats.rx_errors++;
		return -EIO;
	}
	if (n == (int)max)
		d->stats.rx_capped++;
	return n < 0 ? 0 : n;
}

void pcapdev_get_stats(const struct pcapdev *d, struct fdev_stats *out)
{
	*out = d->stats;
}
