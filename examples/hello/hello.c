/*
 * hello.c - a tapir app of one's own: greets every TCP connection
 *
 * The app type "hello" takes the keys port (default 7777), greeting
 * (default "hello from tapir") and kv (a [kv.NAME] store: its value /motd,
 * when there is one, follows the greeting).  A connection gets one line,
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

#include "tapir_app.h"
#include "tapir/tcp.h"

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
	h->ctx = ctx;
	h->started = ctx->mono_ns();
	const char *port = ctx->arg(ctx, "port");
	long p = port ? strtol(port, NULL, 10) : 7777;
	if (p < 1 || p > 65535) {
		log_err(ctx->log, "app %s: port '%s' is not 1 to 65535", ctx->name, port);
		free(h);
		return -EINVAL;
	}
	h->port = (uint16_t)p;
	h->greeting = ctx->arg(ctx, "greeting") ? ctx->arg(ctx, "greeting") : "hello from tapir";
	const char *kv = ctx->arg(ctx, "kv");
	if (kv && !(h->kv = ctx->kv(ctx, kv))) {
		log_err(ctx->log, "app %s: no [kv.%s]", ctx->name, kv);
		free(h);
		return -ENOENT;
	}
	int rc = tapir_tcp_listen(ctx->st, h->port, NULL, accepted, h);
	if (rc < 0) {
		log_err(ctx->log, "app %s: cannot listen on TCP port %u", ctx->name, h->port);
		free(h);
		return rc;
	}
	log_info(ctx->log, "app %s: hello on TCP port %u", ctx->name, h->port);
	*state = h;
	return 0;
}

static const char *const hello_keys[] = { "port", "greeting", "kv", NULL };

static const struct tapir_app_type hello_type = {
	.name = "hello",
	.keys = hello_keys,
	.start = hello_start,
	.stop = hello_stop,
};

int main(int argc, char **argv)
{
	const struct tapir_app_type *types[] = { &hello_type };
	return tapir_run(argc, argv, types, 1);
}
