/*
 * http_conf.h - the configuration of the http and kvhttp apps: their params struct
 *
 * Filled by the key tables of http_conf.c (app_http_conf, app_kvhttp_conf,
 * declared in app_conf.h) and read by conn.c, site.c and kvhttp.c through
 * ctx->params.  No stack here: tests/daemon/test_config includes it.
 */
#ifndef TAPIR_HTTP_CONF_H
#define TAPIR_HTTP_CONF_H

#include <stdbool.h>
#include <stdint.h>

#include "config.h"

/*
 * http (a site from a KV store, port 80) and kvhttp (a read-write KV store
 * over HTTP, port 8080).  kv names a [kv.NAME] section (required; kvhttp's
 * must be writable); index is http's directory index; token is kvhttp's
 * bearer token (empty: none).  metrics (port 9100) has no kv, index or
 * token (http_conf.c's HTTP_CONN_KEYS only).
 */
#define HTTP_CONF_INDEX_MAX 63
#define HTTP_CONF_TOKEN_MAX 128
#define HTTP_CONF_CIPHERS_MAX 511
struct app_http_config {
	uint16_t port;
	char kv[CONFIG_APP_NAME_MAX + 1];
	char index[HTTP_CONF_INDEX_MAX + 1];        /* http: "index.html" */
	char token[HTTP_CONF_TOKEN_MAX + 1];        /* kvhttp: "" = no token */
	uint64_t idle_timeout_ns;                   /* 30 s */
	uint32_t max_header_bytes;                  /* request line + headers: 8 KiB */
	uint32_t max_headers;                       /* header fields: 64 */
	uint32_t max_connections;                   /* this app's: 1024 */
	uint64_t max_body;                          /* kvhttp request body: 1 MiB */
	bool access_log;                            /* a line per request (info) */
	/* TLS (apps/http/tls.c): on when tls_store names a [kv.NAME] section */
	char tls_store[CONFIG_APP_NAME_MAX + 1];    /* "" = plain HTTP */
	int tls_min_version;                        /* 12 or 13 */
	char tls_ciphers[HTTP_CONF_CIPHERS_MAX + 1];       /* TLS 1.2 (OpenSSL syntax) */
	char tls_ciphersuites[HTTP_CONF_CIPHERS_MAX + 1];  /* TLS 1.3 */
	uint32_t tls_session_cache;                 /* sessions; 0: no cache */
	uint64_t tls_ticket_rotation_ns;            /* 1 h */
	uint64_t tls_handshake_timeout_ns;          /* 10 s */
	uint32_t tls_max_handshakes;                /* 256 */
	uint64_t hsts_max_age_ns;                   /* 0: no Strict-Transport-Security */
	bool hsts_subdomains;                       /* ; includeSubDomains */
	bool redirect_https;                        /* plain: every request to https:// */
	uint16_t redirect_port;                     /* its port (443: none in the URL) */
};

#endif /* TAPIR_HTTP_CONF_H */
