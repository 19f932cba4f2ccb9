/*
 * stack.c - control commands about the stack: status, stats, arp (with NDP), route/pmtu (IPv4
 *           and IPv6), conns, udp, reasm (both families)
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "ipv4_reasm.h"
#include <time.h>

#include "tapir/dhcp.h"
#include "tapir/addr.h"
#include "tapir/ipv6.h"
#include "tapir/stack.h"
#include "tapir/udp.h"
#include "tapir/tcp.h"

/* Unix seconds of stack time @t, or null for an infinite lease */
static json_t *wall_json(uint64_t t, uint64_t now)
{
	if (t == TAPIR_DHCP_INFINITE)
		return json_null();
	return json_integer((json_int_t)time(NULL) + ((json_int_t)(t / 1000000000ull) -
						      (json_int_t)(now / 1000000000ull)));
}

/* The "dhcp" object of status and of the dhcp command */
static json_t *dhcp_json(struct tapir_stack *st, uint64_t now)
{
	const struct tapir_dhcp_lease *l = tapir_dhcp_lease(st);
	struct tapir_dhcp_stats s;
	json_t *o = json_object();
	json_object_set_new(o, "state", json_string(tapir_dhcp_state_name(tapir_dhcp_state(st))));
	if (l) {
		json_t *dns = json_array(), *search = json_array();
		for (size_t i = 0; i < l->ndns; i++)
			json_array_append_new(dns, control_ip_json(l->dns[i]));
		for (size_t i = 0; i < l->nsearch; i++)
			json_array_append_new(search, json_string(l->search[i]));
		json_object_set_new(o, "address", control_ip_json(l->addr));
		json_object_set_new(o, "server", control_ip_json(l->server));
		json_object_set_new(o, "lease_secs", json_integer(l->lease_secs));
		json_object_set_new(o, "obtained", wall_json(l->obtained, now));
		json_object_set_new(o, "t1", wall_json(l->t1, now));
		json_object_set_new(o, "t2", wall_json(l->t2, now));
		json_object_set_new(o, "expiry", wall_json(l->expiry, now));
		json_object_set_new(o, "dns", dns);
		json_object_set_new(o, "domain", json_string(l->domain));
		json_object_set_new(o, "search", search);
		json_object_set_new(o, "mtu", l->mtu ? json_integer(l->mtu) : json_null());
	}
	tapir_dhcp_get_stats(st, &s);
	json_object_set_new(o, "naks", json_integer((json_int_t)s.naks));
	json_object_set_new(o, "conflicts", json_integer((json_int_t)s.conflicts));
	json_object_set_new(o, "expired", json_integer((json_int_t)s.expired));
	json_object_set_new(o, "rx_dropped", json_integer((json_int_t)s.rx_dropped));
	return o;
}

/* dhcp [action: status (default) | renew | release] */
int control_cmd_dhcp(struct control *c, json_t *args, uint64_t now, json_t **res, char *err,
		     size_t errlen)
{
	const char *action = NULL;
	int rc = control_arg_str(args, "action", &action, err, errlen);
	if (rc)
		return rc;
	if (tapir_dhcp_state(c->env.st) == TAPIR_DHCP_STOPPED)
		ERR(ENOTCONN, "no DHCP client: [ipv4] address is not dhcp");
	if (!action || !strcmp(action, "status"))
		rc = 0;
	else if (!strcmp(action, "renew"))
		rc = tapir_dhcp_renew(c->env.st, now);
	else if (!strcmp(action, "release"))
		rc = tapir_dhcp_release(c->env.st, now);
	else
		ERR(EINVAL, "action: '%s' is not status, renew or release", action);
	if (rc == -EADDRNOTAVAIL)
		ERR(EADDRNOTAVAIL, "no lease to release");
	if (rc)
		ERR(-rc, "dhcp %s: %s", action, strerror(-rc));
	*res = dhcp_json(c->env.st, now);
	return 0;
}

static json_t *ip6_json(const uint8_t a[16])
{
	struct tapir_addr t = { .family = TAPIR_AF_INET6 };
	char buf[TAPIR_ADDR_STRLEN];
	memcpy(t.v6, a, 16);
	return json_string(tapir_addr_format(&t, buf));
}

/* Time left until @t, or null for "forever" */
static json_t *ms_left_or_forever(uint64_t t, uint64_t now)
{
	return t == UINT64_MAX ? json_null() : control_ms_left(t, now);
}

