/*
 * services.c - the gateway's port forwards and DNS relay: started from the configuration, controlled, counted
 */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dns_msg.h"
#include "dns_relay.h"
#include "forward.h"
#include "services.h"
#include "wire/ipv4.h"

struct gw_services {
	const struct tapird_config *cfg;
	struct tapir_logger *log;
	struct gw_fwd *fwd;
	struct dns_relay *dns;
};

int gw_services_forward(struct gw_services *s, const char *action, uint8_t proto,
			uint16_t host_port, uint16_t ns_port, void *json_result, char *err,
			size_t errlen)
{
	json_t *res = json_result;
	if (!s || !s->fwd) {
		snprintf(err, errlen, "no gateway ([gateway] enabled = false)");
		return -ENOTSUP;
	}
	if (!strcmp(action, "add"))
		return gw_fwd_add(s->fwd, proto, host_port, ns_port, false, err, errlen);
	if (!strcmp(action, "rm")) {
		int rc = gw_fwd_rm(s->fwd, proto, host_port);
		if (rc)
			snprintf(err, errlen, "%s/%u is not forwarded",
				 proto == GW_FWD_TCP ? "tcp" : "udp", host_port);
		return rc;
	}
	struct gw_fwd_info fi[GW_FWD_MAX];
	size_t n = gw_fwd_list(s->fwd, fi, GW_FWD_MAX);
	char h4[16], n4[16], h6[INET6_ADDRSTRLEN], n6[INET6_ADDRSTRLEN];
	tapir_ipv4_addr_format(s->cfg->gw.forward_addr, h4);
	tapir_ipv4_addr_format(s->cfg->gateway, n4);
	inet_ntop(AF_INET6, s->cfg->gw.forward_addr6, h6, sizeof(h6));
	inet_ntop(AF_INET6, s->cfg->ipv6.gateway, n6, sizeof(n6));
	json_t *a = json_array();
	for (size_t i = 0; i < n; i++) {
		json_t *o = json_object();
		json_object_set_new(o, "proto", json_string(fi[i].proto == GW_FWD_TCP ? "tcp" : "udp"));
		/* host_address, ns_address: the first binding; bindings: each */
		json_object_set_new(o, "host_address", json_string(fi[i].v4 ? h4 : h6));
		json_object_set_new(o, "host_port", json_integer(fi[i].host_port));
		json_object_set_new(o, "ns_address", json_string(fi[i].v4 ? n4 : n6));
		json_object_set_new(o, "ns_port", json_integer(fi[i].ns_port));
		json_t *b = json_array();
		if (fi[i].v4)
			json_array_append_new(b, json_pack("{s:s,s:s,s:s}", "family", "ipv4",
							   "host_address", h4, "ns_address", n4));
		if (fi[i].v6)
			json_array_append_new(b, json_pack("{s:s,s:s,s:s}", "family", "ipv6",
							   "host_address", h6, "ns_address", n6));
		json_object_set_new(o, "bindings", b);
		json_object_set_new(o, "origin", json_string(fi[i].from_config ? "config" : "runtime"));
		json_object_set_new(o, "active", json_integer((json_int_t)fi[i].active));
		json_object_set_new(o, "total", json_integer((json_int_t)fi[i].total));
		json_object_set_new(o, "refused", json_integer((json_int_t)fi[i].refused));
		json_object_set_new(o, "bytes_in", json_integer((json_int_t)fi[i].bytes_in));
		json_object_set_new(o, "bytes_out", json_integer((json_int_t)fi[i].bytes_out));
		json_array_append_new(a, o);
	}
	json_object_set_new(res, "forwards", a);
	return 0;
}

/* Read the host's resolvers (before the sandbox).  Return: how many */
static size_t host_resolvers(struct tapir_addr *out, size_t max)
{
	char buf[16384];
	FILE *f = fopen("/etc/resolv.conf", "r");
	if (!f)
		return 0;
	size_t n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	return dns_resolv_conf_parse(buf, n, out, max);
}

