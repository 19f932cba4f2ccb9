/*
 * up.c - tapir up / exec: start an instance and run commands beside it
 *
 * Theory of operation
 *
 * `tapir up NAME --config F` starts tapird detached (its own session, the log
 * in RUNDIR/NAME.log, TAPIR_RUNTIME_DIR set so that its socket lands in our
 * runtime directory whatever uid it has inside a namespace) and waits until
 * its control socket answers.
 *
 * With --netns new the child first makes a user + network namespace of its
 * own (unshare(CLONE_NEWUSER | CLONE_NEWNET), mapping our uid to root inside,
 * as pasta and `unshare -rn` do; no privilege needed), creates the TAP of the
 * configuration there with the kernel side's address (--host-addr, by default
 * the configured gateway with the configured prefix) and brings it and lo up,
 * then becomes tapird.  With IPv6 on in the configuration the kernel side
 * also gets 2001:db8::1/64 (no DAD) and tapird 2001:db8::2/64 (a boot
 * argument, with 2001:db8::1 as its [ipv6] gateway unless the configuration
 * has one) unless the configuration gives it an address.  The namespace
 * lives as long as tapird.  With
 * --netns PATH (/run/netns/NAME, /proc/PID/ns/net) the child joins that
 * network namespace instead (setns; through its owning user namespace when
 * that is one of ours, as `pasta PID` does) and tapird attaches to (or
 * creates) the TAP there; with --host-addr as well the child first makes the
 * TAP persistent there with that address (it outlives `tapir down`).
 *
 * With --gateway (or [gateway] enabled in the configuration) and --netns new,
 * tapird becomes the new namespace's router (daemon/gateway/) and must keep
 * its own sockets in the caller's namespace, as pasta does: a holder process
 * makes the user + network namespace (the TAP, the kernel side's address and
 * a default route via tapird's address) and waits there until tapird ends
 * (PR_SET_PDEATHSIG); a second child joins the holder's namespaces, opens the
 * TAP (with the virtio-net header when it can) and passes the descriptor
 * back over a socketpair; tapird starts in the caller's namespace with it
 * (TAPIR_TAP_FD=N[,vnet]).  RUNDIR/NAME.netns names the holder's pid.
 *
 * `tapir exec NAME -- CMD...` asks the instance for its pid, joins its user
 * namespace (when it is not ours) and its network namespace, and execs CMD;
 * for a gateway instance, the holder's (RUNDIR/NAME.netns, checked to be a
 * child of the instance; without one, exec refuses rather than run CMD in
 * tapird's own namespace, which is the host's).
 * When the instance is a gateway ([gateway] enabled) CMD runs in a private
 * mount namespace too, with RUNDIR/NAME.resolv.conf (naming tapird's DNS
 * relay) bind-mounted over /etc/resolv.conf.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <linux/nsfs.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>

#include "peek.h"
#include "proto.h"
#include "up.h"
#include "wire/ipv4.h"

#define EXIT_USAGE 1
#define EXIT_RUNTIME 2
/* `tapir up --netns new`: the IPv6 addresses of the two sides (RFC 3849 range) */
#define UP_HOST_ADDR6 "2001:db8::1/64"
#define UP_TAPIRD_ADDR6 "2001:db8::2/64"
#define UP_HOST_GW6 "2001:db8::1"

static int write_file(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ssize_t n = write(fd, s, strlen(s));
	int e = errno;
	close(fd);
	return n == (ssize_t)strlen(s) ? 0 : -e;
}

static int run(char *const argv[])
{
	pid_t p = fork();
	if (p < 0)
		return -1;
	if (p == 0) {
		execvp(argv[0], argv);
		_exit(127);
	}
	int st;
	if (waitpid(p, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st))
		return -1;
	return 0;
}

static int host_side(const char *ifname, const char *host_addr, unsigned mtu);

