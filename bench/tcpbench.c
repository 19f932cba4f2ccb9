/*
 * tcpbench.c - a small TCP benchmark client, and the reference servers
 *
 * The same client measures tapird (over a TAP) and the Linux kernel (over a
 * veth pair); bench/tcp.sh drives both and prints the ratios.
 *
 *   tcpbench server [ECHO DISCARD SOURCE]
 *       Kernel reference servers on the given ports (default 7, 9, 19), as
 *       tapird's apps: echo, discard (FIN answered with FIN), source (a
 *       repeating pattern, byte i = ' ' + i % 95, until the peer closes).
 *       One thread per connection, dual-stack ([::]).  Runs until killed.
 *   HOST below: an IPv4 or IPv6 address (no brackets).
 *   tcpbench send HOST PORT SECONDS
 *       Bulk send (to discard) for SECONDS, then half-close and wait for the
 *       peer's FIN, so every byte counted has been taken by the peer.
 *   tcpbench recv HOST PORT SECONDS
 *       Bulk receive (from source) for SECONDS.
 *   tcpbench rr HOST PORT COUNT [SIZE]
 *       Ping-pong SIZE-byte (default 64) messages COUNT times on one
 *       connection (TCP_NODELAY) to echo, after 200 for warm-up.
 *   tcpbench crr HOST PORT SECONDS
 *       Connections per second: connect to echo, one 64-byte round trip,
 *       close, again, for SECONDS.
 *
 * TCPBENCH_CC=NAME in the environment sets the kernel's congestion control
 * (TCP_CONGESTION) of every socket, the servers' and the clients'.
 * TCPBENCH_BUSY_POLL=US makes the echo server's reads busy-poll for US
 * microseconds (SO_BUSY_POLL; bench/tcp.sh's BENCH_KERNEL_BUSY_POLL).
 *
 * Output, one line on stdout:  "gbps=X bytes=N secs=T" for send and recv,
 * "median_us=X p99_us=Y min_us=Z n=COUNT" for rr, "cps=X n=N secs=T" for crr.  Errors go to stderr and
 * exit 1.  Every client run is bounded by an alarm (SECONDS + 60 s, or 120 s
 * for rr) so a stalled connection cannot hang the benchmark.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BUFSZ (128 * 1024)

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what)
{
	fprintf(stderr, "tcpbench: %s: %s\n", what, strerror(errno));
	exit(1);
}

/* @host: an IPv4 or IPv6 address (no brackets) */

/* TCPBENCH_CC in the environment: the kernel's congestion control for this
 * socket (TCP_CONGESTION; a listener's is inherited by what it accepts) */
static void set_cc(int fd)
{
	const char *cc = getenv("TCPBENCH_CC");

	if (cc && *cc && setsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, cc, (socklen_t)strlen(cc)))
		die("TCP_CONGESTION (TCPBENCH_CC)");
}
/* TCPBENCH_BUSY_POLL in the environment: microseconds the echo server's
 * reads busy-poll the device before sleeping (SO_BUSY_POLL, as the sysctl
 * net.core.busy_read; a veth polls only with its NAPI, GRO on) */
static void set_busy_poll(int fd)
{
	const char *us = getenv("TCPBENCH_BUSY_POLL");

	if (us && *us && setsockopt(fd, SOL_SOCKET, SO_BUSY_POLL, &(int){ atoi(us) }, sizeof(int)))
		die("SO_BUSY_POLL (TCPBENCH_BUSY_POLL)");
}

static int dial(const char *host, const char *port, int nodelay)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	struct sockaddr_in6 sa6 = { .sin6_family = AF_INET6 };
	struct sockaddr *to = (struct sockaddr *)&sa;
	socklen_t tolen = sizeof(sa);
	int fd;

	sa.sin_port = sa6.sin6_port = htons((uint16_t)atoi(port));
	if (inet_pton(AF_INET6, host, &sa6.sin6_addr) == 1) {
		to = (struct sockaddr *)&sa6;
		tolen = sizeof(sa6);
	} else if (inet_pton(AF_INET, host, &sa.sin_addr) != 1) {
		fprintf(stderr, "tcpbench: bad IPv4 or IPv6 address %s\n", host);
		exit(1);
	}
	fd = socket(to->sa_family, SOCK_STREAM, 0);
	if (fd < 0)
		die("socket");
	set_cc(fd);
	if (nodelay && setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &(int){ 1 }, sizeof(int)))
		die("TCP_NODELAY");
	if (connect(fd, to, tolen))
		die("connect");
	return fd;
}

