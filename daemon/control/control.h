/*
 * control.h - tapird's control protocol: one JSON request per line, one reply
 *
 * Theory of operation
 *
 * A client sends one JSON object per line and gets one JSON object per line
 * back, in order.  The dispatcher is a pure function over bytes given a
 * struct control (no sockets, no libuv): control_handle() takes one request
 * line and returns the reply line, or NULL when the reply comes later (ping,
 * traceroute), through env->deliver.  server.c puts it on a Unix
 * socket in tapird's loop; fuzz/control drives it directly.
 *
 * Request:  {"v":1, "id":ANY, "cmd":"NAME", "args":{...}}   (v, id, args optional)
 * Reply:    {"v":1, "id":ANY, "ok":true,  "result":{...}}
 *           {"v":1, "id":ANY, "ok":false, "error":{"errno":22, "code":"EINVAL",
 *                                                  "message":"..."}}
 *
 * Requests are at most CONTROL_MAX_LINE bytes.  Deferred operations are
 * bounded (CONTROL_MAX_OPS), answered at the latest at their deadline
 * (control_poll()) and dropped when their client goes (control_client_gone()).
 *
 * Ownership: replies are malloc'd, '\n'-terminated and owned by the caller.
 * The env's pointers must outlive the struct control.
 */
#ifndef TAPIR_CONTROL_H
#define TAPIR_CONTROL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tapir/log.h"
#include "proto.h"
#include "tapir/stack.h"

#define CONTROL_MAX_OPS 16
#define CONTROL_MAX_PROBES 32

struct capture;
struct tapir_dns;
struct tapir_kv_store;
struct tapir_tcp_flow_info;

struct control_kv {
	const char *name;
	struct tapir_kv_store *store;
};

struct control_env {
	struct tapir_stack *st;
	struct tapir_logger *log;          /* its level is changed by "log" */
	const char *name, *version, *backend, *ifname;
	uint32_t mtu;
	uint8_t prefix_len;
	uint32_t gateway;
	uint64_t started;            /* ns, the clock of @now */
	long pid;
	struct capture *cap;         /* NULL: capture not available */
	struct control_kv *kv;       /* the instance's stores */
	size_t nkv;
	struct tapir_dns *dns;       /* the resolver ("resolve"); NULL: none */
	void *ctx;
	/* A deferred reply (malloc'd, taken over) for @client */
	void (*deliver)(void *ctx, uint64_t client, char *reply, size_t len);
	/* "shutdown" was asked (the reply is returned first) */
	void (*shutdown)(void *ctx);
	/* "reload" was asked: re-open the stores and describe what was done in
	 * @json_result (a json_t * object).  Return: 0 or negative errno */
	int (*reload)(void *ctx, void *json_result, char *err, size_t errlen);
	/* Optional: device counters appended to "stats" (a json_t * object) */
	void (*dev_stats)(void *ctx, void *json_obj);
	/* The gateway ([gateway] enabled): its DNS relay listens on our address */
	bool gateway_on;
	/*
	 * Optional (NULL: no gateway): the port forwards.  @action is "add"
	 * (@proto 6 or 17, @host_port, @ns_port), "rm" (@proto, @host_port) or
	 * "ls"; the result goes into @json_result (a json_t * object).
	 * Return: 0 or negative errno (message in @err)
	 */
	int (*forward)(void *ctx, const char *action, uint8_t proto, uint16_t host_port,
		       uint16_t ns_port, void *json_result, char *err, size_t errlen);
	/* Optional: the gateway's spliced flows for "conns" (a new json_t * array) */
	void *(*spliced)(void *ctx);
	/* Optional: what the apps know of a connection of "conns" (TLS), as
	 * fields of its json_t * object */
	void (*flow_extra)(void *ctx, const struct tapir_tcp_flow_info *fi, void *json_obj);
};

struct control;

/* Return: a new dispatcher (registers the stack's echo-reply handler), or NULL */
struct control *control_new(const struct control_env *env);
void control_free(struct control *c);

/**
 * control_handle() - Handle one request line
 * @client: The client's id, given back to env->deliver for deferred replies
 * @line:   The request, without its newline; any bytes
 * @now:    Current time, ns
 * @len_out: Receives the reply's length
 *
 * Return: the reply (malloc'd), or NULL when it is deferred (or out of memory)
 */
char *control_handle(struct control *c, uint64_t client, const char *line, size_t len,
		     uint64_t now, size_t *len_out);

/**
 * control_metrics_text() - The counters and gauges in the Prometheus text format
 * @now:         Current time, ns
 * @openmetrics: The OpenMetrics 1.0 dialect (ends "# EOF") instead of 0.0.4
 * @len:         Receives the text's length
 *
 * The counters are those of "stats"; see metrics.c for the names.
 * Return: the text (malloc'd, NUL-terminated), or NULL: out of memory
 */
char *control_metrics_text(struct control *c, uint64_t now, bool openmetrics, size_t *len);
/* Return: the Content-Type of that text */
const char *control_metrics_content_type(bool openmetrics);

/* A received frame (Ethernet), for traceroute's ICMP errors */
void control_rx_frame(struct control *c, const uint8_t *frame, size_t len, uint64_t now);

/* Finish the deferred operations due at @now */
void control_poll(struct control *c, uint64_t now);
/* Return: when the next deferred operation is due, or UINT64_MAX */
uint64_t control_next_deadline(const struct control *c);
/* Forget @client's deferred operations */
void control_client_gone(struct control *c, uint64_t client);

#endif /* TAPIR_CONTROL_H */
