/*
 * app_http.c - the HTTP device: a site from a KV store (type http), and a
 *              read-write KV store over HTTP (type kvhttp)
 *
 * Theory of operation
 *
 * Both types share one connection engine on tcp_server.  Received bytes are
 * appended to the connection's input buffer; drive() parses a request head
 * from it (http_parse.c), waits for its body when it has one (bounded: 64 KiB
 * for http, max_body for kvhttp; more is 413 and the connection closes),
 * answers, drops the request's bytes and goes on with the next one
 * (pipelining), one response at a time.
 *
 * A body is framed by Content-Length or by chunked transfer coding.  A
 * chunked body is decoded in place as it arrives (read_chunked()): the data
 * so far sits right behind the head, the bytes not yet decoded (and any
 * pipelined request after the body) right behind the data, so the buffer
 * holds head + decoded data + one read.  The http app does not need bodies:
 * it frames and bounds them the same way but drops the data.  Expect:
 * 100-continue is answered once the head is in and the body is not.
 *
 * A response is a head (and a small body) in the output buffer, optionally
 * followed by a byte range of a KV value, streamed: pump() reads the value
 * in chunks of HTTP_CHUNK bytes with kv_read() only when the previous chunk
 * has gone into the TCP send buffer; when tcp_write() takes less, the
 * writable() callback resumes it.  So a connection holds at most
 * max_header_bytes + its body limit of input and HTTP_CHUNK of output,
 * whatever the value's size, and a client that does not read stalls only
 * itself.  While a response is in progress, reading pauses once
 * max_header_bytes of pipelined input are buffered.
 *
 * Timeouts: one timer per app ticks every idle_timeout / 4 (100 ms to 1 s)
 * and closes connections without progress for idle_timeout (no byte taken
 * by the peer, nothing received) and answers 408 to a request head or body
 * not complete idle_timeout after its first byte (slow clients).
 * max_connections more connections are closed at once.
 *
 * http: GET and HEAD (else 405).  The path, percent-decoded, is the key; a
 * dictionary is served as its index file (a path without the trailing '/'
 * is redirected, 301, to the one with it).  ETag: the first 16 bytes of the
 * KV digest (SHA-256), cached per key with the value's size and mtime;
 * If-None-Match and If-Modified-Since answer 304; a single byte range 206
 * (416 when unsatisfiable, several ranges get the whole value).
 *
 * kvhttp: GET/HEAD a value (as http) or a dictionary as a JSON listing
 * [{"name":"a","type":"value"},...]; PUT sets (201 new, 204 replaced; the
 * body, Content-Length or chunked, is the value: none is an empty one);
 * DELETE removes (204); POST /_batch applies
 * its body's operations atomically with kv_batch().  The batch body is
 * lines, binary-safe:
 *
 *   SET /key LENGTH\n<LENGTH bytes>\n
 *   DELETE /key\n
 *
 * With a token, every request needs "Authorization: Bearer TOKEN" (401).
 *
 * Every request is logged (info, when access_log) as
 * "app NAME: PEER \"METHOD TARGET HTTP/1.x\" STATUS BYTES".
 */
#include <errno.h>
#include <inttypes.h>
#include <openssl/crypto.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "apps.h"
#include "http_parse.h"
#include "tcp_server.h"

#define HTTP_CHUNK 65536
#define HTTP_MAX_PATH 4096            /* decoded path; also the target limit */
#define HTTP_IGNORED_BODY 65536       /* http: a request body up to this is skipped */
#define DIGEST_SLOTS 256

struct digest_slot {
	char *path;
	uint64_t size;
	struct timespec mtime;
	uint8_t digest[KV_DIGEST_LEN];
};

struct http_app {
	struct tapir_app_ctx *ctx;
	const struct app_http_config *cfg;
	bool kvhttp;
	struct kv_store *kv;
	struct tcp_server tcp;
	struct tapir_timer *tick;
	uint64_t tick_ns;
	struct http_limits lim;
	struct http_header *hdrs;      /* scratch: one request at a time */
	struct digest_slot cache[DIGEST_SLOTS];
	time_t date_sec;
	char date[32];
	uint64_t requests, errors;
};

struct hconn {
	struct http_app *a;
	struct tcp_conn *c;
	char peer[16];
	uint8_t *in;
	size_t in_len, in_cap;
	uint64_t last_active;
	uint64_t req_start;            /* first byte of the current request, 0: none */
	bool paused, eof, close_after, sent_continue;
	bool ck_active;                /* a chunked body is being decoded: */
	struct http_chunked ck;
	size_t ck_len;                 /* data bytes so far, right behind the head */
	/* response in progress */
	bool busy;
	uint8_t *out;
	size_t out_len, out_off, out_cap;
	struct kv_key key;
	struct kv_store *kv;           /* what the value streams from (kv_retain()ed) */
	uint64_t body_off, body_end;
};

/* ---- small helpers ---- */

