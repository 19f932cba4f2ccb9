/*
 * fetch.c - a tapir app of one's own, the client side: resolve a name,
 *           connect, download over HTTP/1.1, store the body in a KV store
 *
 * Theory of operation
 *
 * hello (examples/hello) shows the server side of the API; fetch shows the
 * client side.  At start() it parses its url key (http://HOST[:PORT]/PATH),
 * asks the instance's resolver for HOST (ctx->resolve(), tapir/dns.h:
 * asynchronous, cancelled by the runtime if still running at stop()),
 * connects to the first address the stack can reach, IPv4 or IPv6
 * (tapir_tcp_connect()), sends one GET
 * with Connection: close and reads the answer: the status line and headers
 * (at most 16 KiB), then the body as Content-Length says, or chunked
 * (RFC 9112 7.1), or up to the end of the connection.
 *
 * Back-pressure: the body goes to the store through a buffer of 64 KiB that
 * a timer writes out (as a slow or asynchronous store would).  When the
 * buffer is full the app stops reading (tapir_tcp_read_pause()): the stack
 * keeps what arrives up to the flow's rcvbuf and its advertised window
 * closes, so the server waits.  Once the timer has written the buffer out,
 * reading resumes.  The body is written to KEY.part with
 * tapir_kv_set_partial() and renamed to KEY when complete, so KEY is
 * either absent or whole.
 *
 *   [kv.store]
 *   store = dir:/var/lib/tapir/downloads
 *   writable = true
 *   [app.get]
 *   type = fetch
 *   url = http://files.example.test:8080/blob.bin
 *   kv = store
 *   key = /downloads/blob.bin
 *
 * The outcome is logged: "fetch: stored N bytes at KEY" or
 * "fetch: failed: WHY".
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tapir/app.h"
#include "tapir/dns.h"
#include "tapir/tcp.h"

#define FETCH_BUF (64 * 1024)
#define FETCH_HEAD_MAX (16 * 1024)

struct fetch_params {
	char url[256];
	char kv[33];
	char key[200];
	uint64_t max_size;
};

enum body_mode { BODY_LENGTH, BODY_CHUNKED, BODY_EOF };
enum chunk_state { CH_SIZE, CH_EXT, CH_SIZE_LF, CH_DATA, CH_DATA_CR, CH_DATA_LF, CH_TRAILER };

struct fetch {
	struct tapir_app_ctx *ctx;
	const struct fetch_params *p;
	char host[200], path[256];
	uint16_t port;
	struct tapir_dns_query *q;
	bool connecting;
	struct tapir_tcp_flow *flow;
	struct tapir_timer *timer;
	bool done;
	/* the head */
	char head[FETCH_HEAD_MAX];
	size_t head_len;
	bool in_body;
	enum body_mode mode;
	uint64_t remaining;          /* BODY_LENGTH: bytes still to come */
	enum chunk_state ch;
	uint64_t chunk_left;
	unsigned chunk_digits;
	/* the body */
	uint8_t *buf;
	size_t buf_len, buf_cap;
	uint64_t stored;             /* bytes written to KEY.part */
	bool paused;
	bool finished;               /* the whole body is in (buf may still hold some) */
};

static void fail(struct fetch *f, const char *why)
{
	if (f->done)
		return;
	f->done = true;
	tapir_log_err(f->ctx->log, "fetch: failed: %s", why);
	if (f->flow) {
		tapir_tcp_abort(f->flow);
		f->flow = NULL;
	}
}

static struct tapir_kv_store *store(struct fetch *f)
{
	return f->ctx->kv(f->ctx, f->p->kv);
}

