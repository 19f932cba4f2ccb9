/*
 * tap.c - Linux TAP backend (see tap.h)
 */
#include "pcap.h"
#include "tap.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

struct tap {
	struct fdev dev;
	int fd;
	char name[IFNAMSIZ];
	bool created;
	struct pcapdev *pc;  /* tap_open_pcap(): frames through libpcap instead */
};

int tap_open_pcap(struct tap **out, const char *device, size_t mtu, const uint8_t mac[6],
		  char *err, size_t errlen)
{
	struct tap *t = calloc(1, sizeof(*t));
	if (!t || strlen(device) >= IFNAMSIZ) {
		free(t);
		snprintf(err, errlen, "'%s': bad interface name", device);
		return -EINVAL;
	}
	t->fd = -1;
	strcpy(t->name, device);
	int rc = pcapdev_open(&t->pc, device, mtu, mac, err, errlen);
	if (rc) {
		free(t);
		return rc;
	}
	*out = t;
	return 0;
}

/* Set the MTU and IFF_UP of interface @name through an ioctl socket. */
static int tap_configure(const char *name, size_t mtu, char *err, size_t errlen)
{
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0) {
		int e = errno;
		snprintf(err, errlen, "%s: socket: %s", name, strerror(e));
		return -e;
	}
	struct ifreq ifr;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, IFNAMSIZ, "%s", name);
	ifr.ifr_mtu = (int)mtu;
	int rc = 0;
	if (ioctl(s, SIOCSIFMTU, &ifr) < 0) {
		rc = -errno;
		snprintf(err, errlen, "%s: cannot set MTU %zu: %s", name, mtu, strerror(-rc));
		goto out;
	}
	if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0) {
		rc = -errno;
		snprintf(err, errlen, "%s: cannot read flags: %s", name, strerror(-rc));
		goto out;
	}
	ifr.ifr_flags |= IFF_UP;
	if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0) {
		rc = -errno;
		snprintf(err, errlen, "%s: cannot bring up: %s", name, strerror(-rc));
	}
out:
	close(s);
	return rc;
}

int tap_open(struct tap **out, const char *name, size_t mtu, const uint8_t mac[6], char *err,
	     size_t errlen)
{
	size_t nlen = strlen(name);
	if (nlen == 0 || nlen >= IFNAMSIZ) {
		snprintf(err, errlen, "'%s': bad interface name", name);
		return -EINVAL;
	}
	if (mtu < 68 || mtu > FDEV_MTU_MAX) {
		snprintf(err, errlen, "%s: MTU %zu out of range (68 to %d)", name, mtu,
			 FDEV_MTU_MAX);
		return -EINVAL;
	}
	struct tap *t = calloc(1, sizeof(*t));
	if (!t) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	t->fd = -1;
	bool existed = if_nametoindex(name) != 0;

	t->fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (t->fd < 0) {
		int e = errno;
		snprintf(err, errlen, "/dev/net/tun: %s", strerror(e));
		free(t);
		return -e;
	}
	struct ifreq ifr;
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
	memcpy(ifr.ifr_name, name, nlen);
	if (ioctl(t->fd, TUNSETIFF, &ifr) < 0) {
		int e = errno;
		snprintf(err, errlen, "%s: cannot attach as TAP (TUNSETIFF): %s%s", name,
			 strerror(e),
			 e == EINVAL || e == EBUSY ? " (is it a TAP device, and free?)" : "");
		tap_close(t);
		return -e;
	}
	memcpy(t->name, ifr.ifr_name, IFNAMSIZ);
	t->name[IFNAMSIZ - 1] = '\0';
	t->created = !existed;
	int rc;
	if (t->created) {
		rc = tap_configure(t->name, mtu, err, errlen);
		if (rc) {
			tap_close(t);
			return rc;
		}
	}
	rc = fdev_init(&t->dev, t->fd, mtu, mac);
	if (rc) {
		snprintf(err, errlen, "%s: %s", name, strerror(-rc));
		tap_close(t);
		return rc;
	}
	*out = t;
	return 0;
}

void tap_close(struct tap *t)
{
	if (!t)
		return;
	fdev_destroy(&t->dev);
	pcapdev_close(t->pc);
	if (t->fd >= 0)
		close(t->fd);
	free(t);
}

void tap_netif(struct tap *t, struct netif *out)
{
	if (t->pc)
		pcapdev_netif(t->pc, out);
	else
		fdev_netif(&t->dev, out);
}

int tap_fd(const struct tap *t)
{
	return t->pc ? pcapdev_fd(t->pc) : t->fd;
}

const char *tap_name(const struct tap *t)
{
	return t->name;
}

bool tap_created(const struct tap *t)
{
	return t->created;
}

int tap_kernel_mtu(const struct tap *t)
{
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return -errno;
	struct ifreq ifr;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, IFNAMSIZ, "%s", t->name);
	int rc = ioctl(s, SIOCGIFMTU, &ifr) < 0 ? -errno : ifr.ifr_mtu;
	close(s);
	return rc;
}

int tap_read_batch(struct tap *t, tap_rx_fn cb, void *ctx)
{
	if (t->pc)
		return pcapdev_read_batch(t->pc, TAP_BATCH_MAX, cb, ctx);
	return fdev_read_batch(&t->dev, TAP_BATCH_MAX, cb, ctx);
}

void tap_get_stats(const struct tap *t, struct fdev_stats *out)
{
	if (t->pc)
		pcapdev_get_stats(t->pc, out);
	else
		*out = t->dev.stats;
}
