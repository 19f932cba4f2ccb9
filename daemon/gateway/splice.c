/*
 * splice.c - a namespace TCP flow and a host socket copied both ways (all the gateway's)
 *
 * Theory of operation
 *
 * Namespace -> host: data the stack delivers goes to uv_try_write(); what
 * the socket does not take at once is copied into a uv_write() request.
 * While a splice holds flow_max bytes that way (or the pool total_max in
 * all) the namespace side is paused (tapir_tcp_read_pause(): the window
 * closes); it resumes under half of that (splice_pool_room() resumes those
 * paused for the total).  Host -> namespace: the host socket is read
 * straight into free space of the flow's send ring (its sndbuf, which the
 * owners set to flow_max; tapir_tcp_write_reserve() in libuv's alloc
 * callback, tapir_tcp_write_commit() of what read() returned), so the bytes
 * are copied once on the way, by the kernel; when the ring is full, nothing
 * is lent, libuv reports UV_ENOBUFS and host reading stops until writable().
 * So a splice holds at most flow_max each way, and a slow reader on either
 * side stops the other side's sender instead of growing memory.
 *
 * Half-close: the namespace's FIN (recv of length 0) becomes shutdown() of
 * the host socket once the queued bytes are written; the host's EOF becomes
 * tapir_tcp_shutdown(write) once the kept bytes are in the ring.  When both
 * directions are over and nothing is queued, both ends close quietly.
 * Resets: the namespace's RST, a timeout or an abort (closed() with an
 * error) closes the host socket with a RST (uv_tcp_close_reset()); a host
 * read or write error resets the namespace side (tapir_tcp_abort()).
 *
 * Ending: splice_end() releases the flow at once (its callbacks cleared, so
 * none comes later) and closes the host socket; the owner hears ending()
 * then, and freed() from the socket's close callback.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "splice.h"

static void after(struct splice *s)
{
	if (s->pool->after)
		s->pool->after(s->pool->ctx);
}

int splice_init(struct splice *s, struct splice_pool *pool, uv_loop_t *loop,
		const struct splice_ops *ops)
{
	int rc;

	memset(s, 0, sizeof(*s));
	s->pool = pool;
	s->ops = ops;
	if ((rc = uv_tcp_init(loop, &s->sock)) < 0)
		return rc;
	s->sock.data = s;
	s->next = pool->list;
	if (pool->list)
		pool->list->prev = s;
	pool->list = s;
	return 0;
}

static void sock_closed(uv_handle_t *h)
{
	struct splice *s = h->data;
	struct splice_pool *pool = s->pool;

	if (s->prev)
		s->prev->next = s->next;
	else
		pool->list = s->next;
	if (s->next)
		s->next->prev = s->prev;
	s->ops->freed(s);
}

void splice_end(struct splice *s, bool rst_ns, bool rst_host)
{
	struct splice_pool *pool = s->pool;

	if (s->closing)
		return;
	s->closing = true;
	if (s->ops->ending)
		s->ops->ending(s);
	if (s->f) {
		tapir_tcp_flow_set_callbacks(s->f, NULL, NULL);
		if (rst_ns) {
			pool->rst_to_ns++;
			tapir_tcp_abort(s->f);
		} else {
			tapir_tcp_close(s->f);
		}
		s->f = NULL;
	}
	if (rst_host && uv_tcp_close_reset(&s->sock, sock_closed) == 0) {
		pool->rst_to_host++;
		return;
	}
	uv_close((uv_handle_t *)&s->sock, sock_closed);
}

/* Both directions are over: close quietly once nothing is queued */
static void maybe_finish(struct splice *s)
{
	if (s->closing || s->to_host_queued || !s->host_shut_done || !s->host_eof || !s->ns_shut)
		return;
	splice_end(s, false, false);
}

static void host_shutdown_done(uv_shutdown_t *sh, int status)
{
	struct splice *s = sh->data;

	s->host_shut_done = true;
	if (status < 0 && status != UV_ECANCELED && !s->closing)
		s->host_error = true;
	maybe_finish(s);
	after(s);
}