/* Write the buffer out to KEY.part; at the end rename it to KEY. */
static void flush(void *arg)
{
	struct fetch *f = arg;
	struct tapir_kv_key part = { 0 }, key = { 0 };
	char pname[sizeof(f->p->key) + 8];
	int rc = 0;

	if (f->done)
		return;
	snprintf(pname, sizeof(pname), "%s.part", f->p->key);
	if (tapir_kv_key_parse(pname, &part) || tapir_kv_key_parse(f->p->key, &key)) {
		fail(f, "bad key");
		goto out;
	}
	if (f->buf_len || !f->stored) {
		rc = tapir_kv_set_partial(store(f), &part, f->stored, f->buf, f->buf_len);
		if (rc) {
			fail(f, "cannot write to the store");
			goto out;
		}
		f->stored += f->buf_len;
		f->buf_len = 0;
	}
	if (f->finished) {
		if (tapir_kv_rename(store(f), &part, &key)) {
			fail(f, "cannot rename into place");
			goto out;
		}
		f->done = true;
		tapir_log_info(f->ctx->log, "fetch: stored %llu bytes at %s",
			       (unsigned long long)f->stored, f->p->key);
		if (f->flow) {
			tapir_tcp_close(f->flow);
			f->flow = NULL;
		}
	} else if (f->paused && f->flow) {
		f->paused = false;
		tapir_tcp_read_pause(f->flow, false);   /* may deliver queued data at once */
	}
out:
	tapir_kv_key_free(&part);
	tapir_kv_key_free(&key);
}

/*
 * Body bytes in order, into the buffer.  A recv() callback must take all it
 * is given, so the buffer grows past FETCH_BUF when one delivery does not
 * fit; reading is paused from FETCH_BUF / 2 on (on_recv()), so it holds at
 * most that plus one delivery (at most the flow's rcvbuf).
 * Return: @n, or 0 after fail()
 */
static size_t body_bytes(struct fetch *f, const uint8_t *d, size_t n)
{
	if (f->stored + f->buf_len + n > f->p->max_size) {
		fail(f, "the body is larger than max_size");
		return 0;
	}
	if (f->buf_len + n > f->buf_cap) {
		size_t cap = f->buf_len + n > FETCH_BUF ? f->buf_len + n : FETCH_BUF;
		uint8_t *b = realloc(f->buf, cap);

		if (!b) {
			fail(f, "out of memory");
			return 0;
		}
		f->buf = b;
		f->buf_cap = cap;
	}
	memcpy(f->buf + f->buf_len, d, n);
	f->buf_len += n;
	return n;
}

static void body_done(struct fetch *f)
{
	f->finished = true;
	f->ctx->timer_arm(f->timer, 0);
}

/* The chunked decoder: consume @d, give the data to body_bytes().
 * Return: bytes consumed (less than @n after fail() or at the end) */
static size_t chunked(struct fetch *f, const uint8_t *d, size_t n)
{
	size_t i = 0;

	while (i < n && !f->done && !f->finished) {
		uint8_t c = d[i];

		switch (f->ch) {
		case CH_SIZE: {
			int v = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
				: c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
			if (v >= 0) {
				if (++f->chunk_digits > 15) {
					fail(f, "chunk size too long");
					return i;
				}
				f->chunk_left = f->chunk_left * 16 + (uint64_t)v;
			} else if (!f->chunk_digits) {
				fail(f, "bad chunk size");
				return i;
			} else if (c == '\r') {
				f->ch = CH_SIZE_LF;
			} else if (c == ';' || c == ' ' || c == '\t') {
				f->ch = CH_EXT;
			} else {
				fail(f, "bad chunk size");
				return i;
			}
			i++;
			break;
		}
		case CH_EXT:
			if (c == '\r')
				f->ch = CH_SIZE_LF;
			i++;
			break;
		case CH_SIZE_LF:
			if (c != '\n') {
				fail(f, "bad chunk line");
				return i;
			}
			i++;
			f->ch = f->chunk_left ? CH_DATA : CH_TRAILER;
			f->head_len = 0;   /* the trailer's current line length */
			break;
		case CH_DATA: {
			size_t want = n - i < f->chunk_left ? n - i : (size_t)f->chunk_left;
			size_t took = body_bytes(f, d + i, want);

			if (took < want)
				return i;   /* failed */
			i += took;
			f->chunk_left -= took;
			if (!f->chunk_left)
				f->ch = CH_DATA_CR;
			break;
		}
		case CH_DATA_CR:
		case CH_DATA_LF:
			if (c != (f->ch == CH_DATA_CR ? '\r' : '\n')) {
				fail(f, "no CRLF after chunk data");
				return i;
			}
			i++;
			if (f->ch == CH_DATA_CR) {
				f->ch = CH_DATA_LF;
			} else {
				f->ch = CH_SIZE;
				f->chunk_digits = 0;
				f->chunk_left = 0;
			}
			break;
		case CH_TRAILER:
			/* trailer fields up to an empty line */
			i++;
			if (c == '\n') {
				if (f->head_len <= 1)   /* "\r\n" alone */
					body_done(f);
				f->head_len = 0;
			} else if (++f->head_len > FETCH_HEAD_MAX) {
				fail(f, "trailer too long");
				return i;
			}
			break;
		}
	}
	return i;
}