/* In the child: the new namespaces and the kernel side of the TAP */
static int make_netns(const char *ifname, const char *host_addr, unsigned mtu, bool ipv6)
{
	uid_t uid = geteuid();
	gid_t gid = getegid();
	if (unshare(CLONE_NEWUSER | CLONE_NEWNET)) {
		fprintf(stderr, "tapir: unshare(user, net): %s\n", strerror(errno));
		return -1;
	}
	char map[64];
	write_file("/proc/self/setgroups", "deny");
	snprintf(map, sizeof(map), "0 %u 1", (unsigned)uid);
	if (write_file("/proc/self/uid_map", map)) {
		fprintf(stderr, "tapir: uid_map: %s\n", strerror(errno));
		return -1;
	}
	snprintf(map, sizeof(map), "0 %u 1", (unsigned)gid);
	write_file("/proc/self/gid_map", map);
	if (host_side(ifname, host_addr, mtu))
		return -1;
	/* IPv6: the kernel side is 2001:db8::1/64, without DAD (it is the only
	 * node there besides tapird) */
	char *addr6[] = { "ip", "-6", "addr", "replace", UP_HOST_ADDR6, "dev", (char *)ifname,
			  "nodad", NULL };
	if (ipv6 && run(addr6)) {
		fprintf(stderr, "tapir: cannot give %s the address %s\n", ifname, UP_HOST_ADDR6);
		return -1;
	}
	return 0;
}

/*
 * In the child, inside the instance's network namespace: the TAP (made
 * persistent, unless it exists) with the kernel side's address, up, and lo up
 */
static int host_side(const char *ifname, const char *host_addr, unsigned mtu)
{
	char mtus[16];
	snprintf(mtus, sizeof(mtus), "%u", mtu);
	char *lo[] = { "ip", "link", "set", "lo", "up", NULL };
	char *show[] = { "ip", "-o", "link", "show", "dev", (char *)ifname, NULL };
	char *add[] = { "ip", "tuntap", "add", "dev", (char *)ifname, "mode", "tap", NULL };
	char *addr[] = { "ip", "addr", "replace", (char *)host_addr, "dev", (char *)ifname, NULL };
	char *setmtu[] = { "ip", "link", "set", (char *)ifname, "mtu", mtus, NULL };
	char *up[] = { "ip", "link", "set", (char *)ifname, "up", NULL };
	if (run(lo) || (run(show) && run(add)) || run(addr) || run(setmtu) || run(up)) {
		fprintf(stderr, "tapir: cannot set up %s in the namespace\n", ifname);
		return -1;
	}
	return 0;
}

/*
 * In the child: join the network namespace at @path (/run/netns/NAME,
 * /proc/PID/ns/net).  When that needs privilege we lack, join the user
 * namespace that owns it first (one of ours, e.g. made by `unshare -rn`),
 * as `pasta PID` does.  Return: 0 or -1 (printed)
 */
static int join_netns(const char *path)
{
	int ns = open(path, O_RDONLY | O_CLOEXEC);
	if (ns < 0) {
		fprintf(stderr, "tapir: %s: %s\n", path, strerror(errno));
		return -1;
	}
	int rc = setns(ns, CLONE_NEWNET);
	if (rc && errno == EPERM) {
		int user = ioctl(ns, NS_GET_USERNS);
		if (user >= 0 && !setns(user, CLONE_NEWUSER))
			rc = setns(ns, CLONE_NEWNET);
		else
			errno = EPERM;
		if (user >= 0)
			close(user);
	}
	if (rc)
		fprintf(stderr, "tapir: setns(%s): %s\n", path, strerror(errno));
	close(ns);
	return rc ? -1 : 0;
}

/* Attach @fd to TAP @name as tapird would (backends/tap.c tap_attach()) */
static int tap_attach_fd(int fd, const char *name, bool vnet)
{
	struct ifreq ifr;
	int le = 1, sz = 10;

	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI | (vnet ? IFF_VNET_HDR : 0);
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0)
		return -1;
	if (!vnet)
		return ioctl(fd, TUNSETOFFLOAD, 0UL) < 0 ? -1 : 0;
	if (ioctl(fd, TUNSETVNETHDRSZ, &sz) < 0 || ioctl(fd, TUNSETVNETLE, &le) < 0 ||
	    ioctl(fd, TUNSETOFFLOAD, (unsigned long)(TUN_F_CSUM | TUN_F_TSO4)) < 0)
		return -1;
	return 0;
}

/*
 * The TAP @name inside the namespaces of @holder, attached by a child that
 * joins them (it owns them: they were made by our child) and passed back.
 * Return: the descriptor (*@vnet: with the virtio-net header), or -1 (printed)
 */
