/*
 * apps.h - the built-in applications tapird runs on its stack
 *
 * Each built-in type is a struct tapir_app_type (tapir/app.h) defined next
 * to its code, the same record an out-of-tree app passes to tapir_run():
 * start/stop here, and a pointer to its configuration side (key table,
 * params struct, ports, check: app_conf.h), which tests and fuzzers link
 * without the stack.  apps.c lists them in app_builtin_types[] (from
 * APP_BUILTINS(), the one list), which the runtime puts in front of the
 * out-of-tree types.  start() gets the app context, its params (filled
 * from the key table) in ctx->params.
 */
#ifndef TAPIR_APPS_H
#define TAPIR_APPS_H

#include <stddef.h>

#include "app_conf.h"
#include "tapir/app.h"

/* echo.c: echo (RFC 862) over UDP and TCP */
extern const struct tapir_app_type app_echo_type;
/* discard.c: discard (RFC 863) over UDP and TCP; source (TCP bulk sender) */
extern const struct tapir_app_type app_discard_type;
extern const struct tapir_app_type app_source_type;
/* http/site.c: the HTTP device: a site from a KV store (GET, HEAD) */
extern const struct tapir_app_type app_http_type;
/* http/kvhttp.c: a read-write KV store over HTTP (GET, PUT, DELETE, POST /_batch) */
extern const struct tapir_app_type app_kvhttp_type;
/* http/metrics.c: the counters and gauges at GET /metrics (Prometheus) */
extern const struct tapir_app_type app_metrics_type;

/* Every built-in type, in APP_BUILTINS() order; @app_builtin_ntypes of them */
extern const struct tapir_app_type *const app_builtin_types[];
extern const size_t app_builtin_ntypes;

#endif /* TAPIR_APPS_H */
