/*
 * splice_tcp.c - the gateway's TCP: a namespace connection and a host socket
 * spliced both ways
 *
 * Theory of operation
 *
 * States of a struct gw_tcp:
 *
 *   CONNECTING  the namespace's SYN arrived (the stack keeps nothing); the
 *               host socket is connecting.  A retransmitted SYN finds this
 *               record and is ignored.  Refused: RST to the namespace;
 *               host or network unreachable, EACCES/EPERM: ICMP unreachable;
 *               nothing by connect_timeout: the SYN is left unanswered.
 *   ACCEPTING   the host connect succeeded, tapir_tcp_forward_accept()
 *               answered the SYN; waiting for the handshake's last ACK (the
 *               forwarder's accept()).  A SYN retransmitted meanwhile (a
 *               SYN cookie answer keeps no flow) is answered again.
 *   OPEN        data both ways.
 *
 * Namespace -> host: data the stack delivers goes to uv_try_write(); what
 * the socket does not take at once is copied into a uv_write() request.
 * While a flow holds flow_buffer bytes that way (or the gateway total_buffer
 * in all) the namespace side is paused (tapir_tcp_read_pause(): the window
 * closes); it resumes under half of that.  Host -> namespace: the host socket
 * is read into one shared buffer and written to the flow at once; what the
 * send ring (sndbuf = flow_buffer) does not take is kept (one read at most)
 * and host reading stops until writable().  So a flow holds at most about
 * flow_buffer each way plus one read, and a slow reader on either side
 * stops the other side's sender instead of growing memory.
 *
 * Half-close: the namespace's FIN (recv of length 0) becomes shutdown() of
 * the host socket once the queued bytes are written; the host's EOF becomes
 * tapir_tcp_shutdown(write) once the kept bytes are in the ring.  Resets:
 * the namespace's RST (closed() with -ECONNRESET) closes the host socket
 * with a RST (uv_tcp_close_reset()); a host read or write error resets the
 * namespace side (tapir_tcp_abort()).  The record is freed in its socket's
 * close callback, after the namespace flow has been released.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "gw.h"

#define SEC 1000000000ull

enum gw_tcp_state { GT_CONNECTING, GT_ACCEPTING, GT_OPEN, GT_CLOSING };

static const char *const state_names[] = {
	[GT_CONNECTING] = "CONNECTING", [GT_ACCEPTING] = "ACCEPTING",
	[GT_OPEN] = "OPEN", [GT_CLOSING] = "CLOSING",
};

struct gw_tcp {
	struct gw_tcp *next, *prev;
	struct gateway *gw;
	enum gw_tcp_state state;
	struct tapir_tcp_fwd_req req;     /* the SYN (namespace side: src -> dst) */
	uint64_t since;                   /* when the state was entered */
	struct tapir_tcp_flow *f;         /* the namespace side, once accepted */
	uv_tcp_t sock;
	uv_connect_t conn;
	uv_shutdown_t shut;
	struct sockaddr_in host_local;    /* our end of the host socket */
	struct sockaddr_in host_peer;     /* where it goes */
	size_t to_host_queued;            /* bytes in uv_write() requests */
	bool ns_paused, ns_eof, host_shut, host_shut_done;
	bool paused_total;                /* paused for the gateway's total budget */
	uint8_t *pend;                    /* host bytes the ring did not take */
	size_t pend_len, pend_off;
	bool host_reading, host_eof, ns_shut, host_error, closing;
	uint64_t bytes_to_host, bytes_to_ns;
};

struct gw_write {
	uv_write_t w;
	struct gw_tcp *t;
	size_t len;
	uint8_t data[];
};

static void tcp_list_add(struct gateway *gw, struct gw_tcp *t)
{
	t->next = gw->tcp;
	if (gw->tcp)
		gw->tcp->prev = t;
	gw->tcp = t;
	gw->nflows++;
}

static void tcp_list_remove(struct gateway *gw, struct gw_tcp *t)
{
	if (t->prev)
		t->prev->next = t->next;
	else
		gw->tcp = t->next;
	if (t->next)
		t->next->prev = t->prev;
	gw->nflows--;
}

