/*
 * hello.c - a tapir app of one's own: greets every TCP connection
 *
 * The app type "hello" takes the keys port (default 7777), greeting
 * (default "hello from tapir") and kv (a [kv.NAME] store: its value /motd,
 * when there is one, follows the greeting).  They are a key table
 * (struct tapir_conf_key, tapir/conf.h) over struct hello_params, as the built-in apps'
 * are: tapird checks them (an unknown key or a bad port is a configuration
 * error, exit 2) and start() finds them filled in ctx->params.  A connection gets one line,
 * "GREETING (up N ms, token XXXXXXXX)", the motd, and is closed; the reply
 * is delayed by a 10 ms timer, to show the timer device.
 *
 *   [app.hi]
 *   type = hello
 *   port = 7777
 *   greeting = hello, world
 *
 * main() is tapird with one more app type: tapir_run() parses --config and
 * boot arguments, brings up the TAP and the stack, and runs the loop.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tapir/app.h"
#include "tapir/tcp.h"

/* What the configuration fills (hello_keys below) */
struct hello_params {
	uint16_t port;
	char greeting[128];
	char kv[33];
};

struct hello {
	struct tapir_app_ctx *ctx;
	uint16_t port;
	const char *greeting;
	struct tapir_kv_store *kv;
	uint64_t started;
	struct pending *pending;    /* connections waiting for their timer */
};

struct pending {
	struct hello *h;
	struct tapir_tcp_flow *flow;
	struct tapir_timer *timer;
	struct pending *next;
};

static void unlink_pending(struct pending *p)
{
	for (struct pending **pp = &p->h->pending; *pp; pp = &(*pp)->next)
		if (*pp == p) {
			*pp = p->next;
			break;
		}
}

static void greet(void *arg)
{
	struct pending *p = arg;
	struct hello *h = p->h;
	struct tapir_app_ctx *ctx = h->ctx;
	uint32_t token;
	char line[512];

	ctx->random(&token, sizeof(token));
	int n = snprintf(line, sizeof(line), "%s (up %llu ms, token %08x)\n", h->greeting,
			 (unsigned long long)((ctx->mono_ns() - h->started) / 1000000), token);
	tapir_tcp_write(p->flow, line, (size_t)n);
	if (h->kv) {
		struct tapir_kv_key k = { 0 };
		uint8_t *v;
		size_t len;
		if (!tapir_kv_key_parse("/motd", &k) && !tapir_kv_get(h->kv, &k, &v, &len)) {
			tapir_tcp_write(p->flow, v, len);  /* small: fits the send buffer */
			free(v);
		}
		tapir_kv_key_free(&k);
	}
	tapir_tcp_close(p->flow);  /* FIN after what is queued */
	unlink_pending(p);
	ctx->timer_free(p->timer);
	free(p);
}

static void closed(void *arg, struct tapir_tcp_flow *f, int err)
{
	(void)arg;
	(void)f;
	(void)err;
}

static const struct tapir_tcp_callbacks hello_callbacks = { .closed = closed };

static void accepted(void *arg, struct tapir_tcp_flow *f)
{
	struct hello *h = arg;
	struct pending *p = calloc(1, sizeof(*p));
	if (!p || !(p->timer = h->ctx->timer_new(h->ctx, greet, p))) {
		free(p);
		tapir_tcp_abort(f);
		return;
	}
	p->h = h;
	p->flow = f;
	p->next = h->pending;
	h->pending = p;
	tapir_tcp_flow_set_callbacks(f, &hello_callbacks, p);
	h->ctx->timer_arm(p->timer, 10 * 1000000ull);
}

static void hello_stop(void *state)
{
	struct hello *h = state;
	tapir_tcp_unlisten(h->ctx->st, h->port);
	while (h->pending) {
		struct pending *p = h->pending;
		h->pending = p->next;
		tapir_tcp_close(p->flow);
		h->ctx->timer_free(p->timer);
		free(p);
	}
	free(h);
}

static int hello_start(struct tapir_app_ctx *ctx, void **state)
{
	struct hello *h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	const struct hello_params *p = ctx->params;  /* checked by hello_keys */
	h->ctx = ctx;
	h->started = ctx->mono_ns();
	h->port = p->port;
	h->greeting = p->greeting;
	if (p->kv[0] && !(h->kv = ctx->kv(ctx, p->kv))) {
		tapir_log_err(ctx->log, "app %s: no [kv.%s]", ctx->name, p->kv);
		free(h);
		return -ENOENT;
	}
	int rc = tapir_tcp_listen(ctx->st, h->port, NULL, accepted, h);
	if (rc < 0) {
		tapir_log_err(ctx->log, "app %s: cannot listen on TCP port %u", ctx->name, h->port);
		free(h);
		return rc;
	}
	tapir_log_info(ctx->log, "app %s: hello on TCP port %u", ctx->name, h->port);
	*state = h;
	return 0;
}

/* The keys of [app.NAME] type = hello: what they accept, their defaults,
 * where they go (tapir/conf.h) */
static const struct tapir_conf_key hello_keys[] = {
	{ "port", TAPIR_CONF_UINT, TAPIR_CONF_AT(struct hello_params, port), .min = 1, .max = 65535,
	  .def = "7777", .help = "TCP port" },
	{ "greeting", TAPIR_CONF_STRING, TAPIR_CONF_AT(struct hello_params, greeting), .min = 1, .max = 127,
	  .def = "hello from tapir", .help = "the first line of the answer" },
	{ "kv", TAPIR_CONF_STRING, TAPIR_CONF_AT(struct hello_params, kv), .min = 1, .max = 32,
	  .help = "a [kv.NAME] store whose /motd follows the greeting" },
};

/* Across sections: kv = NAME names a [kv.NAME] section (exit 2 otherwise) */
static int hello_check(const struct tapir_app_check *k, char *err, size_t errlen)
{
	const struct hello_params *p = k->params;
	if (p->kv[0] && !k->kv_section(k, p->kv, NULL)) {
		snprintf(err, errlen, "%s: [app.%s] kv: no section [kv.%s]",
			 k->key_where(k, "kv"), k->name, p->kv);
		return -EINVAL;
	}
	return 0;
}

/* The configuration side: name, keys, params, the port (checked against the
 * other apps'), the check */
static const struct tapir_app_conf_type hello_conf = {
	.name = "hello",
	.keys = hello_keys,
	.nkeys = sizeof(hello_keys) / sizeof(hello_keys[0]),
	.params_size = sizeof(struct hello_params),
	.tcp_port = TAPIR_APP_CONF_PORT(struct hello_params, port),
	.check = hello_check,
};

static const struct tapir_app_type hello_type = {
	.conf = &hello_conf,
	.start = hello_start,
	.stop = hello_stop,
};

int main(int argc, char **argv)
{
	const struct tapir_app_type *types[] = { &hello_type };
	return tapir_run(argc, argv, types, 1);
}
