/*
 * gateway.h - tapird as a network namespace's router: every flow the stack's
 * forwarder mode takes is spliced to a host socket ([gateway], tapir/forward.h)
 *
 * The runtime creates the gateway after the stack when [gateway] enabled is
 * true (gateway_start()), and calls gateway_stop() before the loop ends.
 * Every libuv callback of the gateway that touched the stack ends with the
 * hook @after (the runtime flushes the stack and re-arms its timer).
 */
#ifndef TAPIR_GATEWAY_H
#define TAPIR_GATEWAY_H

#include <stdint.h>
#include <uv.h>

#include "config.h"
#include "tapir/log.h"
#include "tapir/stack.h"

struct gateway;

/**
 * gateway_start() - Take the stack's foreign flows and splice them to the host
 * @out:   The gateway
 * @loop:  The daemon's loop (host sockets and the sweep timer live on it)
 * @st:    The stack (its TCP, UDP and echo forwarders are set)
 * @cfg:   [gateway] (copied)
 * @log:   Logger
 * @after: Called after each libuv callback that used the stack
 * @ctx:   Passed to @after
 *
 * Return: 0 or negative errno (logged)
 */
int gateway_start(struct gateway **out, uv_loop_t *loop, struct tapir_stack *st,
		  const struct gateway_config *cfg, struct tapir_logger *log,
		  void (*after)(void *ctx), void *ctx);

/* Close every flow and handle (the loop runs their close callbacks), unset
 * the forwarders; the memory goes once the loop has run them
 * (gateway_free()).  NULL: nothing. */
void gateway_stop(struct gateway *gw);
/* Free after gateway_stop() and a loop run.  NULL: nothing. */
void gateway_free(struct gateway *gw);

/* The splice pool (splice.h) the port forwards share with the gateway: its
 * budgets, its count of flows against max_flows.  NULL: NULL. */
struct splice_pool *gateway_pool(struct gateway *gw);

/* Add the counters as the "gateway" layer of a stats object (a json_t *) */
void gateway_stats_json(const struct gateway *gw, void *json_obj);
/* A JSON array (json_t *) of the spliced flows: both ends, bytes, state */
void *gateway_flows_json(const struct gateway *gw);

#endif /* TAPIR_GATEWAY_H */
