/*
 * kvhttp.c - the kvhttp app: a read-write KV store over HTTP
 *
 * GET/HEAD a value (as the http app, site.c) or a dictionary as a JSON
 * listing [{"name":"a","type":"value"},...] (http_listing_json()); PUT sets (201 new, 204
 * replaced; the body, Content-Length or chunked, is the value: none is an
 * empty one); DELETE removes (204); POST /_batch applies its body's
 * operations atomically with tapir_kv_batch().  The batch body is lines,
 * binary-safe:
 *
 *   SET /key LENGTH\n<LENGTH bytes>\n
 *   DELETE /key\n
 *
 * A batch that fails is answered with the KV error's status and a
 * text/plain "batch not applied: operation N: why".
 *
 * With a token, every request needs "Authorization: Bearer TOKEN": without
 * it the answer is 401 as soon as the head is in (check_head), the body is
 * never read, and the connection closes.
 */
#include <errno.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http_internal.h"

struct batch_ctx {
	const uint8_t *p;
	size_t len;
	char err[128];
};

/* The batch body (see the top) applied to @txn. */
static int batch_apply(struct tapir_kv_store *txn, void *arg)
{
	struct batch_ctx *bc = arg;
	size_t pos = 0;
	unsigned line = 0;
	while (pos < bc->len) {
		line++;
		const uint8_t *nl = memchr(bc->p + pos, '\n', bc->len - pos);
		if (!nl) {
			snprintf(bc->err, sizeof(bc->err), "operation %u: no end of line", line);
			return -TAPIR_KV_E_INVALID;
		}
		size_t ll = (size_t)(nl - (bc->p + pos));
		char l[HTTP_MAX_PATH + 64];
		if (ll >= sizeof(l) || memchr(bc->p + pos, '\0', ll)) {
			snprintf(bc->err, sizeof(bc->err), "operation %u: bad line", line);
			return -TAPIR_KV_E_INVALID;
		}
		memcpy(l, bc->p + pos, ll);
		l[ll] = '\0';
		pos += ll + 1;
		char *sp = strchr(l, ' ');
		if (!sp) {
			snprintf(bc->err, sizeof(bc->err), "operation %u: expected SET or DELETE",
				 line);
			return -TAPIR_KV_E_INVALID;
		}
		*sp = '\0';
		char *keystr = sp + 1;
		struct tapir_kv_key k;
		int rc;
		if (!strcmp(l, "SET")) {
			char *sp2 = strrchr(keystr, ' ');
			char *end;
			if (!sp2) {
				snprintf(bc->err, sizeof(bc->err), "operation %u: SET /key LENGTH",
					 line);
				return -TAPIR_KV_E_INVALID;
			}
			*sp2 = '\0';
			unsigned long long vl = strtoull(sp2 + 1, &end, 10);
			if (*end || sp2[1] < '0' || sp2[1] > '9' || vl > bc->len - pos ||
			    bc->len - pos - vl < 1 || bc->p[pos + vl] != '\n') {
				snprintf(bc->err, sizeof(bc->err),
					 "operation %u: bad length (LENGTH bytes and a newline must follow)",
					 line);
				return -TAPIR_KV_E_INVALID;
			}
			if (tapir_kv_key_parse(keystr, &k) || k.n == 0) {
				tapir_kv_key_free(&k);
				snprintf(bc->err, sizeof(bc->err), "operation %u: bad key", line);
				return -TAPIR_KV_E_INVALID;
			}
			rc = tapir_kv_set(txn, &k, bc->p + pos, (size_t)vl);
			pos += (size_t)vl + 1;
		} else if (!strcmp(l, "DELETE")) {
			if (tapir_kv_key_parse(keystr, &k) || k.n == 0) {
				tapir_kv_key_free(&k);
				snprintf(bc->err, sizeof(bc->err), "operation %u: bad key", line);
				return -TAPIR_KV_E_INVALID;
			}
			rc = tapir_kv_remove(txn, &k);
		} else {
			snprintf(bc->err, sizeof(bc->err), "operation %u: expected SET or DELETE",
				 line);
			return -TAPIR_KV_E_INVALID;
		}
		tapir_kv_key_free(&k);
		if (rc) {
			snprintf(bc->err, sizeof(bc->err), "operation %u: %s", line,
				 tapir_kv_last_error(txn));
			return rc;
		}
	}
	return 0;
}

/* Return: true if @req may be served (no token set, or "Bearer TOKEN"). */
static bool kvhttp_authorized(const struct http_app *a, const struct http_request *req)
{
	if (!a->cfg->token[0])
		return true;
	const struct http_str *au = http_header_find(req, "authorization");
	size_t tl = strlen(a->cfg->token);
	return au && au->len == 7 + tl && !strncasecmp(au->p, "Bearer ", 7) &&
	       !CRYPTO_memcmp(au->p + 7, a->cfg->token, tl);
}

