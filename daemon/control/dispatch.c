/*
 * dispatch.c - tapird's control protocol: the dispatcher and the helpers of the commands
 *
 * Theory of operation: see control.h.  Every command is a function
 * (struct control *, args, now, &result) -> 0 or negative errno, with an
 * error message; the envelope (v, id, ok, result/error, control/proto.h) is
 * added around it.  The commands are in the files of their area
 * (commands.h).  Ping and traceroute create a deferred operation (diag.c).
 */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "tapir/stack.h"
#include "wire/eth.h"

/* ---- helpers ---- */

json_t *control_ip_json(uint32_t a)
{
	char b[16];
	return json_string(tapir_ipv4_addr_format(a, b));
}

json_t *control_addr_json(const struct tapir_addr *a)
{
	char b[TAPIR_ADDR_STRLEN];
	return json_string(tapir_addr_format(a, b));
}

json_t *control_mac_json(const uint8_t m[6])
{
	char b[ETH_ADDR_STRLEN];
	eth_addr_format(m, b);
	return json_string(b);
}

json_t *control_ms_left(uint64_t t, uint64_t now)
{
	return json_integer(t > now ? (json_int_t)((t - now) / 1000000) : 0);
}

/* Optional unsigned integer argument in [min, max] */
int control_arg_uint(json_t *args, const char *key, uint64_t def, uint64_t min, uint64_t max,
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
int control_arg_str(json_t *args, const char *key, const char **out, char *err, size_t errlen)
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

int control_arg_addr(json_t *args, uint32_t *addr, char *err, size_t errlen)
{
	const char *s;
	int rc = control_arg_str(args, "addr", &s, err, errlen);
	if (rc)
		return rc;
	if (!s)
		ERR(EINVAL, "'addr' is required");
	if (tapir_ipv4_addr_parse(s, addr))
		ERR(EINVAL, "'%s' is not an IPv4 address", s);
	if (*addr == 0 || *addr == 0xffffffffu || (*addr >> 28) >= 14)
		ERR(EINVAL, "%s is not a unicast address", s);
	return 0;
}

/* ---- the dispatcher ---- */

typedef int (*cmd_fn)(struct control *c, json_t *args, uint64_t now, json_t **res, char *err,
		      size_t errlen);

static const struct {
	const char *name;
	cmd_fn fn;
	enum op_kind deferred;
} commands[] = {
	{ "status", control_cmd_status, OP_NONE },   { "stats", control_cmd_stats, OP_NONE },
	{ "arp", control_cmd_arp, OP_NONE },         { "pmtu", control_cmd_pmtu, OP_NONE },
	{ "route", control_cmd_pmtu, OP_NONE },      { "conns", control_cmd_conns, OP_NONE },
	{ "udp", control_cmd_udp, OP_NONE },         { "reasm", control_cmd_reasm, OP_NONE },
	{ "log", control_cmd_log, OP_NONE },         { "shutdown", control_cmd_shutdown, OP_NONE },
	{ "reload", control_cmd_reload, OP_NONE },   { "capture", control_cmd_capture, OP_NONE },
	{ "kv", control_cmd_kv, OP_NONE },           { "ping", NULL, OP_PING },
	{ "traceroute", NULL, OP_TRACE },         { "metrics", control_cmd_metrics, OP_NONE },
	{ "resolve", NULL, OP_RESOLVE },
	{ "dhcp", control_cmd_dhcp, OP_NONE },
	{ "forward", control_cmd_forward, OP_NONE },
};

char *control_handle(struct control *c, uint64_t client, const char *line, size_t len,
		     uint64_t now, size_t *len_out)
{
	char err[512] = "";
	struct control_request req;
	char *reply = NULL;
	int rc = control_request_decode(line, len, &req, err, sizeof(err));
	if (rc) {
		reply = control_reply_error(req.id, -rc, err, len_out);
		control_request_release(&req);
		return reply;
	}
	size_t i, n = sizeof(commands) / sizeof(commands[0]);
	for (i = 0; i < n; i++)
		if (!strcmp(req.cmd, commands[i].name))
			break;
	if (i == n) {
		snprintf(err, sizeof(err), "unknown command '%.64s'", req.cmd);
		reply = control_reply_error(req.id, ENOSYS, err, len_out);
	} else if (commands[i].deferred) {
		rc = commands[i].deferred == OP_RESOLVE
			     ? control_start_resolve(c, client, req.id, req.args, err, sizeof(err))
			     : control_start_op(c, commands[i].deferred, client, req.id, req.args,
						now, err, sizeof(err));
		if (rc)
			reply = control_reply_error(req.id, -rc, err, len_out);
	} else {
		json_t *res = NULL;
		rc = commands[i].fn(c, req.args, now, &res, err, sizeof(err));
		if (rc) {
			json_decref(res);
			reply = control_reply_error(req.id, -rc, err, len_out);
		} else {
			reply = control_reply_ok(req.id, res ? res : json_object(), len_out);
		}
	}
	control_request_release(&req);
	return reply;
}

struct control *control_new(const struct control_env *env)
{
	struct control *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->env = *env;
	tapir_icmp_set_echo_reply_handler(env->st, control_on_echo_reply, c);
	return c;
}

void control_free(struct control *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < CONTROL_MAX_OPS; i++)
		if (c->ops[i].kind != OP_NONE)
			json_decref(c->ops[i].id);
	control_resolve_free(c);
	free(c);  /* the stack keeps the echo handler: free it first, or ping no more */
}
