/*
 * dispatch.c - tapird's control protocol: request parser and dispatcher
 *
 * Theory of operation: see control.h.  Every command is a function
 * (struct control *, args, now, &result) -> 0 or negative errno, with an
 * error message; the envelope (v, id, ok, result/error) is added around it.
 * Ping and traceroute create a deferred operation (struct op) that collects
 * echo replies (the stack's echo-reply handler) or ICMP errors (seen in the
 * received frames, control_rx_frame()) until it is complete or its deadline.
 */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "capture.h"
#include "control.h"
#include "kv.h"
#include "tcp.h"
#include "ipv4_reasm.h"

#define TRACE_PORT_BASE 33434
#define LIST_MAX 4096

enum op_kind { OP_NONE, OP_PING, OP_TRACE };

struct probe {
	uint64_t sent, rtt;
	uint32_t from;
	uint8_t type, code;
	bool answered;
	size_t bytes;
};

struct op {
	enum op_kind kind;
	uint64_t client;
	json_t *id;                   /* owned */
	uint32_t dst;
	uint16_t ident;               /* ICMP id, or UDP source port */
	unsigned n;
	uint64_t deadline;
	struct probe p[CONTROL_MAX_PROBES];
};

struct control {
	struct control_env env;
	struct op ops[CONTROL_MAX_OPS];
	uint16_t next_ident;
};

/* ---- errors ---- */

static const char *errno_code(int e)
{
	switch (e) {
	case EINVAL: return "EINVAL";
	case ENOENT: return "ENOENT";
	case ENOMEM: return "ENOMEM";
	case EACCES: return "EACCES";
	case EBUSY: return "EBUSY";
	case ENOTSUP: return "ENOTSUP";
	case ENOSYS: return "ENOSYS";
	case EMSGSIZE: return "EMSGSIZE";
	case EBADMSG: return "EBADMSG";
	case EPROTO: return "EPROTO";
	case EPROTONOSUPPORT: return "EPROTONOSUPPORT";
	case ENETUNREACH: return "ENETUNREACH";
	case ENOBUFS: return "ENOBUFS";
	case ETIMEDOUT: return "ETIMEDOUT";
	case EAGAIN: return "EAGAIN";
	case EEXIST: return "EEXIST";
	case EROFS: return "EROFS";
	case EIO: return "EIO";
	case E2BIG: return "E2BIG";
	case ENOTDIR: return "ENOTDIR";
	case EISDIR: return "EISDIR";
	case ENOSPC: return "ENOSPC";
	default: return "EUNKNOWN";
	}
}

static char *dump_line(json_t *o, size_t *len_out)
{
	char *s = json_dumps(o, JSON_COMPACT | JSON_ENSURE_ASCII);
	json_decref(o);
	if (!s)
		return NULL;
	size_t n = strlen(s);
	char *r = realloc(s, n + 2);
	if (!r) {
		free(s);
		return NULL;
	}
	r[n] = '\n';
	r[n + 1] = 0;
	*len_out = n + 1;
	return r;
}

static json_t *envelope(json_t *id)
{
	json_t *o = json_object();
	json_object_set_new(o, "v", json_integer(CONTROL_VERSION));
	json_object_set(o, "id", id ? id : json_null());
	return o;
}

static char *error_line(json_t *id, int err, const char *msg, size_t *len_out)
{
	json_t *o = envelope(id);
	json_t *e = json_object();
	json_object_set_new(o, "ok", json_false());
	json_object_set_new(e, "errno", json_integer(err));
	json_object_set_new(e, "code", json_string(errno_code(err)));
	json_object_set_new(e, "message", json_string(msg && *msg ? msg : strerror(err)));
	json_object_set_new(o, "error", e);
	return dump_line(o, len_out);
}

static char *ok_line(json_t *id, json_t *result, size_t *len_out)
{
	json_t *o = envelope(id);
	json_object_set_new(o, "ok", json_true());
	json_object_set_new(o, "result", result);
	return dump_line(o, len_out);
}

char *control_error_reply(int err, const char *message, size_t *len_out)
{
	return error_line(NULL, err, message, len_out);
}

/* ---- helpers ---- */

static json_t *ip_json(uint32_t a)
{
	char b[16];
	return json_string(ipv4_addr_format(a, b));
}

static json_t *mac_json(const uint8_t m[6])
{
	char b[18];
	snprintf(b, sizeof(b), "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4],
		 m[5]);
	return json_string(b);
}

static json_t *ms_left(uint64_t t, uint64_t now)
{
	return json_integer(t > now ? (json_int_t)((t - now) / 1000000) : 0);
}

#define ERR(code, ...)                                  \
	do {                                            \
		snprintf(err, errlen, __VA_ARGS__);     \
		return -(code);                         \
	} while (0)