static void host_shutdown(struct splice *s)
{
	if (s->host_shut || s->closing)
		return;
	s->host_shut = true;
	s->shut.data = s;
	if (uv_shutdown(&s->shut, (uv_stream_t *)&s->sock, host_shutdown_done) < 0)
		s->host_shut_done = true;
}

/* ---- namespace -> host ---- */

struct splice_write {
	uv_write_t w;
	struct splice *s;
	size_t len;
	uint8_t data[];
};

static bool over_budget(const struct splice *s)
{
	return s->to_host_queued >= s->pool->flow_max || s->pool->buffered >= s->pool->total_max;
}

static void ns_pause(struct splice *s)
{
	if (s->ns_paused || !s->f)
		return;
	s->ns_paused = true;
	s->paused_total = s->to_host_queued < s->pool->flow_max;
	if (s->paused_total)
		s->pool->total_paused = true;
	s->pool->ns_paused++;
	tapir_tcp_read_pause(s->f, true);
}

static void ns_maybe_resume(struct splice *s)
{
	const struct splice_pool *pool = s->pool;

	if (!s->ns_paused || !s->f || s->closing)
		return;
	if (s->to_host_queued > pool->flow_max / 2 || pool->buffered > pool->total_max / 2)
		return;
	s->ns_paused = false;
	s->paused_total = false;
	tapir_tcp_read_pause(s->f, false);	/* may deliver (ns_recv) at once */
}

void splice_pool_room(struct splice_pool *pool)
{
	if (!pool->total_paused || pool->buffered > pool->total_max / 2)
		return;
	pool->total_paused = false;
	for (struct splice *s = pool->list; s; s = s->next)
		if (s->paused_total)
			ns_maybe_resume(s);
}

static void host_written(uv_write_t *w, int status)
{
	struct splice_write *r = (struct splice_write *)w;
	struct splice *s = r->s;
	struct splice_pool *pool = s->pool;

	s->to_host_queued -= r->len;
	pool->buffered -= r->len;
	free(r);
	if (status < 0) {
		if (!s->closing) {
			s->host_error = true;
			splice_end(s, true, false);
		}
	} else {
		ns_maybe_resume(s);
		if (s->ns_eof && !s->to_host_queued)
			host_shutdown(s);
		maybe_finish(s);
	}
	splice_pool_room(pool);
	after(s);
}

static void ns_recv(void *ctx, struct tapir_tcp_flow *f, const uint8_t *data, size_t len)
{
	struct splice *s = ctx;
	struct splice_pool *pool = s->pool;
	size_t done = 0;

	(void)f;
	if (s->closing)
		return;
	if (len == 0) {
		s->ns_eof = true;
		if (!s->to_host_queued)
			host_shutdown(s);
		return;
	}
	if (!s->to_host_queued) {
		uv_buf_t b = uv_buf_init((char *)data, (unsigned)len);
		int n = uv_try_write((uv_stream_t *)&s->sock, &b, 1);

		if (n > 0)
			done = (size_t)n;
		else if (n < 0 && n != UV_EAGAIN) {
			splice_end(s, true, n != UV_EPIPE);
			return;
		}
	}
	s->bytes_to_host += len;
	pool->bytes_to_host += len;
	if (done < len) {
		struct splice_write *r = malloc(sizeof(*r) + len - done);
		uv_buf_t b;

		if (!r) {
			splice_end(s, true, true);
			return;
		}
		r->s = s;
		r->len = len - done;
		memcpy(r->data, data + done, r->len);
		b = uv_buf_init((char *)r->data, (unsigned)r->len);
		if (uv_write(&r->w, (uv_stream_t *)&s->sock, &b, 1, host_written) < 0) {
			free(r);
			splice_end(s, true, true);
			return;
		}
		s->to_host_queued += r->len;
		pool->buffered += r->len;
		if (over_budget(s))
			ns_pause(s);
	}
}

/* ---- host -> namespace ---- */

static void host_read(uv_stream_t *st, ssize_t nread, const uv_buf_t *buf);