/* ---- client ---- */

static int cmd_send(const char *host, const char *port, double secs)
{
	static char buf[BUFSZ];
	int fd = dial(host, port, 0);
	uint64_t bytes = 0;
	double t0 = now_s(), end = t0 + secs;

	memset(buf, 'x', sizeof(buf));
	while (now_s() < end) {
		ssize_t n = write(fd, buf, sizeof(buf));

		if (n < 0)
			die("write");
		bytes += (uint64_t)n;
	}
	if (shutdown(fd, SHUT_WR))
		die("shutdown");
	/* The peer's FIN comes after it has read everything. */
	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));

		if (n < 0)
			die("read (waiting for FIN)");
		if (n == 0)
			break;
	}
	double t = now_s() - t0;

	close(fd);
	printf("gbps=%.3f bytes=%llu secs=%.3f\n", (double)bytes * 8 / t / 1e9,
	       (unsigned long long)bytes, t);
	return 0;
}

static int cmd_recv(const char *host, const char *port, double secs)
{
	static char buf[BUFSZ];
	int fd = dial(host, port, 0);
	uint64_t bytes = 0;
	double t0 = now_s(), end = t0 + secs, t;

	while ((t = now_s()) < end) {
		ssize_t n = read(fd, buf, sizeof(buf));

		if (n < 0)
			die("read");
		if (n == 0) {
			fprintf(stderr, "tcpbench: source closed after %llu bytes\n",
				(unsigned long long)bytes);
			exit(1);
		}
		bytes += (uint64_t)n;
	}
	t -= t0;
	close(fd);
	printf("gbps=%.3f bytes=%llu secs=%.3f\n", (double)bytes * 8 / t / 1e9,
	       (unsigned long long)bytes, t);
	return 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static int cmd_rr(const char *host, const char *port, long count, size_t size)
{
	char msg[65536], got[65536];
	int fd = dial(host, port, 1);
	double *rtt = calloc((size_t)count, sizeof(double));

	if (!rtt || size == 0 || size > sizeof(msg)) {
		fprintf(stderr, "tcpbench: bad count or size\n");
		return 1;
	}
	for (size_t i = 0; i < size; i++)
		msg[i] = (char)('a' + i % 26);
	for (long i = -200; i < count; i++) {
		double t0 = now_s();
		size_t have = 0;

		if (write(fd, msg, size) != (ssize_t)size)
			die("write");
		while (have < size) {
			ssize_t n = read(fd, got + have, size - have);

			if (n <= 0) {
				if (n == 0)
					errno = ECONNRESET;
				die("read");
			}
			have += (size_t)n;
		}
		if (i >= 0)
			rtt[i] = (now_s() - t0) * 1e6;
		if (memcmp(msg, got, size)) {
			fprintf(stderr, "tcpbench: echo differs\n");
			return 1;
		}
	}
	close(fd);
	qsort(rtt, (size_t)count, sizeof(double), cmp_double);
	size_t p99 = (size_t)((double)count * 0.99);

	if (p99 >= (size_t)count)
		p99 = (size_t)count - 1;
	printf("median_us=%.1f p99_us=%.1f min_us=%.1f n=%ld\n", rtt[count / 2], rtt[p99],
	       rtt[0], count);
	free(rtt);
	return 0;
}

static int cmd_crr(const char *host, const char *port, double secs)
{
	char msg[64], got[64];
	long n = 0;
	double t0 = now_s(), t;

	memset(msg, 'c', sizeof(msg));
	do {
		int fd = dial(host, port, 1);
		size_t have = 0;

		if (write(fd, msg, sizeof(msg)) != (ssize_t)sizeof(msg))
			die("write");
		while (have < sizeof(got)) {
			ssize_t r = read(fd, got + have, sizeof(got) - have);

			if (r <= 0) {
				if (r == 0)
					errno = ECONNRESET;
				die("read");
			}
			have += (size_t)r;
		}
		close(fd);
		n++;
		t = now_s() - t0;
	} while (t < secs);
	printf("cps=%.0f n=%ld secs=%.2f\n", (double)n / t, n, t);
	return 0;
}

/* ---- reference servers ---- */

enum role { ECHO, DISCARD, SOURCE };

static char pattern[BUFSZ + 95]; /* filled once by cmd_server() */

struct conn {
	int fd;
	enum role role;
};

static void *serve(void *arg)
{
	struct conn c = *(struct conn *)arg;
	char *buf = malloc(BUFSZ);
	size_t off = 0;

	free(arg);
	if (!buf)
		goto out;
	switch (c.role) {
	case ECHO:
		setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &(int){ 1 }, sizeof(int));
		set_busy_poll(c.fd);
		for (;;) {
			ssize_t n = read(c.fd, buf, BUFSZ);

			if (n <= 0)
				break;
			for (ssize_t w = 0; w < n;) {
				ssize_t k = write(c.fd, buf + w, (size_t)(n - w));

				if (k <= 0)
					goto out;
				w += k;
			}
		}
		break;
	case DISCARD:
		while (read(c.fd, buf, BUFSZ) > 0)
			;
		break;
	case SOURCE:
		for (;;) {
			ssize_t k = write(c.fd, pattern + off, BUFSZ);

			if (k <= 0)
				break;
			off = (off + (size_t)k) % 95;
		}
		break;
	}
out:
	free(buf);
	close(c.fd);
	return NULL;
}

