/*
 * metrics.c - the Prometheus/OpenMetrics text of an instance's counters and gauges
 *
 * Theory of operation
 *
 * The counters are exactly those of the "stats" command (control_cmd_stats():
 * every stack counter of include/tapir/counters.h, by layer, plus the
 * device's "dev", the wait's "wait" (daemon/uring.h) and the impairment's
 * "impair"), so a counter added there appears here with no change.  A stats
 * name becomes a metric by one rule:
 *
 *   LAYER.NAME          tapir_NAME_total{instance="I",layer="LAYER"}
 *   LAYER.drop.REASON   tapir_drops_total{instance="I",layer="LAYER",reason="REASON"}
 *   LAYER.GROUP.KIND    tapir_GROUP_total{instance="I",layer="LAYER",kind="KIND"}
 *
 * (characters other than [A-Za-z0-9_] become '_').  The samples of one
 * family are written together under one HELP and TYPE line, in the order
 * the family first appears.  Gauges (occupancy, not events) follow from a
 * table below: TCP flows, TIME_WAIT, orphans and memory, ARP entries by
 * state, datagrams and bytes held by reassembly, UDP listeners, path-MTU
 * entries, uptime, and tapir_build_info{version}.
 *
 * Two dialects: the Prometheus text format 0.0.4 (TYPE and HELP name the
 * counter with its _total, as prometheus_client writes them) and
 * OpenMetrics 1.0 (TYPE and HELP name the family without _total; the text
 * ends with "# EOF").  Label values are escaped (\\, \", \n).
 *
 * The control command "metrics" answers {"text", "content_type"}; the
 * metrics app (apps/http/metrics.c) serves the same text at GET /metrics
 * through the app context's metrics() (runtime.c, tapird_ctl.c).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "ipv4_reasm.h"
#include "tapir/stack.h"
#include "tapir/tcp.h"
#include "tapir/udp.h"

#define PROM_CTYPE "text/plain; version=0.0.4; charset=utf-8"
#define OM_CTYPE "application/openmetrics-text; version=1.0.0; charset=utf-8"

struct mbuf {
	char *p;
	size_t len, cap;
	bool oom;
};

static void mb_add(struct mbuf *b, const char *s, size_t n)
{
	if (b->oom)
		return;
	if (b->cap - b->len < n + 1) {
		size_t cap = b->cap ? b->cap : 16384;
		while (cap - b->len < n + 1)
			cap *= 2;
		char *p = realloc(b->p, cap);
		if (!p) {
			b->oom = true;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = 0;
}

static void mb_printf(struct mbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void mb_printf(struct mbuf *b, const char *fmt, ...)
{
	char tmp[1024];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n > 0)
		mb_add(b, tmp, (size_t)n < sizeof(tmp) ? (size_t)n : sizeof(tmp) - 1);
}

/* A label value, escaped (the exposition formats: \\, \", \n) */
static void mb_label(struct mbuf *b, const char *v)
{
	for (; *v; v++) {
		if (*v == '\\')
			mb_add(b, "\\\\", 2);
		else if (*v == '"')
			mb_add(b, "\\\"", 2);
		else if (*v == '\n')
			mb_add(b, "\\n", 2);
		else
			mb_add(b, v, 1);
	}
}

/* @s as a metric name part: [A-Za-z0-9_], anything else '_' */
static void name_part(char *out, size_t len, const char *s, size_t n)
{
	size_t i;
	for (i = 0; i + 1 < len && i < n; i++) {
		char c = s[i];
		out[i] = ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
				 ? c : '_';
	}
	out[i] = 0;
}

struct sample {
	char family[96];              /* without _total */
	char label_key[8];            /* "reason", "kind" or "" */
	char label_val[64];
	const char *layer;            /* the stats object's key */
	const char *stat;             /* NAME within the layer */
	uint64_t value;
	bool done;
};

/* One counter's family and labels (the rule at the top) */
static void counter_sample(struct sample *s, const char *layer, const char *stat, uint64_t v)
{
	const char *dot = strchr(stat, '.');
	char group[64];
	memset(s, 0, sizeof(*s));
	s->layer = layer;
	s->stat = stat;
	s->value = v;
	if (!dot) {
		name_part(group, sizeof(group), stat, strlen(stat));
		snprintf(s->family, sizeof(s->family), "tapir_%s", group);
		return;
	}
	name_part(group, sizeof(group), stat, (size_t)(dot - stat));
	bool drop = !strcmp(group, "drop");
	snprintf(s->family, sizeof(s->family), "tapir_%s", drop ? "drops" : group);
	snprintf(s->label_key, sizeof(s->label_key), "%s", drop ? "reason" : "kind");
	snprintf(s->label_val, sizeof(s->label_val), "%s", dot + 1);
}

