/*
 * app.h - the application API: unikernel-style apps on tapir's runtime
 *
 * Theory of operation
 *
 * As a MirageOS unikernel's start function receives its devices, a tapir app
 * is a struct tapir_app_type whose start() receives a struct tapir_app_ctx:
 * the stack (TCP and UDP: stack.h, tcp.h), the key-value stores the
 * configuration opened ([kv.NAME] sections, kv.h), monotonic and wall clocks,
 * randomness, timers, its configuration ([app.NAME] section and boot
 * arguments --app.NAME.key=value, checked by the type's key table into its
 * params struct: ctx->params) and the daemon's logger.  stop() undoes
 * start() before the stack is freed.
 *
 * Apps run on the runtime's single libuv loop: every callback (flow
 * callbacks, timers) runs there, one at a time; an app never blocks.  After
 * each callback the runtime flushes the stack and re-arms its own timer, so
 * an app that writes from a timer needs nothing more.
 *
 * tapir_run() is the whole daemon (configuration, TAP, stack, loop) as a
 * library call: tapird is main() { return tapir_run(argc, argv, NULL, 0); },
 * and an out-of-tree program passes its own app types, which [app.NAME]
 * sections then name with type = NAME (see examples/hello/).  Built-in and
 * out-of-tree types are the same record: a struct tapir_app_conf_type (below:
 * name, keys as a struct tapir_conf_key table, conf.h, params size, ports, check)
 * and start/stop.
 *
 * Ownership: the runtime owns the ctx and everything it points to; they stay
 * valid from start() until stop() returns.  Strings returned by arg() are
 * the configuration's.  A timer belongs to the app that made it, which frees
 * it (at the latest in stop()).
 */
#ifndef TAPIR_APP_H
#define TAPIR_APP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "conf.h"
#include "dns.h"
#include "kv.h"
#include "log.h"
#include "stack.h"
#include "tcp.h"

/*
 * What a type's check() sees of an [app.NAME] section and the rest of the
 * configuration, once every key is set.  Lent for the call only.
 */
struct tapir_app_check {
	const char *name;                /* NAME of [app.NAME] */
	const struct tapir_app_conf_type *type;
	const void *params;              /* the filled params struct */
	const char *where;               /* "FILE:LINE" of the section */
	/* Return: "FILE:LINE" where @key was given (the section's if not given) */
	const char *(*key_where)(const struct tapir_app_check *k, const char *key);
	/* Return: whether section [kv.@name] exists; *@writable (may be NULL)
	 * gets its writable = key */
	bool (*kv_section)(const struct tapir_app_check *k, const char *name, bool *writable);
	const void *priv;                /* the configuration's own */
};

/*
 * An application type as the configuration sees it: the keys its [app.NAME]
 * sections take besides type= (a struct tapir_conf_key table, conf.h, defaults
 * included) over the struct they fill (@params_size bytes: ctx->params), the
 * ports it listens on (for the uniqueness checks) and the checks a key table
 * cannot say.  Every type has one, built-in (apps/'s app_conf.c and
 * http/http_conf.c) or out-of-tree: its struct tapir_app_type points at it.
 */
struct tapir_app_conf_type {
	const char *name;                /* type = NAME */
	const struct tapir_conf_key *keys;     /* over the params struct; NULL: no keys */
	size_t nkeys;
	size_t params_size;              /* sizeof the params struct (0: none) */
	size_t udp_port, tcp_port;       /* TAPIR_APP_CONF_PORT() of the port it listens on; 0: none */
	/*
	 * Optional: checks across keys and sections, once every key is set
	 * (http: kv = NAME names a [kv.NAME] section).  Put "WHERE: ..." in
	 * @err (k->key_where()).  Return: 0 or -EINVAL
	 */
	int (*check)(const struct tapir_app_check *k, char *err, size_t errlen);
};

/* The port field of a params struct, for app_conf_type's udp_port/tcp_port */
#define TAPIR_APP_CONF_PORT(type, field) (offsetof(type, field) + 1)

struct tapir_timer;
typedef void (*tapir_timer_fn)(void *arg);

struct tapir_app_ctx {
	const char *name;                /* the instance: NAME of [app.NAME] */
	const void *cfg;                 /* the runtime's: its configuration section */
	const void *params;              /* its type's params struct, filled by the
	                                    type's key table: defaults, then keys */
	struct tapir_stack *st;                /* the network stack */
	struct tapir_logger *log;              /* tapir_log_info(ctx->log, ...) */

	/*
	 * Return: the store of section [kv.@name], or NULL if there is none.
	 * A reload (control `reload`, SIGHUP) re-opens the read-only stores,
	 * so look the store up again for each piece of work (it is cheap);
	 * the pointer is good until the callback returns.  Work that outlasts
	 * the callback (a value streamed out over many writable() calls)
	 * holds it with tapir_kv_retain() and lets go with tapir_kv_close().
	 */
	struct tapir_kv_store *(*kv)(struct tapir_app_ctx *ctx, const char *name);
	/* Return: whether [kv.@name] was opened writable */
	bool (*kv_writable)(struct tapir_app_ctx *ctx, const char *name);
	/* Return: the text of configuration key @key as given (already checked
	 * into ctx->params), or NULL if not given */
	const char *(*arg)(const struct tapir_app_ctx *ctx, const char *key);
	/* Monotonic time, ns (the clock the stack runs on) */
	uint64_t (*mono_ns)(void);
	/* Wall-clock time (CLOCK_REALTIME) */
	struct timespec (*wall)(void);
	/* Fill @buf with @len cryptographically strong random bytes */
	void (*random)(void *buf, size_t len);