/* Optional unsigned integer argument in [min, max] */
static int arg_uint(json_t *args, const char *key, uint64_t def, uint64_t min, uint64_t max,
		    uint64_t *out, char *err, size_t errlen)
{
	json_t *v = args ? json_object_get(args, key) : NULL;
	if (!v) {
		*out = def;
		return 0;
	}
	if (!json_is_integer(v) || json_integer_value(v) < 0 ||
	    (uint64_t)json_integer_value(v) < min || (uint64_t)json_integer_value(v) > max)
		ERR(EINVAL, "'%s' must be an integer from %llu to %llu", key,
		    (unsigned long long)min, (unsigned long long)max);
	*out = (uint64_t)json_integer_value(v);
	return 0;
}

/* Optional string argument */
static int arg_str(json_t *args, const char *key, const char **out, char *err, size_t errlen)
{
	json_t *v = args ? json_object_get(args, key) : NULL;
	*out = NULL;
	if (!v)
		return 0;
	if (!json_is_string(v))
		ERR(EINVAL, "'%s' must be a string", key);
	*out = json_string_value(v);
	if (strlen(*out) != json_string_length(v))
		ERR(EINVAL, "'%s' contains a NUL byte", key);
	return 0;
}

static int arg_addr(json_t *args, uint32_t *addr, char *err, size_t errlen)
{
	const char *s;
	int rc = arg_str(args, "addr", &s, err, errlen);
	if (rc)
		return rc;
	if (!s)
		ERR(EINVAL, "'addr' is required");
	if (ipv4_addr_parse(s, addr))
		ERR(EINVAL, "'%s' is not an IPv4 address", s);
	if (*addr == 0 || *addr == 0xffffffffu || (*addr >> 28) >= 14)
		ERR(EINVAL, "%s is not a unicast address", s);
	return 0;
}

/* ---- commands ---- */

static const char *const level_names[] = { "error", "warn", "info", "debug" };

static int cmd_status(struct control *c, json_t *args, uint64_t now, json_t **res, char *err,
		      size_t errlen)
{
	const struct control_env *e = &c->env;
	uint8_t mac[6];
	json_t *o = json_object();
	stack_mac(e->st, mac);
	json_object_set_new(o, "name", json_string(e->name ? e->name : ""));
	json_object_set_new(o, "version", json_string(e->version ? e->version : ""));
	json_object_set_new(o, "pid", json_integer(e->pid));
	json_object_set_new(o, "uptime_ms",
			    json_integer(now > e->started ? (json_int_t)((now - e->started) / 1000000)
							  : 0));
	json_object_set_new(o, "backend", json_string(e->backend ? e->backend : ""));
	json_object_set_new(o, "interface", json_string(e->ifname ? e->ifname : ""));
	json_object_set_new(o, "mac", mac_json(mac));
	json_object_set_new(o, "address", ip_json(stack_addr(e->st)));
	json_object_set_new(o, "prefix_len", json_integer(e->prefix_len));
	json_object_set_new(o, "gateway", e->gateway ? ip_json(e->gateway) : json_null());
	json_object_set_new(o, "mtu", json_integer(e->mtu));
	json_object_set_new(o, "log_level",
			    json_string(e->log ? level_names[e->log->level & 3] : "info"));
	json_object_set_new(o, "tcp_flows", json_integer((json_int_t)tcp_flow_count(e->st)));
	*res = o;
	return 0;
}