static void family_head(struct mbuf *b, const char *family, bool om, const char *type,
			const char *help)
{
	const char *suffix = !om && !strcmp(type, "counter") ? "_total" : "";
	mb_printf(b, "# HELP %s%s %s\n", family, suffix, help);
	mb_printf(b, "# TYPE %s%s %s\n", family, suffix, type);
}

static void labels_open(struct mbuf *b, const char *instance, const char *layer)
{
	mb_add(b, "{instance=\"", 11);
	mb_label(b, instance);
	mb_add(b, "\",layer=\"", 9);
	mb_label(b, layer);
	mb_add(b, "\"", 1);
}

/* Every counter of @stats ({LAYER: {NAME: n}}), family by family */
static void format_counters(struct mbuf *b, const json_t *stats, const char *instance, bool om)
{
	size_t n = 0, cap = 0;
	const char *layer;
	json_t *l;
	json_object_foreach((json_t *)stats, layer, l) {
		if (json_is_object(l))
			cap += json_object_size(l);
	}
	struct sample *s = calloc(cap ? cap : 1, sizeof(*s));
	if (!s) {
		b->oom = true;
		return;
	}
	json_object_foreach((json_t *)stats, layer, l) {
		const char *k;
		json_t *v;
		if (!json_is_object(l))
			continue;
		json_object_foreach(l, k, v) {
			if (json_is_integer(v) && n < cap)
				counter_sample(&s[n++], layer, k,
					       (uint64_t)json_integer_value(v));
		}
	}
	for (size_t i = 0; i < n; i++) {
		if (s[i].done)
			continue;
		char help[256], layers[160] = "";
		size_t ll = 0;
		for (size_t j = i; j < n; j++) {
			if (strcmp(s[j].family, s[i].family))
				continue;
			if (!strstr(layers, s[j].layer) && ll + strlen(s[j].layer) + 3 < sizeof(layers))
				ll += (size_t)snprintf(layers + ll, sizeof(layers) - ll, "%s%s",
						       ll ? ", " : "", s[j].layer);
		}
		if (!strcmp(s[i].family, "tapir_drops"))
			snprintf(help, sizeof(help), "Packets dropped, by layer and reason "
				 "(tapir stats LAYER.drop.REASON; layers %s)", layers);
		else if (s[i].label_key[0])
			snprintf(help, sizeof(help), "Counter LAYER.%s.KIND of tapir stats "
				 "(layers %s)", s[i].family + 6, layers);
		else
			snprintf(help, sizeof(help), "Counter LAYER.%s of tapir stats (layers %s)",
				 s[i].stat, layers);
		family_head(b, s[i].family, om, "counter", help);
		for (size_t j = i; j < n; j++) {
			if (strcmp(s[j].family, s[i].family))
				continue;
			s[j].done = true;
			mb_printf(b, "%s_total", s[j].family);
			labels_open(b, instance, s[j].layer);
			if (s[j].label_key[0]) {
				mb_printf(b, ",%s=\"", s[j].label_key);
				mb_label(b, s[j].label_val);
				mb_add(b, "\"", 1);
			}
			mb_printf(b, "} %llu\n", (unsigned long long)s[j].value);
		}
	}
	free(s);
}

/* Gauges: occupancy of the bounded tables */
struct gauge {
	const char *name, *layer, *help;
};

enum {
	G_TCP_FLOWS,
	G_TCP_TIME_WAIT,
	G_TCP_ORPHANS,
	G_TCP_MEMORY,
	G_UDP_LISTENERS,
	G_REASM_DATAGRAMS,
	G_REASM_BYTES,
	G_PMTU_ENTRIES,
	G__COUNT
};

static const struct gauge gauges[G__COUNT] = {
	[G_TCP_FLOWS] = { "tapir_tcp_flows", "tcp", "TCP flows in the table (every state)" },
	[G_TCP_TIME_WAIT] = { "tapir_tcp_time_wait_flows", "tcp", "TCP flows in TIME_WAIT" },
	[G_TCP_ORPHANS] = { "tapir_tcp_orphan_flows", "tcp",
			    "TCP flows closed by their app, still finishing" },
	[G_TCP_MEMORY] = { "tapir_tcp_memory_bytes", "tcp",
			   "Bytes of send, receive and out-of-order buffers ([tcp] max_memory)" },
	[G_UDP_LISTENERS] = { "tapir_udp_listeners", "udp", "UDP ports listened on" },
	[G_REASM_DATAGRAMS] = { "tapir_reasm_datagrams", "reasm",
				"IPv4 datagrams being reassembled" },
	[G_REASM_BYTES] = { "tapir_reasm_bytes", "reasm",
			    "Bytes held by reassembly ([ipv4] reasm_max_bytes)" },
	[G_PMTU_ENTRIES] = { "tapir_pmtu_entries", "ipv4", "Entries of the path-MTU cache" },
};

