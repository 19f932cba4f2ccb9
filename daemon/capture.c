/*
 * capture.c - packet capture to a pcap file (libpcap's dump writer)
 */
#include <errno.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "capture.h"

#define CAPTURE_SNAPLEN_MAX 262144

struct capture {
	pcap_t *dead;
	pcap_dumper_t *dump;
	struct capture_info info;
	struct netif inner;
};

struct capture *capture_new(void)
{
	return calloc(1, sizeof(struct capture));
}

void capture_free(struct capture *c)
{
	if (!c)
		return;
	capture_stop(c);
	free(c);
}

int capture_start(struct capture *c, const char *path, uint64_t max_frames, uint64_t max_bytes,
		  uint32_t snaplen, char *err, size_t errlen)
{
	if (c->dump) {
		snprintf(err, errlen, "already capturing to %s", c->info.file);
		return -EBUSY;
	}
	if (strlen(path) >= sizeof(c->info.file) || !*path) {
		snprintf(err, errlen, "bad file name");
		return -EINVAL;
	}
	if (snaplen == 0 || snaplen > CAPTURE_SNAPLEN_MAX)
		snaplen = CAPTURE_SNAPLEN_MAX;
	pcap_t *dead = pcap_open_dead(DLT_EN10MB, (int)snaplen);
	if (!dead) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	errno = 0;
	pcap_dumper_t *dump = pcap_dump_open(dead, path);
	if (!dump) {
		int e = errno ? errno : EIO;
		snprintf(err, errlen, "%s", pcap_geterr(dead));
		pcap_close(dead);
		return -e;
	}
	c->dead = dead;
	c->dump = dump;
	memset(&c->info, 0, sizeof(c->info));
	c->info.active = true;
	strcpy(c->info.file, path);
	c->info.max_frames = max_frames;
	c->info.max_bytes = max_bytes;
	c->info.snaplen = snaplen;
	c->info.bytes = 24;  /* the file header */
	return 0;
}

int capture_stop(struct capture *c)
{
	if (!c->dump)
		return -ENOENT;
	pcap_dump_close(c->dump);
	pcap_close(c->dead);
	c->dump = NULL;
	c->dead = NULL;
	c->info.active = false;
	return 0;
}

void capture_get_info(const struct capture *c, struct capture_info *out)
{
	*out = c->info;
}

void capture_frame(struct capture *c, const uint8_t *frame, size_t len)
{
	if (!c || !c->dump)
		return;
	struct pcap_pkthdr h;
	gettimeofday(&h.ts, NULL);
	h.len = (bpf_u_int32)len;
	h.caplen = (bpf_u_int32)(len < c->info.snaplen ? len : c->info.snaplen);
	pcap_dump((u_char *)c->dump, &h, frame);
	c->info.frames++;
	c->info.bytes += 16 + h.caplen;
	if ((c->info.max_frames && c->info.frames >= c->info.max_frames) ||
	    (c->info.max_bytes && c->info.bytes >= c->info.max_bytes))
		capture_stop(c);
	else if (c->info.frames % 64 == 0)
		pcap_dump_flush(c->dump);
}

/* ---- the tap-through netif ---- */

struct fill_wrap {
	struct capture *c;
	netif_fill_fn fill;
	void *ctx;
};

static size_t wrap_fill(uint8_t *buf, size_t size, void *arg)
{
	struct fill_wrap *w = arg;
	size_t n = w->fill(buf, size, w->ctx);
	capture_frame(w->c, buf, n);
	return n;
}

static size_t cap_mtu(void *dev)
{
	struct capture *c = dev;
	return c->inner.ops->mtu(c->inner.dev);
}

static void cap_mac(void *dev, uint8_t mac[6])
{
	struct capture *c = dev;
	c->inner.ops->mac(c->inner.dev, mac);
}

static int cap_write(void *dev, size_t size, netif_fill_fn fill, void *ctx)
{
	struct capture *c = dev;
	if (!c->dump)
		return c->inner.ops->write(c->inner.dev, size, fill, ctx);
	struct fill_wrap w = { c, fill, ctx };
	return c->inner.ops->write(c->inner.dev, size, wrap_fill, &w);
}

static void cap_flush(void *dev)
{
	struct capture *c = dev;
	if (c->inner.ops->flush)
		c->inner.ops->flush(c->inner.dev);
}

static const struct netif_ops cap_ops = {
	.mtu = cap_mtu,
	.mac = cap_mac,
	.write = cap_write,
	.flush = cap_flush,
};

void capture_netif(struct capture *c, const struct netif *inner, struct netif *out)
{
	c->inner = *inner;
	out->ops = &cap_ops;
	out->dev = c;
}
