/*
 * tapird_ctl.c - what the runtime needs to be operated: control socket + capture
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "capture.h"
#include "commands.h"
#include "control.h"
#include "server.h"
#include "tapir_version.h"
#include "service.h"
#include "tapird_ctl.h"

#define CTL_MAX_KV 64

struct tapird_ctl {
	const struct tapird_config *cfg;
	struct capture *cap;
	struct control *ctl;
	struct control_server *srv;
	struct tapird_ctl_hooks hooks;
	struct tapir_stack *st;
	struct control_kv kv[CTL_MAX_KV];
	size_t nkv;
	char name[64];
	bool shutdown_asked;
	bool stopped;
};

int tapird_ctl_new(struct tapird_ctl **out, const struct tapird_config *cfg)
{
	*out = NULL;
	struct tapird_ctl *t = calloc(1, sizeof(*t));
	if (!t || !(t->cap = capture_new())) {
		free(t);
		return -ENOMEM;
	}
	t->cfg = cfg;
	*out = t;
	return 0;
}

struct tapir_netif_filter *tapird_ctl_filter(struct tapird_ctl *t)
{
	return t ? capture_filter(t->cap) : NULL;
}

void tapird_ctl_add_kv(struct tapird_ctl *t, const char *name, struct tapir_kv_store *store)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->nkv; i++)
		if (!strcmp(t->kv[i].name, name)) {
			t->kv[i].store = store;
			return;
		}
	if (t->nkv == CTL_MAX_KV)
		return;
	t->kv[t->nkv].name = name;
	t->kv[t->nkv].store = store;
	t->nkv++;
}

static void on_shutdown(void *ctx)
{
	struct tapird_ctl *t = ctx;
	t->shutdown_asked = true;
}

static int on_reload(void *ctx, void *json_result, char *err, size_t errlen)
{
	struct tapird_ctl *t = ctx;
	return t->hooks.reload(t->hooks.ctx, json_result, err, errlen);
}

static void on_dev_stats(void *ctx, void *json_obj)
{
	struct tapird_ctl *t = ctx;
	t->hooks.dev_stats(t->hooks.ctx, json_obj);
}

static int on_forward(void *ctx, const char *action, uint8_t proto, uint16_t host_port,
		      uint16_t ns_port, void *json_result, char *err, size_t errlen)
{
	struct tapird_ctl *t = ctx;
	return t->hooks.forward(t->hooks.ctx, action, proto, host_port, ns_port, json_result, err,
				errlen);
}

static void *on_spliced(void *ctx)
{
	struct tapird_ctl *t = ctx;
	return t->hooks.spliced(t->hooks.ctx);
}

static void on_flow_extra(void *ctx, const struct tapir_tcp_flow_info *fi, void *json_obj)
{
	struct tapird_ctl *t = ctx;
	t->hooks.flow_extra(t->hooks.ctx, fi, json_obj);
}

/* After each request: push out what it sent, then stop or re-arm */
static void after_request(void *ctx)
{
	struct tapird_ctl *t = ctx;
	tapir_stack_flush(t->st);
	if (t->shutdown_asked && !t->stopped)
		t->hooks.shutdown(t->hooks.ctx);
	else
		t->hooks.rearm(t->hooks.ctx);
}

static void deliver(void *ctx, uint64_t client, char *reply, size_t len)
{
	struct tapird_ctl *t = ctx;
	if (t->srv)
		control_server_deliver(t->srv, client, reply, len);
	else
		free(reply);
}

/* Drop privileges ([control] user, sandbox) and tell systemd we are ready */
static int enter_sandbox(struct tapird_ctl *t, struct tapir_logger *log, const char *sock,
			 const char *ready)
{
	int rc = service_confine(t->cfg, log, sock);
	if (rc)
		return rc;
	service_notify(ready);
	return 0;
}

