/*
 * tap.c - frame-device backends: Linux TAP, pcap, macOS vmnet (see tap.h)
 *
 * The TAP parts (linux/if_tun.h, TUNSETIFF, the interface ioctls) are built
 * on Linux only, the vmnet parts on macOS only; the fdev core under both and
 * the pcap backend are the same everywhere.
 */
#include "pcap.h"
#include "tap.h"
#ifdef __APPLE__
#include "vmnet.h"
#endif

#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>
#ifdef __linux__
#include <linux/if_tun.h>
#endif

struct tap {
	struct fdev dev;
	int fd;                    /* tap: ours; vmnet: the bridge's (vmnet.h) */
	char name[IFNAMSIZ];
	uint8_t mac[6];            /* what the stack uses (tap_mac()) */
	bool created;
	struct pcapdev *pc;        /* tap_open_pcap(): frames through libpcap instead */
	struct vmnet_bridge *vm;   /* vmnet: the bridge that owns @fd */
	char offload_err[64];      /* why offloads were asked for but not enabled */
};

static int tap_open_vmnet(struct tap **out, size_t mtu, char *err, size_t errlen);

/*
 * The device record every backend starts from: @name (1..IFNAMSIZ-1
 * characters) and @mac recorded, no descriptor yet; @mtu checked when
 * @check_mtu (pcap checks its own).  Return: the record, or NULL with @err
 * set and *@rc the negative errno
 */