/* Feed body bytes.  Return: bytes taken */
static size_t body(struct fetch *f, const uint8_t *d, size_t n)
{
	size_t took;

	if (f->mode == BODY_CHUNKED)
		return chunked(f, d, n);
	if (f->mode == BODY_LENGTH && n > f->remaining)
		n = (size_t)f->remaining;
	took = body_bytes(f, d, n);
	if (f->mode == BODY_LENGTH) {
		f->remaining -= took;
		if (!f->remaining)
			body_done(f);
	}
	return took;
}

/* Case-insensitive header lookup in the head; Return: the value or NULL */
static const char *header(const char *head, const char *name, char *val, size_t vlen)
{
	size_t nl = strlen(name);

	for (const char *l = strstr(head, "\r\n"); l; l = strstr(l + 2, "\r\n")) {
		const char *s = l + 2, *e;

		if (strncasecmp(s, name, nl) || s[nl] != ':')
			continue;
		s += nl + 1;
		while (*s == ' ' || *s == '\t')
			s++;
		e = strstr(s, "\r\n");
		if (!e || (size_t)(e - s) >= vlen)
			return NULL;
		memcpy(val, s, (size_t)(e - s));
		val[e - s] = 0;
		return val;
	}
	return NULL;
}

static int parse_head(struct fetch *f)
{
	char v[64];
	int status;

	if (sscanf(f->head, "HTTP/1.%*d %d", &status) != 1)
		return fail(f, "not an HTTP/1.x answer"), -1;
	if (status != 200) {
		char msg[64];

		snprintf(msg, sizeof(msg), "HTTP status %d", status);
		return fail(f, msg), -1;
	}
	if (header(f->head, "Transfer-Encoding", v, sizeof(v))) {
		if (strcasecmp(v, "chunked"))
			return fail(f, "unknown transfer coding"), -1;
		f->mode = BODY_CHUNKED;
		f->ch = CH_SIZE;
	} else if (header(f->head, "Content-Length", v, sizeof(v))) {
		char *end;

		f->remaining = strtoull(v, &end, 10);
		if (*end || end == v)
			return fail(f, "bad Content-Length"), -1;
		f->mode = BODY_LENGTH;
		if (f->remaining > f->p->max_size)
			return fail(f, "the body is larger than max_size"), -1;
		if (!f->remaining)
			body_done(f);
	} else {
		f->mode = BODY_EOF;
	}
	f->in_body = true;
	return 0;
}

static void on_recv(void *arg, struct tapir_tcp_flow *flow, const uint8_t *d, size_t n)
{
	struct fetch *f = arg;

	(void)flow;
	if (f->done)
		return;
	if (!n) {   /* end of stream */
		if (f->in_body && f->mode == BODY_EOF)
			body_done(f);
		else if (!f->finished)
			fail(f, "the connection ended before the body did");
		return;
	}
	while (!f->in_body && n) {
		char *end;

		if (f->head_len + 1 >= sizeof(f->head)) {
			fail(f, "response head too long");
			return;
		}
		f->head[f->head_len++] = (char)*d++;
		n--;
		f->head[f->head_len] = 0;
		end = f->head_len >= 4 ? strstr(f->head + f->head_len - 4, "\r\n\r\n") : NULL;
		if (end && parse_head(f))
			return;
	}
	if (f->finished && n) {
		fail(f, "data after the body");
		return;
	}
	if (!n || f->finished)
		return;
	size_t took = body(f, d, n);
	if (f->done)
		return;
	if (took < n) {
		fail(f, "data after the body");
		return;
	}
	/* Back-pressure: with half the buffer used, stop reading (the stack
	 * queues what comes next and closes the window) until the timer has
	 * written the buffer out */
	if (f->buf_len >= FETCH_BUF / 2 && !f->paused && !f->finished) {
		f->paused = true;
		tapir_tcp_read_pause(f->flow, true);
		f->ctx->timer_arm(f->timer, 1000000);   /* a "slow store": 1 ms */
	}
}

