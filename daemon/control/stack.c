/*
 * stack.c - control commands about the stack: status, stats, arp, route/pmtu, conns, udp, reasm
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "ipv4_reasm.h"
#include "tapir/stack.h"
#include "tapir/udp.h"
#include "tapir/tcp.h"

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
	json_object_set_new(o, "address", control_ip_json(tapir_stack_addr(e->st)));
	json_object_set_new(o, "prefix_len", json_integer(e->prefix_len));
	json_object_set_new(o, "gateway", e->gateway ? control_ip_json(e->gateway) : json_null());
	json_object_set_new(o, "mtu", json_integer(e->mtu));
	json_object_set_new(o, "log_level",
			    json_string(e->log ? control_level_names[e->log->level & 3] : "info"));
	json_object_set_new(o, "tcp_flows", json_integer((json_int_t)tapir_tcp_flow_count(e->st)));
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
		json_array_append_new(arr, e);
	}
	free(a);
	*res = json_pack("{s:o}", "entries", arr);
	return 0;
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
	json_object_set_new(r, "gateway", c->env.gateway ? control_ip_json(c->env.gateway) : json_null());
	json_object_set_new(r, "mtu", json_integer(c->env.mtu));
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
		json_object_set_new(e, "local", control_ip_json(f[i].local_addr));
		json_object_set_new(e, "local_port", json_integer(f[i].local_port));
		json_object_set_new(e, "remote", control_ip_json(f[i].remote_addr));
		json_object_set_new(e, "remote_port", json_integer(f[i].remote_port));
		json_object_set_new(e, "state", json_string(tapir_tcp_state_name(f[i].state)));
		json_object_set_new(e, "send_queue", json_integer((json_int_t)f[i].snd_queue));
		json_object_set_new(e, "recv_queue", json_integer((json_int_t)f[i].rcv_queue));
		json_object_set_new(e, "ooo_bytes", json_integer((json_int_t)f[i].ooo_bytes));
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
		json_array_append_new(arr, e);
	}
	free(f);
	*res = json_pack("{s:o}", "connections", arr);
	if (c->env.spliced)
		json_object_set_new(*res, "spliced", c->env.spliced(c->env.ctx));
	return 0;
}

int control_cmd_udp(struct control *c, json_t *args, uint64_t now, json_t **res, char *err,
		   size_t errlen)
{
	uint16_t ports[1024];
	size_t n = tapir_udp_list(c->env.st, ports, 1024);
	json_t *arr = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(arr, json_pack("{s:o,s:i}", "local",
						     control_ip_json(tapir_stack_addr(c->env.st)), "port",
						     (int)ports[i]));
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
		json_object_set_new(e, "src", control_ip_json(r[i].src));
		json_object_set_new(e, "dst", control_ip_json(r[i].dst));
		json_object_set_new(e, "id", json_integer(r[i].id));
		json_object_set_new(e, "proto", json_integer(r[i].proto));
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