static struct gw_tcp *find(struct gateway *gw, const struct tapir_addr *src, uint16_t sport,
			   const struct tapir_addr *dst, uint16_t dport)
{
	for (struct gw_tcp *t = gw->tcp; t; t = t->next)
		if (tapir_addr_eq(&t->req.src, src) && t->req.src_port == sport &&
		    tapir_addr_eq(&t->req.dst, dst) &&
		    t->req.dst_port == dport && t->state != GT_CLOSING)
			return t;
	return NULL;
}

static void sock_closed(uv_handle_t *h)
{
	struct gw_tcp *t = h->data;
	struct gateway *gw = t->gw;

	gw->buffered -= t->pend_len - t->pend_off;
	free(t->pend);
	tcp_list_remove(gw, t);
	gw->handles--;
	free(t);
}

/* End the record: the namespace flow released (reset if @rst_ns), the host
 * socket closed (with a RST if @rst_host) */
static void tcp_end(struct gw_tcp *t, bool rst_ns, bool rst_host)
{
	struct gateway *gw = t->gw;

	if (t->closing)
		return;
	t->closing = true;
	if (t->state == GT_OPEN)
		GW_INC(gw, TCP_CLOSED);
	t->state = GT_CLOSING;
	if (t->f) {
		tapir_tcp_flow_set_callbacks(t->f, NULL, NULL);
		if (rst_ns) {
			GW_INC(gw, TCP_RST_TO_NS);
			tapir_tcp_abort(t->f);
		} else {
			tapir_tcp_close(t->f);
		}
		t->f = NULL;
	}
	if (rst_host && uv_tcp_close_reset(&t->sock, sock_closed) == 0) {
		GW_INC(gw, TCP_RST_TO_HOST);
		return;
	}
	uv_close((uv_handle_t *)&t->sock, sock_closed);
}

/* Both directions are over: close quietly once nothing is queued */
static void maybe_finish(struct gw_tcp *t)
{
	if (t->closing || t->to_host_queued || !t->host_shut_done || !t->host_eof || !t->ns_shut)
		return;
	tcp_end(t, false, false);
}

static void host_shutdown_done(uv_shutdown_t *s, int status)
{
	struct gw_tcp *t = s->data;

	t->host_shut_done = true;
	if (status < 0 && status != UV_ECANCELED && !t->closing)
		t->host_error = true;
	maybe_finish(t);
	gw_after(t->gw);
}

static void host_shutdown(struct gw_tcp *t)
{
	if (t->host_shut || t->closing)
		return;
	t->host_shut = true;
	t->shut.data = t;
	if (uv_shutdown(&t->shut, (uv_stream_t *)&t->sock, host_shutdown_done) < 0)
		t->host_shut_done = true;
}

/* ---- namespace -> host ---- */

static bool over_budget(const struct gw_tcp *t)
{
	const struct gateway *gw = t->gw;

	return t->to_host_queued >= gw->cfg.flow_buffer || gw->buffered >= gw->cfg.total_buffer;
}

static void ns_pause(struct gw_tcp *t)
{
	if (t->ns_paused || !t->f)
		return;
	t->ns_paused = true;
	t->paused_total = t->to_host_queued < t->gw->cfg.flow_buffer;
	if (t->paused_total)
		t->gw->total_paused = true;
	GW_INC(t->gw, TCP_NS_PAUSED);
	tapir_tcp_read_pause(t->f, true);
}

static void ns_maybe_resume(struct gw_tcp *t)
{
	const struct gateway *gw = t->gw;

	if (!t->ns_paused || !t->f || t->closing)
		return;
	if (t->to_host_queued > gw->cfg.flow_buffer / 2 || gw->buffered > gw->cfg.total_buffer / 2)
		return;
	t->ns_paused = false;
	t->paused_total = false;
	tapir_tcp_read_pause(t->f, false);	/* may deliver (ns_recv) at once */
}

