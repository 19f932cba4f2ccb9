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

/* Mozilla's "intermediate" TLS 1.2 list: ECDHE key exchange, AEAD ciphers */
#define TLS_DEFAULT_CIPHERS                                                                \
	"ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"                      \
	"ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"                      \
	"ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305"
#define TLS_DEFAULT_SUITES                                                                 \
	"TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256"

static const struct tapir_conf_enum tls_versions[] = { { "1.2", 12 }, { "1.3", 13 }, { NULL, 0 } };

/* A cipher list: names of letters, digits, '-', '_', '+', '!', '@', '=', ':' or ','
 * (OpenSSL checks the names when the app starts) */
static int ciphers_check(const void *field, const char *value, char *msg, size_t msglen)
{
	for (const char *p = value; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || strchr("-_+!@=:,.", *p))) {
			snprintf(msg, msglen, "not a cipher list");
			return -EINVAL;
		}
	return 0;
}

#define HC struct app_http_config
/* The keys http and kvhttp share; @dport is the default port */
#define HTTP_COMMON_KEYS(dport)                                                              \
	{ "kv", TAPIR_CONF_STRING, TAPIR_CONF_AT(HC, kv), .min = 1, .max = CONFIG_APP_NAME_MAX,            \
	  .what = "the NAME of a [kv.NAME] section", .help = "the store (required)" },        \
	HTTP_CONN_KEYS(dport, "true"),                                                        \
	HTTP_TLS_KEYS
/* The keys of every type on the HTTP engine (metrics too); @dport is the
 * default port, @alog access_log's default */
#define HTTP_CONN_KEYS(dport, alog)                                                          \
	{ "port", TAPIR_CONF_UINT, TAPIR_CONF_AT(HC, port), .min = 1, .max = 65535, .def = dport,         \
	  .what = PORT_WHAT, .help = "TCP port" },                                            \
	{ "idle_timeout", TAPIR_CONF_DURATION, TAPIR_CONF_AT(HC, idle_timeout_ns), .min = SEC / 10,       \
	  .max = 3600 * SEC, .def = "30s", .what = "a duration from 100ms to 1h",              \
	  .help = "a connection without a request is closed" },                               \
	{ "max_header_bytes", TAPIR_CONF_SIZE, TAPIR_CONF_AT(HC, max_header_bytes), .min = 256,            \
	  .max = 65536, .def = "8192", .what = "a size from 256 to 65536 bytes",               \
	  .help = "request line and headers" },                                               \
	{ "max_headers", TAPIR_CONF_UINT, TAPIR_CONF_AT(HC, max_headers), .min = 1, .max = 1000,           \
	  .def = "64", .what = "a number from 1 to 1000", .help = "header fields" },           \
	{ "max_connections", TAPIR_CONF_UINT, TAPIR_CONF_AT(HC, max_connections), .min = 1,                \
	  .max = 1u << 20, .def = "1024", .what = "a number from 1 to 1048576",                \
	  .help = "this app's connections" },                                                 \
	{ "access_log", TAPIR_CONF_BOOL, TAPIR_CONF_AT(HC, access_log), .def = alog,                       \
	  .help = "a line per request (info)" }

/* http and kvhttp over TLS (apps/http/https.c), and the redirect to it */
#define HTTP_TLS_KEYS                                                                        \
	{ "tls_store", TAPIR_CONF_STRING, TAPIR_CONF_AT(HC, tls_store), .max = CONFIG_APP_NAME_MAX,        \
	  .what = "the NAME of a [kv.NAME] section",                                          \
	  .help = "serve HTTPS with the certificates of this store (default: plain HTTP)" },   \
	{ "tls_min_version", TAPIR_CONF_ENUM, TAPIR_CONF_AT(HC, tls_min_version), .def = "1.2",            \
	  .names = tls_versions, .help = "the oldest TLS version accepted: 1.2 or 1.3" },       \
	{ "tls_ciphers", TAPIR_CONF_STRING, TAPIR_CONF_AT(HC, tls_ciphers), .min = 1,                      \
	  .max = HTTP_CONF_CIPHERS_MAX, .def = TLS_DEFAULT_CIPHERS, .check = ciphers_check,    \
	  .help = "TLS 1.2 ciphers, OpenSSL syntax (default: ECDHE with AEAD only)" },          \
	{ "tls_ciphersuites", TAPIR_CONF_STRING, TAPIR_CONF_AT(HC, tls_ciphersuites), .min = 1,            \
	  .max = HTTP_CONF_CIPHERS_MAX, .def = TLS_DEFAULT_SUITES, .check = ciphers_check,     \
	  .help = "TLS 1.3 cipher suites, ':'-separated" },                                   \
	{ "tls_session_cache", TAPIR_CONF_UINT, TAPIR_CONF_AT(HC, tls_session_cache), .max = 1u << 20,     \
	  .def = "1024", .what = "a number from 0 to 1048576",                                 \
	  .help = "sessions the server keeps for clients without tickets (0: none)" },        \
	{ "tls_ticket_rotation", TAPIR_CONF_DURATION, TAPIR_CONF_AT(HC, tls_ticket_rotation_ns),           \
	  .min = SEC, .max = 24 * 3600 * SEC, .def = "1h", .what = "a duration from 1s to 24h", \
	  .help = "a new session ticket key this often (tickets last two periods)" },         \
	{ "tls_handshake_timeout", TAPIR_CONF_DURATION, TAPIR_CONF_AT(HC, tls_handshake_timeout_ns),       \
	  .min = SEC / 10, .max = 300 * SEC, .def = "10s", .what = "a duration from 100ms to 5min", \
	  .help = "a TLS handshake not done by then is closed" },                             \
	{ "tls_max_handshakes", TAPIR_CONF_UINT, TAPIR_CONF_AT(HC, tls_max_handshakes), .min = 1,          \
	  .max = 1u << 20, .def = "256", .what = "a number from 1 to 1048576",                 \
	  .help = "connections in their TLS handshake at once (more are refused)" },          \
	{ "hsts_max_age", TAPIR_CONF_DURATION, TAPIR_CONF_AT(HC, hsts_max_age_ns),                        \
	  .max = 2ull * 365 * 24 * 3600 * SEC, .what = "a duration up to 17520h (2 years)",               \
	  .help = "over TLS, Strict-Transport-Security: max-age (default 0: not sent)" },     \
	{ "hsts_subdomains", TAPIR_CONF_BOOL, TAPIR_CONF_AT(HC, hsts_subdomains), .def = "false",          \
	  .help = "that field with includeSubDomains" },                                      \
	{ "redirect_https", TAPIR_CONF_BOOL, TAPIR_CONF_AT(HC, redirect_https), .def = "false",            \
	  .help = "a plain app answers every request with a redirect to https://" },          \
	{ "redirect_port", TAPIR_CONF_UINT, TAPIR_CONF_AT(HC, redirect_port), .min = 1, .max = 65535,      \
	  .def = "443", .what = PORT_WHAT, .help = "the port of those https:// URLs" }