/* status: the IPv6 addresses with their state and lifetimes, and the routers */
static void status_ipv6(struct tapir_stack *st, json_t *o, uint64_t now)
{
	struct tapir_ipv6_addr_info a[16];
	struct tapir_ipv6_router_info r[8];
	size_t n = tapir_ipv6_addr_list(st, a, 16), nr = tapir_ipv6_router_list(st, r, 8);
	json_t *arr = json_array(), *ra = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(arr, json_pack("{s:o,s:i,s:s,s:s,s:o,s:o}",
			"address", ip6_json(a[i].addr), "prefix_len", (int)a[i].prefix_len,
			"state", tapir_ipv6_addr_state_name(a[i].state),
			"origin", tapir_ipv6_addr_origin_name(a[i].origin),
			"preferred_ms", ms_left_or_forever(a[i].preferred_until, now),
			"valid_ms", ms_left_or_forever(a[i].valid_until, now)));
	for (size_t i = 0; i < nr; i++)
		json_array_append_new(ra, json_pack("{s:o,s:b,s:o}", "address", ip6_json(r[i].addr),
			"default", r[i].is_default, "expires_ms",
			ms_left_or_forever(r[i].expires, now)));
	json_object_set_new(o, "ipv6_addresses", arr);
	json_object_set_new(o, "ipv6_routers", ra);
}

int control_cmd_status(struct control *c, json_t *args, uint64_t now, json_t **res, char *err,
		      size_t errlen)
{
	const struct control_env *e = &c->env;
	uint8_t mac[6];
	json_t *o = json_object();
	tapir_stack_mac(e->st, mac);
	json_object_set_new(o, "name", json_string(e->name ? e->name : ""));
	json_object_set_new(o, "version", json_string(e->version ? e->version : ""));
	json_object_set_new(o, "pid", json_integer(e->pid));
	json_object_set_new(o, "uptime_ms",
			    json_integer(now > e->started ? (json_int_t)((now - e->started) / 1000000)
							  : 0));
	json_object_set_new(o, "backend", json_string(e->backend ? e->backend : ""));
	json_object_set_new(o, "interface", json_string(e->ifname ? e->ifname : ""));
	json_object_set_new(o, "mac", control_mac_json(mac));
	/* the stack's: static, or the DHCP lease's (null while there is none) */
	uint32_t addr = tapir_stack_addr(e->st), gw = tapir_stack_gateway(e->st);
	json_object_set_new(o, "address", addr ? control_ip_json(addr) : json_null());
	json_object_set_new(o, "prefix_len", json_integer(tapir_stack_prefix_len(e->st)));
	json_object_set_new(o, "gateway", gw ? control_ip_json(gw) : json_null());
	json_object_set_new(o, "mtu", json_integer((json_int_t)tapir_stack_mtu(e->st)));
	if (tapir_dhcp_state(e->st) != TAPIR_DHCP_STOPPED)
		json_object_set_new(o, "dhcp", dhcp_json(e->st, now));
	json_object_set_new(o, "log_level",
			    json_string(e->log ? control_level_names[e->log->level & 3] : "info"));
	json_object_set_new(o, "tcp_flows", json_integer((json_int_t)tapir_tcp_flow_count(e->st)));
	status_ipv6(e->st, o, now);
	json_object_set_new(o, "gateway_enabled", json_boolean(e->gateway_on));
	*res = o;
	return 0;
}

int control_cmd_stats(struct control *c, json_t *args, uint64_t now, json_t **res, char *err,
		     size_t errlen)
{
	uint64_t v[TAPIR_CTR__COUNT];
	tapir_stack_stats(c->env.st, v);
	json_t *o = json_object();
	for (int i = 0; i < TAPIR_CTR__COUNT; i++) {
		const char *name = tapir_stack_counter_name((enum tapir_stack_counter)i);
		const char *dot = strchr(name, '.');
		char layer[32];
		size_t ln = dot ? (size_t)(dot - name) : strlen(name);
		if (ln >= sizeof(layer))
			ln = sizeof(layer) - 1;
		memcpy(layer, name, ln);
		layer[ln] = 0;
		json_t *l = json_object_get(o, layer);
		if (!l) {
			l = json_object();
			json_object_set_new(o, layer, l);
		}
		json_object_set_new(l, dot ? dot + 1 : name, json_integer((json_int_t)v[i]));
	}
	if (c->env.dev_stats)
		c->env.dev_stats(c->env.ctx, o);
	*res = o;
	return 0;
}

