/*
 * tapir.c - the tapir command: operate tapird instances over their control socket
 *
 * A table of subcommands, one *_main(argc, argv) each (wireguard-tools
 * style).  Each sends one request (control.h) to the instance's socket and
 * prints the result: a human table by default, the result object with
 * --json.  Both outputs come from the same reply.  Exit status as ip(8):
 * 0 success, 1 usage error, 2 runtime error (including an error reply).
 */
#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "proto.h"
#include "tapir_version.h"
#include "cli.h"
#include "top.h"
#include "up.h"

#define EXIT_USAGE 1
#define EXIT_RUNTIME 2

static bool json_out;

/* ---- talking to an instance ---- */

static int connect_path(const char *path)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof(a.sun_path)) {
		close(fd);
		return -ENAMETOOLONG;
	}
	strcpy(a.sun_path, path);
	if (connect(fd, (struct sockaddr *)&a, sizeof(a))) {
		int e = errno;
		close(fd);
		return -e;
	}
	struct timeval tv = { .tv_sec = 70 };
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return fd;
}

/* Send one request to @path, decode the reply into @rep (release it).
 * Return: 0, or -1 (message printed) */
static int request_path(const char *path, const char *cmd, json_t *args,
			struct control_reply *rep)
{
	size_t len = 0;
	/* Talk only through a directory nobody else could have put a socket in. */
	char why[4200];
	int dc = control_socket_dir_check(path, true, why, sizeof(why));
	if (dc && dc != -ENOENT) {
		fprintf(stderr, "tapir: refusing the control socket directory: %s\n",
			*why ? why : strerror(-dc));
		json_decref(args);
		return -1;
	}
	char *line = control_request_encode(cmd, args, NULL, &len);
	if (!line) {
		fprintf(stderr, "tapir: out of memory\n");
		return -1;
	}
	int fd = connect_path(path);
	if (fd < 0) {
		fprintf(stderr, "tapir: %s: %s\n", path, strerror(-fd));
		free(line);
		return -1;
	}
	ssize_t w = write(fd, line, len);
	free(line);
	if (w != (ssize_t)len) {
		fprintf(stderr, "tapir: %s: write failed\n", path);
		close(fd);
		return -1;
	}
	char *buf = NULL;
	size_t n = 0, cap = 0;
	for (;;) {
		if (cap - n < 4096) {
			cap = cap ? cap * 2 : 16384;
			char *nb = realloc(buf, cap);
			if (!nb)
				break;
			buf = nb;
		}
		ssize_t r = read(fd, buf + n, cap - n);
		if (r <= 0)
			break;
		n += (size_t)r;
		if (memchr(buf + n - r, '\n', (size_t)r))
			break;
	}
	close(fd);
	int rc = buf && n ? control_reply_decode(buf, n, rep) : -1;
	free(buf);
	if (rc)
		fprintf(stderr, "tapir: %s: no reply\n", path);
	return rc ? -1 : 0;
}

static int sock_path(const char *name, char *path, size_t len)
{
	int rc = control_socket_path(name, path, len);
	if (rc) {
		fprintf(stderr, "tapir: '%s' is not an instance name\n", name);
		return -1;
	}
	return 0;
}

/* Send, check the reply.  Return: the result (owned by *rep), or NULL (printed) */
static json_t *call(const char *name, const char *cmd, json_t *args, json_t **rep)
{
	char path[4096];
	*rep = NULL;
	if (sock_path(name, path, sizeof(path))) {
		json_decref(args);
		return NULL;
	}
	struct control_reply cr;
	if (request_path(path, cmd, args, &cr))
		return NULL;
	*rep = cr.root;  /* the caller's, with everything below */
	if (!cr.ok) {
		if (json_out) {
			json_dumpf(*rep, stdout, JSON_INDENT(2));
			putchar('\n');
		}
		fprintf(stderr, "tapir: %s: %s: %s\n", name, cr.code, cr.message);
		return NULL;
	}
	return cr.result;
}

static void print_json(json_t *v)
{
	json_dumpf(v, stdout, JSON_INDENT(2) | JSON_SORT_KEYS);
	putchar('\n');
}

/* The one print call for a field: JSON mode ignores it (the object is
 * printed whole), human mode prints "label: value". */
