/*
 * top.c - `tapir top NAME`: a live view of an instance, refreshed every second
 *
 * Theory of operation
 *
 * A sample is five control requests (status, stats, conns, arp, reasm) and
 * the monotonic time they were taken at; a frame is drawn from two samples:
 * rates are the difference of the counters over the time between them.
 * `--once` takes two samples one interval apart, prints one frame and
 * exits; otherwise the view is redrawn every interval until Ctrl-C or 'q'.
 *
 * A frame fits 80 columns and 24 lines (more lines of connections when the
 * terminal is taller; lines are cut when it is narrower):
 *
 *   title: instance, address, uptime, interval
 *   per layer (the stats layers, in their order): RX/s, TX/s, DROPS/s and
 *     its busiest drop reason (the device layer: bytes/s as well)
 *   the busiest drop reasons of all layers
 *   the tables: ARP entries (pending), NDP entries (incomplete) and the
 *     Neighbour Solicitations sent per second, datagrams and bytes held by
 *     reassembly (IPv4 and IPv6), TCP flows
 *   the busiest TCP connections: peer, state, RX and TX bytes/s (from
 *     bytes_received and bytes_acked), RTT, cwnd, retransmits
 *
 * What a layer receives and sends is read generically from its counters, so
 * layers added later show up: RX is "rx", "rx_frames" or "frags_in"; TX is
 * "tx" or "tx_frames", else the sum of the "*_sent" counters; drops are the
 * "drop.*" counters and "tx_drops"/"dropped".
 *
 * Colour and cursor movement (plain ANSI escapes: clear, home, bold,
 * reverse, red; no terminfo needed for so few) only on a terminal whose
 * TERM is not "dumb" and when NO_COLOR is unset or empty (no-color.org);
 * otherwise frames are printed one after the other, as plain text.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "top.h"

#define WIDTH 80
#define MIN_CONN_LINES 4

struct sample {
	double t;                     /* s, CLOCK_MONOTONIC */
	json_t *status, *stats, *conns, *arp, *reasm;   /* results, owned */
	json_t *reps[5];              /* the replies they belong to */
};

struct view {
	const char *name;
	double interval;
	bool color, ansi;
	int rows, width;              /* 24 and 80, or the terminal's if taller / narrower */
};

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static double mono(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sample_free(struct sample *s)
{
	for (int i = 0; i < 5; i++)
		json_decref(s->reps[i]);
	memset(s, 0, sizeof(*s));
}

/* Return: 0, or -1 (the error was printed) */
static int sample_take(const char *name, struct sample *s)
{
	static const char *const cmds[5] = { "status", "stats", "conns", "arp", "reasm" };
	json_t **dst[5] = { &s->status, &s->stats, &s->conns, &s->arp, &s->reasm };
	memset(s, 0, sizeof(*s));
	s->t = mono();
	for (int i = 0; i < 5; i++) {
		*dst[i] = cli_call(name, cmds[i], NULL, &s->reps[i]);
		if (!*dst[i]) {
			sample_free(s);
			return -1;
		}
	}
	return 0;
}

/* A string member, "-" when missing */
static const char *sval(json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));
	return s ? s : "-";
}

static long long ival(json_t *o, const char *k)
{
	return (long long)json_integer_value(json_object_get(o, k));
}

/* A rate or count in 6 columns at most: 999, 12.3k, 4.56M, 7.89G */
static char *human(double v, char *buf, size_t len)
{
	static const char unit[] = " kMGTP";
	int u = 0;
	while (v >= 999.5 && u < 5) {
		v /= 1000;
		u++;
	}
	if (u == 0)
		snprintf(buf, len, "%.0f", v);
	else
		snprintf(buf, len, v < 9.995 ? "%.2f%c" : v < 99.95 ? "%.1f%c" : "%.0f%c", v,
			 unit[u]);
	return buf;
}

/* The difference of counter @key of @layer between two samples */
static double delta(json_t *l0, json_t *l1, const char *key)
{
	long long a = ival(l0, key), b = ival(l1, key);
	return b >= a ? (double)(b - a) : 0;
}

struct layer_rates {
	const char *name;
	double rx, tx, drops, top_drop, rx_bytes, tx_bytes;
	const char *top_reason;
	bool has_rx, has_tx, active;
};

static bool is_drop(const char *k)
{
	return !strncmp(k, "drop.", 5) || !strcmp(k, "tx_drops") || !strcmp(k, "dropped");
}