static struct tap *tap_new(const char *name, size_t mtu, bool check_mtu, const uint8_t mac[6],
			   int *rc, char *err, size_t errlen)
{
	size_t nlen = strlen(name);
	*rc = -EINVAL;
	if (nlen == 0 || nlen >= IFNAMSIZ) {
		snprintf(err, errlen, "'%s': bad interface name", name);
		return NULL;
	}
	if (check_mtu && (mtu < 68 || mtu > FDEV_MTU_MAX)) {
		snprintf(err, errlen, "%s: MTU %zu out of range (68 to %d)", name, mtu,
			 FDEV_MTU_MAX);
		return NULL;
	}
	struct tap *t = calloc(1, sizeof(*t));
	if (!t) {
		*rc = -ENOMEM;
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	t->fd = -1;
	memcpy(t->name, name, nlen + 1);
	if (mac)
		memcpy(t->mac, mac, 6);
	return t;
}

static int tap_open_vnet(struct tap **out, const char *name, size_t mtu, const uint8_t mac[6],
			 bool offload, char *err, size_t errlen);

int tap_open_backend(struct tap **out, const char *backend, const char *name, size_t mtu,
		     const uint8_t mac[6], bool offload, char *err, size_t errlen)
{
	if (!strcmp(backend, "tap"))
		return tap_open_vnet(out, name, mtu, mac, offload, err, errlen);
	if (!strcmp(backend, "pcap"))
		return tap_open_pcap(out, name, mtu, mac, err, errlen);
	if (!strcmp(backend, "vmnet"))
		return tap_open_vmnet(out, mtu, err, errlen);
	snprintf(err, errlen, "'%s' is not a backend (tap, pcap or vmnet)", backend);
	return -EINVAL;
}

int tap_open_pcap(struct tap **out, const char *device, size_t mtu, const uint8_t mac[6],
		  char *err, size_t errlen)
{
	int rc;
	struct tap *t = tap_new(device, mtu, false, mac, &rc, err, errlen);
	if (!t)
		return rc;
	rc = pcapdev_open(&t->pc, device, mtu, mac, err, errlen);
	if (rc) {
		free(t);
		return rc;
	}
	*out = t;
	return 0;
}

#ifdef __linux__
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

/*
 * Attach @fd to TAP @name (IFF_TAP | IFF_NO_PI, with IFF_VNET_HDR when
 * @vnet) into @ifr, and set the TAP's offloads to exactly what we use: with
 * @vnet little-endian 10-byte headers and TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6, without
 * none.  A persistent TAP keeps the offloads of whoever attached last: left
 * on, the kernel would hand us partial-checksum (and TSO) frames we cannot
 * take without the header, and every TCP segment would fail its checksum.
 * Return: 0 or -errno
 */
static int tap_attach(int fd, const char *name, bool vnet, struct ifreq *ifr)
{
	memset(ifr, 0, sizeof(*ifr));
	ifr->ifr_flags = IFF_TAP | IFF_NO_PI | (vnet ? IFF_VNET_HDR : 0);
	memcpy(ifr->ifr_name, name, sizeof(ifr->ifr_name));
	if (ioctl(fd, TUNSETIFF, ifr) < 0)
		return -errno;
	if (!vnet)
		return ioctl(fd, TUNSETOFFLOAD, 0UL) < 0 ? -errno : 0;
	int le = 1, sz = 10;
	if (ioctl(fd, TUNSETVNETHDRSZ, &sz) < 0)
		return -errno;
	if (ioctl(fd, TUNSETVNETLE, &le) < 0) {
		int e = errno;
		const uint16_t one = 1;
		/* without the ioctl the header is in host order: fine if that is LE */
		if (*(const uint8_t *)&one != 1)
			return -e;
	}
	if (ioctl(fd, TUNSETOFFLOAD, (unsigned long)(TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6)) < 0)
		return -errno;
	return 0;
}

int tap_open_fd(struct tap **out, int fd, bool vnet, size_t mtu, const uint8_t mac[6],
		char *err, size_t errlen)
{
	struct ifreq ifr;
	int rc;

	memset(&ifr, 0, sizeof(ifr));
	if (ioctl(fd, TUNGETIFF, &ifr) < 0) {
		rc = -errno;
		snprintf(err, errlen, "descriptor %d is not an attached TAP: %s", fd, strerror(-rc));
		return rc;
	}
	ifr.ifr_name[IFNAMSIZ - 1] = '\0';
	struct tap *t = tap_new(ifr.ifr_name, mtu, true, mac, &rc, err, errlen);
	if (!t)
		return rc;
	t->fd = fd;
	(void)fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	(void)fcntl(fd, F_SETFD, FD_CLOEXEC);
	rc = fdev_init(&t->dev, t->fd, mtu, mac);
	if (rc == 0 && vnet)
		rc = fdev_enable_vnet(&t->dev);
	if (rc) {
		snprintf(err, errlen, "%s: %s", t->name, strerror(-rc));
		tap_close(t);
		return rc;
	}
	*out = t;
	return 0;
}

int tap_open(struct tap **out, const char *name, size_t mtu, const uint8_t mac[6], char *err,
	     size_t errlen)
{
	return tap_open_vnet(out, name, mtu, mac, false, err, errlen);
}

static int tap_open_vnet(struct tap **out, const char *name, size_t mtu, const uint8_t mac[6],
			 bool offload, char *err, size_t errlen)
{
	int rc;
	struct tap *t = tap_new(name, mtu, true, mac, &rc, err, errlen);
	if (!t)
		return rc;
	bool existed = if_nametoindex(name) != 0;

	t->fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (t->fd < 0) {
		int e = errno;
		snprintf(err, errlen, "/dev/net/tun: %s", strerror(e));
		free(t);
		return -e;
	}
	struct ifreq ifr;
	int e = offload ? -tap_attach(t->fd, t->name, true, &ifr) : 0;
	if (offload && e) {
		/* a fresh descriptor: a half-attached one cannot be re-attached */
		close(t->fd);
		t->fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
		if (t->fd < 0) {
			e = errno;
			snprintf(err, errlen, "/dev/net/tun: %s", strerror(e));
			free(t);
			return -e;
		}
		snprintf(t->offload_err, sizeof(t->offload_err), "%s", strerror(e));
		offload = false;
	}
	if (!offload)
		e = -tap_attach(t->fd, t->name, false, &ifr);
	if (e) {
		snprintf(err, errlen, "%s: cannot attach as TAP (TUNSETIFF): %s%s", name,
			 strerror(e),
			 e == EINVAL || e == EBUSY ? " (is it a TAP device, and free?)" : "");
		tap_close(t);
		return -e;
	}
	memcpy(t->name, ifr.ifr_name, IFNAMSIZ);
	t->name[IFNAMSIZ - 1] = '\0';
	t->created = !existed;
	if (t->created) {
		rc = tap_configure(t->name, mtu, err, errlen);
		if (rc) {
			tap_close(t);
			return rc;
		}
	}
	rc = fdev_init(&t->dev, t->fd, mtu, mac);
	if (rc == 0 && offload)
		rc = fdev_enable_vnet(&t->dev);
	if (rc) {
		snprintf(err, errlen, "%s: %s", name, strerror(-rc));
		tap_close(t);
		return rc;
	}
	*out = t;
	return 0;
}
#else  /* !__linux__ */
int tap_open_fd(struct tap **out, int fd, bool vnet, size_t mtu, const uint8_t mac[6],
		char *err, size_t errlen)
{
	snprintf(err, errlen, "the tap backend is Linux-only (/dev/net/tun)");
	return -ENOTSUP;
}

int tap_open(struct tap **out, const char *name, size_t mtu, const uint8_t mac[6], char *err,
	     size_t errlen)
{
	snprintf(err, errlen, "%s: the tap backend is Linux-only (/dev/net/tun)", name);
	return -ENOTSUP;
}

static int tap_open_vnet(struct tap **out, const char *name, size_t mtu, const uint8_t mac[6],
			 bool offload, char *err, size_t errlen)
{
	(void)offload;
	return tap_open(out, name, mtu, mac, err, errlen);
}
#endif /* __linux__ */

#ifdef __APPLE__
static int tap_open_vmnet(struct tap **out, size_t mtu, char *err, size_t errlen)
{
	int rc;
	struct tap *t = tap_new("vmnet", mtu, true, NULL, &rc, err, errlen);
	if (!t)
		return rc;
	t->created = true;  /* vmnet_start_interface() made it; it goes with the bridge */
	rc = vmnet_bridge_open(&t->vm, mtu, &t->fd, t->mac, err, errlen);
	if (rc) {
		free(t);
		return rc;
	}
	rc = fdev_init(&t->dev, t->fd, mtu, t->mac);
	if (rc) {
		snprintf(err, errlen, "vmnet: %s", strerror(-rc));
		tap_close(t);
		return rc;
	}
	*out = t;
	return 0;
}
#else
static int tap_open_vmnet(struct tap **out, size_t mtu, char *err, size_t errlen)
{
	snprintf(err, errlen, "the vmnet backend is macOS-only (vmnet.framework)");
	return -ENOTSUP;
}
#endif /* __APPLE__ */

void tap_close(struct tap *t)
{
	if (!t)
		return;
#ifdef __APPLE__
	if (t->vm) {  /* stops vmnet and the bridge first, then closes both ends */
		vmnet_bridge_close(t->vm);
		t->fd = -1;
	}
#endif
	fdev_destroy(&t->dev);
	pcapdev_close(t->pc);
	if (t->fd >= 0)
		close(t->fd);
	free(t);
}

void tap_netif(struct tap *t, struct tapir_netif *out)
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

void tap_mac(const struct tap *t, uint8_t mac[6])
{
	memcpy(mac, t->mac, 6);
}

bool tap_created(const struct tap *t)
{
	return t->created;
}

int tap_kernel_mtu(const struct tap *t)
{
#ifndef __linux__
	return -ENOTSUP;
#else
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return -errno;
	struct ifreq ifr;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, IFNAMSIZ, "%s", t->name);
	int rc = ioctl(s, SIOCGIFMTU, &ifr) < 0 ? -errno : ifr.ifr_mtu;
	close(s);
	return rc;
#endif
}