static int open_tap_in(pid_t holder, const char *name, bool *vnet)
{
	int sp[2];
	if (socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sp))
		return -1;
	pid_t k = fork();
	if (k < 0)
		return -1;
	if (k == 0) {
		char p[64];
		close(sp[0]);
		snprintf(p, sizeof(p), "/proc/%d/ns/user", (int)holder);
		int u = open(p, O_RDONLY | O_CLOEXEC);
		snprintf(p, sizeof(p), "/proc/%d/ns/net", (int)holder);
		int n = open(p, O_RDONLY | O_CLOEXEC);
		if (u < 0 || n < 0 || setns(u, CLONE_NEWUSER) || setns(n, CLONE_NEWNET)) {
			fprintf(stderr, "tapir: joining the namespace of %d: %s\n", (int)holder,
				strerror(errno));
			_exit(1);
		}
		int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
		uint8_t v = fd >= 0 && tap_attach_fd(fd, name, true) == 0;
		if (!v) {
			if (fd >= 0)
				close(fd);
			fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
			if (fd < 0 || tap_attach_fd(fd, name, false)) {
				fprintf(stderr, "tapir: %s in the namespace: %s\n", name,
					strerror(errno));
				_exit(1);
			}
		}
		char cbuf[CMSG_SPACE(sizeof(int))];
		struct iovec iov = { &v, 1 };
		struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
				    .msg_controllen = sizeof(cbuf) };
		struct cmsghdr *c = CMSG_FIRSTHDR(&m);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &fd, sizeof(int));
		_exit(sendmsg(sp[1], &m, 0) == 1 ? 0 : 1);
	}
	close(sp[1]);
	uint8_t v = 0;
	char cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { &v, 1 };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
			    .msg_controllen = sizeof(cbuf) };
	int fd = -1, st;
	ssize_t got = recvmsg(sp[0], &m, MSG_CMSG_CLOEXEC);
	struct cmsghdr *c = got == 1 ? CMSG_FIRSTHDR(&m) : NULL;
	if (c && c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
		memcpy(&fd, CMSG_DATA(c), sizeof(int));
	close(sp[0]);
	waitpid(k, &st, 0);
	*vnet = v;
	return fd;
}

/*
 * In the child that becomes tapird (--gateway): the holder of the new
 * namespaces, then the TAP from inside them.  Return: the TAP descriptor
 * (*@vnet as open_tap_in()) and *@holder, or -1 (printed)
 */
static int gateway_netns(const char *ifname, const char *host_addr, unsigned mtu,
			 const char *via, const char *via6, bool *vnet, pid_t *holder)
{
	int ready[2];
	if (pipe2(ready, O_CLOEXEC))
		return -1;
	pid_t g = fork();
	if (g < 0)
		return -1;
	if (g == 0) {
		char *route[] = { "ip", "route", "replace", "default", "via", (char *)via, "dev",
				  (char *)ifname, NULL };
		/* IPv6 (via6 set): the kernel side's address as without --gateway
		 * and a default route via tapird's address, on-link */
		char *route6[] = { "ip", "-6", "route", "replace", "default", "via", (char *)via6,
				   "dev", (char *)ifname, "onlink", NULL };
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		close(ready[0]);
		if (make_netns(ifname, host_addr, mtu, via6 != NULL) || run(route)) {
			fprintf(stderr, "tapir: no default route via %s\n", via);
			_exit(1);
		}
		if (via6 && run(route6)) {
			fprintf(stderr, "tapir: no IPv6 default route via %s\n", via6);
			_exit(1);
		}
		if (write(ready[1], "1", 1) != 1)
			_exit(1);
		for (;;)
			pause();
	}
	close(ready[1]);
	char c;
	ssize_t n = read(ready[0], &c, 1);
	close(ready[0]);
	if (n != 1) {
		fprintf(stderr, "tapir: the namespace could not be made\n");
		return -1;
	}
	*holder = g;
	return open_tap_in(g, ifname, vnet);
}

