/*
 * https.c - the http and kvhttp apps' side of TLS: server, certificates, reload, counters
 *
 * tls.c is the glue between OpenSSL and a flow; this file makes an app's
 * struct tls_server from its keys (tls_*, hsts_*), loads the certificates
 * from the store tls_store names (again on reload, keeping the old ones
 * when the store does not load) and reports to the control socket: the
 * counters as layer "tls.NAME" of `stats`, each connection's version,
 * cipher and server name in `conns`.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "http_internal.h"

/* Load the certificates of tls_store.  Return: names loaded, or -errno (@err) */
static int load(struct http_app *a, char *err, size_t errlen)
{
	struct tapir_kv_store *kv = a->ctx->kv(a->ctx, a->cfg->tls_store);
	if (!kv) {
		snprintf(err, errlen, "no key-value store %s", a->cfg->tls_store);
		return -ENOENT;
	}
	return tls_server_load(a->tls, kv, err, errlen);
}

int http_tls_start(struct http_app *a)
{
	const struct app_http_config *cfg = a->cfg;
	struct tls_config tc = {
		.min_version = cfg->tls_min_version,
		.ciphers = cfg->tls_ciphers,
		.ciphersuites = cfg->tls_ciphersuites,
		.session_cache = cfg->tls_session_cache,
		.ticket_rotation_ns = cfg->tls_ticket_rotation_ns,
		.max_handshakes = cfg->tls_max_handshakes,
		.handshake_timeout_ns = cfg->tls_handshake_timeout_ns,
		.random = a->ctx->random,
		.mono_ns = a->ctx->mono_ns,
	};
	char err[512] = "";
	int rc = tls_server_new(&tc, &a->tls, err, sizeof(err));
	if (rc < 0) {
		tapir_log_err(a->ctx->log, "app %s: %s", a->ctx->name,
			      *err ? err : "out of memory");
		return rc;
	}
	rc = load(a, err, sizeof(err));
	if (rc < 0) {
		tapir_log_err(a->ctx->log, "app %s: tls_store %s: %s", a->ctx->name,
			      cfg->tls_store, err);
		return rc;
	}
	tapir_log_info(a->ctx->log, "app %s: TLS 1.%d and up, %d certificate(s) from kv %s",
		       a->ctx->name, cfg->tls_min_version - 10, rc, cfg->tls_store);
	if (cfg->hsts_max_age_ns)
		snprintf(a->hsts, sizeof(a->hsts), "Strict-Transport-Security: max-age=%" PRIu64
			 "%s\r\n", (uint64_t)(cfg->hsts_max_age_ns / 1000000000ull),
			 cfg->hsts_subdomains ? "; includeSubDomains" : "");
	return 0;
}

int http_app_reread(void *state, char *err, size_t errlen)
{
	struct http_app *a = state;
	if (!a->tls)
		return 0;
	char why[512] = "";
	int rc = load(a, why, sizeof(why));
	if (rc < 0) {
		snprintf(err, errlen, "app %s: tls_store %s: %s (the certificates served stay)",
			 a->ctx->name, a->cfg->tls_store, why);
		tapir_log_err(a->ctx->log, "reload: %s", err);
		return rc;
	}
	tapir_log_info(a->ctx->log, "app %s: reload: %d certificate(s) from kv %s", a->ctx->name,
		       rc, a->cfg->tls_store);
	return 0;
}

size_t http_app_counters(void *state, const char **layer, const char *const **names,
			 const uint64_t **values)
{
	struct http_app *a = state;
	static char name[80];  /* good until the next call; one loop */
	if (!a->tls)
		return 0;
	snprintf(name, sizeof(name), "tls.%s", a->ctx->name);
	*layer = name;
	*names = tls_counter_names;
	*values = tls_server_counters(a->tls);
	return TLS_CTR__COUNT;
}

size_t http_app_flow_info(void *state, const struct tapir_tcp_flow_info *fi,
			  struct tapir_app_field *out, size_t max)
{
	struct http_app *a = state;
	if (!a->tls || max < 4 || fi->local_port != a->cfg->port)
		return 0;
	for (struct tcp_conn *c = a->tcp.conns; c; c = c->next) {
		struct hconn *h = c->app;
		struct tapir_tcp_flow_info ci;
		if (!h || !h->tls || tapir_tcp_flow_info(c->flow, &ci) ||
		    !tapir_addr_eq(&ci.remote_addr, &fi->remote_addr) || ci.remote_port != fi->remote_port)
			continue;
		struct tls_conn_info ti;
		tls_conn_get_info(h->tls, &ti);
		out[0].name = "tls_version";
		snprintf(out[0].value, sizeof(out[0].value), "%s", ti.version);
		out[1].name = "tls_cipher";
		snprintf(out[1].value, sizeof(out[1].value), "%s", ti.cipher);
		out[2].name = "tls_sni";
		snprintf(out[2].value, sizeof(out[2].value), "%s", ti.sni);
		out[3].name = "tls_resumed";
		snprintf(out[3].value, sizeof(out[3].value), "%s", ti.resumed ? "yes" : "no");
		return 4;
	}
	return 0;
}