int control_cmd_arp(struct control *c, json_t *args, uint64_t now, json_t **res, char *err,
		   size_t errlen)
{
	const char *action;
	int rc = control_arg_str(args, "action", &action, err, errlen);
	if (rc)
		return rc;
	if (action && !strcmp(action, "flush")) {
		tapir_arp_flush(c->env.st);
		tapir_ndp_flush(c->env.st);
		*res = json_object();
		return 0;
	}
	if (action && strcmp(action, "list"))
		ERR(EINVAL, "'action' must be list or flush");
	struct tapir_arp_entry *a = calloc(LIST_MAX, sizeof(*a));
	if (!a)
		return -ENOMEM;
	size_t n = tapir_arp_list(c->env.st, a, LIST_MAX);
	json_t *arr = json_array();
	for (size_t i = 0; i < n; i++) {
		json_t *e = json_object();
		json_object_set_new(e, "ip", control_ip_json(a[i].ip));
		json_object_set_new(e, "mac", a[i].resolved ? control_mac_json(a[i].mac) : json_null());
		json_object_set_new(e, "state", json_string(a[i].resolved ? "reachable" : "pending"));
		json_object_set_new(e, "expires_ms",
				    a[i].resolved ? control_ms_left(a[i].expires, now) : json_null());
		json_object_set_new(e, "family", json_integer(4));
		json_array_append_new(arr, e);
	}
	free(a);
	/* The NDP cache in the same list (tapir neigh) */
	struct tapir_ndp_entry *nd = calloc(LIST_MAX, sizeof(*nd));
	if (!nd) {
		json_decref(arr);
		return -ENOMEM;
	}
	n = tapir_ndp_list(c->env.st, nd, LIST_MAX);
	for (size_t i = 0; i < n; i++)
		json_array_append_new(arr, json_pack("{s:o,s:o,s:s,s:o,s:i,s:b}",
			"ip", ip6_json(nd[i].ip),
			"mac", nd[i].state == TAPIR_NDP_INCOMPLETE ? json_null()
								  : control_mac_json(nd[i].mac),
			"state", tapir_ndp_state_name(nd[i].state), "expires_ms", json_null(),
			"family", 6, "router", nd[i].router));
	free(nd);
	*res = json_pack("{s:o}", "entries", arr);
	return 0;
}

/* The IPv6 part of route: routers, on-link prefixes, the path-MTU cache; NULL when off */
static json_t *route_ipv6(struct tapir_stack *st, uint64_t now)
{
	static const uint8_t all_nodes[16] = { 0xff, 0x02, [15] = 1 };
	size_t mtu = tapir_ipv6_mtu(st, all_nodes);  /* the link's: no path MTU for a group */
	if (!mtu)
		return NULL;
	struct tapir_ipv6_router_info rt[16];
	struct tapir_ipv6_prefix_info pf[64];
	size_t nr = tapir_ipv6_router_list(st, rt, 16), np = tapir_ipv6_prefix_list(st, pf, 64);
	json_t *routers = json_array(), *prefixes = json_array(), *pmtu = json_array();
	for (size_t i = 0; i < nr; i++)
		json_array_append_new(routers, json_pack("{s:o,s:s,s:b,s:o}",
			"address", ip6_json(rt[i].addr),
			"origin", rt[i].expires == UINT64_MAX ? "static" : "ra",
			"default", rt[i].is_default,
			"expires_ms", ms_left_or_forever(rt[i].expires, now)));
	for (size_t i = 0; i < np; i++) {
		struct tapir_addr a = { .family = TAPIR_AF_INET6 };
		char buf[TAPIR_ADDR_STRLEN + 8];
		memcpy(a.v6, pf[i].prefix, 16);
		tapir_addr_format(&a, buf);
		snprintf(buf + strlen(buf), 8, "/%u", pf[i].len);
		json_array_append_new(prefixes, json_pack("{s:s,s:i,s:s,s:o}", "prefix", buf,
			"prefix_len", (int)pf[i].len, "origin", pf[i].from_ra ? "ra" : "static",
			"expires_ms", ms_left_or_forever(pf[i].expires, now)));
	}
	struct tapir_ipv6_pmtu_info *p = calloc(LIST_MAX, sizeof(*p));
	size_t n = p ? tapir_ipv6_pmtu_list(st, p, LIST_MAX) : 0;
	for (size_t i = 0; i < n; i++)
		json_array_append_new(pmtu, json_pack("{s:o,s:I,s:o}", "dst", ip6_json(p[i].dst),
			"mtu", (json_int_t)p[i].mtu, "expires_ms", control_ms_left(p[i].expires, now)));
	free(p);
	return json_pack("{s:I,s:o,s:o,s:o}", "mtu", (json_int_t)mtu, "routers", routers,
			 "prefixes", prefixes, "pmtu", pmtu);
}

