/*
 * connhold.c - opens N TCP connections from one source address and holds them (bench/conns.sh)
 *
 * Usage: connhold SRC DST PORT N [INFLIGHT] [TRIES] [LO-HI]
 *
 * Nonblocking connects from SRC to DST:PORT, at most INFLIGHT (default 1000)
 * in flight, watched with epoll; a connect that fails or takes more than
 * 10 s is retried (at most TRIES times per connection, default 5).  The
 * source port: with LO-HI, bound explicitly, the next port of that range
 * (cycling; one in use is skipped), so that processes sharing a source
 * address share its ports without the kernel's search (which, with most of
 * a source's 64,512 ports taken, costs a scan of the range per connect);
 * without, chosen at connect time (IP_BIND_ADDRESS_NO_PORT).  Every 10 s it
 * prints a progress line to stderr ("progress opened O failed F inflight I").
 * When every connection is open or out of tries it prints one line:
 *   opened O failed F retries R secs S errors ERRNAME=COUNT...
 * (errors: every failed attempt by errno, "timeout" for the 10 s limit) and
 * then holds the connections, idle, until stdin reaches end of file or a
 * SIGTERM.  Exit status 0 when every one opened.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define ATTEMPT_NS (10ull * 1000000000ull)

struct pend {
	int fd;
	unsigned tries;
	unsigned long long start;
};

static unsigned long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (unsigned long long)ts.tv_sec * 1000000000ull + (unsigned long long)ts.tv_nsec;
}

static unsigned long errs[256], timeouts;

static void count_err(int e)
{
	errs[e > 0 && e < 256 ? e : 0]++;
}

static unsigned port_lo, port_hi, port_next;  /* 0: the kernel picks */

/* Bind @fd to the next free port of the range; -1 and errno if none is */
static int bind_next(int fd, struct sockaddr_in *src)
{
	for (unsigned i = 0; i <= port_hi - port_lo; i++) {
		unsigned p = port_next;

		port_next = port_next == port_hi ? port_lo : port_next + 1;
		src->sin_port = htons((uint16_t)p);
		if (bind(fd, (const struct sockaddr *)src, sizeof(*src)) == 0)
			return 0;
		if (errno != EADDRINUSE)
			return -1;
	}
	errno = EADDRNOTAVAIL;
	return -1;
}