static int cmd_stats(struct control *c, json_t *args, uint64_t now, json_t **res, char *err,
		     size_t errlen)
{
	uint64_t v[CTR__COUNT];
	stack_stats(c->env.st, v);
	json_t *o = json_object();
	for (int i = 0; i < CTR__COUNT; i++) {
		const char *name = stack_counter_name((enum stack_counter)i);
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

static int cmd_arp(struct control *c, json_t *args, uint64_t now, json_t **res, char *err,
		   size_t errlen)
{
	const char *action;
	int rc = arg_str(args, "action", &action, err, errlen);
	if (rc)
		return rc;
	if (action && !strcmp(action, "flush")) {
		arp_flush(c->env.st);
		*res = json_object();
		return 0;
	}
	if (action && strcmp(action, "list"))
		ERR(EINVAL, "'action' must be list or flush");
	struct arp_entry *a = calloc(LIST_MAX, sizeof(*a));
	if (!a)
		return -ENOMEM;
	size_t n = arp_list(c->env.st, a, LIST_MAX);
	json_t *arr = json_array();
	for (size_t i = 0; i < n; i++) {
		json_t *e = json_object();
		json_object_set_new(e, "ip", ip_json(a[i].ip));
		json_object_set_new(e, "mac", a[i].resolved ? mac_json(a[i].mac) : json_null());
		json_object_set_new(e, "state", json_string(a[i].resolved ? "reachable" : "pending"));
		json_object_set_new(e, "expires_ms",
				    a[i].resolved ? ms_left(a[i].expires, now) : json_null());
		json_array_append_new(arr, e);
	}
	free(a);
	*res = json_pack("{s:o}", "entries", arr);
	return 0;
}

static int cmd_pmtu(struct control *c, json_t *args, uint64_t now, json_t **res, char *err,
		    size_t errlen)
{
	struct pmtu_entry *p = calloc(LIST_MAX, sizeof(*p));
	if (!p)
		return -ENOMEM;
	size_t n = ipv4_pmtu_list(c->env.st, p, LIST_MAX);
	json_t *arr = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(arr, json_pack("{s:o,s:I,s:o}", "dst", ip_json(p[i].dst),
						     "mtu", (json_int_t)p[i].mtu, "expires_ms",
						     ms_left(p[i].expires, now)));
	free(p);
	json_t *r = json_object();
	json_object_set_new(r, "entries", arr);
	json_object_set_new(r, "gateway", c->env.gateway ? ip_json(c->env.gateway) : json_null());
	json_object_set_new(r, "mtu", json_integer(c->env.mtu));
	*res = r;
	return 0;
}

static int cmd_conns(struct control *c, json_t *args, uint64_t now, json_t **res, char *err,
		     size_t errlen)
{
	struct tcp_flow_info *f = calloc(LIST_MAX, sizeof(*f));
	if (!f)
		return -ENOMEM;
	size_t n = tcp_flow_list(c->env.st, f, LIST_MAX);
	json_t *arr = json_array();
	for (size_t i = 0; i < n; i++) {
		json_t *e = json_object();
		json_object_set_new(e, "local", ip_json(f[i].local_addr));
		json_object_set_new(e, "local_port", json_integer(f[i].local_port));
		json_object_set_new(e, "remote", ip_json(f[i].remote_addr));
		json_object_set_new(e, "remote_port", json_integer(f[i].remote_port));
		json_object_set_new(e, "state", json_string(tcp_state_name(f[i].state)));
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
	return 0;
}

static int cmd_udp(struct control *c, json_t *args, uint64_t now, json_t **res, char *err,
		   size_t errlen)
{
	uint16_t ports[1024];
	size_t n = udp_list(c->env.st, ports, 1024);
	json_t *arr = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(arr, json_pack("{s:o,s:i}", "local",
						     ip_json(stack_addr(c->env.st)), "port",
						     (int)ports[i]));
	*res = json_pack("{s:o}", "listeners", arr);
	return 0;
}

static int cmd_reasm(struct control *c, json_t *args, uint64_t now, json_t **res, char *err,
		     size_t errlen)
{
	struct reasm_info *r = calloc(LIST_MAX, sizeof(*r));
	if (!r)
		return -ENOMEM;
	size_t n = stack_reasm_list(c->env.st, r, LIST_MAX);
	json_t *arr = json_array();
	for (size_t i = 0; i < n; i++) {
		json_t *e = json_object();
		json_object_set_new(e, "src", ip_json(r[i].src));
		json_object_set_new(e, "dst", ip_json(r[i].dst));
		json_object_set_new(e, "id", json_integer(r[i].id));
		json_object_set_new(e, "proto", json_integer(r[i].proto));
		json_object_set_new(e, "bytes_held", json_integer((json_int_t)r[i].bytes_held));
		json_object_set_new(e, "total_len", json_integer(r[i].total_len));
		json_object_set_new(e, "dead", json_boolean(r[i].dead));
		json_object_set_new(e, "expires_ms", ms_left(r[i].expires, now));
		json_array_append_new(arr, e);
	}
	free(r);
	*res = json_pack("{s:o}", "datagrams", arr);
	return 0;
}

static int cmd_log(struct control *c, json_t *args, uint64_t now, json_t **res, char *err,
		   size_t errlen)
{
	const char *lv;
	int rc = arg_str(args, "level", &lv, err, errlen);
	if (rc)
		return rc;
	if (!c->env.log)
		ERR(ENOTSUP, "no logger");
	if (lv) {
		size_t i;
		for (i = 0; i < 4; i++)
			if (!strcmp(lv, level_names[i]))
				break;
		if (i == 4)
			ERR(EINVAL, "'%s' is not a level (error, warn, info, debug)", lv);
		c->env.log->level = (enum config_log_level)i;
		log_info(c->env.log, "control: log level %s", lv);
	}
	*res = json_pack("{s:s}", "level", level_names[c->env.log->level & 3]);
	return 0;
}

static int cmd_shutdown(struct control *c, json_t *args, uint64_t now, json_t **res, char *err,
			size_t errlen)
{
	if (!c->env.shutdown)
		ERR(ENOTSUP, "shutdown is not available");
	c->env.shutdown(c->env.ctx);
	*res = json_object();
	return 0;
}

static int cmd_reload(struct control *c, json_t *args, uint64_t now, json_t **res, char *err,
		      size_t errlen)
{
	if (!c->env.reload)
		ERR(ENOTSUP, "reload is not available");
	json_t *o = json_object();
	int rc = c->env.reload(c->env.ctx, o, err, errlen);
	if (rc) {
		json_decref(o);
		return rc;
	}
	*res = o;
	return 0;
}

/* The capture's state as the reply of every capture action */
static json_t *capture_json(const struct capture_info *ci)
{
	const char *end = capture_end_str(ci->end);
	return json_pack("{s:b,s:s,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:i,s:i,s:i,s:i,s:s?,s:s?}",
			 "active", ci->active, "file", ci->file,
			 "frames", (json_int_t)ci->frames, "bytes", (json_int_t)ci->bytes,
			 "file_frames", (json_int_t)ci->file_frames,
			 "file_bytes", (json_int_t)ci->file_bytes,
			 "truncated", (json_int_t)ci->truncated,
			 "max_frames", (json_int_t)ci->max_frames,
			 "max_bytes", (json_int_t)ci->max_bytes, "snaplen", (int)ci->snaplen,
			 "max_files", (int)ci->max_files, "files", (int)ci->files,
			 "rotations", (int)ci->rotations, "end", end,
			 "error", ci->end == CAPTURE_END_ERROR ? ci->error : NULL);
}

/*
 * cmd_capture() - "capture": start (file, count, max_bytes, snaplen, files),
 * stop, status.  Every argument is checked (EINVAL) before the capture point
 * is looked at, so the fuzzer, which has none, sees all of it.
 */
static int cmd_capture(struct control *c, json_t *args, uint64_t now, json_t **res, char *err,
		       size_t errlen)
{
	const char *action, *file;
	uint64_t count, max_bytes, snaplen, files;
	int rc;
	if ((rc = arg_str(args, "action", &action, err, errlen)) ||
	    (rc = arg_str(args, "file", &file, err, errlen)) ||
	    (rc = arg_uint(args, "count", 0, 0, UINT32_MAX, &count, err, errlen)) ||
	    (rc = arg_uint(args, "max_bytes", 0, 0, UINT64_MAX >> 1, &max_bytes, err, errlen)) ||
	    (rc = arg_uint(args, "snaplen", 0, 0, UINT64_MAX >> 1, &snaplen, err, errlen)) ||
	    (rc = arg_uint(args, "files", 0, 0, UINT64_MAX >> 1, &files, err, errlen)))
		return rc;
	if (snaplen && (snaplen < CAPTURE_SNAPLEN_MIN || snaplen > CAPTURE_SNAPLEN_MAX))
		ERR(EINVAL, "'snaplen' must be 0 (the default, %u) or from %u to %u",
		    CAPTURE_SNAPLEN_MAX, CAPTURE_SNAPLEN_MIN, CAPTURE_SNAPLEN_MAX);
	if (files && (files < CAPTURE_FILES_MIN || files > CAPTURE_FILES_MAX))
		ERR(EINVAL, "'files' must be 0 (no rotation) or from %u to %u", CAPTURE_FILES_MIN,
		    CAPTURE_FILES_MAX);
	if (files && !max_bytes)
		ERR(EINVAL, "'files' (rotation) needs 'max_bytes', the size of one file");
	if (!c->env.cap)
		ERR(ENOTSUP, "capture is not available");
	if (!action || !strcmp(action, "status")) {
		/* nothing to do */
	} else if (!strcmp(action, "start")) {
		if (!file)
			ERR(EINVAL, "'file' is required");
		if (file[0] != '/')
			ERR(EINVAL, "'file' must be an absolute path");
		struct capture_opts o = {
			.max_frames = count, .max_bytes = max_bytes, .snaplen = (uint32_t)snaplen,
			.max_files = (uint32_t)files, .log = c->env.log,
		};
		rc = capture_start(c->env.cap, file, &o, err, errlen);
		if (rc)
			return rc;
		if (c->env.log)
			log_info(c->env.log, "capture: started to %s", file);
	} else if (!strcmp(action, "stop")) {
		if (capture_stop(c->env.cap))
			ERR(ENOENT, "not capturing");
	} else {
		ERR(EINVAL, "'action' must be start, stop or status");
	}
	struct capture_info *ci = malloc(sizeof(*ci));
	if (!ci)
		return -ENOMEM;
	capture_get_info(c->env.cap, ci);
	*res = capture_json(ci);
	free(ci);
	return *res ? 0 : -ENOMEM;
}

/* ---- kv ---- */

/* kv.h errors as errno values */
static int kv_errno(int rc)
{
	switch (-rc) {
	case KV_E_NOT_FOUND: return ENOENT;
	case KV_E_VALUE_EXPECTED: return EISDIR;
	case KV_E_DICT_EXPECTED: return ENOTDIR;
	case KV_E_ALREADY_PRESENT: return EEXIST;
	case KV_E_NO_SPACE: return ENOSPC;
	case KV_E_NOMEM: return ENOMEM;
	case KV_E_INVALID: return EINVAL;
	default: return EIO;
	}
}

static struct kv_store *kv_find(struct control *c, const char *name)
{
	for (size_t i = 0; i < c->env.nkv; i++)
		if (!strcmp(c->env.kv[i].name, name))
			return c->env.kv[i].store;
	return NULL;
}

static int kv_action(struct kv_store *s, const char *store, const char *action, const char *key,
		     const char *value, const struct kv_key *kp, json_t **res, char *err,
		     size_t errlen);

static int cmd_kv(struct control *c, json_t *args, uint64_t now, json_t **res, char *err,
		  size_t errlen)
{
	const char *action, *store, *key, *value;
	int rc;
	if ((rc = arg_str(args, "action", &action, err, errlen)) ||
	    (rc = arg_str(args, "store", &store, err, errlen)) ||
	    (rc = arg_str(args, "key", &key, err, errlen)) ||
	    (rc = arg_str(args, "value", &value, err, errlen)))
		return rc;
	if (!action || !strcmp(action, "stores")) {
		json_t *arr = json_array();
		for (size_t i = 0; i < c->env.nkv; i++)
			json_array_append_new(arr, json_string(c->env.kv[i].name));
		*res = json_pack("{s:o}", "stores", arr);
		return 0;
	}
	if (!store) {
		if (c->env.nkv == 0)
			ERR(ENOENT, "this instance has no key-value stores");
		store = c->env.kv[0].name;
	}
	struct kv_store *s = kv_find(c, store);
	if (!s)
		ERR(ENOENT, "no store named '%s'", store);
	struct kv_key k;
	if (kv_key_parse(key ? key : "", &k))
		ERR(EINVAL, "'%s' is not a key", key ? key : "");
	rc = kv_action(s, store, action, key, value, &k, res, err, errlen);
	kv_key_free(&k);
	return rc;
}

static int kv_action(struct kv_store *s, const char *store, const char *action, const char *key,
		     const char *value, const struct kv_key *kp, json_t **res, char *err,
		     size_t errlen)
{
	int rc;
	const struct kv_key k = *kp;
	if (!strcmp(action, "ls")) {
		struct kv_entry *ents = NULL;
		size_t n = 0;
		rc = kv_list(s, &k, &ents, &n);
		if (rc)
			ERR(kv_errno(rc), "%s: %s", key ? key : "/", kv_strerror(rc));
		json_t *arr = json_array();
		for (size_t i = 0; i < n; i++)
			json_array_append_new(arr, json_pack("{s:s,s:s}", "name", ents[i].name, "kind",
							     ents[i].kind == KV_DICT ? "dict"
										     : "value"));
		kv_entries_free(ents, n);
		*res = json_pack("{s:s,s:o}", "store", store, "entries", arr);
		return 0;
	}
	if (!strcmp(action, "get")) {
		uint8_t *data;
		size_t len;
		rc = kv_get(s, &k, &data, &len);
		if (rc)
			ERR(kv_errno(rc), "%s: %s", key ? key : "/", kv_strerror(rc));
		json_t *v = json_stringn((const char *)data, len);
		json_t *r = json_pack("{s:s,s:s,s:I}", "store", store, "key", key ? key : "", "size",
				      (json_int_t)len);
		json_object_set_new(r, "value", v ? v : json_null());  /* null: not UTF-8 */
		free(data);
		*res = r;
		return 0;
	}
	if (!strcmp(action, "put")) {
		if (!value)
			ERR(EINVAL, "'value' is required");
		rc = kv_set(s, &k, value, strlen(value));
		if (rc)
			ERR(kv_errno(rc), "%s: %s", key ? key : "/", kv_strerror(rc));
		*res = json_pack("{s:s,s:s}", "store", store, "key", key ? key : "");
		return 0;
	}
	if (!strcmp(action, "rm")) {
		rc = kv_remove(s, &k);
		if (rc)
			ERR(kv_errno(rc), "%s: %s", key ? key : "/", kv_strerror(rc));
		*res = json_pack("{s:s,s:s}", "store", store, "key", key ? key : "");
		return 0;
	}
	ERR(EINVAL, "'action' must be stores, ls, get, put or rm");
}

/* ---- deferred operations: ping and traceroute ---- */

static struct op *op_alloc(struct control *c)
{
	for (size_t i = 0; i < CONTROL_MAX_OPS; i++)
		if (c->ops[i].kind == OP_NONE)
			return &c->ops[i];
	return NULL;
}

static void op_release(struct op *o)
{
	json_decref(o->id);
	memset(o, 0, sizeof(*o));
}

static json_t *op_result(struct control *c, struct op *o)
{
	json_t *arr = json_array();
	unsigned got = 0;
	bool reached = false;
	for (unsigned i = 0; i < o->n; i++) {
		struct probe *p = &o->p[i];
		if (o->kind == OP_TRACE && reached)
			break;
		json_t *e = json_object();
		json_object_set_new(e, o->kind == OP_PING ? "seq" : "ttl", json_integer(i + 1));
		if (p->answered) {
			got++;
			json_object_set_new(e, "from", ip_json(p->from));
			json_object_set_new(e, "rtt_us", json_integer((json_int_t)(p->rtt / 1000)));
			if (o->kind == OP_PING) {
				json_object_set_new(e, "bytes", json_integer((json_int_t)p->bytes));
			} else {
				json_object_set_new(e, "icmp_type", json_integer(p->type));
				json_object_set_new(e, "icmp_code", json_integer(p->code));
				reached = p->type == ICMP_DEST_UNREACH;
				json_object_set_new(e, "reached", json_boolean(reached));
			}
		} else {
			json_object_set_new(e, "from", json_null());
		}
		json_array_append_new(arr, e);
	}
	json_t *r = json_object();
	json_object_set_new(r, "addr", ip_json(o->dst));
	if (o->kind == OP_PING) {
		json_object_set_new(r, "sent", json_integer(o->n));
		json_object_set_new(r, "received", json_integer(got));
		json_object_set_new(r, "replies", arr);
	} else {
		json_object_set_new(r, "reached", json_boolean(reached));
		json_object_set_new(r, "hops", arr);
	}
	return r;
}

static void op_finish(struct control *c, struct op *o)
{
	size_t len;
	char *line = ok_line(o->id, op_result(c, o), &len);
	uint64_t client = o->client;
	op_release(o);
	if (line && c->env.deliver)
		c->env.deliver(c->env.ctx, client, line, len);
	else
		free(line);
}

static bool op_complete(const struct op *o)
{
	for (unsigned i = 0; i < o->n; i++) {
		if (!o->p[i].answered)
			return false;
		if (o->kind == OP_TRACE && o->p[i].type == ICMP_DEST_UNREACH)
			return true;
	}
	return true;
}

static void on_echo_reply(void *ctx, uint32_t src, uint16_t id, uint16_t seq, const uint8_t *data,
			  size_t len, uint64_t now)
{
	struct control *c = ctx;
	for (size_t i = 0; i < CONTROL_MAX_OPS; i++) {
		struct op *o = &c->ops[i];
		if (o->kind != OP_PING || o->ident != id || src != o->dst || seq < 1 || seq > o->n)
			continue;
		struct probe *p = &o->p[seq - 1];
		if (p->answered)
			return;
		p->answered = true;
		p->from = src;
		p->rtt = now > p->sent ? now - p->sent : 0;
		p->bytes = len + 8;
		if (op_complete(o))
			op_finish(c, o);
		return;
	}
}

static int start_op(struct control *c, enum op_kind kind, uint64_t client, json_t *id,
		    json_t *args, uint64_t now, char *err, size_t errlen)
{
	uint32_t dst;
	uint64_t count, size, timeout, ttl;
	int rc = arg_addr(args, &dst, err, errlen);
	if (rc)
		return rc;
	if ((rc = arg_uint(args, kind == OP_PING ? "count" : "max_hops", kind == OP_PING ? 3 : 16,
			   1, CONTROL_MAX_PROBES, &count, err, errlen)) ||
	    (rc = arg_uint(args, "size", 56, 0, 1400, &size, err, errlen)) ||
	    (rc = arg_uint(args, "ttl", 0, 0, 255, &ttl, err, errlen)) ||
	    (rc = arg_uint(args, "timeout_ms", 2000, 1, 60000, &timeout, err, errlen)))
		return rc;
	struct op *o = op_alloc(c);
	if (!o)
		ERR(EBUSY, "too many operations in progress (at most %d)", CONTROL_MAX_OPS);
	memset(o, 0, sizeof(*o));
	o->kind = kind;
	o->client = client;
	o->dst = dst;
	o->n = (unsigned)count;
	o->ident = ++c->next_ident;
	if (kind == OP_TRACE)
		o->ident = (uint16_t)(49152 + (c->next_ident % 16384));
	o->deadline = now + timeout * 1000000;
	uint8_t payload[1400];
	for (size_t i = 0; i < size; i++)
		payload[i] = (uint8_t)i;
	for (unsigned i = 0; i < o->n; i++) {
		o->p[i].sent = now;
		if (kind == OP_PING)
			rc = icmp_send_echo(c->env.st, dst, o->ident, (uint16_t)(i + 1), (uint8_t)ttl,
					    payload, (size_t)size);
		else
			rc = udp_sendto(c->env.st, o->ident, dst, (uint16_t)(TRACE_PORT_BASE + i),
					(uint8_t)(i + 1), payload, 32);
		if (rc && i == 0) {
			memset(o, 0, sizeof(*o));
			ERR(-rc, "cannot send to the address: %s", strerror(-rc));
		}
	}
	o->id = json_incref(id);
	return 0;
}

/* An ICMP error quoting one of our traceroute probes (frames with no VLAN tag) */
void control_rx_frame(struct control *c, const uint8_t *f, size_t len, uint64_t now)
{
	if (len < 14 + 20 + 8 + 20 + 8 || f[12] != 0x08 || f[13] != 0x00)
		return;
	const uint8_t *ip = f + 14;
	size_t iplen = len - 14;
	if ((ip[0] >> 4) != 4 || ip[9] != IP_PROTO_ICMP)
		return;
	size_t hl = (size_t)(ip[0] & 15) * 4;
	if (hl < 20 || hl + 8 + 28 > iplen || ((ip[6] & 0x3f) | ip[7]))  /* fragments: no */
		return;
	const uint8_t *icmp = ip + hl;
	uint8_t type = icmp[0], code = icmp[1];
	if (type != ICMP_TIME_EXCEEDED && type != ICMP_DEST_UNREACH)
		return;
	const uint8_t *q = icmp + 8;
	size_t qlen = iplen - hl - 8;
	size_t qhl = (size_t)(q[0] & 15) * 4;
	if ((q[0] >> 4) != 4 || qhl < 20 || qhl + 8 > qlen || q[9] != IP_PROTO_UDP)
		return;
	uint32_t from = (uint32_t)ip[12] << 24 | (uint32_t)ip[13] << 16 | (uint32_t)ip[14] << 8 |
			ip[15];
	uint32_t qdst = (uint32_t)q[16] << 24 | (uint32_t)q[17] << 16 | (uint32_t)q[18] << 8 | q[19];
	uint16_t sport = (uint16_t)(q[qhl] << 8 | q[qhl + 1]);
	uint16_t dport = (uint16_t)(q[qhl + 2] << 8 | q[qhl + 3]);
	for (size_t i = 0; i < CONTROL_MAX_OPS; i++) {
		struct op *o = &c->ops[i];
		if (o->kind != OP_TRACE || o->ident != sport || o->dst != qdst ||
		    dport < TRACE_PORT_BASE || dport >= TRACE_PORT_BASE + o->n)
			continue;
		struct probe *p = &o->p[dport - TRACE_PORT_BASE];
		if (p->answered)
			return;
		p->answered = true;
		p->from = from;
		p->type = type;
		p->code = code;
		p->rtt = now > p->sent ? now - p->sent : 0;
		if (op_complete(o))
			op_finish(c, o);
		return;
	}
}

void control_poll(struct control *c, uint64_t now)
{
	for (size_t i = 0; i < CONTROL_MAX_OPS; i++)
		if (c->ops[i].kind != OP_NONE && c->ops[i].deadline <= now)
			op_finish(c, &c->ops[i]);
}

uint64_t control_next_deadline(const struct control *c)
{
	uint64_t d = UINT64_MAX;
	for (size_t i = 0; i < CONTROL_MAX_OPS; i++)
		if (c->ops[i].kind != OP_NONE && c->ops[i].deadline < d)
			d = c->ops[i].deadline;
	return d;
}

void control_client_gone(struct control *c, uint64_t client)
{
	for (size_t i = 0; i < CONTROL_MAX_OPS; i++)
		if (c->ops[i].kind != OP_NONE && c->ops[i].client == client)
			op_release(&c->ops[i]);
}

/* ---- the dispatcher ---- */

typedef int (*cmd_fn)(struct control *c, json_t *args, uint64_t now, json_t **res, char *err,
		      size_t errlen);

static const struct {
	const char *name;
	cmd_fn fn;
	enum op_kind deferred;
} commands[] = {
	{ "status", cmd_status, OP_NONE },   { "stats", cmd_stats, OP_NONE },
	{ "arp", cmd_arp, OP_NONE },         { "pmtu", cmd_pmtu, OP_NONE },
	{ "route", cmd_pmtu, OP_NONE },      { "conns", cmd_conns, OP_NONE },
	{ "udp", cmd_udp, OP_NONE },         { "reasm", cmd_reasm, OP_NONE },
	{ "log", cmd_log, OP_NONE },         { "shutdown", cmd_shutdown, OP_NONE },
	{ "reload", cmd_reload, OP_NONE },   { "capture", cmd_capture, OP_NONE },
	{ "kv", cmd_kv, OP_NONE },           { "ping", NULL, OP_PING },
	{ "traceroute", NULL, OP_TRACE },
};

char *control_handle(struct control *c, uint64_t client, const char *line, size_t len,
		     uint64_t now, size_t *len_out)
{
	char err[512] = "";
	json_error_t jerr;
	if (len > CONTROL_MAX_LINE)
		return error_line(NULL, EMSGSIZE, "request too long", len_out);
	json_t *req = json_loadb(line, len, JSON_REJECT_DUPLICATES | JSON_DISABLE_EOF_CHECK * 0,
				 &jerr);
	if (!req) {
		snprintf(err, sizeof(err), "malformed JSON: %s (column %d)", jerr.text,
			 jerr.column);
		return error_line(NULL, EBADMSG, err, len_out);
	}
	char *reply = NULL;
	json_t *id = json_is_object(req) ? json_object_get(req, "id") : NULL;
	json_t *v = json_is_object(req) ? json_object_get(req, "v") : NULL;
	json_t *cmd = json_is_object(req) ? json_object_get(req, "cmd") : NULL;
	json_t *args = json_is_object(req) ? json_object_get(req, "args") : NULL;
	if (!json_is_object(req)) {
		reply = error_line(NULL, EBADMSG, "a request is a JSON object", len_out);
	} else if (v && !(json_is_integer(v) && json_integer_value(v) == CONTROL_VERSION)) {
		reply = error_line(id, EPROTONOSUPPORT, "unsupported protocol version (this is 1)",
				   len_out);
	} else if (!json_is_string(cmd)) {
		reply = error_line(id, EINVAL, "'cmd' (a string) is required", len_out);
	} else if (args && !json_is_object(args)) {
		reply = error_line(id, EINVAL, "'args' must be an object", len_out);
	} else {
		const char *name = json_string_value(cmd);
		size_t i, n = sizeof(commands) / sizeof(commands[0]);
		for (i = 0; i < n; i++)
			if (!strcmp(name, commands[i].name))
				break;
		if (i == n) {
			snprintf(err, sizeof(err), "unknown command '%.64s'", name);
			reply = error_line(id, ENOSYS, err, len_out);
		} else if (commands[i].deferred) {
			int rc = start_op(c, commands[i].deferred, client, id, args, now, err,
					  sizeof(err));
			if (rc)
				reply = error_line(id, -rc, err, len_out);
		} else {
			json_t *res = NULL;
			int rc = commands[i].fn(c, args, now, &res, err, sizeof(err));
			if (rc) {
				json_decref(res);
				reply = error_line(id, -rc, err, len_out);
			} else {
				reply = ok_line(id, res ? res : json_object(), len_out);
			}
		}
	}
	json_decref(req);
	return reply;
}

struct control *control_new(const struct control_env *env)
{
	struct control *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->env = *env;
	icmp_set_echo_reply_handler(env->st, on_echo_reply, c);
	return c;
}

void control_free(struct control *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < CONTROL_MAX_OPS; i++)
		if (c->ops[i].kind != OP_NONE)
			op_release(&c->ops[i]);
	free(c);  /* the stack keeps the echo handler: free it first, or ping no more */
}

/* ---- paths ---- */

bool control_name_ok(const char *name)
{
	size_t n = strlen(name);
	if (n == 0 || n > 32 || name[0] == '.')
		return false;
	for (const char *p = name; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' || *p == '.'))
			return false;
	return true;
}

int control_runtime_dir(char *buf, size_t len)
{
	const char *d = getenv("TAPIR_RUNTIME_DIR");
	int n;
	if (d && *d)
		n = snprintf(buf, len, "%s", d);
	else if (geteuid() == 0)
		n = snprintf(buf, len, "/run/tapir");
	else if ((d = getenv("XDG_RUNTIME_DIR")) && *d)
		n = snprintf(buf, len, "%s/tapir", d);
	else
		n = snprintf(buf, len, "/tmp/tapir-%u", (unsigned)geteuid());
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

int control_socket_path(const char *name, char *buf, size_t len)
{
	if (!control_name_ok(name))
		return -EINVAL;
	char dir[4096];
	int rc = control_runtime_dir(dir, sizeof(dir));
	if (rc)
		return rc;
	int n = snprintf(buf, len, "%s/%s.sock", dir, name);
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}