static const char *tapird_path(void)
{
	const char *p = getenv("TAPIRD");
	if (p && *p)
		return p;
	/* Beside this program (the build tree, or bin/ when installed) */
	static char buf[4096];
	ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 32);
	if (n > 0) {
		buf[n] = 0;
		char *slash = strrchr(buf, '/');
		if (slash) {
			strcpy(slash + 1, "tapird");
			if (access(buf, X_OK) == 0)
				return buf;
			strcpy(slash + 1, "../daemon/tapird");
			if (access(buf, X_OK) == 0)
				return buf;
		}
	}
	return "tapird";
}

static bool instance_alive(const char *path)
{
	return access(path, F_OK) == 0;
}

int up_main(int argc, char **argv)
{
	static const char U[] = "tapir up NAME [--config FILE] [--netns new|PATH] [--host-addr A/P] "
				"[--gateway] [-- ARGS...]";
	const char *config = NULL, *netns = NULL, *host = NULL;
	bool gateway = false;
	int extra = argc;
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			printf("usage: %s\n\nStart tapird as instance NAME, detached, its log in the "
			       "runtime directory\n(tapir logs NAME).  --netns new: in a new user + "
			       "network namespace\n(no root needed) with the TAP's kernel side at "
			       "--host-addr (default: the\nconfigured gateway); --netns PATH: in that "
			       "network namespace.\n--gateway (with --netns new): tapird is the "
			       "namespace's router, its flows\nspliced to sockets in this namespace "
			       "([gateway] enabled).\nARGS are tapird boot arguments.\n", U);
			return 0;
		} else if (!strcmp(argv[i], "--")) {
			extra = i + 1;
			break;
		}
	if (argc < 2 || argv[1][0] == '-')
		return fprintf(stderr, "tapir: up needs NAME\nusage: %s\n", U), EXIT_USAGE;
	const char *name = argv[1];
	for (int i = 2; i < extra && i < argc; i++) {
		if (!strcmp(argv[i], "--"))
			break;
		if (!strcmp(argv[i], "--gateway")) {
			gateway = true;
			continue;
		}
		const char **dst = !strcmp(argv[i], "--config") ? &config :
				   !strcmp(argv[i], "--netns") ? &netns :
				   !strcmp(argv[i], "--host-addr") ? &host : NULL;
		if (!dst || i + 1 == argc)
			return fprintf(stderr, "tapir: up: bad option '%s'\nusage: %s\n", argv[i], U),
			       EXIT_USAGE;
		*dst = argv[++i];
	}
	char path[4096], dir[4096], logp[8192];
	if (control_socket_path(name, path, sizeof(path)) ||
	    control_runtime_dir(dir, sizeof(dir)))
		return fprintf(stderr, "tapir: '%s' is not an instance name\n", name), EXIT_USAGE;
	if (instance_alive(path)) {
		fprintf(stderr, "tapir: %s is already up (%s)\n", name, path);
		return EXIT_RUNTIME;
	}

	/* The configuration's interface and the kernel side's address (tapird
	 * checks the rest of it) */
	struct config_peek cfg;
	char err[512];
	int rc = config_peek_file(config, &cfg, err, sizeof(err));
	if (rc) {
		fprintf(stderr, "tapir: %s\n", err);
		return EXIT_RUNTIME;
	}
	char hostbuf[40], gw[16];
	if (!host && netns && !strcmp(netns, "new")) {
		if (!cfg.gateway) {
			fprintf(stderr, "tapir: no gateway in the configuration: give --host-addr\n");
			return EXIT_USAGE;
		}
		snprintf(hostbuf, sizeof(hostbuf), "%s/%u", tapir_ipv4_addr_format(cfg.gateway, gw),
			 cfg.prefix_len);
		host = hostbuf;
	}
	gateway = gateway || cfg.gateway_enabled;
	if (gateway && (!netns || strcmp(netns, "new"))) {
		fprintf(stderr, "tapir: --gateway needs --netns new\n");
		return EXIT_USAGE;
	}
	char via[16] = "";
	/* tapird's IPv6 address: the configuration's first, else UP_TAPIRD_ADDR6's */
	char via6[INET6_ADDRSTRLEN] = "2001:db8::2";
	if (gateway) {
		if (!cfg.addr_set) {
			fprintf(stderr, "tapir: --gateway: no [ipv4] address in the configuration\n");
			return EXIT_USAGE;
		}
		tapir_ipv4_addr_format(cfg.addr, via);
		if (cfg.ipv6_addr_set)
			inet_ntop(AF_INET6, cfg.ipv6_addr, via6, sizeof(via6));
	}
	char ifname[sizeof(cfg.ifname)];
	strcpy(ifname, cfg.ifname);
	unsigned mtu = cfg.mtu;

	/* mkdir -p the runtime directory, 0700 */
	char tmp[4096];
	snprintf(tmp, sizeof(tmp), "%s", dir);
	for (char *p = tmp + 1;; p++) {
		if (*p == '/' || !*p) {
			char c = *p;
			*p = 0;
			mkdir(tmp, 0700);
			*p = c;
			if (!c)
				break;
		}
	}
	snprintf(logp, sizeof(logp), "%s/%s.log", dir, name);
	char nsfile[8192];
	snprintf(nsfile, sizeof(nsfile), "%s/%s.netns", dir, name);
	unlink(nsfile);

	pid_t pid = fork();
	if (pid < 0)
		return perror("tapir: fork"), EXIT_RUNTIME;
	if (pid == 0) {
		setsid();
		int fd = open(logp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		int nul = open("/dev/null", O_RDONLY | O_CLOEXEC);
		if (fd < 0 || nul < 0)
			_exit(126);
		dup2(nul, 0);
		dup2(fd, 1);
		dup2(fd, 2);
		char tapfd[32] = "";
		if (gateway) {
			bool vnet = false;
			pid_t holder = 0;
			int tfd = gateway_netns(ifname, host, mtu, via,
						cfg.ipv6_enabled ? via6 : NULL, &vnet, &holder);
			if (tfd < 0)
				_exit(125);
			fcntl(tfd, F_SETFD, 0);	/* tapird takes it over */
			snprintf(tapfd, sizeof(tapfd), "%d%s", tfd, vnet ? ",vnet" : "");
			setenv("TAPIR_TAP_FD", tapfd, 1);
			FILE *f = fopen(nsfile, "w");
			if (!f || fprintf(f, "%d\n", (int)holder) < 0 || fclose(f))
				_exit(125);
		} else if (netns && !strcmp(netns, "new")) {
			if (make_netns(ifname, host, mtu, cfg.ipv6_enabled))
				_exit(125);
		} else if (netns) {
			if (join_netns(netns) || (host && host_side(ifname, host, mtu)))
				_exit(125);
		}
		setenv("TAPIR_RUNTIME_DIR", dir, 1);
		char namearg[80];
		snprintf(namearg, sizeof(namearg), "--control.name=%s", name);
		char **av = calloc((size_t)argc + 8, sizeof(char *));
		int n = 0;
		av[n++] = (char *)tapird_path();
		if (config) {
			av[n++] = "--config";
			av[n++] = (char *)config;
		}
		av[n++] = namearg;
		if (gateway)
			av[n++] = "--gateway.enabled=true";
		/* tapird's IPv6 address in a new namespace, unless the config has one */
		if (netns && !strcmp(netns, "new") && cfg.ipv6_enabled && !cfg.ipv6_addr_set)
			av[n++] = "--ipv6.address=" UP_TAPIRD_ADDR6;
		/* ... and its gateway, the kernel side (as [ipv4] gateway is): where
		 * the port forwards' IPv6 connections go */
		if (netns && !strcmp(netns, "new") && cfg.ipv6_enabled && !cfg.ipv6_gateway_set &&
		    !cfg.ipv6_addr_set)
			av[n++] = "--ipv6.gateway=" UP_HOST_GW6;
		for (int i = extra; i < argc; i++)
			av[n++] = argv[i];
		av[n] = NULL;
		execvp(av[0], av);
		fprintf(stderr, "tapir: %s: %s\n", av[0], strerror(errno));
		_exit(127);
	}
	/* Wait for the socket (10 s), or for the child to die */
	for (int i = 0; i < 200; i++) {
		int st;
		if (waitpid(pid, &st, WNOHANG) == pid) {
			fprintf(stderr, "tapir: %s did not start (exit %d); log %s:\n", name,
				WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st), logp);
			FILE *f = fopen(logp, "r");
			char line[512];
			while (f && fgets(line, sizeof(line), f))
				fputs(line, stderr);
			if (f)
				fclose(f);
			return EXIT_RUNTIME;
		}
		if (instance_alive(path)) {
			printf("%s up: pid %d, socket %s, log %s\n", name, (int)pid, path, logp);
			return 0;
		}
		usleep(50000);
	}
	fprintf(stderr, "tapir: %s: no control socket after 10 s (log %s)\n", name, logp);
	kill(pid, SIGTERM);
	return EXIT_RUNTIME;
}