int control_cmd_pmtu(struct control *c, json_t *args, uint64_t now, json_t **res, char *err,
		    size_t errlen)
{
	struct tapir_pmtu_entry *p = calloc(LIST_MAX, sizeof(*p));
	if (!p)
		return -ENOMEM;
	size_t n = tapir_ipv4_pmtu_list(c->env.st, p, LIST_MAX);
	json_t *arr = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(arr, json_pack("{s:o,s:I,s:o,s:b}", "dst",
						     control_ip_json(p[i].dst), "mtu",
						     (json_int_t)p[i].mtu, "expires_ms",
						     control_ms_left(p[i].expires, now), "locked",
						     p[i].locked));
	free(p);
	json_t *r = json_object();
	json_object_set_new(r, "entries", arr);
	uint32_t gw = tapir_stack_gateway(c->env.st);
	json_object_set_new(r, "gateway", gw ? control_ip_json(gw) : json_null());
	json_object_set_new(r, "mtu", json_integer(c->env.mtu));
	json_t *v6 = route_ipv6(c->env.st, now);
	json_object_set_new(r, "ipv6", v6 ? v6 : json_null());
	*res = r;
	return 0;
}

int control_cmd_conns(struct control *c, json_t *args, uint64_t now, json_t **res, char *err,
		     size_t errlen)
{
	struct tapir_tcp_flow_info *f = calloc(LIST_MAX, sizeof(*f));
	if (!f)
		return -ENOMEM;
	size_t n = tapir_tcp_flow_list(c->env.st, f, LIST_MAX);
	json_t *arr = json_array();
	for (size_t i = 0; i < n; i++) {
		json_t *e = json_object();
		json_object_set_new(e, "local", control_addr_json(&f[i].local_addr));
		json_object_set_new(e, "local_port", json_integer(f[i].local_port));
		json_object_set_new(e, "remote", control_addr_json(&f[i].remote_addr));
		json_object_set_new(e, "remote_port", json_integer(f[i].remote_port));
		json_object_set_new(e, "state", json_string(tapir_tcp_state_name(f[i].state)));
		json_object_set_new(e, "send_queue", json_integer((json_int_t)f[i].snd_queue));
		json_object_set_new(e, "recv_queue", json_integer((json_int_t)f[i].rcv_queue));
		json_object_set_new(e, "ooo_bytes", json_integer((json_int_t)f[i].ooo_bytes));
		json_object_set_new(e, "sndbuf", json_integer((json_int_t)f[i].sndbuf));
		json_object_set_new(e, "rcvbuf", json_integer((json_int_t)f[i].rcvbuf));
		json_object_set_new(e, "rtt_us", json_integer(f[i].srtt_us));
		json_object_set_new(e, "rttvar_us", json_integer(f[i].rttvar_us));
		json_object_set_new(e, "rto_ms", json_integer(f[i].rto_ms));
		json_object_set_new(e, "cwnd", json_integer(f[i].cwnd));
		json_object_set_new(e, "ssthresh", json_integer(f[i].ssthresh));
		json_object_set_new(e, "mss", json_integer(f[i].mss));
		json_object_set_new(e, "snd_wnd", json_integer(f[i].snd_wnd));
		json_object_set_new(e, "rcv_wnd", json_integer(f[i].rcv_wnd));
		json_object_set_new(e, "sack", json_boolean(f[i].sack));
		json_object_set_new(e, "timestamps", json_boolean(f[i].timestamps));
		json_object_set_new(e, "bytes_sent", json_integer((json_int_t)f[i].bytes_sent));
		json_object_set_new(e, "bytes_acked", json_integer((json_int_t)f[i].bytes_acked));
		json_object_set_new(e, "bytes_received",
				    json_integer((json_int_t)f[i].bytes_received));
		json_object_set_new(e, "segs_in", json_integer((json_int_t)f[i].segs_in));
		json_object_set_new(e, "segs_out", json_integer((json_int_t)f[i].segs_out));
		json_object_set_new(e, "retransmits", json_integer((json_int_t)f[i].retransmits));
		if (c->env.flow_extra)
			c->env.flow_extra(c->env.ctx, &f[i], e);
		json_array_append_new(arr, e);
	}
	free(f);
	*res = json_pack("{s:o}", "connections", arr);
	if (c->env.spliced)
		json_object_set_new(*res, "spliced", c->env.spliced(c->env.ctx));
	return 0;
}