void gw_tcp_budget_room(struct gateway *gw)
{
	if (!gw->total_paused || gw->buffered > gw->cfg.total_buffer / 2)
		return;
	gw->total_paused = false;
	for (struct gw_tcp *t = gw->tcp; t; t = t->next)
		if (t->paused_total)
			ns_maybe_resume(t);
}

static void host_written(uv_write_t *w, int status)
{
	struct gw_write *r = (struct gw_write *)w;
	struct gw_tcp *t = r->t;
	struct gateway *gw = t->gw;

	t->to_host_queued -= r->len;
	gw->buffered -= r->len;
	free(r);
	if (status < 0) {
		if (!t->closing) {
			t->host_error = true;
			tcp_end(t, true, false);
		}
	} else {
		ns_maybe_resume(t);
		if (t->ns_eof && !t->to_host_queued)
			host_shutdown(t);
		maybe_finish(t);
	}
	gw_tcp_budget_room(gw);
	gw_after(gw);
}

static void ns_recv(void *ctx, struct tapir_tcp_flow *f, const uint8_t *data, size_t len)
{
	struct gw_tcp *t = ctx;
	struct gateway *gw = t->gw;
	size_t done = 0;

	if (t->closing)
		return;
	if (len == 0) {
		t->ns_eof = true;
		if (!t->to_host_queued)
			host_shutdown(t);
		return;
	}
	if (!t->to_host_queued) {
		uv_buf_t b = uv_buf_init((char *)data, (unsigned)len);
		int n = uv_try_write((uv_stream_t *)&t->sock, &b, 1);

		if (n > 0)
			done = (size_t)n;
		else if (n < 0 && n != UV_EAGAIN) {
			tcp_end(t, true, n != UV_EPIPE);
			return;
		}
	}
	t->bytes_to_host += len;
	gw->ctr[GW_TCP_BYTES_TO_HOST] += len;
	if (done < len) {
		struct gw_write *r = malloc(sizeof(*r) + len - done);
		uv_buf_t b;

		if (!r) {
			tcp_end(t, true, true);
			return;
		}
		r->t = t;
		r->len = len - done;
		memcpy(r->data, data + done, r->len);
		b = uv_buf_init((char *)r->data, (unsigned)r->len);
		if (uv_write(&r->w, (uv_stream_t *)&t->sock, &b, 1, host_written) < 0) {
			free(r);
			tcp_end(t, true, true);
			return;
		}
		t->to_host_queued += r->len;
		gw->buffered += r->len;
		if (over_budget(t))
			ns_pause(t);
	}
}

/* ---- host -> namespace ---- */

static void host_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf);

static void host_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	struct gw_tcp *t = h->data;

	(void)suggested;
	*buf = uv_buf_init((char *)t->gw->rbuf, sizeof(t->gw->rbuf));
}

static void host_read_start(struct gw_tcp *t)
{
	if (t->host_reading || t->host_eof || t->closing)
		return;
	if (uv_read_start((uv_stream_t *)&t->sock, host_alloc, host_read) == 0)
		t->host_reading = true;
}

static void host_read_stop(struct gw_tcp *t)
{
	if (!t->host_reading)
		return;
	uv_read_stop((uv_stream_t *)&t->sock);
	t->host_reading = false;
}

/* Write kept host bytes into the ring.  Return: true when none are left */
static bool drain_pend(struct gw_tcp *t)
{
	struct gateway *gw = t->gw;

	while (t->pend_off < t->pend_len) {
		long n = tapir_tcp_write(t->f, t->pend + t->pend_off, t->pend_len - t->pend_off);

		if (n == -ENOBUFS || n == 0)
			return false;	/* writable() follows */
		if (n < 0) {
			tcp_end(t, false, true);
			return false;
		}
		t->pend_off += (size_t)n;
		gw->buffered -= (size_t)n;
		t->bytes_to_ns += (size_t)n;
		gw->ctr[GW_TCP_BYTES_TO_NS] += (size_t)n;
	}
	free(t->pend);
	t->pend = NULL;
	t->pend_len = t->pend_off = 0;
	return true;
}