/* The instance's pid, from its status.  Return: pid or -1 (printed) */
static long instance_pid(const char *name, char *dns, size_t dnslen)
{
	char path[4096];
	if (control_socket_path(name, path, sizeof(path)))
		return -1;
	/* Only through a directory nobody else could have put a socket in: the
	 * answer says which pid to signal. */
	char why[4200];
	int dc = control_socket_dir_check(path, true, why, sizeof(why));
	if (dc && dc != -ENOENT) {
		fprintf(stderr, "tapir: refusing the control socket directory: %s\n",
			*why ? why : strerror(-dc));
		return -1;
	}
	/* A tiny client of our own: connect, one request, one reply line */
	FILE *p;
	int fd = -1;
	{
		struct sockaddr_un a = { .sun_family = AF_UNIX };
		if (strlen(path) >= sizeof(a.sun_path))
			return -1;
		strcpy(a.sun_path, path);
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a))) {
			fprintf(stderr, "tapir: %s: %s\n", path, strerror(errno));
			if (fd >= 0)
				close(fd);
			return -1;
		}
	}
	size_t rlen = 0;
	char *req = control_request_encode("status", NULL, NULL, &rlen);
	if (!req || write(fd, req, rlen) != (ssize_t)rlen) {
		free(req);
		close(fd);
		return -1;
	}
	free(req);
	p = fdopen(fd, "r");
	char line[8192];
	long pid = -1;
	struct control_reply r;
	if (p && fgets(line, sizeof(line), p) && !control_reply_decode(line, strlen(line), &r)) {
		json_t *v = json_object_get(r.result, "pid");
		if (json_is_integer(v))
			pid = (long)json_integer_value(v);
		json_t *a = json_object_get(r.result, "address");
		if (dns && json_is_true(json_object_get(r.result, "gateway_enabled")) &&
		    json_is_string(a))
			snprintf(dns, dnslen, "%s", json_string_value(a));
		control_reply_release(&r);
	}
	if (p)
		fclose(p);
	if (pid <= 0)
		fprintf(stderr, "tapir: %s: no pid in the status\n", name);
	return pid;
}

