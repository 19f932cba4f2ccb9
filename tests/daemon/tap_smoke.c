/*
 * tap_smoke.c - the TAP backend against the Linux kernel, without the stack
 *
 * Run inside a private network namespace (tap_smoke.sh does unshare -rn).
 * Frames are built by hand:
 *   1. tap_open() creates tsmk0 with MTU 9000: it must be up with that MTU;
 *   2. we send an ARP request for the kernel's 192.0.2.1 and read its reply;
 *   3. the kernel pings us with 8000 bytes (one 8042-byte frame): we read it
 *      and write the echo reply, and ping(8) must succeed;
 *   4. a frame larger than mtu + 14 is refused with -EMSGSIZE;
 *   5. an existing TAP (tsmk1, MTU 1400, down) is attached and left alone;
 *   6. a TAP is created with the largest MTU, 65521.
 * Exit 0 on success, 1 on failure, 77 (skip) without /dev/net/tun.
 */
#include <errno.h>
#include <net/if.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tap.h"

#define FAIL(...) do { fprintf(stderr, "FAIL: " __VA_ARGS__); fputc('\n', stderr); exit(1); } while (0)

static const uint8_t MAC[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x02 };
static const uint8_t US[4] = { 192, 0, 2, 2 }, KERNEL[4] = { 192, 0, 2, 1 };

struct seen {
	uint8_t kernel_mac[6];
	bool arp_reply;
	uint8_t echo[9100];
	size_t echo_len;
	unsigned frames;
};

static uint16_t csum(const uint8_t *p, size_t len)
{
	uint32_t s = 0;
	for (size_t i = 0; i + 1 < len; i += 2)
		s += (uint32_t)p[i] << 8 | p[i + 1];
	if (len & 1)
		s += (uint32_t)p[len - 1] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

static void on_frame(void *ctx, const uint8_t *f, size_t len, unsigned flags)
{
	struct seen *s = ctx;
	s->frames++;
	if (len >= 42 && f[12] == 0x08 && f[13] == 0x06 && f[21] == 2 &&
	    !memcmp(f + 28, KERNEL, 4) && !memcmp(f + 32, MAC, 6)) {
		memcpy(s->kernel_mac, f + 22, 6);
		s->arp_reply = true;
	}
	if (len >= 42 && f[12] == 0x08 && f[13] == 0x00 && f[23] == 1 && f[34] == 8 &&
	    !memcmp(f + 30, US, 4) && len <= sizeof(s->echo)) {
		memcpy(s->echo, f, len);
		s->echo_len = len;
	}
}

struct frame {
	const uint8_t *data;
	size_t len;
};

static size_t fill_copy(uint8_t *buf, size_t size, void *ctx)
{
	const struct frame *fr = ctx;
	if (fr->len > size)
		FAIL("fill: %zu > %zu", fr->len, size);
	memcpy(buf, fr->data, fr->len);
	return fr->len;
}

static int send_frame(struct tapir_netif *nif, const uint8_t *data, size_t len)
{
	struct frame fr = { data, len };
	return nif->ops->write(nif->dev, len, fill_copy, &fr);
}

/* Read until @done or @ms milliseconds pass. */
static void wait_for(struct tap *t, struct seen *s, bool (*done)(const struct seen *), int ms)
{
	for (int waited = 0; !done(s) && waited < ms; waited += 50) {
		struct pollfd p = { .fd = tap_fd(t), .events = POLLIN };
		poll(&p, 1, 50);
		int n = tap_read_batch(t, on_frame, s);
		if (n < 0)
			FAIL("tap_read_batch: %s", strerror(-n));
	}
}

static bool have_arp(const struct seen *s)
{
	return s->arp_reply;
}

static bool have_echo(const struct seen *s)
{
	return s->echo_len > 0;
}

static int ifflags(const char *name)
{
	int sk = socket(AF_INET, SOCK_DGRAM, 0);
	struct ifreq ifr;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, IFNAMSIZ, "%s", name);
	int rc = ioctl(sk, SIOCGIFFLAGS, &ifr) < 0 ? -1 : ifr.ifr_flags;
	close(sk);
	return rc;
}

static void run(const char *cmd)
{
	if (system(cmd) != 0)
		FAIL("%s", cmd);
}

