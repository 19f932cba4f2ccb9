/*
 * services.h - the gateway's services beside the splicing: port forwards and the DNS relay
 *
 * The runtime starts them once the loop runs ([gateway] enabled), from the
 * configuration: the forwards of [gateway] forward (forward.h) and the DNS
 * relay (dns_relay.h) to [gateway] dns or the host's /etc/resolv.conf (read
 * here, before the sandbox).  The control command "forward" and the
 * "gateway_relay" counters of "stats" go through this.
 *
 * Ownership: the config, loop, stack and logger must outlive the services;
 * gw_services_stop() closes every handle (the loop must run once more for
 * their close callbacks) and frees the rest.
 */
#ifndef TAPIR_GATEWAY_SERVICES_H
#define TAPIR_GATEWAY_SERVICES_H

#include <stdint.h>
#include <uv.h>

#include "config.h"
#include "tapir/log.h"
#include "tapir/stack.h"

struct gw_services;
struct splice_pool;

/**
 * gw_services_start() - Start the port forwards and the DNS relay
 * @pool: The gateway's splice pool (gateway_pool()): the forwards' connections
 *        are spliced by it and count against its budgets and max_flows
 * @kick: Called after work done from a libuv callback (flush, re-arm), with @ctx
 *
 * Return: 0 (and *@out), or -1 (logged: a forward could not listen, the
 *         relay could not take port 53, out of memory)
 */
int gw_services_start(struct gw_services **out, uv_loop_t *loop, struct tapir_stack *st,
		      struct splice_pool *pool, const struct tapird_config *c,
		      struct tapir_logger *log, void (*kick)(void *ctx), void *ctx);

/* Stop both (NULL is fine) */
void gw_services_stop(struct gw_services *s);

/* The control command "forward" (control_env's forward; @json_result a json_t * object).
 * Return: 0 or negative errno (message in @err) */
int gw_services_forward(struct gw_services *s, const char *action, uint8_t proto,
			uint16_t host_port, uint16_t ns_port, void *json_result, char *err,
			size_t errlen);

/* "conns": append the forwards' TCP connections (both ends, bytes, state,
 * "forward": true) to @json_arr (a json_t * array of spliced flows) */
void gw_services_flows_json(const struct gw_services *s, void *json_arr);

/* "stats": the forwards' and the relay's counters as layer "gateway_relay"
 * of @json_obj (a json_t * object); nothing when @s is NULL */
void gw_services_stats_json(struct gw_services *s, void *json_obj);

#endif /* TAPIR_GATEWAY_SERVICES_H */
