/*
 * tapdelay.c - a frame relay between two TAP devices that delays every frame
 *              by a fixed time each way: the kernel's reference path for
 *              bench/tcp.sh's delay rows (this machine's kernel has no netem)
 *
 * Usage: tapdelay NAME1 NETNS-PID NAME2 DELAY_US [LOSS_PPM]
 *   NAME1 is made in our network namespace, NAME2 in that of NETNS-PID; every
 *   frame read on one is written to the other DELAY_US later (FIFO, so no
 *   reordering; at most 65536 frames held each way, beyond that dropped and
 *   counted), or dropped with probability LOSS_PPM / 10^6 (each frame, as
 *   tapird's impair wrapper drops them: nftables would drop the kernel's
 *   whole GSO packets before they are cut into frames).  Prints "ready" once both exist; runs until killed (SIGTERM)
 *   and prints what it relayed and dropped.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#define QMAX 65536
#define FMAX 2048

struct frame {
	uint64_t due;
	uint16_t len;
	uint8_t data[FMAX];
};

struct queue {
	struct frame *f;
	size_t head, n;
	unsigned long long relayed, dropped, lost;
};

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint32_t rnd_ppm(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng % 1000000);
}

static volatile sig_atomic_t stop;

static void on_term(int sig)
{
	(void)sig;
	stop = 1;
}

static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static int tap_open(const char *name)
{
	struct ifreq ifr;
	int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK);

	if (fd < 0)
		return -1;
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Read every frame waiting on @fd into @q, due @delay later */
static void take(int fd, struct queue *q, uint64_t delay, uint32_t loss_ppm)
{
	for (;;) {
		struct frame *fr = &q->f[(q->head + q->n) % QMAX];
		uint8_t junk[FMAX];
		ssize_t r = read(fd, q->n < QMAX ? fr->data : junk, FMAX);

		if (r <= 0)
			return;
		if (q->n == QMAX) {
			q->dropped++;
			continue;
		}
		if (loss_ppm && rnd_ppm() < loss_ppm) {
			q->lost++;
			continue;
		}
		fr->len = (uint16_t)r;
		fr->due = now_us() + delay;
		q->n++;
	}
}

/* Write the due frames of @q to @fd. Return: us until the next is due, -1 if none */
static long give(int fd, struct queue *q)
{
	uint64_t now = now_us();

	while (q->n) {
		struct frame *fr = &q->f[q->head];

		if (fr->due > now)
			return (long)(fr->due - now);
		if (write(fd, fr->data, fr->len) < 0 && errno == EAGAIN)
			return 100;	/* the device is full: try again shortly */
		q->relayed++;
		q->head = (q->head + 1) % QMAX;
		q->n--;
	}
	return -1;
}

int main(int argc, char **argv)
{
	struct queue q[2] = { { 0 }, { 0 } };
	struct pollfd p[2];
	char path[64];
	uint64_t delay;
	uint32_t loss_ppm = 0;
	int fd[2], ns;

	if (argc != 5 && argc != 6) {
		fprintf(stderr, "usage: tapdelay NAME1 NETNS-PID NAME2 DELAY_US [LOSS_PPM]\n");
		return 1;
	}
	delay = strtoull(argv[4], NULL, 10);
	if (argc == 6)
		loss_ppm = (uint32_t)strtoul(argv[5], NULL, 10);
	fd[0] = tap_open(argv[1]);
	snprintf(path, sizeof(path), "/proc/%s/ns/net", argv[2]);
	ns = open(path, O_RDONLY);
	if (fd[0] < 0 || ns < 0 || setns(ns, CLONE_NEWNET) < 0) {
		perror("tapdelay");
		return 2;
	}
	fd[1] = tap_open(argv[3]);
	q[0].f = calloc(QMAX, sizeof(struct frame));
	q[1].f = calloc(QMAX, sizeof(struct frame));
	if (fd[1] < 0 || !q[0].f || !q[1].f) {
		perror("tapdelay");
		return 2;
	}
	signal(SIGTERM, on_term);
	signal(SIGINT, on_term);
	printf("ready\n");
	fflush(stdout);
	while (!stop) {
		long w0, w1, wait;

		p[0] = (struct pollfd){ .fd = fd[0], .events = POLLIN };
		p[1] = (struct pollfd){ .fd = fd[1], .events = POLLIN };
		/* q[0]: from fd[0] to fd[1]; q[1]: the other way */
		w0 = give(fd[1], &q[0]);
		w1 = give(fd[0], &q[1]);
		wait = w0 < 0 ? w1 : (w1 < 0 || w0 < w1 ? w0 : w1);
		if (poll(p, 2, wait < 0 ? 100 : (int)((wait + 999) / 1000)) < 0 && errno != EINTR)
			break;
		if (p[0].revents & POLLIN)
			take(fd[0], &q[0], delay, loss_ppm);
		if (p[1].revents & POLLIN)
			take(fd[1], &q[1], delay, loss_ppm);
	}
	printf("relayed %llu + %llu frames, lost %llu + %llu, dropped (queue full) %llu + %llu\n",
	       q[0].relayed, q[1].relayed, q[0].lost, q[1].lost, q[0].dropped, q[1].dropped);
	return 0;
}