	/*
	 * Timers: timer_new() makes a stopped timer (NULL when out of memory);
	 * timer_arm() (re)starts it to call @fn(@arg) once, @after_ns from now
	 * (millisecond resolution, never early); timer_stop() stops it;
	 * timer_free() stops and frees it (safe inside its own callback).
	 */
	struct tapir_timer *(*timer_new)(struct tapir_app_ctx *ctx, tapir_timer_fn fn, void *arg);
	void (*timer_arm)(struct tapir_timer *t, uint64_t after_ns);
	void (*timer_stop)(struct tapir_timer *t);
	void (*timer_free)(struct tapir_timer *t);

	/*
	 * The instance's counters (those of `tapir stats`) and gauges in the
	 * Prometheus text format 0.0.4, or with @openmetrics OpenMetrics 1.0
	 * (what the control command "metrics" answers; the metrics app serves
	 * it).  *@ctype receives its Content-Type (static).  Return: the text
	 * (malloc'd, the caller frees it; its length in *@len), or NULL: out of
	 * memory.  May be NULL in a runtime without it.
	 */
	char *(*metrics)(struct tapir_app_ctx *ctx, bool openmetrics, size_t *len,
			 const char **ctype);

	void *runtime;                   /* the runtime's, opaque */

	/*
	 * Names: the instance's resolver (dns.h), configured from [dns] (and
	 * DHCP).  Resolve through resolve(), which is tapir_dns_resolve() with
	 * the app as owner: whatever is still resolving when stop() returns is
	 * cancelled by the runtime, so a result never arrives after stop().
	 * Other calls (tapir_dns_cancel(), tapir_dns_servers()) take @dns.
	 */
	struct tapir_dns *dns;
	int (*resolve)(struct tapir_app_ctx *ctx, const char *name, enum tapir_family family,
		       tapir_dns_cb cb, void *arg, struct tapir_dns_query **q);
};

/* One field of a connection, as an app reports it (flow_info() below) */
struct tapir_app_field {
	const char *name;                /* static: "tls_version" */
	char value[256];
};

struct tapir_app_type {
	/*
	 * The configuration side (struct tapir_app_conf_type above): the name (type = NAME in
	 * [app.*]), the key table over the params struct and its size, the
	 * ports, an optional check across keys and sections.  Required.
	 * Built-in types point at apps/app_conf.h's records, as out-of-tree
	 * types at their own: config and runtime use this one record.
	 */
	const struct tapir_app_conf_type *conf;
	/*
	 * Start an instance.  Return: 0 and the app's state in *@state, or a
	 * negative errno (the app logs why; tapird then exits 1).
	 */
	int (*start)(struct tapir_app_ctx *ctx, void **state);
	/* Stop it and free @state (every flow, listener and timer it has). */
	void (*stop)(void *state);
	/* Optional (NULL: nothing to do): the stores were just re-opened by a
	 * reload; drop whatever was cached from the old ones. */
	void (*reloaded)(void *state);
	/* Optional: our address changed ([ipv4] address = dhcp: a new lease,
	 * or the address taken away: @new_addr 0).  TCP flows on @old_addr
	 * have been reset already (closed with -EADDRNOTAVAIL); listeners
	 * and UDP ports stay and serve the new address. */
	void (*addr_changed)(void *state, uint32_t old_addr, uint32_t new_addr);
	/*
	 * Optional: after reloaded(), re-read what the app loads from its
	 * stores itself (http, kvhttp: the TLS certificates).  Return: 0, or a
	 * negative errno with @err set ("why"): the app keeps what it had and
	 * the reload fails with that reason (control "reload" answers it,
	 * SIGHUP logs it).
	 */
	int (*reread)(void *state, char *err, size_t errlen);
	/*
	 * Optional: the app's counters for the control socket's "stats", as
	 * layer *@layer (e.g. "tls.web"); *@names and *@values are the app's
	 * and good until the app's next callback.  Return: how many (0: none)
	 */
	size_t (*counters)(void *state, const char **layer, const char *const **names,
			   const uint64_t **values);
	/*
	 * Optional: what the app knows of its connection @fi (the control
	 * socket's "conns": e.g. tls_version, tls_cipher, tls_sni), up to @max
	 * fields.  Return: how many (0: not the app's, or nothing to say)
	 */
	size_t (*flow_info)(void *state, const struct tapir_tcp_flow_info *fi,
			    struct tapir_app_field *out, size_t max);
};

/**
 * tapir_run() - Run the daemon: configuration, TAP, stack, apps, loop
 * @argc, @argv: tapird's command line (--config FILE, boot arguments)
 * @types:       App types besides the built-in ones (echo, discard,
 *               source, http, kvhttp, metrics); may be NULL
 * @ntypes:      Number of @types
 *
 * Return: the exit status: 0 after SIGINT/SIGTERM (or --help), 1 when the
 *         network cannot be set up, 2 for a bad configuration or argument
 */
int tapir_run(int argc, char **argv, const struct tapir_app_type *const *types, size_t ntypes);

#endif /* TAPIR_APP_H */