void tap_netif_offload(struct tap *t, struct tapir_netif_offload *out)
{
	if (t->pc) {
		out->ops = NULL;
		out->dev = NULL;
	} else {
		fdev_netif_offload(&t->dev, out);
	}
}

unsigned tap_offloads(const struct tap *t)
{
	return !t->pc && t->dev.vnet
		       ? TAPIR_NETIF_OFF_TSO4 | TAPIR_NETIF_OFF_TSO6 | TAPIR_NETIF_OFF_RX_CSUM
		       : 0;
}

const char *tap_offload_error(const struct tap *t)
{
	return t->offload_err;
}

int tap_read_batch(struct tap *t, tap_rx_fn cb, void *ctx)
{
	if (t->pc)
		return pcapdev_read_batch(t->pc, TAP_BATCH_MAX, cb, ctx);
	return fdev_read_batch(&t->dev, TAP_BATCH_MAX, cb, ctx);
}

int tap_rx_area(struct tap *t, void **buf, size_t *len)
{
	if (t->pc)
		return -ENOTSUP;
	fdev_rx_area(&t->dev, buf, len);
	return 0;
}

int tap_rx_frame(struct tap *t, size_t n, tap_rx_fn cb, void *ctx)
{
	return fdev_rx_frame(&t->dev, n, cb, ctx);
}

void tap_get_stats(const struct tap *t, struct fdev_stats *out)
{
	if (t->pc) {
		pcapdev_get_stats(t->pc, out);
		return;
	}
	*out = t->dev.stats;
#ifdef __APPLE__
	if (t->vm) {
		uint64_t rx_errors, tx_errors;
		vmnet_bridge_get_stats(t->vm, &rx_errors, &tx_errors);
		out->rx_errors += rx_errors;
		out->tx_errors += tx_errors;
	}
#endif
}
