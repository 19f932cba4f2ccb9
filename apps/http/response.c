/*
 * response.c - HTTP responses built without a stack: status line and header
 *              fields, error pages, content types, ETag, conditional
 *              requests (If-None-Match, If-Modified-Since), byte ranges,
 *              and kvhttp's JSON listing (jansson)
 *
 * Nothing here does I/O or keeps state: conn.c puts what these build into a
 * connection, and tests/apps/test_http_response.c checks them alone.
 */
#include <inttypes.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http_internal.h"

void http_buf_add(struct http_buf *b, const void *data, size_t n)
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

void http_buf_printf(struct http_buf *b, const char *fmt, ...)
{
	char tmp[1024];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	http_buf_add(b, tmp, (size_t)n < sizeof(tmp) ? (size_t)n : sizeof(tmp) - 1);
}

const char *http_status_text(int s)
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

const char *http_content_type(const char *path)
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

int http_kv_status(int err)
{
	switch (err < 0 ? -err : err) {
	case TAPIR_KV_E_NOT_FOUND: return 404;
	case TAPIR_KV_E_VALUE_EXPECTED:
	case TAPIR_KV_E_DICT_EXPECTED:
	case TAPIR_KV_E_ALREADY_PRESENT:
	case TAPIR_KV_E_RENAME_PREFIX: return 409;
	case TAPIR_KV_E_INVALID: return 400;
	case TAPIR_KV_E_NO_SPACE: return 507;
	default: return 500;
	}
}

bool http_status_closes(int status)
{
	return status == 400 || status == 408 || status == 413 || status == 414 ||
	       status == 431 || status == 505 || status == 501 || status == 411;
}

size_t http_error_body(int status, char *buf, size_t len)
{
	int n = snprintf(buf, len, "%d %s\n", status, http_status_text(status));
	if (n < 0)
		return 0;
	return (size_t)n < len ? (size_t)n : len - 1;
}

/* Append @v in decimal. */
static void buf_add_u64(struct http_buf *b, uint64_t v)
{
	char d[20];
	size_t n = 0;
	do
		d[sizeof(d) - ++n] = (char)('0' + v % 10);
	while ((v /= 10));
	http_buf_add(b, d + sizeof(d) - n, n);
}

static void buf_add_str(struct http_buf *b, const char *s)
{
	http_buf_add(b, s, strlen(s));
}

/* Built from pieces (no printf: this runs for every response). */
void http_head_build(struct http_buf *b, const struct http_head *hd)
{
	int st = hd->status;
	char code[4] = { (char)('0' + st / 100 % 10), (char)('0' + st / 10 % 10),
			 (char)('0' + st % 10), ' ' };
	http_buf_add(b, "HTTP/1.1 ", 9);
	http_buf_add(b, code, 4);
	buf_add_str(b, http_status_text(st));
	buf_add_str(b, "\r\nServer: tapir\r\nDate: ");
	buf_add_str(b, hd->date);
	http_buf_add(b, "\r\n", 2);
	if (hd->ctype) {
		http_buf_add(b, "Content-Type: ", 14);
		buf_add_str(b, hd->ctype);
		http_buf_add(b, "\r\n", 2);
	}
	if (hd->status != 204 && hd->status != 304) {
		http_buf_add(b, "Content-Length: ", 16);
		buf_add_u64(b, hd->content_length);
		http_buf_add(b, "\r\n", 2);
	}
	if (hd->extra)
		buf_add_str(b, hd->extra);
	if (hd->extra2)
		buf_add_str(b, hd->extra2);
	if (hd->close)
		http_buf_add(b, "Connection: close\r\n", 19);
	else if (hd->keep_alive)
		http_buf_add(b, "Connection: keep-alive\r\n", 24);
	http_buf_add(b, "\r\n", 2);
}

void http_etag_format(const uint8_t digest[TAPIR_KV_DIGEST_LEN], char etag[HTTP_ETAG_LEN])
{
	static const char hex[] = "0123456789abcdef";
	etag[0] = '"';
	for (int i = 0; i < 16; i++) {
		etag[1 + 2 * i] = hex[digest[i] >> 4];
		etag[2 + 2 * i] = hex[digest[i] & 15];
	}
	etag[33] = '"';
	etag[34] = '\0';
}

bool http_etag_match(const struct http_str *v, const char *etag)
{
	size_t n = strlen(etag);
	if (v->len == 1 && v->p[0] == '*')
		return true;
	for (size_t i = 0; i + n <= v->len; i++)
		if (!memcmp(v->p + i, etag, n))
			return true;
	return false;
}

