/*
 * http_conf.c - the configuration side of the http and kvhttp apps: key tables, the kv= check
 *
 * (The tables moved from conf/config_keys.c, the check from config.c's
 * config_finish().)
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "app_conf.h"

#define N(t) (sizeof(t) / sizeof((t)[0]))
#define SEC 1000000000ull
#define PORT_WHAT "a port (1 to 65535)"

static int index_check(const void *field, const char *value, char *msg, size_t msglen)
{
	return strchr(value, '/') || !strcmp(value, ".") || !strcmp(value, "..") ? -EINVAL : 0;
}

static int token_check(const void *field, const char *value, char *msg, size_t msglen)
{
	for (const char *p = value; *p; p++)
		if (*p <= ' ' || *p > '~') {
			snprintf(msg, msglen, "must be printable ASCII without spaces");
			return -EINVAL;
		}
	return 0;
}

#define HC struct app_http_config
/* The keys http and kvhttp share; @dport is the default port */
#define HTTP_COMMON_KEYS(dport)                                                              \
	{ "port", CONF_UINT, CONF_AT(HC, port), .min = 1, .max = 65535, .def = dport,         \
	  .what = PORT_WHAT, .help = "TCP port" },                                            \
	{ "kv", CONF_STRING, CONF_AT(HC, kv), .min = 1, .max = CONFIG_APP_NAME_MAX,            \
	  .what = "the NAME of a [kv.NAME] section", .help = "the store (required)" },        \
	{ "idle_timeout", CONF_DURATION, CONF_AT(HC, idle_timeout_ns), .min = SEC / 10,       \
	  .max = 3600 * SEC, .def = "30s", .what = "a duration from 100ms to 1h",              \
	  .help = "a connection without a request is closed" },                               \
	{ "max_header_bytes", CONF_SIZE, CONF_AT(HC, max_header_bytes), .min = 256,            \
	  .max = 65536, .def = "8192", .what = "a size from 256 to 65536 bytes",               \
	  .help = "request line and headers" },                                               \
	{ "max_headers", CONF_UINT, CONF_AT(HC, max_headers), .min = 1, .max = 1000,           \
	  .def = "64", .what = "a number from 1 to 1000", .help = "header fields" },           \
	{ "max_connections", CONF_UINT, CONF_AT(HC, max_connections), .min = 1,                \
	  .max = 1u << 20, .def = "1024", .what = "a number from 1 to 1048576",                \
	  .help = "this app's connections" },                                                 \
	{ "access_log", CONF_BOOL, CONF_AT(HC, access_log), .def = "true",                     \
	  .help = "a line per request (info)" }

static const struct conf_key http_keys[] = {
	HTTP_COMMON_KEYS("80"),
	{ "index", CONF_STRING, CONF_AT(HC, index), .min = 1, .max = HTTP_CONF_INDEX_MAX,
	  .def = "index.html", .check = index_check,
	  .what = "a file name (at most 63 bytes, no '/')", .help = "the directory index" },
};
static const struct conf_key kvhttp_keys[] = {
	HTTP_COMMON_KEYS("8080"),
	{ "token", CONF_STRING, CONF_AT(HC, token), .max = HTTP_CONF_TOKEN_MAX,
	  .check = token_check, .help = "bearer token every request needs (default: none)" },
	{ "max_body", CONF_SIZE, CONF_AT(HC, max_body), .max = 64u << 20, .def = "1MiB",
	  .what = "a size up to 64MiB", .help = "request body" },
};

/* kv = NAME is required and names a [kv.NAME] section; kvhttp's is writable. */
static int http_check(const struct tapird_config *c, const struct app_config *a, char *err,
		      size_t errlen)
{
	const struct app_http_config *h = a->params;
	const char *kv_where = config_app_where(a, "kv");
	if (!h->kv[0]) {
		snprintf(err, errlen, "%s: [app.%s]: kv = NAME (a [kv.NAME] section) is required",
			 a->where.text, a->name);
		return -EINVAL;
	}
	const struct kv_config *kv = config_kv_find(c, h->kv);
	if (!kv) {
		snprintf(err, errlen, "%s: [app.%s] kv: no section [kv.%s]", kv_where, a->name,
			 h->kv);
		return -EINVAL;
	}
	if (a->ctype == &app_kvhttp_conf && !kv->writable) {
		snprintf(err, errlen, "%s: [app.%s] kv: [kv.%s] is read-only (kvhttp needs "
			 "writable = true)", kv_where, a->name, kv->name);
		return -EINVAL;
	}
	return 0;
}

const struct app_conf_type app_http_conf = {
	.name = "http",
	.keys = http_keys,
	.nkeys = N(http_keys),
	.params_size = sizeof(struct app_http_config),
	.tcp_port = APP_CONF_PORT(struct app_http_config, port),
	.check = http_check,
};

const struct app_conf_type app_kvhttp_conf = {
	.name = "kvhttp",
	.keys = kvhttp_keys,
	.nkeys = N(kvhttp_keys),
	.params_size = sizeof(struct app_http_config),
	.tcp_port = APP_CONF_PORT(struct app_http_config, port),
	.check = http_check,
};