static void host_eof_to_ns(struct gw_tcp *t)
{
	if (t->ns_shut || !t->f)
		return;
	t->ns_shut = true;
	if (tapir_tcp_shutdown(t->f, false, true) < 0)
		tcp_end(t, true, false);
	else
		maybe_finish(t);
}

static void host_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
	struct gw_tcp *t = s->data;
	struct gateway *gw = t->gw;
	long n;

	if (t->closing || nread == 0)
		return;
	if (!t->f) {
		tcp_end(t, false, true);
		gw_after(gw);
		return;
	}
	if (nread == UV_EOF) {
		host_read_stop(t);
		t->host_eof = true;
		if (!t->pend)
			host_eof_to_ns(t);
		gw_after(gw);
		return;
	}
	if (nread < 0) {
		t->host_error = true;
		tcp_end(t, true, false);	/* reset by the host: reset the namespace */
		gw_after(gw);
		return;
	}
	n = tapir_tcp_write(t->f, buf->base, (size_t)nread);
	if (n == -ENOBUFS)
		n = 0;
	if (n < 0) {
		tcp_end(t, false, true);
		gw_after(gw);
		return;
	}
	t->bytes_to_ns += (size_t)n;
	gw->ctr[GW_TCP_BYTES_TO_NS] += (size_t)n;
	if ((size_t)n < (size_t)nread) {
		t->pend_len = (size_t)nread - (size_t)n;
		t->pend_off = 0;
		t->pend = malloc(t->pend_len);
		if (!t->pend) {
			tcp_end(t, true, true);
			gw_after(gw);
			return;
		}
		memcpy(t->pend, buf->base + n, t->pend_len);
		gw->buffered += t->pend_len;
		host_read_stop(t);
		GW_INC(gw, TCP_HOST_PAUSED);
	}
	gw_after(gw);
}

static void ns_writable(void *ctx, struct tapir_tcp_flow *f)
{
	struct gw_tcp *t = ctx;

	if (t->closing || !t->pend)
		return;
	if (!drain_pend(t) || t->closing)
		return;
	if (t->host_eof)
		host_eof_to_ns(t);
	else
		host_read_start(t);
	gw_tcp_budget_room(t->gw);
}

static void ns_closed(void *ctx, struct tapir_tcp_flow *f, int err)
{
	struct gw_tcp *t = ctx;

	if (t->closing)
		return;
	if (err == 0) {
		/* both FINs exchanged: the host side ends after its queue */
		t->ns_shut = t->ns_eof = true;
		tapir_tcp_flow_set_callbacks(t->f, NULL, NULL);
		tapir_tcp_close(t->f);
		t->f = NULL;
		if (!t->to_host_queued)
			host_shutdown(t);
		if (t->host_eof && t->host_shut_done && !t->to_host_queued)
			tcp_end(t, false, false);
		else if (!t->host_eof)
			tcp_end(t, false, true);	/* the host still sends: nobody reads */
		return;
	}
	tcp_end(t, false, true);	/* reset, timeout, abort: reset the host side */
}

static const struct tapir_tcp_callbacks ns_cbs = {
	.recv = ns_recv, .writable = ns_writable, .closed = ns_closed,
};

/* ---- opening ---- */

static int map_connect_error(int status)
{
	switch (status) {
	case UV_ECONNREFUSED:
		return -ECONNREFUSED;
	case UV_EHOSTUNREACH:
		return -EHOSTUNREACH;
	case UV_ENETUNREACH:
	case UV_EADDRNOTAVAIL:
		return -ENETUNREACH;
	case UV_EACCES:
	case UV_EPERM:
		return -EACCES;
	default:
		return -ETIMEDOUT;	/* no answer: the SYN goes unanswered */
	}
}