static void layer_rates(json_t *l0, json_t *l1, double dt, struct layer_rates *r)
{
	const char *k;
	json_t *v;
	double sent = 0;
	bool has_sent = false;
	json_object_foreach(l1, k, v) {
		double d = delta(l0, l1, k) / dt;
		if (!strcmp(k, "rx") || !strcmp(k, "rx_frames") || !strcmp(k, "frags_in")) {
			r->rx += d;
			r->has_rx = true;
		} else if (!strcmp(k, "tx") || !strcmp(k, "tx_frames")) {
			r->tx += d;
			r->has_tx = true;
		} else if (!strcmp(k, "rx_bytes")) {
			r->rx_bytes = d;
		} else if (!strcmp(k, "tx_bytes")) {
			r->tx_bytes = d;
		} else if (strlen(k) > 5 && !strcmp(k + strlen(k) - 5, "_sent")) {
			sent += d;
			has_sent = true;
		}
		if (is_drop(k)) {
			r->drops += d;
			if (d > r->top_drop) {
				r->top_drop = d;
				r->top_reason = strncmp(k, "drop.", 5) ? k : k + 5;
			}
		}
	}
	if (!r->has_tx && has_sent) {
		r->tx = sent;
		r->has_tx = true;
	}
	r->active = r->rx > 0 || r->tx > 0 || r->drops > 0;
}

struct conn_rate {
	json_t *c;
	double rx, tx;
};

static int conn_cmp(const void *a, const void *b)
{
	const struct conn_rate *x = a, *y = b;
	double dx = x->rx + x->tx, dy = y->rx + y->tx;
	if (dx != dy)
		return dx < dy ? 1 : -1;
	long long bx = ival(x->c, "bytes_received") + ival(x->c, "bytes_acked");
	long long by = ival(y->c, "bytes_received") + ival(y->c, "bytes_acked");
	return bx < by ? 1 : bx > by ? -1 : 0;
}

static json_t *find_conn(json_t *arr, json_t *c)
{
	size_t i;
	json_t *e;
	json_array_foreach(arr, i, e) {
		if (ival(e, "local_port") == ival(c, "local_port") &&
		    ival(e, "remote_port") == ival(c, "remote_port") &&
		    json_equal(json_object_get(e, "remote"), json_object_get(c, "remote")) &&
		    json_equal(json_object_get(e, "local"), json_object_get(c, "local")))
			return e;
	}
	return NULL;
}

/* Output, a line at a time, cut at the width */
struct out {
	const struct view *v;
	int lines;
};