/* The token is checked on the head: a client without it never gets its body read. */
static int kvhttp_check_head(struct hconn *h, const struct http_request *req, const char **extra)
{
	if (kvhttp_authorized(h->a, req))
		return 0;
	*extra = "WWW-Authenticate: Bearer\r\n";
	return 401;
}

static bool kvhttp_handle(struct hconn *h, const struct http_request *req, const uint8_t *body,
			  size_t body_len)
{
	struct http_app *a = h->a;
	if (!kvhttp_authorized(a, req))   /* checked on the head already: kept for safety */
		return http_respond_error(h, req, 401, "WWW-Authenticate: Bearer\r\n");
	static char path[HTTP_MAX_PATH + 64];
	if (http_url_decode(&req->target, path, HTTP_MAX_PATH) < 0 || tapir_kv_key_parse(path, &h->key))
		return http_respond_error(h, req, 400, NULL);
	int rc;
	enum tapir_kv_kind kind = TAPIR_KV_NONE;
	switch (req->method) {
	case HTTP_M_GET:
	case HTTP_M_HEAD:
		rc = tapir_kv_exists(a->kv, &h->key, &kind);
		if (!rc && kind == TAPIR_KV_VALUE)
			return http_serve_value(h, req, path);
		if (!rc && kind == TAPIR_KV_DICT) {
			struct tapir_kv_entry *e;
			size_t n;
			rc = tapir_kv_list(a->kv, &h->key, &e, &n);
			tapir_kv_key_free(&h->key);
			if (rc)
				return http_respond_error(h, req, http_kv_status(rc), NULL);
			char *json = http_listing_json(e, n);
			tapir_kv_entries_free(e, n);
			bool ok = json ? http_respond(h, req, 200, "application/json", NULL, json,
						      strlen(json), 0) :
				http_respond_error(h, req, 500, NULL);
			free(json);
			return ok;
		}
		tapir_kv_key_free(&h->key);
		return http_respond_error(h, req, rc ? http_kv_status(rc) : 404, NULL);
	case HTTP_M_PUT:
		if (h->key.n == 0) {
			tapir_kv_key_free(&h->key);
			return http_respond_error(h, req, 409, NULL);
		}
		tapir_kv_exists(a->kv, &h->key, &kind);
		rc = tapir_kv_set(a->kv, &h->key, body, body_len);
		tapir_kv_key_free(&h->key);
		if (rc)
			return http_respond_error(h, req, http_kv_status(rc), NULL);
		return http_respond(h, req, kind == TAPIR_KV_NONE ? 201 : 204, NULL, NULL, "", 0, 0);
	case HTTP_M_DELETE:
		if (h->key.n == 0) {
			tapir_kv_key_free(&h->key);
			return http_respond_error(h, req, 409, NULL);
		}
		rc = tapir_kv_exists(a->kv, &h->key, &kind);
		if (!rc && kind == TAPIR_KV_NONE)
			rc = -TAPIR_KV_E_NOT_FOUND;
		if (!rc)
			rc = tapir_kv_remove(a->kv, &h->key);
		tapir_kv_key_free(&h->key);
		if (rc)
			return http_respond_error(h, req, http_kv_status(rc), NULL);
		return http_respond(h, req, 204, NULL, NULL, "", 0, 0);
	case HTTP_M_POST:
		tapir_kv_key_free(&h->key);
		if (strcmp(path, "/_batch"))
			return http_respond_error(h, req, 405, "Allow: GET, HEAD, PUT, DELETE\r\n");
		{
			struct batch_ctx bc = { .p = body, .len = body_len };
			rc = tapir_kv_batch(a->kv, batch_apply, &bc);
			if (rc) {
				char msg[200];
				int n = snprintf(msg, sizeof(msg), "batch not applied: %s\n",
						 bc.err[0] ? bc.err : tapir_kv_last_error(a->kv));
				return http_respond(h, req, http_kv_status(rc),
						    "text/plain; charset=utf-8", NULL, msg,
						    (size_t)n < sizeof(msg) ? (size_t)n :
						    sizeof(msg) - 1, 0);
			}
		}
		return http_respond(h, req, 204, NULL, NULL, "", 0, 0);
	default:
		tapir_kv_key_free(&h->key);
		return http_respond_error(h, req, 405, "Allow: GET, HEAD, PUT, DELETE, POST\r\n");
	}
}

static const struct http_handler kvhttp_handler = {
	.type = "kvhttp",
	.keep_body = true,
	.handle = kvhttp_handle,
	.check_head = kvhttp_check_head,
};

static int kvhttp_start(struct tapir_app_ctx *ctx, void **state)
{
	return http_app_start(ctx, state, &kvhttp_handler);
}

const struct tapir_app_type app_kvhttp_type = {
	.conf = &app_kvhttp_conf,
	.start = kvhttp_start,
	.stop = http_app_stop,
	.reloaded = http_app_reloaded,
	.reread = http_app_reread,
	.counters = http_app_counters,
	.flow_info = http_app_flow_info,
};