/* The host socket is read straight into the flow's send ring (a reservation,
 * committed in host_read()): no copy of ours on the way.  A full ring lends
 * nothing, libuv reports UV_ENOBUFS and reading stops until writable(). */
static void host_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	struct splice *s = h->data;
	size_t len = 0;
	void *p;

	(void)suggested;
	if (!s->f || s->closing) {
		*buf = uv_buf_init((char *)s->pool->rbuf, sizeof(s->pool->rbuf));
		return;
	}
	p = tapir_tcp_write_reserve(s->f, &len, &s->reserve_err);
	*buf = uv_buf_init(p, p ? (unsigned)(len > UINT32_MAX ? UINT32_MAX : len) : 0);
}

static void host_read_start(struct splice *s)
{
	if (s->host_reading || s->host_eof || s->closing)
		return;
	if (uv_read_start((uv_stream_t *)&s->sock, host_alloc, host_read) == 0)
		s->host_reading = true;
}

static void host_read_stop(struct splice *s)
{
	if (!s->host_reading)
		return;
	uv_read_stop((uv_stream_t *)&s->sock);
	s->host_reading = false;
}

static void host_eof_to_ns(struct splice *s)
{
	if (s->ns_shut || !s->f)
		return;
	s->ns_shut = true;
	if (tapir_tcp_shutdown(s->f, false, true) < 0)
		splice_end(s, true, false);
	else
		maybe_finish(s);
}

static void host_read(uv_stream_t *st, ssize_t nread, const uv_buf_t *buf)
{
	struct splice *s = st->data;
	struct splice_pool *pool = s->pool;
	long n;

	(void)buf;
	if (s->closing || nread == 0)
		return;
	if (!s->f) {
		splice_end(s, false, true);
		after(s);
		return;
	}
	if (nread == UV_ENOBUFS) {
		host_read_stop(s);
		if (s->reserve_err == -EAGAIN) {
			s->host_paused = true;	/* writable() follows */
			pool->host_paused++;
		} else {
			splice_end(s, true, true);
		}
		after(s);
		return;
	}
	if (nread == UV_EOF) {
		host_read_stop(s);
		s->host_eof = true;
		host_eof_to_ns(s);
		after(s);
		return;
	}
	if (nread < 0) {
		s->host_error = true;
		splice_end(s, true, false);	/* reset by the host: reset the namespace */
		after(s);
		return;
	}
	n = tapir_tcp_write_commit(s->f, (size_t)nread, false);
	if (n < 0) {
		splice_end(s, false, true);
		after(s);
		return;
	}
	s->bytes_to_ns += (size_t)n;
	pool->bytes_to_ns += (size_t)n;
	after(s);
}

static void ns_writable(void *ctx, struct tapir_tcp_flow *f)
{
	struct splice *s = ctx;

	(void)f;
	if (s->closing || !s->host_paused)
		return;
	s->host_paused = false;
	host_read_start(s);
}

static void ns_closed(void *ctx, struct tapir_tcp_flow *f, int err)
{
	struct splice *s = ctx;

	(void)f;
	if (s->closing)
		return;
	if (err == 0) {
		/* both FINs exchanged: the host side ends after its queue */
		s->ns_shut = s->ns_eof = true;
		tapir_tcp_flow_set_callbacks(s->f, NULL, NULL);
		tapir_tcp_close(s->f);
		s->f = NULL;
		if (!s->to_host_queued)
			host_shutdown(s);
		if (s->host_eof && s->host_shut_done && !s->to_host_queued)
			splice_end(s, false, false);
		else if (!s->host_eof)
			splice_end(s, false, true);	/* the host still sends: nobody reads */
		return;
	}
	splice_end(s, false, true);	/* reset, timeout, abort: reset the host side */
}

static const struct tapir_tcp_callbacks ns_cbs = {
	.recv = ns_recv, .writable = ns_writable, .closed = ns_closed,
};

void splice_start(struct splice *s, struct tapir_tcp_flow *f)
{
	s->f = f;
	s->started = true;
	tapir_tcp_flow_set_callbacks(f, &ns_cbs, s);
	host_read_start(s);
}