static const char *status_text(int s)
{
	switch (s) {
	case 100: return "Continue";
	case 200: return "OK";
	case 201: return "Created";
	case 204: return "No Content";
	case 206: return "Partial Content";
	case 301: return "Moved Permanently";
	case 304: return "Not Modified";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 409: return "Conflict";
	case 411: return "Length Required";
	case 413: return "Content Too Large";
	case 414: return "URI Too Long";
	case 416: return "Range Not Satisfiable";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 503: return "Service Unavailable";
	case 501: return "Not Implemented";
	case 505: return "HTTP Version Not Supported";
	case 507: return "Insufficient Storage";
	default: return "Unknown";
	}
}

static const char *content_type(const char *path)
{
	static const struct { const char *ext, *type; } types[] = {
		{ "html", "text/html; charset=utf-8" }, { "htm", "text/html; charset=utf-8" },
		{ "css", "text/css; charset=utf-8" }, { "js", "text/javascript; charset=utf-8" },
		{ "mjs", "text/javascript; charset=utf-8" }, { "json", "application/json" },
		{ "txt", "text/plain; charset=utf-8" }, { "md", "text/markdown; charset=utf-8" },
		{ "xml", "application/xml" }, { "svg", "image/svg+xml" }, { "png", "image/png" },
		{ "jpg", "image/jpeg" }, { "jpeg", "image/jpeg" }, { "gif", "image/gif" },
		{ "webp", "image/webp" }, { "ico", "image/vnd.microsoft.icon" },
		{ "wasm", "application/wasm" }, { "pdf", "application/pdf" },
		{ "woff", "font/woff" }, { "woff2", "font/woff2" }, { "mp4", "video/mp4" },
		{ "webm", "video/webm" }, { "mp3", "audio/mpeg" }, { "tar", "application/x-tar" },
		{ "gz", "application/gzip" }, { "zip", "application/zip" },
	};
	const char *slash = strrchr(path, '/');
	const char *dot = strrchr(slash ? slash : path, '.');
	if (dot && dot[1])
		for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
			if (!strcasecmp(dot + 1, types[i].ext))
				return types[i].type;
	return "application/octet-stream";
}

static int kv_status(int err)
{
	switch (err < 0 ? -err : err) {
	case KV_E_NOT_FOUND: return 404;
	case KV_E_VALUE_EXPECTED:
	case KV_E_DICT_EXPECTED:
	case KV_E_ALREADY_PRESENT:
	case KV_E_RENAME_PREFIX: return 409;
	case KV_E_INVALID: return 400;
	case KV_E_NO_SPACE: return 507;
	default: return 500;
	}
}

static const char *date_now(struct http_app *a)
{
	struct timespec t = a->ctx->wall();
	if (t.tv_sec != a->date_sec) {
		a->date_sec = t.tv_sec;
		http_date_format(t.tv_sec, a->date);
	}
	return a->date;
}

/* A growable string for response heads and small bodies. */
struct sbuf {
	char *p;
	size_t len, cap;
	bool oom;
};