static void gauge_line(struct mbuf *b, const char *name, const char *instance, const char *layer,
		       const char *extra_key, const char *extra_val, unsigned long long v)
{
	mb_add(b, name, strlen(name));
	labels_open(b, instance, layer);
	if (extra_key) {
		mb_printf(b, ",%s=\"", extra_key);
		mb_label(b, extra_val);
		mb_add(b, "\"", 1);
	}
	mb_printf(b, "} %llu\n", v);
}

static void format_gauges(struct mbuf *b, struct control *c, uint64_t now, const char *instance,
			  bool om)
{
	struct tapir_stack *st = c->env.st;
	uint64_t v[G__COUNT] = { 0 };
	v[G_TCP_FLOWS] = tapir_tcp_flow_count(st);
	v[G_TCP_TIME_WAIT] = tapir_tcp_time_wait_count(st);
	v[G_TCP_ORPHANS] = tapir_tcp_orphan_count(st);
	v[G_TCP_MEMORY] = tapir_tcp_mem_used(st);
	uint16_t ports[1024];
	v[G_UDP_LISTENERS] = tapir_udp_list(st, ports, 1024);
	struct tapir_reasm_info *r = calloc(LIST_MAX, sizeof(*r));
	struct tapir_pmtu_entry *p = calloc(LIST_MAX, sizeof(*p));
	struct tapir_arp_entry *a = calloc(LIST_MAX, sizeof(*a));
	if (!r || !p || !a) {
		b->oom = true;
		goto out;
	}
	size_t nr = tapir_stack_reasm_list(st, r, LIST_MAX);
	v[G_REASM_DATAGRAMS] = nr;
	for (size_t i = 0; i < nr; i++)
		v[G_REASM_BYTES] += r[i].bytes_held;
	v[G_PMTU_ENTRIES] = tapir_ipv4_pmtu_list(st, p, LIST_MAX);
	size_t na = tapir_arp_list(st, a, LIST_MAX), resolved = 0;
	for (size_t i = 0; i < na; i++)
		resolved += a[i].resolved;
	for (int i = 0; i < G__COUNT; i++) {
		family_head(b, gauges[i].name, om, "gauge", gauges[i].help);
		gauge_line(b, gauges[i].name, instance, gauges[i].layer, NULL, NULL, v[i]);
	}
	family_head(b, "tapir_arp_entries", om, "gauge",
		    "ARP cache entries by state ([arp] cache_size)");
	gauge_line(b, "tapir_arp_entries", instance, "arp", "state", "reachable", resolved);
	gauge_line(b, "tapir_arp_entries", instance, "arp", "state", "pending", na - resolved);
	family_head(b, "tapir_uptime_seconds", om, "gauge", "Seconds since the instance started");
	mb_add(b, "tapir_uptime_seconds{instance=\"", 31);
	mb_label(b, instance);
	mb_printf(b, "\"} %.3f\n", now > c->env.started ? (double)(now - c->env.started) / 1e9 : 0);
	family_head(b, "tapir_build_info", om, "gauge", "Always 1: the version of tapird");
	mb_add(b, "tapir_build_info{instance=\"", 27);
	mb_label(b, instance);
	mb_add(b, "\",version=\"", 11);
	mb_label(b, c->env.version ? c->env.version : "");
	mb_add(b, "\"} 1\n", 5);
out:
	free(r);
	free(p);
	free(a);
}

char *control_metrics_text(struct control *c, uint64_t now, bool openmetrics, size_t *len)
{
	json_t *stats = NULL;
	char err[64];
	if (control_cmd_stats(c, NULL, now, &stats, err, sizeof(err)) || !stats)
		return NULL;
	const char *instance = c->env.name ? c->env.name : "";
	struct mbuf b = { 0 };
	format_counters(&b, stats, instance, openmetrics);
	json_decref(stats);
	format_gauges(&b, c, now, instance, openmetrics);
	if (openmetrics)
		mb_add(&b, "# EOF\n", 6);
	if (b.oom) {
		free(b.p);
		return NULL;
	}
	*len = b.len;
	return b.p;
}

const char *control_metrics_content_type(bool openmetrics)
{
	return openmetrics ? OM_CTYPE : PROM_CTYPE;
}

int control_cmd_metrics(struct control *c, json_t *args, uint64_t now, json_t **res, char *err,
			size_t errlen)
{
	const char *format;
	int rc = control_arg_str(args, "format", &format, err, errlen);
	if (rc)
		return rc;
	if (format && strcmp(format, "prometheus") && strcmp(format, "openmetrics"))
		ERR(EINVAL, "'format' must be prometheus or openmetrics");
	bool om = format && !strcmp(format, "openmetrics");
	size_t len;
	char *text = control_metrics_text(c, now, om, &len);
	if (!text)
		return -ENOMEM;
	*res = json_pack("{s:s%,s:s}", "text", text, len, "content_type",
			 control_metrics_content_type(om));
	free(text);
	return *res ? 0 : -ENOMEM;
}