int tapird_ctl_start(struct tapird_ctl *t, uv_loop_t *loop, struct tapir_stack *st,
		     struct tapir_logger *log, const char *ifname, const struct tapird_ctl_hooks *h)
{
	char state[128];
	if (!t)
		return 0;
	const struct tapird_config *c = t->cfg;
	t->st = st;
	t->hooks = *h;
	/* The dispatcher exists without a socket too: the metrics app reads it. */
	snprintf(t->name, sizeof(t->name), "%s", c->control_name[0] ? c->control_name : ifname);
	struct control_env env = {
		.st = st,
		.log = log,
		.name = t->name,
		.version = TAPIR_VERSION,
		.backend = c->backend,
		.ifname = ifname,
		.mtu = c->mtu,
		.prefix_len = c->prefix_len,
		.gateway = c->gateway,
		.started = uv_hrtime(),
		.pid = (long)getpid(),
		.cap = t->cap,
		.kv = t->kv,
		.nkv = t->nkv,
		.dns = h->dns,
		.ctx = t,
		.deliver = deliver,
		.shutdown = on_shutdown,
		.reload = h->reload ? on_reload : NULL,
		.dev_stats = h->dev_stats ? on_dev_stats : NULL,
		.gateway_on = c->gw.enabled,
		.forward = h->forward ? on_forward : NULL,
		.spliced = h->spliced ? on_spliced : NULL,
		.flow_extra = h->flow_extra ? on_flow_extra : NULL,
	};
	t->ctl = control_new(&env);
	if (!t->ctl)
		return -ENOMEM;
	if (c->control_disabled) {
		snprintf(state, sizeof(state), "READY=1\nSTATUS=%s up\nMAINPID=%ld", ifname,
			 (long)getpid());
		return enter_sandbox(t, log, NULL, state);
	}
	char path[4096];
	int rc = 0;
	if (c->control_socket[0])
		snprintf(path, sizeof(path), "%s", c->control_socket);
	else
		rc = control_socket_path(t->name, path, sizeof(path));
	if (rc) {
		tapir_log_err(log, "control: no socket path for instance '%s' (set [control] name or "
			     "socket)", t->name);
		return rc;
	}
	rc = control_server_start(&t->srv, loop, path, t->ctl, log, after_request, t);
	if (rc && c->control_socket[0]) {  /* a socket that was asked for is a must */
		t->srv = NULL;
		return rc;
	}
	if (rc) {  /* the default place: run on without a control socket */
		t->srv = NULL;
		tapir_log_warn(log, "control: no control socket (set [control] name or socket)");
		snprintf(state, sizeof(state), "READY=1\nSTATUS=%s up\nMAINPID=%ld", ifname,
			 (long)getpid());
		return enter_sandbox(t, log, NULL, state);
	}
	tapir_log_info(log, "control: listening on %s", path);
	snprintf(state, sizeof(state), "READY=1\nSTATUS=%s up, control %.64s\nMAINPID=%ld",
		 ifname, t->name, (long)getpid());
	return enter_sandbox(t, log, path, state);
}

void tapird_ctl_rx(struct tapird_ctl *t, const uint8_t *frame, size_t len, uint64_t now)
{
	if (!t)
		return;
	if (t->ctl)
		control_rx_frame(t->ctl, frame, len, now);
}

void tapird_ctl_poll(struct tapird_ctl *t, uint64_t now)
{
	if (t && t->ctl)
		control_poll(t->ctl, now);
}

uint64_t tapird_ctl_deadline(const struct tapird_ctl *t, uint64_t deadline)
{
	if (!t || !t->ctl)
		return deadline;
	uint64_t d = control_next_deadline(t->ctl);
	return d < deadline ? d : deadline;
}

char *tapird_ctl_metrics(struct tapird_ctl *t, uint64_t now, bool openmetrics, size_t *len,
			 const char **ctype)
{
	if (!t || !t->ctl)
		return NULL;
	*ctype = control_metrics_content_type(openmetrics);
	return control_metrics_text(t->ctl, now, openmetrics, len);
}

void tapird_ctl_stop(struct tapird_ctl *t)
{
	if (!t || t->stopped)
		return;
	t->stopped = true;
	if (t->ctl)
		control_resolve_free(t->ctl);  /* while the resolver still exists */
	service_notify("STOPPING=1");
	control_server_stop(t->srv);
	t->srv = NULL;
	capture_stop(t->cap);
}

void tapird_ctl_free(struct tapird_ctl *t)
{
	if (!t)
		return;
	tapird_ctl_stop(t);
	control_free(t->ctl);
	capture_free(t->cap);
	free(t);
}