static const struct tapir_conf_key http_keys[] = {
	HTTP_COMMON_KEYS("80"),
	{ "index", TAPIR_CONF_STRING, TAPIR_CONF_AT(HC, index), .min = 1, .max = HTTP_CONF_INDEX_MAX,
	  .def = "index.html", .check = index_check,
	  .what = "a file name (at most 63 bytes, no '/')", .help = "the directory index" },
};
static const struct tapir_conf_key kvhttp_keys[] = {
	HTTP_COMMON_KEYS("8080"),
	{ "token", TAPIR_CONF_STRING, TAPIR_CONF_AT(HC, token), .max = HTTP_CONF_TOKEN_MAX,
	  .check = token_check, .help = "bearer token every request needs (default: none)" },
	{ "max_body", TAPIR_CONF_SIZE, TAPIR_CONF_AT(HC, max_body), .max = 64u << 20, .def = "1MiB",
	  .what = "a size up to 64MiB", .help = "request body" },
};
static const struct tapir_conf_key metrics_keys[] = {
	HTTP_CONN_KEYS("9100", "false"),
};

/* kv = NAME is required and names a [kv.NAME] section; kvhttp's is writable. */
static int http_check(const struct tapir_app_check *k, char *err, size_t errlen)
{
	const struct app_http_config *h = k->params;
	const char *kv_where = k->key_where(k, "kv");
	bool writable = false;
	if (!h->kv[0]) {
		snprintf(err, errlen, "%s: [app.%s]: kv = NAME (a [kv.NAME] section) is required",
			 k->where, k->name);
		return -EINVAL;
	}
	if (!k->kv_section(k, h->kv, &writable)) {
		snprintf(err, errlen, "%s: [app.%s] kv: no section [kv.%s]", kv_where, k->name,
			 h->kv);
		return -EINVAL;
	}
	if (k->type == &app_kvhttp_conf && !writable) {
		snprintf(err, errlen, "%s: [app.%s] kv: [kv.%s] is read-only (kvhttp needs "
			 "writable = true)", kv_where, k->name, h->kv);
		return -EINVAL;
	}
	if (h->tls_store[0] && !k->kv_section(k, h->tls_store, NULL)) {
		snprintf(err, errlen, "%s: [app.%s] tls_store: no section [kv.%s]",
			 k->key_where(k, "tls_store"), k->name, h->tls_store);
		return -EINVAL;
	}
	if (h->tls_store[0] && h->redirect_https) {
		snprintf(err, errlen, "%s: [app.%s] redirect_https: for a plain app (this one has "
			 "tls_store)", k->key_where(k, "redirect_https"), k->name);
		return -EINVAL;
	}
	if (!h->tls_store[0] && h->hsts_max_age_ns) {
		snprintf(err, errlen, "%s: [app.%s] hsts_max_age: needs tls_store (sent over TLS "
			 "only)", k->key_where(k, "hsts_max_age"), k->name);
		return -EINVAL;
	}
	return 0;
}

const struct tapir_app_conf_type app_http_conf = {
	.name = "http",
	.keys = http_keys,
	.nkeys = N(http_keys),
	.params_size = sizeof(struct app_http_config),
	.tcp_port = TAPIR_APP_CONF_PORT(struct app_http_config, port),
	.check = http_check,
};

const struct tapir_app_conf_type app_kvhttp_conf = {
	.name = "kvhttp",
	.keys = kvhttp_keys,
	.nkeys = N(kvhttp_keys),
	.params_size = sizeof(struct app_http_config),
	.tcp_port = TAPIR_APP_CONF_PORT(struct app_http_config, port),
	.check = http_check,
};

/* metrics: GET /metrics (apps/http/metrics.c); no store, no check */
const struct tapir_app_conf_type app_metrics_conf = {
	.name = "metrics",
	.keys = metrics_keys,
	.nkeys = N(metrics_keys),
	.params_size = sizeof(struct app_http_config),
	.tcp_port = TAPIR_APP_CONF_PORT(struct app_http_config, port),
};