size_t http_value_fields(time_t mtime, const char *etag, char *buf, size_t len)
{
	char lm[32];
	http_date_format(mtime, lm);
	int n = snprintf(buf, len, "ETag: %s\r\nLast-Modified: %s\r\nAccept-Ranges: bytes\r\n",
			 etag, lm);
	if (n < 0 || (size_t)n >= len) {
		buf[0] = '\0';
		return 0;
	}
	return (size_t)n;
}

void http_value_reply(const struct http_request *req, uint64_t size, time_t mtime,
		      const char *etag, struct http_value_reply *r)
{
	char f[HTTP_VALUE_FIELDS_LEN];
	size_t n = http_value_fields(mtime, etag, f, sizeof(f));
	http_value_reply_fields(req, size, mtime, etag, f, n, r);
}

void http_value_reply_fields(const struct http_request *req, uint64_t size, time_t mtime,
			     const char *etag, const char *fields, size_t fields_len,
			     struct http_value_reply *r)
{
	size_t used = fields_len < sizeof(r->extra) ? fields_len : 0;
	memcpy(r->extra, fields, used);
	r->extra[used] = '\0';
	const struct http_str *inm = http_header_find(req, "if-none-match");
	const struct http_str *ims = http_header_find(req, "if-modified-since");
	time_t since;
	bool not_modified = inm ? http_etag_match(inm, etag) :
		(ims && !http_date_parse(ims, &since) && mtime <= since);
	r->first = 0;
	r->len = 0;
	if (not_modified) {
		r->status = 304;
		return;
	}
	const struct http_str *range = req->method == HTTP_M_GET ?
		http_header_find(req, "range") : NULL;
	const struct http_str *if_range = http_header_find(req, "if-range");
	if (range && if_range && !(if_range->len == strlen(etag) &&
				   !memcmp(if_range->p, etag, if_range->len)))
		range = NULL;  /* the client's copy is stale: send it all */
	if (range) {
		uint64_t first, last;
		int rc = http_parse_range(range, size, &first, &last);
		if (rc < 0) {
			snprintf(r->extra + used, sizeof(r->extra) - used,
				 "Content-Range: bytes */%" PRIu64 "\r\n", size);
			r->status = 416;
			return;
		}
		if (rc > 0) {
			snprintf(r->extra + used, sizeof(r->extra) - used,
				 "Content-Range: bytes %" PRIu64 "-%" PRIu64 "/%" PRIu64 "\r\n",
				 first, last, size);
			r->status = 206;
			r->first = first;
			r->len = last - first + 1;
			return;
		}
	}
	r->status = 200;
	r->len = size;
}

/* Length of the valid UTF-8 sequence at @s (@n bytes left), 0 if none. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
	unsigned char c = s[0];
	if (c < 0x80)
		return 1;
	size_t len = c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3 :
		c >= 0xf0 && c <= 0xf4 ? 4 : 0;
	if (!len || len > n)
		return 0;
	for (size_t i = 1; i < len; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	if ((c == 0xe0 && s[1] < 0xa0) || (c == 0xed && s[1] > 0x9f) ||  /* overlong, surrogate */
	    (c == 0xf0 && s[1] < 0x90) || (c == 0xf4 && s[1] > 0x8f))    /* overlong, > U+10FFFF */
		return 0;
	return len;
}

/* A JSON string of @name; bytes that are not UTF-8 become U+FFFD. */
static json_t *json_name(const char *name)
{
	json_t *s = json_string(name);
	if (s)
		return s;
	size_t n = strlen(name);
	char *fixed = malloc(3 * n + 1);
	if (!fixed)
		return NULL;
	size_t o = 0;
	for (size_t i = 0; i < n;) {
		size_t l = utf8_seq((const unsigned char *)name + i, n - i);
		if (l) {
			memcpy(fixed + o, name + i, l);
			o += l;
			i += l;
		} else {
			memcpy(fixed + o, "\xef\xbf\xbd", 3);
			o += 3;
			i++;
		}
	}
	s = json_stringn(fixed, o);
	free(fixed);
	return s;
}

char *http_listing_json(const struct tapir_kv_entry *e, size_t n)
{
	json_t *arr = json_array();
	for (size_t i = 0; arr && i < n; i++) {
		json_t *o = json_pack("{s:o,s:s}", "name", json_name(e[i].name), "type",
				      e[i].kind == TAPIR_KV_DICT ? "dictionary" : "value");
		if (!o || json_array_append_new(arr, o)) {
			json_decref(arr);
			arr = NULL;
		}
	}
	char *s = arr ? json_dumps(arr, JSON_COMPACT) : NULL;
	json_decref(arr);
	char *line = s ? realloc(s, strlen(s) + 2) : NULL;
	if (!line) {
		free(s);
		return NULL;
	}
	strcat(line, "\n");
	return line;
}
