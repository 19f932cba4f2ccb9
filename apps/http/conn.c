/*
 * conn.c - the http and kvhttp apps' connection engine: requests in, bodies,
 *          keep-alive and pipelining, limits and timeouts, the send path
 *
 * Theory of operation
 *
 * Both types (site.c, kvhttp.c) share this engine on tcp_server; a struct
 * http_handler says what differs.  Received bytes are appended to the
 * connection's input buffer; drive() parses a request head from it
 * (http_parse.c), waits for its body when it has one (bounded: 64 KiB for
 * http, max_body for kvhttp; more is 413 and the connection closes), hands
 * the request to the handler, drops the request's bytes and goes on with the
 * next one (pipelining), one response at a time.
 *
 * A body is framed by Content-Length or by chunked transfer coding.  A
 * chunked body is decoded in place as it arrives (read_chunked()): the data
 * so far sits right behind the head, the bytes not yet decoded (and any
 * pipelined request after the body) right behind the data, so the buffer
 * holds head + decoded data + one read.  The http app does not need bodies:
 * it frames and bounds them the same way but drops the data.  Expect:
 * 100-continue is answered once the head is in and the body is not.  Before
 * any of that, a handler's check_head() may refuse the request on its head
 * (kvhttp's token): the answer goes at once and the connection closes
 * without reading the body.
 *
 * A response is a head (and a small body: an error page, a listing), built
 * by response.c into h->head, optionally followed by a byte range of a KV
 * value.  http_send() -- the one place KV data moves to the connection --
 * writes both straight into the flow's send ring: it reserves space
 * (tapir_tcp_write_reserve()), copies what is left of the head there, reads the
 * value (opened once, tapir_kv_value_open()) with tapir_kv_value_read() into
 * the space behind it and commits
 * (tapir_tcp_write_commit(), pushed at the end of the response), so a small
 * response goes out as one segment and value bytes are copied once, from
 * the store into the ring.  When the ring is full, the writable() callback
 * resumes it.  So a connection holds at most max_header_bytes + its body
 * limit of input and its response head (the ring, at most sndbuf, is the
 * flow's), whatever the value's size, and a client that does not read
 * stalls only itself.  While a response is in progress, reading pauses once
 * max_header_bytes of pipelined input are buffered.
 *
 * Timeouts: one timer per app ticks every idle_timeout / 4 (100 ms to 1 s)
 * and closes connections without progress for idle_timeout (no byte taken
 * by the peer, nothing received) and answers 408 to a request head or body
 * not complete idle_timeout after its first byte (slow clients).
 * max_connections more connections are closed at once.
 *
 * TLS (tls_store = STORE): the connection's bytes go through tls.c.
 * Received ciphertext is handed to tls_conn_input(), which runs the
 * handshake and gives the plaintext to plain_input() (the same path a
 * plain connection takes); the send path's out_reserve()/out_commit() lend
 * and encrypt one record at a time (tls_conn_reserve()/_commit()), so the
 * back-pressure above holds through TLS: at most one record of ciphertext
 * waits outside the ring.  writable() first moves that record on.  A
 * connection still in its handshake after tls_handshake_timeout is closed
 * by the tick; closing an established one sends close_notify first.
 * hsts_max_age adds Strict-Transport-Security to every response over TLS;
 * redirect_https (a plain app) answers every request with a redirect to
 * https:// on the Host of the request.
 *
 * Every request is logged (info, when access_log) as
 * "app NAME: PEER \"METHOD TARGET HTTP/1.x\" STATUS BYTES".
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http_internal.h"

/* ---- the connection engine ---- */

static bool drive(struct hconn *h);

static void hconn_close(struct hconn *h)
{
	if (h->tls)
		tls_conn_shutdown(h->tls);  /* close_notify, as room allows */
	tcp_conn_close(h->c);  /* calls http_freeing(), frees h */
}

/* The send ring, plain or through TLS (tcp.h's reserve/commit/write) */
static void *out_reserve(struct hconn *h, size_t *len, int *err)
{
	return h->tls ? tls_conn_reserve(h->tls, len, err) :
		tapir_tcp_write_reserve(h->c->flow, len, err);
}

