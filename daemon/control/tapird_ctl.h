/*
 * tapird_ctl.h - what the runtime needs to be operated: control socket + capture
 *
 * The runtime (runtime.c) calls these at a few points of its loop; every
 * function accepts a NULL @t (the control socket switched off or not yet
 * created) and then does nothing.
 *
 *   start_network:  tapird_ctl_new(), tapird_ctl_filter() (the capture) into
 *                   the device's netif chain, next to the device
 *   each RX frame:  tapird_ctl_rx()      (traceroute), at the end of the chain
 *   timer:          tapird_ctl_poll(); the deadline is tapird_ctl_deadline()
 *   loop started:   tapird_ctl_start()   (listens on the socket)
 *   stop():         tapird_ctl_stop();   cleanup: tapird_ctl_free()
 */
#ifndef TAPIR_TAPIRD_CTL_H
#define TAPIR_TAPIRD_CTL_H

#include <stdint.h>
#include <uv.h>

#include "config.h"
#include "tapir/log.h"
#include "tapir/netif.h"
#include "tapir/stack.h"

struct tapird_ctl;
struct tapir_kv_store;
struct tapir_tcp_flow_info;

struct tapird_ctl_hooks {
	void *ctx;
	void (*shutdown)(void *ctx);  /* stop the daemon (after the reply is sent) */
	void (*rearm)(void *ctx);     /* after a request: re-arm the timer */
	/* re-open the stores (control_env's reload); NULL: not available */
	int (*reload)(void *ctx, void *json_result, char *err, size_t errlen);
	/* device counters for "stats" (control_env's dev_stats); may be NULL */
	void (*dev_stats)(void *ctx, void *json_obj);
	/* the gateway's port forwards (control_env's forward); NULL: no gateway */
	int (*forward)(void *ctx, const char *action, uint8_t proto, uint16_t host_port,
		       uint16_t ns_port, void *json_result, char *err, size_t errlen);
	/* the gateway's spliced flows for "conns" (a new json_t * array); may be NULL */
	void *(*spliced)(void *ctx);
	struct tapir_dns *dns;        /* the resolver for "resolve"; may be NULL */
	/* the apps' fields of a connection for "conns" (control_env's flow_extra); may be NULL */
	void (*flow_extra)(void *ctx, const struct tapir_tcp_flow_info *fi, void *json_obj);
};

/* Return: 0 (and *out, NULL when [control] enabled = false) or -ENOMEM */
int tapird_ctl_new(struct tapird_ctl **out, const struct tapird_config *cfg);
/* Return: the capture as a netif filter (owned by @t), or NULL if @t is NULL */
struct tapir_netif_filter *tapird_ctl_filter(struct tapird_ctl *t);
/* Register store @name for the kv commands (again after a reload: replaced) */
void tapird_ctl_add_kv(struct tapird_ctl *t, const char *name, struct tapir_kv_store *store);
/* Return: 0 or negative errno (logged) */
int tapird_ctl_start(struct tapird_ctl *t, uv_loop_t *loop, struct tapir_stack *st,
		     struct tapir_logger *log, const char *ifname, const struct tapird_ctl_hooks *h);
void tapird_ctl_rx(struct tapird_ctl *t, const uint8_t *frame, size_t len, uint64_t now);
void tapird_ctl_poll(struct tapird_ctl *t, uint64_t now);
/* Return: the earlier of @deadline and the control's next deadline */
uint64_t tapird_ctl_deadline(const struct tapird_ctl *t, uint64_t deadline);
/* The control command "metrics"'s text (control_metrics_text(); *@ctype its
 * Content-Type).  Return: malloc'd text, or NULL (out of memory, not started) */
char *tapird_ctl_metrics(struct tapird_ctl *t, uint64_t now, bool openmetrics, size_t *len,
			 const char **ctype);
void tapird_ctl_stop(struct tapird_ctl *t);
void tapird_ctl_free(struct tapird_ctl *t);

#endif /* TAPIR_TAPIRD_CTL_H */