static void refuse(struct gw_tcp *t, int err)
{
	struct gateway *gw = t->gw;

	switch (err) {
	case -ECONNREFUSED:
		GW_INC(gw, TCP_HOST_REFUSED);
		break;
	case -EHOSTUNREACH:
	case -ENETUNREACH:
	case -EACCES:
		GW_INC(gw, TCP_HOST_UNREACH);
		break;
	case -ETIMEDOUT:
		GW_INC(gw, TCP_HOST_TIMEOUT);
		break;
	default:
		GW_INC(gw, TCP_HOST_ERRORS);
		break;
	}
	tapir_tcp_forward_refuse(gw->st, &t->req, err);
}

static void host_connected(uv_connect_t *c, int status)
{
	struct gw_tcp *t = c->data;
	struct gateway *gw = t->gw;
	int len = sizeof(t->host_local), rc;

	if (status == UV_ECANCELED || t->closing)
		return;
	if (status < 0) {
		refuse(t, map_connect_error(status));
		tcp_end(t, false, false);
		gw_after(gw);
		return;
	}
	uv_tcp_getsockname(&t->sock, (struct sockaddr *)&t->host_local, &len);
	uv_tcp_nodelay(&t->sock, 1);
	t->state = GT_ACCEPTING;
	t->since = uv_hrtime();
	rc = tapir_tcp_forward_accept(gw->st, &t->req);
	if (rc < 0 && rc != -EEXIST) {
		GW_INC(gw, TCP_ACCEPT_FAILED);
		tcp_end(t, false, true);
	}
	gw_after(gw);
}

static void fwd_syn(void *ctx, const struct tapir_tcp_fwd_req *req)
{
	struct gateway *gw = ctx;
	struct gw_tcp *t = find(gw, &req->src, req->src_port, &req->dst, req->dst_port);
	struct sockaddr_in to;

	if (t) {
		/* a retransmitted SYN: still connecting, or answered by a cookie */
		if (t->state == GT_ACCEPTING)
			(void)tapir_tcp_forward_accept(gw->st, &t->req);
		return;
	}
	if (gw->stopping)
		return;
	if (req->dst.family != TAPIR_AF_INET) {
		/* the host side is IPv4 only so far */
		tapir_tcp_forward_refuse(gw->st, req, -ENETUNREACH);
		return;
	}
	if (!gw_host_addr(gw, req->dst.v4, &to)) {
		GW_INC(gw, TCP_REFUSED_LOOPBACK);
		tapir_tcp_forward_refuse(gw->st, req, -ECONNREFUSED);
		return;
	}
	if (gw->nflows >= gw->cfg.max_flows) {
		GW_INC(gw, TCP_REFUSED_LIMIT);
		tapir_tcp_forward_refuse(gw->st, req, -ECONNREFUSED);
		return;
	}
	t = calloc(1, sizeof(*t));
	if (!t) {
		GW_INC(gw, TCP_REFUSED_LIMIT);
		return;
	}
	t->gw = gw;
	t->req = *req;
	t->state = GT_CONNECTING;
	t->since = uv_hrtime();
	to.sin_port = htons(req->dst_port);
	t->host_peer = to;
	uv_tcp_init(gw->loop, &t->sock);
	t->sock.data = t;
	t->conn.data = t;
	gw->handles++;
	tcp_list_add(gw, t);
	int rc = uv_tcp_connect(&t->conn, &t->sock, (const struct sockaddr *)&to, host_connected);
	if (rc == UV_EMFILE || rc == UV_ENFILE || rc == UV_ENOBUFS || rc == UV_ENOMEM) {
		/* out of descriptors or memory here: a refusal, counted */
		GW_INC(gw, TCP_REFUSED_LIMIT);
		tapir_tcp_forward_refuse(gw->st, req, -ECONNREFUSED);
		tcp_end(t, false, false);
	} else if (rc < 0) {
		refuse(t, map_connect_error(rc));
		tcp_end(t, false, false);
	}
}