static void on_closed(void *arg, struct tapir_tcp_flow *flow, int err)
{
	struct fetch *f = arg;

	(void)flow;
	if (err && !f->finished)
		fail(f, "the connection was reset");
}

static const struct tapir_tcp_callbacks fetch_callbacks = { .recv = on_recv, .closed = on_closed };

static void on_connected(void *arg, struct tapir_tcp_flow *flow, int err)
{
	struct fetch *f = arg;
	char req[800];
	int n;

	f->connecting = false;
	if (err) {
		char msg[80];

		snprintf(msg, sizeof(msg), "cannot connect: %s", strerror(-err));
		fail(f, msg);
		return;
	}
	f->flow = flow;
	tapir_tcp_flow_set_callbacks(flow, &fetch_callbacks, f);
	char port[8] = "";

	if (f->port != 80)
		snprintf(port, sizeof(port), ":%u", f->port);
	n = snprintf(req, sizeof(req),
		     "GET %s HTTP/1.1\r\nHost: %s%s\r\nUser-Agent: tapir-fetch\r\n"
		     "Accept: */*\r\nConnection: close\r\n\r\n", f->path, f->host, port);
	if (tapir_tcp_write(flow, req, (size_t)n) != n)
		fail(f, "cannot send the request");
}

static void on_resolved(void *arg, const struct tapir_dns_result *r)
{
	struct fetch *f = arg;
	char a[TAPIR_ADDR_STRLEN], msg[400];
	int rc;

	f->q = NULL;
	if (r->err) {
		snprintf(msg, sizeof(msg), "%s: %s", f->host, tapir_dns_strerror(r->err));
		fail(f, msg);
		return;
	}
	for (size_t i = 0; i < r->naddrs; i++) {
		tapir_log_info(f->ctx->log, "fetch: %s is %s, connecting to port %u", f->host,
			       tapir_addr_format(&r->addrs[i], a), f->port);
		rc = tapir_tcp_connect(f->ctx->st, &r->addrs[i], f->port, NULL, on_connected, f);
		if (rc == -EAFNOSUPPORT || rc == -EADDRNOTAVAIL || rc == -ENETUNREACH)
			continue;	/* not this family here: the next address */
		if (rc) {
			snprintf(msg, sizeof(msg), "cannot connect: %s", strerror(-rc));
			fail(f, msg);
			return;
		}
		f->connecting = true;
		return;
	}
	fail(f, "no address this instance can reach");
}

/* http://HOST[:PORT][/PATH] */
static int parse_url(struct fetch *f, const char *url)
{
	const char *h, *e, *slash;
	size_t hl;

	if (strncmp(url, "http://", 7))
		return -EINVAL;
	h = url + 7;
	slash = strchr(h, '/');
	e = slash ? slash : h + strlen(h);
	const char *colon = memchr(h, ':', (size_t)(e - h));
	hl = (size_t)((colon ? colon : e) - h);
	if (!hl || hl >= sizeof(f->host))
		return -EINVAL;
	memcpy(f->host, h, hl);
	f->host[hl] = 0;
	f->port = 80;
	if (colon) {
		char *end;
		unsigned long p = strtoul(colon + 1, &end, 10);

		if (end != e || !p || p > 65535)
			return -EINVAL;
		f->port = (uint16_t)p;
	}
	snprintf(f->path, sizeof(f->path), "%s", slash ? slash : "/");
	return 0;
}