static void field(json_t *o, const char *key, const char *label)
{
	if (json_out)
		return;
	json_t *v = json_object_get(o, key);
	if (json_is_string(v))
		printf("%-12s %s\n", label, json_string_value(v));
	else if (json_is_integer(v))
		printf("%-12s %lld\n", label, (long long)json_integer_value(v));
	else if (json_is_null(v) || !v)
		printf("%-12s -\n", label);
	else if (json_is_boolean(v))
		printf("%-12s %s\n", label, json_is_true(v) ? "yes" : "no");
}

/* Usage checks */
static int usage_err(const char *msg, const char *usage)
{
	fprintf(stderr, "tapir: %s\nusage: %s\n", msg, usage);
	return EXIT_USAGE;
}

static bool want_help(int argc, char **argv, const char *usage, const char *help)
{
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--"))
			break;
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			printf("usage: %s\n\n%s\n", usage, help);
			return true;
		}
	}
	return false;
}

static int parse_u64(const char *s, uint64_t max, uint64_t *out)
{
	char *end;
	errno = 0;
	if (!*s || *s == '-')
		return -EINVAL;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || *end || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

#define SIMPLE(argc, argv, U, H)                                               \
	do {                                                                   \
		if (want_help(argc, argv, U, H))                               \
			return 0;                                              \
	} while (0)

/*
 * show() - Run @cmd on instance @name and print the result: JSON with --json,
 * else through @table (given @arg).  Return: exit code
 */
static int show(const char *name, const char *cmd, json_t *args,
		void (*table)(json_t *r, const char *arg), const char *arg)
{
	json_t *rep, *r = call(name, cmd, args, &rep);

	if (!r) {
		json_decref(rep);
		return EXIT_RUNTIME;
	}
	if (json_out)
		print_json(r);
	else
		table(r, arg);
	json_decref(rep);
	return 0;
}

/* ---- subcommands ---- */

/* The human table of `tapir dhcp` (and the dhcp part of `tapir status`) */
static void dhcp_table(json_t *r, const char *arg)
{
	(void)arg;
	printf("%-12s %s\n", "dhcp:", cli_s(r, "state"));
	if (!json_object_get(r, "server"))
		return;
	field(r, "server", "  server:");
	static const char *const t[] = { "obtained", "t1", "t2", "expiry" };
	for (size_t i = 0; i < 4; i++) {
		json_t *v = json_object_get(r, t[i]);
		char buf[32] = "never";
		char label[16];
		time_t w = (time_t)json_integer_value(v);
		struct tm tm;
		if (json_is_integer(v) && gmtime_r(&w, &tm))
			strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
		snprintf(label, sizeof(label), "  %s:", t[i]);
		printf("%-12s %s\n", label, buf);
	}
}

static int dhcp_main(int argc, char **argv)
{
	static const char U[] = "tapir dhcp NAME [status|renew|release] [--json]";
	SIMPLE(argc, argv, U,
	       "Show the instance's DHCP lease, renew it now, or release it (the instance\n"
	       "then has no address until a renew).  Needs [ipv4] address = dhcp.");
	if (argc < 2 || argc > 3)
		return usage_err("dhcp needs NAME", U);
	return show(argv[1], "dhcp", argc == 3 ? json_pack("{s:s}", "action", argv[2]) : NULL,
		    dhcp_table, NULL);
}

/* The human table of `tapir status` */
static void status_table(json_t *r, const char *arg)
{
	(void)arg;
	field(r, "name", "name:");
	field(r, "version", "version:");
	field(r, "pid", "pid:");
	printf("%-12s %.1f s\n", "uptime:", (double)cli_i(r, "uptime_ms") / 1000);
	field(r, "backend", "backend:");
	field(r, "interface", "interface:");
	field(r, "mac", "mac:");
	if (json_is_string(json_object_get(r, "address")))
		printf("%-12s %s/%lld\n", "address:", cli_s(r, "address"), cli_i(r, "prefix_len"));
	else
		printf("%-12s -\n", "address:");  /* DHCP: none yet */
	field(r, "gateway", "gateway:");
	field(r, "mtu", "mtu:");
	field(r, "log_level", "log level:");
	field(r, "tcp_flows", "tcp flows:");
	if (json_object_get(r, "dhcp"))
		dhcp_table(json_object_get(r, "dhcp"), NULL);
	size_t i;
	json_t *a;
	json_array_foreach(json_object_get(r, "ipv6_addresses"), i, a) {
		char pl[32] = "forever", vl[32] = "forever";
		if (json_is_integer(json_object_get(a, "preferred_ms")))
			snprintf(pl, sizeof(pl), "%.0fs", (double)cli_i(a, "preferred_ms") / 1000);
		if (json_is_integer(json_object_get(a, "valid_ms")))
			snprintf(vl, sizeof(vl), "%.0fs", (double)cli_i(a, "valid_ms") / 1000);
		printf("%-12s %s/%lld %s %s preferred %s valid %s\n", i ? "" : "ipv6:",
		       cli_s(a, "address"), cli_i(a, "prefix_len"), cli_s(a, "origin"), cli_s(a, "state"), pl, vl);
	}
	json_array_foreach(json_object_get(r, "ipv6_routers"), i, a)
		printf("%-12s %s%s\n", i ? "" : "ipv6 router:", cli_s(a, "address"),
		       json_is_true(json_object_get(a, "default")) ? " (default)" : "");
	field(r, "gateway_enabled", "gateway on:");
}

static int status_main(int argc, char **argv)
{
	static const char U[] = "tapir status NAME [--json]";
	SIMPLE(argc, argv, U, "Show an instance: version, uptime, backend, MAC, address, MTU.");
	if (argc != 2)
		return usage_err("status needs NAME", U);
	return show(argv[1], "status", NULL, status_table, NULL);
}

/* The human table of `tapir stats` */
static void stats_table(json_t *r, const char *arg)
{
	(void)arg;
	const char *layer;
	json_t *l;
	json_object_foreach(r, layer, l) {
		const char *k;
		json_t *v;
		json_object_foreach(l, k, v) {
			char name[128];
			snprintf(name, sizeof(name), "%s.%s", layer, k);
			printf("%-36s %lld\n", name, (long long)json_integer_value(v));
		}
	}
}

static int stats_main(int argc, char **argv)
{
	static const char U[] = "tapir stats NAME [--json]";
	SIMPLE(argc, argv, U, "Show every counter of the stack, by layer.");
	if (argc != 2)
		return usage_err("stats needs NAME", U);
	return show(argv[1], "stats", NULL, stats_table, NULL);
}

/* The human table of `tapir neigh` (and `tapir arp`): ARP and NDP caches together */
static void arp_table(json_t *r, const char *arg)
{
	if (strcmp(arg, "list"))
		return;
	printf("%-40s %-18s %-10s %s\n", "ADDRESS", "MAC", "STATE", "EXPIRES");
	size_t i;
	json_t *e;
	json_array_foreach(json_object_get(r, "entries"), i, e) {
		char exp[32] = "-";
		if (json_is_integer(json_object_get(e, "expires_ms")))
			snprintf(exp, sizeof(exp), "%.1fs", (double)cli_i(e, "expires_ms") / 1000);
		printf("%-40s %-18s %-10s %s%s\n", cli_s(e, "ip"), cli_s(e, "mac"), cli_s(e, "state"), exp,
		       json_is_true(json_object_get(e, "router")) ? " router" : "");
	}
}

static int arp_main(int argc, char **argv)
{
	const char *U = strcmp(argv[0], "arp") ? "tapir neigh NAME [list|flush] [--json]  (alias: arp)"
					       : "tapir arp NAME [list|flush] [--json]  (= tapir neigh)";
	SIMPLE(argc, argv, U, "List the ARP and NDP caches, or flush them.");
	if (argc < 2 || argc > 3)
		return usage_err("neigh needs NAME", U);
	const char *action = argc == 3 ? argv[2] : "list";
	if (strcmp(action, "list") && strcmp(action, "flush"))
		return usage_err("neigh: expected list or flush", U);
	return show(argv[1], "arp", json_pack("{s:s}", "action", action), arp_table, action);
}

/* An endpoint as text: a.b.c.d:port, or [v6]:port */
char *cli_endpoint(char *buf, size_t size, const char *addr, long long port)
{
	snprintf(buf, size, strchr(addr, ':') ? "[%s]:%lld" : "%s:%lld", addr, port);
	return buf;
}

/* The human table of `tapir conns` */
static void conns_table(json_t *r, const char *arg)
{
	(void)arg;
	printf("%-12s %8s %8s %-22s %-22s\n", "STATE", "RECV-Q", "SEND-Q", "LOCAL", "PEER");
	size_t i;
	json_t *e;
	json_array_foreach(json_object_get(r, "connections"), i, e) {
		char l[64], p[64];
		cli_endpoint(l, sizeof(l), cli_s(e, "local"), cli_i(e, "local_port"));
		cli_endpoint(p, sizeof(p), cli_s(e, "remote"), cli_i(e, "remote_port"));
		printf("%-12s %8lld %8lld %-22s %-22s\n", cli_s(e, "state"), cli_i(e, "recv_queue"),
		       cli_i(e, "send_queue"), l, p);
		printf("\t rtt:%.3f/%.3f rto:%lld mss:%lld cwnd:%lld ssthresh:%lld "
		       "bytes_sent:%lld bytes_received:%lld retrans:%lld\n",
		       (double)cli_i(e, "rtt_us") / 1000, (double)cli_i(e, "rttvar_us") / 1000,
		       cli_i(e, "rto_ms"), cli_i(e, "mss"), cli_i(e, "cwnd"), cli_i(e, "ssthresh"),
		       cli_i(e, "bytes_sent"), cli_i(e, "bytes_received"), cli_i(e, "retransmits"));
		if (json_object_get(e, "tls_version"))
			printf("\t tls %s %s sni:%s resumed:%s\n", cli_s(e, "tls_version"),
			       cli_s(e, "tls_cipher"), cli_s(e, "tls_sni"), cli_s(e, "tls_resumed"));
	}
	json_t *sp = json_object_get(r, "spliced");
	if (!json_is_array(sp))
		return;
	/* the gateway's flows: namespace side -> destination, and the host socket */
	printf("\nSPLICED (gateway)\n%-5s %-10s %-22s %-22s %-22s %12s %12s\n", "PROTO", "STATE",
	       "NAMESPACE", "DESTINATION", "HOST SOCKET", "TO-HOST", "TO-NS");
	json_array_foreach(sp, i, e) {
		char n[64], d[64], h[64];
		cli_endpoint(n, sizeof(n), cli_s(e, "ns_addr"), cli_i(e, "ns_port"));
		cli_endpoint(d, sizeof(d), cli_s(e, "dst_addr"), cli_i(e, "dst_port"));
		if (json_object_get(e, "host_local_addr"))
			cli_endpoint(h, sizeof(h), cli_s(e, "host_local_addr"), cli_i(e, "host_local_port"));
		else
			snprintf(h, sizeof(h), "ping %s", cli_s(e, "host_peer_addr"));
		printf("%-5s %-10s %-22s %-22s %-22s %12lld %12lld\n", cli_s(e, "proto"),
		       cli_s(e, "state"), n, d, h,
		       json_object_get(e, "bytes_to_host") ? cli_i(e, "bytes_to_host")
							   : cli_i(e, "echo_sent"),
		       json_object_get(e, "bytes_to_ns") ? cli_i(e, "bytes_to_ns")
							 : cli_i(e, "echo_replies"));
	}
}

static int conns_main(int argc, char **argv)
{
	static const char U[] = "tapir conns NAME [--json]";
	SIMPLE(argc, argv, U,
	       "List TCP connections: 4-tuple, state, queues, RTT, cwnd, retransmits (as ss -ti);\n"
	       "with [gateway] enabled also the spliced flows: the namespace side, the\n"
	       "destination, the host socket, bytes each way and state (the port forwards'\n"
	       "connections too: the namespace's server and the accepted host socket).");
	if (argc != 2)
		return usage_err("conns needs NAME", U);
	return show(argv[1], "conns", NULL, conns_table, NULL);
}

/* The human table of `tapir udp` */
static void udp_table(json_t *r, const char *arg)
{
	(void)arg;
	printf("%-22s\n", "LOCAL");
	size_t i;
	json_t *e;
	json_array_foreach(json_object_get(r, "listeners"), i, e) {
		const char *ep = cli_s(e, "endpoint");
		if (strcmp(ep, "-"))
			printf("%s\n", ep);
		else   /* an older tapird */
			printf("%s:%lld\n", cli_s(e, "local"), cli_i(e, "port"));
	}
}

static int udp_main(int argc, char **argv)
{
	static const char U[] = "tapir udp NAME [--json]";
	SIMPLE(argc, argv, U, "List the UDP ports the instance listens on, one row per local\n"
	       "address: a.b.c.d:port, [IPv6]:port (a listener takes both families\n"
	       "unless it asked for one).");
	if (argc != 2)
		return usage_err("udp needs NAME", U);
	return show(argv[1], "udp", NULL, udp_table, NULL);
}

static int log_main(int argc, char **argv)
{
	static const char U[] = "tapir log NAME [error|warn|info|debug] [--json]";
	SIMPLE(argc, argv, U, "Show or set the instance's log level.");
	if (argc < 2 || argc > 3)
		return usage_err("log needs NAME", U);
	json_t *rep, *r = call(argv[1], "log",
			       argc == 3 ? json_pack("{s:s}", "level", argv[2]) : NULL, &rep);
	if (!r) {
		json_decref(rep);
		return EXIT_RUNTIME;
	}
	if (json_out)
		print_json(r);
	else
		printf("%s\n", cli_s(r, "level"));
	json_decref(rep);
	return 0;
}

/* The human table of `tapir reload` */
static void reload_table(json_t *r, const char *arg)
{
	(void)arg;
	size_t i;
	json_t *e;
	json_array_foreach(json_object_get(r, "reopened"), i, e)
		printf("re-opened %s\n", json_string_value(e));
	json_array_foreach(json_object_get(r, "kept"), i, e)
		printf("kept      %s (%s)\n", cli_s(e, "name"), cli_s(e, "reason"));
}

static int reload_main(int argc, char **argv)
{
	static const char U[] = "tapir reload NAME [--json]";
	SIMPLE(argc, argv, U,
	       "Re-open the instance's read-only key-value stores (a new site tar file, a\n"
	       "changed directory); writable ones are kept.  If one cannot be opened, none\n"
	       "changes.  Responses under way finish from the old store.  Same as SIGHUP.");
	if (argc != 2)
		return usage_err("reload needs NAME", U);
	return show(argv[1], "reload", NULL, reload_table, NULL);
}


static int resolve_main(int argc, char **argv)
{
	static const char U[] = "tapir resolve NAME HOST [-4|-6] [--json]";
	if (want_help(argc, argv, U,
		      "Resolve HOST with the instance's resolver ([dns]): its addresses, one a "
		      "line,\nwith their TTLs.  NXDOMAIN, NODATA, SERVFAIL or TIMEOUT: exit 2."))
		return 0;
	if (argc < 3 || argc > 4 || (argc == 4 && strcmp(argv[3], "-4") && strcmp(argv[3], "-6")))
		return usage_err("needs NAME and HOST", U);
	json_t *args = json_pack("{s:s,s:s}", "name", argv[2], "family",
				 argc == 4 ? argv[3] + 1 : "any");
	json_t *rep, *r = call(argv[1], "resolve", args, &rep);
	if (!r) {
		json_decref(rep);
		return EXIT_RUNTIME;
	}
	if (json_out) {
		print_json(r);
	} else {
		size_t i;
		json_t *e;
		if (strcmp(cli_s(r, "canonical"), cli_s(r, "name")))
			printf("%s is %s\n", cli_s(r, "name"), cli_s(r, "canonical"));
		json_array_foreach(json_object_get(r, "addresses"), i, e)
			printf("%s\tttl %lld\n", cli_s(e, "addr"), cli_i(e, "ttl"));
	}
	json_decref(rep);
	return 0;
}

static int down_main(int argc, char **argv)
{
	static const char U[] = "tapir down NAME [--json]";
	SIMPLE(argc, argv, U, "Stop an instance (and its namespace, if 'up --netns new' made it).");
	if (argc != 2)
		return usage_err("down needs NAME", U);
	json_t *rep, *r = call(argv[1], "shutdown", NULL, &rep);
	if (!r) {
		json_decref(rep);
		return EXIT_RUNTIME;
	}
	json_decref(rep);
	char path[4096];
	sock_path(argv[1], path, sizeof(path));
	/* Wait (5 s at most) for the socket to go: the instance has stopped. */
	for (int i = 0; i < 100 && access(path, F_OK) == 0; i++)
		usleep(50000);
	if (json_out)
		printf("{\"name\": \"%s\", \"stopped\": true}\n", argv[1]);
	else
		printf("%s stopped\n", argv[1]);
	return 0;
}

static int list_main(int argc, char **argv)
{
	static const char U[] = "tapir list [--json]";
	SIMPLE(argc, argv, U, "List the running instances of this user (their sockets).");
	if (argc != 1)
		return usage_err("list takes no arguments", U);
	char dir[4096];
	if (control_runtime_dir(dir, sizeof(dir)))
		return EXIT_RUNTIME;
	json_t *arr = json_array();
	DIR *d = opendir(dir);
	struct dirent *de;
	while (d && (de = readdir(d))) {
		size_t n = strlen(de->d_name);
		if (n < 6 || strcmp(de->d_name + n - 5, ".sock"))
			continue;
		char path[8192];
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		struct control_reply cr;
		if (request_path(path, "status", NULL, &cr))
			continue;
		if (cr.ok && cr.result)
			json_array_append(arr, cr.result);
		control_reply_release(&cr);
	}
	if (d)
		closedir(d);
	if (json_out) {
		print_json(arr);
	} else {
		printf("%-16s %8s %-10s %-20s %s\n", "NAME", "PID", "BACKEND", "ADDRESS", "UPTIME");
		size_t i;
		json_t *e;
		json_array_foreach(arr, i, e) {
			char a[40];
			snprintf(a, sizeof(a), "%s/%lld", cli_s(e, "address"), cli_i(e, "prefix_len"));
			printf("%-16s %8lld %-10s %-20s %.0fs\n", cli_s(e, "name"), cli_i(e, "pid"),
			       cli_s(e, "backend"), a, (double)cli_i(e, "uptime_ms") / 1000);
		}
	}
	json_decref(arr);
	return 0;
}

static int logs_main(int argc, char **argv)
{
	static const char U[] = "tapir logs NAME";
	SIMPLE(argc, argv, U, "Print the log of an instance started by 'tapir up'.");
	if (argc != 2)
		return usage_err("logs needs NAME", U);
	char dir[4096], path[8192];
	if (!control_name_ok(argv[1]))
		return usage_err("bad NAME", U);
	if (control_runtime_dir(dir, sizeof(dir)))
		return EXIT_RUNTIME;
	snprintf(path, sizeof(path), "%s/%s.log", dir, argv[1]);
	FILE *f = fopen(path, "r");
	if (!f) {
		fprintf(stderr, "tapir: %s: %s\n", path, strerror(errno));
		return EXIT_RUNTIME;
	}
	char buf[8192];
	size_t n;
	if (json_out) {
		json_t *lines = json_array();
		while (fgets(buf, sizeof(buf), f)) {
			buf[strcspn(buf, "\n")] = 0;
			json_array_append_new(lines, json_string(buf));
		}
		json_t *o = json_pack("{s:s,s:o}", "name", argv[1], "lines", lines);
		print_json(o);
		json_decref(o);
	} else {
		while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
			fwrite(buf, 1, n, stdout);
	}
	fclose(f);
	return 0;
}

static int metrics_main(int argc, char **argv)
{
	static const char U[] = "tapir metrics NAME [--openmetrics] [--json]";
	SIMPLE(argc, argv, U,
	       "Print the counters (those of 'tapir stats') and gauges in the Prometheus text\n"
	       "format (0.0.4; --openmetrics: OpenMetrics 1.0), as the metrics app serves them.");
	bool om = argc == 3 && !strcmp(argv[2], "--openmetrics");
	if (argc != 2 && !om)
		return usage_err("metrics needs NAME", U);
	json_t *rep, *r = call(argv[1], "metrics",
			       json_pack("{s:s}", "format", om ? "openmetrics" : "prometheus"), &rep);
	if (r && json_out)
		print_json(r);
	else if (r)
		fputs(cli_s(r, "text"), stdout);
	json_decref(rep);
	return r ? 0 : EXIT_RUNTIME;
}

/* For cli/top.c and cli/diag.c (cli.h, top.h) */
json_t *cli_call(const char *name, const char *cmd, json_t *args, json_t **rep)
{
	return call(name, cmd, args, rep);
}

bool cli_json_out(void)
{
	return json_out;
}

void cli_print_json(json_t *v)
{
	print_json(v);
}

int cli_show(const char *name, const char *cmd, json_t *args,
	     void (*table)(json_t *r, const char *arg), const char *arg)
{
	return show(name, cmd, args, table, arg);
}

int cli_usage_err(const char *msg, const char *usage)
{
	return usage_err(msg, usage);
}

bool cli_want_help(int argc, char **argv, const char *usage, const char *help)
{
	return want_help(argc, argv, usage, help);
}

int cli_parse_u64(const char *s, uint64_t max, uint64_t *out)
{
	return parse_u64(s, max, out);
}

static int help_main(int argc, char **argv);

static const struct subcommand {
	const char *name;
	int (*main)(int argc, char **argv);
	const char *help;
} subcommands[] = {
	{ "up", up_main, "start an instance (--netns new: in a namespace of its own)" },
	{ "down", down_main, "stop an instance" },
	{ "list", list_main, "list the running instances" },
	{ "status", status_main, "show an instance" },
	{ "stats", stats_main, "show the counters" },
	{ "metrics", metrics_main, "print the counters for Prometheus" },
	{ "top", top_main, "a live view: rates, busiest connections, tables" },
	{ "neigh", arp_main, "list or flush the ARP and NDP caches" },
	{ "arp", arp_main, "the same as neigh" },
	{ "route", route_main, "show the route and the path-MTU cache" },
	{ "conns", conns_main, "list TCP connections" },
	{ "udp", udp_main, "list UDP listeners" },
	{ "reasm", reasm_main, "list datagrams being reassembled" },
	{ "kv", kv_main, "read and change key-value stores" },
	{ "capture", capture_main, "record frames to a pcap file" },
	{ "ping", ping_main, "ping from inside the stack" },
	{ "traceroute", traceroute_main, "trace a route from inside the stack" },
	{ "resolve", resolve_main, "resolve a host name with the instance's resolver" },
	{ "log", log_main, "show or set the log level" },
	{ "reload", reload_main, "re-open the read-only key-value stores" },
	{ "dhcp", dhcp_main, "show, renew or release the DHCP lease" },
	{ "logs", logs_main, "print an instance's log" },
	{ "exec", exec_main, "run a command in an instance's namespace" },
	{ "forward", forward_main, "list, add or remove the gateway's port forwards" },
	{ "help", help_main, "show this help" },
};

static void usage(FILE *f)
{
	fprintf(f, "usage: tapir [--json] COMMAND [ARGS...]\n\n");
	for (size_t i = 0; i < sizeof(subcommands) / sizeof(subcommands[0]); i++)
		fprintf(f, "  %-11s %s\n", subcommands[i].name, subcommands[i].help);
	fprintf(f, "\n'tapir COMMAND --help' describes a command.  --json prints JSON.\n"
		   "Exit status: 0 success, 1 usage error, 2 runtime error.\n");
}

static int help_main(int argc, char **argv)
{
	usage(stdout);
	return 0;
}

int main(int argc, char **argv)
{
	/* --json anywhere before "--" */
	int n = 0;
	bool dashdash = false;
	for (int i = 0; i < argc; i++) {
		if (!dashdash && (!strcmp(argv[i], "--json") || !strcmp(argv[i], "-j"))) {
			json_out = true;
			continue;
		}
		if (!strcmp(argv[i], "--"))
			dashdash = true;
		argv[n++] = argv[i];
	}
	argc = n;
	argv[argc] = NULL;
	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))
		return help_main(0, NULL);
	if (!strcmp(argv[1], "--version")) {
		printf("tapir %s\n", TAPIR_VERSION);
		return 0;
	}
	for (size_t i = 0; i < sizeof(subcommands) / sizeof(subcommands[0]); i++) {
		if (strcmp(argv[1], subcommands[i].name))
			continue;
		/* Every command but list and help names an instance first */
		if (argc > 2 && argv[2][0] != '-' && strcmp(argv[1], "list") &&
		    strcmp(argv[1], "help") && !control_name_ok(argv[2])) {
			fprintf(stderr, "tapir: '%s' is not an instance name (1 to 32 letters, "
					"digits, '-', '_', '.')\n", argv[2]);
			return EXIT_USAGE;
		}
		return subcommands[i].main(argc - 1, argv + 1);
	}
	fprintf(stderr, "tapir: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return EXIT_USAGE;
}
