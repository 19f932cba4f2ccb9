/*
 * app_ctx.c - the devices of an app's context (struct tapir_app_ctx,
 *             tapir/app.h): the instance's stores, the app's arguments,
 *             clocks, randomness, timers on the runtime's loop, metrics and
 *             the instance's resolver
 */
#include <string.h>
#include <stdlib.h>
#include <time.h>
#include <uv.h>

#include "config.h"
#include "runtime.h"
#include "tapir/app.h"
#include "tapir/dns.h"
#include "tapir/stack.h"
#include "tapird_ctl.h"

static void app_random(void *buf, size_t len)
{
	runtime_random(NULL, buf, len);
}

static uint64_t app_mono_ns(void)
{
	return uv_hrtime();
}

static struct timespec app_wall(void)
{
	struct timespec t;
	clock_gettime(CLOCK_REALTIME, &t);
	return t;
}

static struct tapir_kv_store *app_kv(struct tapir_app_ctx *ctx, const char *name)
{
	struct daemon *d = ctx->runtime;
	for (size_t i = 0; i < d->nkvs; i++)
		if (!strcmp(d->kvs[i].cfg->name, name))
			return d->kvs[i].store;
	return NULL;
}

static bool app_kv_writable(struct tapir_app_ctx *ctx, const char *name)
{
	struct daemon *d = ctx->runtime;
	for (size_t i = 0; i < d->nkvs; i++)
		if (!strcmp(d->kvs[i].cfg->name, name))
			return d->kvs[i].cfg->writable;
	return false;
}

static const char *app_arg(const struct tapir_app_ctx *ctx, const char *key)
{
	const struct app_config *a = ctx->cfg;
	const char *v = NULL;
	for (size_t i = 0; i < a->nkeys; i++)
		if (!strcmp(a->keys[i].key, key))
			v = a->keys[i].value;
	return v;
}

static int app_resolve(struct tapir_app_ctx *ctx, const char *name, enum tapir_family family,
		       tapir_dns_cb cb, void *arg, struct tapir_dns_query **q)
{
	struct daemon *d = ctx->runtime;

	return tapir_dns_resolve_owner(d->dns, ctx, name, family, cb, arg, q);
}

struct tapir_timer {
	uv_timer_t h;
	struct daemon *d;
	tapir_timer_fn fn;
	void *arg;
};

static void app_timer_cb(uv_timer_t *h)
{
	struct tapir_timer *t = h->data;
	struct daemon *d = t->d;  /* @t may be freed by the callback */
	d->now = uv_hrtime();
	t->fn(t->arg);
	if (!d->stopping) {
		tapir_stack_flush(d->st);
		runtime_rearm(d);
	}
}

/* ctx->metrics: the control's metrics text (tapird_ctl.c) */
static char *app_metrics(struct tapir_app_ctx *ctx, bool openmetrics, size_t *len,
			 const char **ctype)
{
	struct daemon *d = ctx->runtime;
	return tapird_ctl_metrics(d->ctl, uv_hrtime(), openmetrics, len, ctype);
}

static struct tapir_timer *app_timer_new(struct tapir_app_ctx *ctx, tapir_timer_fn fn, void *arg)
{
	struct daemon *d = ctx->runtime;
	struct tapir_timer *t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	uv_timer_init(&d->loop, &t->h);  /* cannot fail on an initialised loop */
	t->h.data = t;
	t->d = d;
	t->fn = fn;
	t->arg = arg;
	return t;
}

static void app_timer_arm(struct tapir_timer *t, uint64_t after_ns)
{
	uv_update_time(&t->d->loop);
	uv_timer_start(&t->h, app_timer_cb, (after_ns + 999999) / 1000000, 0);
}

static void app_timer_stop(struct tapir_timer *t)
{
	uv_timer_stop(&t->h);
}

static void timer_closed(uv_handle_t *h)
{
	free(h->data);
}

static void app_timer_free(struct tapir_timer *t)
{
	if (!t)
		return;
	uv_timer_stop(&t->h);
	uv_close((uv_handle_t *)&t->h, timer_closed);
}

/* Give @ctx the runtime's devices (tapir/app.h): stores, arguments, clocks,
 * randomness, timers, metrics, the resolver */
void app_ctx_devices(struct tapir_app_ctx *ctx)
{
	ctx->kv = app_kv;
	ctx->kv_writable = app_kv_writable;
	ctx->arg = app_arg;
	ctx->mono_ns = app_mono_ns;
	ctx->wall = app_wall;
	ctx->random = app_random;
	ctx->timer_new = app_timer_new;
	ctx->timer_arm = app_timer_arm;
	ctx->timer_stop = app_timer_stop;
	ctx->timer_free = app_timer_free;
	ctx->metrics = app_metrics;
	ctx->resolve = app_resolve;
}