static void fetch_stop(void *state)
{
	struct fetch *f = state;

	tapir_dns_cancel(f->q);
	if (f->connecting)
		tapir_tcp_connect_cancel(f->ctx->st, on_connected, f);
	if (f->flow)
		tapir_tcp_abort(f->flow);
	f->ctx->timer_free(f->timer);
	free(f->buf);
	free(f);
}

static int fetch_start(struct tapir_app_ctx *ctx, void **state)
{
	struct fetch *f = calloc(1, sizeof(*f));
	int rc;

	if (!f)
		return -ENOMEM;
	f->ctx = ctx;
	f->p = ctx->params;
	if (parse_url(f, f->p->url)) {
		tapir_log_err(ctx->log, "app %s: '%s' is not http://HOST[:PORT]/PATH", ctx->name,
			      f->p->url);
		free(f);
		return -EINVAL;
	}
	if (!ctx->kv(ctx, f->p->kv) || !ctx->kv_writable(ctx, f->p->kv)) {
		tapir_log_err(ctx->log, "app %s: [kv.%s] must exist and be writable", ctx->name,
			      f->p->kv);
		free(f);
		return -EINVAL;
	}
	f->buf = malloc(FETCH_BUF);
	f->buf_cap = FETCH_BUF;
	f->timer = ctx->timer_new(ctx, flush, f);
	if (!f->buf || !f->timer) {
		if (f->timer)
			ctx->timer_free(f->timer);
		free(f->buf);
		free(f);
		return -ENOMEM;
	}
	rc = ctx->resolve(ctx, f->host, TAPIR_AF_INET, on_resolved, f, &f->q);
	if (rc) {
		tapir_log_err(ctx->log, "app %s: cannot resolve '%s': %s", ctx->name, f->host,
			      tapir_dns_strerror(rc));
		fetch_stop(f);
		return rc;
	}
	tapir_log_info(ctx->log, "fetch: %s -> [kv.%s] %s", f->p->url, f->p->kv, f->p->key);
	*state = f;
	return 0;
}

static const struct tapir_conf_key fetch_keys[] = {
	{ "url", TAPIR_CONF_STRING, TAPIR_CONF_AT(struct fetch_params, url), .min = 8, .max = 255,
	  .help = "what to download: http://HOST[:PORT]/PATH (required)" },
	{ "kv", TAPIR_CONF_STRING, TAPIR_CONF_AT(struct fetch_params, kv), .min = 1, .max = 32,
	  .help = "a writable [kv.NAME] store (required)" },
	{ "key", TAPIR_CONF_STRING, TAPIR_CONF_AT(struct fetch_params, key), .min = 1, .max = 190,
	  .help = "where the body goes in the store (required)" },
	{ "max_size", TAPIR_CONF_SIZE, TAPIR_CONF_AT(struct fetch_params, max_size), .min = 1,
	  .max = 1ull << 40, .def = "1GiB", .help = "largest body accepted" },
};

/* url, kv and key are required; kv names a writable [kv.NAME] */
static int fetch_check(const struct tapir_app_check *k, char *err, size_t errlen)
{
	const struct fetch_params *p = k->params;
	bool writable = false;

	if (!p->url[0] || !p->kv[0] || !p->key[0]) {
		snprintf(err, errlen, "%s: [app.%s] needs url, kv and key", k->where, k->name);
		return -EINVAL;
	}
	if (!k->kv_section(k, p->kv, &writable) || !writable) {
		snprintf(err, errlen, "%s: [app.%s] kv: no writable section [kv.%s]",
			 k->key_where(k, "kv"), k->name, p->kv);
		return -EINVAL;
	}
	return 0;
}

static const struct tapir_app_conf_type fetch_conf = {
	.name = "fetch",
	.keys = fetch_keys,
	.nkeys = sizeof(fetch_keys) / sizeof(fetch_keys[0]),
	.params_size = sizeof(struct fetch_params),
	.check = fetch_check,
};

static const struct tapir_app_type fetch_type = {
	.conf = &fetch_conf,
	.start = fetch_start,
	.stop = fetch_stop,
};

int main(int argc, char **argv)
{
	const struct tapir_app_type *types[] = { &fetch_type };
	return tapir_run(argc, argv, types, 1);
}