static void sb_add(struct sbuf *b, const void *data, size_t n)
{
	if (b->oom)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 512;
		while (cap < b->len + n + 1)
			cap *= 2;
		char *p = realloc(b->p, cap);
		if (!p) {
			b->oom = true;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, data, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void sb_printf(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_printf(struct sbuf *b, const char *fmt, ...)
{
	char tmp[1024];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	sb_add(b, tmp, (size_t)n < sizeof(tmp) ? (size_t)n : sizeof(tmp) - 1);
}

/* ---- the connection engine ---- */

static bool drive(struct hconn *h);

static void hconn_close(struct hconn *h)
{
	tcp_conn_close(h->c);  /* calls http_freeing(), frees h */
}

static void log_access(struct hconn *h, const struct http_request *req, int status,
		       uint64_t bytes)
{
	struct http_app *a = h->a;
	a->requests++;
	if (status >= 400)
		a->errors++;
	if (!a->cfg->access_log)
		return;
	if (req)
		log_info(a->ctx->log, "app %s: %s \"%.*s %.*s HTTP/1.%d\" %d %" PRIu64,
			 a->ctx->name, h->peer, (int)(req->method_str.len > 16 ? 16 :
			 req->method_str.len), req->method_str.p,
			 (int)(req->target.len > 256 ? 256 : req->target.len), req->target.p,
			 req->minor, status, bytes);
	else
		log_info(a->ctx->log, "app %s: %s \"-\" %d %" PRIu64, a->ctx->name, h->peer,
			 status, bytes);
}

/*
 * Start a response: @status, fields of @extra (each ending "\r\n"), a body
 * of @body_len bytes from @body, or @stream_len bytes of h->key from
 * h->body_off (set by the caller) when @body is NULL.  HEAD sends no body.
 * Return: false if the connection is gone (out of memory)
 */
static bool respond(struct hconn *h, const struct http_request *req, int status,
		    const char *ctype, const char *extra, const void *body, size_t body_len,
		    uint64_t stream_len)
{
	struct http_app *a = h->a;
	struct sbuf b = { 0 };
	bool head = req && req->method == HTTP_M_HEAD;
	bool no_body = head || status == 204 || status == 304;
	uint64_t clen = body ? body_len : stream_len;
	if (!req || !req->keep_alive)
		h->close_after = true;
	sb_printf(&b, "HTTP/1.1 %d %s\r\nServer: tapir\r\nDate: %s\r\n", status,
		  status_text(status), date_now(a));
	if (ctype)
		sb_printf(&b, "Content-Type: %s\r\n", ctype);
	if (status != 204 && status != 304)
		sb_printf(&b, "Content-Length: %" PRIu64 "\r\n", clen);
	if (extra)
		sb_add(&b, extra, strlen(extra));
	if (h->close_after)
		sb_add(&b, "Connection: close\r\n", 19);
	else if (req && req->minor == 0)
		sb_add(&b, "Connection: keep-alive\r\n", 24);
	sb_add(&b, "\r\n", 2);
	if (body && !no_body)
		sb_add(&b, body, body_len);
	if (b.oom) {
		free(b.p);
		kv_key_free(&h->key);
		hconn_close(h);
		return false;
	}
	log_access(h, req, status, no_body ? 0 : clen);
	free(h->out);
	h->out = (uint8_t *)b.p;
	h->out_cap = b.cap;
	h->out_len = b.len;
	h->out_off = 0;
	if (!body && !no_body && stream_len) {
		h->body_end = h->body_off + stream_len;
		h->kv = kv_retain(h->a->kv);  /* a reload must not pull it from under us */
	} else {
		h->body_off = h->body_end = 0;
		kv_key_free(&h->key);
	}
	h->busy = true;
	return true;
}

static bool respond_error(struct hconn *h, const struct http_request *req, int status,
			  const char *extra)
{
	char body[128];
	int n = snprintf(body, sizeof(body), "%d %s\n", status, status_text(status));
	if (status == 400 || status == 408 || status == 413 || status == 414 || status == 431 ||
	    status == 505 || status == 501 || status == 411)
		h->close_after = true;  /* the framing may be off: do not read on */
	return respond(h, req, status, "text/plain; charset=utf-8", extra, body, (size_t)n, 0);
}

/*
 * Send what is in the output buffer, then the value being streamed, chunk
 * by chunk.  Return: false if the connection is gone
 */
static bool pump(struct hconn *h)
{
	struct http_app *a = h->a;
	for (;;) {
		/* Refill behind what is left of the head or the last chunk, so that
		 * a small response goes out as one write (Nagle would hold a
		 * second small one until the peer's delayed ACK). */
		if (h->body_off < h->body_end && h->out_len - h->out_off < HTTP_CHUNK / 2) {
			memmove(h->out, h->out + h->out_off, h->out_len - h->out_off);
			h->out_len -= h->out_off;
			h->out_off = 0;
			if (h->out_cap < HTTP_CHUNK + 4096) {
				uint8_t *p = realloc(h->out, HTTP_CHUNK + 4096);
				if (!p) {
					hconn_close(h);
					return false;
				}
				h->out = p;
				h->out_cap = HTTP_CHUNK + 4096;
			}
			uint64_t left = h->body_end - h->body_off;
			size_t room = h->out_cap - h->out_len;
			size_t want = left < room ? (size_t)left : room;
			int64_t got = kv_read(h->kv, &h->key, h->body_off, h->out + h->out_len, want);
			if (got <= 0) {
				/* The value shrank or failed under us: the length is
				 * promised, so the connection must end. */
				log_warn(a->ctx->log, "app %s: reading a value at %" PRIu64
					 " failed: %s", a->ctx->name, h->body_off,
					 got < 0 ? kv_last_error(h->kv) : "value shrank");
				hconn_close(h);
				return false;
			}
			h->out_len += (size_t)got;
			h->body_off += (uint64_t)got;
		}
		if (h->out_off < h->out_len) {
			const uint8_t *p = h->out + h->out_off;
			size_t n_left = h->out_len - h->out_off;
			/* The end of a response is pushed at once. */
			long n = h->body_off < h->body_end ? tcp_write(h->c->flow, p, n_left) :
				tcp_write_nodelay(h->c->flow, p, n_left);
			if (n < 0) {
				hconn_close(h);
				return false;
			}
			if (n > 0)
				h->last_active = a->ctx->mono_ns();
			h->out_off += (size_t)n;
			if (h->out_off < h->out_len)
				return true;  /* writable() brings us back */
			continue;
		}
		if (h->body_off < h->body_end)
			continue;
		h->busy = false;
		kv_key_free(&h->key);
		kv_close(h->kv);
		h->kv = NULL;
		if (h->out_cap > 4096) {  /* keep idle connections small */
			free(h->out);
			h->out = NULL;
			h->out_cap = 0;
		}
		h->out_len = h->out_off = 0;
		return true;
	}
}

/* ---- http: a site ---- */

/* The digest of @path (cached by size and mtime). Return: 0 or -KV_E_* */
static int cached_digest(struct http_app *a, const char *path, const struct kv_key *k,
			 uint64_t size, struct timespec mtime, uint8_t out[KV_DIGEST_LEN])
{
	uint32_t hsh = 2166136261u;
	for (const char *p = path; *p; p++)
		hsh = (hsh ^ (uint8_t)*p) * 16777619u;
	struct digest_slot *s = &a->cache[hsh % DIGEST_SLOTS];
	if (s->path && !strcmp(s->path, path) && s->size == size &&
	    s->mtime.tv_sec == mtime.tv_sec && s->mtime.tv_nsec == mtime.tv_nsec) {
		memcpy(out, s->digest, KV_DIGEST_LEN);
		return 0;
	}
	int rc = kv_digest(a->kv, k, out);
	if (rc)
		return rc;
	char *p = strdup(path);
	if (p) {
		free(s->path);
		s->path = p;
		s->size = size;
		s->mtime = mtime;
		memcpy(s->digest, out, KV_DIGEST_LEN);
	}
	return 0;
}

/* Does the If-None-Match list @v contain @etag ("*" matches)?  Weak comparison. */
static bool etag_match(const struct http_str *v, const char *etag)
{
	size_t n = strlen(etag);
	if (v->len == 1 && v->p[0] == '*')
		return true;
	for (size_t i = 0; i + n <= v->len; i++)
		if (!memcmp(v->p + i, etag, n))
			return true;
	return false;
}

/* Answer GET/HEAD of the value at h->key (@path its name).  Return: false if gone */
static bool serve_value(struct hconn *h, const struct http_request *req, const char *path)
{
	struct http_app *a = h->a;
	uint64_t size;
	struct timespec mt = { 0, 0 };
	uint8_t dg[KV_DIGEST_LEN];
	int rc = kv_size(a->kv, &h->key, &size);
	if (!rc)
		rc = kv_last_modified(a->kv, &h->key, &mt);
	if (!rc)
		rc = cached_digest(a, path, &h->key, size, mt, dg);
	if (rc) {
		kv_key_free(&h->key);
		return respond_error(h, req, kv_status(rc), NULL);
	}
	char etag[40], lm[32], extra[256];
	static const char hex[] = "0123456789abcdef";
	etag[0] = '"';
	for (int i = 0; i < 16; i++) {
		etag[1 + 2 * i] = hex[dg[i] >> 4];
		etag[2 + 2 * i] = hex[dg[i] & 15];
	}
	etag[33] = '"';
	etag[34] = '\0';
	http_date_format(mt.tv_sec, lm);
	const struct http_str *inm = http_header_find(req, "if-none-match");
	const struct http_str *ims = http_header_find(req, "if-modified-since");
	time_t since;
	bool not_modified = inm ? etag_match(inm, etag) :
		(ims && !http_date_parse(ims, &since) && mt.tv_sec <= since);
	snprintf(extra, sizeof(extra), "ETag: %s\r\nLast-Modified: %s\r\nAccept-Ranges: bytes\r\n",
		 etag, lm);
	if (not_modified) {
		kv_key_free(&h->key);
		return respond(h, req, 304, NULL, extra, NULL, 0, 0);
	}
	const char *ctype = content_type(path);
	const struct http_str *range = req->method == HTTP_M_GET ?
		http_header_find(req, "range") : NULL;
	const struct http_str *if_range = http_header_find(req, "if-range");
	if (range && if_range && !(if_range->len == strlen(etag) &&
				   !memcmp(if_range->p, etag, if_range->len)))
		range = NULL;  /* the client's copy is stale: send it all */
	if (range) {
		uint64_t first, last;
		int r = http_parse_range(range, size, &first, &last);
		if (r < 0) {
			char x[320];
			snprintf(x, sizeof(x), "%sContent-Range: bytes */%" PRIu64 "\r\n", extra,
				 size);
			kv_key_free(&h->key);
			return respond(h, req, 416, "text/plain; charset=utf-8", x,
				       "416 Range Not Satisfiable\n", 26, 0);
		}
		if (r > 0) {
			char x[320];
			snprintf(x, sizeof(x), "%sContent-Range: bytes %" PRIu64 "-%" PRIu64 "/%"
				 PRIu64 "\r\n", extra, first, last, size);
			h->body_off = first;
			return respond(h, req, 206, ctype, x, NULL, 0, last - first + 1);
		}
	}
	h->body_off = 0;
	if (size == 0) {
		kv_key_free(&h->key);
		return respond(h, req, 200, ctype, extra, "", 0, 0);
	}
	return respond(h, req, 200, ctype, extra, NULL, 0, size);
}

static bool handle_http(struct hconn *h, const struct http_request *req)
{
	struct http_app *a = h->a;
	if (req->method != HTTP_M_GET && req->method != HTTP_M_HEAD)
		return respond_error(h, req, 405, "Allow: GET, HEAD\r\n");
	static char path[HTTP_MAX_PATH + 64];
	int n = http_url_decode(&req->target, path, HTTP_MAX_PATH);
	if (n < 0)
		return respond_error(h, req, 400, NULL);
	if (kv_key_parse(path, &h->key))
		return respond_error(h, req, 400, NULL);
	enum kv_kind kind;
	int rc = kv_exists(a->kv, &h->key, &kind);
	if (!rc && kind == KV_DICT) {
		if (path[n - 1] != '/') {
			char loc[HTTP_MAX_PATH + 32];
			/* The target as sent (still encoded), without the query. */
			size_t tl = 0;
			while (tl < req->target.len && req->target.p[tl] != '?' &&
			       req->target.p[tl] != '#')
				tl++;
			snprintf(loc, sizeof(loc), "Location: %.*s/\r\n", (int)tl, req->target.p);
			kv_key_free(&h->key);
			return respond_error(h, req, 301, loc);
		}
		struct kv_key k2;
		if (kv_key_copy(&k2, &h->key, a->cfg->index)) {
			kv_key_free(&h->key);
			return respond_error(h, req, 500, NULL);
		}
		kv_key_free(&h->key);
		h->key = k2;
		snprintf(path + n, sizeof(path) - (size_t)n, "%s", a->cfg->index);
		rc = kv_exists(a->kv, &h->key, &kind);
	}
	if (rc || kind != KV_VALUE) {
		kv_key_free(&h->key);
		return respond_error(h, req, rc ? kv_status(rc) : 404, NULL);
	}
	return serve_value(h, req, path);
}

/* ---- kvhttp ---- */

static void json_string(struct sbuf *b, const char *s)
{
	sb_add(b, "\"", 1);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\') {
			char e[2] = { '\\', (char)c };
			sb_add(b, e, 2);
		} else if (c < 0x20) {
			sb_printf(b, "\\u%04x", c);
		} else {
			sb_add(b, s, 1);
		}
	}
	sb_add(b, "\"", 1);
}

struct batch_ctx {
	const uint8_t *p;
	size_t len;
	char err[128];
};

/* The batch body (see the theory above) applied to @txn. */
static int batch_apply(struct kv_store *txn, void *arg)
{
	struct batch_ctx *bc = arg;
	size_t pos = 0;
	unsigned line = 0;
	while (pos < bc->len) {
		line++;
		const uint8_t *nl = memchr(bc->p + pos, '\n', bc->len - pos);
		if (!nl) {
			snprintf(bc->err, sizeof(bc->err), "operation %u: no end of line", line);
			return -KV_E_INVALID;
		}
		size_t ll = (size_t)(nl - (bc->p + pos));
		char l[HTTP_MAX_PATH + 64];
		if (ll >= sizeof(l) || memchr(bc->p + pos, '\0', ll)) {
			snprintf(bc->err, sizeof(bc->err), "operation %u: bad line", line);
			return -KV_E_INVALID;
		}
		memcpy(l, bc->p + pos, ll);
		l[ll] = '\0';
		pos += ll + 1;
		char *sp = strchr(l, ' ');
		if (!sp) {
			snprintf(bc->err, sizeof(bc->err), "operation %u: expected SET or DELETE",
				 line);
			return -KV_E_INVALID;
		}
		*sp = '\0';
		char *keystr = sp + 1;
		struct kv_key k;
		int rc;
		if (!strcmp(l, "SET")) {
			char *sp2 = strrchr(keystr, ' ');
			char *end;
			if (!sp2) {
				snprintf(bc->err, sizeof(bc->err), "operation %u: SET /key LENGTH",
					 line);
				return -KV_E_INVALID;
			}
			*sp2 = '\0';
			unsigned long long vl = strtoull(sp2 + 1, &end, 10);
			if (*end || sp2[1] < '0' || sp2[1] > '9' || vl > bc->len - pos ||
			    bc->len - pos - vl < 1 || bc->p[pos + vl] != '\n') {
				snprintf(bc->err, sizeof(bc->err),
					 "operation %u: bad length (LENGTH bytes and a newline must follow)",
					 line);
				return -KV_E_INVALID;
			}
			if (kv_key_parse(keystr, &k) || k.n == 0) {
				kv_key_free(&k);
				snprintf(bc->err, sizeof(bc->err), "operation %u: bad key", line);
				return -KV_E_INVALID;
			}
			rc = kv_set(txn, &k, bc->p + pos, (size_t)vl);
			pos += (size_t)vl + 1;
		} else if (!strcmp(l, "DELETE")) {
			if (kv_key_parse(keystr, &k) || k.n == 0) {
				kv_key_free(&k);
				snprintf(bc->err, sizeof(bc->err), "operation %u: bad key", line);
				return -KV_E_INVALID;
			}
			rc = kv_remove(txn, &k);
		} else {
			snprintf(bc->err, sizeof(bc->err), "operation %u: expected SET or DELETE",
				 line);
			return -KV_E_INVALID;
		}
		kv_key_free(&k);
		if (rc) {
			snprintf(bc->err, sizeof(bc->err), "operation %u: %s", line,
				 kv_last_error(txn));
			return rc;
		}
	}
	return 0;
}

static bool handle_kvhttp(struct hconn *h, const struct http_request *req, const uint8_t *body,
			  size_t body_len)
{
	struct http_app *a = h->a;
	if (a->cfg->token[0]) {
		const struct http_str *au = http_header_find(req, "authorization");
		size_t tl = strlen(a->cfg->token);
		if (!au || au->len != 7 + tl || strncasecmp(au->p, "Bearer ", 7) ||
		    CRYPTO_memcmp(au->p + 7, a->cfg->token, tl))
			return respond_error(h, req, 401, "WWW-Authenticate: Bearer\r\n");
	}
	static char path[HTTP_MAX_PATH + 64];
	if (http_url_decode(&req->target, path, HTTP_MAX_PATH) < 0 || kv_key_parse(path, &h->key))
		return respond_error(h, req, 400, NULL);
	int rc;
	enum kv_kind kind = KV_NONE;
	switch (req->method) {
	case HTTP_M_GET:
	case HTTP_M_HEAD:
		rc = kv_exists(a->kv, &h->key, &kind);
		if (!rc && kind == KV_VALUE)
			return serve_value(h, req, path);
		if (!rc && kind == KV_DICT) {
			struct kv_entry *e;
			size_t n;
			rc = kv_list(a->kv, &h->key, &e, &n);
			kv_key_free(&h->key);
			if (rc)
				return respond_error(h, req, kv_status(rc), NULL);
			struct sbuf b = { 0 };
			sb_add(&b, "[", 1);
			for (size_t i = 0; i < n; i++) {
				sb_add(&b, i ? ",{\"name\":" : "{\"name\":", i ? 9 : 8);
				json_string(&b, e[i].name);
				sb_printf(&b, ",\"type\":\"%s\"}",
					  e[i].kind == KV_DICT ? "dictionary" : "value");
			}
			sb_add(&b, "]\n", 2);
			kv_entries_free(e, n);
			bool ok = !b.oom ? respond(h, req, 200, "application/json", NULL, b.p,
						   b.len, 0) : respond_error(h, req, 500, NULL);
			free(b.p);
			return ok;
		}
		kv_key_free(&h->key);
		return respond_error(h, req, rc ? kv_status(rc) : 404, NULL);
	case HTTP_M_PUT:
		if (h->key.n == 0) {
			kv_key_free(&h->key);
			return respond_error(h, req, 409, NULL);
		}
		kv_exists(a->kv, &h->key, &kind);
		rc = kv_set(a->kv, &h->key, body, body_len);
		kv_key_free(&h->key);
		if (rc)
			return respond_error(h, req, kv_status(rc), NULL);
		return respond(h, req, kind == KV_NONE ? 201 : 204, NULL, NULL, "", 0, 0);
	case HTTP_M_DELETE:
		if (h->key.n == 0) {
			kv_key_free(&h->key);
			return respond_error(h, req, 409, NULL);
		}
		rc = kv_exists(a->kv, &h->key, &kind);
		if (!rc && kind == KV_NONE)
			rc = -KV_E_NOT_FOUND;
		if (!rc)
			rc = kv_remove(a->kv, &h->key);
		kv_key_free(&h->key);
		if (rc)
			return respond_error(h, req, kv_status(rc), NULL);
		return respond(h, req, 204, NULL, NULL, "", 0, 0);
	case HTTP_M_POST:
		kv_key_free(&h->key);
		if (strcmp(path, "/_batch"))
			return respond_error(h, req, 405, "Allow: GET, HEAD, PUT, DELETE\r\n");
		{
			struct batch_ctx bc = { .p = body, .len = body_len };
			rc = kv_batch(a->kv, batch_apply, &bc);
			if (rc) {
				char msg[200];
				int n = snprintf(msg, sizeof(msg), "batch not applied: %s\n",
						 bc.err[0] ? bc.err : kv_last_error(a->kv));
				return respond(h, req, kv_status(rc), "text/plain; charset=utf-8",
					       NULL, msg, (size_t)n, 0);
			}
		}
		return respond(h, req, 204, NULL, NULL, "", 0, 0);
	default:
		kv_key_free(&h->key);
		return respond_error(h, req, 405, "Allow: GET, HEAD, PUT, DELETE, POST\r\n");
	}
}

/* ---- driving a connection ---- */

static void set_paused(struct hconn *h, bool paused)
{
	if (h->paused != paused) {
		h->paused = paused;
		tcp_read_pause(h->c->flow, paused);
	}
}

/* Drop the first @n bytes of input. */
static void consume(struct hconn *h, size_t n)
{
	memmove(h->in, h->in + n, h->in_len - n);
	h->in_len -= n;
	if (h->in_cap > 65536 && h->in_len <= 16384) {  /* a big body went: shrink */
		uint8_t *p = realloc(h->in, 16384);
		if (p) {
			h->in = p;
			h->in_cap = 16384;
		}
	}
	h->req_start = h->in_len ? h->a->ctx->mono_ns() : 0;
	h->sent_continue = false;
	h->ck_active = false;
	h->ck_len = 0;
}

/*
 * Decode what has arrived of the chunked body behind a head of @head bytes,
 * in place: the data so far is h->ck_len bytes at h->in + @head (the http
 * app keeps none), the input not decoded yet follows it.  @bmax bounds the
 * data.  Return: 1 the body is complete, 0 more is needed, -STATUS
 */
static int read_chunked(struct hconn *h, size_t head, uint64_t bmax)
{
	if (!h->ck_active) {
		http_chunked_init(&h->ck, bmax, h->a->lim.max_head);
		h->ck_active = true;
		h->ck_len = 0;
	}
	uint8_t *p = h->in + head + h->ck_len;
	size_t avail = h->in_len - head - h->ck_len;
	size_t used, produced;
	int rc = http_chunked_decode(&h->ck, p, avail, h->a->kvhttp ? p : NULL, &used,
				     &produced);
	/* Close the gap the framing left: the rest follows the data. */
	memmove(p + produced, p + used, avail - used);
	h->in_len -= used - produced;
	h->ck_len += produced;
	return rc;
}

/* The peer waits for "100 Continue" before it sends the body. */
static void send_continue(struct hconn *h, const struct http_request *req)
{
	static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
	if (req->expect_continue && !h->sent_continue) {
		h->sent_continue = true;
		tcp_write(h->c->flow, cont, sizeof(cont) - 1);
	}
}

/*
 * Answer what can be answered.  Return: false if the connection is gone
 */
static bool drive(struct hconn *h)
{
	struct http_app *a = h->a;
	for (;;) {
		if (h->busy) {
			if (!pump(h))
				return false;
			if (h->busy) {
				set_paused(h, h->in_len >= a->lim.max_head);
				return true;
			}
		}
		if (h->close_after || (h->eof && h->in_len == 0)) {
			hconn_close(h);
			return false;
		}
		set_paused(h, false);
		if (!h->in_len)
			return true;
		struct http_request req;
		int rc = http_parse_request(h->in, h->in_len, &a->lim, &req, a->hdrs);
		if (rc == 0) {
			if (h->eof) {  /* the peer will send no more: an incomplete request */
				hconn_close(h);
				return false;
			}
			return true;
		}
		if (rc < 0) {
			if (!respond_error(h, NULL, -rc, NULL))
				return false;
			continue;
		}
		/* A body: http skips a small one; kvhttp reads one up to max_body. */
		uint64_t blen = req.has_length ? req.content_length : 0;
		uint64_t bmax = a->kvhttp ? a->cfg->max_body : HTTP_IGNORED_BODY;
		if (req.chunked) {
			int ck = read_chunked(h, (size_t)rc, bmax);
			if (ck < 0) {
				if (!respond_error(h, &req, -ck, NULL))
					return false;
				continue;
			}
			if (ck == 0) {
				if (h->eof) {
					hconn_close(h);
					return false;
				}
				send_continue(h, &req);
				return true;
			}
			blen = h->ck_len;
		} else if (blen > bmax) {
			if (!respond_error(h, &req, 413, NULL))
				return false;
			continue;
		} else if (h->in_len - (size_t)rc < blen) {
			if (h->eof) {
				hconn_close(h);
				return false;
			}
			send_continue(h, &req);
			if (h->in_cap < (size_t)rc + blen) {  /* room for the whole body */
				uint8_t *p = realloc(h->in, (size_t)rc + blen);
				if (!p) {
					hconn_close(h);
					return false;
				}
				h->in = p;
				h->in_cap = (size_t)rc + blen;
			}
			return true;
		}
		/* The store as of now: a reload may have replaced it. */
		a->kv = a->ctx->kv(a->ctx, a->cfg->kv);
		bool ok = !a->kv ? respond_error(h, &req, 503, NULL) :
			a->kvhttp ? handle_kvhttp(h, &req, h->in + rc, (size_t)blen) :
			handle_http(h, &req);
		if (!ok)
			return false;
		consume(h, (size_t)rc + (size_t)blen);
	}
}

static void http_accepted(struct tcp_conn *c)
{
	struct http_app *a = c->srv->ctx;
	if (c->srv->nconns > a->cfg->max_connections) {
		tcp_conn_close(c);
		return;
	}
	struct hconn *h = calloc(1, sizeof(*h));
	if (!h) {
		tcp_conn_close(c);
		return;
	}
	h->a = a;
	h->c = c;
	c->app = h;
	h->last_active = a->ctx->mono_ns();
	struct tcp_flow_info fi;
	if (!tcp_flow_info(c->flow, &fi))
		ipv4_addr_format(fi.remote_addr, h->peer);
	else
		strcpy(h->peer, "-");
}

static void http_recv(struct tcp_conn *c, const uint8_t *data, size_t len)
{
	struct hconn *h = c->app;
	if (!h)
		return;
	h->last_active = h->a->ctx->mono_ns();
	if (len == 0) {
		h->eof = true;
		if (!h->busy)
			drive(h);
		return;
	}
	if (h->close_after)
		return;  /* answering an error: the rest is dropped */
	if (h->in_len + len > h->in_cap) {
		size_t cap = h->in_cap ? h->in_cap : 4096;
		while (cap < h->in_len + len)
			cap *= 2;
		uint8_t *p = realloc(h->in, cap);
		if (!p) {
			hconn_close(h);
			return;
		}
		h->in = p;
		h->in_cap = cap;
	}
	if (!h->in_len)
		h->req_start = h->last_active;
	memcpy(h->in + h->in_len, data, len);
	h->in_len += len;
	if (h->busy) {
		set_paused(h, h->in_len >= h->a->lim.max_head);
		return;
	}
	drive(h);
}

static void http_writable(struct tcp_conn *c)
{
	struct hconn *h = c->app;
	if (h && h->busy)
		drive(h);
}

static void http_freeing(struct tcp_conn *c)
{
	struct hconn *h = c->app;
	if (!h)
		return;
	free(h->in);
	free(h->out);
	kv_key_free(&h->key);
	kv_close(h->kv);
}

static const struct tcp_server_ops http_tcp_ops = {
	.accepted = http_accepted,
	.recv = http_recv,
	.writable = http_writable,
	.freeing = http_freeing,
};

static void http_tick(void *arg)
{
	struct http_app *a = arg;
	uint64_t now = a->ctx->mono_ns(), idle = a->cfg->idle_timeout_ns;
	struct tcp_conn *next;
	for (struct tcp_conn *c = a->tcp.conns; c; c = next) {
		next = c->next;
		struct hconn *h = c->app;
		if (!h)
			continue;
		if (!h->busy && h->in_len && !h->close_after && now - h->req_start > idle) {
			/* A request that does not complete: 408, then close. */
			if (respond_error(h, NULL, 408, NULL))
				drive(h);
			continue;
		}
		if (now - h->last_active > idle)
			hconn_close(h);
	}
	a->ctx->timer_arm(a->tick, a->tick_ns);
}

static int start(struct tapir_app_ctx *ctx, void **state, bool kvhttp)
{
	const struct app_http_config *cfg = &ctx->cfg->params.http;
	struct http_app *a = calloc(1, sizeof(*a));
	if (!a)
		return -ENOMEM;
	a->ctx = ctx;
	a->cfg = cfg;
	a->kvhttp = kvhttp;
	a->kv = ctx->kv(ctx, cfg->kv);
	if (!a->kv) {
		log_err(ctx->log, "app %s: no key-value store %s", ctx->name, cfg->kv);
		free(a);
		return -ENOENT;
	}
	a->lim.max_head = cfg->max_header_bytes;
	a->lim.max_target = cfg->max_header_bytes < HTTP_MAX_PATH ? cfg->max_header_bytes :
		HTTP_MAX_PATH;
	a->lim.max_headers = cfg->max_headers;
	a->hdrs = calloc(cfg->max_headers, sizeof(*a->hdrs));
	a->tick = ctx->timer_new(ctx, http_tick, a);
	if (!a->hdrs || !a->tick) {
		http_stop(a);
		return -ENOMEM;
	}
	a->tick_ns = cfg->idle_timeout_ns / 4;
	if (a->tick_ns > 1000000000ull)
		a->tick_ns = 1000000000ull;
	if (a->tick_ns < 100000000ull)
		a->tick_ns = 100000000ull;
	int rc = tcp_server_start(&a->tcp, ctx->st, ctx->log, ctx->name, cfg->port,
				  &http_tcp_ops, a);
	if (rc < 0) {
		http_stop(a);
		return rc;
	}
	ctx->timer_arm(a->tick, a->tick_ns);
	log_info(ctx->log, "app %s: %s on TCP port %u from kv %s", ctx->name,
		 kvhttp ? "kvhttp" : "http", cfg->port, cfg->kv);
	*state = a;
	return 0;
}

int http_start(struct tapir_app_ctx *ctx, void **state)
{
	return start(ctx, state, false);
}

int kvhttp_start(struct tapir_app_ctx *ctx, void **state)
{
	return start(ctx, state, true);
}

/* The runtime re-opened its stores: digests cached from the old ones go. */
void http_reloaded(void *state)
{
	struct http_app *a = state;
	for (size_t i = 0; i < DIGEST_SLOTS; i++) {
		free(a->cache[i].path);
		a->cache[i].path = NULL;
	}
}

void http_stop(void *state)
{
	struct http_app *a = state;
	if (!a)
		return;
	tcp_server_stop(&a->tcp);
	if (a->tick)
		a->ctx->timer_free(a->tick);
	log_debug(a->ctx->log, "app %s: %" PRIu64 " requests, %" PRIu64 " errors", a->ctx->name,
		  a->requests, a->errors);
	for (size_t i = 0; i < DIGEST_SLOTS; i++)
		free(a->cache[i].path);
	free(a->hdrs);
	free(a);
}