/* One row of `udp`: a local endpoint, "a.b.c.d:port" or "[v6]:port" */
static json_t *udp_endpoint_json(const struct tapir_addr *a, uint16_t port)
{
	char buf[TAPIR_ADDR_STRLEN], ep[TAPIR_ADDR_STRLEN + 8];
	tapir_addr_format(a, buf);
	snprintf(ep, sizeof(ep), a->family == TAPIR_AF_INET6 ? "[%s]:%u" : "%s:%u", buf, port);
	return json_pack("{s:s,s:i,s:s,s:s}", "local", buf, "port", (int)port, "family",
			 a->family == TAPIR_AF_INET6 ? "inet6" : "inet", "endpoint", ep);
}

/* Every listener on every local address of the families it takes: the IPv4
 * address, then the IPv6 ones in use (not tentative or duplicate) */
int control_cmd_udp(struct control *c, json_t *args, uint64_t now, json_t **res, char *err,
		   size_t errlen)
{
	struct tapir_udp_listener_info *l = calloc(1024, sizeof(*l));
	struct tapir_ipv6_addr_info a6[16];
	if (!l)
		return -ENOMEM;
	size_t n = tapir_udp_list_info(c->env.st, l, 1024);
	size_t n6 = tapir_ipv6_addr_list(c->env.st, a6, 16);
	struct tapir_addr v4 = tapir_addr_v4(tapir_stack_addr(c->env.st));
	json_t *arr = json_array();
	for (size_t i = 0; i < n; i++) {
		if (l[i].family != TAPIR_AF_INET6)
			json_array_append_new(arr, udp_endpoint_json(&v4, l[i].port));
		if (l[i].family == TAPIR_AF_INET)
			continue;
		for (size_t k = 0; k < n6; k++) {
			struct tapir_addr t = { .family = TAPIR_AF_INET6 };
			if (a6[k].state != TAPIR_IPV6_ADDR_PREFERRED &&
			    a6[k].state != TAPIR_IPV6_ADDR_DEPRECATED)
				continue;
			memcpy(t.v6, a6[k].addr, 16);
			json_array_append_new(arr, udp_endpoint_json(&t, l[i].port));
		}
	}
	free(l);
	*res = json_pack("{s:o}", "listeners", arr);
	return 0;
}

int control_cmd_reasm(struct control *c, json_t *args, uint64_t now, json_t **res, char *err,
		     size_t errlen)
{
	struct tapir_reasm_info *r = calloc(LIST_MAX, sizeof(*r));
	if (!r)
		return -ENOMEM;
	size_t n = tapir_stack_reasm_list(c->env.st, r, LIST_MAX);
	json_t *arr = json_array();
	for (size_t i = 0; i < n; i++) {
		json_t *e = json_object();
		bool v6 = r[i].family == 6;
		json_object_set_new(e, "family", json_integer(v6 ? 6 : 4));
		json_object_set_new(e, "src", v6 ? ip6_json(r[i].src6) : control_ip_json(r[i].src));
		json_object_set_new(e, "dst", v6 ? ip6_json(r[i].dst6) : control_ip_json(r[i].dst));
		json_object_set_new(e, "id", json_integer(v6 ? r[i].id6 : r[i].id));
		/* IPv6: the protocol is behind the fragment header of the first fragment */
		json_object_set_new(e, "proto", v6 ? json_null() : json_integer(r[i].proto));
		json_object_set_new(e, "bytes_held", json_integer((json_int_t)r[i].bytes_held));
		json_object_set_new(e, "total_len", json_integer(r[i].total_len));
		json_object_set_new(e, "dead", json_boolean(r[i].dead));
		json_object_set_new(e, "expires_ms", control_ms_left(r[i].expires, now));
		json_array_append_new(arr, e);
	}
	free(r);
	*res = json_pack("{s:o}", "datagrams", arr);
	return 0;
}