static void line(struct out *o, const char *style, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void line(struct out *o, const char *style, const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if ((int)strlen(buf) > o->v->width)
		buf[o->v->width] = 0;
	if (o->v->color && style)
		printf("%s%s\033[0m", style, buf);
	else
		fputs(buf, stdout);
	if (o->v->ansi)
		fputs("\033[K", stdout);  /* clear what an earlier frame left */
	putchar('\n');
	o->lines++;
}

#define BOLD "\033[1m"
#define HEAD "\033[1;7m"
#define RED "\033[1;31m"

static void draw(const struct view *v, const struct sample *s0, const struct sample *s1)
{
	struct out o = { v, 0 };
	double dt = s1->t - s0->t;
	if (dt <= 0)
		dt = 1e-3;
	char a[16], b[16], c[16], d[16];

	if (v->ansi)
		fputs("\033[H", stdout);
	line(&o, BOLD, "tapir top %s  %s/%lld  up %.0fs  every %.1fs%s", v->name,
	     sval(s1->status, "address"),
	     ival(s1->status, "prefix_len"), (double)ival(s1->status, "uptime_ms") / 1000,
	     v->interval, v->ansi ? "  (q quits)" : "");
	line(&o, HEAD, "%-7s %8s %8s %8s  %-42s", "LAYER", "RX/s", "TX/s", "DROPS/s", "NOTES");

	/* Layers: all of them if they fit, else the active ones first */
	size_t nl = json_object_size(s1->stats), shown = 0;
	int room = v->rows - 8 - MIN_CONN_LINES;
	struct layer_rates *lr = calloc(nl ? nl : 1, sizeof(*lr));
	struct { const char *layer, *reason; double rate; } top[3] = { { 0 } };
	const char *name;
	json_t *l1;
	size_t i = 0;
	json_object_foreach(s1->stats, name, l1) {
		if (!lr)
			break;
		lr[i].name = name;
		json_t *l0 = json_object_get(s0->stats, name);
		layer_rates(l0 ? l0 : l1, l1, dt, &lr[i]);
		const char *k;
		json_t *x;
		json_object_foreach(l1, k, x) {
			double r = l0 && is_drop(k) ? delta(l0, l1, k) / dt : 0;
			for (int t = 0; r > 0 && t < 3; t++) {
				if (r > top[t].rate) {
					memmove(&top[t + 1], &top[t], sizeof(top[0]) * (size_t)(2 - t));
					top[t].layer = name;
					top[t].reason = strncmp(k, "drop.", 5) ? k : k + 5;
					top[t].rate = r;
					break;
				}
			}
		}
		i++;
	}
	/* Too many layers for the room: the active ones, then idle ones in what is left */
	size_t nactive = 0, idle_shown = 0, act_shown = 0;
	for (i = 0; lr && i < nl; i++)
		nactive += lr[i].active;
	size_t room_l = room > 1 ? (size_t)room : 1;
	size_t idle_room = nactive < room_l ? room_l - nactive : 0;
	for (i = 0; lr && i < nl && shown < room_l; i++) {
		if (lr[i].active ? act_shown++ >= room_l : idle_shown++ >= idle_room)
			continue;
		struct layer_rates *r = &lr[i];
		char note[64] = "";
		if (r->rx_bytes > 0 || r->tx_bytes > 0)
			snprintf(note, sizeof(note), "rx %sB/s tx %sB/s", human(r->rx_bytes, c, 16),
				 human(r->tx_bytes, d, 16));
		else if (r->top_reason)
			snprintf(note, sizeof(note), "most: %.30s", r->top_reason);
		const char *style = r->drops > 0 ? RED : NULL;
		line(&o, style, "%-7.7s %8s %8s %8s  %s", r->name,
		     r->has_rx ? human(r->rx, a, 16) : "-", r->has_tx ? human(r->tx, b, 16) : "-",
		     human(r->drops, c, 16), note);
		shown++;
	}
	free(lr);

	char drops[160] = "drops/s:";
	size_t dl = strlen(drops);
	for (int t = 0; t < 3 && top[t].layer && dl < sizeof(drops); t++)
		dl += (size_t)snprintf(drops + dl, sizeof(drops) - dl, "  %s.%s %s", top[t].layer,
				       top[t].reason, human(top[t].rate, a, 16));
	if (!top[0].layer && dl < sizeof(drops))
		snprintf(drops + dl, sizeof(drops) - dl, " none");
	line(&o, top[0].layer ? RED : NULL, "%s", drops);

	/* Tables: the neighbour caches (the arp command lists both families) */
	size_t n_arp = 0, pend = 0, n_ndp = 0, incomplete = 0;
	json_t *e;
	json_array_foreach(json_object_get(s1->arp, "entries"), i, e) {
		bool resolved = json_is_string(json_object_get(e, "mac"));
		if (ival(e, "family") == 6) {
			n_ndp++;
			incomplete += !resolved;
		} else {
			n_arp++;
			pend += !resolved;
		}
	}
	json_t *nd0 = json_object_get(s0->stats, "ndp"), *nd1 = json_object_get(s1->stats, "ndp");
	double ns_rate = nd0 && nd1 ? delta(nd0, nd1, "ns_sent") / dt : 0;
	line(&o, NULL, "tables: arp %zu (%zu pending)  ndp %zu (%zu incomplete, %s ns/s)", n_arp,
	     pend, n_ndp, incomplete, human(ns_rate, a, 16));
	long long held = 0;
	json_array_foreach(json_object_get(s1->reasm, "datagrams"), i, e)
		held += ival(e, "bytes_held");
	line(&o, NULL, "        reasm %zu dgrams %sB  tcp flows %lld",
	     json_array_size(json_object_get(s1->reasm, "datagrams")),
	     human((double)held, a, 16), ival(s1->status, "tcp_flows"));

	/* Connections, busiest first */
	json_t *c1 = json_object_get(s1->conns, "connections");
	json_t *c0 = json_object_get(s0->conns, "connections");
	size_t nc = json_array_size(c1);
	struct conn_rate *cr = calloc(nc ? nc : 1, sizeof(*cr));
	line(&o, HEAD, "%-21s %-11s %7s %7s %8s %7s %5s      ", "PEER", "STATE", "RX B/s",
	     "TX B/s", "RTT ms", "CWND", "RETR");
	if (cr) {
		json_array_foreach(c1, i, e) {
			json_t *p = find_conn(c0, e);
			cr[i].c = e;
			long long r0 = p ? ival(p, "bytes_received") : 0;
			long long t0 = p ? ival(p, "bytes_acked") : 0;
			long long r1 = ival(e, "bytes_received"), t1 = ival(e, "bytes_acked");
			cr[i].rx = r1 > r0 ? (double)(r1 - r0) / dt : 0;
			cr[i].tx = t1 > t0 ? (double)(t1 - t0) / dt : 0;
		}
		qsort(cr, nc, sizeof(*cr), conn_cmp);
		for (i = 0; i < nc && o.lines < v->rows - 1; i++) {
			char peer[64];
			e = cr[i].c;
			cli_endpoint(peer, sizeof(peer), sval(e, "remote"), ival(e, "remote_port"));
			line(&o, NULL, "%-21.21s %-11.11s %7s %7s %8.3f %7s %5lld :%lld", peer,
			     sval(e, "state"), human(cr[i].rx, a, 16),
			     human(cr[i].tx, b, 16), (double)ival(e, "rtt_us") / 1000,
			     human((double)ival(e, "cwnd"), c, 16), ival(e, "retransmits"),
			     ival(e, "local_port"));
		}
		if (i < nc)
			line(&o, NULL, "... %zu more", nc - i);
	}
	free(cr);
	if (v->ansi)
		fputs("\033[J", stdout);  /* clear below the frame */
	fflush(stdout);
}

/* Wait @secs, or until 'q' on a terminal's stdin, or a signal */
static void wait_interval(double secs, bool keys)
{
	double end = mono() + secs;
	while (!stop) {
		double left = end - mono();
		if (left <= 0)
			return;
		struct pollfd p = { .fd = 0, .events = POLLIN };
		int n = poll(&p, keys ? 1 : 0, (int)(left * 1000) + 1);
		if (n > 0) {
			char ch;
			if (read(0, &ch, 1) != 1 || ch == 'q' || ch == 'Q')
				stop = 1;
		}
	}
}

int top_main(int argc, char **argv)
{
	static const char U[] = "tapir top NAME [--once] [--interval SECONDS] [--no-color]";
	struct view v = { .interval = 1.0, .rows = 24, .width = WIDTH };
	bool once = false, no_color = false;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			printf("usage: %s\n\n%s\n", U,
			       "A live view of an instance, redrawn every interval (default 1 s): per\n"
			       "layer the frames received, sent and dropped per second (and bytes for\n"
			       "the device), the busiest drop reasons, ARP, NDP and reassembly\n"
			       "occupancy (and NDP solicitations per second),\n"
			       "and the busiest TCP connections with their throughput, RTT and cwnd.\n"
			       "Fits 80x24.  q or Ctrl-C quits.\n"
			       "\n"
			       "--once           take two samples one interval apart, print one frame\n"
			       "--interval S     seconds between samples, 0.1 to 60\n"
			       "--no-color       no colour (also when NO_COLOR is set, TERM is dumb,\n"
			       "                 or the output is not a terminal)");
			return 0;
		}
		if (!strcmp(argv[i], "--once")) {
			once = true;
		} else if (!strcmp(argv[i], "--no-color") || !strcmp(argv[i], "--no-colour")) {
			no_color = true;
		} else if (!strcmp(argv[i], "--interval") && i + 1 < argc) {
			char *end;
			v.interval = strtod(argv[++i], &end);
			if (*end || !(v.interval >= 0.1 && v.interval <= 60)) {
				fprintf(stderr, "tapir: --interval: '%s' is not 0.1 to 60 seconds\n",
					argv[i]);
				return 1;
			}
		} else if (argv[i][0] == '-' || v.name) {
			fprintf(stderr, "tapir: top: unexpected '%s'\nusage: %s\n", argv[i], U);
			return 1;
		} else {
			v.name = argv[i];
		}
	}
	if (!v.name) {
		fprintf(stderr, "tapir: top needs NAME\nusage: %s\n", U);
		return 1;
	}
	const char *term = getenv("TERM"), *nc = getenv("NO_COLOR");
	bool tty = isatty(1) && term && *term && strcmp(term, "dumb");
	v.ansi = tty && !once;
	v.color = tty && !no_color && !(nc && *nc);
	struct winsize ws;
	if (tty && !ioctl(1, TIOCGWINSZ, &ws)) {
		if (ws.ws_row >= 24)
			v.rows = ws.ws_row;
		if (ws.ws_col >= 20 && ws.ws_col < WIDTH)
			v.width = ws.ws_col;
	}

	struct sample s0, s1;
	if (sample_take(v.name, &s0))
		return 2;
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	struct termios saved;
	bool keys = !once && isatty(0) && !tcgetattr(0, &saved);
	if (keys) {
		struct termios raw = saved;
		raw.c_lflag &= (tcflag_t)~(ICANON | ECHO);
		raw.c_cc[VMIN] = 1;
		raw.c_cc[VTIME] = 0;
		tcsetattr(0, TCSANOW, &raw);
	}
	if (v.ansi)
		fputs("\033[?1049h\033[?25l\033[H\033[2J", stdout);  /* alternate screen */
	int rc = 0;
	while (!stop) {
		wait_interval(v.interval, keys);
		if (stop)
			break;
		if (sample_take(v.name, &s1)) {
			rc = 2;
			break;
		}
		draw(&v, &s0, &s1);
		sample_free(&s0);
		s0 = s1;
		if (once)
			break;
		if (!v.ansi)
			putchar('\n');
	}
	sample_free(&s0);
	if (v.ansi)
		fputs("\033[?25h\033[?1049l", stdout);
	if (keys)
		tcsetattr(0, TCSANOW, &saved);
	fflush(stdout);
	return rc;
}