/*
 * The gateway's DNS relay listens on the instance's address: a resolv.conf
 * naming it, RUNDIR/NAME.resolv.conf (written anew each time, 0644).
 * Return: 0 (its path in @path) or -1 (printed)
 */
static int write_resolv_conf(const char *name, const char *addr, char *path, size_t len)
{
	char dir[4096];
	if (control_runtime_dir(dir, sizeof(dir)))
		return -1;
	snprintf(path, len, "%s/%s.resolv.conf", dir, name);
	/* a temporary file of its own: execs run side by side (a shared name
	 * let one rename the other's file away, and that exec failed) */
	char tmp[4300];
	snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path);
	int fd = mkstemp(tmp);
	FILE *f = fd < 0 ? NULL : fdopen(fd, "w");
	if (!f && fd >= 0)
		close(fd);
	bool ok = f && fprintf(f, "# tapir exec %s: the gateway's DNS relay\nnameserver %s\n",
			       name, addr) >= 0 && fchmod(fileno(f), 0644) == 0;
	if (f && fclose(f))
		ok = false;
	if (!ok || rename(tmp, path)) {
		fprintf(stderr, "tapir: %s: %s\n", tmp, strerror(errno));
		if (fd >= 0)
			unlink(tmp);
		return -1;
	}
	return 0;
}

/*
 * In the instance's namespaces: a private mount namespace in which @path is
 * bind-mounted over /etc/resolv.conf, as `ip netns exec` does with
 * /etc/netns/NAME/resolv.conf.  Return: 0 or -1 (printed)
 */
