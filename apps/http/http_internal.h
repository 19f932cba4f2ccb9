/*
 * http_internal.h - what the files of apps/http/ share (not an API)
 *
 * conn.c      the connection engine: reading requests, bodies, keep-alive,
 *             pipelining, limits, timeouts, closing, and the send path
 *             (http_send(): the one place KV data moves to a connection,
 *             from tapir_kv_value_read() straight into the flow's send ring)
 * response.c  building responses without a stack: status line and header
 *             fields, error pages, content types, ETag, conditional
 *             requests, byte ranges, the JSON listing
 *             (tests/apps/test_http_response.c)
 * site.c      type http: GET/HEAD from a KV store, the digest cache
 * kvhttp.c    type kvhttp: GET/HEAD/PUT/DELETE, POST /_batch, token
 * https.c     the apps' side of TLS (tls.c): the server from the keys and
 *             the certificate store, reloads, counters and connection info
 * metrics.c   type metrics: GET/HEAD /metrics (Prometheus, OpenMetrics)
 *
 * The theory of operation is at the top of conn.c.
 */
#ifndef TAPIR_HTTP_INTERNAL_H
#define TAPIR_HTTP_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "apps.h"
#include "http_parse.h"
#include "tapir/kv.h"
#include "tcp_server.h"
#include "tls.h"

#define HTTP_MAX_PATH 4096            /* decoded path; also the target limit */
#define HTTP_IGNORED_BODY 65536       /* http: a request body up to this is skipped */
#define HTTP_DIGEST_SLOTS 256
#define HTTP_ETAG_LEN 35              /* '"', 32 hex digits, '"', NUL */
#define HTTP_VALUE_FIELDS_LEN 128     /* ETag, Last-Modified, Accept-Ranges: 110 bytes */

struct hconn;

/*
 * What makes an app of the engine: http (site.c) or kvhttp (kvhttp.c).
 * handle() answers one complete request with http_respond() or
 * http_respond_error(); the store as of now is in h->a->kv (not NULL,
 * unless the handler has no_store).
 */
struct http_handler {
	const char *type;              /* "http", "kvhttp" (logged) */
	bool keep_body;                /* the body is read (up to max_body), else skipped */
	bool no_store;                 /* needs no KV store (metrics): h->a->kv stays NULL */
	/* @body: the decoded request body, lent for the call.
	 * Return: false if the connection is gone */
	bool (*handle)(struct hconn *h, const struct http_request *req, const uint8_t *body,
		       size_t body_len);
	/* Optional: decide on the head alone, before any byte of the body is
	 * read (kvhttp: the token).  Return: 0 to go on, or a status answered
	 * at once, with *@extra header lines (may stay NULL); the body is then
	 * never read and the connection closes after the answer. */
	int (*check_head)(struct hconn *h, const struct http_request *req, const char **extra);
};

struct digest_slot {
	char *path;
	uint64_t size;
	struct timespec mtime;
	uint8_t digest[TAPIR_KV_DIGEST_LEN];
	char etag[HTTP_ETAG_LEN];
	char fields[HTTP_VALUE_FIELDS_LEN]; /* http_value_fields() of this value */
	size_t fields_len;
	const char *ctype;             /* http_content_type() of @path */
};

struct http_app {
	struct tapir_app_ctx *ctx;
	const struct app_http_config *cfg;
	const struct http_handler *handler;
	struct tapir_kv_store *kv;
	struct tcp_server tcp;
	struct tapir_timer *tick;
	uint64_t tick_ns;
	struct http_limits lim;
	struct http_header *hdrs;      /* scratch: one request at a time */
	struct digest_slot cache[HTTP_DIGEST_SLOTS];
	time_t date_sec;
	char date[32];
	uint64_t requests, errors;
	struct tls_server *tls;        /* tls_store: TLS on every connection; else NULL */
	char hsts[96];                 /* the Strict-Transport-Security field, or "" */
};

struct hconn {
	struct http_app *a;
	struct tcp_conn *c;
	struct tls_conn *tls;          /* NULL: plain */
	char peer[TAPIR_ADDR_STRLEN];
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
	char *head;                    /* its head (and small body), until the ring takes it */
	size_t head_len, head_off;
	struct tapir_kv_key key;             /* of the request, until http_respond() */
	struct tapir_kv_value *val;          /* the value streamed (it holds its store) */
	uint64_t body_off, body_end;
};

/* ---- conn.c ---- */

/*
 * Start a response: @status, fields of @extra (each ending "\r\n"), a body
 * of @body_len bytes from @body, or @stream_len bytes of the open value h->val
 * from h->body_off (set by the caller) when @body is NULL.  HEAD sends no body.
 * h->key is freed; h->val is closed unless it is streamed (then the response
 * owns it).
 * Return: false if the connection is gone (out of memory)
 */
bool http_respond(struct hconn *h, const struct http_request *req, int status,
		  const char *ctype, const char *extra, const void *body, size_t body_len,
		  uint64_t stream_len);
/* An error page for @status (with @extra fields, or NULL).  Return: as http_respond() */
bool http_respond_error(struct hconn *h, const struct http_request *req, int status,
			const char *extra);
/* Start an app of either type.  Return: 0, or negative errno (logged) */
int http_app_start(struct tapir_app_ctx *ctx, void **state, const struct http_handler *hd);
void http_app_stop(void *state);
/* The runtime re-opened its stores: digests cached from the old ones go. */
void http_app_reloaded(void *state);

