/*
 * site.c - the http app: a static site from a KV store (GET, HEAD), with
 *          the digest cache behind its ETags
 *
 * The path, percent-decoded, is the key; a dictionary is served as its
 * index file (a path without the trailing '/' is redirected, 301, to the
 * one with it).  ETag: the first 16 bytes of the KV digest (SHA-256),
 * cached per key with the value's size and mtime, with the fields every
 * answer about the value carries (ETag, Last-Modified, Accept-Ranges: made
 * once per value, not per request) and its Content-Type, dropped when the runtime re-opens its
 * stores (reloaded()).  Conditional requests and ranges:
 * http_value_reply() (response.c).  kvhttp serves its values here too.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http_internal.h"

/*
 * The digest slot of @path: its ETag and the fields of its answers, made
 * once per value (cached by size and mtime), or made into @tmp when they
 * cannot be kept.  Return: the slot, or NULL with *@rc a -KV_E_*
 */
static const struct digest_slot *cached_value(struct http_app *a, const char *path,
					      const struct tapir_kv_key *k, uint64_t size,
					      struct timespec mtime, struct digest_slot *tmp, int *rc)
{
	uint32_t hsh = 2166136261u;
	for (const char *p = path; *p; p++)
		hsh = (hsh ^ (uint8_t)*p) * 16777619u;
	struct digest_slot *s = &a->cache[hsh % HTTP_DIGEST_SLOTS];
	if (s->path && !strcmp(s->path, path) && s->size == size &&
	    s->mtime.tv_sec == mtime.tv_sec && s->mtime.tv_nsec == mtime.tv_nsec)
		return s;
	uint8_t dg[TAPIR_KV_DIGEST_LEN];
	*rc = tapir_kv_digest(a->kv, k, dg);
	if (*rc)
		return NULL;
	char *p = strdup(path);
	if (p) {
		free(s->path);
		s->path = p;
	} else {
		s = tmp;
	}
	s->size = size;
	s->mtime = mtime;
	memcpy(s->digest, dg, TAPIR_KV_DIGEST_LEN);
	http_etag_format(dg, s->etag);
	s->fields_len = http_value_fields(mtime.tv_sec, s->etag, s->fields, sizeof(s->fields));
	s->ctype = http_content_type(path);
	return s;
}

void http_app_reloaded(void *state)
{
	struct http_app *a = state;
	for (size_t i = 0; i < HTTP_DIGEST_SLOTS; i++) {
		free(a->cache[i].path);
		a->cache[i].path = NULL;
	}
}

bool http_serve_open(struct hconn *h, const struct http_request *req, const char *path,
		     const struct tapir_kv_stat *st)
{
	struct digest_slot tmp;
	int rc = 0;
	const struct digest_slot *dv = cached_value(h->a, path, &h->key, st->size, st->mtime,
						    &tmp, &rc);
	if (!dv)
		return http_respond_error(h, req, http_kv_status(rc), NULL);
	struct http_value_reply r;
	http_value_reply_fields(req, st->size, st->mtime.tv_sec, dv->etag, dv->fields,
				dv->fields_len, &r);
	if (r.status == 304)
		return http_respond(h, req, 304, NULL, r.extra, NULL, 0, 0);
	if (r.status == 416) {
		char body[64];
		size_t n = http_error_body(416, body, sizeof(body));
		return http_respond(h, req, 416, "text/plain; charset=utf-8", r.extra, body, n, 0);
	}
	const char *ctype = dv->ctype;
	if (r.len == 0)
		return http_respond(h, req, r.status, ctype, r.extra, "", 0, 0);
	h->body_off = r.first;
	return http_respond(h, req, r.status, ctype, r.extra, NULL, 0, r.len);
}

bool http_serve_value(struct hconn *h, const struct http_request *req, const char *path)
{
	struct tapir_kv_stat st;
	int rc = tapir_kv_value_open(h->a->kv, &h->key, &h->val, &st);
	if (rc) {
		tapir_kv_key_free(&h->key);
		return http_respond_error(h, req, http_kv_status(rc), NULL);
	}
	return http_serve_open(h, req, path, &st);
}

/*
 * GET/HEAD of a path: the value opened at once (one look-up: size, mtime
 * and the reads all from it); a dictionary is redirected to PATH/ or served
 * as its index value.
 */
static bool site_handle(struct hconn *h, const struct http_request *req, const uint8_t *body,
			size_t body_len)
{
	struct http_app *a = h->a;
	if (req->method != HTTP_M_GET && req->method != HTTP_M_HEAD)
		return http_respond_error(h, req, 405, "Allow: GET, HEAD\r\n");
	static char path[HTTP_MAX_PATH + 64];
	int n = http_url_decode(&req->target, path, HTTP_MAX_PATH);
	if (n < 0)
		return http_respond_error(h, req, 400, NULL);
	if (tapir_kv_key_parse(path, &h->key))
		return http_respond_error(h, req, 400, NULL);
	struct tapir_kv_stat st;
	int rc = tapir_kv_value_open(a->kv, &h->key, &h->val, &st);
	if (rc == -TAPIR_KV_E_VALUE_EXPECTED) {
		if (path[n - 1] != '/') {
			char loc[HTTP_MAX_PATH + 32];
			/* The target as sent (still encoded), without the query. */
			size_t tl = 0;
			while (tl < req->target.len && req->target.p[tl] != '?' &&
			       req->target.p[tl] != '#')
				tl++;
			snprintf(loc, sizeof(loc), "Location: %.*s/\r\n", (int)tl, req->target.p);
			tapir_kv_key_free(&h->key);
			return http_respond_error(h, req, 301, loc);
		}
		struct tapir_kv_key k2;
		if (tapir_kv_key_copy(&k2, &h->key, a->cfg->index)) {
			tapir_kv_key_free(&h->key);
			return http_respond_error(h, req, 500, NULL);
		}
		tapir_kv_key_free(&h->key);
		h->key = k2;
		snprintf(path + n, sizeof(path) - (size_t)n, "%s", a->cfg->index);
		rc = tapir_kv_value_open(a->kv, &h->key, &h->val, &st);
		if (rc == -TAPIR_KV_E_VALUE_EXPECTED)
			rc = -TAPIR_KV_E_NOT_FOUND;  /* an index that is a dictionary */
	}
	if (rc) {
		tapir_kv_key_free(&h->key);
		return http_respond_error(h, req, http_kv_status(rc), NULL);
	}
	return http_serve_open(h, req, path, &st);
}

static const struct http_handler site_handler = {
	.type = "http",
	.keep_body = false,
	.handle = site_handle,
};

static int site_start(struct tapir_app_ctx *ctx, void **state)
{
	return http_app_start(ctx, state, &site_handler);
}

const struct tapir_app_type app_http_type = {
	.conf = &app_http_conf,
	.start = site_start,
	.stop = http_app_stop,
	.reloaded = http_app_reloaded,
	.reread = http_app_reread,
	.counters = http_app_counters,
	.flow_info = http_app_flow_info,
};