static long out_commit(struct hconn *h, size_t n, bool push)
{
	return h->tls ? tls_conn_commit(h->tls, n, push) :
		tapir_tcp_write_commit(h->c->flow, n, push);
}

static long out_write(struct hconn *h, const void *data, size_t len)
{
	return h->tls ? tls_conn_write(h->tls, data, len) : tapir_tcp_write(h->c->flow, data, len);
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
	/* The same facts as fields, for JSON log lines */
	char method[17] = "-", target[257] = "-", st[8], by[24];
	if (req) {
		snprintf(method, sizeof(method), "%.*s", (int)(req->method_str.len > 16 ? 16 :
			 req->method_str.len), req->method_str.p);
		snprintf(target, sizeof(target), "%.*s", (int)(req->target.len > 256 ? 256 :
			 req->target.len), req->target.p);
	}
	snprintf(st, sizeof(st), "%d", status);
	snprintf(by, sizeof(by), "%" PRIu64, bytes);
	const char *const f[] = { "app", a->ctx->name, "peer", h->peer, "method", method,
				  "target", target, "status", st, "bytes", by, NULL };
	if (req)
		tapir_log_fields(a->ctx->log, TAPIR_LOG_LEVEL_INFO, f,
			 "app %s: %s \"%s %s HTTP/1.%d\" %d %" PRIu64, a->ctx->name, h->peer,
			 method, target, req->minor, status, bytes);
	else
		tapir_log_fields(a->ctx->log, TAPIR_LOG_LEVEL_INFO, f, "app %s: %s \"-\" %d %" PRIu64,
			 a->ctx->name, h->peer, status, bytes);
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

bool http_respond(struct hconn *h, const struct http_request *req, int status,
		  const char *ctype, const char *extra, const void *body, size_t body_len,
		  uint64_t stream_len)
{
	struct http_app *a = h->a;
	struct http_buf b = { 0 };
	bool head = req && req->method == HTTP_M_HEAD;
	bool no_body = head || status == 204 || status == 304;
	uint64_t clen = body ? body_len : stream_len;
	if (!req || !req->keep_alive)
		h->close_after = true;
	struct http_head hd = {
		.status = status,
		.date = date_now(a),
		.ctype = ctype,
		.extra = extra,
		.extra2 = h->tls && a->hsts[0] ? a->hsts : NULL,
		.content_length = clen,
		.close = h->close_after,
		.keep_alive = req && req->minor == 0,
	};
	http_head_build(&b, &hd);
	if (body && !no_body)
		http_buf_add(&b, body, body_len);
	tapir_kv_key_free(&h->key);
	if (b.oom) {
		free(b.p);
		tapir_kv_value_close(h->val);
		h->val = NULL;
		hconn_close(h);
		return false;
	}
	log_access(h, req, status, no_body ? 0 : clen);
	free(h->head);
	h->head = b.p;
	h->head_len = b.len;
	h->head_off = 0;
	if (!body && !no_body && stream_len) {
		h->body_end = h->body_off + stream_len;  /* from h->val, which holds its store */
	} else {
		h->body_off = h->body_end = 0;
		tapir_kv_value_close(h->val);
		h->val = NULL;
	}
	h->busy = true;
	return true;
}

bool http_respond_error(struct hconn *h, const struct http_request *req, int status,
			const char *extra)
{
	char body[128];
	size_t n = http_error_body(status, body, sizeof(body));
	if (http_status_closes(status))
		h->close_after = true;  /* the framing may be off: do not read on */
	return http_respond(h, req, status, "text/plain; charset=utf-8", extra, body, n, 0);
}

/*
 * http_send() - The send path: what is left of the response head in h->head,
 * then of the value being streamed (h->val, h->body_off to h->body_end),
 * straight into the flow's send ring: reserved, the head copied, the value
 * read behind it by tapir_kv_value_read(), committed.  The only place
 * KV data moves to a flow.
 * @h: The connection, with a response in progress (h->busy)
 *
 * Return: false if the connection is gone
 */
static bool http_send(struct hconn *h)
{
	struct http_app *a = h->a;
	for (;;) {
		size_t head_left = h->head_len - h->head_off;
		uint64_t body_left = h->body_end - h->body_off;
		if (!head_left && !body_left)
			break;
		/* All that is left: the ring lends one contiguous piece of what
		 * it has free (and says writable() when that is less). */
		size_t want = head_left + (body_left < SIZE_MAX - head_left ? (size_t)body_left :
					   SIZE_MAX - head_left);
		size_t len = want;
		int err;
		uint8_t *p = out_reserve(h, &len, &err);
		if (!p) {
			if (err == -EAGAIN)
				return true;  /* the ring is full: writable() brings us back */
			hconn_close(h);
			return false;
		}
		size_t n = head_left < len ? head_left : len;
		memcpy(p, h->head + h->head_off, n);
		h->head_off += n;
		if (n < len) {
			int64_t got = tapir_kv_value_read(h->val, h->body_off, p + n, len - n);
			if (got <= 0) {
				/* The value shrank or failed under us: the length is
				 * promised, so the connection must end (what was not
				 * committed is not sent). */
				tapir_log_warn(a->ctx->log, "app %s: reading a value at %" PRIu64
					 " failed: %s", a->ctx->name, h->body_off,
					 got < 0 ? tapir_kv_value_error(h->val) : "value shrank");
				hconn_close(h);
				return false;
			}
			n += (size_t)got;
			h->body_off += (uint64_t)got;
		}
		/* The end of a response is pushed at once. */
		bool end = h->head_off == h->head_len && h->body_off == h->body_end;
		if (out_commit(h, n, end) < 0) {
			hconn_close(h);
			return false;
		}
		h->last_active = a->ctx->mono_ns();
	}
	h->busy = false;
	tapir_kv_value_close(h->val);
	h->val = NULL;
	free(h->head);
	h->head = NULL;
	h->head_len = h->head_off = 0;
	return true;
}

/* ---- driving a connection ---- */

static void set_paused(struct hconn *h, bool paused)
{
	if (h->paused != paused) {
		h->paused = paused;
		tapir_tcp_read_pause(h->c->flow, paused);
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
	int rc = http_chunked_decode(&h->ck, p, avail, h->a->handler->keep_body ? p : NULL, &used,
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
		out_write(h, cont, sizeof(cont) - 1);
	}
}

/* redirect_https: 301 (308 for methods other than GET and HEAD, which
 * keeps the method, RFC 9110 section 15.4.9) to https://HOST[:PORT]PATH,
 * PATH the target's (of the absolute form too, RFC 9112 section 3.2.2). */
static bool redirect_https(struct hconn *h, const struct http_request *req)
{
	const struct http_str *host = http_header_find(req, "host");
	struct http_str t = req->target;
	size_t hl = 0;
	if (t.len > 7 && !strncasecmp(t.p, "http://", 7)) {
		size_t i = 7;
		while (i < t.len && t.p[i] != '/')
			i++;
		t.p += i;
		t.len -= i;
		if (!t.len)
			t = (struct http_str){ "/", 1 };
	}
	if (!host || !host->len || host->len > 255 || t.len > HTTP_MAX_PATH || !t.len ||
	    t.p[0] != '/')
		return http_respond_error(h, req, 400, NULL);
	/* The name without a port; [v6] kept whole. */
	if (host->p[0] == '[') {
		while (hl < host->len && host->p[hl] != ']')
			hl++;
		hl++;
	} else {
		while (hl < host->len && host->p[hl] != ':')
			hl++;
	}
	if (hl > host->len)
		return http_respond_error(h, req, 400, NULL);
	for (size_t i = 0; i < hl; i++) {
		char ch = host->p[i];
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || ch == '-' || ch == '.' || ch == '_' ||
		      ch == '[' || ch == ']' || ch == ':'))
			return http_respond_error(h, req, 400, NULL);
	}
	for (size_t i = 0; i < t.len; i++)
		if ((unsigned char)t.p[i] <= ' ' || t.p[i] == 0x7f)
			return http_respond_error(h, req, 400, NULL);
	size_t cap = hl + t.len + 64;
	char *loc = malloc(cap);
	if (!loc) {
		hconn_close(h);
		return false;
	}
	char port[8] = "";
	if (h->a->cfg->redirect_port != 443)
		snprintf(port, sizeof(port), ":%u", h->a->cfg->redirect_port);
	snprintf(loc, cap, "Location: https://%.*s%s%.*s\r\n", (int)hl, host->p, port,
		 (int)t.len, t.p);
	int st = req->method == HTTP_M_GET || req->method == HTTP_M_HEAD ? 301 : 308;
	bool ok = http_respond_error(h, req, st, loc);
	free(loc);
	return ok;
}