/* ---- https.c ---- */

/* tls_store: make a->tls and load the certificates.  Return: 0 or -errno (logged) */
int http_tls_start(struct http_app *a);
/* Re-read the certificates (tapir reload, SIGHUP).  Return: 0, or -errno with
 * @err set (the old ones stay) */
int http_app_reread(void *state, char *err, size_t errlen);
/* The TLS counters (app.h's counters()) */
size_t http_app_counters(void *state, const char **layer, const char *const **names,
			 const uint64_t **values);
/* TLS version, cipher, SNI of the connection of @fi (app.h's flow_info()) */
size_t http_app_flow_info(void *state, const struct tapir_tcp_flow_info *fi,
			  struct tapir_app_field *out, size_t max);

/* ---- site.c ---- */

/* Answer GET/HEAD of the value at h->key (@path its name; see
 * http_value_reply()).  Return: false if the connection is gone */
bool http_serve_value(struct hconn *h, const struct http_request *req, const char *path);
/* The same for the value already open in h->val (h->key its key), @st its
 * size and mtime.  Return: false if the connection is gone */
bool http_serve_open(struct hconn *h, const struct http_request *req, const char *path,
		     const struct tapir_kv_stat *st);

/* ---- response.c: building, no I/O ---- */

/* A growable string for response heads and small bodies (NUL-terminated);
 * after a failed allocation @oom is set and nothing more is added. */
struct http_buf {
	char *p;
	size_t len, cap;
	bool oom;
};

void http_buf_add(struct http_buf *b, const void *data, size_t n);
void http_buf_printf(struct http_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Return: the reason phrase of @status ("Unknown" for one we never send) */
const char *http_status_text(int status);
/* Return: the Content-Type for @path's extension (application/octet-stream) */
const char *http_content_type(const char *path);
/* Return: the status answering KV error @err (either sign) */
int http_kv_status(int err);
/* Return: whether a connection closes after an error page of @status
 * (the request's framing may be off: nothing more is read) */
bool http_status_closes(int status);
/* The body of an error page, "STATUS TEXT\n", in @buf.  Return: its length */
size_t http_error_body(int status, char *buf, size_t len);

/* One response head */
struct http_head {
	int status;
	const char *date;              /* the Date field's value */
	const char *ctype;             /* Content-Type, NULL: none */
	const char *extra;             /* more fields, each ending "\r\n"; NULL: none */
	const char *extra2;            /* and more (Strict-Transport-Security); NULL: none */
	uint64_t content_length;       /* not sent with 204 and 304 */
	bool close;                    /* Connection: close */
	bool keep_alive;               /* else, Connection: keep-alive (HTTP/1.0 peers) */
};

/* Append the head (status line, fields, empty line) to @b. */
void http_head_build(struct http_buf *b, const struct http_head *hd);

/* The ETag of a value: the first 16 bytes of its digest, in hex, quoted. */
void http_etag_format(const uint8_t digest[TAPIR_KV_DIGEST_LEN], char etag[HTTP_ETAG_LEN]);
/* Does the If-None-Match list @v contain @etag ("*" matches)?  Weak comparison. */
bool http_etag_match(const struct http_str *v, const char *etag);

/* How to answer GET/HEAD of a value */
struct http_value_reply {
	int status;                    /* 200, 206, 304 or 416 */
	uint64_t first, len;           /* 200 and 206: the bytes of the value to send */
	char extra[400];               /* ETag, Last-Modified, Accept-Ranges[, Content-Range] */
};

/*
 * http_value_reply() - Decide the answer to GET/HEAD of a value
 * @req:   The request (If-None-Match, If-Modified-Since, Range, If-Range)
 * @size:  The value's size, bytes
 * @mtime: Its last modification, seconds since the epoch
 * @etag:  Its ETag (http_etag_format())
 * @r:     The answer
 *
 * If-None-Match (else If-Modified-Since) answers 304; a single satisfiable
 * byte range of a GET whose If-Range (if any) is the ETag answers 206, an
 * unsatisfiable one 416; anything else gets the whole value (200).
 */
void http_value_reply(const struct http_request *req, uint64_t size, time_t mtime,
		      const char *etag, struct http_value_reply *r);

/* The fields every answer about a value has (ETag, Last-Modified,
 * Accept-Ranges), into @buf.  Return: their length (0: @buf too small) */
size_t http_value_fields(time_t mtime, const char *etag, char *buf, size_t len);
/* http_value_reply() with those fields made already (the digest cache keeps
 * them per value: built once, not per request) */
void http_value_reply_fields(const struct http_request *req, uint64_t size, time_t mtime,
			     const char *etag, const char *fields, size_t fields_len,
			     struct http_value_reply *r);

/*
 * http_listing_json() - A dictionary's listing, as kvhttp answers GET of it
 * @e, @n: The entries (tapir_kv_list())
 *
 * [{"name":"a","type":"value"},{"name":"d","type":"dictionary"}] and a
 * newline, written by jansson; a name that is not UTF-8 is listed with
 * U+FFFD in place of each byte that is not part of a valid sequence.
 *
 * Return: the text (malloc'd, the caller frees it), or NULL: out of memory
 */
char *http_listing_json(const struct tapir_kv_entry *e, size_t n);

#endif /* TAPIR_HTTP_INTERNAL_H */
