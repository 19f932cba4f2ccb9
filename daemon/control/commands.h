/*
 * commands.h - the control dispatcher's insides, shared by the command files
 *
 * dispatch.c parses a request and calls a command by name; the commands are
 * grouped by area: stack.c (status, stats, arp, route/pmtu, conns, udp,
 * reasm), kv.c, metrics.c (the metrics text), gateway.c (forward), capture.c (the capture command), diag.c (ping, traceroute:
 * the deferred operations), admin.c (log, reload, shutdown).  Every command
 * is (struct control *, args, now, &result, err, errlen) -> 0 or negative
 * errno, with a message in @err; the envelope is added around it.
 */
#ifndef TAPIR_CONTROL_COMMANDS_H
#define TAPIR_CONTROL_COMMANDS_H

#include <jansson.h>
#include <stdio.h>

#include "control.h"
#include "tapir/addr.h"

struct tapir_dns_query;

#define TRACE_PORT_BASE 33434
#define LIST_MAX 4096

enum op_kind { OP_NONE, OP_PING, OP_TRACE, OP_RESOLVE };

struct probe {
	uint64_t sent, rtt;
	uint32_t from;
	uint8_t type, code;
	bool answered;
	size_t bytes;
};

/* A deferred operation (ping, traceroute), diag.c */
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

/* A "resolve" under way (dns.c); free when @c is NULL */
struct resolve_op {
	struct control *c;
	uint64_t client;
	json_t *id;                   /* owned */
	struct tapir_dns_query *q;
};

struct control {
	struct control_env env;
	struct op ops[CONTROL_MAX_OPS];
	struct resolve_op rops[CONTROL_MAX_OPS];
	uint16_t next_ident;
};

/* Fail a command: message in err/errlen, return -code */
#define ERR(code, ...)                                  \
	do {                                            \
		snprintf(err, errlen, __VA_ARGS__);     \
		return -(code);                         \
	} while (0)

/* ---- helpers (dispatch.c) ---- */

json_t *control_ip_json(uint32_t a);
/* Either family, as tapir_addr_format() writes it */
json_t *control_addr_json(const struct tapir_addr *a);
json_t *control_mac_json(const uint8_t m[6]);
/* Milliseconds from @now to @t (0 if past) */
json_t *control_ms_left(uint64_t t, uint64_t now);
/* Optional unsigned integer argument in [min, max] (@def when absent) */
int control_arg_uint(json_t *args, const char *key, uint64_t def, uint64_t min, uint64_t max,
		     uint64_t *out, char *err, size_t errlen);
/* Optional string argument (NULL when absent) */
int control_arg_str(json_t *args, const char *key, const char **out, char *err, size_t errlen);
/* The required unicast "addr" argument */
int control_arg_addr(json_t *args, uint32_t *addr, char *err, size_t errlen);

/* Log level names, in enum tapir_log_level order (admin.c) */
extern const char *const control_level_names[4];

/* ---- commands ---- */

#define CONTROL_CMD(name) \
	int control_cmd_##name(struct control *c, json_t *args, uint64_t now, json_t **res, \
			       char *err, size_t errlen)
CONTROL_CMD(status);
CONTROL_CMD(dhcp);
CONTROL_CMD(stats);
CONTROL_CMD(arp);
CONTROL_CMD(pmtu);
CONTROL_CMD(conns);
CONTROL_CMD(udp);
CONTROL_CMD(reasm);
CONTROL_CMD(log);
CONTROL_CMD(shutdown);
CONTROL_CMD(reload);
CONTROL_CMD(capture);
CONTROL_CMD(kv);
CONTROL_CMD(metrics);  /* metrics.c */
CONTROL_CMD(forward);

/* Start a ping or traceroute (diag.c).  Return: 0 (the reply comes later)
 * or negative errno (message in @err) */
int control_start_op(struct control *c, enum op_kind kind, uint64_t client, json_t *id,
		     json_t *args, uint64_t now, char *err, size_t errlen);
/* Start a "resolve" (dns.c): as control_start_op() */
int control_start_resolve(struct control *c, uint64_t client, json_t *id, json_t *args,
			  char *err, size_t errlen);
/* Cancel @client's resolves; all of them (dns.c) */
void control_resolve_client_gone(struct control *c, uint64_t client);
void control_resolve_free(struct control *c);

/* The stack's echo-reply handler (diag.c) */
void control_on_echo_reply(void *ctx, uint32_t src, uint16_t id, uint16_t seq,
			   const uint8_t *data, size_t len, uint64_t now);

#endif /* TAPIR_CONTROL_COMMANDS_H */