/*
 * Answer what can be answered.  Return: false if the connection is gone
 */
static bool drive(struct hconn *h)
{
	struct http_app *a = h->a;
	for (;;) {
		if (h->busy) {
			if (!http_send(h))
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
			if (!http_respond_error(h, NULL, -rc, NULL))
				return false;
			continue;
		}
		/* Refused on its head (kvhttp: no or a wrong token): answered now,
		 * before the body is read or waited for, and the connection closes
		 * (Connection: close), so the body never takes memory. */
		if (a->handler->check_head) {
			const char *extra = NULL;
			int st = a->handler->check_head(h, &req, &extra);
			if (st) {
				h->close_after = true;
				if (!http_respond_error(h, &req, st, extra))
					return false;
				continue;
			}
		}
		/* A body: http skips a small one; kvhttp reads one up to max_body. */
		uint64_t blen = req.has_length ? req.content_length : 0;
		uint64_t bmax = a->handler->keep_body ? a->cfg->max_body : HTTP_IGNORED_BODY;
		if (req.chunked) {
			int ck = read_chunked(h, (size_t)rc, bmax);
			if (ck < 0) {
				if (!http_respond_error(h, &req, -ck, NULL))
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
			if (!http_respond_error(h, &req, 413, NULL))
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
		a->kv = a->handler->no_store ? NULL : a->ctx->kv(a->ctx, a->cfg->kv);
		bool ok = a->cfg->redirect_https ? redirect_https(h, &req) :
			!a->kv && !a->handler->no_store ? http_respond_error(h, &req, 503, NULL) :
			a->handler->handle(h, &req, h->in + rc, (size_t)blen);
		if (!ok)
			return false;
		consume(h, (size_t)rc + (size_t)blen);
	}
}

static void *flow_reserve(void *io, size_t *len, int *err)
{
	return tapir_tcp_write_reserve(io, len, err);
}

static long flow_commit(void *io, size_t n, bool push)
{
	return tapir_tcp_write_commit(io, n, push);
}

static const struct tls_io flow_io = { .reserve = flow_reserve, .commit = flow_commit };

static void http_accepted(struct tcp_conn *c)
{
	struct http_app *a = c->srv->ctx;
	if (c->srv->nconns > a->cfg->max_connections) {
		tcp_conn_close(c);
		return;
	}
	struct tcp_conn *k = tcp_conn_keep(c);  /* state for the connection's life */
	struct hconn *h = k ? calloc(1, sizeof(*h)) : NULL;
	if (!h) {
		tcp_conn_close(c);
		return;
	}
	c = k;
	h->a = a;
	h->c = c;
	c->app = h;
	h->last_active = a->ctx->mono_ns();
	if (a->tls && !(h->tls = tls_conn_new(a->tls, &flow_io, c->flow, h->last_active))) {
		tcp_conn_close(c);  /* tls_max_handshakes, or memory: counted */
		return;
	}
	struct tapir_tcp_flow_info fi;
	if (!tapir_tcp_flow_info(c->flow, &fi))
		tapir_addr_format(&fi.remote_addr, h->peer);
	else
		strcpy(h->peer, "-");
}

/* Bytes of the request stream (plain, or decrypted by TLS).
 * Return: false if the connection is gone */
static bool plain_input(void *arg, const uint8_t *data, size_t len)
{
	struct hconn *h = arg;
	h->last_active = h->a->ctx->mono_ns();
	if (len == 0) {
		h->eof = true;
		return h->busy || drive(h);
	}
	if (h->close_after)
		return true;  /* answering an error: the rest is dropped */
	if (h->in_len + len > h->in_cap) {
		size_t cap = h->in_cap ? h->in_cap : 4096;
		while (cap < h->in_len + len)
			cap *= 2;
		uint8_t *p = realloc(h->in, cap);
		if (!p) {
			hconn_close(h);
			return false;
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
		return true;
	}
	return drive(h);
}

static void http_recv(struct tcp_conn *c, const uint8_t *data, size_t len)
{
	struct hconn *h = c->app;
	if (!h)
		return;
	if (!h->tls) {
		plain_input(h, data, len);
		return;
	}
	h->last_active = h->a->ctx->mono_ns();
	if (tls_conn_input(h->tls, data, len, plain_input, h) < 0)
		hconn_close(h);  /* counted by tls.c; an alert may be queued */
}

static void http_writable(struct tcp_conn *c)
{
	struct hconn *h = c->app;
	if (!h)
		return;
	if (h->tls) {  /* the record waiting outside the ring goes first */
		int rc = tls_conn_flush(h->tls);
		if (rc == -EAGAIN)
			return;
		if (rc < 0) {
			hconn_close(h);
			return;
		}
	}
	if (h->busy)
		drive(h);
}

static void http_freeing(struct tcp_conn *c)
{
	struct hconn *h = c->app;
	if (!h)
		return;
	free(h->in);
	free(h->head);
	tapir_kv_key_free(&h->key);
	tapir_kv_value_close(h->val);
	tls_conn_free(h->tls);
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
		if (h->tls && tls_conn_timed_out(h->tls, now)) {
			hconn_close(h);  /* tls_handshake_timeout: counted */
			continue;
		}
		if (!h->busy && h->in_len && !h->close_after && now - h->req_start > idle) {
			/* A request that does not complete: 408, then close. */
			if (http_respond_error(h, NULL, 408, NULL))
				drive(h);
			continue;
		}
		if (now - h->last_active > idle)
			hconn_close(h);
	}
	a->ctx->timer_arm(a->tick, a->tick_ns);
}

int http_app_start(struct tapir_app_ctx *ctx, void **state, const struct http_handler *hd)
{
	const struct app_http_config *cfg = ctx->params;
	struct http_app *a = calloc(1, sizeof(*a));
	if (!a)
		return -ENOMEM;
	a->ctx = ctx;
	a->cfg = cfg;
	a->handler = hd;
	a->kv = hd->no_store ? NULL : ctx->kv(ctx, cfg->kv);
	if (!a->kv && !hd->no_store) {
		tapir_log_err(ctx->log, "app %s: no key-value store %s", ctx->name, cfg->kv);
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
		http_app_stop(a);
		return -ENOMEM;
	}
	a->tick_ns = cfg->idle_timeout_ns / 4;
	if (a->tick_ns > 1000000000ull)
		a->tick_ns = 1000000000ull;
	if (a->tick_ns < 100000000ull)
		a->tick_ns = 100000000ull;
	if (cfg->tls_store[0] && http_tls_start(a) < 0) {
		http_app_stop(a);
		return -EINVAL;
	}
	int rc = tcp_server_start(&a->tcp, ctx->st, ctx->log, ctx->name, cfg->port,
				  &http_tcp_ops, a);
	if (rc < 0) {
		http_app_stop(a);
		return rc;
	}
	ctx->timer_arm(a->tick, a->tick_ns);
	tapir_log_info(ctx->log, "app %s: %s%s on TCP port %u%s%s", ctx->name, hd->type,
		       a->tls ? " over TLS" : "", cfg->port, hd->no_store ? "" : " from kv ",
		       hd->no_store ? "" : cfg->kv);
	*state = a;
	return 0;
}

void http_app_stop(void *state)
{
	struct http_app *a = state;
	if (!a)
		return;
	tcp_server_stop(&a->tcp);
	if (a->tick)
		a->ctx->timer_free(a->tick);
	tapir_log_debug(a->ctx->log, "app %s: %" PRIu64 " requests, %" PRIu64 " errors", a->ctx->name,
		  a->requests, a->errors);
	for (size_t i = 0; i < HTTP_DIGEST_SLOTS; i++)
		free(a->cache[i].path);
	free(a->hdrs);
	tls_server_free(a->tls);
	free(a);
}