/* A dual-stack listener on [::]:@port (IPv4 peers as ::ffff:a.b.c.d) */
static int listen_on(int port)
{
	struct sockaddr_in6 sa = { .sin6_family = AF_INET6, .sin6_port = htons((uint16_t)port),
				   .sin6_addr = IN6ADDR_ANY_INIT };
	int fd = socket(AF_INET6, SOCK_STREAM, 0);

	if (fd < 0)
		die("socket");
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &(int){ 1 }, sizeof(int));
	setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &(int){ 0 }, sizeof(int));
	set_cc(fd);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)))
		die("bind");
	if (listen(fd, 128))
		die("listen");
	return fd;
}

static _Noreturn void cmd_server(int echo_port, int discard_port, int source_port)
{
	struct pollfd p[3] = {
		{ .fd = listen_on(echo_port), .events = POLLIN },
		{ .fd = listen_on(discard_port), .events = POLLIN },
		{ .fd = listen_on(source_port), .events = POLLIN },
	};

	for (size_t i = 0; i < sizeof(pattern); i++)
		pattern[i] = (char)(' ' + i % 95);
	signal(SIGPIPE, SIG_IGN);
	for (;;) {
		if (poll(p, 3, -1) < 0) {
			if (errno == EINTR)
				continue;
			die("poll");
		}
		for (int i = 0; i < 3; i++) {
			if (!(p[i].revents & POLLIN))
				continue;
			int fd = accept(p[i].fd, NULL, NULL);

			if (fd < 0)
				continue;
			struct conn *c = malloc(sizeof(*c));
			pthread_t th;

			if (!c) {
				close(fd);
				continue;
			}
			c->fd = fd;
			c->role = (enum role)i;
			if (pthread_create(&th, NULL, serve, c)) {
				close(fd);
				free(c);
				continue;
			}
			pthread_detach(th);
		}
	}
}

static void usage(void)
{
	fprintf(stderr, "usage: tcpbench server [ECHO DISCARD SOURCE]\n"
			"       tcpbench send HOST PORT SECONDS\n"
			"       tcpbench recv HOST PORT SECONDS\n"
			"       tcpbench rr HOST PORT COUNT [SIZE]\n"
			"       tcpbench crr HOST PORT SECONDS\n");
	exit(2);
}

int main(int argc, char **argv)
{
	if (argc < 2)
		usage();
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!strcmp(argv[1], "server")) {
		if (argc == 5)
			cmd_server(atoi(argv[2]), atoi(argv[3]), atoi(argv[4]));
		if (argc == 2)
			cmd_server(7, 9, 19);
		usage();
	}
	if (argc < 5)
		usage();
	signal(SIGPIPE, SIG_IGN);
	if (!strcmp(argv[1], "send") || !strcmp(argv[1], "recv")) {
		double secs = atof(argv[4]);

		if (secs <= 0)
			usage();
		alarm((unsigned)secs + 60);
		return argv[1][0] == 's' ? cmd_send(argv[2], argv[3], secs)
					 : cmd_recv(argv[2], argv[3], secs);
	}
	if (!strcmp(argv[1], "crr")) {
		double secs = atof(argv[4]);

		if (secs <= 0)
			usage();
		alarm((unsigned)secs + 60);
		return cmd_crr(argv[2], argv[3], secs);
	}
	if (!strcmp(argv[1], "rr")) {
		long count = atol(argv[4]);

		if (count <= 0)
			usage();
		alarm(120);
		return cmd_rr(argv[2], argv[3], count, argc > 5 ? (size_t)atol(argv[5]) : 64);
	}
	usage();
	return 2;
}