int gw_services_start(struct gw_services **out, uv_loop_t *loop, struct tapir_stack *st,
		      struct splice_pool *pool, const struct tapird_config *c,
		      struct tapir_logger *log, void (*kick)(void *ctx), void *ctx)
{
	char err[256];
	struct gw_services *s = calloc(1, sizeof(*s));
	if (!s) {
		tapir_log_err(log, "gateway: out of memory");
		return -1;
	}
	s->cfg = c;
	s->log = log;
	*out = s;
	struct gw_fwd_env fe = { .loop = loop, .pool = pool, .udp_idle_ns = c->gw.udp_idle_ns,
				 .st = st, .log = log,
				 .v4 = c->gw.forward_v4,
				 .bind_addr = c->gw.forward_addr, .ns_addr = c->gateway,
				 .kick = kick, .ctx = ctx };
	/* IPv6: to [ipv6] gateway, the kernel side (tapir up --netns new sets it) */
	if (c->gw.forward_v6 && c->ipv6.enabled && c->ipv6.gateway_set) {
		fe.v6 = true;
		memcpy(fe.bind_addr6, c->gw.forward_addr6, 16);
		memcpy(fe.ns_addr6, c->ipv6.gateway, 16);
	} else if (c->gw.forward_v6 && !c->gw.forward_v4) {
		tapir_log_err(log, "gateway: forward_address is IPv6 but IPv6 is off or "
			      "[ipv6] gateway unset");
		return -1;
	}
	s->fwd = gw_fwd_new(&fe);
	if (!s->fwd) {
		tapir_log_err(log, "gateway: out of memory");
		return -1;
	}
	for (size_t i = 0; i < c->gw.nforwards; i++) {
		const struct config_forward *f = &c->gw.forwards[i];
		if (gw_fwd_add(s->fwd, f->proto, f->host_port, f->ns_port, true, err, sizeof(err))) {
			tapir_log_err(log, "gateway: [gateway] forward: %s", err);
			return -1;
		}
	}
	struct dns_relay_env de = { .loop = loop, .st = st, .log = log, .kick = kick, .ctx = ctx };
	for (size_t i = 0; i < c->gw.ndns && i < DNS_RELAY_MAX_SERVERS; i++)
		de.servers[de.nservers++] = c->gw.dns[i];
	if (!de.nservers)
		de.nservers = host_resolvers(de.servers, DNS_RELAY_MAX_SERVERS);
	if (!de.nservers) {
		tapir_log_warn(log, "gateway: no nameserver in /etc/resolv.conf and no "
			       "[gateway] dns: no DNS relay");
		return 0;
	}
	if (dns_relay_start(&de, &s->dns, err, sizeof(err))) {
		tapir_log_err(log, "gateway: DNS relay: %s", err);
		return -1;
	}
	char ab[TAPIR_ADDR_STRLEN];
	tapir_log_info(log, "gateway: DNS relay on port 53 to %s%s",
		       tapir_addr_format(&de.servers[0], ab), de.nservers > 1 ? " and more" : "");
	return 0;
}

struct conns_ctx {
	const struct gw_services *s;
	json_t *arr;
};

/* A forward's connection as a spliced flow of "conns": the namespace end is
 * the forward's destination, the host socket the accepted one */