static int bind_resolv_conf(const char *path)
{
	if (unshare(CLONE_NEWNS)) {
		fprintf(stderr, "tapir: unshare(mount): %s\n", strerror(errno));
		return -1;
	}
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) ||
	    mount(path, "/etc/resolv.conf", NULL, MS_BIND, NULL)) {
		fprintf(stderr, "tapir: bind-mounting %s over /etc/resolv.conf: %s\n", path,
			strerror(errno));
		return -1;
	}
	return 0;
}

/*
 * A gateway instance's namespaces are its holder's (RUNDIR/NAME.netns), a
 * child of the instance; tapird itself runs in the caller's namespace, so
 * without its holder a command would run there, outside the namespace:
 * that is refused.  Other instances run in their own namespace.
 * Return: the pid whose namespaces to join, or -1 (printed)
 */
static long netns_holder(const char *name, long pid, bool gateway)
{
	char dir[4096], path[8192], line[256];
	long holder = -1, ppid = -1;
	FILE *f;

	if (control_runtime_dir(dir, sizeof(dir)))
		return gateway ? -1 : pid;
	snprintf(path, sizeof(path), "%s/%s.netns", dir, name);
	f = fopen(path, "r");
	if (!f && !gateway)
		return pid;
	if (f && fscanf(f, "%ld", &holder) != 1)
		holder = -1;
	if (f)
		fclose(f);
	snprintf(path, sizeof(path), "/proc/%ld/status", holder);
	f = holder > 0 ? fopen(path, "r") : NULL;
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "PPid: %ld", &ppid) == 1)
			break;
	if (f)
		fclose(f);
	if (ppid == pid)
		return holder;
	fprintf(stderr, "tapir: %s: %s\n", name,
		holder > 0 ? "the process holding its namespace is gone (not a child of tapird)" :
		"a gateway whose namespace `tapir up --netns new` did not make: no namespace to "
		"run in (tapird's own is the host's)");
	return -1;
}

static bool same_ns(const char *a, const char *b)
{
	struct stat sa, sb;
	return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_ino == sb.st_ino &&
	       sa.st_dev == sb.st_dev;
}

int exec_main(int argc, char **argv)
{
	static const char U[] = "tapir exec NAME -- CMD [ARGS...]";
	if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		printf("usage: %s\n\nRun CMD in the network namespace (and user namespace) of "
		       "instance NAME.\n", U);
		return 0;
	}
	if (argc < 4 || strcmp(argv[2], "--"))
		return fprintf(stderr, "tapir: exec needs NAME -- CMD\nusage: %s\n", U), EXIT_USAGE;
	char dns[64] = "", resolv[4200] = "";
	long pid = instance_pid(argv[1], dns, sizeof(dns));
	if (pid < 0)
		return EXIT_RUNTIME;
	pid = netns_holder(argv[1], pid, dns[0] != 0);
	if (pid < 0)
		return EXIT_RUNTIME;
	if (dns[0] && write_resolv_conf(argv[1], dns, resolv, sizeof(resolv)))
		return EXIT_RUNTIME;
	char user[64], net[64];
	snprintf(user, sizeof(user), "/proc/%ld/ns/user", pid);
	snprintf(net, sizeof(net), "/proc/%ld/ns/net", pid);
	int ufd = open(user, O_RDONLY | O_CLOEXEC);
	int nfd = open(net, O_RDONLY | O_CLOEXEC);
	if (ufd < 0 || nfd < 0) {
		fprintf(stderr, "tapir: %s: %s\n", ufd < 0 ? user : net, strerror(errno));
		return EXIT_RUNTIME;
	}
	if (!same_ns(user, "/proc/self/ns/user") && setns(ufd, CLONE_NEWUSER)) {
		fprintf(stderr, "tapir: setns(%s): %s\n", user, strerror(errno));
		return EXIT_RUNTIME;
	}
	if (setns(nfd, CLONE_NEWNET)) {
		fprintf(stderr, "tapir: setns(%s): %s\n", net, strerror(errno));
		return EXIT_RUNTIME;
	}
	close(ufd);
	close(nfd);
	if (resolv[0] && bind_resolv_conf(resolv))
		return EXIT_RUNTIME;
	execvp(argv[3], argv + 3);
	fprintf(stderr, "tapir: %s: %s\n", argv[3], strerror(errno));
	return EXIT_RUNTIME;
}
