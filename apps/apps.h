/*
 * apps.h - the built-in applications tapird runs on its stack
 *
 * The runtime side of each built-in type is a struct tapir_app_type
 * (tapir_app.h): start() gets the app context, the resolved configuration in
 * ctx->cfg->params.  The config side (keys, checks) is the table in
 * config.c; a new built-in type needs an entry in both tables.
 */
#ifndef TAPIR_APPS_H
#define TAPIR_APPS_H

#include "tapir_app.h"

/* Return: the built-in type called @name, or NULL */
const struct tapir_app_type *app_type_find(const char *name);

/* echo.c: echo (RFC 862) over UDP and TCP */
int echo_start(struct tapir_app_ctx *ctx, void **state);
void echo_stop(void *state);

/* discard.c: discard (RFC 863) over UDP and TCP; source (TCP bulk sender) */
int discard_start(struct tapir_app_ctx *ctx, void **state);
void discard_stop(void *state);
int source_start(struct tapir_app_ctx *ctx, void **state);
void source_stop(void *state);

/* http/: the HTTP device: a site from a KV store (GET, HEAD) */
int http_start(struct tapir_app_ctx *ctx, void **state);
void http_stop(void *state);
void http_reloaded(void *state);
/* http/: a read-write KV store over HTTP (GET, PUT, DELETE, POST /_batch) */
int kvhttp_start(struct tapir_app_ctx *ctx, void **state);

#endif /* TAPIR_APPS_H */
