/*
 * runtime.h - the runtime's state (struct daemon), shared by runtime.c (the
 *             loop, start-up and stop), app_ctx.c (the apps' devices) and
 *             stores.c (the key-value stores); internal to daemon/
 */
#ifndef TAPIR_DAEMON_RUNTIME_H
#define TAPIR_DAEMON_RUNTIME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include <uv.h>

#include "config.h"
#include "impair.h"
#include "tap.h"
#include "tapir/app.h"
#include "tapir/log.h"
#include "tapir/netif.h"

struct running_app {
	const struct tapir_app_type *type;
	struct tapir_app_ctx ctx;
	void *state;
};

struct open_kv {
	const struct kv_config *cfg;
	struct tapir_kv_store *store;
};

struct daemon {
	uv_loop_t loop;
	uv_poll_t poll;                  /* the TAP, when not waiting in @uring */
	struct uring_loop *uring;        /* uring.h: the wait, when the kernel allows it */
	uv_timer_t timer;
	uv_signal_t sigint, sigterm, sighup;
	bool handles_open;
	struct tapird_config cfg;
	struct tapir_logger log;
	struct tap *tap;
	struct impair *im;
	struct tapir_netif_rx rx;      /* bottom of the netif chain: received frames go here */
	struct tapir_stack *st;
	struct tapir_dns *dns;         /* the instance's resolver (tapir/dns.h) */
	struct running_app *apps;
	size_t napps;
	struct open_kv *kvs;
	size_t nkvs;
	/* Every app type: the built-in ones (apps.h), then tapir_run()'s
	 * caller's; and their configuration sides, in the same order, for
	 * config_finish() (an app's type_index is into both) */
	const struct tapir_app_type **types;
	const struct tapir_app_conf_type **confs;
	size_t ntypes;
	uint64_t now;
	int exit_code;
	bool stopping;
	struct tapird_ctl *ctl;  /* control socket + capture (tapird_ctl.h) */
	struct gw_services *svc; /* [gateway]: port forwards, DNS relay (gateway/services.h) */
	struct gateway *gw;      /* [gateway] enabled (gateway/gateway.h) */
	struct tapird_dhcp *dh;  /* [ipv4] address = dhcp: lease file and hooks (dhcp.h) */
	uint32_t addr;           /* the address the apps were last told of */
	uint8_t rnd[256];        /* runtime_random(): RAND_bytes() output not handed out yet */
	size_t rnd_left;         /* at the end of @rnd */
};

/* The stack's and the apps' randomness: RAND_bytes() through a pool (@ctx: the
 * daemon, or NULL to bypass the pool) */
void runtime_random(void *ctx, void *buf, size_t len);
/* Re-arm the loop's one timer from every deadline */
void runtime_rearm(struct daemon *d);
/* app_ctx.c: give @ctx the runtime's devices */
void app_ctx_devices(struct tapir_app_ctx *ctx);
/* stores.c: open the [kv.NAME] stores.  Return: 0, or -1 (logged) */
int stores_open(struct daemon *d);
/* stores.c: re-open the read-only stores; apps re-read.  Return: 0, or a
 * negative errno with @err set */
int stores_reload(struct daemon *d, json_t *res, char *err, size_t errlen);

#endif
