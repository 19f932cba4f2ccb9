/*
 * app_conf.h - the built-in app types' configuration side: params, key tables, checks
 *
 * Each built-in type has a struct tapir_app_conf_type (config.h): the keys of its
 * [app.NAME] sections (a tapir_conf_key table, tapir/conf.h) over its params struct,
 * the ports it listens on and, for http and kvhttp, a check across
 * sections.  They live here and in http/http_conf.c, beside the apps but
 * without the stack, so that tests/daemon/test_config and fuzz/config link
 * them alone (the static library apps_conf).  Each app's
 * struct tapir_app_type (apps.h) points at its record: config and runtime
 * use the same one, as out-of-tree types do.
 *
 * APP_BUILTINS() is the one list of the built-in types, in the order
 * messages name them ("known: echo, discard, source, http, kvhttp, metrics");
 * app_builtin_confs[] (here) and app_builtin_types[] (apps.c) are made
 * from it.
 */
#ifndef TAPIR_APP_CONF_H
#define TAPIR_APP_CONF_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "http_conf.h"

#define APP_BUILTINS(X) X(echo) X(discard) X(source) X(http) X(kvhttp) X(metrics)

/* echo (RFC 862, TCP and UDP, port 7), discard (RFC 863, TCP and UDP,
 * port 9), source (TCP, port 19: sends bytes until the peer closes) */
struct app_port_config {
	uint16_t port;
};

/* app_echo_conf, app_discard_conf ... (http and kvhttp: http/http_conf.c) */
#define APP_CONF_DECLARE(name) extern const struct tapir_app_conf_type app_##name##_conf;
APP_BUILTINS(APP_CONF_DECLARE)
#undef APP_CONF_DECLARE

/* Every built-in type's configuration side, in APP_BUILTINS() order: what
 * tests and fuzzers hand to config_finish() (the runtime hands the same
 * records, through app_builtin_types[], and the out-of-tree ones after). */
extern const struct tapir_app_conf_type *const app_builtin_confs[];
extern const size_t app_builtin_nconfs;

#endif /* TAPIR_APP_CONF_H */