static void fwd_accept(void *ctx, struct tapir_tcp_flow *f)
{
	struct gateway *gw = ctx;
	struct tapir_tcp_flow_info fi;
	struct gw_tcp *t;

	tapir_tcp_flow_info(f, &fi);
	t = find(gw, &fi.remote_addr, fi.remote_port, &fi.local_addr, fi.local_port);
	if (!t || t->state != GT_ACCEPTING) {
		/* the host side was given up meanwhile */
		tapir_tcp_abort(f);
		return;
	}
	t->f = f;
	t->state = GT_OPEN;
	t->since = uv_hrtime();
	GW_INC(gw, TCP_OPENED);
	tapir_tcp_flow_set_callbacks(f, &ns_cbs, t);
	host_read_start(t);
}

int gw_tcp_start(struct gateway *gw)
{
	struct tapir_tcp_flow_opts o;
	struct tapir_tcp_forwarder fw = { .syn = fwd_syn, .accept = fwd_accept, .opts = &o };

	tapir_tcp_flow_opts_defaults(gw->st, &o);
	o.sndbuf = (size_t)gw->cfg.flow_buffer;
	o.rcvbuf = (size_t)gw->cfg.flow_buffer;
	o.nodelay = true;	/* the host side decides the segmenting */
	return tapir_tcp_forwarder_set(gw->st, &fw, gw);
}

void gw_tcp_stop(struct gateway *gw)
{
	(void)tapir_tcp_forwarder_set(gw->st, NULL, NULL);
	for (struct gw_tcp *t = gw->tcp; t; t = t->next)
		tcp_end(t, true, true);
}

void gw_tcp_sweep(struct gateway *gw, uint64_t now)
{
	uint64_t limit = gw->cfg.connect_timeout_ns;

	for (struct gw_tcp *t = gw->tcp, *n; t; t = n) {
		n = t->next;
		if (t->state == GT_CONNECTING && now - t->since > limit) {
			refuse(t, -ETIMEDOUT);
			tcp_end(t, false, false);
		} else if (t->state == GT_ACCEPTING && now - t->since > limit + 75 * SEC) {
			/* the namespace never finished its handshake */
			tcp_end(t, false, true);
		}
	}
}

void gw_tcp_json(const struct gateway *gw, void *arr)
{
	for (const struct gw_tcp *t = gw->tcp; t; t = t->next) {
		json_t *e = json_object();

		json_object_set_new(e, "proto", json_string("tcp"));
		json_object_set_new(e, "ns_addr", gw_addr_json(t->req.src.v4));
		json_object_set_new(e, "ns_port", json_integer(t->req.src_port));
		json_object_set_new(e, "dst_addr", gw_addr_json(t->req.dst.v4));
		json_object_set_new(e, "dst_port", json_integer(t->req.dst_port));
		json_object_set_new(e, "host_local_addr",
				    gw_addr_json(ntohl(t->host_local.sin_addr.s_addr)));
		json_object_set_new(e, "host_local_port", json_integer(ntohs(t->host_local.sin_port)));
		json_object_set_new(e, "host_peer_addr",
				    gw_addr_json(ntohl(t->host_peer.sin_addr.s_addr)));
		json_object_set_new(e, "host_peer_port", json_integer(ntohs(t->host_peer.sin_port)));
		json_object_set_new(e, "state", json_string(state_names[t->state]));
		json_object_set_new(e, "bytes_to_host", json_integer((json_int_t)t->bytes_to_host));
		json_object_set_new(e, "bytes_to_ns", json_integer((json_int_t)t->bytes_to_ns));
		json_object_set_new(e, "queued_to_host", json_integer((json_int_t)t->to_host_queued));
		json_object_set_new(e, "held_to_ns",
				    json_integer((json_int_t)(t->pend_len - t->pend_off)));
		json_object_set_new(e, "ns_eof", json_boolean(t->ns_eof));
		json_object_set_new(e, "host_eof", json_boolean(t->host_eof));
		json_object_set_new(e, "ns_paused", json_boolean(t->ns_paused));
		json_object_set_new(e, "host_paused", json_boolean(t->pend != NULL));
		json_array_append_new(arr, e);
	}
}