static void conn_json(void *ctx, const struct gw_fwd_conn_info *ci)
{
	struct conns_ctx *cc = ctx;
	const struct tapird_config *c = cc->s->cfg;
	char ns[INET6_ADDRSTRLEN], hl[INET6_ADDRSTRLEN], pb[INET6_ADDRSTRLEN] = "?";
	uint16_t pport = 0;
	if (ci->peer.ss_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)&ci->peer;
		uv_ip4_name(sin, pb, sizeof(pb));
		pport = ntohs(sin->sin_port);
	} else if (ci->peer.ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)&ci->peer;
		uv_ip6_name(s6, pb, sizeof(pb));
		pport = ntohs(s6->sin6_port);
	}
	if (ci->v6) {
		inet_ntop(AF_INET6, c->ipv6.gateway, ns, sizeof(ns));
		inet_ntop(AF_INET6, c->gw.forward_addr6, hl, sizeof(hl));
	} else {
		tapir_ipv4_addr_format(c->gateway, ns);
		tapir_ipv4_addr_format(c->gw.forward_addr, hl);
	}
	json_t *e = json_object();
	json_object_set_new(e, "proto", json_string("tcp"));
	json_object_set_new(e, "forward", json_true());
	json_object_set_new(e, "ns_addr", json_string(ns));
	json_object_set_new(e, "ns_port", json_integer(ci->ns_port));
	json_object_set_new(e, "dst_addr", json_string(ns));
	json_object_set_new(e, "dst_port", json_integer(ci->ns_port));
	json_object_set_new(e, "host_local_addr", json_string(hl));
	json_object_set_new(e, "host_local_port", json_integer(ci->host_port));
	json_object_set_new(e, "host_peer_addr", json_string(pb));
	json_object_set_new(e, "host_peer_port", json_integer(pport));
	json_object_set_new(e, "state", json_string(ci->state));
	json_object_set_new(e, "bytes_to_host", json_integer((json_int_t)ci->bytes_to_host));
	json_object_set_new(e, "bytes_to_ns", json_integer((json_int_t)ci->bytes_to_ns));
	json_array_append_new(cc->arr, e);
}

void gw_services_flows_json(const struct gw_services *s, void *json_arr)
{
	if (!s || !s->fwd || !json_arr)
		return;
	struct conns_ctx cc = { s, json_arr };
	gw_fwd_each_conn(s->fwd, conn_json, &cc);
}

void gw_services_stop(struct gw_services *s)
{
	if (!s)
		return;
	gw_fwd_free(s->fwd);
	dns_relay_stop(s->dns);
	free(s);
}

static json_t *counters(const char *const *names, const uint64_t *v, size_t n)
{
	json_t *o = json_object();
	for (size_t i = 0; o && i < n; i++)
		json_object_set_new(o, names[i], json_integer((json_int_t)v[i]));
	return o;
}

void gw_services_stats_json(struct gw_services *s, void *json_obj)
{
	if (!s || !s->fwd)
		return;
	struct gw_fwd_stats f;
	gw_fwd_get_stats(s->fwd, &f);
	static const char *const fn[] = { "fwd_tcp_accepted", "fwd_tcp_active", "fwd_tcp_limit",
					  "fwd_tcp_ns_refused", "fwd_udp_flows",
					  "fwd_udp_active", "fwd_udp_limit", "fwd_udp_expired",
					  "fwd_udp_foreign", "fwd_udp_send_errors" };
	const uint64_t fv[] = { f.tcp_accepted, f.tcp_active, f.tcp_limit, f.tcp_ns_refused,
				f.udp_flows, f.udp_active, f.udp_limit, f.udp_expired,
				f.udp_foreign, f.udp_send_errors };
	json_t *o = counters(fn, fv, sizeof(fv) / sizeof(fv[0]));
	if (s->dns) {
		struct dns_relay_stats r;
		dns_relay_get_stats(s->dns, &r);
		static const char *const rn[] = { "dns_queries_udp", "dns_queries_tcp", "dns_answers",
						  "dns_bad_queries", "dns_bad_answers", "dns_timeouts",
						  "dns_pending_full", "dns_tcp_clients_full",
						  "dns_upstream_errors", "dns_pending" };
		const uint64_t rv[] = { r.queries_udp, r.queries_tcp, r.answers, r.bad_queries,
					r.bad_answers, r.timeouts, r.pending_full, r.tcp_clients_full,
					r.upstream_errors, r.pending };
		for (size_t i = 0; i < sizeof(rv) / sizeof(rv[0]); i++)
			json_object_set_new(o, rn[i], json_integer((json_int_t)rv[i]));
	}
	json_object_set_new(json_obj, "gateway_relay", o);
}