/* A nonblocking connect from @src to @dst; -1 and errno when it failed at once */
static int start(const struct sockaddr_in *src, const struct sockaddr_in *dst)
{
	int one = 1, fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	struct sockaddr_in a = *src;
	int rc;

	if (fd < 0)
		return -1;
	if (port_lo) {
		rc = bind_next(fd, &a);
	} else {
		setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one));
		rc = bind(fd, (const struct sockaddr *)&a, sizeof(a));
	}
	if (rc < 0 ||
	    (connect(fd, (const struct sockaddr *)dst, sizeof(*dst)) < 0 && errno != EINPROGRESS)) {
		int e = errno;

		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

int main(int argc, char **argv)
{
	struct sockaddr_in src = { .sin_family = AF_INET }, dst = { .sin_family = AF_INET };
	unsigned long n, inflight = 1000, tries = 5, opened = 0, failed = 0, retries = 0, launched = 0;
	unsigned long long t0 = now_ns();
	struct rlimit rl;
	struct pend *p;
	int ep, *held;
	unsigned long nheld = 0;

	if (argc < 5 || inet_pton(AF_INET, argv[1], &src.sin_addr) != 1 ||
	    inet_pton(AF_INET, argv[2], &dst.sin_addr) != 1) {
		fprintf(stderr, "usage: connhold SRC DST PORT N [INFLIGHT] [TRIES] [LO-HI]\n");
		return 2;
	}
	dst.sin_port = htons((uint16_t)atoi(argv[3]));
	n = strtoul(argv[4], NULL, 10);
	if (argc > 5)
		inflight = strtoul(argv[5], NULL, 10);
	if (argc > 6)
		tries = strtoul(argv[6], NULL, 10);
	if (argc > 7 && (sscanf(argv[7], "%u-%u", &port_lo, &port_hi) != 2 || port_lo == 0 ||
			 port_hi > 65535 || port_hi < port_lo)) {
		fprintf(stderr, "connhold: bad port range %s\n", argv[7]);
		return 2;
	}
	port_next = port_lo;
	if (inflight > n)
		inflight = n ? n : 1;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < n + inflight + 64) {
		rl.rlim_cur = n + inflight + 64 < rl.rlim_max ? n + inflight + 64 : rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	p = calloc(inflight, sizeof(*p));
	held = calloc(n ? n : 1, sizeof(*held));
	ep = epoll_create1(EPOLL_CLOEXEC);
	if (!p || !held || ep < 0) {
		perror("connhold");
		return 2;
	}
	for (unsigned long i = 0; i < inflight; i++)
		p[i].fd = -1;

	/* slot i of p: one connection in flight; a free slot takes the next one */
	unsigned long long last_progress = t0;

	while (opened + failed < n) {
		struct epoll_event ev[256];
		unsigned long long t = now_ns();
		int k;

		if (t - last_progress >= 10ull * 1000000000ull) {
			unsigned long fl = 0;

			for (unsigned long i = 0; i < inflight; i++)
				fl += p[i].fd >= 0;
			fprintf(stderr, "progress opened %lu failed %lu inflight %lu retries %lu\n", opened,
				failed, fl, retries);
			last_progress = t;
		}

		for (unsigned long i = 0; i < inflight; i++) {
			struct pend *q = &p[i];

			if (q->fd >= 0 && t - q->start > ATTEMPT_NS) {
				timeouts++;
				epoll_ctl(ep, EPOLL_CTL_DEL, q->fd, NULL);
				close(q->fd);
				q->fd = -1;
				if (++q->tries >= tries) {
					failed++;
					q->tries = 0;
					continue;
				}
				retries++;
			} else if (q->fd >= 0 || (q->tries == 0 && launched >= n)) {
				continue;
			} else if (q->tries == 0) {
				launched++;
			}
			/* (re)start the connection of this slot */
			while (q->fd < 0) {
				struct epoll_event e = { .events = EPOLLOUT, .data.u64 = i };

				q->fd = start(&src, &dst);
				q->start = t;
				if (q->fd >= 0) {
					epoll_ctl(ep, EPOLL_CTL_ADD, q->fd, &e);
					break;
				}
				count_err(errno);
				if (++q->tries >= tries) {
					failed++;
					q->tries = 0;
					break;
				}
				retries++;
				if (errno == EADDRNOTAVAIL || errno == EMFILE || errno == ENFILE)
					usleep(1000);
			}
		}
		k = epoll_wait(ep, ev, 256, 100);
		for (int j = 0; j < k; j++) {
			struct pend *q = &p[ev[j].data.u64];
			int err = 0;
			socklen_t len = sizeof(err);

			if (q->fd < 0)
				continue;
			epoll_ctl(ep, EPOLL_CTL_DEL, q->fd, NULL);
			if (getsockopt(q->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
				err = errno;
			if (err == 0) {
				held[nheld++] = q->fd;
				opened++;
				q->fd = -1;
				q->tries = 0;
				continue;
			}
			count_err(err);
			close(q->fd);
			q->fd = -1;
			if (++q->tries >= tries) {
				failed++;
				q->tries = 0;
			} else {
				retries++;
			}
		}
	}
	printf("opened %lu failed %lu retries %lu secs %.2f errors", opened, failed, retries,
	       (double)(now_ns() - t0) / 1e9);
	for (int e = 0; e < 256; e++)
		if (errs[e])
			printf(" %s=%lu", e ? strerrorname_np(e) : "other", errs[e]);
	if (timeouts)
		printf(" timeout=%lu", timeouts);
	printf("\n");
	fflush(stdout);
	/* hold them, idle, until stdin ends (or a signal ends us) */
	{
		char buf[64];

		while (read(0, buf, sizeof(buf)) > 0)
			;
	}
	for (unsigned long i = 0; i < nheld; i++)
		close(held[i]);
	return failed ? 1 : 0;
}