int main(void)
{
	if (access("/dev/net/tun", R_OK | W_OK) != 0) {
		fprintf(stderr, "SKIP: no /dev/net/tun\n");
		return 77;
	}
	struct tap *t;
	char err[256];
	int rc = tap_open(&t, "tsmk0", 9000, MAC, err, sizeof(err));
	if (rc)
		FAIL("tap_open: %s", err);
	if (!tap_created(t))
		FAIL("tsmk0 should have been created");
	if (tap_kernel_mtu(t) != 9000)
		FAIL("kernel MTU %d, expected 9000", tap_kernel_mtu(t));
	if (!(ifflags("tsmk0") & IFF_UP))
		FAIL("tsmk0 is not up");
	printf("ok: created tsmk0, MTU 9000, up\n");
	run("ip addr add 192.0.2.1/24 dev tsmk0");

	struct tapir_netif nif;
	tap_netif(t, &nif);
	uint8_t mac[6];
	nif.ops->mac(nif.dev, mac);
	if (memcmp(mac, MAC, 6) || nif.ops->mtu(nif.dev) != 9000)
		FAIL("netif mac/mtu");

	/* 2. ARP request for the kernel's address */
	uint8_t arp[42] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	memcpy(arp + 6, MAC, 6);
	arp[12] = 0x08, arp[13] = 0x06;
	arp[14] = 0, arp[15] = 1, arp[16] = 0x08, arp[17] = 0, arp[18] = 6, arp[19] = 4;
	arp[20] = 0, arp[21] = 1;
	memcpy(arp + 22, MAC, 6);
	memcpy(arp + 28, US, 4);
	memcpy(arp + 38, KERNEL, 4);
	struct seen s = { 0 };
	if ((rc = send_frame(&nif, arp, sizeof(arp))) != 0)
		FAIL("write ARP: %s", strerror(-rc));
	wait_for(t, &s, have_arp, 3000);
	if (!s.arp_reply)
		FAIL("no ARP reply from the kernel");
	printf("ok: ARP reply from %02x:%02x:%02x:%02x:%02x:%02x\n", s.kernel_mac[0],
	       s.kernel_mac[1], s.kernel_mac[2], s.kernel_mac[3], s.kernel_mac[4],
	       s.kernel_mac[5]);

	/* 3. the kernel pings us with 8000 bytes; we answer by hand */
	pid_t pid = fork();
	if (pid == 0) {
		execlp("ping", "ping", "-c", "1", "-W", "3", "-s", "8000", "192.0.2.2", (char *)NULL);
		_exit(127);
	}
	wait_for(t, &s, have_echo, 3000);
	if (s.echo_len != 14 + 20 + 8 + 8000)
		FAIL("echo request of %zu bytes, expected 8042", s.echo_len);
	uint8_t *e = s.echo;
	memcpy(e, e + 6, 6);
	memcpy(e + 6, MAC, 6);
	uint8_t tmp[4];
	memcpy(tmp, e + 26, 4);
	memcpy(e + 26, e + 30, 4);
	memcpy(e + 30, tmp, 4);
	e[24] = e[25] = 0;
	uint16_t c = csum(e + 14, 20);
	e[24] = (uint8_t)(c >> 8), e[25] = (uint8_t)c;
	e[34] = 0;  /* echo reply */
	e[36] = e[37] = 0;
	c = csum(e + 34, s.echo_len - 34);
	e[36] = (uint8_t)(c >> 8), e[37] = (uint8_t)c;
	if ((rc = send_frame(&nif, e, s.echo_len)) != 0)
		FAIL("write echo reply: %s", strerror(-rc));
	int status;
	waitpid(pid, &status, 0);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		FAIL("ping -s 8000 failed (status %d)", status);
	printf("ok: read an 8042-byte frame and answered ping -s 8000\n");

	/* 4. too big */
	static uint8_t big[9015];
	if ((rc = send_frame(&nif, big, sizeof(big))) != -EMSGSIZE)
		FAIL("9015-byte frame: %d, expected -EMSGSIZE", rc);
	struct fdev_stats st;
	tap_get_stats(t, &st);
	if (st.tx_frames != 2 || st.rx_frames < 2)
		FAIL("stats: tx %llu rx %llu", (unsigned long long)st.tx_frames,
		     (unsigned long long)st.rx_frames);
	printf("ok: oversize refused; %llu frames read, %llu written\n",
	       (unsigned long long)st.rx_frames, (unsigned long long)st.tx_frames);
	tap_close(t);
	if (if_nametoindex("tsmk0") != 0)
		FAIL("tsmk0 still exists after close");

	/* 5. an existing TAP is left alone */
	run("ip tuntap add dev tsmk1 mode tap && ip link set tsmk1 mtu 1400");
	rc = tap_open(&t, "tsmk1", 1500, MAC, err, sizeof(err));
	if (rc)
		FAIL("tap_open tsmk1: %s", err);
	if (tap_created(t) || tap_kernel_mtu(t) != 1400 || (ifflags("tsmk1") & IFF_UP))
		FAIL("existing tsmk1 was changed");
	tap_close(t);
	if (if_nametoindex("tsmk1") == 0)
		FAIL("persistent tsmk1 disappeared");
	printf("ok: existing tsmk1 attached and left alone\n");

	/* 6. the largest MTU a TAP takes */
	rc = tap_open(&t, "tsmk2", 65521, MAC, err, sizeof(err));
	if (rc)
		FAIL("tap_open tsmk2 mtu 65521: %s", err);
	if (tap_kernel_mtu(t) != 65521)
		FAIL("tsmk2: kernel MTU %d", tap_kernel_mtu(t));
	tap_close(t);
	printf("ok: created tsmk2 with MTU 65521\n");
	return 0;
}
