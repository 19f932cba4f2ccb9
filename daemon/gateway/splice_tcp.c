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
 *   OPEN        data both ways: splice.c copies (back-pressure with
 *               flow_buffer and total_buffer, half-closes, resets both
 *               ways), as it does for the port forwards' connections.
 *   CLOSING     the splice is ending; the record goes when it is freed.
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
	struct splice sp;                 /* first: the splice's ops get the record back */
	struct gw_tcp *next, *prev;
	struct gateway *gw;
	enum gw_tcp_state state;
	struct tapir_tcp_fwd_req req;     /* the SYN (namespace side: src -> dst) */
	uint64_t since;                   /* when the state was entered */
	uv_connect_t conn;
	struct sockaddr_storage host_local;  /* our end of the host socket */
	struct sockaddr_storage host_peer;   /* where it goes (AF_INET or AF_INET6) */
};

static void tcp_list_add(struct gateway *gw, struct gw_tcp *t)
{
	t->next = gw->tcp;
	if (gw->tcp)
		gw->tcp->prev = t;
	gw->tcp = t;
	gw->pool.nflows++;
}

static void tcp_list_remove(struct gateway *gw, struct gw_tcp *t)
{
	if (t->prev)
		t->prev->next = t->next;
	else
		gw->tcp = t->next;
	if (t->next)
		t->next->prev = t->prev;
	gw->pool.nflows--;
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

static void tcp_ending(struct splice *s)
{
	struct gw_tcp *t = (struct gw_tcp *)s;

	if (t->state == GT_OPEN)
		GW_INC(t->gw, TCP_CLOSED);
	t->state = GT_CLOSING;
}

static void tcp_freed(struct splice *s)
{
	struct gw_tcp *t = (struct gw_tcp *)s;
	struct gateway *gw = t->gw;

	tcp_list_remove(gw, t);
	gw->handles--;
	free(t);
}

static const struct splice_ops tcp_ops = { .ending = tcp_ending, .freed = tcp_freed };

static void tcp_end(struct gw_tcp *t, bool rst_ns, bool rst_host)
{
	splice_end(&t->sp, rst_ns, rst_host);
}

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

	if (status == UV_ECANCELED || t->sp.closing)
		return;
	if (status < 0) {
		refuse(t, map_connect_error(status));
		tcp_end(t, false, false);
		gw_after(gw);
		return;
	}
	uv_tcp_getsockname(&t->sp.sock, (struct sockaddr *)&t->host_local, &len);
	uv_tcp_nodelay(&t->sp.sock, 1);
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
	struct sockaddr_storage to;

	if (t) {
		/* a retransmitted SYN: still connecting, or answered by a cookie */
		if (t->state == GT_ACCEPTING)
			(void)tapir_tcp_forward_accept(gw->st, &t->req);
		return;
	}
	if (gw->stopping)
		return;
	if (!gw_host_sockaddr(gw, &req->dst, req->dst_port, &to)) {
		GW_INC(gw, TCP_REFUSED_LOOPBACK);
		tapir_tcp_forward_refuse(gw->st, req, -ECONNREFUSED);
		return;
	}
	if (gw->pool.nflows >= gw->pool.max_flows) {
		GW_INC(gw, TCP_REFUSED_LIMIT);
		tapir_tcp_forward_refuse(gw->st, req, -ECONNREFUSED);
		return;
	}
	t = calloc(1, sizeof(*t));
	if (!t || splice_init(&t->sp, &gw->pool, gw->loop, &tcp_ops) < 0) {
		free(t);
		GW_INC(gw, TCP_REFUSED_LIMIT);
		return;
	}
	t->gw = gw;
	t->req = *req;
	t->state = GT_CONNECTING;
	t->since = uv_hrtime();
	t->host_peer = to;
	t->conn.data = t;
	gw->handles++;
	tcp_list_add(gw, t);
	int rc = uv_tcp_connect(&t->conn, &t->sp.sock, (const struct sockaddr *)&to,
				host_connected);
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
	t->state = GT_OPEN;
	t->since = uv_hrtime();
	GW_INC(gw, TCP_OPENED);
	splice_start(&t->sp, f);
}

int gw_tcp_start(struct gateway *gw)
{
	struct tapir_tcp_forwarder fw = { .syn = fwd_syn, .accept = fwd_accept,
					  .opts = &gw->pool.opts };

	return tapir_tcp_forwarder_set(gw->st, &fw, gw);
}

void gw_tcp_stop(struct gateway *gw)
{
	(void)tapir_tcp_forwarder_set(gw->st, NULL, NULL);
	for (struct gw_tcp *t = gw->tcp, *n; t; t = n) {
		n = t->next;
		tcp_end(t, true, true);
	}
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
		const struct splice *sp = &t->sp;
		json_t *e = json_object();

		json_object_set_new(e, "proto", json_string("tcp"));
		json_object_set_new(e, "ns_addr", gw_taddr_json(&t->req.src));
		json_object_set_new(e, "ns_port", json_integer(t->req.src_port));
		json_object_set_new(e, "dst_addr", gw_taddr_json(&t->req.dst));
		json_object_set_new(e, "dst_port", json_integer(t->req.dst_port));
		json_object_set_new(e, "host_local_addr", gw_sockaddr_json(&t->host_local));
		json_object_set_new(e, "host_local_port",
				    json_integer(gw_sockaddr_port(&t->host_local)));
		json_object_set_new(e, "host_peer_addr", gw_sockaddr_json(&t->host_peer));
		json_object_set_new(e, "host_peer_port",
				    json_integer(gw_sockaddr_port(&t->host_peer)));
		json_object_set_new(e, "state", json_string(state_names[t->state]));
		json_object_set_new(e, "bytes_to_host", json_integer((json_int_t)sp->bytes_to_host));
		json_object_set_new(e, "bytes_to_ns", json_integer((json_int_t)sp->bytes_to_ns));
		json_object_set_new(e, "queued_to_host", json_integer((json_int_t)sp->to_host_queued));
		json_object_set_new(e, "ns_eof", json_boolean(sp->ns_eof));
		json_object_set_new(e, "host_eof", json_boolean(sp->host_eof));
		json_object_set_new(e, "ns_paused", json_boolean(sp->ns_paused));
		json_object_set_new(e, "host_paused", json_boolean(sp->host_paused));
		json_array_append_new(arr, e);
	}
}
